"""End to end on the embedded stack: the DAG run by Airflow, through its real connections.

Proves that every task succeeds, that row counts reconcile from PostgreSQL through S3 and RAW to
staging, that a re-run of the same day changes no count anywhere, and that the next day's run loads
only that day's changes while staging keeps the latest version of each row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from airflow.models import DagRun, TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

from include.shopstream.config import PROJECT_ROOT, SOURCE_DATABASE, TABLES
from include.shopstream.layer_counts import LayerCounts, all_counts
from include.shopstream.local_stack.settings import StackSettings

pytestmark = pytest.mark.integration

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAG_ID = "shopstream_elt"
# A manual run covers the day before its logical date: these runs load 2026-11-20, then 2026-11-21.
FIRST_DAY, FIRST_LOGICAL_DATE = "2026-11-20", "2026-11-21T00:00:00+00:00"
NEXT_DAY, NEXT_LOGICAL_DATE = "2026-11-21", "2026-11-22T00:00:00+00:00"
CHANGED_ORDER_ID = 1


@dataclass
class Run:
    state: str | None
    task_states: dict[str, str | None]
    counts: LayerCounts
    log: str


def source_dsn(stack: StackSettings) -> str:
    return f"host={stack.host} port={stack.postgres_port} user=postgres dbname={SOURCE_DATABASE}"


def run_dag(logical_date: str, conf: dict, day: str) -> Run:
    result = subprocess.run(
        [AIRFLOW, "dags", "test", DAG_ID, logical_date, "--conf", json.dumps(conf)],
        capture_output=True, text=True, check=False, timeout=1800,
    )
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id.like("manual__%"))
                             .order_by(DagRun.id.desc()).limit(1))
        assert run is not None, result.stdout[-5000:]
        tis = session.scalars(select(TaskInstance).where(TaskInstance.run_id == run.run_id)).all()
        states = {ti.task_id: (str(ti.state) if ti.state else None) for ti in tis}
        state = str(run.state)
    return Run(state, states, all_counts(day), result.stdout[-20000:] + result.stderr[-5000:])


@pytest.fixture(scope="module")
def source(embedded_stack: StackSettings) -> str:
    """A fresh source: 10 days of history ending with FIRST_DAY."""
    dsn = source_dsn(embedded_stack)
    generated = subprocess.run(
        [sys.executable, "-m", "include.data_gen", "--orders", "600", "--days", "10",
         "--end-date", NEXT_DAY, "--seed", "11", "--reset"],
        cwd=PROJECT_ROOT, env={**__import__("os").environ, "SHOPSTREAM_PG_DSN": dsn},
        capture_output=True, text=True, check=False,
    )
    assert generated.returncode == 0, generated.stderr
    return dsn


@pytest.fixture(scope="module")
def first_run(source: str) -> Run:
    return run_dag(FIRST_LOGICAL_DATE, {"full_history": True}, FIRST_DAY)


def test_every_task_succeeds(first_run: Run) -> None:
    failed = {task: state for task, state in first_run.task_states.items() if state != "success"}
    assert first_run.state == "success" and not failed, f"{failed}\n{first_run.log}"
    assert len(first_run.task_states) > 50


def test_counts_reconcile_from_postgres_to_staging(first_run: Run) -> None:
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
    assert counts.models["dim_customers"] == counts.source["users"]


def test_rerun_of_the_same_day_changes_no_count(first_run: Run) -> None:
    again = run_dag(FIRST_LOGICAL_DATE, {"full_history": True}, FIRST_DAY)
    assert again.state == "success", again.log
    assert again.counts.as_dict() == first_run.counts.as_dict()


def test_next_day_loads_only_its_changes(first_run: Run, source: str) -> None:
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute(
            "update oltp.orders set order_status = 'refunded', updated_at = %s where order_id = %s",
            (f"{NEXT_DAY} 10:00:00+00", CHANGED_ORDER_ID),
        )
    next_run = run_dag(NEXT_LOGICAL_DATE, {}, NEXT_DAY)
    assert next_run.state == "success", next_run.log
    counts = next_run.counts
    assert counts.landing["orders"] == 1, "the day's file holds exactly the order changed that day"
    assert counts.raw["orders"] == first_run.counts.raw["orders"] + 1, "RAW keeps both versions"
    assert counts.models["stg_shopstream__orders"] == first_run.counts.models["stg_shopstream__orders"]
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    status = SnowflakeHook(snowflake_conn_id="snowflake_shopstream").get_first(
        f"select order_status from SHOPSTREAM.STAGING.STG_SHOPSTREAM__ORDERS where order_id = {CHANGED_ORDER_ID}"
    )
    assert status == ("refunded",)
