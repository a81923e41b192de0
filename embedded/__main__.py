"""Command line of the embedded stack.

    python -m embedded start|stop|status
    python -m embedded env          # shell exports for Airflow, dbt and tools
    python -m embedded exec -- CMD  # run CMD in that environment
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from embedded import airflow_server, stack
from embedded.environment import stack_environment
from embedded.process import StackError
from embedded.settings import StackSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "env", "exec"])
    parser.add_argument("args", nargs=argparse.REMAINDER, help="with exec: the command to run")
    options = parser.parse_args(argv)
    try:
        settings = StackSettings.from_env()
        if options.command == "env":
            for name, value in stack_environment(settings).items():
                print(f"export {name}={shlex.quote(value)}")
            return 0
        if options.command == "exec":
            command = options.args[1:] if options.args[:1] == ["--"] else options.args
            if not command:
                parser.error("exec needs a command, e.g. exec -- airflow dags list")
            os.execvpe(command[0], command, {**os.environ, **stack_environment(settings)})
        action = {"start": stack.start, "stop": stack.stop, "status": stack.status}[options.command]
        for line in action(settings):
            print(line)
        if options.command == "status":  # Airflow too: `make run` leaves it running
            print(airflow_server.server(settings).status())
    except (StackError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
