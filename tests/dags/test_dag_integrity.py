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

from include.shopstream.config import DBT_MANIFEST_PATH, PROJECT_ROOT, TABLES

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
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must not catch up"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} retries={task.retries}, want >= 2"


def test_one_extract_and_load_per_table(elt) -> None:
    task_ids = set(elt.task_ids)
    for table in TABLES:
        assert f"extract.{table.name}" in task_ids
        for step in ("clear_partition", "copy_into", "stamp_load_time"):
            assert f"load.{table.name}.{step}" in task_ids


def _task_group_of(unique_id: str, manifest: dict) -> str:
    """Cosmos names a model's tasks after the model, a source's after `<source>_<table>`."""
    if unique_id.startswith("source."):
        source = manifest["sources"][unique_id]
        return f"dbt.{source['source_name']}_{source['name']}"
    return f"dbt.{manifest['nodes'][unique_id]['name']}"


def test_every_dbt_node_has_its_task(elt) -> None:
    """Each model gets `.run` and `.test` tasks, each source `.source` and `.test` tasks, and each
    test with several parents a task of its own."""
    manifest = json.loads(DBT_MANIFEST_PATH.read_text())
    task_ids = set(elt.task_ids)
    models = [uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"]
    assert models, "the manifest has no model"
    for uid in models:
        assert f"{_task_group_of(uid, manifest)}.run" in task_ids, f"no task runs {uid}"
    for uid in manifest["sources"]:
        assert f"{_task_group_of(uid, manifest)}.source" in task_ids, f"no task checks {uid}"
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert tests, "the manifest has no test"
    for node in tests:
        parents = set(node["depends_on"]["nodes"])
        if len(parents) > 1:
            assert f"dbt.{node['name']}_test" in task_ids, f"multi-parent test {node['name']} has no task"
        else:
            (parent,) = parents
            assert f"{_task_group_of(parent, manifest)}.test" in task_ids, f"no task runs {node['name']}"


def test_dbt_runs_after_every_load(elt) -> None:
    for table in TABLES:
        stamp = elt.get_task(f"load.{table.name}.stamp_load_time")
        downstream = {t.task_id for t in stamp.get_flat_relatives(upstream=False)}
        assert any(t.startswith("dbt.") for t in downstream), f"dbt does not wait for {table.name}"


def test_multi_parent_tests_wait_for_all_parents(elt) -> None:
    for task in elt.tasks:
        if task.task_id.startswith("dbt.relationships_"):
            upstream_models = {t.split(".")[1] for t in task.upstream_task_ids}
            assert len(upstream_models) >= 2, f"{task.task_id} waits only for {upstream_models}"
