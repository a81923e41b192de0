"""Extraction from PostgreSQL to the S3 landing zone, one Parquet file per table and day."""

from __future__ import annotations

from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator

from include.shopstream.config import (
    AWS_CONN_ID,
    PARTITION_DS,
    POSTGRES_CONN_ID,
    S3_BUCKET,
    SOURCE_SCHEMA,
    SourceTable,
    s3_key,
)

# Rows changed in the run's data interval, a half-open window, so consecutive runs never extract a
# change twice or miss one. With the `full_history` param: every row created before the interval's
# end, in its current version (a first load, or a reload of a warehouse that lost its data).
CHANGED_ROWS_SQL = """\
select {select_list},
       '{source_file}' as _source_file
from {schema}.{table}
{{% if params.full_history %}}where created_at < '{{{{ data_interval_end }}}}'
{{% else %}}where updated_at >= '{{{{ data_interval_start }}}}'
  and updated_at < '{{{{ data_interval_end }}}}'
{{% endif %}}order by {primary_key}
"""


def source_file_uri(table: str) -> str:
    """The Parquet file of a run, as recorded in RAW's ``_source_file`` (a Jinja template)."""
    return f"s3://{S3_BUCKET}/{s3_key(table, PARTITION_DS)}"


def changed_rows_query(table: SourceTable) -> str:
    return CHANGED_ROWS_SQL.format(
        select_list=table.select_list,
        source_file=source_file_uri(table.name),
        schema=SOURCE_SCHEMA,
        table=table.name,
        primary_key=table.primary_key,
    )


def extract_task(table: SourceTable) -> SqlToS3Operator:
    """Write one table's changed rows to its deterministic key; a re-run replaces the object."""
    return SqlToS3Operator(
        task_id=table.name,
        sql_conn_id=POSTGRES_CONN_ID,
        aws_conn_id=AWS_CONN_ID,
        query=changed_rows_query(table),
        s3_bucket=S3_BUCKET,
        s3_key=s3_key(table.name, PARTITION_DS),
        file_format="parquet",
        replace=True,
        # Arrow-backed columns keep Postgres types: decimals stay decimals, nullable integers stay
        # integers, timestamps keep their time zone.
        read_kwargs={"dtype_backend": "pyarrow"},
    )
