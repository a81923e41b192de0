"""Where the source database is: a libpq conninfo read from the environment, never from code.

Two sources, in order:

1. ``SHOPSTREAM_PG_DSN``: any string libpq accepts (``postgresql://…`` URI or ``key=value`` conninfo).
2. ``AIRFLOW_CONN_POSTGRES_SHOPSTREAM``: the Airflow connection the DAG uses, so the generator and the
   DAG read the same database without a second setting. Airflow writes it either as a URI
   (``postgres://login:password@host:port/schema?extra=…``) or as JSON (``conn_type``, ``host``,
   ``port``, ``login``, ``password``, ``schema``, ``extra``); in both the database is Airflow's
   ``schema`` field. Extras that libpq knows (``sslmode``, ``connect_timeout``…) are kept, the others
   (Airflow-only settings) dropped, because libpq rejects unknown keywords.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import psycopg
from psycopg import conninfo, pq

from include.shopstream.config import SOURCE_CONN_ENV, SOURCE_DSN_ENV, source_dsn_variables

DSN_ENV = SOURCE_DSN_ENV
AIRFLOW_CONN_ENV = SOURCE_CONN_ENV
DEFAULT_CONNECT_TIMEOUT = "10"


class DsnError(ValueError):
    """The environment names no usable PostgreSQL connection."""


@lru_cache(maxsize=1)
def _libpq_keywords() -> frozenset[str]:
    return frozenset(opt.keyword.decode() for opt in pq.Conninfo.get_defaults())


def resolve_conninfo(environ: Mapping[str, str] | None = None) -> str:
    """The conninfo of the source database, with a connect timeout so an unreachable host fails fast.

    ``environ`` holds the two variables (tests pass their own); by default the environment's, read by
    include/shopstream/config.py (``source_dsn_variables``).
    """
    env = source_dsn_variables() if environ is None else environ
    if env.get(DSN_ENV, "").strip():
        source, raw = DSN_ENV, env[DSN_ENV].strip()
    elif env.get(AIRFLOW_CONN_ENV, "").strip():
        source, raw = AIRFLOW_CONN_ENV, airflow_conn_to_conninfo(env[AIRFLOW_CONN_ENV].strip())
    else:
        raise DsnError(
            f"no PostgreSQL connection: set {DSN_ENV} (a libpq DSN or URI) "
            f"or {AIRFLOW_CONN_ENV} (an Airflow connection URI or JSON)"
        )
    try:
        params = conninfo.conninfo_to_dict(raw)
    except psycopg.ProgrammingError:  # libpq's message may quote the string, password included
        raise DsnError(f"{source} is not a DSN libpq can parse") from None
    params.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    return conninfo.make_conninfo(**params)


def airflow_conn_to_conninfo(value: str) -> str:
    """Turn an Airflow connection (URI or JSON form) into a libpq conninfo string."""
    fields = _airflow_json_fields(value) if value.lstrip().startswith("{") else _airflow_uri_fields(value)
    params: dict[str, Any] = {
        "host": fields.get("host"),
        "port": fields.get("port"),
        "user": fields.get("login"),
        "password": fields.get("password"),
        "dbname": fields.get("schema"),
    }
    keywords = _libpq_keywords()
    for key, val in fields.get("extra", {}).items():
        if key in keywords and key not in params and val is not None:
            params[key] = str(val)
    return conninfo.make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def _airflow_json_fields(value: str) -> dict[str, Any]:
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise DsnError(f"{AIRFLOW_CONN_ENV} is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise DsnError(f"{AIRFLOW_CONN_ENV} JSON must be an object")
    _check_conn_type(str(data.get("conn_type", "postgres")))
    extra = data.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra.strip() else {}
    return {**data, "extra": extra}


def _airflow_uri_fields(value: str) -> dict[str, Any]:
    parts = urlsplit(value)
    _check_conn_type(parts.scheme)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    extra: dict[str, Any] = json.loads(query.pop("__extra__")) if "__extra__" in query else query
    return {
        "host": unquote(parts.hostname or "") if parts.hostname else None,
        "port": parts.port,
        "login": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "schema": unquote(parts.path.lstrip("/")) or None,
        "extra": extra,
    }


def _check_conn_type(conn_type: str) -> None:
    if conn_type.split("+", 1)[0].replace("-", "_") not in ("postgres", "postgresql"):
        raise DsnError(f"{AIRFLOW_CONN_ENV} must be a postgres connection, got conn_type {conn_type!r}")


def describe(conninfo_str: str) -> str:
    """``host:port/dbname`` for messages: never the password."""
    params = conninfo.conninfo_to_dict(conninfo_str)
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or params.get('user') or '?'}"
