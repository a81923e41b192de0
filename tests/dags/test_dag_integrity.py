"""DAG integrity: every DAG imports, follows the project's rules, and renders each dbt node as a task.

No metadata database, no dbt process and no server is needed: Cosmos renders from the manifest.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from unittest import mock

import airflow  # noqa: F401 - import Airflow before Cosmos (circular import otherwise)
import pytest
from airflow.dag_processing.dagbag import DagBag

from include.shopstream.config import DBT_MANIFEST_PATH, EXTRACTED_TABLES, PROJECT_ROOT

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
    for table in EXTRACTED_TABLES:
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
    for uid, source in manifest["sources"].items():
        # Cosmos renders the sources with freshness or tests (the delete log has neither, on purpose).
        checked = source.get("freshness") or any(uid in n["depends_on"]["nodes"] for n in tests)
        assert bool(checked) == (f"{_task_group_of(uid, manifest)}.source" in task_ids), f"{uid}"


def test_dbt_runs_after_every_load(elt) -> None:
    producer = elt.get_task("dbt.dbt_producer_watcher")
    upstream = {t.task_id for t in producer.get_flat_relatives(upstream=True)}
    for table in EXTRACTED_TABLES:
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
