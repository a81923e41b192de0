"""The dbt project as a Cosmos task group: one `dbt build`, one Airflow task per model, snapshot, source and test.

Cosmos' WATCHER execution mode runs the whole project as a single ``dbt build`` in a producer task
(``dbt.dbt_producer_watcher``) and gives every dbt node its own task that follows the producer's
results (deferred to the triggerer while it waits). The pipeline pays for one dbt process instead of
one per node, and keeps the per-model view: a model's task fails when dbt fails that model, and
``dbt build`` itself skips what sits below a failing model or error-severity test (relationships
tests included), so their tasks fail too. Retrying or clearing one model's task runs
``dbt run --select <model>`` for that model alone; clearing it with its downstream re-runs its lineage.
docs/architecture.md compares this mode with the one-process-per-task modes it replaced.

On a real warehouse, ``publish_dbt_docs`` follows the group: `dbt docs generate` with the warehouse's
catalog, uploaded to S3, where Airflow's dbt docs view reads it (config.dbt_docs_projects_setting).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from cosmos import (
    DbtResourceType,
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    SourceRenderingBehavior,
    TestBehavior,
)
from cosmos.profiles import SnowflakeEncryptedPrivateKeyPemProfileMapping

from include.shopstream import dbt_manifest
from include.shopstream.config import (
    AWS_CONN_ID,
    DBT_BUILD_TIMEOUT,
    DBT_DOCS_S3_PREFIX,
    DBT_MANIFEST_PATH,
    DBT_PROJECT_DIR,
    DBT_TARGET_SCHEMA,
    FAULT_INJECTION_VARIABLE,
    S3_BUCKET,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    dbt_executable,
    dbt_target,
    dbt_threads,
)
from include.shopstream.publish import report_node_converter


def no_task_for_project_hooks(**_cosmos: Any) -> None:
    """Cosmos node converter for dbt operations (the project's on-run-end hook): no task of their own.

    The hook (``record_test_results``, dbt_project.yml) runs inside the producer's `dbt build`, and in
    any dbt command a cleared task runs; a converter that returns None renders nothing.
    """
    return None


# dbt resource types that Cosmos renders through the project's own converters.
NODE_CONVERTERS = {
    DbtResourceType.EXPOSURE: report_node_converter,
    DbtResourceType("operation"): no_task_for_project_hooks,
}


class _ConvertedNodeWarningFilter(logging.Filter):
    """Drops Cosmos' "Unavailable conversion function" warning for the types NODE_CONVERTERS converts.

    Cosmos 1.15.1 (the latest release) logs that warning from ``create_task_metadata`` for every node
    type it has no operator of its own for, *before* it looks at ``RenderConfig.node_converters``, and
    then converts the node all the same. The warning would be false at every parse; a type without a
    converter keeps it.
    """

    def __init__(self, resource_types: list[DbtResourceType]) -> None:
        super().__init__()
        self.markers = [f"Unavailable conversion function for <{t}>" for t in resource_types]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(marker in message for marker in self.markers)


def _quiet_the_warning_for_converted_nodes() -> None:
    cosmos_graph_log = logging.getLogger("cosmos.airflow.graph")
    if not any(isinstance(f, _ConvertedNodeWarningFilter) for f in cosmos_graph_log.filters):
        cosmos_graph_log.addFilter(_ConvertedNodeWarningFilter(list(NODE_CONVERTERS)))

if TYPE_CHECKING:
    from cosmos.operators.local import DbtDocsS3LocalOperator

# dbt sees only the variables Cosmos passes (it does not forward the worker's environment to the
# group's tasks); no usage data leaves from a dbt process.
DBT_NO_TELEMETRY = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
# The DAG's dbt commands skip the unit tests: their inputs are fixed in the yml, so a daily run would
# re-prove the same logic (dbt's docs advise running them in development and CI only). CI runs them:
# tests/integration/test_warehouse_dbt.py builds the whole project. Cosmos renders no task for them.
DBT_SKIP_UNIT_TESTS = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}


def dbt_task_group() -> DbtTaskGroup:
    """The project's DbtTaskGroup, each test counted for the model it checks (see below), and the
    report's exposure rendered as the task that publishes the report (include/shopstream/publish.py)."""
    _quiet_the_warning_for_converted_nodes()
    group = _watcher_task_group()
    _count_tests_for_the_downstream_model(group)
    return group


def publish_dbt_docs_task() -> DbtDocsS3LocalOperator:
    """`dbt docs generate` against the warehouse, then the site uploaded to S3 for Airflow's docs view.

    The docs carry the warehouse's catalog (column types and statistics of what the build just made),
    which a parse-time build cannot. The three files land as
    ``s3://<S3_BUCKET>/dbt-docs/shopstream/{index.html,manifest.json,catalog.json}``, replaced at each
    run, through the connection ``aws_shopstream``; ``AIRFLOW__COSMOS__DBT_DOCS_PROJECTS`` points the
    UI at that folder (config.dbt_docs_projects_setting). Same dbt venv, profile and target as the
    build. Wired after the dbt group with the default trigger rule: published only after a green
    build, so a failed model never publishes docs (nor hides the failure behind a green last task).
    Only for a real warehouse (config.warehouse_builds_dbt_docs); the DAG does not add it otherwise.
    """
    from cosmos.operators.local import DbtDocsS3LocalOperator

    return DbtDocsS3LocalOperator(
        task_id="publish_dbt_docs",
        project_dir=str(DBT_PROJECT_DIR),
        profile_config=_profile_config(),
        dbt_executable_path=dbt_executable(),
        invocation_mode=InvocationMode.SUBPROCESS,
        connection_id=AWS_CONN_ID,
        bucket_name=S3_BUCKET,
        folder_dir=DBT_DOCS_S3_PREFIX,
        env=DBT_NO_TELEMETRY,
    )


def run_node_alone_after_a_clear(context: Any) -> None:
    """In a run that was cleared, a node task runs its own dbt command instead of reading the build's.

    Cosmos makes a node task that runs again (try 2 or later) run `dbt run/test --select <node>` by
    itself, but a node task that never ran (`upstream_failed` below a failed model) starts its first
    try after a clear and reads the producer's result from before the clear: the failure, or the
    skip dbt recorded then. So "clear with downstream" would fail the lineage again without running
    it. Here such a task is treated as the retry it is.
    """
    from cosmos.operators._watcher.base import BaseConsumerSensor

    ti, dag_run = context["ti"], context["dag_run"]
    if isinstance(ti.task, BaseConsumerSensor) and (dag_run.clear_number or 0) > 0 and ti.try_number == 1:
        ti.try_number = 2


def _count_tests_for_the_downstream_model(group: DbtTaskGroup) -> None:
    """Count a test with several parents toward its most downstream parents only.

    Cosmos' producer reports a model's `.test` task once every test depending on the model has a
    result, and counts a test with two parents for both. A relationships test from `fct_events`
    to `dim_customers` would then also gate `dim_customers.test`: when `fct_events` fails, dbt skips
    that test and Cosmos fails `dim_customers.test` (and the tasks below it), although nothing of
    `dim_customers` failed. A generic test counts for the model it is defined on (dbt's
    `attached_node`: the child, whose foreign key it checks); a singular test spanning several models
    for the deepest of them (the most ancestors), which dbt builds last. (Parse time only; no model is
    left without a test by this, which the DAG integrity test checks.)
    """
    from cosmos.operators.watcher import DbtProducerWatcherOperator

    producer = next(t for t in group.children.values() if isinstance(t, DbtProducerWatcherOperator))
    depends_on = {uid: set(node.depends_on) for uid, node in group.dbt_graph.nodes.items()}
    attached = dbt_manifest.load().test_attached_nodes()
    ancestors: dict[str, set[str]] = {}

    def ancestors_of(uid: str) -> set[str]:
        if uid not in ancestors:
            ancestors[uid] = set()
            for parent in depends_on.get(uid, ()):
                ancestors[uid] |= {parent} | ancestors_of(parent)
        return ancestors[uid]

    def counts_for(model: str, test: str) -> bool:
        parents = depends_on.get(test, {model})
        if attached.get(test) in parents:
            return model == attached[test]
        deepest = max(len(ancestors_of(parent)) for parent in parents)
        return len(ancestors_of(model)) == deepest

    producer.tests_per_model = {
        model: [test for test in tests if counts_for(model, test)]
        for model, tests in producer.tests_per_model.items()
    }


def _profile_config() -> ProfileConfig:
    """dbt's profile, built by Cosmos from the connection ``snowflake_shopstream`` (no profiles.yml secret)."""
    return ProfileConfig(
        profile_name="shopstream",
        # The target's name also chooses dbt's macro path: the embedded target's adds the emulator's
        # shims (dbt_project.yml, emulator_shims/); the cloud runs dbt-snowflake's own macros.
        target_name=dbt_target(),
        profile_mapping=SnowflakeEncryptedPrivateKeyPemProfileMapping(
            conn_id=SNOWFLAKE_CONN_ID,
            profile_args={"database": SNOWFLAKE_DATABASE, "schema": DBT_TARGET_SCHEMA, "threads": dbt_threads()},
        ),
    )


def _watcher_task_group() -> DbtTaskGroup:
    """Render the project from its manifest: no dbt process and no database at DAG parse time.

    The producer has no Airflow retry (Cosmos skips a second ``dbt build``): its failures are the
    models' failures, reported by their own tasks. Node tasks do not retry either: a failing model
    or data test fails the same way twice, and a transient one is fixed by clearing that task,
    which re-runs just that model.
    """
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST_PATH,
            project_name="shopstream",
            install_dbt_deps=False,  # the project has no packages: no `dbt deps` per task
            # dbt sees only these variables (Cosmos does not pass the worker's environment on):
            # the fault-injection switch (macros/fault_injection.sql), rendered at each task's run.
            env_vars={
                "SHOPSTREAM_DBT_FAIL_MODELS": "{{ var.value.get('" + FAULT_INJECTION_VARIABLE + "', '') }}",
                **DBT_NO_TELEMETRY,
                **DBT_SKIP_UNIT_TESTS,
            },
        ),
        profile_config=_profile_config(),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # dbt lives in its own venv (its pins never move Airflow's), so it runs as a subprocess.
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=dbt_executable(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            # Sources become tasks too (freshness and their tests), so RAW is checked before staging.
            source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
            # The report's exposure becomes the task that publishes it, below the marts it reads
            # (include/shopstream/publish.py); Cosmos has no task of its own for an exposure.
            node_converters=NODE_CONVERTERS,
        ),
        operator_args={
            "pre_execute": run_node_alone_after_a_clear,
            "retries": 0,
            "execution_timeout": DBT_BUILD_TIMEOUT,
            # Node tasks wait in a worker slot, reading the producer's results every 2 s, rather
            # than deferring: on Airflow 3.3.2 a trigger that fires right after its task deferred can
            # race the scheduler, which then fails a task whose dbt node passed (apache/airflow
            # #67287, #72716). Waiting in a slot also starts one process per node instead of two.
            "deferrable": False,
            "poke_interval": 2,
        },
        default_args={"retries": 0, "execution_timeout": DBT_BUILD_TIMEOUT},
    )

