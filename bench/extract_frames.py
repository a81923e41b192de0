"""polars against pandas (pyarrow backend) for one extract slice: time, peak memory, exact money.

The extract operator (include/shopstream/extract.py) reads each slice into a DataFrame and writes it
as Parquet. ``SqlToS3Operator`` offers ``df_type="polars"`` or ``"pandas"``; this measures both on the
first slice (``EXTRACT_SLICE_ROWS`` rows) of a source table, each in a fresh process so that one's
memory cannot hide the other's: wall time of the read and the Parquet write, the process's peak RSS
above its RSS once imports are done, the Parquet size, and the Arrow type a ``numeric(12,2)`` column
lands as (``decimal128`` is exact, ``double`` is not).

Run by `make bench-scale` after each full load; alone, against the stack of the environment:

    .local/venvs/airflow/bin/python -m embedded exec -- .local/venvs/airflow/bin/python -m bench.extract_frames
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass

from include.shopstream.config import EXTRACT_SLICE_ROWS, POSTGRES_CONN_ID, PROJECT_ROOT, TABLES_BY_NAME

DF_TYPES = ("polars", "pandas")
TABLES = ("order_items", "events")


@dataclass(frozen=True)
class FrameResult:
    table: str
    df_type: str
    rows: int
    seconds: float
    peak_mb: float  # peak RSS above the RSS after imports
    parquet_mb: float
    money_type: str  # the Arrow type of the table's first numeric column, or "-" when it has none


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(table_name: str, df_type: str) -> FrameResult:
    """Read and write one slice of ``table_name`` in this process (call it in a fresh one)."""
    import pyarrow.parquet as pq
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from include.shopstream.extract import changed_rows_query, window_slices

    table = TABLES_BY_NAME[table_name]
    hook = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    window = {"since": "-infinity", "until": "infinity"}
    with hook.get_conn() as conn:
        key_from, key_to = window_slices(conn.cursor(), table, **window, slice_rows=EXTRACT_SLICE_ROWS)[0]
    params = {**window, "key_from": key_from, "key_to": key_to, "source_file": "s3://bench/part-00000.parquet"}
    import pandas  # noqa: F401  imported before the baseline, as polars is by the hook
    import polars  # noqa: F401

    baseline = _rss_mb()
    started = time.perf_counter()
    buffer = io.BytesIO()
    if df_type == "polars":
        frame = hook.get_df(sql=changed_rows_query(table), parameters={"params": params}, df_type="polars")
        frame.write_parquet(buffer)
        rows = frame.height
    else:
        frame = hook.get_df(sql=changed_rows_query(table), parameters=params, df_type="pandas",
                            dtype_backend="pyarrow")
        frame.to_parquet(buffer)
        rows = len(frame)
    seconds = time.perf_counter() - started
    schema = pq.read_schema(io.BytesIO(buffer.getvalue()))
    numeric = [column for column, kind in table.source_types.items() if kind.startswith("numeric")]
    money = str(schema.field(numeric[0]).type) if numeric else "-"
    return FrameResult(table_name, df_type, rows, round(seconds, 2), round(_rss_mb() - baseline, 1),
                       round(buffer.tell() / 2**20, 1), money)


def compare(tables: tuple[str, ...] = TABLES) -> list[FrameResult]:
    """Each table and DataFrame type measured in a process of its own, in the current environment."""
    results = []
    for table in tables:
        for df_type in DF_TYPES:
            out = subprocess.run(
                [sys.executable, "-m", "bench.extract_frames", "--one", table, df_type],
                check=True, capture_output=True, text=True, cwd=PROJECT_ROOT,
            ).stdout
            results.append(FrameResult(**json.loads(out.strip().splitlines()[-1])))
    return results


def table_lines(results: list[FrameResult]) -> list[str]:
    lines = ["| table | DataFrame | rows | read + write s | peak MB | Parquet MB | numeric(12,2) as |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.table} | {r.df_type} | {r.rows:,} | {r.seconds} | {r.peak_mb:,.0f} | {r.parquet_mb} | "
              f"{r.money_type} |" for r in results]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=2, metavar=("TABLE", "DF_TYPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(asdict(measure(*args.one))))
        return
    print("\n".join(table_lines(compare())))


if __name__ == "__main__":
    main()
