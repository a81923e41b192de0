"""Where the embedded stack lives and listens: the one module that reads the stack's environment.

Every setting of the embedded servers and of the stack's Airflow is a field of :class:`StackSettings`,
read once by :meth:`StackSettings.from_env` with its default stated here (the pipeline's own settings
are read by include/shopstream/config.py). Variables, all optional:

- ``SHOPSTREAM_PG_PORT``, ``SHOPSTREAM_S3_PORT``, ``SHOPSTREAM_SNOWFLAKE_PORT``,
  ``SHOPSTREAM_AIRFLOW_PORT`` (Airflow's log servers take the two ports after it): TCP ports on the
  loopback address, each defaulting to its value in ``DEFAULT_PORTS``;
- ``SHOPSTREAM_STACK_DIR`` (``.local/stack``), ``SHOPSTREAM_VENVS_DIR`` (``.local/venvs``): folders;
- ``SHOPSTREAM_PG_BIN``: the folder of PostgreSQL's ``initdb`` and ``postgres``, when it is not found
  on its own (embedded/postgres.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from include.shopstream.config import PROJECT_ROOT

# The variables of the ports (the stack's environment passes them on to the processes it starts),
# and each port's default.
PG_PORT_ENV = "SHOPSTREAM_PG_PORT"
S3_PORT_ENV = "SHOPSTREAM_S3_PORT"
SNOWFLAKE_PORT_ENV = "SHOPSTREAM_SNOWFLAKE_PORT"
AIRFLOW_PORT_ENV = "SHOPSTREAM_AIRFLOW_PORT"
DEFAULT_PORTS = {PG_PORT_ENV: 55432, S3_PORT_ENV: 55500, SNOWFLAKE_PORT_ENV: 55443, AIRFLOW_PORT_ENV: 8080}
# The stack's folder (its servers' data, logs, the Airflow home): the tests point it at their own.
STACK_DIR_ENV = "SHOPSTREAM_STACK_DIR"


def _port(var: str) -> int:
    value = os.environ.get(var, str(DEFAULT_PORTS[var]))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{var}={value!r} is not a TCP port: set it to a number between 1 and 65535.")
    return int(value)


def _folder(var: str, default: Path) -> Path:
    return Path(os.environ.get(var, default)).resolve()


@dataclass(frozen=True)
class StackSettings:
    """Everything the stack needs to know to start, find and stop its servers.

    ``stack_dir`` holds the servers' data, logs, pid files, generated credentials and the Airflow
    home: one git-ignored folder per stack, so the tests run their own stack beside the user's.
    ``pg_bin`` is None unless the environment names PostgreSQL's binaries. docker-compose.override.yml
    builds one for its containers' servers (no Airflow port of its own: the field's default).
    """

    stack_dir: Path
    venvs_dir: Path
    host: str
    postgres_port: int
    s3_port: int
    snowflake_port: int
    airflow_port: int = DEFAULT_PORTS[AIRFLOW_PORT_ENV]
    pg_bin: Path | None = None
    # The region the S3 server and its clients agree on (moto accepts any; boto3 needs one).
    s3_region: str = "us-east-1"
    # The Snowflake stand-in's DuckDB keeps at most this much data in memory and pages the rest out to
    # its database files (``snowflake_db_dir``).
    snowflake_memory_limit: str = "2GB"

    @classmethod
    def from_env(cls) -> StackSettings:
        """The settings of the environment; a port that is not a TCP port raises ValueError."""
        pg_bin = os.environ.get("SHOPSTREAM_PG_BIN", "").strip()
        return cls(
            stack_dir=_folder(STACK_DIR_ENV, PROJECT_ROOT / ".local" / "stack"),
            venvs_dir=_folder("SHOPSTREAM_VENVS_DIR", PROJECT_ROOT / ".local" / "venvs"),
            host="127.0.0.1",
            postgres_port=_port(PG_PORT_ENV),
            s3_port=_port(S3_PORT_ENV),
            snowflake_port=_port(SNOWFLAKE_PORT_ENV),
            airflow_port=_port(AIRFLOW_PORT_ENV),
            pg_bin=Path(pg_bin) if pg_bin else None,
        )

    @property
    def tls_dir(self) -> Path:
        return self.stack_dir / "tls"

    @property
    def snowflake_db_dir(self) -> Path:
        """The Snowflake stand-in's DuckDB database files, emptied each time it starts."""
        return self.stack_dir / "warehouse"

    @property
    def ca_bundle(self) -> Path:
        return self.tls_dir / "ca-bundle.pem"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def airflow_home(self) -> Path:
        return self.stack_dir / "airflow"

    def airflow_url(self, path: str = "") -> str:
        """The address of the stack's Airflow UI and REST API, ``path`` appended (``/dags/<id>``)."""
        return f"http://localhost:{self.airflow_port}{path}"
