"""`make run`: shopstream_elt through Airflow's scheduler on the embedded stack, followed task by task.

Runs in the stack's environment (``python -m embedded exec``) once the stack is up:
1. fills the source with the Faker generator if it is empty;
2. starts Airflow (scheduler, DAG processor, triggerer, API server) unless it runs, switches the DAG
   on and triggers one manual run per day through the REST API, as a user would from the UI: the
   run of day ``D`` has day ``D`` as its data interval;
3. prints a line per finished task, then the rows of every layer, the revenue reconciliation, the
   time it took and where to look; the DAG's report task has rendered the previews (output/report/);
4. writes these figures to output/run_summary.json (embedded/figures.py), which `make report` reads.
Airflow keeps running: `make ui` shows the runs, `make down` stops everything.

With ``--days N`` it runs N consecutive days ending with ``ds``: the history ends with the first,
and each later day is first simulated in the source (new rows, status and price changes),
so the daily runs and the snapshots have real changes to capture.

Each run extracts what changed since the last successful load (docs/architecture.md): a first run,
or a run after `make down` emptied the emulators, loads the full history; the scheduler's
own run of the same day finds nothing new and changes no row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from embedded import airflow_server, figures
from embedded.dag_runs import AirflowClient, RunResult, TaskResult
from embedded.settings import StackSettings
from include.shopstream.config import (
    ELT_DAG_ID,
    GENERATED_HISTORY_DAYS,
    GENERATED_ORDERS,
    POSTGRES_CONN_ID,
    PROJECT_ROOT,
    SOURCE_SCHEMA,
    report_previews_dir,
)
from include.shopstream.layer_counts import LayerCounts, all_counts, revenue_reconciliation

# The hooks used for the summary log every statement at INFO: noise here, right in task logs. (A setting
# of this process's Airflow, written before Airflow is imported, so no module above may import it:
# plumbing, not a setting it reads. Airflow itself logs at INFO: airflow_server sets its level.)
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"

from include.shopstream import notify  # imports Airflow, so after the level above


def source_is_empty() -> bool:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    if hook.get_first(f"select to_regclass('{SOURCE_SCHEMA}.orders')")[0] is None:
        return True
    return hook.get_first(f"select count(*) from {SOURCE_SCHEMA}.orders")[0] == 0


def generator(*args: str) -> None:
    """The Faker generator's command line (include/data_gen), in this environment."""
    subprocess.run([sys.executable, "-m", "include.data_gen", *args], check=True, cwd=PROJECT_ROOT)


def simulate_day(day: date) -> None:
    """Simulate ``day`` in the source, unless the source already holds it (as the simulator DAG does)."""
    from include.data_gen.dsn import resolve_conninfo
    from include.data_gen.next_day import simulate_next_day

    report = simulate_next_day(resolve_conninfo(), day=day, skip_if_present=True)
    print(f"\nSimulating {day} in the source\n{report.format()}", flush=True)


def print_task(task: TaskResult) -> None:
    mark = {"success": "ok", "skipped": "skip"}.get(task.state or "", "FAIL")
    duration = f"{task.duration_s:6.1f} s" if task.duration_s is not None else ""
    retry = f"  (try {task.try_number})" if task.try_number > 1 else ""
    print(f"  {mark:<5}{task.task_id:<62}{duration}{retry}", flush=True)


def run_day(client: AirflowClient, ds: date) -> RunResult:
    """Trigger the run of day ``ds`` and follow it to its end."""
    run_id = f"manual__{ds.isoformat()}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    print(f"\nTriggering {ELT_DAG_ID} for {ds} (run {run_id})", flush=True)
    # Queued ahead of the scheduler's own run of the latest day (the scheduler starts queued runs in
    # `run_after` order), which then finds nothing new. The DAG is switched on only once this run is
    # queued: switched on first, the scheduler could create and start its own run before the trigger
    # (seen: the full load then ran in the scheduled run, and `make run` waited for it).
    client.trigger(ELT_DAG_ID, day=ds, run_id=run_id, run_after=datetime(ds.year, ds.month, ds.day, tzinfo=UTC))
    client.set_paused(ELT_DAG_ID, False)
    result = client.follow(ELT_DAG_ID, run_id, on_task=print_task)
    print(f"Run {run_id}: {result.state} in {result.duration_s or 0:.0f} s", flush=True)
    return result


def print_counts(counts: LayerCounts) -> None:
    print("\nRows per layer (RAW keeps every extracted version; dbt: every model)")
    print(f"  {'table':<14}{'postgres':>10}{'raw':>10}")
    for table, source in counts.source.items():
        print(f"  {table:<14}{source:>10}{_fmt(counts.raw.get(table)):>10}")
    print(f"  {'dbt model':<40}{'rows':>10}")
    for model, rows in sorted(counts.models.items()):
        print(f"  {model:<40}{_fmt(rows):>10}")


def print_reconciliation(reconciliation: dict[str, Any]) -> None:
    revenue, orders = reconciliation["revenue"], reconciliation["orders"]
    print("\nRevenue reconciliation (exact decimals)")
    for layer, amount in revenue.items():
        print(f"  {layer:<22}{amount:>18,}")
    print(f"  orders: postgres {orders['postgres']}, fct_orders {orders['fct_orders']}: "
          + ("reconciled" if reconciliation["reconciled"] else "NOT RECONCILED"))


def previews_summary() -> dict[str, Any] | None:
    """What the DAG's report task rendered (totals.json), or None when it rendered nothing."""
    totals = report_previews_dir() / "totals.json"
    return json.loads(totals.read_text()) if totals.is_file() else None


def run_summary(args: argparse.Namespace, result: RunResult, elapsed_s: float, counts: LayerCounts,
                reconciliation: dict[str, Any], previews: dict[str, Any] | None) -> dict[str, Any]:
    """The figures of this `make run`, as written to output/run_summary.json (seconds, exact decimals)."""
    tasks = sorted(result.tasks.values(), key=lambda t: (t.start_date is None, t.start_date or datetime.min))
    return {
        "command": f"make run DAYS={args.days} ORDERS={args.orders}",
        "machine": figures.machine(),
        "dag_id": ELT_DAG_ID,
        "ds": args.ds.isoformat(),
        "days": args.days,
        "orders_generated": args.orders,
        "history_days": args.history_days,
        "run": {
            "run_id": result.run_id,
            "state": result.state,
            "duration_s": result.duration_s,
            "start_date": result.start_date,
            "end_date": result.end_date,
            "tasks": [{"task_id": t.task_id, "state": t.state, "duration_s": t.duration_s} for t in tasks],
        },
        "elapsed_s": elapsed_s,
        "layers": counts.as_dict(),
        "reconciliation": reconciliation,
        "previews": previews,
    }


def _fmt(value: int | None) -> str:
    return "-" if value is None else str(value)


def day_argument(value: str) -> date:
    """``--ds`` (``make run DS=...``): a calendar day written YYYY-MM-DD."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a day: give it as YYYY-MM-DD, e.g. make run DS=2026-11-20"
        ) from None


def main() -> int:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ds", type=day_argument, default=yesterday,
                        help="the day to load, YYYY-MM-DD (default: yesterday, UTC)")
    parser.add_argument("--orders", type=int,
                        help=f"orders to generate into an empty source (default: {GENERATED_ORDERS})")
    parser.add_argument("--history-days", type=int, default=GENERATED_HISTORY_DAYS,
                        help="days of history to generate (default: %(default)s)")
    parser.add_argument("--days", type=int, default=1,
                        help="consecutive days to run, ending with --ds (default: %(default)s)")
    args = parser.parse_args()
    orders_asked = args.orders is not None
    args.orders = args.orders if orders_asked else GENERATED_ORDERS
    if args.days < 1 or args.history_days < 1 or args.orders < 1:
        parser.error("--days, --history-days and --orders must be positive")
    first_day = args.ds - timedelta(days=args.days - 1)
    started = time.monotonic()

    settings = StackSettings.from_env()
    print(airflow_server.start(settings), flush=True)
    if source_is_empty():
        print(f"Source is empty: generating {args.orders} orders over {args.history_days} days to {first_day}")
        generator("--orders", str(args.orders), "--days", str(args.history_days),
                  "--end-date", (first_day + timedelta(days=1)).isoformat())
    elif orders_asked:
        print(f"ORDERS={args.orders} not applied: the source already holds its history, and ORDERS sizes a new "
              "one. For a new source: `make down && rm -rf .local/stack`, then `make run ORDERS=...`.",
              file=sys.stderr, flush=True)
    client = AirflowClient()
    client.wait_for_dag(ELT_DAG_ID)
    result: RunResult | None = None
    for offset in range(args.days):
        day = first_day + timedelta(days=offset)
        if offset > 0:
            simulate_day(day)
        result = run_day(client, day)
        if result.state != "success":
            break
    elapsed = time.monotonic() - started
    assert result is not None

    counts = all_counts()
    print_counts(counts)
    reconciliation = revenue_reconciliation() if result.state == "success" else None
    if reconciliation:
        print_reconciliation(reconciliation)
    previews = previews_summary() if result.state == "success" else None
    if previews:
        print(f"\nReport previews ({len(previews['pages'])} pages, rendered by the DAG's report task) in "
              f"{report_previews_dir()}/: " + ", ".join(p["png"] for p in previews["pages"].values()) + ", index.html")
    if result.state == "success":
        path = figures.write(figures.RUN_SUMMARY, run_summary(args, result, elapsed, counts, reconciliation, previews))
        print(f"Figures of this run: {path} (read by `make report`)")
    print(f"\nDAG run {ELT_DAG_ID} {args.ds}: {result.state}; {args.days} day(s) in {elapsed:.0f} s")
    print(f"See it with its per-model tasks: {settings.airflow_url(f'/dags/{ELT_DAG_ID}')} "
          "(Airflow keeps running: `make ui` prints this again, `make down` stops it)")
    if result.state != "success":
        print(f"The run did not succeed ({result.failed()}): open the failed tasks' logs in the UI "
              f"(failures are also recorded in {notify.failures_file()}), fix, then `make run` again.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
