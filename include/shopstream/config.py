"""ShopStream's facts, defined once: source tables, bucket layout, warehouse names, connection ids.

The DAG, the local stack, the data generator, the tests and the benchmarks all read these names from
here. Only values that differ between a laptop and the cloud come from the environment, and this is
the one module of the pipeline that reads it (each variable below, with a default that works on the
embedded stack); the embedded servers' own settings (ports, folders) are read by
embedded/settings.py. Importing this module costs nothing: the DAG imports it
at every parse.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# --- DAGs -------------------------------------------------------------------------------------------
ELT_DAG_ID = "shopstream_elt"
SIMULATOR_DAG_ID = "shopstream_source_simulator"
# Both run once a day, each run's data interval one UTC day [00:00, 24:00), from this date on; the
# simulator's run of a day comes before the ELT's run of that day.
DAILY_CRON = "0 0 * * *"
SCHEDULE_TIMEZONE = "UTC"
DAG_START_DATE = datetime(2026, 1, 1, tzinfo=UTC)
DAG_OWNER = "data-platform"

# --- Airflow connection ids (the DAG knows connections by id only) -------------------------------
POSTGRES_CONN_ID = "postgres_shopstream"
AWS_CONN_ID = "aws_shopstream"
SNOWFLAKE_CONN_ID = "snowflake_shopstream"
# The Power BI service (a `powerbi` connection: a service principal's tenant, client id and secret),
# used only in the cloud, to refresh the semantic model once the marts are built.
POWERBI_CONN_ID = "powerbi_shopstream"

# --- Paths -----------------------------------------------------------------------------------------
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = PROJECT_ROOT / "dags"
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
# Local-only packages beside include/: the embedded servers and run driver, the report tooling.
# .dockerignore keeps them out of the Astro image; the pipeline imports neither at module level.
LOCAL_ONLY_PACKAGES = ("embedded", "report_tools")
DBT_PROJECT_DIR = INCLUDE_DIR / "dbt" / "shopstream"
DBT_MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def dag_file(dag_id: str) -> Path:
    """The file that defines the DAG ``dag_id``: each DAG lives in ``dags/<dag id>.py``."""
    return DAGS_DIR / f"{dag_id}.py"


# The dbt targets (include/dbt/shopstream/profiles.yml). The emulator's turns on the emulator-only
# macro overrides (emulator_shims/, dbt_project.yml) and one dbt thread; a real Snowflake account's is
# the default.
EMBEDDED_DBT_TARGET = "embedded"
CLOUD_DBT_TARGET = "cloud"
# The variables that choose the target and the dbt CLI (the embedded stack sets both).
DBT_TARGET_ENV = "SHOPSTREAM_DBT_TARGET"
DBT_EXECUTABLE_ENV = "SHOPSTREAM_DBT_EXECUTABLE"
# How long the whole dbt build may take before Airflow stops it (and each node's task waits for it).
DBT_BUILD_TIMEOUT = timedelta(minutes=30)


# The Airflow Variable naming dbt models to fail on purpose (comma-separated; unset in normal runs).
FAULT_INJECTION_VARIABLE = "shopstream_dbt_fail_models"


def dbt_target() -> str:
    """The dbt target the DAG runs (``SHOPSTREAM_DBT_TARGET``): the cloud's unless the environment says
    (the embedded stack sets its own)."""
    return os.environ.get(DBT_TARGET_ENV, CLOUD_DBT_TARGET)


def is_embedded() -> bool:
    """True on the embedded stack (its environment sets the embedded dbt target), False in the cloud."""
    return dbt_target() == EMBEDDED_DBT_TARGET


def dbt_threads() -> int:
    """dbt threads: one on the emulator, whose MERGE uses one helper table per schema; eight on Snowflake."""
    return 1 if is_embedded() else 8


def warehouse_builds_dbt_docs() -> bool:
    """Whether the DAG publishes dbt docs after its dbt build: on every target but the emulator's.

    On a real warehouse, `dbt docs generate` reads the warehouse's catalog (column types, row counts)
    and the task ``publish_dbt_docs`` uploads the site to :func:`dbt_docs_s3_dir`, which Airflow serves
    (:func:`dbt_docs_projects_setting`). On the embedded target the docs are the ones `make manifest`
    builds (empty catalog: the emulator's catalog lists no views) and are served from ``target/``.
    """
    return not is_embedded()


def dbt_executable() -> str:
    """Where the dbt CLI of the dbt venv is: the Astro image's venv unless the environment says."""
    return os.environ.get(DBT_EXECUTABLE_ENV, str(PROJECT_ROOT / "dbt_venv" / "bin" / "dbt"))


# --- Source (PostgreSQL) ---------------------------------------------------------------------------
SOURCE_DATABASE = "shopstream"
SOURCE_SCHEMA = "oltp"
# Where the data generator and the tools find the source outside Airflow: a libpq DSN or URI, else the
# Airflow connection the DAG uses (include/data_gen/dsn.py parses either).
SOURCE_DSN_ENV = "SHOPSTREAM_PG_DSN"
SOURCE_CONN_ENV = f"AIRFLOW_CONN_{POSTGRES_CONN_ID.upper()}"


def source_dsn_variables() -> dict[str, str]:
    """``{SOURCE_DSN_ENV: value, SOURCE_CONN_ENV: value}`` from the environment, blank when unset."""
    return {name: os.environ.get(name, "").strip() for name in (SOURCE_DSN_ENV, SOURCE_CONN_ENV)}


# The data generator's defaults (include/data_gen: its command line, `make run` and the simulator DAG):
# the orders of a new history, its length in days, and the seed of every random draw.
GENERATED_ORDERS = 2000
GENERATED_HISTORY_DAYS = 30
GENERATOR_SEED = 42


@dataclass(frozen=True)
class SourceTable:
    """One OLTP table and how it is extracted.

    ``columns`` is the extraction's select list, in order. Casts keep Parquet types exact:
    money stays a decimal, JSONB travels as text (Snowflake parses it into a VARIANT in staging).
    The source type each column must have is in ``SOURCE_COLUMN_TYPES`` (``source_types``).
    """

    name: str
    primary_key: str
    columns: tuple[str, ...]
    # The column that moves with every change: extraction windows, RAW's watermark and the version
    # key (primary key, changed_at) read it. ``deleted_at`` for the append-only delete log.
    changed_at: str = "updated_at"
    # RAW's NOT NULL columns besides the ones every version has (``required_columns``).
    required: tuple[str, ...] = ()

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

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The source columns the extraction reads (``x::type as y`` -> ``x``), in order."""
        return tuple(column.split(" as ", 1)[0].split("::", 1)[0].strip() for column in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """The columns RAW declares NOT NULL: those every version has (the primary key, the change
        column and, where extracted, ``created_at``), then ``required``."""
        identity = (self.primary_key, "created_at", self.changed_at)
        return tuple(dict.fromkeys(c for c in (*identity, *self.required) if c in self.column_names))

    @property
    def source_types(self) -> dict[str, str]:
        """The contract's PostgreSQL type of each source column (``SOURCE_COLUMN_TYPES``)."""
        return SOURCE_COLUMN_TYPES[self.name]


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

# The source's data contract: the PostgreSQL type of every column the extraction reads, spelled as
# information_schema.columns spells `data_type`, with its length or (precision,scale). Every extract
# compares it with the source first (include/shopstream/schema_contract.py): a column the source has
# and the contract has not is reported and not landed; one the contract has and the source lost, or
# whose type changed incompatibly, fails that table's extraction. It matches
# include/sql/postgres/001_oltp_schema.sql (tests/integration/test_schema_drift.py checks it).
_TIMESTAMP = "timestamp with time zone"
_AUDIT_TYPES = {"created_at": _TIMESTAMP, "updated_at": _TIMESTAMP}
SOURCE_COLUMN_TYPES: dict[str, dict[str, str]] = {
    "users": {
        "user_id": "bigint",
        "email": "text",
        "first_name": "text",
        "last_name": "text",
        "country_code": "character(2)",
        "city": "text",
        "signup_channel": "text",
        **_AUDIT_TYPES,
    },
    "products": {
        "product_id": "bigint",
        "sku": "text",
        "product_name": "text",
        "category": "text",
        "brand": "text",
        "unit_price": "numeric(12,2)",
        "is_active": "boolean",
        **_AUDIT_TYPES,
    },
    "orders": {
        "order_id": "bigint",
        "user_id": "bigint",
        "order_status": "text",
        "payment_method": "text",
        "shipping_country_code": "character(2)",
        "ordered_at": _TIMESTAMP,
        **_AUDIT_TYPES,
    },
    "order_items": {
        "order_item_id": "bigint",
        "order_id": "bigint",
        "product_id": "bigint",
        "quantity": "integer",
        "unit_price": "numeric(12,2)",
        "discount_amount": "numeric(12,2)",
        **_AUDIT_TYPES,
    },
    "events": {
        "event_id": "bigint",
        "user_id": "bigint",
        "session_id": "text",
        "event_type": "text",
        "occurred_at": _TIMESTAMP,
        "payload": "jsonb",
        **_AUDIT_TYPES,
    },
    "crm_contacts": {
        "contact_id": "bigint",
        "user_id": "bigint",
        "email": "text",
        "phone": "text",
        "channel": "text",
        "contact_reason": "text",
        "contact_status": "text",
        **_AUDIT_TYPES,
    },
    # The delete log (DELETED_ROWS below), written by the source's triggers.
    "deleted_rows": {
        "deleted_row_id": "bigint",
        "table_name": "text",
        "row_id": "bigint",
        "deleted_at": _TIMESTAMP,
    },
}

# The source's record of hard deletes: an append-only log fed by an AFTER DELETE trigger on each of
# the six tables (include/sql/postgres/001_oltp_schema.sql), one row per deleted row. It is extracted
# and loaded like the tables it records, windowed on deleted_at; staging flags the rows it names.
DELETED_ROWS = SourceTable(
    "deleted_rows",
    "deleted_row_id",
    ("deleted_row_id", "table_name", "row_id", "deleted_at"),
    changed_at="deleted_at",
    # A delete record that does not name its row deletes nothing: RAW refuses it.
    required=("table_name", "row_id"),
)
# What each run extracts and loads: the six tables, then the delete log.
EXTRACTED_TABLES: tuple[SourceTable, ...] = (*TABLES, DELETED_ROWS)

# --- Landing zone (S3) -----------------------------------------------------------------------------
S3_BUCKET = os.environ.get("SHOPSTREAM_S3_BUCKET", "shopstream-raw")
S3_RAW_PREFIX = "raw/postgres"
# The dbt docs site (index.html, manifest.json, catalog.json) the cloud publishes after each dbt build,
# in the landing bucket beside the raw files (docs/cloud.md grants Airflow's role this prefix too).
DBT_DOCS_S3_PREFIX = "dbt-docs/shopstream"


# Extraction re-reads this far behind the last loaded change, so a transaction that committed after
# an extraction, with an `updated_at` (its start time) before it, is still picked up by the next one.
# It must exceed the longest writing transaction of the source; the load skips the versions it
# already holds, so re-reading costs only time.
LATE_COMMIT_OVERLAP = timedelta(hours=1)
# The run conf the DAG accepts (its params); any other key fails the run before it touches a system.
RUN_CONF_KEYS = frozenset({"full_history"})


# An extract reads its window in slices of at most this many rows (by primary key), one Parquet part
# each, so its memory is bounded by a slice, not by the table a full load reads. A daily window fits in
# one slice.
EXTRACT_SLICE_ROWS = 250_000


def s3_extract_prefix(table: str, ds: str, run_key: str) -> str:
    """The folder (ending in ``/``) of one table's extract by one run: its Parquet parts, one per slice.

    ``ds`` is the day the run's data belongs to (its data interval's start, or the day it ran when it
    has no data interval); ``run_key`` is the run id made safe for a key. A retry or replay of that
    run rewrites the folder.
    """
    return f"{S3_RAW_PREFIX}/{table}/ds={ds}/{table}__{run_key}/"


def s3_part_key(prefix: str, part: int) -> str:
    """The key of an extract's part number ``part`` (from 0) in the folder ``prefix``."""
    return f"{prefix}part-{part:05d}.parquet"


def dbt_docs_s3_dir(bucket: str = S3_BUCKET) -> str:
    """The S3 folder of the published dbt docs, as Cosmos' ``dbt_docs_projects`` takes it:
    ``s3://<bucket>/dbt-docs/shopstream`` (no trailing slash)."""
    return f"s3://{bucket}/{DBT_DOCS_S3_PREFIX}"


# The dbt docs in the Airflow UI (menu Browse): Cosmos' Airflow 3 plugin serves each project of the
# setting [cosmos] dbt_docs_projects, here one, under this slug and title.
DBT_DOCS_PROJECT = "shopstream"
DBT_DOCS_TITLE = "dbt Docs (ShopStream)"


def dbt_docs_projects_setting(docs_dir: str | None = None) -> str:
    """The value of ``AIRFLOW__COSMOS__DBT_DOCS_PROJECTS`` (JSON) where the dbt docs are, for this target.

    ``docs_dir`` defaults to the published S3 folder (:func:`dbt_docs_s3_dir`, read through the
    connection ``aws_shopstream``) when :func:`warehouse_builds_dbt_docs`, else to the project's local
    ``target/`` folder. A local ``docs_dir`` (the Astro image's path, say) carries no connection.
    Each value names the same project slug, so the docs keep one address in the UI.
    """
    if docs_dir is None:
        docs_dir = dbt_docs_s3_dir() if warehouse_builds_dbt_docs() else str(DBT_PROJECT_DIR / "target")
    project: dict[str, str] = {"dir": docs_dir, "index": "index.html", "name": DBT_DOCS_TITLE}
    if docs_dir.startswith("s3://"):
        project["conn_id"] = AWS_CONN_ID
    return json.dumps({DBT_DOCS_PROJECT: project})


# --- Warehouse (Snowflake) -------------------------------------------------------------------------
# The database: SHOPSTREAM unless the environment says (the dbt tests build in one of their own).
SNOWFLAKE_DATABASE_ENV = "SHOPSTREAM_SNOWFLAKE_DATABASE"
DEFAULT_SNOWFLAKE_DATABASE = "SHOPSTREAM"
SNOWFLAKE_DATABASE = os.environ.get(SNOWFLAKE_DATABASE_ENV, DEFAULT_SNOWFLAKE_DATABASE)
RAW_SCHEMA = "RAW"
RAW_STAGE = f"{RAW_SCHEMA}.SHOPSTREAM_S3"
RAW_FILE_FORMAT = f"{RAW_SCHEMA}.PARQUET_FORMAT"
# COPY INTO lands each file here first; the load then inserts the row versions RAW does not hold yet.
LANDING_SUFFIX = "__LANDING"
# The role and warehouse of every load task (docs/cloud.md, grants matrix): LOADER writes RAW only;
# the connection's own role, TRANSFORMER, is dbt's and reads RAW only.
LOADER_SESSION = {"role": "LOADER", "warehouse": "LOADING_WH"}
# dbt's role and warehouse: the Snowflake connection's own (the embedded stack writes them into its
# connection; the cloud's is an admin's, docs/cloud.md).
TRANSFORMER_SESSION = {"role": "TRANSFORMER", "warehouse": "TRANSFORM_WH"}
DBT_TARGET_SCHEMA = "ANALYTICS"


# --- The report (Power BI) -------------------------------------------------------------------------
# The dbt exposure of the Power BI report (models/exposures.yml): its task follows the marts it reads.
REPORT_EXPOSURE = "shopstream_power_bi_report"
# How long the report step may take: rendering the previews, or a refresh of the semantic model.
REPORT_TIMEOUT = timedelta(minutes=30)


def output_dir() -> Path:
    """Where the embedded stack's commands write what they produce (git-ignored ``output/``): the
    figures of `make run` and `make bench` (run_summary.json, bench.json), the report previews."""
    return Path(os.environ.get("SHOPSTREAM_OUTPUT_DIR", str(PROJECT_ROOT / "output")))


REPORT_DIR_ENV = "SHOPSTREAM_REPORT_DIR"


def report_previews_dir() -> Path:
    """Where the embedded stack's report step writes the page previews (PNG, index.html, totals.json)."""
    return Path(os.environ.get(REPORT_DIR_ENV, str(output_dir() / "report")))


def airflow_home() -> Path:
    """Airflow's home folder (``AIRFLOW_HOME``, Airflow's own default ``~/airflow`` when unset)."""
    return Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser()


# An address to e-mail each failure to (include/shopstream/notify.py); unset: the failures log only.
ALERT_EMAIL_ENV = "SHOPSTREAM_ALERT_EMAIL"


def alert_email() -> str | None:
    """The address of ``SHOPSTREAM_ALERT_EMAIL``, or None when it is unset or blank."""
    return os.environ.get(ALERT_EMAIL_ENV, "").strip() or None


# The environment variables naming the semantic model the cloud's report step refreshes.
POWERBI_VARIABLES = ("SHOPSTREAM_POWERBI_WORKSPACE_ID", "SHOPSTREAM_POWERBI_DATASET_ID")


@dataclass(frozen=True)
class PowerBiTarget:
    """The semantic model the cloud's report step refreshes: a workspace (group) id and a dataset id."""

    workspace_id: str
    dataset_id: str


def powerbi_target() -> PowerBiTarget | None:
    """The Power BI workspace and dataset from the environment, or None when either is unset.

    ``SHOPSTREAM_POWERBI_WORKSPACE_ID`` and ``SHOPSTREAM_POWERBI_DATASET_ID`` are the GUIDs in the
    semantic model's URL in the Power BI service (``/groups/<workspace>/datasets/<dataset>``).
    """
    workspace, dataset = (os.environ.get(name, "").strip() for name in POWERBI_VARIABLES)
    return PowerBiTarget(workspace, dataset) if workspace and dataset else None


def powerbi_missing_variables() -> list[str]:
    """The variables of POWERBI_VARIABLES that are unset or blank, in order."""
    return [name for name in POWERBI_VARIABLES if not os.environ.get(name, "").strip()]
