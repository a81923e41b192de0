"""The embedded stack's Snowflake stand-in: a fakesnow server behind TLS that reads S3 from moto.

Runs in the emulators venv (``python -m embedded.fakesnow_server``), never in
Airflow's: it imports nothing of the project but this file. Three things make stock clients work
against it unchanged:

- TLS. ``SnowflakeHook`` has no ``protocol`` field and always speaks HTTPS, so the server serves TLS
  with a certificate from a CA made here; clients trust it through ``REQUESTS_CA_BUNDLE``.
- S3. fakesnow reads external stages through DuckDB's httpfs, which DuckDB downloads at run time
  (impossible offline). An fsspec S3 filesystem pointed at the local S3 server is registered on
  fakesnow's shared DuckDB instead, so ``COPY INTO ... FROM @stage`` reads the landing zone.
- Fast failure. An unsupported statement makes fakesnow answer HTTP 500, which the connector retries
  until its network timeout (minutes). Those answers are turned into a Snowflake error response, so
  the client raises at once with fakesnow's message.
- The admin's objects. In the cloud an admin creates the database, the RAW schema, the file format
  and the stage once (include/sql/snowflake/admin/); the pipeline's roles may not. This
  warehouse starts empty, so the server runs those statements (``--bootstrap-sql``) as it starts.
- Memory. fakesnow keeps its warehouse in an in-memory DuckDB and every query's result for the
  server's life. Here the warehouse's databases are DuckDB files in the stack's folder, with DuckDB's
  memory capped (``--memory-limit``: past it DuckDB pages data out to them), emptied at each start
  as the in-memory one was; only the latest results are kept.
- One statement at a time. fakesnow rewrites a MERGE through a helper table named per schema, so two
  MERGEs running at once (two Airflow tasks re-running incremental models, say) collide. Statements
  are served one after the other: clients may run in parallel, the emulator never does.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import logging
import shutil
from pathlib import Path
from typing import Any

from embedded.settings import StackSettings

LOG = logging.getLogger("shopstream.fakesnow")


def ensure_tls_files(tls_dir: Path, hosts: list[str]) -> tuple[Path, Path]:
    """Create (once) a CA and a server certificate for ``hosts``; return (server pem, CA bundle).

    The bundle is the system's trusted roots plus this CA, so a client pointed at it by
    ``REQUESTS_CA_BUNDLE`` still trusts every other HTTPS endpoint.
    """
    import certifi
    import trustme

    server_pem = tls_dir / "server.pem"
    ca_pem = tls_dir / "ca.pem"
    bundle = tls_dir / "ca-bundle.pem"
    if not (server_pem.exists() and ca_pem.exists()):
        tls_dir.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name="ShopStream embedded stack")
        ca.issue_cert(*hosts).private_key_and_cert_chain_pem.write_to_path(str(server_pem))
        ca.cert_pem.write_to_path(str(ca_pem))
        server_pem.chmod(0o600)
    bundle.write_text(Path(certifi.where()).read_text() + "\n" + ca_pem.read_text())
    return server_pem, bundle


class RecentResults(collections.OrderedDict):
    """fakesnow's cache of query results by query id, bounded to the latest ``size``: the client asks
    for a result by id right after its query, never later."""

    size = 256

    def __setitem__(self, key: str, value: tuple) -> None:
        super().__setitem__(key, value)
        while len(self) > self.size:
            self.popitem(last=False)


def use_file_backed_warehouse(db_dir: Path, memory_limit: str) -> None:
    """Make fakesnow's shared warehouse one whose databases are DuckDB files in ``db_dir`` (emptied
    first) and whose DuckDB holds at most ``memory_limit`` (DuckDB syntax: ``2GB``) of data in memory."""
    fakesnow_instance = importlib.import_module("fakesnow.instance")
    server = importlib.import_module("fakesnow.server")

    shutil.rmtree(db_dir, ignore_errors=True)
    (db_dir / "tmp").mkdir(parents=True)
    warehouse = fakesnow_instance.FakeSnow(db_path=db_dir)
    warehouse.duck_conn.execute(f"SET memory_limit = '{memory_limit}'")
    warehouse.duck_conn.execute(f"SET temp_directory = '{db_dir / 'tmp'}'")
    warehouse.results_cache = RecentResults()
    server.shared_fs = warehouse


def register_s3(endpoint_url: str, access_key: str, secret_key: str, region: str) -> None:
    """Let fakesnow's shared DuckDB read ``s3://`` URLs from the local S3 server."""
    import s3fs

    server = importlib.import_module("fakesnow.server")  # the package's server() function shadows it

    fs = s3fs.S3FileSystem(
        endpoint_url=endpoint_url,
        key=access_key,
        secret=secret_key,
        client_kwargs={"region_name": region},
        # A load lists and reads files written seconds earlier: never serve a stale listing.
        use_listings_cache=False,
        skip_instance_cache=True,
    )
    server.shared_fs.duck_conn.register_filesystem(fs)


def bootstrap(sql_file: Path) -> None:
    """Run the statements of ``sql_file`` (``;``-separated, ``--`` comments) on the shared warehouse."""
    server = importlib.import_module("fakesnow.server")
    text = "\n".join(line for line in sql_file.read_text().splitlines() if not line.lstrip().startswith("--"))
    cursor = server.shared_fs.connect().cursor()
    for statement in filter(None, (s.strip() for s in text.split(";"))):
        cursor.execute(statement)
    LOG.info("ran %s", sql_file)


class FailFast:
    """ASGI middleware: a fakesnow HTTP 500 on a query becomes a Snowflake error the client raises;
    queries are served one at a time."""

    def __init__(self, app: Any) -> None:
        import asyncio

        self.app = app
        self.one_query_at_a_time = asyncio.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/queries/"):
            await self.app(scope, receive, send)
            return

        async def send_unretried(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 500:
                # fakesnow's 500 body is already {"success": false, "message": ...}; a 200 carrying
                # it is what Snowflake sends for a failed statement, which the client does not retry.
                message = {**message, "status": 200}
            await send(message)

        async with self.one_query_at_a_time:
            await self.app(scope, receive, send_unretried)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The stack (emulators.snowflake_server) passes every address and key; docker-compose.override.yml too.
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-dir", type=Path, required=True)
    parser.add_argument("--s3-endpoint", required=True, help="the S3 server's URL: http://<host>:<port>")
    parser.add_argument("--s3-key", required=True)
    parser.add_argument("--s3-secret", required=True)
    parser.add_argument("--s3-region", default=StackSettings.s3_region)
    parser.add_argument("--bootstrap-sql", type=Path, help="statements to run once the server starts")
    parser.add_argument("--db-dir", type=Path, help="keep the warehouse in DuckDB files here (emptied at start)")
    parser.add_argument("--memory-limit", default=StackSettings.snowflake_memory_limit,
                        help="DuckDB's memory limit with --db-dir, e.g. 2GB")
    args = parser.parse_args()

    import uvicorn

    server = importlib.import_module("fakesnow.server")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server_pem, bundle = ensure_tls_files(args.tls_dir, sorted({args.host, "127.0.0.1", "localhost"}))
    if args.db_dir:
        use_file_backed_warehouse(args.db_dir, args.memory_limit)
    register_s3(args.s3_endpoint, args.s3_key, args.s3_secret, args.s3_region)
    if args.bootstrap_sql:
        bootstrap(args.bootstrap_sql)
    LOG.info("fakesnow on https://%s:%s, S3 at %s, CA bundle %s", args.host, args.port, args.s3_endpoint, bundle)
    uvicorn.run(
        FailFast(server.app),
        host=args.host,
        port=args.port,
        ssl_certfile=str(server_pem),
        ssl_keyfile=str(server_pem),
        log_level="warning",
    )


if __name__ == "__main__":
    main()
