"""How the pipeline's tasks retry, time out and report failures: one policy, every task.

Extraction and loading talk to three servers, so a dropped connection deserves another try (with
exponential back-off). dbt tasks override the retries (a failing test fails at once) and the time
limit (``transform.DBT_BUILD_TIMEOUT``). Every failure, of a task or of the run, calls the notifiers of
``notify.failure_notifier()``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.shopstream.config import DAG_OWNER
from include.shopstream.notify import failure_notifier

# A whole day through the pipeline takes minutes (docs/architecture.md): two hours means something hangs.
DAG_RUN_TIMEOUT = timedelta(hours=2)
# One table's extract or load, a full load included.
TASK_TIMEOUT = timedelta(minutes=20)


def default_task_args() -> dict[str, Any]:
    """The DAG's ``default_args``: owner, 2 retries after 30 s then 60 s, a 20-minute limit, notifiers."""
    return {
        "owner": DAG_OWNER,
        "retries": 2,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "execution_timeout": TASK_TIMEOUT,
        "on_failure_callback": failure_notifier(),
    }
