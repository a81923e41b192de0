"""The dbt project as a Cosmos task group: one `dbt build`, one Airflow task per model, snapshot, source and test.

Cosmos' WATCHER execution mode runs the whole project as a single ``dbt build`` in a producer task
(``dbt.dbt_producer_watcher``) and gives every dbt node its own task that follows the producer's
results (deferred to the triggerer while it waits). The pipeline pays for one dbt process instead of
one per node, and keeps the per-model view: a model's task fails when dbt fails that model, and
``dbt build`` itself skips what sits below a failing model or error-severity test (relationships
tests included), so their tasks fail too. Retrying or clearing one model's task runs
``dbt run --select <model>`` for that model alone; clearing it with its downstream re-runs its lineage.
docs/architecture.md compares this mode with the one-process-per-task modes it replaced.
"""

from __future__ import annotations

from cosmos import (
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

from include.shopstream.config import (
    DBT_BUILD_TIMEOUT,
    DBT_MANIFEST_PATH,
    DBT_PROJECT_DIR,
    DBT_TARGET_SCHEMA,
    FAULT_INJECTION_VARIABLE,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    dbt_executable,
    dbt_target,
    dbt_threads,
)


def dbt_task_group() -> DbtTaskGroup:
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
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            },
        ),
        profile_config=ProfileConfig(
            profile_name="shopstream",
            # "embedded" turns on the emulator-only macro overrides; the cloud keeps dbt's own.
            target_name=dbt_target(),
            profile_mapping=SnowflakeEncryptedPrivateKeyPemProfileMapping(
                conn_id=SNOWFLAKE_CONN_ID,
                profile_args={"database": SNOWFLAKE_DATABASE, "schema": DBT_TARGET_SCHEMA, "threads": dbt_threads()},
            ),
        ),
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
        ),
        operator_args={
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

