"""Command line: generate the OLTP data set and load it into PostgreSQL.

    python -m include.data_gen --orders 2000 --days 30 --end-date 2026-11-26 --seed 42 [--reset]
    python -m include.data_gen --orders 2000 --dry-run
    python -m include.data_gen --next-day [--day 2026-11-26] [--orders N] --seed 42

History mode (default) refuses a database whose tables hold rows unless ``--reset`` (which empties the
six tables, named as such). ``--next-day`` simulates one more day in a database that holds a history
(see include/data_gen/next_day.py) and refuses an empty one. ``--dirty-rate R`` (default 0.02, so that
the demo's data-quality page has something to show; ``--dirty-rate 0`` for a clean source) injects the
documented dirty-data kinds (include/data_gen/generator.py, docs/data_generator.md).

The database comes from the environment (``SHOPSTREAM_PG_DSN``, else ``AIRFLOW_CONN_POSTGRES_SHOPSTREAM``).
Exit codes: 0 loaded; 2 bad options, refused (tables not empty), no or unreachable database;
1 a PostgreSQL error during the load (nothing is committed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import psycopg

from include.data_gen.dsn import AIRFLOW_CONN_ENV, DSN_ENV, DsnError, resolve_conninfo
from include.data_gen.generator import DEFAULT_BATCH_SIZE, DEFAULT_DIRTY_RATE, GeneratorOptions, OltpGenerator
from include.data_gen.loader import LoadError, LoadReport, load
from include.data_gen.next_day import NextDayReport, simulate_next_day
from include.shopstream.config import GENERATED_HISTORY_DAYS, GENERATED_ORDERS, GENERATOR_SEED


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


def dirty_rate(text: str) -> float:
    """argparse type: a probability in [0, 0.5]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be within [0, 0.5], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options; sizes other than orders derive from it (see GeneratorOptions)."""
    parser = argparse.ArgumentParser(
        prog="python -m include.data_gen",
        description=(
            "Generate ShopStream's OLTP data set (deterministic for a given seed and options) and load it "
            f"into PostgreSQL with COPY. The database comes from ${DSN_ENV}, else ${AIRFLOW_CONN_ENV}."
        ),
    )
    parser.add_argument(
        "--orders",
        type=positive_int,
        default=None,
        help=f"orders to generate (history: default {GENERATED_ORDERS}; --next-day: default the recent daily average)",
    )
    parser.add_argument(
        "--days",
        type=positive_int,
        default=GENERATED_HISTORY_DAYS,
        help=f"days of history (default {GENERATED_HISTORY_DAYS})",
    )
    parser.add_argument(
        "--end-date",
        type=iso_date,
        default=None,
        help="end of the history window, exclusive, UTC (default: today UTC)",
    )
    parser.add_argument("--seed", type=int, default=GENERATOR_SEED, help=f"random seed (default {GENERATOR_SEED})")
    parser.add_argument(
        "--dirty-rate",
        type=dirty_rate,
        default=DEFAULT_DIRTY_RATE,
        help=(
            "probability of each dirty-data kind per eligible row, within [0, 0.5] "
            f"(default {DEFAULT_DIRTY_RATE}; 0 for a clean source)"
        ),
    )
    parser.add_argument(
        "--day", type=iso_date, default=None, help="with --next-day: the day to simulate (default: the next one)"
    )
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, help="rows per COPY batch")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--reset", action="store_true", help="truncate the six oltp tables (restart identity) before loading"
    )
    mode.add_argument("--append", action="store_true", help="not supported for a history: use --next-day")
    mode.add_argument(
        "--next-day",
        action="store_true",
        help="simulate the day after the latest day in the database (inserts and updates stamped in that day)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the row counts, do not connect")
    return parser


def options_from_args(args: argparse.Namespace) -> GeneratorOptions:
    end = args.end_date or datetime.now(UTC).date()
    return GeneratorOptions(
        orders=args.orders or GENERATED_ORDERS, days=args.days, end_date=end, seed=args.seed, dirty_rate=args.dirty_rate
    )


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
        parser.error(
            "--append is not supported yet for a history (its ids start at 1 and would collide): "
            "use --next-day to add a day, or --reset to replace"
        )
    if args.day and not args.next_day:
        parser.error("--day only applies with --next-day (a history's last day is --end-date minus one)")
    if args.next_day:
        if args.dry_run:
            parser.error("--dry-run applies to a history only")
        return next_day(args)
    options = options_from_args(args)
    if args.dry_run:
        return dry_run(options)
    return write_and_report(
        lambda: load(options, resolve_conninfo(), reset=args.reset, batch_size=args.batch_size), "during the load"
    )


def next_day(args: argparse.Namespace) -> int:
    return write_and_report(
        lambda: simulate_next_day(
            resolve_conninfo(), seed=args.seed, day=args.day, orders=args.orders, dirty_rate=args.dirty_rate
        ),
        "simulating the day",
    )


def write_and_report(write: Callable[[], LoadReport | NextDayReport], during: str) -> int:
    """Run ``write`` (one transaction into the source) and print its report; return the exit code.

    2 when the environment names no usable database or the database refuses the write (the message
    says why), 1 when PostgreSQL fails during ``during`` (the transaction is rolled back), 0 otherwise.
    """
    try:
        report = write()
    except (DsnError, LoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"error: PostgreSQL failed {during}, nothing committed: {exc}".rstrip(), file=sys.stderr)
        return 1
    print(report.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
