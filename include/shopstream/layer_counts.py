"""Row counts of every layer, read through the pipeline's own Airflow connections.

Used by the run command's summary and the benchmark: PostgreSQL source tables, RAW (every extracted
version of a row) and every dbt model; and the revenue reconciliation from the source to the marts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from include.shopstream import dbt_manifest
from include.shopstream.config import (
    EXTRACTED_TABLES,
    POSTGRES_CONN_ID,
    RAW_SCHEMA,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SOURCE_SCHEMA,
)


@dataclass(frozen=True)
class LayerCounts:
    """Rows per table, per layer. A missing table or file counts as None, not as zero."""

    source: dict[str, int]
    raw: dict[str, int | None]
    models: dict[str, int | None]

    def as_dict(self) -> dict[str, dict[str, int | None]]:
        return {"postgres": dict(self.source), "raw": self.raw, "dbt": self.models}


def source_counts() -> dict[str, int]:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    return {t.name: hook.get_first(f"select count(*) from {SOURCE_SCHEMA}.{t.name}")[0] for t in EXTRACTED_TABLES}


def warehouse_counts() -> tuple[dict[str, int | None], dict[str, int | None]]:
    """(RAW counts, dbt model counts); a relation that does not exist yet counts as None."""
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    hook = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID)
    raw = {t.name: f"{SNOWFLAKE_DATABASE}.{RAW_SCHEMA}.{t.raw_table}" for t in EXTRACTED_TABLES}
    models = dbt_manifest.relations()
    conn = hook.get_conn()
    try:
        cursor = conn.cursor()

        def count(relation: str) -> int | None:
            try:
                cursor.execute(f"select count(*) from {relation}")
            except Exception as exc:
                if "does not exist" in str(exc):
                    return None
                raise
            return int(cursor.fetchone()[0])

        return {k: count(v) for k, v in raw.items()}, {k: count(v) for k, v in models.items()}
    finally:
        conn.close()


def all_counts() -> LayerCounts:
    raw, models = warehouse_counts()
    return LayerCounts(source=source_counts(), raw=raw, models=models)


# Revenue as the source defines it: item lines of paid, shipped or delivered orders, net of discounts.
SOURCE_REVENUE_SQL = f"""
select coalesce(sum(i.quantity * i.unit_price - i.discount_amount), 0)
from {SOURCE_SCHEMA}.order_items as i
inner join {SOURCE_SCHEMA}.orders as o on o.order_id = i.order_id
where o.order_status in ('paid', 'shipped', 'delivered')
"""


def revenue_reconciliation() -> dict[str, Any]:
    """Revenue and orders from PostgreSQL to the marts, in exact decimals.

    Returns ``{"revenue": {"postgres": Decimal, "fct_orders": Decimal, "mart_sales_overview": Decimal},
    "orders": {"postgres": int, "fct_orders": int}, "reconciled": bool}``. The warehouse's amounts are
    summed here, value by value, as decimals: the emulator's SUM of a decimal column returns a double.
    Raises TypeError if the warehouse returns a money value that is not a decimal.
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    source = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    models = dbt_manifest.relations()
    conn = SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID).get_conn()
    try:
        cursor = conn.cursor()

        def decimal_sum(sql: str) -> Decimal:
            cursor.execute(sql)
            values = [row[0] for row in cursor.fetchall()]
            if any(not isinstance(v, Decimal) for v in values):
                raise TypeError(f"money read as a non-decimal from: {sql}")
            return sum(values, Decimal(0))

        revenue = {
            "postgres": Decimal(source.get_first(SOURCE_REVENUE_SQL)[0]),
            "fct_orders": decimal_sum(f"select net_amount from {models['fct_orders']} where is_revenue"),
            "mart_sales_overview": decimal_sum(f"select revenue from {models['mart_sales_overview']}"),
        }
        cursor.execute(f"select count(*) from {models['fct_orders']}")
        orders = {"postgres": int(source.get_first(f"select count(*) from {SOURCE_SCHEMA}.orders")[0]),
                  "fct_orders": int(cursor.fetchone()[0])}
    finally:
        conn.close()
    reconciled = len(set(revenue.values())) == 1 and len(set(orders.values())) == 1
    return {"revenue": revenue, "orders": orders, "reconciled": reconciled}
