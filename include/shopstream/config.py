"""ShopStream's facts, defined once: source tables, bucket layout, warehouse names, connection ids.

The DAG, the local stack, the data generator, the tests and the benchmarks all read these names from
here. Only values that differ between a laptop and the cloud come from the environment, and each has
a default that works on the embedded stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

# --- DAG ids ----------------------------------------------------------------------------------------
ELT_DAG_ID = "shopstream_elt"
SIMULATOR_DAG_ID = "shopstream_source_simulator"

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


# The dbt target of the emulator: it turns on the emulator-only macro overrides and one dbt thread.
EMBEDDED_DBT_TARGET = "embedded"
# How long the whole dbt build may take before Airflow stops it (and each node's task waits for it).
DBT_BUILD_TIMEOUT = timedelta(minutes=30)


# The Airflow Variable naming dbt models to fail on purpose (comma-separated; unset in normal runs).
FAULT_INJECTION_VARIABLE = "shopstream_dbt_fail_models"


def dbt_target() -> str:
    """The dbt target the DAG runs: ``cloud`` unless the environment says (the embedded stack does)."""
    return os.environ.get("SHOPSTREAM_DBT_TARGET", "cloud")


def dbt_threads() -> int:
    """dbt threads: one on the emulator, whose MERGE uses one helper table per schema; eight on Snowflake."""
    return 1 if dbt_target() == EMBEDDED_DBT_TARGET else 8


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
    # The column that moves with every change: extraction windows, RAW's watermark and the version
    # key (primary key, changed_at) read it. ``deleted_at`` for the append-only delete log.
    changed_at: str = "updated_at"

    @property
    def raw_table(self) -> str:
        """The RAW table in Snowflake (upper case, as Snowflake stores unquoted names)."""
        return self.name.upper()

    @property
    def landing_table(self) -> str:
        return f"{self.raw_table}{LANDING_SUFFIX}"

    @property
    def column_names(self) -> tuple[str, ...]:
        """The extracted columns' names (the alias of a cast column)."""
        return tuple(column.rsplit(" as ", 1)[-1] for column in self.columns)

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

# The source's record of hard deletes: an append-only log fed by an AFTER DELETE trigger on each of
# the six tables (include/sql/postgres/001_oltp_schema.sql), one row per deleted row. It is extracted
# and loaded like the tables it records, windowed on deleted_at; staging flags the rows it names.
DELETED_ROWS = SourceTable(
    "deleted_rows",
    "deleted_row_id",
    ("deleted_row_id", "table_name", "row_id", "deleted_at"),
    changed_at="deleted_at",
)
# What each run extracts and loads: the six tables, then the delete log.
EXTRACTED_TABLES: tuple[SourceTable, ...] = (*TABLES, DELETED_ROWS)

# --- Landing zone (S3) -----------------------------------------------------------------------------
S3_BUCKET = os.environ.get("SHOPSTREAM_S3_BUCKET", "shopstream-raw")
S3_RAW_PREFIX = "raw/postgres"


# Extraction re-reads this far behind the last loaded change, so a transaction that committed after
# an extraction, with an `updated_at` (its start time) before it, is still picked up by the next one.
# It must exceed the longest writing transaction of the source; the load skips the versions it
# already holds, so re-reading costs only time.
LATE_COMMIT_OVERLAP = timedelta(hours=1)
# The run conf the DAG accepts (its params); any other key fails the run before it touches a system.
RUN_CONF_KEYS = frozenset({"full_history"})


def s3_key(table: str, ds: str, run_key: str) -> str:
    """The object key of one table's extract by one run: a retry or replay of that run replaces it.

    ``ds`` is the day the run's data belongs to (its data interval's start, or the day it ran when it
    has no data interval); ``run_key`` is the run id made safe for a key.
    """
    return f"{S3_RAW_PREFIX}/{table}/ds={ds}/{table}__{run_key}.parquet"


# --- Warehouse (Snowflake) -------------------------------------------------------------------------
SNOWFLAKE_DATABASE = os.environ.get("SHOPSTREAM_SNOWFLAKE_DATABASE", "SHOPSTREAM")
RAW_SCHEMA = "RAW"
RAW_STAGE = f"{RAW_SCHEMA}.SHOPSTREAM_S3"
RAW_FILE_FORMAT = f"{RAW_SCHEMA}.PARQUET_FORMAT"
# COPY INTO lands each file here first; the load then inserts the row versions RAW does not hold yet.
LANDING_SUFFIX = "__LANDING"
# The role and warehouse of every load task (docs/cloud.md, grants matrix): LOADER writes RAW only;
# the connection's own role, TRANSFORMER, is dbt's and reads RAW only.
LOADER_SESSION = {"role": "LOADER", "warehouse": "LOADING_WH"}
DBT_TARGET_SCHEMA = "ANALYTICS"
