"""Extraction from PostgreSQL to the S3 landing zone: what changed since the last load, one file per table and run.

`plan_extraction` runs first. It checks the run conf, then decides each table's window from what
RAW already holds, not from the run's data interval alone:

- ``since``: the latest ``updated_at`` in RAW (``deleted_at`` for the delete log) minus
  ``LATE_COMMIT_OVERLAP`` (``-infinity`` when RAW holds nothing, or with ``full_history``). Days the
  DAG did not run are therefore caught up by the next run, and a late-committing transaction is re-read.
- ``until``: the end of the run's data interval, or the moment it was planned for a manual run
  without a logical date (and for a full load, whatever the interval: every row as it is now).
  A backfill of an old day extracts nothing newer than that day.

The load (include/shopstream/load.py) keeps only the row versions RAW does not hold yet, so
overlapping windows, replays and retries never land a version twice.

Before its query, each extract compares its table's columns with the data contract
(include/shopstream/schema_contract.py): schema drift is reported, and a dropped or retyped column
fails that table's extraction at once.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator
from airflow.sdk import task

from include.shopstream.config import (
    AWS_CONN_ID,
    EXTRACTED_TABLES,
    LATE_COMMIT_OVERLAP,
    POSTGRES_CONN_ID,
    RAW_SCHEMA,
    RUN_CONF_KEYS,
    S3_BUCKET,
    S3_RAW_PREFIX,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SOURCE_SCHEMA,
    SourceTable,
    s3_key,
)

log = logging.getLogger(__name__)
PLAN_TASK_ID = "plan_extraction"
FULL_HISTORY = "-infinity"
TABLES_BY_NAME_EXTRACTED = {t.name: t for t in EXTRACTED_TABLES}

CHANGED_ROWS_SQL = """\
select {select_list},
       %(source_file)s as _source_file
from {schema}.{table}
where {changed_at} >= %(since)s::timestamptz
  and {changed_at} < %(until)s::timestamptz
order by {primary_key}
"""


class RunConfError(ValueError):
    """The run conf has a key the DAG does not accept, or a value of the wrong type."""


def check_run_conf(conf: dict[str, Any] | None) -> bool:
    """Validate a run's conf; returns its ``full_history`` flag.

    Raises ``RunConfError`` naming the offending key: run conf never reaches SQL text, and a typo
    must not pass silently.
    """
    conf = conf or {}
    unknown = sorted(set(conf) - RUN_CONF_KEYS)
    if unknown:
        raise RunConfError(
            f"run conf key(s) {unknown} not accepted; this DAG accepts only {sorted(RUN_CONF_KEYS)} "
            '(e.g. {"full_history": true}). Trigger it again without them.'
        )
    full_history = conf.get("full_history", False)
    if not isinstance(full_history, bool):
        raise RunConfError(f"run conf 'full_history' must be true or false, not {full_history!r}")
    return full_history


def run_key(run_id: str) -> str:
    """A run id made safe for an S3 key and a SQL literal (letters, digits, ``_``, ``-``, ``.``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)


def source_file_uri(table: str, ds: str, key: str) -> str:
    """The Parquet file of one run, as recorded in RAW's ``_source_file``."""
    return f"s3://{S3_BUCKET}/{s3_key(table, ds, key)}"


def raw_watermarks() -> dict[str, datetime | None]:
    """The latest ``updated_at`` RAW holds per table (``deleted_at`` for the delete log), in UTC.

    None for an empty or missing table.
    """
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID)
    marks: dict[str, datetime | None] = {}
    for table in EXTRACTED_TABLES:
        relation = f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{table.raw_table}"
        # Text, not a timestamp: the emulator shows a NULL timestamp as 1970-01-01.
        sql = f"select to_varchar(max({table.changed_at}), 'YYYY-MM-DD HH24:MI:SS.FF6') from {relation}"
        try:
            value = hook.get_first(sql)[0]
        except Exception as exc:  # the connector's ProgrammingError; the first run precedes the DDL
            if "does not exist" not in str(exc):
                raise
            value = None
        marks[table.name] = datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    return marks


def plan_windows(
    marks: dict[str, datetime | None], *, until: datetime, full_history: bool, now: datetime | None = None
) -> dict[str, dict[str, str]]:
    """Each table's extraction window as ISO strings ``{"since", "until"}`` (``since`` may be -infinity).

    ``until`` is the run's bound (its interval's end, or the planning time); a full load of a table
    (empty RAW, or ``full_history``) reads up to ``now`` whatever the interval.
    """
    now = now or datetime.now(UTC)
    windows = {}
    for table in EXTRACTED_TABLES:
        mark = None if full_history else marks.get(table.name)
        since = FULL_HISTORY if mark is None else (mark - LATE_COMMIT_OVERLAP).isoformat()
        # A full load takes every row as it is now: bounded by an older interval's end, it would
        # leave out a parent updated since (an order shipped later) and keep its children.
        end = max(until, now) if mark is None else until
        windows[table.name] = {"since": since, "until": end.isoformat()}
    return windows


@task(task_id=PLAN_TASK_ID)
def plan_extraction(**context: Any) -> dict[str, Any]:
    """Check the run conf, then plan every table's window and file for this run (an XCom dict)."""
    dag_run = context["dag_run"]
    full_history = check_run_conf(dag_run.conf)
    interval_end: datetime | None = context.get("data_interval_end")
    interval_start: datetime | None = context.get("data_interval_start")
    now = datetime.now(UTC)
    until = interval_end if interval_end is not None else now
    ds = (interval_start or now).strftime("%Y-%m-%d")
    key = run_key(dag_run.run_id)
    windows = plan_windows(raw_watermarks(), until=until, full_history=full_history, now=now)
    for name, window in windows.items():
        window["file"] = source_file_uri(name, ds, key)
        window["key"] = s3_key(name, ds, key)
        window["stage_path"] = window["key"].removeprefix(f"{S3_RAW_PREFIX}/")
        changed_at = TABLES_BY_NAME_EXTRACTED[name].changed_at
        log.info("%s: extract %s in [%s, %s) to %s", name, changed_at, window["since"], window["until"], window["file"])
    return {"ds": ds, "run_key": key, "tables": windows}


def planned(table: str, field: str) -> str:
    """A template reading one field of a table's plan (``since``, ``until``, ``file``, ``key``, ``stage_path``)."""
    return f"{{{{ ti.xcom_pull(task_ids='{PLAN_TASK_ID}')['tables']['{table}']['{field}'] }}}}"


class WindowedSqlToS3Operator(SqlToS3Operator):
    """SqlToS3Operator whose query parameters are templated too, so the window stays a bind parameter,
    and which checks its source table against the data contract before it reads a row."""

    template_fields = (*SqlToS3Operator.template_fields, "parameters")

    def __init__(self, *, source_table: SourceTable, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_table = source_table

    def execute(self, context: Any) -> None:
        """Check the schema (include/shopstream/schema_contract.py), then extract.

        A dropped or retyped column fails the task at once (``AirflowFailException``: a retry would
        meet the same schema) with what to do; an added or resized one is reported and the contract's
        columns are extracted.
        """
        from contextlib import closing

        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk.exceptions import AirflowFailException

        from include.shopstream.schema_contract import SchemaDriftError, check_source_table

        with closing(PostgresHook(postgres_conn_id=self.sql_conn_id).get_conn()) as conn:
            try:
                check_source_table(self.source_table, conn, context)
            except SchemaDriftError as drift:
                raise AirflowFailException(str(drift)) from drift
        super().execute(context)


def changed_rows_query(table: SourceTable) -> str:
    return CHANGED_ROWS_SQL.format(
        select_list=table.select_list,
        schema=SOURCE_SCHEMA,
        table=table.name,
        changed_at=table.changed_at,
        primary_key=table.primary_key,
    )


def extract_task(table: SourceTable) -> SqlToS3Operator:
    """Write one table's changed rows to this run's key; a retry or replay replaces the object."""
    return WindowedSqlToS3Operator(
        task_id=table.name,
        source_table=table,
        sql_conn_id=POSTGRES_CONN_ID,
        aws_conn_id=AWS_CONN_ID,
        query=changed_rows_query(table),
        # psycopg's `execute(query, params=...)`: the provider passes the mapping as keyword arguments
        # to polars' executor, so the bind parameters travel under their keyword name.
        parameters={"params": {
            "since": planned(table.name, "since"),
            "until": planned(table.name, "until"),
            "source_file": planned(table.name, "file"),
        }},
        s3_bucket=S3_BUCKET,
        s3_key=planned(table.name, "key"),
        file_format="parquet",
        replace=True,
        # polars keeps PostgreSQL numerics as decimals (Parquet decimal128): money stays exact.
        df_type="polars",
    )
