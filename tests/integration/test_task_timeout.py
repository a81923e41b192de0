"""A task that outlives its execution timeout fails, and the failure notifier records it.

The probe DAG takes the pipeline's own task policy (``task_policy.default_task_args()``: time limit,
notifiers) and runs one task that sleeps past a 2-second limit through Airflow's task runner, with
`airflow dags test` on the test stack's metadata DB (the probe lives in a folder of its own, never in
dags/). Retries are 0 so that the first timeout is the final failure: with the policy's 2 retries
the notifier runs after the third timeout, the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.shopstream.config import PROJECT_ROOT
from include.shopstream.notify import failures_file

# `airflow dags test` writes its run to the metadata DB the pipeline test's Airflow uses.
pytestmark = pytest.mark.airflow

PROBE_DAG_ID = "shopstream_timeout_probe"
PROBE = f'''
import time
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task

from include.shopstream.task_policy import default_task_args

with DAG("{PROBE_DAG_ID}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{**default_task_args(), "retries": 0, "execution_timeout": timedelta(seconds=2)}}):

    @task
    def hangs() -> None:
        time.sleep(60)

    hangs()
'''


def _probe_failures() -> list[dict]:
    path = failures_file()
    lines = path.read_text().splitlines() if path.exists() else []
    return [record for record in map(json.loads, lines) if record["dag_id"] == PROBE_DAG_ID]


@pytest.mark.usefixtures("airflow_db")
def test_a_task_past_its_timeout_fails_and_the_notifier_records_it(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "timeout_probe.py").write_text(PROBE)
    before = len(_probe_failures())
    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "PYTHONPATH": str(PROJECT_ROOT)}

    started = time.monotonic()
    result = subprocess.run([str(Path(sys.executable).parent / "airflow"), "dags", "test", PROBE_DAG_ID],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.monotonic() - started
    output = result.stdout[-4000:] + result.stderr[-4000:]

    assert "AirflowTaskTimeout: Timeout" in output, output
    assert "new_state=failed" in output and "DagRun failed" in output, output
    assert elapsed < 55, f"the probe ran {elapsed:.0f} s: the 2 s limit did not stop its 60 s sleep"
    records = _probe_failures()[before:]
    assert [r["task_id"] for r in records] == ["hangs"], records
    assert "Timeout" in records[0]["error"], records[0]
