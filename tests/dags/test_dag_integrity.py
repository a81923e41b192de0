"""DAG integrity: every DAG imports, follows the project's rules, and renders each dbt node as a task.

No metadata database, no dbt process and no server is needed: Cosmos renders from the manifest.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Iterator
from unittest import mock

import airflow  # noqa: F401 - import Airflow before Cosmos (circular import otherwise)
import pytest
import yaml
from airflow.dag_processing.dagbag import DagBag

from include.shopstream import dbt_manifest
from include.shopstream.config import (
    AWS_CONN_ID,
    CLOUD_DBT_TARGET,
    DAGS_DIR,
    DBT_DOCS_PROJECT,
    DBT_DOCS_S3_PREFIX,
    DBT_PROJECT_DIR,
    DBT_TARGET_ENV,
    ELT_DAG_ID,
    EMBEDDED_DBT_TARGET,
    EXTRACTED_TABLES,
    PROJECT_ROOT,
    REPORT_EXPOSURE,
    S3_BUCKET,
    TABLES,
    dag_file,
    dbt_docs_projects_setting,
    dbt_docs_s3_dir,
    dbt_executable,
)

IMAGE_DBT_TARGET_DIR = "/usr/local/airflow/include/dbt/shopstream/target"  # the Astro image's project folder


class _Forbidden(AssertionError):
    pass


def _load_dags(dag_folder: str = str(DAGS_DIR)) -> DagBag:
    """Load the DAGs with subprocesses and database sessions forbidden: a DAG file that starts dbt
    or queries the metadata DB at import time fails to import here."""

    def forbid(*args: object, **kwargs: object) -> None:
        raise _Forbidden(f"called at DAG import time: {args!r:.200}")

    with (
        mock.patch.object(subprocess.Popen, "__init__", forbid),
        mock.patch("airflow.settings.Session", side_effect=forbid),
        mock.patch("sqlalchemy.orm.Session.__init__", forbid),
    ):
        return DagBag(dag_folder=dag_folder)


@pytest.fixture(scope="module")
def dagbag() -> Iterator[DagBag]:
    yield _load_dags()


def _elt_for_target(target: str):
    """The ELT DAG as a deployment with this dbt target parses it (the target is read at parse time)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(DBT_TARGET_ENV, target)
        bag = _load_dags(str(dag_file(ELT_DAG_ID)))
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags[ELT_DAG_ID]


@pytest.fixture(scope="module")
def elt_cloud():
    return _elt_for_target(CLOUD_DBT_TARGET)


@pytest.fixture(scope="module")
def elt_embedded():
    return _elt_for_target(EMBEDDED_DBT_TARGET)


@pytest.fixture(scope="module")
def elt(dagbag: DagBag):
    return dagbag.dags[ELT_DAG_ID]


def test_no_import_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}, "\n".join(f"{k}: {v}" for k, v in dagbag.import_errors.items())
    assert ELT_DAG_ID in dagbag.dags


def test_dag_conventions(dagbag: DagBag) -> None:
    """Tags, no catch-up, an owner and a time limit on every task, a run timeout on the pipeline."""
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must not catch up"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
    elt = dagbag.dags[ELT_DAG_ID]
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


def _task_group_of(unique_id: str, manifest: dbt_manifest.Manifest) -> str:
    """Cosmos names a model's tasks after the model, a source's after `<source>_<table>`."""
    if unique_id.startswith("source."):
        source = manifest.sources()[unique_id]
        return f"dbt.{source['source_name']}_{source['name']}"
    return f"dbt.{manifest.nodes()[unique_id]['name']}"


def test_every_dbt_node_has_its_task(elt) -> None:
    """One producer runs `dbt build`; each model gets `.run` and `.test` tasks that follow it, each
    snapshot `.snapshot`, each source `.source` and `.test`."""
    manifest = dbt_manifest.load()
    task_ids = set(elt.task_ids)
    assert "dbt.dbt_producer_watcher" in task_ids
    nodes = manifest.nodes("model", "snapshot")
    assert nodes, "the manifest has no model"
    tests = list(manifest.nodes("test").values())
    for uid, node in nodes.items():
        suffix = "run" if node["resource_type"] == "model" else "snapshot"
        assert f"{_task_group_of(uid, manifest)}.{suffix}" in task_ids, f"no task follows {uid}"
        tested = any(uid in n["depends_on"]["nodes"] for n in tests)
        if tested:
            assert f"{_task_group_of(uid, manifest)}.test" in task_ids, f"no task follows the tests of {uid}"
    for uid, source in manifest.sources().items():
        # Cosmos renders the sources with freshness or tests (the delete log has neither, on purpose).
        checked = source.get("freshness") or any(uid in n["depends_on"]["nodes"] for n in tests)
        assert bool(checked) == (f"{_task_group_of(uid, manifest)}.source" in task_ids), f"{uid}"


def test_the_dags_dbt_commands_leave_the_unit_tests_to_ci(elt) -> None:
    """Every dbt task runs with DBT_EXCLUDE_RESOURCE_TYPES=unit_test: the project has unit tests, whose
    fixed inputs CI proves (tests/integration/test_warehouse_dbt.py), not each daily run."""
    from include.shopstream import dbt_manifest

    assert dbt_manifest.load().data["unit_tests"], "the project has no unit test left"
    dbt_tasks = [t for t in elt.tasks if t.task_id.startswith("dbt.") and hasattr(t, "env")]
    assert dbt_tasks
    assert all(t.env.get("DBT_EXCLUDE_RESOURCE_TYPES") == "unit_test" for t in dbt_tasks)


def test_dbt_runs_after_every_load(elt) -> None:
    producer = elt.get_task("dbt.dbt_producer_watcher")
    upstream = {t.task_id for t in producer.get_flat_relatives(upstream=True)}
    for table in EXTRACTED_TABLES:
        assert f"load.{table.name}.insert_new_versions" in upstream


def test_a_failed_extract_stops_its_own_load_and_dbt_only(elt) -> None:
    """Schema drift fails one table's extract: the other tables still load, dbt (all loads) waits."""
    producer = elt.get_task("dbt.dbt_producer_watcher")
    assert producer.trigger_rule == "all_success"
    for table in TABLES:
        downstream = {t.task_id for t in elt.get_task(f"extract.{table.name}").get_flat_relatives(upstream=False)}
        loads = {t for t in downstream if t.startswith("load.")}
        assert loads == {f"load.{table.name}.copy_into", f"load.{table.name}.insert_new_versions"}, loads
        assert producer.task_id in downstream


def test_each_test_counts_for_the_model_it_checks(elt) -> None:
    """A relationships test gates the child model's `.test` task, not the parent's; no model's
    `.test` task is left waiting for tests that no longer count for it."""
    producer = elt.get_task("dbt.dbt_producer_watcher")
    counted = producer.tests_per_model
    fct_events, dim_customers = "model.shopstream.fct_events", "model.shopstream.dim_customers"
    relationship = next(
        uid for uid, n in dbt_manifest.load().nodes("test").items()
        if set(n["depends_on"]["nodes"]) == {fct_events, dim_customers}
    )
    assert relationship in counted[fct_events]
    assert relationship not in counted[dim_customers]
    assert all(counted.values()), [model for model, tests in counted.items() if not tests]


def test_the_cloud_publishes_dbt_docs_to_the_bucket_airflow_serves(elt_cloud) -> None:
    """On a real warehouse the last task generates the docs with the catalog, after a green dbt build,
    and uploads them where the cloud's AIRFLOW__COSMOS__DBT_DOCS_PROJECTS points, by connection id."""
    from cosmos.operators.local import DbtDocsS3LocalOperator

    docs = elt_cloud.get_task("publish_dbt_docs")
    assert isinstance(docs, DbtDocsS3LocalOperator)
    assert docs.base_cmd == ["docs", "generate"]
    assert "--empty-catalog" not in (docs.dbt_cmd_flags or []), "the cloud's docs carry the warehouse's catalog"
    assert (docs.connection_id, docs.bucket_name, docs.folder_dir) == (AWS_CONN_ID, S3_BUCKET, DBT_DOCS_S3_PREFIX)
    assert docs.profile_config.target_name == CLOUD_DBT_TARGET
    assert docs.profile_config.profile_mapping.conn_id == "snowflake_shopstream"
    assert docs.dbt_executable_path == dbt_executable()
    assert docs.trigger_rule == "all_success", "docs of a failed build must not be published, nor hide it"

    served = json.loads(dbt_docs_projects_setting(dbt_docs_s3_dir()))[DBT_DOCS_PROJECT]
    assert served["dir"] == f"s3://{docs.bucket_name}/{docs.folder_dir}"
    assert served["conn_id"] == docs.connection_id
    assert set(docs.required_files) == {"index.html", "manifest.json", "catalog.json"}

    # After every dbt task, and the DAG's only leaf: the run's state is still the build's.
    dbt_tasks = {t.task_id for t in elt_cloud.tasks if t.task_id.startswith("dbt.")}
    assert {t.task_id for t in docs.get_flat_relatives(upstream=True)} >= dbt_tasks
    assert [t.task_id for t in elt_cloud.tasks if not t.downstream_task_ids] == ["publish_dbt_docs"]


def test_the_embedded_stack_publishes_no_docs_and_serves_its_own(elt_embedded, elt_cloud) -> None:
    """The emulator has no catalog worth publishing: no docs task, the docs served from target/."""
    assert "publish_dbt_docs" not in elt_embedded.task_ids
    assert set(elt_cloud.task_ids) - set(elt_embedded.task_ids) == {"publish_dbt_docs"}
    with pytest.MonkeyPatch.context() as env:
        env.setenv(DBT_TARGET_ENV, EMBEDDED_DBT_TARGET)
        served = json.loads(dbt_docs_projects_setting())[DBT_DOCS_PROJECT]
    assert served == {"dir": str(DBT_PROJECT_DIR / "target"), "index": "index.html", "name": served["name"]}


def _setting_in_env_file(text: str) -> str:
    found = re.findall(r"^AIRFLOW__COSMOS__DBT_DOCS_PROJECTS=(.+)$", text, re.MULTILINE)
    assert len(found) == 1, f"expected one uncommented AIRFLOW__COSMOS__DBT_DOCS_PROJECTS line, got {found}"
    return found[0]


def test_the_documented_docs_settings_are_the_config_ones() -> None:
    """.env.example (the Deployment's variables) and the stand-ins' compose file hold what config.py
    computes, so the folder the DAG uploads to is the folder the UI reads; the image sets neither."""
    env_example = (PROJECT_ROOT / ".env.example").read_text()
    bucket = re.search(r"^SHOPSTREAM_S3_BUCKET=(.+)$", env_example, re.MULTILINE).group(1)
    assert json.loads(_setting_in_env_file(env_example)) == json.loads(
        dbt_docs_projects_setting(dbt_docs_s3_dir(bucket)))
    assert "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS=" not in (PROJECT_ROOT / "Dockerfile").read_text(), (
        "the docs' place depends on the target and the bucket: the Deployment (cloud) or the compose file "
        "(stand-ins) sets it, not the image")
    compose = PROJECT_ROOT / "docker-compose.override.yml"
    if compose.exists():  # not in the image's build context (.dockerignore)
        services = yaml.safe_load(compose.read_text())["services"]
        for name in ("scheduler", "api-server", "triggerer", "dag-processor"):
            stand_ins = services[name]["environment"]["AIRFLOW__COSMOS__DBT_DOCS_PROJECTS"]
            assert json.loads(stand_ins) == json.loads(dbt_docs_projects_setting(IMAGE_DBT_TARGET_DIR)), name


REPORT_TASK_ID = f"dbt.{REPORT_EXPOSURE}_exposure"


def test_the_report_is_published_after_the_marts_it_reads(elt) -> None:
    """The exposure's task follows the `.run` and `.test` tasks of every model the exposure depends on,
    and on the embedded stack (the tests' environment) it renders the previews. In the Astro image
    (no embedded/: the cloud target, no Power BI variables) it says why it skips the refresh."""
    from include.shopstream.config import is_embedded
    from include.shopstream.publish import render_previews, skip_refresh

    marts = dbt_manifest.load().exposure_models(REPORT_EXPOSURE)
    assert "mart_sales_overview" in marts, marts
    report = elt.get_task(REPORT_TASK_ID)
    upstream = {t.task_id for t in report.get_flat_relatives(upstream=True)}
    for mart in marts:
        assert {f"dbt.{mart}.run", f"dbt.{mart}.test"} <= upstream, f"the report does not wait for {mart}"
    assert report.python_callable is (render_previews if is_embedded() else skip_refresh)


def test_cosmos_converts_the_exposure_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Cosmos warns "Unavailable conversion function" at parse for a node it cannot render; the
    exposure has a converter, and no node of the project is left without one."""
    with caplog.at_level(logging.WARNING):
        bag = DagBag(dag_folder=str(dag_file(ELT_DAG_ID)))
    assert bag.import_errors == {}
    assert REPORT_TASK_ID in bag.dags[ELT_DAG_ID].task_ids
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


# The cloud's DAG, parsed with the local-only packages (the project's and the report tooling's
# dependencies) made unimportable.
_CLOUD_PARSE = """
import json, sys
for name in {local_only!r}:
    sys.modules[name] = None  # an import of it raises ImportError, as in the Astro image
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder={dag_file!r})
task = bag.dags[{dag_id!r}].get_task({task_id!r}) if not bag.import_errors else None
print(json.dumps({{
    "errors": {{k: str(v)[-2000:] for k, v in bag.import_errors.items()}},
    "operator": type(task).__name__ if task else None,
    "group_id": getattr(task, "group_id", None), "dataset_id": getattr(task, "dataset_id", None),
    "conn_id": getattr(task, "conn_id", None),
    "loaded": sorted(m for m in sys.modules if sys.modules[m] is not None
                     and (m.split(".")[0] in {packages!r} or m in {local_only!r})),
}}))
"""


def test_the_cloud_dag_refreshes_power_bi_without_local_only_packages() -> None:
    """In the cloud (target `cloud`, workspace and dataset set) the report task is the Azure provider's
    PowerBIDatasetRefreshOperator on the `powerbi_shopstream` connection, and parsing the DAG
    imports neither the previews nor a package the Astro image lacks."""
    pytest.importorskip("airflow.providers.microsoft.azure", reason="cloud only: the Azure provider is in the "
                        "Astro image, not the embedded venv (requirements/cloud-only.txt); tests/astro runs this")
    import os
    import sys

    from include.shopstream.config import LOCAL_ONLY_PACKAGES, POWERBI_CONN_ID

    env = {**os.environ, DBT_TARGET_ENV: CLOUD_DBT_TARGET,
           "SHOPSTREAM_POWERBI_WORKSPACE_ID": "11111111-2222-3333-4444-555555555555",
           "SHOPSTREAM_POWERBI_DATASET_ID": "66666666-7777-8888-9999-000000000000"}
    code = _CLOUD_PARSE.format(local_only=["matplotlib", "sqlglot", "detect_secrets", *LOCAL_ONLY_PACKAGES],
                               packages=LOCAL_ONLY_PACKAGES,
                               dag_file=str(dag_file(ELT_DAG_ID)), dag_id=ELT_DAG_ID, task_id=REPORT_TASK_ID)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False,
                          cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {}, parsed["errors"]
    assert parsed["operator"] == "PowerBIDatasetRefreshOperator"
    assert (parsed["group_id"], parsed["dataset_id"], parsed["conn_id"]) == (
        env["SHOPSTREAM_POWERBI_WORKSPACE_ID"], env["SHOPSTREAM_POWERBI_DATASET_ID"], POWERBI_CONN_ID)
    assert parsed["loaded"] == [], f"the cloud's DAG parse imported {parsed['loaded']}"
