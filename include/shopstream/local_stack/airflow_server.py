"""Serve the Airflow UI on the embedded stack (``airflow standalone``), in the background.

    python -m include.shopstream.local_stack.airflow_ui          # start, wait until healthy
    python -m include.shopstream.local_stack.airflow_ui --stop   # stop it and all its children

Runs in the stack's environment (``local_stack exec``), so the UI shows the runs that ``make run``
recorded in the same metadata database, with the dbt models as tasks.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import sys
from pathlib import Path

from include.shopstream.local_stack.process import ServerProcess, StackError, port_accepts
from include.shopstream.local_stack.settings import StackSettings


def ui_port() -> int:
    return int(os.environ.get("SHOPSTREAM_AIRFLOW_PORT", "8080"))


def _healthy(port: int) -> bool:
    if not port_accepts("127.0.0.1", port):
        return False
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/api/v2/monitor/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


def standalone(settings: StackSettings) -> ServerProcess:
    port = ui_port()
    return ServerProcess(
        name="airflow",
        command=[str(Path(sys.executable).parent / "airflow"), "standalone"],
        host="127.0.0.1",
        port=port,
        port_env="SHOPSTREAM_AIRFLOW_PORT",
        run_dir=settings.stack_dir / "run",
        is_ready=lambda: _healthy(port),
        env={"AIRFLOW__API__PORT": str(port), "AIRFLOW__API__HOST": "127.0.0.1"},
        # Like Ctrl+C: SIGTERM to the parent alone leaves the scheduler and api-server running.
        stop_signal=signal.SIGINT,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stop", action="store_true")
    args = parser.parse_args()
    server = standalone(StackSettings.from_env())
    try:
        if args.stop:
            print(server.stop())
            return 0
        print(server.start(timeout=180))
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    port = ui_port()
    print(
        f"\nAirflow UI: http://localhost:{port}/dags/shopstream_elt  (graph: the dbt models are tasks)\n"
        f"Log: {server.log_file}\nStop it with: make down"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
