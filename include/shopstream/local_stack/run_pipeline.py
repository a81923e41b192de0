"""`make run`: one DAG run of shopstream_elt on the embedded stack, recorded in Airflow's metadata DB.

Runs in the stack's environment (``local_stack exec``) once the stack is up:
1. fills the source with the Faker generator if it is empty;
2. runs ``airflow dags test shopstream_elt <ds + 1>``: a manual run covers the day before its logical
   date, so this run loads day ``ds``. Every task runs for real through the Airflow connections, and
   the run is stored in the metadata DB, where ``make ui`` shows it;
3. prints the rows of every layer, the time it took and where to look.

With ``--days N`` it runs N consecutive days ending with ``ds``: the history ends before the first,
and each later day is first simulated in the source (DAG shopstream_source_simulator: new rows,
status and price changes), so the daily runs and the snapshots have real changes to capture.

The emulators keep their data in memory, so after a restart S3 and the warehouse are empty while
PostgreSQL still holds the source: an empty RAW layer triggers a full-history extraction. A re-run of
the same day replays that day's run with the conf it had, so it changes no row anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from include.shopstream.config import POSTGRES_CONN_ID, PROJECT_ROOT, SOURCE_SCHEMA
from include.shopstream.layer_counts import LayerCounts, all_counts, warehouse_counts

DAG_ID = "shopstream_elt"
SIMULATOR_DAG_ID = "shopstream_source_simulator"
# The hooks log every statement at INFO: right in task logs, noise in this summary. Airflow reads the
# level when it is imported, so this process is quiet and the `airflow` subprocesses keep INFO.
TASK_LOG_LEVEL = os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
_END_TASK = re.compile(r"\[DAG TEST\] end task task_id=(\S+)")


def _airflow(*args: str, log: Path | None = None) -> int:
    """Run the Airflow CLI of this venv; output goes to ``log`` (progress lines echoed) or stdout."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    env = {**os.environ, "AIRFLOW__LOGGING__LOGGING_LEVEL": TASK_LOG_LEVEL}
    if log is None:
        return subprocess.run(command, check=False, env=env).returncode
    with log.open("w") as out, subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if done := _END_TASK.search(line):
                print(f"  done  {done.group(1)}", flush=True)
            elif "Task failed" in line or "marking task as UP_FOR_RETRY" in line.lower():
                print(f"  FAIL  {line.strip()[:200]}", flush=True)
    return proc.returncode


def source_is_empty() -> bool:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    if hook.get_first(f"select to_regclass('{SOURCE_SCHEMA}.orders')")[0] is None:
        return True
    return hook.get_first(f"select count(*) from {SOURCE_SCHEMA}.orders")[0] == 0


def generate_source(orders: int, days: int, end: date) -> None:
    print(f"Source is empty: generating {orders} orders over {days} days before {end} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "include.data_gen", "--orders", str(orders), "--days", str(days),
         "--end-date", end.isoformat()],
        check=True,
        cwd=PROJECT_ROOT,
    )


def logical_date(ds: str) -> datetime:
    """The logical date of the manual run whose data interval is the day ``ds``."""
    return datetime.fromisoformat(ds).replace(tzinfo=UTC) + timedelta(days=1)


def run_day(ds: str) -> str | None:
    """One day of shopstream_elt, recorded in the metadata DB; returns the run's state."""
    conf = {"full_history": needs_full_history(ds)}
    mode = "full history" if conf["full_history"] else "changes of the day"
    log = Path(os.environ["AIRFLOW_HOME"]) / "logs" / f"dags_test_{ds}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"Running {DAG_ID} for {ds} ({mode}); full log: {log}", flush=True)
    _airflow("dags", "test", DAG_ID, logical_date(ds).isoformat(), "--conf", json.dumps(conf), log=log)
    return run_state(DAG_ID, ds)


def simulate_day(ds: str) -> None:
    """Simulate day ``ds`` in the source (skipped by the DAG when the source already has it)."""
    log = Path(os.environ["AIRFLOW_HOME"]) / "logs" / f"simulator_{ds}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"Simulating {ds} in the source ({SIMULATOR_DAG_ID}); log: {log}", flush=True)
    _airflow("dags", "test", SIMULATOR_DAG_ID, logical_date(ds).isoformat(), log=log)
    if run_state(SIMULATOR_DAG_ID, ds) != "success":
        raise RuntimeError(f"{SIMULATOR_DAG_ID} failed for {ds}: see {log}")


def previous_conf(ds: str) -> dict:
    """The conf of the recorded run of ``ds``, so that a re-run replays the same extraction."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        conf = session.scalar(
            select(DagRun.conf).where(DagRun.dag_id == DAG_ID, DagRun.logical_date == logical_date(ds))
        )
    return dict(conf or {})


def run_state(dag_id: str, ds: str) -> str | None:
    from airflow.models import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        state = session.scalar(
            select(DagRun.state).where(DagRun.dag_id == dag_id, DagRun.logical_date == logical_date(ds))
        )
    return str(state) if state else None


def needs_full_history(ds: str) -> bool:
    raw, _ = warehouse_counts()
    if any(count in (None, 0) for count in raw.values()):
        return True
    return bool(previous_conf(ds).get("full_history"))


def print_counts(counts: LayerCounts, ds: str) -> None:
    print(f"\nRows per layer (S3 and RAW: the files of ds={ds}; dbt: every model)")
    print(f"  {'table':<14}{'postgres':>10}{'s3':>10}{'raw':>10}")
    for table, source in counts.source.items():
        landing, raw = counts.landing.get(table), counts.raw.get(table)
        print(f"  {table:<14}{source:>10}{_fmt(landing):>10}{_fmt(raw):>10}")
    print(f"  {'dbt model':<40}{'rows':>10}")
    for model, rows in sorted(counts.models.items()):
        print(f"  {model:<40}{_fmt(rows):>10}")


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)


def main() -> int:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ds", type=date.fromisoformat, default=yesterday, help="the day to load, YYYY-MM-DD")
    parser.add_argument("--orders", type=int, default=2000, help="orders to generate into an empty source")
    parser.add_argument("--history-days", type=int, default=30, help="days of history to generate")
    parser.add_argument("--days", type=int, default=1, help="consecutive days to run, ending with --ds")
    args = parser.parse_args()
    if args.days < 1 or args.history_days < 1 or args.orders < 1:
        parser.error("--days, --history-days and --orders must be positive")
    ds = args.ds.isoformat()
    first_day = args.ds - timedelta(days=args.days - 1)
    started = time.monotonic()

    if _airflow("db", "migrate", log=Path(os.environ["AIRFLOW_HOME"]) / "db_migrate.log") != 0:
        print(f"error: airflow db migrate failed, see {os.environ['AIRFLOW_HOME']}/db_migrate.log", file=sys.stderr)
        return 1
    if source_is_empty():
        generate_source(args.orders, args.history_days, first_day + timedelta(days=1))
    state: str | None = None
    for offset in range(args.days):
        day = (first_day + timedelta(days=offset)).isoformat()
        if offset > 0:
            simulate_day(day)
        state = run_day(day)
        if state != "success":
            break
    elapsed = time.monotonic() - started

    print_counts(all_counts(ds), ds)
    print(f"\nDAG run {DAG_ID} {ds}: {state}; {args.days} day(s) in {elapsed:.0f} s")
    print("See its per-model tasks: `make ui`, then open http://localhost:8080/dags/shopstream_elt")
    if state != "success":
        print(f"The run did not succeed: see {os.environ['AIRFLOW_HOME']}/logs/dags_test_*.log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
