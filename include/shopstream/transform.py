"""The dbt project as a Cosmos task group: one Airflow task per dbt model, seed, snapshot and test."""

from __future__ import annotations

import os

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
    DBT_MANIFEST_PATH,
    DBT_PROJECT_DIR,
    DBT_TARGET_SCHEMA,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    dbt_executable,
)


def dbt_task_group() -> DbtTaskGroup:
    """Render the project from its manifest: no dbt process and no database at DAG parse time.

    Each model gets a run task and a test task after it (AFTER_EACH), so a failed model fails only
    its own task and its descendants, and clearing it re-runs its lineage only. Tests with several
    parents (relationships) get a task of their own that waits for all of them. Each source table
    gets a task checking its freshness and running its tests before the models that read it.
    """
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=DBT_MANIFEST_PATH,
            project_name="shopstream",
        ),
        profile_config=ProfileConfig(
            profile_name="shopstream",
            # "embedded" turns on the emulator-only macro overrides; the cloud keeps dbt's own.
            target_name=os.environ.get("SHOPSTREAM_DBT_TARGET", "cloud"),
            profile_mapping=SnowflakeEncryptedPrivateKeyPemProfileMapping(
                conn_id=SNOWFLAKE_CONN_ID,
                profile_args={"database": SNOWFLAKE_DATABASE, "schema": DBT_TARGET_SCHEMA, "threads": 2},
            ),
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=dbt_executable(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            should_detach_multiple_parents_tests=True,
            # Sources become tasks too (freshness and their tests), so RAW is checked before staging.
            source_rendering_behavior=SourceRenderingBehavior.WITH_TESTS_OR_FRESHNESS,
        ),
        operator_args={"install_deps": False},
    )
