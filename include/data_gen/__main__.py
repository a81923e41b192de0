"""Command line: generate the OLTP data set and load it into PostgreSQL.

    python -m include.data_gen --orders 2000 --days 30 --end-date 2026-11-26 --seed 42 [--reset]
    python -m include.data_gen --orders 2000 --dry-run

The database comes from the environment (``SHOPSTREAM_PG_DSN``, else ``AIRFLOW_CONN_POSTGRES_SHOPSTREAM``).
Exit codes: 0 loaded; 2 bad options, refused (tables not empty), no or unreachable database;
1 a PostgreSQL error during the load (nothing is committed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime

import psycopg

from include.data_gen.dsn import AIRFLOW_CONN_ENV, DSN_ENV, DsnError, resolve_conninfo
from include.data_gen.generator import DEFAULT_BATCH_SIZE, GeneratorOptions, OltpGenerator
from include.data_gen.loader import LoadError, load


def positive_int(text: str) -> int:
    """argparse type: an integer > 0 (a zero-order data set is a mistake, not a request)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def iso_date(text: str) -> date:
    """argparse type: a calendar date ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options; sizes other than orders derive from it (see GeneratorOptions)."""
    parser = argparse.ArgumentParser(
        prog="python -m include.data_gen",
        description=(
            "Generate ShopStream's OLTP data set (deterministic for a given seed and options) and load it "
            f"into PostgreSQL with COPY. The database comes from ${DSN_ENV}, else ${AIRFLOW_CONN_ENV}."
        ),
    )
    parser.add_argument("--orders", type=positive_int, default=2000, help="orders to generate (default 2000)")
    parser.add_argument("--days", type=positive_int, default=30, help="days of history (default 30)")
    parser.add_argument(
        "--end-date",
        type=iso_date,
        default=None,
        help="end of the history window, exclusive, UTC (default: today UTC)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, help="rows per COPY batch"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--reset", action="store_true", help="truncate the six oltp tables (restart identity) before loading"
    )
    mode.add_argument("--append", action="store_true", help="not supported yet (ids would collide)")
    parser.add_argument("--dry-run", action="store_true", help="print the row counts, do not connect")
    return parser


def options_from_args(args: argparse.Namespace) -> GeneratorOptions:
    end = args.end_date or datetime.now(UTC).date()
    return GeneratorOptions(orders=args.orders, days=args.days, end_date=end, seed=args.seed)


def dry_run(options: GeneratorOptions) -> int:
    """Print the row counts a load would write, without generating the rows or connecting."""
    counts = OltpGenerator(options).expected_counts()
    window = f"[{options.window_start.isoformat()}, {options.window_end.isoformat()})"
    print(f"dry run: window {window}, seed {options.seed}")
    for table, rows in counts.items():
        print(f"{table:<14} {rows:>12,}")
    print(f"{'total':<14} {sum(counts.values()):>12,}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.append:
        parser.error("--append is not supported yet: generated ids start at 1 and would collide; use --reset")
    options = options_from_args(args)
    if args.dry_run:
        return dry_run(options)
    try:
        report = load(options, resolve_conninfo(), reset=args.reset, batch_size=args.batch_size)
    except (DsnError, LoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"error: PostgreSQL failed during the load, nothing committed: {exc}".rstrip(), file=sys.stderr)
        return 1
    print(report.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
