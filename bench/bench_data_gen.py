"""Benchmark of the OLTP data generator: a full --reset history load into PostgreSQL at several sizes.

    cd <project root>
    SHOPSTREAM_PG_DSN='host=127.0.0.1 port=56432 user=postgres dbname=shopstream_bench' \\
        PYTHONPATH=. .local/venvs/airflow/bin/python bench/bench_data_gen.py --orders 100000 1000000

The test stack's PostgreSQL listens on 127.0.0.1:56432 (start it with the integration tests, or
``make`` targets of the project); the database named in the DSN is created if missing. It TRUNCATES
the six oltp tables of that database: never point it at data you want to keep.

Each size runs in a fresh process, so its peak RSS is its own: the figure must stay flat as --orders
grows (rows stream; only compact per-user and per-product arrays are kept). Printed per size: rows/s
per table (the one-pass orders/items/events time is shared by rows, see loader.copy_order_stream),
the time to rebuild indexes and foreign keys, the total rows/s of the whole transaction and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import subprocess
import sys
from datetime import date

import psycopg
from psycopg import conninfo, sql

from include.data_gen.__main__ import iso_date, positive_int
from include.data_gen.dsn import resolve_conninfo
from include.data_gen.generator import GeneratorOptions
from include.data_gen.loader import load


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=positive_int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=positive_int, default=365)
    parser.add_argument("--end-date", type=iso_date, default=date(2026, 11, 26))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_database(dsn: str) -> None:
    params = conninfo.conninfo_to_dict(dsn)
    name = params.get("dbname")
    if not name:
        return
    admin = conninfo.make_conninfo(dsn, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def run_one(args: argparse.Namespace) -> int:
    orders = args.orders[0]
    options = GeneratorOptions(orders=orders, days=args.days, end_date=args.end_date, seed=args.seed)
    report = load(options, resolve_conninfo(), reset=True, progress=lambda table, rows: None)
    print(f"--orders {orders:,} --days {args.days}: history load (--reset, one transaction, binary COPY)")
    print("\n".join("  " + line for line in report.format().splitlines()))
    print(f"  peak RSS: {peak_rss_mib():.0f} MiB")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.single:
        return run_one(args)
    print("command:", shlex.join([sys.executable, *sys.argv]))
    ensure_database(resolve_conninfo())
    for orders in args.orders:
        child = [sys.executable, __file__, "--single", "--orders", str(orders), "--days", str(args.days)]
        child += ["--end-date", args.end_date.isoformat(), "--seed", str(args.seed)]
        result = subprocess.run(child, check=False)
        if result.returncode:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
