"""The embedded stack's airflow_local_settings: task processes forked from an Airflow process of the
stack start with the DAG's modules already imported (embedded/airflow_config)."""

from __future__ import annotations

import subprocess
import sys

from embedded.environment import stack_environment
from tests.conftest import TEST_STACK

FORK_AND_LOOK = """
import os, sys
import airflow.settings  # what every Airflow component imports first: it imports the local settings
from airflow_local_settings import PRELOADED_MODULES
assert not any(m in sys.modules for m in PRELOADED_MODULES[1:]), "imported before any fork"
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(write, " ".join(m for m in PRELOADED_MODULES if m not in sys.modules).encode() or b"-")
    os._exit(0)
os.waitpid(pid, 0)
print("missing in the child:", os.read(read, 4096).decode())
"""


def test_a_forked_task_process_inherits_the_dags_modules() -> None:
    env = stack_environment(TEST_STACK)
    done = subprocess.run([sys.executable, "-c", FORK_AND_LOOK], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "missing in the child: -" in done.stdout, done.stdout[-2000:]
