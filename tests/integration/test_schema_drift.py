"""Schema drift against the test stack's real PostgreSQL: a new and a dropped source column.

The source here is a database of its own on the test stack's server, made from the very DDL the
pipeline's source is made from (include/sql/postgres/), and dropped at the end: altering it never
touches the source the end-to-end tests run on. The extract operator of the DAG reads it through the
`postgres_shopstream` connection, pointed at that database for the test.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from embedded.settings import StackSettings
from include.data_gen.loader import apply_ddl
from include.shopstream.config import (
    AWS_CONN_ID,
    ELT_DAG_ID,
    EXTRACTED_TABLES,
    POSTGRES_CONN_ID,
    S3_BUCKET,
    TABLES_BY_NAME,
    s3_extract_prefix,
)
from include.shopstream.extract import extract_task
from include.shopstream.notify import failures_file
from include.shopstream.schema_contract import DriftKind, SchemaDriftError, check_source_table

pytestmark = pytest.mark.integration

DRIFT_DATABASE = "shopstream_schema_drift_test"
RUN_ID = "manual__schema_drift_test"


@pytest.fixture(scope="module")
def drift_dsn(embedded_stack: StackSettings) -> Iterator[str]:
    """A source database made from the pipeline's DDL, empty, dropped after the module."""
    server = f"host={embedded_stack.host} port={embedded_stack.postgres_port} user=postgres"
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
        admin.execute(f"drop database if exists {DRIFT_DATABASE} with (force)")
        admin.execute(f"create database {DRIFT_DATABASE}")
    dsn = f"{server} dbname={DRIFT_DATABASE}"
    with psycopg.connect(dsn) as conn:
        apply_ddl(conn)
    yield dsn
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as admin:
        admin.execute(f"drop database if exists {DRIFT_DATABASE} with (force)")


@pytest.fixture
def drift_connection(drift_dsn: str, embedded_stack: StackSettings, monkeypatch: pytest.MonkeyPatch) -> str:
    """`postgres_shopstream` pointed at the drift database for one test (Airflow reads it from the environment)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}", json.dumps({
        "conn_type": "postgres", "host": embedded_stack.host, "port": embedded_stack.postgres_port,
        "login": "postgres", "schema": DRIFT_DATABASE,
    }))
    return drift_dsn


def task_context(task_id: str) -> dict[str, Any]:
    """The parts of an Airflow task context the drift records read (the run's and the task's ids)."""
    return {
        "dag_run": SimpleNamespace(dag_id=ELT_DAG_ID, run_id=RUN_ID),
        "ti": SimpleNamespace(task_id=task_id, try_number=1),
    }


def records_after(mark: int) -> list[dict[str, Any]]:
    """The failures log's records appended since it had ``mark`` lines."""
    path = failures_file()
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines[mark:]]


def record_count() -> int:
    path = failures_file()
    return len(path.read_text().splitlines()) if path.exists() else 0


def extract_parts(table: str, slice_rows: int | None = None) -> dict[str, pa.Table]:
    """Run the DAG's extract operator of ``table`` on the whole table (the window its plan would give a
    first load) into the test stack's S3, and return the Parquet parts its folder then holds, by key."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    operator = extract_task(TABLES_BY_NAME[table])
    operator.s3_key = folder = extract_folder(table)
    operator.parameters = {"params": {"since": "-infinity", "until": "infinity"}}
    if slice_rows is not None:
        operator.slice_rows = slice_rows
    operator.execute(task_context(f"extract.{table}"))
    s3 = S3Hook(aws_conn_id=AWS_CONN_ID)
    return {key: pq.read_table(io.BytesIO(s3.get_key(key, S3_BUCKET).get()["Body"].read()))
            for key in sorted(s3.list_keys(S3_BUCKET, prefix=folder))}


def extract_folder(table: str) -> str:
    return s3_extract_prefix(table, "schema-drift-test", RUN_ID)


def extracted(table: str) -> pa.Table:
    """The rows ``extract_parts`` extracts, its parts deleted afterwards."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    parts = extract_parts(table)
    S3Hook(aws_conn_id=AWS_CONN_ID).delete_objects(S3_BUCKET, list(parts))
    return pa.concat_tables(parts.values())


def test_the_contract_matches_the_source_ddl(drift_dsn: str) -> None:
    """Without drift, no finding and no record: every normal run extracts in silence."""
    mark = record_count()
    with psycopg.connect(drift_dsn) as conn:
        for table in EXTRACTED_TABLES:
            assert check_source_table(table, conn) == [], f"{table.name}: the contract differs from the DDL"
    assert records_after(mark) == []


def test_a_new_and_a_dropped_source_column(drift_connection: str, caplog: pytest.LogCaptureFixture) -> None:
    """A new column warns and the table is extracted; a dropped one fails that table's extract at once
    (AirflowFailException: no retry) before it reads a row, naming table, column, type and what to do."""
    from airflow.sdk.exceptions import AirflowFailException

    with psycopg.connect(drift_connection) as conn:
        conn.execute("insert into oltp.users (email, country_code, signup_channel) "
                     "values ('a@example.com', 'FR', 'web')")
        conn.execute("alter table oltp.users add column loyalty_tier text default 'gold'")
        conn.execute("alter table oltp.order_items add column gift_wrap_fee numeric(8, 2)")
        conn.execute("alter table oltp.order_items drop column discount_amount")
    mark = record_count()

    # users: one new column, reported; the check lets the extraction go on.
    caplog.set_level(logging.WARNING, logger="include.shopstream.schema_contract")
    with psycopg.connect(drift_connection) as conn:
        [added] = check_source_table(TABLES_BY_NAME["users"], conn, task_context("extract.users"))
    assert (added.kind, added.table, added.column) == (DriftKind.ADDED, "users", "loyalty_tier")
    assert str(added.found) == "text"
    [warning] = [r for r in caplog.records if "loyalty_tier" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    for said in ("oltp.users.loyalty_tier (text)", "not extracted", "include/shopstream/config.py",
                 "add column loyalty_tier varchar`", "RAW.USERS", "stg_shopstream__users.sql"):
        assert said in warning.getMessage(), said

    # ...and the DAG's own extract operator extracts the contract's columns only (its plan given).
    users = extracted("users")
    assert users.column_names == [*TABLES_BY_NAME["users"].column_names, "_source_file"]
    assert users.column("email").to_pylist() == ["a@example.com"]

    # order_items: the DAG's own extract operator refuses the table, and says why.
    operator = extract_task(TABLES_BY_NAME["order_items"])
    with pytest.raises(AirflowFailException) as refused:
        operator.execute(task_context("extract.order_items"))
    message = str(refused.value)
    for said in ("oltp.order_items.discount_amount", "contract: numeric(12,2)", "gone from the source",
                 "RAW untouched", "What to do", "restore the column", "clear extract.order_items"):
        assert said in message, said
    assert "gift_wrap_fee" not in message, "a new column alone does not block"

    records = records_after(mark)
    found = {(r["task_id"], r["column"], r["change"], r["level"]) for r in records}
    assert found == {
        ("extract.users", "loyalty_tier", "added", "warning"),
        ("extract.order_items", "gift_wrap_fee", "added", "warning"),
        ("extract.order_items", "discount_amount", "dropped", "error"),
    }
    assert all(r["run_id"] == RUN_ID and r["kind"] == "schema_drift" and r["action"] for r in records)
    dropped = next(r for r in records if r["change"] == "dropped")
    assert (dropped["table"], dropped["expected"], dropped["found"]) == ("oltp.order_items", "numeric(12,2)", None)


def test_a_retyped_column_blocks_and_a_missing_table_too(drift_dsn: str) -> None:
    """More decimals than the contract would be rounded away by the extraction's cast: refused."""
    with psycopg.connect(drift_dsn) as conn:
        conn.execute("alter table oltp.products alter column unit_price type numeric(14, 4)")
        with pytest.raises(SchemaDriftError, match=r"oltp\.products\.unit_price changed type: "
                                                   r"contract numeric\(12,2\), source numeric\(14,4\)"):
            check_source_table(TABLES_BY_NAME["products"], conn)
        conn.execute("drop table oltp.crm_contacts")
        with pytest.raises(SchemaDriftError, match=r"oltp\.crm_contacts is missing"):
            check_source_table(TABLES_BY_NAME["crm_contacts"], conn)
        conn.rollback()
        assert check_source_table(TABLES_BY_NAME["products"], conn) == []


def test_a_large_window_is_extracted_in_slices(drift_connection: str) -> None:
    """A window larger than a slice is read in key ranges, one part each, which together hold the rows
    of a one-slice extract exactly; a retry with other slices leaves no part of the earlier attempt."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    with psycopg.connect(drift_connection) as conn:
        conn.execute("insert into oltp.events (session_id, event_type, occurred_at, payload) "
                     "select 's' || i, 'page_view', now() - i * interval '1 minute', jsonb_build_object('i', i) "
                     "from generate_series(1, 25) as i")
    folder = extract_folder("events")
    try:
        sliced = extract_parts("events", slice_rows=10)
        assert list(sliced) == [f"{folder}part-0000{i}.parquet" for i in range(3)]
        assert all(part.num_rows <= 10 for part in sliced.values()), {k: p.num_rows for k, p in sliced.items()}
        for key, part in sliced.items():
            assert set(part.column("_source_file").to_pylist()) == {f"s3://{S3_BUCKET}/{key}"}
        ids = [i for part in sliced.values() for i in part.column("event_id").to_pylist()]
        assert ids == sorted(ids) and len(set(ids)) == 25, "each row once, the parts in key order"

        retried = extract_parts("events", slice_rows=25)
        [(key, whole)] = retried.items()
        assert key == f"{folder}part-00000.parquet", "the retry's one part, no part of the first attempt"
        assert pa.concat_tables(sliced.values()).drop_columns("_source_file").equals(
            whole.drop_columns("_source_file")), "the slices hold the one-slice extract's rows exactly"
    finally:
        s3 = S3Hook(aws_conn_id=AWS_CONN_ID)
        if leftover := s3.list_keys(S3_BUCKET, prefix=folder):
            s3.delete_objects(S3_BUCKET, leftover)
