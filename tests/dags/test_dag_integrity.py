"""DAG integrity: every DAG imports, follows the project's rules, and renders each dbt node as a task.

No metadata database, no dbt process and no server is needed: Cosmos renders from the manifest.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Iterator
from unittest import mock

import airflow  # noqa: F401 - import Airflow before Cosmos (circular import otherwise)
import pytest
from airflow.dag_processing.dagbag import DagBag

from include.shopstream.config import DBT_MANIFEST_PATH, PROJECT_ROOT, REPORT_EXPOSURE, TABLES

DAGS_FOLDER = PROJECT_ROOT / "dags"


class _Forbidden(AssertionError):
    pass


@pytest.fixture(scope="module")
def dagbag() -> Iterator[DagBag]:
    """Load the DAGs with subprocesses and database sessions forbidden: a DAG file that starts dbt
    or queries the metadata DB at import time fails to import here."""

    def forbid(*args: object, **kwargs: object) -> None:
        raise _Forbidden(f"called at DAG import time: {args!r:.200}")

    with (
        mock.patch.object(subprocess.Popen, "__init__", forbid),
        mock.patch("airflow.settings.Session", side_effect=forbid),
        mock.patch("sqlalchemy.orm.Session.__init__", forbid),
    ):
        bag = DagBag(dag_folder=str(DAGS_FOLDER))
    yield bag


@pytest.fixture(scope="module")
def elt(dagbag: DagBag):
    return dagbag.dags["shopstream_elt"]


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}, "\n".join(f"{k}: {v}" for k, v in dagbag.import_errors.items())
    assert "shopstream_elt" in dagbag.dags


def test_dag_conventions(dagbag: DagBag) -> None:
    """Tags, no catch-up, an owner and a time limit on every task, a run timeout on the pipeline."""
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must not catch up"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
    elt = dagbag.dags["shopstream_elt"]
    assert elt.dagrun_timeout is not None
    for task in elt.tasks:
        assert task.execution_timeout is not None, f"{task.task_id} has no execution timeout"


def test_retries_where_they_help(elt) -> None:
    """Extraction and loading retry (a dropped connection); dbt tasks and the conf check fail at once."""
    for task in elt.tasks:
        if task.task_id.startswith(("extract.", "load.", "setup_warehouse", "plan_extraction")):
            assert task.retries >= 2 and task.retry_exponential_backoff, f"{task.task_id} does not retry"
        elif task.task_id.startswith("dbt.") or task.task_id == "validate_run_conf":
            assert task.retries == 0, f"{task.task_id} retries={task.retries}: its failures are deterministic"


def test_one_extract_and_load_per_table(elt) -> None:
    task_ids = set(elt.task_ids)
    for table in TABLES:
        assert f"extract.{table.name}" in task_ids
        for step in ("copy_into", "insert_new_versions"):
            assert f"load.{table.name}.{step}" in task_ids


def test_the_run_conf_is_checked_before_any_system_is_touched(elt) -> None:
    first = [t.task_id for t in elt.tasks if not t.upstream_task_ids]
    assert first == ["validate_run_conf"]


def _task_group_of(unique_id: str, manifest: dict) -> str:
    """Cosmos names a model's tasks after the model, a source's after `<source>_<table>`."""
    if unique_id.startswith("source."):
        source = manifest["sources"][unique_id]
        return f"dbt.{source['source_name']}_{source['name']}"
    return f"dbt.{manifest['nodes'][unique_id]['name']}"


def test_every_dbt_node_has_its_task(elt) -> None:
    """One producer runs `dbt build`; each model gets `.run` and `.test` tasks that follow it, each
    snapshot `.snapshot`, each source `.source` and `.test`."""
    manifest = json.loads(DBT_MANIFEST_PATH.read_text())
    task_ids = set(elt.task_ids)
    assert "dbt.dbt_producer_watcher" in task_ids
    nodes = [(uid, n) for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "snapshot")]
    assert nodes, "the manifest has no model"
    for uid, node in nodes:
        suffix = "run" if node["resource_type"] == "model" else "snapshot"
        assert f"{_task_group_of(uid, manifest)}.{suffix}" in task_ids, f"no task follows {uid}"
        tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
        tested = any(uid in n["depends_on"]["nodes"] for n in tests)
        if tested:
            assert f"{_task_group_of(uid, manifest)}.test" in task_ids, f"no task follows the tests of {uid}"
    for uid in manifest["sources"]:
        assert f"{_task_group_of(uid, manifest)}.source" in task_ids, f"no task checks {uid}"


def test_dbt_runs_after_every_load(elt) -> None:
    producer = elt.get_task("dbt.dbt_producer_watcher")
    upstream = {t.task_id for t in producer.get_flat_relatives(upstream=True)}
    for table in TABLES:
        assert f"load.{table.name}.insert_new_versions" in upstream


def test_each_test_counts_for_the_model_it_checks(elt) -> None:
    """A relationships test gates the child model's `.test` task, not the parent's; no model's
    `.test` task is left waiting for tests that no longer count for it."""
    producer = elt.get_task("dbt.dbt_producer_watcher")
    counted = producer.tests_per_model
    manifest = json.loads(DBT_MANIFEST_PATH.read_text())
    fct_events, dim_customers = "model.shopstream.fct_events", "model.shopstream.dim_customers"
    relationship = next(
        uid for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "test" and set(n["depends_on"]["nodes"]) == {fct_events, dim_customers}
    )
    assert relationship in counted[fct_events]
    assert relationship not in counted[dim_customers]
    assert all(counted.values()), [model for model, tests in counted.items() if not tests]


REPORT_TASK_ID = f"dbt.{REPORT_EXPOSURE}_exposure"


def test_the_report_is_published_after_the_marts_it_reads(elt) -> None:
    """The exposure's task follows the `.run` and `.test` tasks of every model the exposure depends on,
    and on the embedded stack (the tests' environment) it renders the previews."""
    from include.shopstream.publish import render_previews

    manifest = json.loads(DBT_MANIFEST_PATH.read_text())
    exposure = manifest["exposures"][f"exposure.shopstream.{REPORT_EXPOSURE}"]
    marts = [manifest["nodes"][uid]["name"] for uid in exposure["depends_on"]["nodes"]]
    assert "mart_sales_overview" in marts, marts
    report = elt.get_task(REPORT_TASK_ID)
    upstream = {t.task_id for t in report.get_flat_relatives(upstream=True)}
    for mart in marts:
        assert {f"dbt.{mart}.run", f"dbt.{mart}.test"} <= upstream, f"the report does not wait for {mart}"
    assert report.python_callable is render_previews


def test_cosmos_converts_the_exposure_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Cosmos warns "Unavailable conversion function" at parse for a node it cannot render; the
    exposure has a converter, and no node of the project is left without one."""
    with caplog.at_level(logging.WARNING):
        bag = DagBag(dag_folder=str(DAGS_FOLDER / "shopstream_elt.py"))
    assert bag.import_errors == {}
    assert REPORT_TASK_ID in bag.dags["shopstream_elt"].task_ids
    unconverted = [r.getMessage() for r in caplog.records if "Unavailable conversion function" in r.getMessage()]
    assert not unconverted, unconverted


def test_the_warning_filter_keeps_other_node_types() -> None:
    """Only the converted types' warning is dropped (a type without a converter still warns)."""
    from include.shopstream.transform import NODE_CONVERTERS, _ConvertedNodeWarningFilter

    keep = _ConvertedNodeWarningFilter(list(NODE_CONVERTERS))

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("cosmos.airflow.graph", logging.WARNING, __file__, 1, message, None, None)

    assert not keep.filter(record("Unavailable conversion function for <DbtResourceType.EXPOSURE> (node <x>)."))
    assert keep.filter(record("Unavailable conversion function for <DbtResourceType.ANALYSIS> (node <y>)."))


# The cloud's DAG, parsed with the report tooling's local-only packages made unimportable.
_CLOUD_PARSE = """
import json, sys
for name in {local_only!r}:
    sys.modules[name] = None  # an import of it raises ImportError, as in the Astro image
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dag_file!r})
task = bag.dags["shopstream_elt"].get_task({task_id!r}) if not bag.import_errors else None
print(json.dumps({{
    "errors": {{k: str(v)[-2000:] for k, v in bag.import_errors.items()}},
    "operator": type(task).__name__ if task else None,
    "group_id": getattr(task, "group_id", None), "dataset_id": getattr(task, "dataset_id", None),
    "conn_id": getattr(task, "conn_id", None),
    "loaded": sorted(m for m in sys.modules if m.startswith("include.shopstream.report") or m in {local_only!r}
                     and sys.modules[m] is not None),
}}))
"""


def test_the_cloud_dag_refreshes_power_bi_without_local_only_packages() -> None:
    """In the cloud (target `cloud`, workspace and dataset set) the report task is the Azure provider's
    PowerBIDatasetRefreshOperator on the `powerbi_shopstream` connection, and parsing the DAG
    imports neither the previews nor a package the Astro image lacks."""
    import os
    import sys

    from include.shopstream.config import POWERBI_CONN_ID

    env = {**os.environ, "SHOPSTREAM_DBT_TARGET": "cloud",
           "SHOPSTREAM_POWERBI_WORKSPACE_ID": "11111111-2222-3333-4444-555555555555",
           "SHOPSTREAM_POWERBI_DATASET_ID": "66666666-7777-8888-9999-000000000000"}
    code = _CLOUD_PARSE.format(local_only=["matplotlib", "sqlglot", "detect_secrets"],
                               dag_file=str(DAGS_FOLDER / "shopstream_elt.py"), task_id=REPORT_TASK_ID)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False,
                          cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}, parsed["errors"]
    assert parsed["operator"] == "PowerBIDatasetRefreshOperator"
    assert (parsed["group_id"], parsed["dataset_id"], parsed["conn_id"]) == (
        env["SHOPSTREAM_POWERBI_WORKSPACE_ID"], env["SHOPSTREAM_POWERBI_DATASET_ID"], POWERBI_CONN_ID)
    assert parsed["loaded"] == [], f"the cloud's DAG parse imported {parsed['loaded']}"
