"""End to end on the embedded stack: the DAG run by Airflow, through its real connections, three days.

Day 1 loads the full history; days 2 and 3 are simulated in the source (new rows, status, price and
profile changes) and loaded incrementally. Proves that every task succeeds each day, that row counts
reconcile from PostgreSQL through S3 and RAW to staging and the marts, that a re-run of the same day
changes no count anywhere, that a day's file holds exactly that day's changes, and that the
snapshots keep more than one version of the rows that changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from airflow.models import DagRun, TaskInstance
from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook
from airflow.utils.session import create_session
from sqlalchemy import select

from include.shopstream.config import PROJECT_ROOT, SNOWFLAKE_CONN_ID, SOURCE_DATABASE, SOURCE_SCHEMA, TABLES
from include.shopstream.layer_counts import LayerCounts, all_counts, dbt_relations
from include.shopstream.local_stack.settings import StackSettings

pytestmark = pytest.mark.integration

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAG_ID = "shopstream_elt"
DAY_1 = date(2026, 11, 20)
LATER_DAYS = (DAY_1 + timedelta(days=1), DAY_1 + timedelta(days=2))


@dataclass
class Run:
    day: date
    state: str | None
    task_states: dict[str, str | None]
    counts: LayerCounts
    changed_in_source: dict[str, int]
    log: str


def logical_date(day: date) -> str:
    """A manual run covers the day before its logical date."""
    return f"{day + timedelta(days=1)}T00:00:00+00:00"


def changed_on(dsn: str, day: date) -> dict[str, int]:
    """Rows of each source table whose updated_at falls on ``day``: what that day's run must extract."""
    with psycopg.connect(dsn) as conn:
        return {
            t.name: conn.execute(
                f"select count(*) from {SOURCE_SCHEMA}.{t.name} where updated_at >= %s and updated_at < %s",
                (day, day + timedelta(days=1)),
            ).fetchone()[0]
            for t in TABLES
        }


def run_dag(day: date, conf: dict, dsn: str) -> Run:
    changed = changed_on(dsn, day)
    result = subprocess.run(
        [AIRFLOW, "dags", "test", DAG_ID, logical_date(day), "--conf", json.dumps(conf)],
        capture_output=True, text=True, check=False, timeout=2400,
    )
    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id.like("manual__%"))
            .order_by(DagRun.id.desc()).limit(1)
        )
        assert run is not None, result.stdout[-5000:]
        tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
        states = {ti.task_id: (str(ti.state) if ti.state else None) for ti in tis}
        state = str(run.state)
    return Run(day, state, states, all_counts(day.isoformat()), changed, result.stdout[-20000:] + result.stderr[-5000:])


def generator(dsn: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "include.data_gen", *args],
        cwd=PROJECT_ROOT, env={**os.environ, "SHOPSTREAM_PG_DSN": dsn}, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr


def warehouse_value(sql: str) -> object:
    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID).get_first(sql)[0]


@pytest.fixture(scope="module")
def source(embedded_stack: StackSettings) -> str:
    """A fresh source: 10 days of history ending with DAY_1, with some dirty rows."""
    dsn = f"host={embedded_stack.host} port={embedded_stack.postgres_port} user=postgres dbname={SOURCE_DATABASE}"
    generator(dsn, "--orders", "600", "--days", "10", "--end-date", str(DAY_1 + timedelta(days=1)),
              "--seed", "11", "--dirty-rate", "0.02", "--reset")
    return dsn


@pytest.fixture(scope="module")
def first_run(source: str) -> Run:
    return run_dag(DAY_1, {"full_history": True}, source)


@pytest.fixture(scope="module")
def later_runs(first_run: Run, source: str) -> list[Run]:
    runs = []
    for day in LATER_DAYS:
        generator(source, "--next-day", "--day", str(day), "--seed", "11")
        runs.append(run_dag(day, {}, source))
    return runs


def assert_all_succeeded(run: Run) -> None:
    failed = {task: state for task, state in run.task_states.items() if state != "success"}
    assert run.state == "success" and not failed, f"{run.day}: {failed}\n{run.log}"


def test_every_task_succeeds(first_run: Run) -> None:
    assert_all_succeeded(first_run)
    assert len(first_run.task_states) > 50


def test_counts_reconcile_from_postgres_to_the_marts(first_run: Run) -> None:
    counts = first_run.counts
    for table in TABLES:
        name = table.name
        source_rows = counts.source[name]
        assert source_rows > 0, f"{name}: the generator made no row"
        assert counts.landing[name] == source_rows, f"{name}: S3 {counts.landing[name]} != postgres {source_rows}"
        assert counts.raw[name] == source_rows, f"{name}: RAW {counts.raw[name]} != postgres {source_rows}"
        staged = counts.models[f"stg_shopstream__{name}"]
        assert staged == source_rows, f"{name}: staging {staged} != postgres {source_rows}"
    assert counts.models["fct_orders"] == counts.source["orders"]
    assert counts.models["fct_order_items"] == counts.source["order_items"]
    assert counts.models["fct_events"] == counts.source["events"]


def test_revenue_reconciles_from_postgres_to_the_mart(first_run: Run, source: str) -> None:
    with psycopg.connect(source) as conn:
        expected = conn.execute(
            f"""select coalesce(sum(i.quantity * i.unit_price - i.discount_amount), 0)
                from {SOURCE_SCHEMA}.order_items i join {SOURCE_SCHEMA}.orders o using (order_id)
                where o.order_status in ('paid', 'shipped', 'delivered')"""
        ).fetchone()[0]
    fct_orders = dbt_relations()["fct_orders"]
    revenue = warehouse_value(f"select sum(net_amount) from {fct_orders} where is_revenue")
    assert round(float(revenue), 2) == round(float(expected), 2)


def test_rerun_of_the_same_day_changes_no_count(first_run: Run, source: str) -> None:
    again = run_dag(DAY_1, {"full_history": True}, source)
    assert_all_succeeded(again)
    assert again.counts.as_dict() == first_run.counts.as_dict()


def test_next_days_load_only_their_changes(first_run: Run, later_runs: list[Run]) -> None:
    previous = first_run
    for run in later_runs:
        assert_all_succeeded(run)
        counts = run.counts
        for table in TABLES:
            name = table.name
            changed = run.changed_in_source[name]
            assert counts.landing[name] == changed, f"{run.day} {name}: file {counts.landing[name]} != {changed}"
            assert counts.raw[name] == previous.counts.raw[name] + changed, f"{run.day} {name}: RAW keeps versions"
            assert counts.models[f"stg_shopstream__{name}"] == counts.source[name], f"{run.day} {name}: staging"
        assert sum(run.changed_in_source.values()) > 0, f"{run.day}: the simulator changed nothing"
        previous = run


def test_snapshots_keep_the_versions_of_changed_rows(later_runs: list[Run]) -> None:
    relations = dbt_relations()
    for snapshot, key in (("snap_users", "user_id"), ("snap_products", "product_id")):
        versioned = warehouse_value(
            f"select count(*) from (select {key} from {relations[snapshot]} group by {key} having count(*) > 1)"
        )
        assert versioned > 0, f"{snapshot}: no row has more than one version after three days"
    current = warehouse_value(f"select count(*) from {relations['dim_customers']} where is_current")
    assert current == later_runs[-1].counts.source["users"]
