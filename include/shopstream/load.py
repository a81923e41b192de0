"""Loading one day's Parquet files from the S3 stage into Snowflake's RAW tables."""

from __future__ import annotations

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.snowflake.transfers.copy_into_snowflake import CopyFromExternalStageToSnowflakeOperator
from airflow.sdk import TaskGroup

from include.shopstream.config import (
    PARTITION_DS,
    RAW_FILE_FORMAT,
    RAW_SCHEMA,
    RAW_STAGE,
    S3_BUCKET,
    S3_RAW_PREFIX,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SNOWFLAKE_STORAGE_INTEGRATION,
    SourceTable,
    s3_partition,
)
from include.shopstream.extract import source_file_uri


def setup_warehouse_task() -> SQLExecuteQueryOperator:
    """Create the database, RAW schema, file format, stage and RAW tables if they are missing."""
    return SQLExecuteQueryOperator(
        task_id="setup_warehouse",
        conn_id=SNOWFLAKE_CONN_ID,
        sql="sql/snowflake/raw_objects.sql",  # found through the DAG's template_searchpath
        split_statements=True,
        params={
            "database": SNOWFLAKE_DATABASE,
            "file_format": RAW_FILE_FORMAT,
            "stage": RAW_STAGE,
            "bucket": S3_BUCKET,
            "prefix": S3_RAW_PREFIX,
            "storage_integration": SNOWFLAKE_STORAGE_INTEGRATION,
        },
    )


def load_group(table: SourceTable) -> TaskGroup:
    """clear_partition >> copy_into >> stamp_load_time, for one table and day.

    A re-run first deletes what this day's file loaded before, so loading twice never appends twice.
    COPY's load history would skip an unchanged file and load a replaced one on top of the old rows,
    so the copy is forced and the clear step owns idempotency. The load time is stamped by SQL after
    the copy because the Parquet file cannot know it.
    """
    raw_table = f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{table.raw_table}"
    this_file = f"_source_file = '{source_file_uri(table.name)}'"
    with TaskGroup(group_id=table.name) as group:
        clear = SQLExecuteQueryOperator(
            task_id="clear_partition",
            conn_id=SNOWFLAKE_CONN_ID,
            sql=f"delete from {raw_table} where {this_file}",
        )
        copy = CopyFromExternalStageToSnowflakeOperator(
            task_id="copy_into",
            snowflake_conn_id=SNOWFLAKE_CONN_ID,
            database=SNOWFLAKE_DATABASE,
            schema=RAW_SCHEMA,
            table=table.raw_table,
            stage=f"{SNOWFLAKE_DATABASE}.{RAW_STAGE}",
            prefix=f"{table.name}/",
            files=[s3_partition(table.name, PARTITION_DS)],
            file_format=f"(format_name = '{SNOWFLAKE_DATABASE}.{RAW_FILE_FORMAT}')",
            copy_options="match_by_column_name = case_insensitive force = true on_error = abort_statement",
        )
        stamp = SQLExecuteQueryOperator(
            task_id="stamp_load_time",
            conn_id=SNOWFLAKE_CONN_ID,
            sql=f"update {raw_table} set _loaded_at = current_timestamp() where {this_file} and _loaded_at is null",
        )
        clear >> copy >> stamp
    return group
