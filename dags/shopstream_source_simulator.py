"""ShopStream source simulator: one more day of shop activity in the OLTP source, for demos.

For the embedded stack only (local PostgreSQL started by the project): each run simulates the day of its
data interval (`data_interval_start`) in the `postgres_shopstream` source, with new users, orders,
items, events and CRM contacts, status transitions and price/profile changes, all stamped inside that
day (include/data_gen/next_day.py). Run it before `shopstream_elt`'s run for the same day, so the
extraction has real changes to capture and the embedded stack can run several days in a row.
A day that is already present is skipped, so a re-run changes nothing.

It writes into the source database: keep it PAUSED in production (it is created paused).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, task
from airflow.timetables.interval import CronDataIntervalTimetable

from include.shopstream.config import (
    DAG_OWNER,
    DAG_START_DATE,
    DAILY_CRON,
    GENERATOR_SEED,
    POSTGRES_CONN_ID,
    SCHEDULE_TIMEZONE,
    SIMULATOR_DAG_ID,
)

with DAG(
    dag_id=SIMULATOR_DAG_ID,
    description="Demo only: simulate the next day of shop activity in the OLTP source (keep paused in prod)",
    schedule=CronDataIntervalTimetable(DAILY_CRON, timezone=SCHEDULE_TIMEZONE),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    default_args={"owner": DAG_OWNER, "retries": 2, "retry_delay": timedelta(minutes=1)},
    tags=["shopstream", "source", "simulator"],
    doc_md=__doc__,
) as dag:

    @task
    def simulate_day(data_interval_start: pendulum.DateTime | None = None) -> dict[str, object]:
        """Simulate the data interval's day in the source (skipped when that day is already present)."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from include.data_gen.dsn import airflow_conn_to_conninfo
        from include.data_gen.next_day import simulate_next_day

        if data_interval_start is None:
            raise ValueError("no data interval: this task simulates its run's data interval day")
        conn = PostgresHook.get_connection(POSTGRES_CONN_ID)
        conninfo = airflow_conn_to_conninfo(conn.get_uri())
        day = data_interval_start.in_timezone("UTC").date()
        report = simulate_next_day(conninfo, seed=GENERATOR_SEED, day=day, skip_if_present=True)
        print(report.format())
        return {
            "day": day.isoformat(),
            "inserted": report.inserted,
            "updated": report.updated,
            "skipped": report.skipped,
        }

    simulate_day()
