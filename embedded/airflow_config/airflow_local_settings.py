"""Airflow's local settings on the embedded stack only (its environment puts this folder on PYTHONPATH).

Every task process of shopstream_elt parses the DAG file, which imports Cosmos, the Amazon and
Snowflake providers and the pipeline's modules. The LocalExecutor forks its workers from the
scheduler, and each worker forks a process per task: modules imported in the scheduler before
those forks are inherited, so a task process only runs the DAG file itself (`make bench` prints
the run's figures). Imported here at the first fork rather than at import time: Airflow imports this
module while it is still setting itself up, and the DAG's modules import Airflow.

The Astro image does not put this folder on its path: its executors and processes are Astronomer's.
"""

from __future__ import annotations

import importlib
import os

# What shopstream_elt's DAG file imports (dags/shopstream_elt.py), heaviest first.
PRELOADED_MODULES = (
    "cosmos",
    "include.shopstream.transform",
    "include.shopstream.extract",
    "include.shopstream.load",
    "include.shopstream.task_policy",
)


def _preload() -> None:
    for name in PRELOADED_MODULES:
        importlib.import_module(name)


# A failing import here is reported (sys.unraisablehook) and the fork goes on: the task then imports
# the module itself, and fails there with its own error if it must.
os.register_at_fork(before=_preload)
