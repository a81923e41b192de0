"""Every test runs against its own embedded stack (.local/test-stack, its own ports), never the
stack of `make run`: the tests reset the source and the warehouse.

The environment is set here, at import, before anything imports Airflow: Airflow reads its home and
connections once, and the DAG, the hooks and the CLI subprocesses must all see the test stack.
"""

from __future__ import annotations

import os

import pytest

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

# Where the embedded stack cannot run (the Astro image under `astro dev pytest`, the rehearsal of it:
# no .local/venvs there), its tests and those of local-only tools skip with a reason instead of failing.
HAS_EMBEDDED_STACK = (TEST_STACK.venvs_dir / "emulators" / "bin" / "python").exists()
LOCAL_TOOL_TESTS = {"test_lint.py": "ruff", "test_sqlfluff.py": "sqlfluff in the dbt venv"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
        if item.path.name in LOCAL_TOOL_TESTS:
            item.add_marker(pytest.mark.local_tools)
        if not HAS_EMBEDDED_STACK and "integration" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs the embedded stack (.local/venvs: `make install`)"))
        elif not HAS_EMBEDDED_STACK and "local_tools" in item.keywords:
            tool = LOCAL_TOOL_TESTS.get(item.path.name, "a local tool")
            item.add_marker(pytest.mark.skip(reason=f"needs {tool}, installed by `make install` only"))
