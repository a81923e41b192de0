"""End to end through Airflow's scheduler on the embedded stack: the paths users take, in one sequence.

The test stack's Airflow (scheduler, DAG processor, triggerer, API server) runs every task; runs are
triggered, cleared and followed through the REST API, as the UI does. One source, one warehouse and
one sequence of four DAG runs serve every scenario, each step building on the last:

1. a manual run of yesterday loads the full history (RAW was empty); switching the DAG on makes the
   scheduler run its own run of that same day next: it adds no row to RAW. A writer that stamped a
   change inside the history commits only after both: neither extracted it;
2. each load task cleared alone, as after a crash between steps, changes no row anywhere;
3. three days are simulated in the source (with an amount of 9,999,999,999.99 and a discount of
   0.10, and hard deletes: erased accounts, purged test orders) and not run, a column is added to a
   source table, and one intermediate model fails on purpose (fault injection). One run without a
   logical date (what `airflow dags trigger` without `-l` makes) loads all of them and the late
   commit (re-read by the overlap window), reports the new column without landing it, and fails the
   faulty model: its descendants stop, independent branches succeed. With the fault removed,
   clearing the failed task with its downstream re-runs that lineage only; the run turns green and
   the deleted rows have left the marts (dropped and retyped columns: tests/integration/test_schema_drift.py);
4. a backfill of an older day (its window ends before the last load) changes no row anywhere;
5. a run conf that tries to reach SQL fails before any task touches a system.

After each step the layers reconcile from PostgreSQL to the marts (counts and revenue to the cent);
"changes no row" is checked by content: a hash of the sorted rows of every relation.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from embedded import airflow_server
from embedded.dag_runs import AirflowApiError, AirflowClient, RunResult
from embedded.settings import StackSettings
from include.shopstream import dbt_manifest
from include.shopstream.config import (
    ELT_DAG_ID,
    EXTRACTED_TABLES,
    FAULT_INJECTION_VARIABLE,
    PROJECT_ROOT,
    RAW_SCHEMA,
    REPORT_EXPOSURE,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SOURCE_DATABASE,
    SOURCE_DSN_ENV,
    SOURCE_SCHEMA,
    TABLES,
    report_previews_dir,
)
from include.shopstream.extract import run_key
from include.shopstream.layer_counts import SOURCE_REVENUE_SQL
from include.shopstream.notify import failures_file

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

TODAY = datetime.now(UTC).date()
LATEST_DAY = TODAY - timedelta(days=1)  # the interval the scheduler's own run covers
HISTORY_END = TODAY - timedelta(days=5)  # the generated history's last day
MISSED_DAYS = tuple(HISTORY_END + timedelta(days=n) for n in (1, 2, 3))
# Columns that say when and by which run a row was written, not what it holds: RAW's load audit
# columns, and the dbt invocation that recorded a test finding (mart_data_quality_findings).
AUDIT_COLUMNS = {"_SOURCE_FILE", "_LOADED_AT", "CHECKED_AT", "INVOCATION_ID"}
BIG_PRICE = Decimal("9999999999.99")
SMALL_DISCOUNT = Decimal("0.10")
FAULTY_MODEL = "int_customer_rfm"


# --- helpers ---------------------------------------------------------------------------------------


def snowflake_rows(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    conn = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID).get_conn()
    try:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [c[0].upper() for c in cursor.description], cursor.fetchall()
    finally:
        conn.close()


def warehouse_value(sql: str) -> Any:
    return snowflake_rows(sql)[1][0][0]


def relations() -> dict[str, str]:
    """Every relation the pipeline writes: RAW tables and every dbt model and snapshot."""
    raw = {f"raw.{t.name}": f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{t.raw_table}" for t in EXTRACTED_TABLES}
    return {**raw, **dbt_manifest.relations()}


def content_hashes() -> dict[str, str]:
    """A hash of the sorted rows of each relation, without the audit columns (AUDIT_COLUMNS)."""
    hashes = {}
    for name, relation in relations().items():
        columns, rows = snowflake_rows(f"select * from {relation}")
        keep = [i for i, c in enumerate(columns) if c not in AUDIT_COLUMNS]
        lines = sorted(repr(tuple(row[i] for i in keep)) for row in rows)
        hashes[name] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return hashes


def assert_same_content(before: dict[str, str], after: dict[str, str], what: str) -> None:
    changed = sorted(name for name in before if before[name] != after.get(name))
    assert not changed, f"{what} changed the content of {changed}"


def source_value(dsn: str, sql: str) -> Any:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchone()[0]


def assert_reconciles(dsn: str) -> None:
    """Every source row reaches staging (live; a deleted one flagged); orders and revenue reach the
    marts, to the cent."""
    models = dbt_manifest.relations()
    for table in TABLES:
        source = source_value(dsn, f"select count(*) from {SOURCE_SCHEMA}.{table.name}")
        staged = warehouse_value(
            f"select count(*) from {models[f'stg_shopstream__{table.name}']} where not is_deleted"
        )
        assert staged == source, f"{table.name}: live rows in staging {staged} != postgres {source}"
    orders = source_value(dsn, f"select count(*) from {SOURCE_SCHEMA}.orders")
    assert warehouse_value(f"select count(*) from {models['fct_orders']}") == orders
    revenue = source_value(
        dsn,
        f"""select coalesce(sum(i.quantity * i.unit_price - i.discount_amount), 0)
            from {SOURCE_SCHEMA}.order_items i join {SOURCE_SCHEMA}.orders o using (order_id)
            where o.order_status in ('paid', 'shipped', 'delivered')""",
    )
    # Summed here, in decimals: the emulator's SUM of a decimal column returns a double.
    fct = decimal_sum(f"select net_amount from {models['fct_orders']} where is_revenue")
    mart = decimal_sum(f"select revenue from {models['mart_sales_overview']}")
    assert fct == revenue, f"fct_orders revenue {fct} != postgres {revenue}"
    assert mart == revenue, f"mart_sales_overview revenue {mart} != postgres {revenue}"


def decimal_sum(sql: str) -> Decimal:
    """The sum of a money column, every value checked to be a decimal (no floating point)."""
    values = [row[0] for row in snowflake_rows(sql)[1]]
    floats = [v for v in values if not isinstance(v, Decimal)]
    assert not floats, f"money as {type(floats[0]).__name__}: {sql}"
    return sum(values, Decimal(0))


def assert_succeeded(run: RunResult) -> None:
    assert run.state == "success" and not run.failed(), f"{run.run_id}: {run.state}, failed: {run.failed()}"


def generator(dsn: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "include.data_gen", *args],
        cwd=PROJECT_ROOT, env={**os.environ, SOURCE_DSN_ENV: dsn}, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


# --- the shared stack, source and Airflow ----------------------------------------------------------


@pytest.fixture(scope="module")
def dsn(embedded_stack: StackSettings) -> str:
    """A fresh source (history ending with HISTORY_END, some dirty rows) and an empty warehouse."""
    dsn = f"host={embedded_stack.host} port={embedded_stack.postgres_port} user=postgres dbname={SOURCE_DATABASE}"
    generator(dsn, "--orders", "600", "--days", "10", "--end-date", str(HISTORY_END + timedelta(days=1)),
              "--seed", "11", "--dirty-rate", "0.02", "--reset")
    # RAW's tables go; its schema, stage and file format are the admin's (the stack's bootstrap).
    for table in EXTRACTED_TABLES:
        for name in (table.raw_table, table.landing_table):
            snowflake_rows(f"drop table if exists {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{name}")
    for schema in ("STAGING", "INTERMEDIATE", "MARTS", "SNAPSHOTS", "ANALYTICS"):
        snowflake_rows(f"drop schema if exists {SNOWFLAKE_DATABASE}.{schema} cascade")
    return dsn


@pytest.fixture(scope="module")
def airflow(airflow_db: StackSettings, dsn: str) -> Iterator[AirflowClient]:
    """The test stack's Airflow, with shopstream_elt paused (each step decides when it runs)."""
    print(airflow_server.start(airflow_db))
    client = AirflowClient()
    client.wait_for_dag(ELT_DAG_ID)
    client.set_paused(ELT_DAG_ID, True)
    yield client
    print(airflow_server.stop(airflow_db))


def trigger_and_follow(client: AirflowClient, *, day: date | None, conf: dict | None = None) -> RunResult:
    """A manual run (of ``day``, or without a logical date), run by the scheduler to its end."""
    client.set_paused(ELT_DAG_ID, False)
    try:
        run_id = client.trigger(ELT_DAG_ID, day=day, conf=conf)
        return client.follow(ELT_DAG_ID, run_id, timeout_s=900)
    finally:
        client.set_paused(ELT_DAG_ID, True)


def clear_and_follow(client: AirflowClient, run_id: str, task_ids: list[str], *, downstream: bool = False) -> RunResult:
    client.set_paused(ELT_DAG_ID, False)
    try:
        client.clear(ELT_DAG_ID, run_id, task_ids, downstream=downstream)
        return client.follow(ELT_DAG_ID, run_id, timeout_s=900)
    finally:
        client.set_paused(ELT_DAG_ID, True)


# --- the sequence ----------------------------------------------------------------------------------


def raw_rows_from(run_id: str) -> int:
    """RAW rows whose first extraction was made by ``run_id`` (their `_source_file` names it)."""
    key = run_key(run_id)
    return sum(
        warehouse_value(
            f"select count(*) from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{t.raw_table} where _source_file like '%{key}%'"
        )
        for t in EXTRACTED_TABLES
    )


LATE_PAYMENT = "gift_card"
NEW_SOURCE_COLUMN = ("users", "loyalty_tier")


@pytest.fixture(scope="module")
def late_writer(dsn: str) -> Iterator[dict[str, Any]]:
    """A writer that stamps a change inside the generated history and does not commit yet (the
    catch-up step commits it, after the runs whose windows covered its stamp)."""
    late_order = source_value(
        dsn, f"select min(order_id) from {SOURCE_SCHEMA}.orders"
             f" where payment_method <> '{LATE_PAYMENT}' and order_status <> 'pending'"
    )
    conn = psycopg.connect(dsn)
    conn.execute(
        f"update {SOURCE_SCHEMA}.orders set payment_method = %s, updated_at = %s where order_id = %s",
        (LATE_PAYMENT, datetime(*HISTORY_END.timetuple()[:3], 23, 30, tzinfo=UTC), late_order),
    )
    yield {"conn": conn, "order": late_order}
    conn.close()


@pytest.fixture(scope="module")
def full_load(airflow: AirflowClient, late_writer: dict[str, Any]) -> tuple[RunResult, RunResult]:
    """A manual run of yesterday, then the scheduler's own run of the same day once the DAG is on.

    The manual run is queued first with an earlier `run_after`, so the scheduler starts it first.
    """
    day_start = datetime(LATEST_DAY.year, LATEST_DAY.month, LATEST_DAY.day, tzinfo=UTC)
    manual_id = airflow.trigger(ELT_DAG_ID, day=LATEST_DAY, run_after=day_start)
    airflow.set_paused(ELT_DAG_ID, False)
    try:
        manual = airflow.follow(ELT_DAG_ID, manual_id, timeout_s=900)
        scheduled = next((r for r in airflow.runs(ELT_DAG_ID) if r["run_type"] == "scheduled"), None)
        assert scheduled is not None, "the scheduler made no run of its own after the DAG was switched on"
        own = airflow.follow(ELT_DAG_ID, scheduled["dag_run_id"], timeout_s=900)
    finally:
        airflow.set_paused(ELT_DAG_ID, True)
    assert_succeeded(manual)
    return manual, own


def test_first_run_loads_the_full_history_and_reconciles(full_load, dsn: str) -> None:
    manual, _ = full_load
    assert len(manual.tasks) > 50, "every dbt node has its task"
    for table in EXTRACTED_TABLES:
        raw = warehouse_value(f"select count(*) from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{table.raw_table}")
        source = source_value(dsn, f"select count(*) from {SOURCE_SCHEMA}.{table.name}")
        assert raw == source, f"RAW.{table.raw_table} {raw} != postgres {source}"
    utc = warehouse_value(
        f"select count(*) from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.ORDERS"
        " where abs(datediff('minute', _loaded_at, sysdate())) > 60"
    )
    assert utc == 0, "_loaded_at is not UTC"


def test_the_report_task_renders_the_previews_from_the_new_marts(full_load, dsn: str) -> None:
    """The exposure's task runs once the marts and their tests have passed, and its previews show the
    source's revenue (the scheduler's run of the same day, which changed nothing, rendered them last)."""
    manual, own = full_load
    report = manual.tasks[f"dbt.{REPORT_EXPOSURE}_exposure"]
    assert report.state == "success", report
    marts = [t for task_id, t in manual.tasks.items() if task_id.startswith(("dbt.mart_", "dbt.fct_", "dbt.dim_"))]
    assert report.start_date >= max(t.end_date for t in marts), "the report ran before a mart was done"
    totals = json.loads((report_previews_dir() / "totals.json").read_text())
    for page in totals["pages"].values():
        png = report_previews_dir() / page["png"]
        assert png.stat().st_mtime >= own.start_date.timestamp(), f"{png} was not rendered by the last run"
    revenue = source_value(dsn, SOURCE_REVENUE_SQL)
    assert abs(Decimal(str(totals["totals"]["revenue"])) - revenue) < Decimal("0.005"), (totals["totals"], revenue)


def payment_method(order_id: int) -> str:
    orders = dbt_manifest.relations()["stg_shopstream__orders"]
    return warehouse_value(f"select payment_method from {orders} where order_id = {order_id}")


def test_the_schedulers_run_of_the_same_day_adds_nothing(full_load, late_writer: dict[str, Any], dsn: str) -> None:
    manual, own = full_load
    assert own.data_interval_end == manual.data_interval_end, "not the same day"
    assert_succeeded(own)
    assert own.start_date >= manual.end_date, "the scheduler's run did not come after the full load"
    assert raw_rows_from(manual.run_id) > 0
    assert raw_rows_from(own.run_id) == 0, "the scheduler's run of a loaded day added rows to RAW"
    assert payment_method(late_writer["order"]) != LATE_PAYMENT, "an uncommitted change was extracted"
    assert_reconciles(dsn)


def test_each_load_task_cleared_alone_changes_nothing(airflow: AirflowClient, full_load) -> None:
    """A crash between copy and insert, a retry of either, a re-extraction: RAW keeps each version once."""
    manual, _ = full_load
    before = content_hashes()
    # Extracted and copied again (landing holds the file once more), copied a third time (twice),
    # then inserted: each clear is one scheduler pass over the cleared tasks, in their order.
    for task_ids in (["extract.orders", "load.orders.copy_into"], ["load.orders.copy_into"],
                     ["load.orders.insert_new_versions"]):
        again = clear_and_follow(airflow, manual.run_id, task_ids)
        for task_id in task_ids:
            assert again.tasks[task_id].state == "success", f"{task_id}: {again.tasks[task_id]}"
    assert again.tasks["load.orders.copy_into"].try_number == manual.tasks["load.orders.copy_into"].try_number + 2
    assert_same_content(before, content_hashes(), "clearing load tasks one by one")


@pytest.fixture(scope="module")
def catch_up(full_load, late_writer: dict[str, Any], airflow: AirflowClient, dsn: str) -> Iterator[dict[str, Any]]:
    """The late writer commits; three simulated days nobody ran, a new source column and a faulty
    model; then one run without a logical date. The fault and the column are removed once the run
    has ended, as an operator would before clearing."""
    late_writer["conn"].commit()
    for day in MISSED_DAYS:
        generator(dsn, "--next-day", "--day", str(day), "--seed", "11")
    table, column = NEW_SOURCE_COLUMN
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f"""update {SOURCE_SCHEMA}.order_items
                set unit_price = %s, discount_amount = %s, updated_at = %s
                where order_item_id = (select min(order_item_id) from {SOURCE_SCHEMA}.order_items)""",
            (BIG_PRICE, SMALL_DISCOUNT, datetime(*MISSED_DAYS[0].timetuple()[:3], 9, tzinfo=UTC)),
        )
        deleted = conn.execute(f"select table_name, row_id from {SOURCE_SCHEMA}.deleted_rows").fetchall()
        conn.execute(f"alter table {SOURCE_SCHEMA}.{table} add column {column} text default 'gold'")
    airflow.set_variable(FAULT_INJECTION_VARIABLE, FAULTY_MODEL)
    try:
        run = trigger_and_follow(airflow, day=None)
    finally:
        airflow.delete_variable(FAULT_INJECTION_VARIABLE)
        with psycopg.connect(dsn) as conn:
            conn.execute(f"alter table {SOURCE_SCHEMA}.{table} drop column if exists {column}")
    yield {"run": run, "deleted": deleted}


def test_a_run_without_logical_date_loads_the_missed_days_and_the_late_commit(
    catch_up: dict[str, Any], late_writer: dict[str, Any]
) -> None:
    run = catch_up["run"]
    loading = {t: r.state for t, r in run.tasks.items() if t.startswith(("extract.", "load.", "dbt.stg_"))}
    assert set(loading.values()) == {"success"}, loading
    assert payment_method(late_writer["order"]) == LATE_PAYMENT, "the late commit was not re-read"
    for day in MISSED_DAYS:
        changed = warehouse_value(
            f"select count(*) from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.ORDERS"
            f" where to_date(updated_at) = '{day.isoformat()}'"
        )
        assert changed > 0, f"no order change of {day} reached RAW"


def test_money_stays_exact(catch_up: dict[str, Any]) -> None:
    models = dbt_manifest.relations()
    price, discount = snowflake_rows(
        f"select to_varchar(unit_price), to_varchar(discount_amount) from {models['stg_shopstream__order_items']}"
        f" where unit_price = {BIG_PRICE}"
    )[1][0]
    assert (Decimal(price), Decimal(discount)) == (BIG_PRICE, SMALL_DISCOUNT)
    _, rows = snowflake_rows(
        f"select unit_price, discount_amount from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.ORDER_ITEMS"
        f" where unit_price = {BIG_PRICE}"
    )
    assert all(isinstance(value, Decimal) for value in rows[0]), f"RAW money is not decimal: {rows[0]!r}"


def test_a_failed_model_stops_its_lineage_only(catch_up: dict[str, Any]) -> None:
    run = catch_up["run"]
    states = run.states()
    assert run.state == "failed"
    assert states[f"dbt.{FAULTY_MODEL}.run"] == "failed"
    for descendant in ("dbt.mart_customer_ltv.run", "dbt.mart_sales_overview.run"):
        assert states[descendant] in ("failed", "upstream_failed"), f"{descendant}: {states[descendant]}"
    for independent in ("dbt.fct_orders.run", "dbt.fct_events.run", "dbt.dim_products.run"):
        assert states[independent] == "success", f"{independent}: {states[independent]}"
    # The failure notifier ran for the failed task and for the failed run.
    records = [json.loads(line) for line in failures_file().read_text().splitlines()]
    reported = {r["task_id"] for r in records if r["run_id"] == run.run_id}
    assert f"dbt.{FAULTY_MODEL}.run" in reported, f"notifier records of the run: {reported}"


def test_a_new_source_column_is_reported_by_the_run_and_not_landed(catch_up: dict[str, Any]) -> None:
    table, column = NEW_SOURCE_COLUMN
    assert catch_up["run"].tasks[f"extract.{table}"].state == "success", "a new column alone does not stop the table"
    records = [json.loads(line) for line in failures_file().read_text().splitlines()]
    drift = [r for r in records if r["run_id"] == catch_up["run"].run_id and r.get("kind") == "schema_drift"]
    # One record per extraction attempt: a set, so that a transient retry does not matter here.
    assert {(r["task_id"], r["table"], r["column"], r["change"], r["level"], r["found"]) for r in drift} == {
        (f"extract.{table}", f"{SOURCE_SCHEMA}.{table}", column, "added", "warning", "text")
    }
    assert "stg_shopstream__users.sql" in drift[0]["action"]
    raw_columns, _ = snowflake_rows(f"select * from {SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{table.upper()} limit 1")
    assert column.upper() not in raw_columns, "a new source column reached RAW without review"


@pytest.fixture(scope="module")
def repaired(catch_up: dict[str, Any], airflow: AirflowClient) -> tuple[RunResult, RunResult]:
    """The failed model's task cleared with its downstream tasks (its lineage runs again, each node
    by its own dbt command), then the producer (its retry runs no second build): the run turns green."""
    run_id = catch_up["run"].run_id
    rerun = clear_and_follow(airflow, run_id, [f"dbt.{FAULTY_MODEL}.run"], downstream=True)
    green = clear_and_follow(airflow, run_id, ["dbt.dbt_producer_watcher"], downstream=True)
    return rerun, green


def test_clearing_the_failed_model_reruns_its_lineage(catch_up: dict[str, Any], repaired, dsn: str) -> None:
    rerun, green = repaired
    failed_task = f"dbt.{FAULTY_MODEL}.run"
    lineage = {failed_task, f"dbt.{FAULTY_MODEL}.test", "dbt.mart_customer_ltv.run", "dbt.mart_sales_overview.run"}
    before, after = catch_up["run"].tasks, rerun.tasks
    for task_id in lineage:
        assert after[task_id].state == "success", f"{task_id}: {after[task_id].state}"
        assert after[task_id].try_number == before[task_id].try_number + 1, f"{task_id} did not run again"
    for task_id in ("dbt.stg_shopstream__orders.run", "dbt.fct_orders.run", "extract.orders", "plan_extraction"):
        assert after[task_id].try_number == before[task_id].try_number, f"{task_id} ran again"
    still_failed = {t for t, state in rerun.failed().items() if not t.startswith("dbt.dbt_producer_watcher")}
    assert not still_failed, still_failed
    assert_succeeded(green)
    assert_reconciles(dsn)


def test_rows_deleted_in_the_source_leave_the_marts(catch_up: dict[str, Any], repaired, dsn: str) -> None:
    """The simulated days erased accounts and purged test orders: staging flags those the warehouse
    had loaded (a row created and deleted between two loads never reaches it), the snapshot closes
    the erased users' versions, and they are gone from the dimensions, the facts and revenue."""
    assert_succeeded(repaired[1])
    deleted: dict[str, set[int]] = {}
    for table, row_id in catch_up["deleted"]:
        deleted.setdefault(table, set()).add(row_id)
    users, orders = sorted(deleted.get("users", ())), sorted(deleted.get("orders", ()))
    assert users and orders and deleted.get("order_items"), f"the simulated days deleted too little: {deleted}"
    models = dbt_manifest.relations()
    flagged: dict[str, int] = {}
    for table, keys in deleted.items():
        key = next(t.primary_key for t in TABLES if t.name == table)
        ids = ", ".join(map(str, sorted(keys)))
        raw = f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{table.upper()}"
        loaded = warehouse_value(f"select count(distinct {key}) from {raw} where {key} in ({ids})")
        staged, marked = snowflake_rows(
            f"select count(*), count_if(is_deleted and deleted_at is not null)"
            f" from {models[f'stg_shopstream__{table}']} where {key} in ({ids})"
        )[1][0]
        assert (staged, marked) == (loaded, loaded), f"{table}: {marked} of {staged} staged deleted rows flagged"
        flagged[table] = marked
    assert flagged.get("users") and flagged.get("orders"), f"no deleted row had reached the warehouse: {flagged}"
    user_ids, order_ids = ", ".join(map(str, users)), ", ".join(map(str, orders))
    left = {
        name: warehouse_value(f"select count(*) from {models[name]} where {key} in ({ids})")
        for name, key, ids in (
            ("dim_customers", "user_id", user_ids),
            ("mart_customer_ltv", "user_id", user_ids),
            ("fct_orders", "order_id", order_ids),
            ("fct_order_items", "order_id", order_ids),
            ("int_order_status_history", "order_id", order_ids),
        )
    }
    assert left == dict.fromkeys(left, 0), f"deleted rows still in the marts: {left}"
    # The erased users the snapshot had seen keep their history, their last version closed.
    versions, current = snowflake_rows(
        f"select count(*), count_if(dbt_valid_to is null) from {models['snap_users']} where user_id in ({user_ids})"
    )[1][0]
    assert versions >= flagged["users"] and current == 0, (versions, current)
    assert_reconciles(dsn)


def test_a_backfill_of_an_older_day_changes_nothing(repaired, airflow: AirflowClient) -> None:
    """Its window ends before the last load: nothing is extracted, and the dbt build it runs
    rebuilds the same rows."""
    before = content_hashes()
    run = trigger_and_follow(airflow, day=MISSED_DAYS[0])
    assert_succeeded(run)
    assert_same_content(before, content_hashes(), "the backfill of an older day")


def test_a_run_conf_never_reaches_sql(airflow: AirflowClient) -> None:
    """The injection of the first release: a conf key overriding a param that SQL used to read."""
    attack = {"database": "SHOPSTREAM; create schema if not exists SHOPSTREAM.PWNED; --"}
    try:
        run = trigger_and_follow(airflow, day=None, conf=attack)
    except AirflowApiError as refused:  # refused at trigger time is as good
        assert "database" in str(refused)
    else:
        assert run.state == "failed"
        assert run.tasks["validate_run_conf"].state == "failed"
        assert all(t.state in (None, "upstream_failed") for tid, t in run.tasks.items() if tid != "validate_run_conf")
    schemas = snowflake_rows(f"select schema_name from {SNOWFLAKE_DATABASE}.information_schema.schemata")[1]
    assert "PWNED" not in {s[0].upper() for s in schemas}

