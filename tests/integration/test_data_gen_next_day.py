"""Next-day mode against a real PostgreSQL: inserts, updates and hard deletes stamped in that day, valid
lifecycles, determinism, refusals, and the simulator DAG's task.

Needs ``SHOPSTREAM_PG_DSN`` (set by tests/integration/conftest.py to a database of the generator's own);
the tests TRUNCATE its six ``oltp`` tables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pendulum
import psycopg
import pytest
from psycopg import sql

from include.data_gen.dsn import DSN_ENV
from include.data_gen.generator import CRM_TRANSITIONS, ORDER_TRANSITIONS
from include.data_gen.next_day import ERASED_USERS_PER_DAY, PURGED_ORDERS_PER_DAY
from include.shopstream.config import (
    DELETED_ROWS,
    PROJECT_ROOT,
    SIMULATOR_DAG_ID,
    SOURCE_CONN_ENV,
    SOURCE_SCHEMA,
    TABLES,
    dag_file,
)

HISTORY = ["--orders", "1500", "--days", "10", "--end-date", "2026-11-26", "--seed", "7"]
DAY = date(2026, 11, 26)
DAY_START = datetime(2026, 11, 26, tzinfo=UTC)
DAY_END = DAY_START + timedelta(days=1)


@pytest.fixture(scope="module")
def dsn() -> str:
    value = os.environ.get(DSN_ENV, "").strip()
    if not value:
        pytest.skip(f"{DSN_ENV} is not set: these tests need a PostgreSQL server (its oltp tables are truncated)")
    return value


@pytest.fixture(scope="module")
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


def run_cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), DSN_ENV: dsn}
    return subprocess.run(
        [sys.executable, "-m", "include.data_gen", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def checksums(conn: psycopg.Connection) -> dict[str, tuple[int, str | None]]:
    result = {}
    for table in (*TABLES, DELETED_ROWS):
        query = sql.SQL("select count(*), md5(string_agg(t::text, ',' order by t.{pk})) from {s}.{t} t").format(
            pk=sql.Identifier(table.primary_key), s=sql.Identifier(SOURCE_SCHEMA), t=sql.Identifier(table.name)
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        result[table.name] = (row[0], row[1])
    return result


def statuses(conn: psycopg.Connection, table: str, pk: str, column: str) -> dict[int, str]:
    query = sql.SQL("select {pk}, {c} from {s}.{t}").format(
        pk=sql.Identifier(pk), c=sql.Identifier(column), s=sql.Identifier(SOURCE_SCHEMA), t=sql.Identifier(table)
    )
    return dict(conn.execute(query).fetchall())


@pytest.fixture(scope="module")
def simulated(dsn: str, conn: psycopg.Connection) -> dict[str, object]:
    """A 10-day history ending 2026-11-25, then the next day (2026-11-26) simulated."""
    loaded = run_cli(dsn, *HISTORY, "--reset", "--dirty-rate", "0.02")
    assert loaded.returncode == 0, loaded.stderr
    before = {
        "orders": statuses(conn, "orders", "order_id", "order_status"),
        "pending_orders": {
            k for k, v in statuses(conn, "orders", "order_id", "order_status").items() if v == "pending"
        },
        "users": set(statuses(conn, "users", "user_id", "user_id")),
        "crm_contacts": statuses(conn, "crm_contacts", "contact_id", "contact_status"),
        "max_ids": {
            t.name: conn.execute(f"select max({t.primary_key}) from oltp.{t.name}").fetchone()[0] for t in TABLES
        },
    }
    result = run_cli(dsn, "--next-day", "--seed", "7", "--dirty-rate", "0.02")
    assert result.returncode == 0, result.stderr
    assert "next day 2026-11-26" in result.stdout
    return {**before, "after": checksums(conn)}


def test_inserts_and_updates_fall_in_the_day(conn: psycopg.Connection, simulated: dict) -> None:
    for table in TABLES:
        q = sql.SQL(
            "select count(*) filter (where created_at >= %(s)s), "
            "count(*) filter (where created_at < %(s)s and updated_at >= %(s)s), "
            "count(*) filter (where created_at >= %(s)s and not (created_at < %(e)s and updated_at < %(e)s)), "
            "max(updated_at) from {s}.{t}"
        ).format(s=sql.Identifier(SOURCE_SCHEMA), t=sql.Identifier(table.name))
        inserted, updated, outside, latest = conn.execute(q, {"s": DAY_START, "e": DAY_END}).fetchone()
        assert inserted > 0, table.name
        assert outside == 0 and latest < DAY_END, table.name
        if table.name in ("orders", "crm_contacts", "order_items"):
            assert updated > 0, f"{table.name}: no existing row updated in the day"


def test_every_new_row_is_stamped_in_the_day(conn: psycopg.Connection, simulated: dict) -> None:
    """A new row stamped before the day would be missed by every daily extraction."""
    for table in TABLES:
        outside = conn.execute(
            f"select count(*) from oltp.{table.name} where {table.primary_key} > %s "
            "and not (created_at >= %s and updated_at >= %s and created_at < %s and updated_at < %s)",
            (simulated["max_ids"][table.name], DAY_START, DAY_START, DAY_END, DAY_END),
        ).fetchone()[0]
        assert outside == 0, f"{table.name}: {outside} new rows stamped outside the simulated day"


def test_new_ids_continue_after_the_old_ones(conn: psycopg.Connection, simulated: dict) -> None:
    for table in TABLES:
        old_max = simulated["max_ids"][table.name]
        first_new = conn.execute(
            f"select min({table.primary_key}) from oltp.{table.name} where created_at >= %s", (DAY_START,)
        ).fetchone()[0]
        assert first_new == old_max + 1, table.name


def test_hard_deletes_are_recorded_in_the_day(conn: psycopg.Connection, simulated: dict) -> None:
    """Erased accounts (users without orders) and purged test orders (pending, with their lines): gone
    from their tables, each recorded once in the delete log with a time inside the day."""
    records = conn.execute(
        "select table_name, row_id, deleted_at from oltp.deleted_rows order by deleted_row_id"
    ).fetchall()
    by_table: dict[str, set[int]] = {}
    for table, row_id, deleted_at in records:
        assert DAY_START <= deleted_at < DAY_END, (table, row_id, deleted_at)
        by_table.setdefault(table, set()).add(row_id)
    assert len(records) == sum(len(v) for v in by_table.values()), "a row recorded twice"
    users, orders = by_table.get("users", set()), by_table.get("orders", set())
    assert len(users) == ERASED_USERS_PER_DAY and users <= simulated["users"]
    assert len(orders) == PURGED_ORDERS_PER_DAY and orders <= simulated["pending_orders"]
    assert by_table.get("order_items"), "the purged orders' lines were not recorded"
    for table, pk in (("users", "user_id"), ("orders", "order_id"), ("order_items", "order_item_id"),
                      ("events", "event_id"), ("crm_contacts", "contact_id")):
        ids = sorted(by_table.get(table, ()))
        left = conn.execute(f"select count(*) from oltp.{table} where {pk} = any(%s)", (ids,)).fetchone()[0]
        assert left == 0, f"{table}: {left} recorded rows still present"
    # Nothing left behind that pointed to them.
    dangling = conn.execute(
        "select (select count(*) from oltp.order_items where order_id = any(%s)) "
        "+ (select count(*) from oltp.events where user_id = any(%s)) "
        "+ (select count(*) from oltp.crm_contacts where user_id = any(%s))",
        (sorted(orders), sorted(users), sorted(users)),
    ).fetchone()[0]
    assert dangling == 0


def test_status_changes_follow_the_lifecycle(conn: psycopg.Connection, simulated: dict) -> None:
    for table, pk, column, transitions in (
        ("orders", "order_id", "order_status", ORDER_TRANSITIONS),
        ("crm_contacts", "contact_id", "contact_status", CRM_TRANSITIONS),
    ):
        before, after = simulated[table], statuses(conn, table, pk, column)
        changed = {k: (before[k], after[k]) for k in before if k in after and before[k] != after[k]}
        assert changed, table
        for key, (old, new) in changed.items():
            assert new in transitions[old], (table, key, old, new)


def test_events_of_new_users_and_late_events(conn: psycopg.Connection, simulated: dict) -> None:
    late = conn.execute(
        "select count(*) from oltp.events where created_at >= %s and occurred_at < %s", (DAY_START, DAY_START)
    ).fetchone()[0]
    assert late > 0, "no late event (occurred the day before, received in the day)"
    new_users_events = conn.execute(
        "select count(*) from oltp.events e join oltp.users u using (user_id) where u.created_at >= %s", (DAY_START,)
    ).fetchone()[0]
    assert new_users_events > 0


def test_same_day_again_is_refused(dsn: str, conn: psycopg.Connection, simulated: dict) -> None:
    result = run_cli(dsn, "--next-day", "--day", DAY.isoformat())
    assert result.returncode == 2 and "not after the latest day" in result.stderr
    assert checksums(conn) == simulated["after"]


def test_next_day_is_deterministic(dsn: str, conn: psycopg.Connection, simulated: dict) -> None:
    assert run_cli(dsn, *HISTORY, "--reset", "--dirty-rate", "0.02").returncode == 0
    result = run_cli(dsn, "--next-day", "--seed", "7", "--dirty-rate", "0.02")
    assert result.returncode == 0, result.stderr
    assert checksums(conn) == simulated["after"]


def test_simulator_dag_task_runs_the_interval_day(
    dsn: str, conn: psycopg.Connection, simulated: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    params = psycopg.conninfo.conninfo_to_dict(dsn)
    uri = f"postgres://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
    monkeypatch.setenv(SOURCE_CONN_ENV, uri)
    dag = DagBag(dag_folder=str(dag_file(SIMULATOR_DAG_ID))).dags[SIMULATOR_DAG_ID]
    simulate = dag.get_task("simulate_day").python_callable
    day = pendulum.datetime(2026, 11, 27, tz="UTC")
    first = simulate(data_interval_start=day)
    assert first["skipped"] == "" and first["inserted"]["orders"] > 0
    after = checksums(conn)
    again = simulate(data_interval_start=day)  # a re-run of the same interval changes nothing
    assert again["skipped"] and checksums(conn) == after


def test_next_day_on_empty_database_is_refused(dsn: str, conn: psycopg.Connection, simulated: dict) -> None:
    names = ", ".join(f"oltp.{t.name}" for t in TABLES)
    conn.execute(f"truncate table {names} restart identity cascade")
    result = run_cli(dsn, "--next-day")
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr
