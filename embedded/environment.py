"""The environment that points Airflow, dbt and the tools at the embedded stack.

The Airflow connections are generated here, never typed: the same three connection ids the cloud
deployment defines, with the embedded servers' addresses. The Snowflake one uses key-pair auth, like
the cloud profile; the key is made on first use and stays in the git-ignored stack folder.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from embedded.emulators import S3_ACCESS_KEY, S3_SECRET_KEY
from embedded.postgres import AIRFLOW_DATABASE, PG_USER
from embedded.settings import (
    AIRFLOW_PORT_ENV,
    PG_PORT_ENV,
    S3_PORT_ENV,
    SNOWFLAKE_PORT_ENV,
    STACK_DIR_ENV,
    StackSettings,
)
from include.shopstream.config import (
    AWS_CONN_ID,
    DAGS_DIR,
    DBT_EXECUTABLE_ENV,
    DBT_PROJECT_DIR,
    DBT_TARGET_ENV,
    EMBEDDED_DBT_TARGET,
    POSTGRES_CONN_ID,
    PROJECT_ROOT,
    RAW_SCHEMA,
    SNOWFLAKE_CONN_ID,
    SNOWFLAKE_DATABASE,
    SOURCE_DATABASE,
    SOURCE_DSN_ENV,
    TRANSFORMER_SESSION,
    dbt_docs_projects_setting,
)

# The folder of the embedded stack's airflow_local_settings.py (preloads the DAG's modules).
AIRFLOW_CONFIG_DIR = Path(__file__).parent / "airflow_config"
SNOWFLAKE_USER = "SHOPSTREAM_PIPELINE"
SNOWFLAKE_ACCOUNT = "shopstream-local"


def snowflake_key_pair(settings: StackSettings) -> tuple[str, str]:
    """(base64 of the encrypted PKCS#8 private key PEM, its passphrase), created once."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = settings.stack_dir / "snowflake"
    key_file, passphrase_file = folder / "rsa_key.p8", folder / "rsa_key.passphrase"
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        passphrase = secrets.token_urlsafe(24)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
        _write_private(passphrase_file, passphrase.encode())
        _write_private(key_file, pem)
    return base64.b64encode(key_file.read_bytes()).decode(), passphrase_file.read_text()


def _write_private(path: Path, content: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(content)


def airflow_connections(settings: StackSettings) -> dict[str, dict]:
    """The three connections, as Airflow's JSON connection format, keyed by connection id."""
    private_key, passphrase = snowflake_key_pair(settings)
    return {
        POSTGRES_CONN_ID: {
            "conn_type": "postgres",
            "host": settings.host,
            "port": settings.postgres_port,
            "login": PG_USER,
            "schema": SOURCE_DATABASE,
        },
        AWS_CONN_ID: {
            "conn_type": "aws",
            "login": S3_ACCESS_KEY,
            "password": S3_SECRET_KEY,
            "extra": {"endpoint_url": settings.s3_endpoint, "region_name": settings.s3_region},
        },
        SNOWFLAKE_CONN_ID: {
            "conn_type": "snowflake",
            "login": SNOWFLAKE_USER,
            "password": passphrase,  # the private key's passphrase, as in the cloud connection
            "schema": RAW_SCHEMA,
            "extra": {
                "account": SNOWFLAKE_ACCOUNT,
                "database": SNOWFLAKE_DATABASE,
                **TRANSFORMER_SESSION,
                "private_key_content": private_key,
                "host": settings.host,
                "port": settings.snowflake_port,
                # OCSP revocation checks would call out to a CA's responder: none for a local CA.
                "insecure_mode": True,
            },
        },
    }


def stack_environment(settings: StackSettings) -> dict[str, str]:
    """Environment variables for Airflow, dbt and the tools on the embedded stack."""
    env = {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)
        for conn_id, conn in airflow_connections(settings).items()
    }
    env.update(
        {
            "AIRFLOW_HOME": str(settings.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # The metadata DB on the stack's PostgreSQL, as `astro dev start` has it: the scheduler,
            # the DAG processor, the triggerer and the task processes write to it at once.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
                f"postgresql+psycopg2://{PG_USER}@{settings.host}:{settings.postgres_port}/{AIRFLOW_DATABASE}"
            ),
            # dbt node tasks mostly wait for the producer's results: eight slots let them keep up
            # with one `dbt build` (the CPU, not the slots, is the limit on two cores).
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # Cosmos' caches (the dbt profile it writes, dbt's partial-parse state) in the stack's
            # folder, not in /tmp/cosmos shared by every checkout and stack of the machine.
            "AIRFLOW__COSMOS__CACHE_DIR": str(settings.stack_dir / "cosmos"),
            "AIRFLOW__COSMOS__ENABLE_DAG_VERSIONING": "False",
            # The dbt docs in the Airflow UI (Cosmos' Airflow 3 plugin reads only this setting).
            # The embedded target publishes nothing: `make manifest` builds them into target/.
            "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": dbt_docs_projects_setting(str(DBT_PROJECT_DIR / "target")),
            # The project, and the embedded stack's airflow_local_settings (embedded/airflow_config).
            "PYTHONPATH": os.pathsep.join((str(PROJECT_ROOT), str(AIRFLOW_CONFIG_DIR))),
            DBT_EXECUTABLE_ENV: str(settings.venvs_dir / "dbt" / "bin" / "dbt"),
            DBT_TARGET_ENV: EMBEDDED_DBT_TARGET,
            STACK_DIR_ENV: str(settings.stack_dir),
            PG_PORT_ENV: str(settings.postgres_port),
            S3_PORT_ENV: str(settings.s3_port),
            SNOWFLAKE_PORT_ENV: str(settings.snowflake_port),
            AIRFLOW_PORT_ENV: str(settings.airflow_port),
            # The Snowflake connector (Airflow and dbt) trusts the embedded server's local CA.
            "REQUESTS_CA_BUNDLE": str(settings.ca_bundle),
            SOURCE_DSN_ENV: (
                f"host={settings.host} port={settings.postgres_port} user={PG_USER} dbname={SOURCE_DATABASE}"
            ),
            "NO_PROXY": f"{settings.host},localhost",
            # `airflow standalone` starts its components as `airflow ...` found on PATH. (The stack's
            # plumbing: the caller's PATH, extended, not a setting; settings.py reads the settings.)
            "PATH": f"{settings.venvs_dir / 'airflow' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env
