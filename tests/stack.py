"""The test stack (tests/conftest.py: .local/test-stack, its own ports), started or stopped by `make test`.

    python -m tests.stack start   # before the two pytest processes, which then share it
    python -m tests.stack stop    # after both, Airflow included

`pytest` alone needs neither: the integration tests start the stack themselves and stop it at the end.
"""

from __future__ import annotations

import sys

from embedded import airflow_server, stack
from embedded.process import StackError
from tests.conftest import TEST_STACK


def main(argv: list[str]) -> int:
    if argv not in (["start"], ["stop"]):
        print("usage: python -m tests.stack start|stop", file=sys.stderr)
        return 2
    try:
        if argv == ["start"]:
            lines = stack.start(TEST_STACK)
        else:
            lines = [airflow_server.stop(TEST_STACK), *stack.stop(TEST_STACK)]
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
