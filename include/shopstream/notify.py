"""Failure notifications: every failed task and every failed or timed-out run is reported somewhere.

``failure_notifier()`` is the DAG's ``on_failure_callback`` (tasks, through ``default_args``, and
runs). It always writes one JSON line per failure to ``$AIRFLOW_HOME/logs/failures.jsonl`` and an
ERROR line to the task log; with ``SHOPSTREAM_ALERT_EMAIL`` set it also sends an e-mail through
Airflow's SMTP notifier and connection ``smtp_default`` (docs/cloud.md). Slack or any other channel is
another ``BaseNotifier`` added to ``failure_notifier``.

``record_event`` appends those lines; the extraction also records there each schema-drift finding
(include/shopstream/schema_contract.py), ``"level": "warning"`` when the run carries on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

from include.shopstream.config import airflow_home, alert_email

log = logging.getLogger(__name__)


def failures_file() -> Path:
    """Where failures are recorded: ``$AIRFLOW_HOME/logs/failures.jsonl``."""
    return airflow_home() / "logs" / "failures.jsonl"


class FailureLogNotifier(BaseNotifier):
    """Records a failure as one JSON line (dag, run, task, try, error) and an ERROR log line."""

    template_fields = ()

    def notify(self, context: dict[str, Any]) -> None:
        record = record_event(
            context, level="error", error=str(context.get("exception") or context.get("reason") or "")[:500]
        )
        log.error("ShopStream failure: %s", record)


def record_event(context: Mapping[str, Any] | None, **fields: Any) -> dict[str, Any]:
    """Append one JSON line to the failures log: when, the dag, run, task and try from ``context``
    (an Airflow task context; None outside a task), then ``fields`` (``level``: ``error`` or
    ``warning``, ``error``: the message, and any other JSON-able detail). Returns the record."""
    context = context or {}
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    record = {
        "at": datetime.now(UTC).isoformat(),
        "dag_id": getattr(dag_run, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        **fields,
    }
    path = failures_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(record) + "\n")
    return record


def failure_notifier() -> list[BaseNotifier]:
    """The notifiers of a failure: the log record always, an e-mail when an address is configured."""
    notifiers: list[BaseNotifier] = [FailureLogNotifier()]
    if address := alert_email():
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        notifiers.append(
            SmtpNotifier(
                to=address,
                subject="ShopStream: {{ dag.dag_id }} {{ ti.task_id if ti else 'run' }} failed",
                html_content="Run {{ run_id }} failed. Log: {{ ti.log_url if ti else '' }}",
            )
        )
    return notifiers
