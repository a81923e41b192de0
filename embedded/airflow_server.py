"""Airflow on the embedded stack: the components `astro dev start` runs, in the background.

    python -m embedded.airflow_server          # start, wait until healthy
    python -m embedded.airflow_server --stop   # stop it and all its children

`airflow standalone` migrates the metadata DB and runs the scheduler (LocalExecutor), the DAG
processor, the triggerer (the dbt node tasks wait in it) and the API server with the UI. It runs in
the stack's environment (``python -m embedded exec``): the metadata DB on the stack's PostgreSQL, the three
connections, the dbt venv. `make run` starts it, triggers its runs through it and leaves it running
for `make ui`; `make down` stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from embedded.process import ServerProcess, StackError, http_get
from embedded.settings import AIRFLOW_PORT_ENV, StackSettings
from include.shopstream.config import ELT_DAG_ID

START_TIMEOUT_S = 180.0


def _healthy(host: str, port: int) -> bool:
    """The execution API (what task processes call) answers, and the API server reports a healthy
    scheduler, triggerer and DAG processor.

    The execution API sets itself up on its first request, which takes seconds of CPU: asked here, that
    cost comes before "ready" instead of inside the first task of the first run (it adds as much to
    the start as it takes from that task: it does not overlap the other components' start).
    """
    execution = http_get(host, port, "/execution/health")
    if execution is None or execution[0] != 200:
        return False
    answer = http_get(host, port, "/api/v2/monitor/health")
    return answer is not None and answer[0] == 200 and answer[1].count('"healthy"') >= 3


def server(settings: StackSettings) -> ServerProcess:
    host, port = settings.host, settings.airflow_port
    return ServerProcess(
        name="airflow",
        command=[str(Path(sys.executable).parent / "airflow"), "standalone"],
        host=host,
        port=port,
        port_env=AIRFLOW_PORT_ENV,
        run_dir=settings.stack_dir / "run",
        is_ready=lambda: _healthy(host, port),
        env={
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": host,
            # Links in logs and the UI's own redirects use this address.
            "AIRFLOW__API__BASE_URL": settings.airflow_url(),
            # The task and trigger log servers next to it, so the tests' Airflow and the user's coexist.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port + 1),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(port + 2),
            # Task logs at INFO whatever the caller's level (`make run` quiets its own hooks to WARNING):
            # the UI's task logs would otherwise hold warnings only.
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        },
        # Like Ctrl+C: SIGTERM to the parent alone leaves the scheduler and api-server running.
        stop_signal=signal.SIGINT,
    )


def start(settings: StackSettings) -> str:
    """Start Airflow unless it runs already; return once all its components report healthy."""
    return server(settings).start(timeout=START_TIMEOUT_S)


# After Ctrl+C the API server, triggerer and log servers exit; the scheduler, the DAG processor and the
# LocalExecutor's workers do not (Airflow 3.3.2, nor after SIGTERM), so a longer wait only delays the
# SIGKILL that ends them. A run still in flight is cut short.
STOP_GRACE_S = 5.0


def stop(settings: StackSettings) -> str:
    return server(settings).stop(timeout=STOP_GRACE_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stop", action="store_true", help="stop Airflow and all its components")
    args = parser.parse_args()
    settings = StackSettings.from_env()
    try:
        if args.stop:
            print(stop(settings))
            return 0
        print(start(settings))
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"\nAirflow UI: {settings.airflow_url(f'/dags/{ELT_DAG_ID}')}  (graph: the dbt models are tasks)\n"
        f"Log: {server(settings).log_file}\nStop it with: make down"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
