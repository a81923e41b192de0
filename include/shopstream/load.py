"""Loading each run's Parquet files from the S3 stage into Snowflake's RAW tables, exactly once per row version.

Per table, two tasks:

1. ``copy_into``: CopyFromExternalStageToSnowflakeOperator copies this run's folder (its Parquet
   parts, include/shopstream/extract.py) into the table's landing table (``RAW.<TABLE>__LANDING``). A
   retry copies it again (``force``): landing may hold the folder twice, which the next step absorbs.
2. ``insert_new_versions``: one INSERT adds to RAW the versions, keyed by (primary key, updated_at)
   (``deleted_at`` for the delete log, whose rows never change),
   that RAW does not hold yet, stamped with the load time in UTC; then the folder's landing rows go.

A version already in RAW is never inserted again and nothing is ever deleted from RAW, so full and
daily loads never undo each other, and any task can be retried or cleared alone any number of times.
The insert is one statement: a crash leaves RAW either without or with the whole folder's new versions.
"""

from __future__ import annotations

import functools

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.snowflake.transfers.copy_into_snowflake import CopyFromExternalStageToSnowflakeOperator
from airflow.sdk import TaskGroup

from include.shopstream.config import (
    EXTRACTED_TABLES,
    LOADER_SESSION,
    RAW_FILE_FORMAT,
    RAW_SCHEMA,
    RAW_STAGE,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SQL_DIR,
    SourceTable,
)
from include.shopstream.extract import planned
from include.shopstream.schema_contract import raw_columns

INSERT_NEW_VERSIONS_SQL = """\
insert into {raw} ({columns}, _source_file, _loaded_at)
select distinct {landing_columns}, landing._source_file, sysdate()
from {landing} as landing
where startswith(landing._source_file, %(folder)s)
  and not exists (
      select 1
      from {raw} as raw
      where raw.{primary_key} = landing.{primary_key}
        and raw.{changed_at} = landing.{changed_at}
  );
delete from {landing} where startswith(_source_file, %(folder)s);
"""


def raw_objects_sql(raw_schema: str) -> str:
    """include/sql/snowflake/raw_objects.sql rendered for ``raw_schema`` (``DATABASE.SCHEMA``): a
    ``create table if not exists`` per RAW table and per landing table, columns from the data contract
    (``schema_contract.raw_columns``)."""
    import jinja2

    template = jinja2.Template((SQL_DIR / "snowflake" / "raw_objects.sql").read_text())
    tables = [
        {"raw_table": t.raw_table, "landing_table": t.landing_table, "columns": raw_columns(t)}
        for t in EXTRACTED_TABLES
    ]
    return template.render(params={"raw_schema": raw_schema, "tables": tables})


@functools.cache
def warehouse_objects_sql() -> str:
    """The RAW and landing tables' DDL (``raw_objects_sql``) with names from include/shopstream/config.py only.

    Rendered here, once per parse, rather than by Airflow at run time: Airflow lets a run's conf
    override task params, and object names must never come from a trigger.
    """
    return raw_objects_sql(f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}")


def setup_warehouse_task() -> SQLExecuteQueryOperator:
    """Create the RAW and landing tables if they are missing (as LOADER)."""
    return SQLExecuteQueryOperator(
        task_id="setup_warehouse",
        conn_id=SNOWFLAKE_CONN_ID,
        hook_params=LOADER_SESSION,
        sql=warehouse_objects_sql(),
        split_statements=True,
    )


def insert_new_versions_sql(table: SourceTable) -> str:
    schema = f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}"
    return INSERT_NEW_VERSIONS_SQL.format(
        raw=f"{schema}.{table.raw_table}",
        landing=f"{schema}.{table.landing_table}",
        columns=", ".join(table.column_names),
        landing_columns=", ".join(f"landing.{c}" for c in table.column_names),
        primary_key=table.primary_key,
        changed_at=table.changed_at,
    )


class CopyFolderFromStageOperator(CopyFromExternalStageToSnowflakeOperator):
    """CopyFromExternalStageToSnowflakeOperator whose ``prefix`` (the folder below the stage) is
    templated too: a run's extract is a folder of parts whose number only its extract knows."""

    template_fields = (*CopyFromExternalStageToSnowflakeOperator.template_fields, "prefix")


def load_group(table: SourceTable) -> TaskGroup:
    """copy_into >> insert_new_versions, for one table and run."""
    with TaskGroup(group_id=table.name) as group:
        copy = CopyFolderFromStageOperator(
            task_id="copy_into",
            snowflake_conn_id=SNOWFLAKE_CONN_ID,
            database=SNOWFLAKE_DATABASE,
            schema=RAW_SCHEMA,
            table=table.landing_table,
            stage=f"{SNOWFLAKE_DATABASE}.{RAW_STAGE}",
            # The run's folder below the stage's own prefix, as planned: every part in it.
            prefix=planned(table.name, "stage_path"),
            file_format=f"(format_name = '{SNOWFLAKE_DATABASE}.{RAW_FILE_FORMAT}')",
            copy_options="match_by_column_name = case_insensitive force = true on_error = abort_statement",
            **LOADER_SESSION,
        )
        insert = SQLExecuteQueryOperator(
            task_id="insert_new_versions",
            conn_id=SNOWFLAKE_CONN_ID,
            sql=insert_new_versions_sql(table),
            parameters={"folder": planned(table.name, "folder")},
            split_statements=True,
            hook_params=LOADER_SESSION,
        )
        copy >> insert
    return group

