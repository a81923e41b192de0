"""Where the embedded stack lives and listens. Ports and folders come from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from include.shopstream.config import PROJECT_ROOT


def _port(var: str, default: int) -> int:
    value = os.environ.get(var, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"{var}={value!r} is not a TCP port: set it to a number between 1 and 65535.")
    return int(value)


@dataclass(frozen=True)
class StackSettings:
    """Everything the stack needs to know to start, find and stop its servers.

    ``stack_dir`` holds the servers' data, logs, pid files, generated credentials and the Airflow
    home: one git-ignored folder per stack, so the tests run their own stack beside the user's.
    """

    stack_dir: Path
    venvs_dir: Path
    host: str
    postgres_port: int
    s3_port: int
    snowflake_port: int

    @classmethod
    def from_env(cls) -> StackSettings:
        return cls(
            stack_dir=Path(os.environ.get("SHOPSTREAM_STACK_DIR", PROJECT_ROOT / ".local" / "stack")).resolve(),
            venvs_dir=Path(os.environ.get("SHOPSTREAM_VENVS_DIR", PROJECT_ROOT / ".local" / "venvs")).resolve(),
            host="127.0.0.1",
            postgres_port=_port("SHOPSTREAM_PG_PORT", 55432),
            s3_port=_port("SHOPSTREAM_S3_PORT", 55500),
            snowflake_port=_port("SHOPSTREAM_SNOWFLAKE_PORT", 55443),
        )

    @property
    def tls_dir(self) -> Path:
        return self.stack_dir / "tls"

    @property
    def ca_bundle(self) -> Path:
        return self.tls_dir / "ca-bundle.pem"

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    @property
    def airflow_home(self) -> Path:
        return self.stack_dir / "airflow"
