"""A real PostgreSQL server for the embedded stack, from the machine's binaries or a pip package."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from embedded.process import ServerProcess, StackError, port_accepts
from embedded.settings import PG_PORT_ENV, StackSettings
from include.shopstream.config import SOURCE_DATABASE

PG_USER = "postgres"
# Airflow's metadata database lives on the same server as the source, in a database of its own.
AIRFLOW_DATABASE = "airflow"


def find_bin_dir(settings: StackSettings) -> Path:
    """The folder holding ``initdb`` and ``postgres``.

    In order: ``settings.pg_bin`` (``SHOPSTREAM_PG_BIN``); the machine's PostgreSQL (Debian keeps it off PATH in
    /usr/lib/postgresql/<version>/bin); PATH; the binaries the ``pgserver`` wheel ships, which
    ``make install`` adds when the machine has no PostgreSQL.
    """
    candidates: list[Path] = []
    if settings.pg_bin:
        candidates.append(settings.pg_bin)
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates += [Path(p) for p in debian]
    if on_path := shutil.which("initdb"):
        candidates.append(Path(on_path).resolve().parent)
    try:
        import pgserver  # type: ignore[import-not-found]

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    raise StackError(
        "No PostgreSQL server binaries found (initdb, postgres). Install them (apt-get install postgresql) "
        "or run `make install`, which adds the pgserver wheel, or set SHOPSTREAM_PG_BIN to their folder."
    )


def _server_user() -> str | None:
    """initdb refuses to run as root: as root, the server runs as the unprivileged ``postgres`` user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError as exc:
        raise StackError(
            "Running as root, PostgreSQL needs an unprivileged OS user to run as; none named 'postgres' "
            "exists. Create one (useradd --system postgres) or run as a normal user."
        ) from exc
    return PG_USER


def _data_dir(settings: StackSettings, user: str | None) -> Path:
    """The cluster's folder: in the stack folder, unless the server's user cannot reach it there.

    A clone under /root is closed to other users; the cluster then lives in /var/tmp under a name
    derived from the stack folder, so two clones never share one.
    """
    preferred = settings.stack_dir / "postgres"
    if user is None or _reachable_by(user, settings.stack_dir):
        return preferred
    suffix = hashlib.sha1(str(settings.stack_dir).encode()).hexdigest()[:10]  # stable across processes
    return Path("/var/tmp") / f"shopstream-postgres-{suffix}"


def _reachable_by(user: str, folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(folder)], check=False)
    return probe.returncode == 0


def server(settings: StackSettings) -> ServerProcess:
    """The PostgreSQL server process, its cluster initialised on first use."""
    bin_dir = find_bin_dir(settings)
    user = _server_user()
    data = _data_dir(settings, user) / "data"
    return ServerProcess(
        name="postgres",
        command=[
            str(bin_dir / "postgres"),
            "-D", str(data),
            "-h", settings.host,
            "-p", str(settings.postgres_port),
            "-c", "unix_socket_directories=",
            "-c", "fsync=off",  # a disposable local cluster: durability is not worth the time here
        ],
        host=settings.host,
        port=settings.postgres_port,
        port_env=PG_PORT_ENV,
        run_dir=settings.stack_dir / "run",
        is_ready=lambda: port_accepts(settings.host, settings.postgres_port) and _accepts_queries(settings),
        user=user,
        stop_signal=signal.SIGINT,  # "fast" shutdown: SIGTERM would wait for clients to disconnect
    )


def init_cluster(settings: StackSettings) -> None:
    """Run initdb once: trust authentication on loopback only, UTF-8, UTC."""
    bin_dir = find_bin_dir(settings)
    user = _server_user()
    data = _data_dir(settings, user) / "data"
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    if user:
        shutil.chown(data.parent, user, user)
        shutil.chown(data, user, user)
    result = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", PG_USER, "-A", "trust", "-E", "UTF8",
         "--locale=C", "--no-instructions"],
        user=user, group=user, extra_groups=[] if user else None,
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\ntimezone = 'UTC'\nlisten_addresses = '{settings.host}'\n")


def _accepts_queries(settings: StackSettings) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            host=settings.host, port=settings.postgres_port, user=PG_USER, dbname="postgres", connect_timeout=2
        ) as conn:
            conn.execute("select 1")
        return True
    except psycopg.OperationalError:
        return False


def create_databases(settings: StackSettings) -> None:
    """Create the source database and Airflow's metadata database if they are missing.

    The source schema is the data generator's job, the metadata schema `airflow db migrate`'s.
    """
    import psycopg

    with psycopg.connect(
        host=settings.host, port=settings.postgres_port, user=PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        for database in (SOURCE_DATABASE, AIRFLOW_DATABASE):
            if not conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone():
                conn.execute(f'create database "{database}"')
