"""The embedded stack for the integration tests: started once per session, stopped at the end.

It is the tests' own stack (see tests/conftest.py), so stopping it loses nothing of `make run`.
Tests marked ``airflow`` run DAG runs on its Airflow, in one pytest process at a time (`make test`
runs them in one process and every other test in another, side by side); the rest use PostgreSQL,
S3 and the warehouse each in a database or a prefix of their own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from embedded import airflow_server, stack
from embedded.postgres import AIRFLOW_DATABASE
from embedded.settings import StackSettings
from include.shopstream.config import SOURCE_DSN_ENV
from tests.conftest import TEST_STACK

AIRFLOW = str(Path(sys.executable).parent / "airflow")
GENERATOR_TEST_DB = "shopstream_generator_test"


@pytest.fixture(scope="session", autouse=True)
def embedded_stack() -> Iterator[StackSettings]:
    """Start the test stack unless it runs already; stop it at the end only if this session started it.

    `make test` starts it before its two pytest processes and stops it after both (tests/stack.py).
    """
    already_running = all(": running" in line for line in stack.status(TEST_STACK))
    for line in stack.start(TEST_STACK):
        print(line)
    yield TEST_STACK
    if not already_running:
        print(airflow_server.stop(TEST_STACK))
        for line in stack.stop(TEST_STACK):
            print(line)


@pytest.fixture(scope="session")
def airflow_db(embedded_stack: StackSettings) -> Iterator[StackSettings]:
    """A fresh Airflow metadata DB for the tests marked ``airflow``: no run, Variable or scheduler
    bookkeeping left by an earlier session; the test stack's Airflow is stopped first and at the end."""
    print(airflow_server.stop(embedded_stack))
    server = f"host={embedded_stack.host} port={embedded_stack.postgres_port} user=postgres"
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f"drop database if exists {AIRFLOW_DATABASE} with (force)")
        conn.execute(f"create database {AIRFLOW_DATABASE}")
    migrate = subprocess.run([AIRFLOW, "db", "migrate"], capture_output=True, text=True, check=False)
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    yield embedded_stack
    print(airflow_server.stop(embedded_stack))


@pytest.fixture(scope="session", autouse=True)
def generator_test_database(embedded_stack: StackSettings) -> Iterator[None]:
    """The generator's own tests truncate their database: give them one apart from the pipeline's."""
    server = f"host={embedded_stack.host} port={embedded_stack.postgres_port} user=postgres"
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (GENERATOR_TEST_DB,)).fetchone():
            conn.execute(f"create database {GENERATOR_TEST_DB}")
    previous = os.environ.get(SOURCE_DSN_ENV)
    os.environ[SOURCE_DSN_ENV] = f"{server} dbname={GENERATOR_TEST_DB}"
    yield
    if previous is not None:
        os.environ[SOURCE_DSN_ENV] = previous
