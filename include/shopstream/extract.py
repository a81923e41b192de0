"""Extraction from PostgreSQL to the S3 landing zone: what changed since the last load, one folder per table and run.

`plan_extraction` runs first. It checks the run conf, then decides each table's window from what
RAW already holds, not from the run's data interval alone:

- ``since``: the latest ``updated_at`` in RAW (``deleted_at`` for the delete log) minus
  ``LATE_COMMIT_OVERLAP`` (``-infinity`` when RAW holds nothing, or with ``full_history``). Days the
  DAG did not run are therefore caught up by the next run, and a late-committing transaction is re-read.
- ``until``: the end of the run's data interval, or the moment it was planned for a manual run
  without a logical date (and for a full load, whatever the interval: every row as it is now).
  A backfill of an old day extracts nothing newer than that day.

Each extract reads its window in slices of at most ``EXTRACT_SLICE_ROWS`` rows, cut at primary-key
quantiles of the window, and writes one Parquet part per slice into the run's folder: a full load's
memory is bounded by a slice. A daily window is one slice, one part.

The load (include/shopstream/load.py) keeps only the row versions RAW does not hold yet, so
overlapping windows, replays and retries never land a version twice.

Before its query, each extract compares its table's columns with the data contract
(include/shopstream/schema_contract.py): schema drift is reported, and a dropped or retyped column
fails that table's extraction at once.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any

from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator
from airflow.sdk import task

from include.shopstream.config import (
    AWS_CONN_ID,
    EXTRACT_SLICE_ROWS,
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
    s3_extract_prefix,
    s3_part_key,
)

log = logging.getLogger(__name__)
PLAN_TASK_ID = "plan_extraction"
FULL_HISTORY = "-infinity"
TABLES_BY_NAME_EXTRACTED = {t.name: t for t in EXTRACTED_TABLES}

CHANGED_ROWS_SQL = """\
select {select_list},
       %(source_file)s as _source_file
{window}
  and {primary_key} >= %(key_from)s
  and {primary_key} < %(key_to)s
order by {primary_key}
"""

# A table's rows in the window ``[since, until)`` of its change column: every query below reads them.
WINDOW_SQL = """\
from {schema}.{table}
where {changed_at} >= %(since)s::timestamptz
  and {changed_at} < %(until)s::timestamptz"""
# A window's size, then (when it exceeds one slice) the keys that cut it into equal slices.
WINDOW_SIZE_SQL = "select count(*)\n{window}"
SLICE_CUTS_SQL = "select percentile_disc(%(fractions)s::float8[]) within group (order by {primary_key})\n{window}"


def window_sql(sql: str, table: SourceTable, **names: str) -> str:
    """``sql`` with ``table``'s window (``{window}``), primary key and ``names`` filled in."""
    window = WINDOW_SQL.format(schema=SOURCE_SCHEMA, table=table.name, changed_at=table.changed_at)
    return sql.format(window=window, primary_key=table.primary_key, **names)


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


def s3_uri(key: str, bucket: str = S3_BUCKET) -> str:
    """An object or folder of the landing bucket as a URI: what RAW's ``_source_file`` records."""
    return f"s3://{bucket}/{key}"


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
        window["prefix"] = s3_extract_prefix(name, ds, key)
        window["folder"] = s3_uri(window["prefix"])
        window["stage_path"] = window["prefix"].removeprefix(f"{S3_RAW_PREFIX}/")
        changed_at = TABLES_BY_NAME_EXTRACTED[name].changed_at
        log.info("%s: extract %s in [%s, %s) to %s",
                 name, changed_at, window["since"], window["until"], window["folder"])
    return {"ds": ds, "run_key": key, "tables": windows}


def planned(table: str, field: str) -> str:
    """A template reading one field of a table's plan (``since``, ``until``, ``prefix``, ``folder``, ``stage_path``)."""
    return f"{{{{ ti.xcom_pull(task_ids='{PLAN_TASK_ID}')['tables']['{table}']['{field}'] }}}}"


# PostgreSQL's bigint bounds: the first and last slices are open-ended (identity keys start at 1).
KEY_MIN, KEY_MAX = -(2**63), 2**63 - 1


def slice_ranges(cuts: list[int]) -> list[tuple[int, int]]:
    """Half-open primary-key ranges ``[from, to)`` that cover every bigint key but the largest, cut at ``cuts``.

    The first and last ranges are open-ended, so a row that enters the window between the slicing
    query and the slices' own queries is still read by one of them.
    """
    bounds = [KEY_MIN, *sorted(set(cuts)), KEY_MAX]
    return [(low, high) for low, high in itertools.pairwise(bounds) if low < high]


def window_slices(cursor: Any, table: SourceTable, since: str, until: str, slice_rows: int) -> list[tuple[int, int]]:
    """The key ranges that read ``table``'s window ``[since, until)`` in slices of about ``slice_rows``
    rows at most, from PostgreSQL (``cursor``: psycopg). One query for a window that fits in one slice;
    a larger one adds a second, which cuts it at key quantiles (``percentile_disc``)."""
    window = {"since": since, "until": until}
    cursor.execute(window_sql(WINDOW_SIZE_SQL, table), window)
    count = cursor.fetchone()[0]
    slices = math.ceil(count / slice_rows)
    cuts: list[int] = []
    if slices > 1:
        fractions = [k / slices for k in range(1, slices)]
        cursor.execute(window_sql(SLICE_CUTS_SQL, table), {**window, "fractions": fractions})
        cuts = cursor.fetchone()[0]
    return slice_ranges(cuts)


class WindowedSqlToS3Operator(SqlToS3Operator):
    """SqlToS3Operator that checks its source table against the data contract before it reads a row,
    then reads its window slice by slice, one Parquet part each, into the run's folder (``s3_key``).

    Its query parameters are templated too, so the window stays a bind parameter.
    """

    template_fields = (*SqlToS3Operator.template_fields, "parameters")

    def __init__(self, *, source_table: SourceTable, slice_rows: int = EXTRACT_SLICE_ROWS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if slice_rows < 1:
            raise ValueError(f"slice_rows must be at least 1, not {slice_rows}")
        self.source_table = source_table
        self.slice_rows = slice_rows

    def execute(self, context: Any) -> None:
        """Check the schema (include/shopstream/schema_contract.py), empty the run's folder, then
        extract the window (``parameters["params"]``: ``since``, ``until``) slice by slice.

        A dropped or retyped column fails the task at once (``AirflowFailException``: a retry would
        meet the same schema) with what to do; an added or resized one is reported and the contract's
        columns are extracted. Each part's rows carry its URI in ``_source_file``.
        """
        from contextlib import closing

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk.exceptions import AirflowFailException

        from include.shopstream.schema_contract import SchemaDriftError, check_source_table

        window = self.parameters["params"]
        with closing(PostgresHook(postgres_conn_id=self.sql_conn_id).get_conn()) as conn:
            try:
                check_source_table(self.source_table, conn, context)
            except SchemaDriftError as drift:
                raise AirflowFailException(str(drift)) from drift
            slices = window_slices(conn.cursor(), self.source_table, window["since"], window["until"], self.slice_rows)

        # A retry or replay of the run rewrites the whole folder: no part of an earlier attempt stays.
        folder = self.s3_key
        s3 = S3Hook(aws_conn_id=self.aws_conn_id, verify=self.verify)
        if stale := s3.list_keys(bucket_name=self.s3_bucket, prefix=folder):
            self.log.info("Deleting %d part(s) of an earlier attempt in s3://%s/%s", len(stale), self.s3_bucket, folder)
            s3.delete_objects(self.s3_bucket, stale)
        try:
            for part, (key_from, key_to) in enumerate(slices):
                self.s3_key = s3_part_key(folder, part)
                self.parameters = {"params": {
                    **window, "key_from": key_from, "key_to": key_to,
                    "source_file": s3_uri(self.s3_key, self.s3_bucket),
                }}
                self.log.info("%s: slice %d of %d, %s in [%d, %d) -> %s", self.source_table.name, part + 1,
                              len(slices), self.source_table.primary_key, key_from, key_to,
                              self.parameters["params"]["source_file"])
                super().execute(context)
        finally:
            self.s3_key, self.parameters = folder, {"params": window}


def changed_rows_query(table: SourceTable) -> str:
    return window_sql(CHANGED_ROWS_SQL, table, select_list=table.select_list)


def extract_task(table: SourceTable) -> SqlToS3Operator:
    """Write one table's changed rows to this run's folder; a retry or replay rewrites the folder."""
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
        }},
        s3_bucket=S3_BUCKET,
        s3_key=planned(table.name, "prefix"),
        file_format="parquet",
        replace=True,
        # polars keeps PostgreSQL numerics as decimals (Parquet decimal128): money stays exact.
        df_type="polars",
    )
