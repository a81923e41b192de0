"""Start, stop and report the embedded stack: PostgreSQL, the S3 server, the Snowflake server."""

from __future__ import annotations

from embedded import emulators, postgres
from embedded.process import ServerProcess
from embedded.settings import StackSettings


def servers(settings: StackSettings) -> list[ServerProcess]:
    """In start order: the Snowflake server reads S3 at start-up, so S3 comes before it."""
    return [
        postgres.server(settings),
        emulators.s3_server(settings),
        emulators.snowflake_server(settings),
    ]


def start(settings: StackSettings) -> list[str]:
    """Idempotent: servers already running are left alone; each is ready when this returns."""
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    postgres.init_cluster(settings)
    pg, s3, snowflake = servers(settings)
    report = [pg.start()]
    postgres.create_databases(settings)
    report.append(s3.start())
    emulators.create_bucket(settings)
    emulators.write_warehouse_bootstrap(settings.stack_dir / "run")
    report.append(snowflake.start())
    return report


def stop(settings: StackSettings) -> list[str]:
    """Stop exactly the servers this stack started (found by their pid files), last started first."""
    return [server.stop() for server in reversed(servers(settings))]


def status(settings: StackSettings) -> list[str]:
    return [server.status() for server in servers(settings)]
