"""ShopStream's facts, defined once: source tables, bucket layout, warehouse names, connection ids.

The DAG, the local stack, the data generator, the tests and the benchmarks all read these names from
here. Only values that differ between a laptop and the cloud come from the environment, and each has
a default that works on the embedded stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# --- Airflow connection ids (the DAG knows connections by id only) -------------------------------
POSTGRES_CONN_ID = "postgres_shopstream"
AWS_CONN_ID = "aws_shopstream"
SNOWFLAKE_CONN_ID = "snowflake_shopstream"

# --- Paths -----------------------------------------------------------------------------------------
PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
DBT_PROJECT_DIR = INCLUDE_DIR / "dbt" / "shopstream"
DBT_MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def dbt_executable() -> str:
    """Where the dbt CLI of the dbt venv is: the Astro image's venv unless the environment says."""
    return os.environ.get("SHOPSTREAM_DBT_EXECUTABLE", str(PROJECT_ROOT / "dbt_venv" / "bin" / "dbt"))


# --- Source (PostgreSQL) ---------------------------------------------------------------------------
SOURCE_DATABASE = "shopstream"
SOURCE_SCHEMA = "oltp"


@dataclass(frozen=True)
class SourceTable:
    """One OLTP table and how it is extracted.

    ``columns`` is the extraction's select list, in order. Casts keep Parquet types exact:
    money stays a decimal, JSONB travels as text (Snowflake parses it into a VARIANT in staging).
    """

    name: str
    primary_key: str
    columns: tuple[str, ...]

    @property
    def raw_table(self) -> str:
        """The RAW table in Snowflake (upper case, as Snowflake stores unquoted names)."""
        return self.name.upper()

    @property
    def select_list(self) -> str:
        return ",\n       ".join(self.columns)


_AUDIT = ("created_at", "updated_at")

TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "users",
        "user_id",
        (
            "user_id",
            "email",
            "first_name",
            "last_name",
            "country_code",
            "city",
            "signup_channel",
            *_AUDIT,
        ),
    ),
    SourceTable(
        "products",
        "product_id",
        (
            "product_id",
            "sku",
            "product_name",
            "category",
            "brand",
            "unit_price::numeric(12, 2) as unit_price",
            "is_active",
            *_AUDIT,
        ),
    ),
    SourceTable(
        "orders",
        "order_id",
        (
            "order_id",
            "user_id",
            "order_status",
            "payment_method",
            "shipping_country_code",
            "ordered_at",
            *_AUDIT,
        ),
    ),
    SourceTable(
        "order_items",
        "order_item_id",
        (
            "order_item_id",
            "order_id",
            "product_id",
            "quantity",
            "unit_price::numeric(12, 2) as unit_price",
            "discount_amount::numeric(12, 2) as discount_amount",
            *_AUDIT,
        ),
    ),
    SourceTable(
        "events",
        "event_id",
        (
            "event_id",
            "user_id",
            "session_id",
            "event_type",
            "occurred_at",
            "payload::text as payload",
            *_AUDIT,
        ),
    ),
    SourceTable(
        "crm_contacts",
        "contact_id",
        (
            "contact_id",
            "user_id",
            "email",
            "phone",
            "channel",
            "contact_reason",
            "contact_status",
            *_AUDIT,
        ),
    ),
)

TABLES_BY_NAME: dict[str, SourceTable] = {t.name: t for t in TABLES}

# --- Landing zone (S3) -----------------------------------------------------------------------------
S3_BUCKET = os.environ.get("SHOPSTREAM_S3_BUCKET", "shopstream-raw")
S3_RAW_PREFIX = "raw/postgres"


# The day a run's data belongs to: its data interval's start. A scheduled daily run's logical date is
# that day too, but a manual run's logical date is the end of the interval it covers, so `ds` would
# name the wrong day.
PARTITION_DS = "{{ data_interval_start | ds }}"


def s3_partition(table: str, ds: str) -> str:
    """The partition path of one table and day below ``S3_RAW_PREFIX/<table>/``."""
    return f"ds={ds}/{table}.parquet"


def s3_key(table: str, ds: str) -> str:
    """The object key of one table's extract for one day: deterministic, so a re-run replaces it."""
    return f"{S3_RAW_PREFIX}/{table}/{s3_partition(table, ds)}"


# --- Warehouse (Snowflake) -------------------------------------------------------------------------
SNOWFLAKE_DATABASE = os.environ.get("SHOPSTREAM_SNOWFLAKE_DATABASE", "SHOPSTREAM")
RAW_SCHEMA = "RAW"
RAW_STAGE = f"{RAW_SCHEMA}.SHOPSTREAM_S3"
RAW_FILE_FORMAT = f"{RAW_SCHEMA}.PARQUET_FORMAT"
# Cloud only: the storage integration an account admin creates once (include/sql/snowflake/admin).
SNOWFLAKE_STORAGE_INTEGRATION = os.environ.get("SHOPSTREAM_STORAGE_INTEGRATION", "SHOPSTREAM_S3_INTEGRATION")
DBT_TARGET_SCHEMA = "ANALYTICS"
