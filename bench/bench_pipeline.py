"""Benchmark: one day of shopstream_elt through the scheduler, its dbt stage against a plain `dbt build`.

On the embedded stack of `make run` (started by `make bench`), with the source `make run` made:

1. triggers one manual run of the day before yesterday through Airflow's REST API and follows it to
   its end: the end-to-end wall time of one day, and the dbt stage's wall time (first dbt task start
   to last dbt task end, read from the task instances);
2. runs the same dbt commands by hand on the same warehouse and data, in the dbt venv:
   ``dbt source freshness`` then ``dbt build`` (what the WATCHER producer runs), and prints their
   wall time and the ratio of the two (goal: at most 1.5).

    make bench        # DAG parse time, then this

Its figures also go to output/bench.json (section "pipeline"), which `make report` reads.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from embedded import airflow_server, figures
from embedded.dag_runs import AirflowClient
from embedded.settings import StackSettings
from include.shopstream.config import DBT_PROJECT_DIR, ELT_DAG_ID, REPORT_EXPOSURE, dbt_executable, dbt_target

RATIO_GOAL = 1.5


def plain_dbt_build() -> float:
    """Wall time (s) of `dbt source freshness` + `dbt build` in the dbt venv, on the same warehouse,
    without the unit tests, as the DAG builds (transform.DBT_SKIP_UNIT_TESTS)."""
    started = time.monotonic()
    for command in (["source", "freshness"], ["build", "--exclude-resource-type", "unit_test"]):
        done = subprocess.run(
            [dbt_executable(), *command, "--profiles-dir", ".", "--target", dbt_target(), "--quiet"],
            cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False,
        )
        if done.returncode not in (0, 1) or ("ERROR=" in done.stdout and "ERROR=0" not in done.stdout):
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"dbt {' '.join(command)} failed")
    return time.monotonic() - started


def main() -> int:
    settings = StackSettings.from_env()
    print(airflow_server.start(settings), flush=True)
    client = AirflowClient()
    client.wait_for_dag(ELT_DAG_ID)
    client.set_paused(ELT_DAG_ID, False)
    # Measure one run alone: wait for the runs already queued or running (the scheduler's own).
    while any(r["state"] in ("queued", "running") for r in client.runs(ELT_DAG_ID)):
        time.sleep(2)
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    run_id = f"bench__{day}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    started = time.monotonic()
    client.trigger(ELT_DAG_ID, day=day, run_id=run_id)
    run = client.follow(ELT_DAG_ID, run_id)
    end_to_end = time.monotonic() - started
    if run.state != "success":
        print(f"run {run_id} {run.state}: {run.failed()}", file=sys.stderr)
        return 1
    # The report task sits in the dbt group but runs no dbt: measured on its own.
    report_task_id = f"dbt.{REPORT_EXPOSURE}_exposure"
    dbt_tasks = [t for t in run.tasks.values()
                 if t.task_id.startswith("dbt.") and t.task_id != report_task_id and t.start_date and t.end_date]
    dbt_stage = (max(t.end_date for t in dbt_tasks) - min(t.start_date for t in dbt_tasks)).total_seconds()
    plain = plain_dbt_build()
    ratio = dbt_stage / plain
    os_cores = os.cpu_count()
    print(f"\ncommand: make bench   (commit {figures.git_commit()}, {platform.machine()}, {os_cores} cores, "
          f"Python {platform.python_version()}, dbt target {dbt_target()})")
    print(f"{'one day end to end (trigger to run end)':<48}{end_to_end:>8.1f} s")
    print(f"{'dbt stage in Airflow (' + str(len(dbt_tasks)) + ' tasks, WATCHER)':<48}{dbt_stage:>8.1f} s")
    print(f"{'plain dbt source freshness + dbt build':<48}{plain:>8.1f} s")
    print(f"{'ratio dbt stage / plain build':<48}{ratio:>8.2f}   (goal <= {RATIO_GOAL})")
    report = run.tasks.get(report_task_id)
    if report and report.duration_s is not None:
        print(f"{'report task (previews from the marts)':<48}{report.duration_s:>8.1f} s")
    figures.write(figures.BENCH, {
        "command": "python -m bench.bench_pipeline", "machine": figures.machine(), "run_id": run_id,
        "day": day, "end_to_end_s": end_to_end, "dbt_stage_s": dbt_stage, "dbt_tasks": len(dbt_tasks),
        "plain_dbt_s": plain, "ratio": ratio, "ratio_goal": RATIO_GOAL,
        "report_task_s": report.duration_s if report else None,
    }, section="pipeline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
