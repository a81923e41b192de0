"""The OLTP generator against a real PostgreSQL: counts, refusal without --reset, identical reloads.

Needs ``SHOPSTREAM_PG_DSN`` (skipped otherwise). The tests TRUNCATE the six ``oltp`` tables of that
database (``--reset``): point it at a throwaway database, never at one whose rows you want to keep.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from psycopg import sql

from include.data_gen.dsn import DSN_ENV
from include.data_gen.generator import GeneratorOptions, OltpGenerator
from include.shopstream.config import PROJECT_ROOT, SOURCE_SCHEMA, TABLES

ARGS = ["--orders", "1500", "--days", "30", "--end-date", "2026-11-26", "--seed", "7"]
OPTIONS = GeneratorOptions(orders=1500, days=30, end_date=date(2026, 11, 26), seed=7)


@pytest.fixture(scope="module")
def dsn() -> str:
    value = os.environ.get(DSN_ENV, "").strip()
    if not value:
        pytest.skip(
            f"{DSN_ENV} is not set: these tests need a PostgreSQL server (its oltp tables are truncated)"
        )
    return value


@pytest.fixture(scope="module")
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


def run_cli(dsn: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), DSN_ENV: dsn}
    argv = [sys.executable, "-m", "include.data_gen", *ARGS, *extra]
    return subprocess.run(
        argv, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False, timeout=300
    )


def checksums(conn: psycopg.Connection) -> dict[str, tuple[int, str | None]]:
    """Row count and ``md5(string_agg(t::text, ',' order by pk))`` per table."""
    result = {}
    for table in TABLES:
        query = sql.SQL(
            "select count(*), md5(string_agg(t::text, ',' order by t.{pk})) from {s}.{t} t"
        ).format(
            pk=sql.Identifier(table.primary_key),
            s=sql.Identifier(SOURCE_SCHEMA),
            t=sql.Identifier(table.name),
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        result[table.name] = (row[0], row[1])
    return result


@pytest.fixture(scope="module")
def first_load(dsn: str, conn: psycopg.Connection) -> dict[str, tuple[int, str | None]]:
    result = run_cli(dsn, "--reset")
    assert result.returncode == 0, result.stderr
    return checksums(conn)


def test_load_writes_expected_counts(first_load: dict[str, tuple[int, str | None]]) -> None:
    expected = OltpGenerator(OPTIONS).expected_counts()
    assert {t: n for t, (n, _) in first_load.items()} == expected


def test_identities_continue_after_loaded_ids(conn: psycopg.Connection, first_load: dict) -> None:
    for table in TABLES:
        query = sql.SQL("select pg_sequence_last_value(pg_get_serial_sequence({name}, {pk}))").format(
            name=sql.Literal(f"{SOURCE_SCHEMA}.{table.name}"), pk=sql.Literal(table.primary_key)
        )
        row = conn.execute(query).fetchone()
        assert row is not None and row[0] == first_load[table.name][0], table.name


def test_constraints_and_indexes_are_back(conn: psycopg.Connection, first_load: dict) -> None:
    fks = conn.execute(
        "select count(*) from pg_constraint where contype = 'f' and connamespace = %s::regnamespace",
        (SOURCE_SCHEMA,),
    ).fetchone()
    indexes = conn.execute(
        "select count(*) from pg_indexes where schemaname = %s", (SOURCE_SCHEMA,)
    ).fetchone()
    # 5 foreign keys; 7 primary keys (the six tables and the delete log) + 1 unique (sku) + 6 updated_at
    # + 5 foreign-key indexes + the delete log's deleted_at index in the DDL.
    assert fks is not None and fks[0] == 5
    assert indexes is not None and indexes[0] == 20


def test_second_load_without_reset_is_refused(dsn: str, conn: psycopg.Connection, first_load: dict) -> None:
    result = run_cli(dsn)
    assert result.returncode == 2
    assert "--reset" in result.stderr and "Traceback" not in result.stderr
    assert checksums(conn) == first_load


def test_reset_reloads_identically(dsn: str, conn: psycopg.Connection, first_load: dict) -> None:
    result = run_cli(dsn, "--reset")
    assert result.returncode == 0, result.stderr
    assert checksums(conn) == first_load


def test_unreachable_server_is_one_line_exit_2() -> None:
    result = run_cli("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "--reset")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot connect") and "Traceback" not in result.stderr
