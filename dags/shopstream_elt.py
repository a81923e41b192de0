"""ShopStream ELT: PostgreSQL -> S3 (Parquet) -> Snowflake RAW (COPY INTO) -> dbt (one task per model).

One run per day; the data interval is that day. `extract.<table>` writes the rows changed in the
interval to s3://<bucket>/raw/postgres/<table>/ds=<YYYY-MM-DD>/<table>.parquet, `load.<table>` copies
that file into SHOPSTREAM.RAW.<TABLE>, and the `dbt` group builds staging, intermediate and marts.
Trigger with {"full_history": true} to extract every row changed before the interval's end.
Wiring only: every name comes from include/shopstream/config.py, every connection by id.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param, TaskGroup
from airflow.timetables.interval import CronDataIntervalTimetable

from include.shopstream.config import INCLUDE_DIR, TABLES
from include.shopstream.extract import extract_task
from include.shopstream.load import load_group, setup_warehouse_task
from include.shopstream.transform import dbt_task_group

with DAG(
    dag_id="shopstream_elt",
    description="PostgreSQL -> S3 -> Snowflake -> dbt, one day at a time",
    # A data interval of one day (Airflow 3's "@daily" would give a zero-length interval).
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    template_searchpath=[str(INCLUDE_DIR)],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
    },
    params={
        "full_history": Param(
            False,
            type="boolean",
            description="Extract every row changed before the interval's end, not only the interval.",
        ),
    },
    tags=["shopstream", "elt", "dbt", "cosmos"],
    doc_md=__doc__,
) as dag:
    setup_warehouse = setup_warehouse_task()

    with TaskGroup(group_id="extract") as extract:
        extracts = {table.name: extract_task(table) for table in TABLES}

    with TaskGroup(group_id="load") as load:
        for table in TABLES:
            extracts[table.name] >> load_group(table)

    transform = dbt_task_group()

    setup_warehouse >> load
    load >> transform
