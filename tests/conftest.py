"""Every test runs against an embedded stack of the tests (.local/test-stack, its own ports), never the
stack of `make run`: the tests reset the source and the warehouse.

The environment is set here, at import, before anything imports Airflow: Airflow reads its home and
connections once, and the DAG, the hooks and the CLI subprocesses must all see the test stack.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterable
from pathlib import Path

import pytest

from include.shopstream.config import DBT_EXECUTABLE_ENV, LOCAL_ONLY_PACKAGES, PROJECT_ROOT, REPORT_DIR_ENV

# The image has neither local-only package: `astro dev pytest` (and its rehearsal,
# tools/rehearse_astro_image.py) runs these tests without them.
HAS_LOCAL_PACKAGES = all((PROJECT_ROOT / package / "__init__.py").exists() for package in LOCAL_ONLY_PACKAGES)
# Without them, the tests of the embedded stack are not even collected (their conftest imports it).
collect_ignore = [] if HAS_LOCAL_PACKAGES else ["integration", "stack.py"]

if HAS_LOCAL_PACKAGES:
    from embedded.settings import (
        AIRFLOW_PORT_ENV,
        PG_PORT_ENV,
        S3_PORT_ENV,
        SNOWFLAKE_PORT_ENV,
        STACK_DIR_ENV,
        StackSettings,
    )

    # The test stacks' folders and ports. `make test` runs the DAG-run tests on the first and every
    # other test, beside them, on the second (SHOPSTREAM_TEST_STACK=beside): the Snowflake stand-in
    # serves one query at a time (embedded/fakesnow_server.py), so on one stack each would wait for the
    # other's queries. Variables the environment sets win.
    TEST_STACK_ENV = "SHOPSTREAM_TEST_STACK"
    TEST_STACKS = {
        "main": {STACK_DIR_ENV: ".local/test-stack", PG_PORT_ENV: "56432", S3_PORT_ENV: "56500",
                 SNOWFLAKE_PORT_ENV: "56443", AIRFLOW_PORT_ENV: "58080"},
        "beside": {STACK_DIR_ENV: ".local/test-stack-beside", PG_PORT_ENV: "56433", S3_PORT_ENV: "56501",
                   SNOWFLAKE_PORT_ENV: "56444", AIRFLOW_PORT_ENV: "58083"},
    }
    _chosen = os.environ.get(TEST_STACK_ENV, "main")
    if _chosen not in TEST_STACKS:
        raise pytest.UsageError(f"{TEST_STACK_ENV}={_chosen!r}: choose one of {', '.join(TEST_STACKS)}")
    for _var, _value in TEST_STACKS[_chosen].items():
        os.environ.setdefault(_var, str(PROJECT_ROOT / _value) if _var == STACK_DIR_ENV else _value)

    from embedded.environment import stack_environment

    TEST_STACK = StackSettings.from_env()
    # Where the embedded stack cannot run (no .local/venvs: `make install` was not run), its tests and
    # those of local-only tools skip with a reason instead of failing.
    HAS_EMBEDDED_STACK = (TEST_STACK.venvs_dir / "emulators" / "bin" / "python").exists()
    # Without the stack's venvs, a dbt the environment names (the image's) stays the one its tests run.
    _image_dbt = None if HAS_EMBEDDED_STACK else os.environ.get(DBT_EXECUTABLE_ENV)
    os.environ.update(stack_environment(TEST_STACK))
    if _image_dbt:
        os.environ[DBT_EXECUTABLE_ENV] = _image_dbt
    TEST_STACK.airflow_home.mkdir(parents=True, exist_ok=True)
    # The report step of the test stack's DAG runs writes its previews there, not into output/report.
    os.environ.setdefault(REPORT_DIR_ENV, str(TEST_STACK.stack_dir / "report"))
else:
    HAS_EMBEDDED_STACK = False

# Tests that run a local-only executable (no import to miss), by file.
LOCAL_TOOL_TESTS = {"test_lint.py": "ruff", "test_sqlfluff.py": "sqlfluff in the dbt venv"}


def _local_only_modules() -> set[str]:
    """Import names of what requirements/airflow-local.txt adds to requirements.txt (the image's)."""
    def names(path: Path) -> set[str]:
        pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)", path.read_text(), re.MULTILINE)
        return {re.sub(r"[-.]", "_", name).lower() for name in pins}

    added = names(PROJECT_ROOT / "requirements" / "airflow-local.txt") - names(PROJECT_ROOT / "requirements.txt")
    return added | set(LOCAL_ONLY_PACKAGES)


def _missing_local_tool(error: BaseException | None) -> str | None:
    """The local-only module whose absence raised error (directly or as the cause of an import error)."""
    if HAS_EMBEDDED_STACK:
        return None
    while error is not None and not isinstance(error, ModuleNotFoundError):
        error = error.__cause__
    top = (error.name or "").split(".")[0] if isinstance(error, ModuleNotFoundError) else ""
    return top if top and top.lower() in _local_only_modules() else None


def _needs(tool: str) -> str:
    if tool in LOCAL_ONLY_PACKAGES:
        return f"needs {tool}/, local-only tooling the Astro image does not ship (.dockerignore)"
    return f"needs {tool}, installed by `make install` only (requirements/airflow-local.txt, the dbt venv)"


class _Module(pytest.Module):
    """A test module that imports a local-only tool absent here is reported as skipped, with why."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        try:
            return super().collect()
        except self.CollectError as error:
            if tool := _missing_local_tool(error):
                pytest.skip(_needs(tool))
            raise


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module:
    return _Module.from_parent(parent, path=module_path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    tool = _missing_local_tool(call.excinfo.value if call.excinfo else None) if report.failed else None
    if tool:
        report.outcome, report.longrepr = "skipped", (str(item.path), item.location[1] or 0, f"Skipped: {_needs(tool)}")
    return report


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)
        if item.path.name in LOCAL_TOOL_TESTS:
            item.add_marker(pytest.mark.local_tools)
        if not HAS_EMBEDDED_STACK and "integration" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs the embedded stack (.local/venvs: `make install`)"))
        elif not HAS_EMBEDDED_STACK and "local_tools" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=_needs(LOCAL_TOOL_TESTS[item.path.name])))
