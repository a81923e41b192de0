"""ShopStream ELT: PostgreSQL -> S3 (Parquet) -> Snowflake RAW (COPY INTO) -> dbt (one task per model).

One run per day, and any manual run: `validate_run_conf` rejects a conf the DAG does not declare,
`setup_warehouse` creates the RAW tables that are missing, `plan_extraction` sets each table's window
from what RAW already holds (everything changed since the last load, re-reading a late-commit overlap), then
`extract.<table>` writes those rows to s3://<bucket>/raw/postgres/<table>/ds=<day>/<table>__<run>.parquet
and `load.<table>` lands them in SHOPSTREAM.RAW.<TABLE>, each row version once. The `dbt` group
builds staging, intermediate and marts in one `dbt build` with a task per model. On a real warehouse,
`publish_dbt_docs` then generates the dbt docs with its catalog and uploads them to S3, where the
Airflow UI serves them (Browse > dbt Docs); the embedded stack serves the ones `make manifest` builds.
A first run loads the full history; {"full_history": true} re-reads it (RAW keeps what it has).
Wiring only: every name comes from include/shopstream/config.py, every connection by id.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param, TaskGroup, task
from airflow.timetables.interval import CronDataIntervalTimetable

from include.shopstream.config import (
    DAG_START_DATE,
    DAILY_CRON,
    ELT_DAG_ID,
    EXTRACTED_TABLES,
    SCHEDULE_TIMEZONE,
    warehouse_builds_dbt_docs,
)
from include.shopstream.extract import check_run_conf, extract_task, plan_extraction
from include.shopstream.load import load_group, setup_warehouse_task
from include.shopstream.notify import failure_notifier
from include.shopstream.task_policy import DAG_RUN_TIMEOUT, default_task_args
from include.shopstream.transform import dbt_task_group, publish_dbt_docs_task

with DAG(
    dag_id=ELT_DAG_ID,
    description="PostgreSQL -> S3 -> Snowflake -> dbt, one day at a time",
    # A data interval of one day (Airflow 3's "@daily" would give a zero-length interval).
    schedule=CronDataIntervalTimetable(DAILY_CRON, timezone=SCHEDULE_TIMEZONE),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=DAG_RUN_TIMEOUT,
    default_args=default_task_args(),
    on_failure_callback=failure_notifier(),
    params={
        "full_history": Param(
            False,
            type="boolean",
            description="Re-read every source row, not only what changed since the last load.",
        ),
    },
    tags=["shopstream", "elt", "dbt", "cosmos"],
    doc_md=__doc__,
) as dag:

    @task(retries=0)
    def validate_run_conf(**context: object) -> None:
        """Fail at once, before any system is touched, on a run conf the DAG does not accept."""
        check_run_conf(context["dag_run"].conf)  # type: ignore[attr-defined]

    checked = validate_run_conf()
    setup_warehouse = setup_warehouse_task()

    with TaskGroup(group_id="extract") as extract:
        extracts = {table.name: extract_task(table) for table in EXTRACTED_TABLES}

    with TaskGroup(group_id="load") as load:
        for table in EXTRACTED_TABLES:
            extracts[table.name] >> load_group(table)

    # Extraction does not wait for the DDL: only the loads need the tables it creates.
    checked >> plan_extraction() >> extract
    checked >> setup_warehouse >> load
    dbt = dbt_task_group()
    load >> dbt
    if warehouse_builds_dbt_docs():
        dbt >> publish_dbt_docs_task()
