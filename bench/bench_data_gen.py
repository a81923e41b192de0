"""Benchmark of the OLTP data generator: generation alone, then a full --reset load into PostgreSQL.

    cd <project root>
    SHOPSTREAM_PG_DSN=postgresql://postgres@127.0.0.1:55999/shopstream \\
        PYTHONPATH=. python bench/bench_data_gen.py --orders 20000

It TRUNCATES the six oltp tables of the target database. Prints the command, rows/s per table for
generation alone and for the load (generation + COPY + server work), the time spent rebuilding indexes
and foreign keys, the total, and the process's peak RSS (which must stay flat as --orders grows: rows
stream, only users and products are kept).
"""

from __future__ import annotations

import argparse
import resource
import shlex
import sys
import time
from datetime import date

from include.data_gen.__main__ import iso_date, positive_int
from include.data_gen.dsn import resolve_conninfo
from include.data_gen.generator import GeneratorOptions, OltpGenerator
from include.data_gen.loader import load


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=positive_int, default=20_000)
    parser.add_argument("--days", type=positive_int, default=30)
    parser.add_argument("--end-date", type=iso_date, default=date(2026, 11, 26))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-generate-only", action="store_true", help="measure the load only")
    return parser.parse_args(argv)


def bench_generation(options: GeneratorOptions) -> None:
    """Rows/s of the generator alone, per table (no database, nothing kept)."""
    generator = OltpGenerator(options)
    total_rows, total_seconds = 0, 0.0
    print("generation only (no database)")
    for table in generator.tables():
        started = time.perf_counter()
        rows = sum(1 for _ in generator.rows(table))
        seconds = time.perf_counter() - started
        total_rows += rows
        total_seconds += seconds
        print(f"  {table:<14} {rows:>10,} rows {seconds:>7.2f} s {rows / seconds:>10,.0f} rows/s")
    rate = total_rows / total_seconds
    print(f"  {'total':<14} {total_rows:>10,} rows {total_seconds:>7.2f} s {rate:>10,.0f} rows/s")


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = GeneratorOptions(orders=args.orders, days=args.days, end_date=args.end_date, seed=args.seed)
    print("command:", shlex.join([sys.executable, *sys.argv]))
    if not args.skip_generate_only:
        bench_generation(options)
        print(f"  peak RSS after generation: {peak_rss_mib():.0f} MiB")
    print("load (--reset, one transaction, binary COPY)")
    report = load(options, resolve_conninfo(), reset=True, progress=lambda table, rows: None)
    print("\n".join("  " + line for line in report.format().splitlines()))
    print(f"  peak RSS: {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
