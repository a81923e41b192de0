"""The cloud stand-ins of the embedded stack: moto's S3 server and the fakesnow server."""

from __future__ import annotations

import http.client
import re
import ssl
from pathlib import Path

from embedded.process import ServerProcess, http_get, port_accepts
from embedded.settings import S3_PORT_ENV, SNOWFLAKE_PORT_ENV, StackSettings
from include.shopstream.config import (
    PROJECT_ROOT,
    RAW_FILE_FORMAT,
    RAW_SCHEMA,
    RAW_STAGE,
    S3_BUCKET,
    S3_RAW_PREFIX,
    SNOWFLAKE_DATABASE,
)

# moto accepts any key pair; these name the local stack in logs, they protect nothing.
S3_ACCESS_KEY = "shopstream"
S3_SECRET_KEY = "shopstream"


def s3_server(settings: StackSettings) -> ServerProcess:
    return ServerProcess(
        name="s3",
        command=[
            str(settings.venvs_dir / "emulators" / "bin" / "moto_server"),
            "-H", settings.host,
            "-p", str(settings.s3_port),
        ],
        host=settings.host,
        port=settings.s3_port,
        port_env=S3_PORT_ENV,
        run_dir=settings.stack_dir / "run",
        is_ready=lambda: _http_ok(settings.host, settings.s3_port),
    )


BOOTSTRAP_TEMPLATE = Path(__file__).with_name("warehouse_bootstrap.sql")


def warehouse_bootstrap_sql() -> str:
    """warehouse_bootstrap.sql with the names of include/shopstream/config.py (``{{ name }}`` replaced)."""
    values = {
        "database": SNOWFLAKE_DATABASE, "raw_schema": RAW_SCHEMA, "file_format": RAW_FILE_FORMAT,
        "stage": RAW_STAGE, "bucket": S3_BUCKET, "prefix": S3_RAW_PREFIX,
    }
    return re.sub(r"\{\{ (\w+) \}\}", lambda m: values[m.group(1)], BOOTSTRAP_TEMPLATE.read_text())


def write_warehouse_bootstrap(folder: Path) -> Path:
    """Write the rendered bootstrap SQL where the Snowflake server reads it at start; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse_bootstrap.sql"
    path.write_text(warehouse_bootstrap_sql())
    return path


def snowflake_server(settings: StackSettings) -> ServerProcess:
    return ServerProcess(
        name="snowflake",
        command=[
            str(settings.venvs_dir / "emulators" / "bin" / "python"),
            "-m", "embedded.fakesnow_server",
            "--host", settings.host,
            "--port", str(settings.snowflake_port),
            "--tls-dir", str(settings.tls_dir),
            "--s3-endpoint", settings.s3_endpoint,
            "--s3-key", S3_ACCESS_KEY,
            "--s3-secret", S3_SECRET_KEY,
            "--s3-region", settings.s3_region,
            "--bootstrap-sql", str(settings.stack_dir / "run" / "warehouse_bootstrap.sql"),
            "--db-dir", str(settings.snowflake_db_dir),
            "--memory-limit", settings.snowflake_memory_limit,
        ],
        host=settings.host,
        port=settings.snowflake_port,
        port_env=SNOWFLAKE_PORT_ENV,
        run_dir=settings.stack_dir / "run",
        is_ready=lambda: _https_answers(settings),
        env={"PYTHONPATH": str(PROJECT_ROOT)},
        cwd=PROJECT_ROOT,
    )


def create_bucket(settings: StackSettings) -> None:
    """The landing bucket exists in the cloud; the in-memory S3 server starts empty, so make it."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        region_name=settings.s3_region,
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if S3_BUCKET not in existing:
        s3.create_bucket(Bucket=S3_BUCKET)


def _http_ok(host: str, port: int) -> bool:
    """The server answers ``GET /`` without a server error."""
    answer = http_get(host, port)
    return answer is not None and answer[0] < 500


def _https_answers(settings: StackSettings) -> bool:
    """Ready once the server completes a TLS handshake with a certificate the CA bundle trusts."""
    if not (port_accepts(settings.host, settings.snowflake_port) and settings.ca_bundle.exists()):
        return False
    try:
        context = ssl.create_default_context(cafile=str(settings.ca_bundle))
        conn = http.client.HTTPSConnection(settings.host, settings.snowflake_port, timeout=2, context=context)
        conn.request("POST", "/session")
        return conn.getresponse().status > 0
    except (OSError, ssl.SSLError):
        return False
