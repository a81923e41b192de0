"""Every test runs against its own embedded stack (.local/test-stack, its own ports), never the
stack of `make run`: the tests reset the source and the warehouse.

The environment is set here, at import, before anything imports Airflow: Airflow reads its home and
connections once, and the DAG, the hooks and the CLI subprocesses must all see the test stack.
"""

from __future__ import annotations

import os

from include.shopstream.config import PROJECT_ROOT

os.environ.setdefault("SHOPSTREAM_STACK_DIR", str(PROJECT_ROOT / ".local" / "test-stack"))
os.environ.setdefault("SHOPSTREAM_PG_PORT", "56432")
os.environ.setdefault("SHOPSTREAM_S3_PORT", "56500")
os.environ.setdefault("SHOPSTREAM_SNOWFLAKE_PORT", "56443")

from include.shopstream.local_stack.environment import stack_environment
from include.shopstream.local_stack.settings import StackSettings

TEST_STACK = StackSettings.from_env()
os.environ.update(stack_environment(TEST_STACK))
TEST_STACK.airflow_home.mkdir(parents=True, exist_ok=True)
