"""Benchmark: how long the dag-processor takes to parse shopstream_elt (goal: under half a second).

Times ``DagBag(dag_folder=dags/shopstream_elt.py)`` in a process where Airflow is already imported,
which is the per-file cost a dag-processor pays on every re-parse. Cosmos renders from the dbt
manifest, so no dbt process and no database is involved.

    make bench          # or: python bench/bench_dag_parse.py --repeat 7

Its figures also go to output/bench.json (section "dag_parse"), which `make report` reads.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import airflow  # noqa: F401 - imported before the clock starts, and before Cosmos
from airflow.dag_processing.dagbag import DagBag

from include.shopstream.config import ELT_DAG_ID, dag_file

GOAL_S = 0.5
DAG_FILE = dag_file(ELT_DAG_ID)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    timings, tasks = [], 0
    from include.shopstream import dbt_manifest

    for _ in range(args.repeat + 1):  # the first parse warms the import cache: not counted
        dbt_manifest.forget()  # a dag-processor's parse runs in a fresh process: it reads the manifest again
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(DAG_FILE))
        timings.append(time.perf_counter() - started)
        if bag.import_errors:
            print(f"import errors: {bag.import_errors}", file=sys.stderr)
            return 1
        tasks = len(bag.dags[ELT_DAG_ID].tasks)
    measured = timings[1:]
    from embedded import figures

    figures.write(figures.BENCH, {
        "command": f"python bench/bench_dag_parse.py --repeat {args.repeat}", "machine": figures.machine(),
        "tasks": tasks, "first_parse_s": timings[0], "median_s": statistics.median(measured),
        "min_s": min(measured), "max_s": max(measured), "runs": len(measured), "goal_s": GOAL_S,
    }, section="dag_parse")
    print(f"command: python bench/bench_dag_parse.py --repeat {args.repeat}")
    print(f"DAG file: {DAG_FILE.name}, {tasks} tasks, first parse {timings[0]:.3f} s")
    print(
        f"DagBag parse over {len(measured)} runs: median {statistics.median(measured):.3f} s, "
        f"min {min(measured):.3f} s, max {max(measured):.3f} s (goal < {GOAL_S} s)"
    )
    return 0 if statistics.median(measured) < GOAL_S else 2


if __name__ == "__main__":
    sys.exit(main())
