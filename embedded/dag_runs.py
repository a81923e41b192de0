"""Trigger, follow and clear DAG runs through Airflow's REST API, as the UI and a user's script do.

The run driver (`make run`), the end-to-end tests and the benchmark use it against the Airflow that
``airflow_server`` started: the scheduler runs every task; nothing here executes one.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from embedded.settings import StackSettings

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
READ_ATTEMPTS = 3
TERMINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


class AirflowApiError(RuntimeError):
    """The REST API refused a call; the message has its status and detail."""


@dataclass
class TaskResult:
    task_id: str
    state: str | None
    try_number: int
    duration_s: float | None
    start_date: datetime | None = None
    end_date: datetime | None = None


@dataclass
class RunResult:
    """A finished (or timed-out) DAG run and its task instances, keyed by task id."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, TaskResult] = field(default_factory=dict)
    start_date: datetime | None = None
    end_date: datetime | None = None
    data_interval_end: datetime | None = None

    @property
    def duration_s(self) -> float | None:
        if self.start_date and self.end_date:
            return (self.end_date - self.start_date).total_seconds()
        return None

    def states(self) -> dict[str, str | None]:
        return {task_id: task.state for task_id, task in self.tasks.items()}

    def failed(self) -> dict[str, str | None]:
        return {t: s for t, s in self.states().items() if s not in ("success", "skipped")}


class AirflowClient:
    """A small client of Airflow 3's REST API (``/api/v2``) on this machine.

    The embedded Airflow runs the simple auth manager with everyone admin: ``GET /auth/token``
    hands out a token without credentials (a laptop setting, never a production one).
    """

    def __init__(self, port: int | None = None, timeout_s: float = 30.0) -> None:
        settings = StackSettings.from_env()
        self.base = f"http://{settings.host}:{port or settings.airflow_port}"
        self.timeout_s = timeout_s
        self._token: str | None = None

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        if self._token is None and path != "/auth/token":
            self._token = self._request("GET", "/auth/token")["access_token"]
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        # A busy API server (two cores running the scheduler, its workers and dbt) can miss a 30-second
        # read: reads are retried, writes are not (a trigger or a clear must not happen twice).
        attempts = READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    payload = response.read()
                break
            except urllib.error.HTTPError as exc:
                raise AirflowApiError(f"{method} {path}: HTTP {exc.code}: {exc.read().decode()[:2000]}") from exc
            except (TimeoutError, urllib.error.URLError) as exc:
                if attempt == attempts:
                    raise AirflowApiError(f"{method} {path}: no answer from {self.base} after {attempts} "
                                          f"tries of {self.timeout_s:.0f} s ({exc})") from exc
                time.sleep(2 * attempt)
        return json.loads(payload) if payload else None

    def wait_for_dag(self, dag_id: str, timeout_s: float = 120.0) -> None:
        """Wait until the DAG processor has parsed the DAG and stored it without import errors."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self._request("GET", f"/api/v2/dags/{dag_id}/details")
                return
            except AirflowApiError:
                time.sleep(1)
        errors = self._request("GET", "/api/v2/importErrors").get("import_errors", [])
        raise AirflowApiError(f"DAG {dag_id} not parsed after {timeout_s:.0f} s; import errors: {errors}")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def trigger(
        self, dag_id: str, *, day: date | None, conf: dict[str, Any] | None = None,
        run_id: str | None = None, run_after: datetime | None = None,
    ) -> str:
        """Create a manual run of ``day`` (its data interval), or one without a logical date (``None``).

        A run of a day gets the trigger time as its logical date, as in the UI, and that day as its
        data interval: logical dates are unique per DAG, and the scheduled run of the day has its own.
        The scheduler starts queued runs in ``run_after`` order (now, by default).
        """
        body: dict[str, Any] = {"logical_date": None, "conf": conf or {}}
        if day is not None:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            body["logical_date"] = datetime.now(UTC).isoformat()
            body["data_interval_start"] = start.isoformat()
            body["data_interval_end"] = (start + timedelta(days=1)).isoformat()
        if run_id:
            body["dag_run_id"] = run_id
        if run_after:
            body["run_after"] = run_after.isoformat()
        return self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100&order_by=id")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances?limit=1000"
        return self._request("GET", path)["task_instances"]

    def clear(self, dag_id: str, run_id: str, task_ids: list[str], *, downstream: bool = False) -> list[str]:
        """Clear task instances of one run, as the UI's Clear button does; returns the cleared task ids."""
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": task_ids,
            "include_downstream": downstream,
            "include_upstream": False,
            "only_failed": False,
            "reset_dag_runs": True,
        }
        cleared = self._request("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", body)
        return [ti["task_id"] for ti in cleared.get("task_instances", [])]

    def set_variable(self, key: str, value: str) -> None:
        try:
            self._request("PATCH", f"/api/v2/variables/{key}", {"key": key, "value": value})
        except AirflowApiError:
            self._request("POST", "/api/v2/variables", {"key": key, "value": value})

    def delete_variable(self, key: str) -> None:
        try:
            self._request("DELETE", f"/api/v2/variables/{key}")
        except AirflowApiError as exc:
            if "404" not in str(exc):
                raise

    def follow(
        self, dag_id: str, run_id: str, *, timeout_s: float = 1800.0, poll_s: float = 2.0,
        on_task: Callable[[TaskResult], None] | None = None,
    ) -> RunResult:
        """Poll the run until it ends (or ``timeout_s``, 30 minutes unless the caller says: `make run` and
        `make bench` take it); ``on_task`` is called once per task instance as it finishes.

        The run's task instances (about ninety per run) are read at each poll only for ``on_task``;
        otherwise once, when the run has ended: the API server and the caller share two cores.
        """
        deadline = time.monotonic() + timeout_s
        reported: dict[str, tuple[str | None, int]] = {}
        while True:
            run = self.run(dag_id, run_id)
            ended = run["state"] in TERMINAL_RUN_STATES or time.monotonic() > deadline
            if on_task or ended:
                tasks = {ti["task_id"]: _task(ti) for ti in self.task_instances(dag_id, run_id)}
                for task in tasks.values():
                    key = (task.state, task.try_number)
                    if on_task and task.state in TERMINAL_TASK_STATES and reported.get(task.task_id) != key:
                        reported[task.task_id] = key
                        on_task(task)
            if ended:
                return RunResult(
                    dag_id, run_id, run["state"] if run["state"] in TERMINAL_RUN_STATES else "timed out",
                    tasks, _date(run.get("start_date")), _date(run.get("end_date")),
                    _date(run.get("data_interval_end")),
                )
            time.sleep(poll_s)


def _quote(run_id: str) -> str:
    from urllib.parse import quote

    return quote(run_id, safe="")


def _date(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _task(ti: dict[str, Any]) -> TaskResult:
    return TaskResult(
        ti["task_id"], ti.get("state"), int(ti.get("try_number") or 0), ti.get("duration"),
        _date(ti.get("start_date")), _date(ti.get("end_date")),
    )
