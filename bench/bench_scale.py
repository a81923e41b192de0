"""Scale benchmark: the full load and one incremental day at growing source sizes, through the scheduler.

For each size, on a new stack of its own (``.local/scale-stack``, its own ports: `make run`'s stack and
its data are left alone), while a sampler reads the resident memory of every process of the stack
(PostgreSQL, S3, the Snowflake server, Airflow and its task processes, dbt) twice a second:

1. generate: the Faker generator writes ``N`` orders over ``--days`` days into PostgreSQL;
2. full load: a manual run of the last history day (RAW is empty: every row is extracted), with the
   DAG switched on; the scheduler's own run of the latest day follows it and finds nothing new;
3. incremental day: the next day is simulated in the source, then its manual run is followed.

It prints, per size and stage (generate; extract, load, dbt and report of each run), the wall time,
source rows per second and the peak memory of the largest single process during the stage, then the
growth factor between sizes, the machine and the commit. After each full load it also measures one
extract slice read with polars and with pandas (bench/extract_frames.py). Its last lines are a
Markdown table.
The figures also go to output/bench.json (section "scale").

    make bench-scale                          # 10,000, 100,000 and 1,000,000 orders
    make bench-scale SIZES=10000,100000       # the sizes to run, comma-separated
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.extract_frames import FrameResult
from bench.extract_frames import compare as compare_frames
from bench.extract_frames import table_lines as frame_lines
from embedded.settings import AIRFLOW_PORT_ENV, PG_PORT_ENV, S3_PORT_ENV, SNOWFLAKE_PORT_ENV, STACK_DIR_ENV
from include.shopstream.config import ELT_DAG_ID, POSTGRES_CONN_ID, PROJECT_ROOT, REPORT_EXPOSURE

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
# The scale stack's folder and ports, apart from `make run`'s (55xxx, 8080) and the tests' (56xxx, 58080).
SCALE_STACK = {
    STACK_DIR_ENV: str(PROJECT_ROOT / ".local" / "scale-stack"),
    PG_PORT_ENV: "54432", S3_PORT_ENV: "54500", SNOWFLAKE_PORT_ENV: "54443", AIRFLOW_PORT_ENV: "58090",
}
SAMPLE_S = 0.5
RUN_TIMEOUT_S = 3 * 3600.0
REPORT_TASK_ID = f"dbt.{REPORT_EXPOSURE}_exposure"


class MemorySampler(threading.Thread):
    """Samples, every ``SAMPLE_S``, the RSS of each process in the stack's process groups (each server
    leads its own) and of this process's children: ``peak_mb(start, end)`` is the largest single
    process's peak between two instants."""

    def __init__(self, leaders: list[int]) -> None:
        super().__init__(daemon=True)
        self.leaders = set(leaders)
        self.samples: list[tuple[float, float]] = []  # (epoch s, largest process RSS in MB)
        self._done = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.is_set():
            largest = 0
            procs = [*me.children(recursive=True)]
            for proc in psutil.process_iter(["pid"]):
                try:
                    if os.getpgid(proc.pid) in self.leaders:
                        procs.append(proc)
                except OSError:
                    continue
            for proc in procs:
                try:
                    largest = max(largest, proc.memory_info().rss)
                except psutil.Error:
                    continue
            self.samples.append((time.time(), largest / 2**20))
            self._done.wait(SAMPLE_S)

    def stop(self) -> None:
        self._done.set()
        self.join()

    def peak_mb(self, start: float, end: float) -> float | None:
        inside = [mb for t, mb in self.samples if start - SAMPLE_S <= t <= end + SAMPLE_S]
        return max(inside) if inside else None


@dataclass
class Stage:
    name: str
    seconds: float
    rows: int
    peak_mb: float | None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class SizeResult:
    orders: int
    source_rows: int
    stages: list[Stage] = field(default_factory=list)
    # Each run's wall time from its trigger to its end, by label ("full", "day").
    runs_s: dict[str, float] = field(default_factory=dict)
    frames: list[FrameResult] = field(default_factory=list)


def source_rows() -> int:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from include.shopstream.config import EXTRACTED_TABLES, SOURCE_SCHEMA

    hook = PostgresHook(postgres_conn_id=POSTGRES_CONN_ID)
    return sum(hook.get_first(f"select count(*) from {SOURCE_SCHEMA}.{t.name}")[0] for t in EXTRACTED_TABLES)


def raw_rows() -> int:
    from include.shopstream.layer_counts import warehouse_counts

    raw, _ = warehouse_counts()
    return sum(n or 0 for n in raw.values())


def run_stages(run: Any, label: str, rows: int, sampler: MemorySampler) -> list[Stage]:
    """The run's stages from its task instances: each from its first task's start to its last's end."""
    groups = {
        "extract": lambda t: t.startswith("extract."),
        "load": lambda t: t.startswith("load.") or t == "setup_warehouse",
        "dbt": lambda t: t.startswith("dbt.") and t != REPORT_TASK_ID,
        "report": lambda t: t == REPORT_TASK_ID,
    }
    stages = []
    for name, member in groups.items():
        tasks = [t for t in run.tasks.values() if member(t.task_id) and t.start_date and t.end_date]
        if not tasks:
            continue
        start, end = min(t.start_date for t in tasks), max(t.end_date for t in tasks)
        stages.append(Stage(f"{label} {name}", (end - start).total_seconds(), rows,
                            sampler.peak_mb(start.timestamp(), end.timestamp())))
    return stages


def follow(client: Any, day: date, label: str) -> Any:
    run_id = f"scale__{label}__{day}__{datetime.now(UTC):%Y%m%dT%H%M%S}"
    client.trigger(ELT_DAG_ID, day=day, run_id=run_id, run_after=datetime(day.year, day.month, day.day, tzinfo=UTC))
    client.set_paused(ELT_DAG_ID, False)
    run = client.follow(ELT_DAG_ID, run_id, timeout_s=RUN_TIMEOUT_S)
    print(f"  {label} run {run_id}: {run.state} in {run.duration_s or 0:.0f} s", flush=True)
    if run.state != "success":
        raise SystemExit(f"{label} run {run.state}: {run.failed()}")
    return run


def wait_idle(client: Any) -> None:
    """Wait for the runs the scheduler queued or started (its own run of the latest day)."""
    while any(r["state"] in ("queued", "running") for r in client.runs(ELT_DAG_ID)):
        time.sleep(2)


def measure(orders: int, days: int) -> SizeResult:
    """One size on a new stack, stopped at the end."""
    from embedded import airflow_server, stack
    from embedded.dag_runs import AirflowClient
    from embedded.settings import StackSettings

    settings = StackSettings.from_env()
    airflow_server.stop(settings)
    stack.stop(settings)
    shutil.rmtree(settings.stack_dir, ignore_errors=True)
    stack.start(settings)
    # The history ends four days ago: the scheduler's run of the latest day (after the full load)
    # then finds nothing new, and the incremental day is the day after the history.
    full_day = datetime.now(UTC).date() - timedelta(days=4)
    sampler = MemorySampler([pid for server in stack.servers(settings) if (pid := server.pid())])
    sampler.start()
    try:
        print(f"\n{orders:,} orders over {days} days", flush=True)
        started = time.time()
        subprocess.run([sys.executable, "-m", "include.data_gen", "--reset", "--orders", str(orders),
                        "--days", str(days), "--end-date", (full_day + timedelta(days=1)).isoformat()],
                       check=True, cwd=PROJECT_ROOT)
        ended = time.time()
        result = SizeResult(orders, source_rows())
        result.stages.append(Stage("generate", ended - started, result.source_rows, sampler.peak_mb(started, ended)))

        print(airflow_server.start(settings), flush=True)
        sampler.leaders.add(airflow_server.server(settings).pid() or 0)
        client = AirflowClient()
        client.wait_for_dag(ELT_DAG_ID)
        full = follow(client, full_day, "full")
        result.runs_s["full"] = full.duration_s or 0.0
        result.stages += run_stages(full, "full", result.source_rows, sampler)
        wait_idle(client)
        result.frames = compare_frames()
        print("\n".join(frame_lines(result.frames)), flush=True)

        from include.data_gen.dsn import resolve_conninfo
        from include.data_gen.next_day import simulate_next_day

        before = raw_rows()
        print(simulate_next_day(resolve_conninfo(), day=full_day + timedelta(days=1)).format(), flush=True)
        day = follow(client, full_day + timedelta(days=1), "day")
        result.runs_s["day"] = day.duration_s or 0.0
        result.stages += run_stages(day, "day", raw_rows() - before, sampler)
        return result
    finally:
        sampler.stop()
        print(airflow_server.stop(settings))
        for line in stack.stop(settings):
            print(line)


def table(results: list[SizeResult]) -> list[str]:
    names = [s.name for s in results[0].stages]
    head = "| stage | " + " | ".join(f"{r.orders:,} orders ({r.source_rows:,} rows)" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for name in names:
        cells = []
        for r in results:
            stage = next((s for s in r.stages if s.name == name), None)
            cells.append("" if stage is None else
                         f"{stage.seconds:.1f} s, {stage.rows_per_s:,.0f} rows/s, {stage.peak_mb or 0:,.0f} MB")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for label in ("full", "day"):
        cells = [f"{r.runs_s.get(label, 0):.0f} s, "
                 f"{max((s.peak_mb or 0) for s in r.stages if s.name.startswith(label)):,.0f} MB" for r in results]
        lines.append(f"| {label} run, trigger to end | " + " | ".join(cells) + " |")
    return lines


def growth(results: list[SizeResult]) -> list[str]:
    lines = []
    for smaller, larger in itertools.pairwise(results):
        factor = larger.orders / smaller.orders
        for name in (s.name for s in larger.stages):
            a = next((s for s in smaller.stages if s.name == name), None)
            b = next(s for s in larger.stages if s.name == name)
            if a and a.seconds > 0:
                lines.append(f"  {name:<16} x{b.seconds / a.seconds:5.2f} time for x{factor:g} orders "
                             f"({smaller.orders:,} -> {larger.orders:,})")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="orders per size, comma-separated (default: %(default)s)")
    parser.add_argument("--days", type=int, default=30, help="days of history (default: %(default)s)")
    args = parser.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be integers separated by commas, not {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.days < 1:
        parser.error("--sizes and --days must be positive")

    for name, value in SCALE_STACK.items():
        os.environ.setdefault(name, value)
    from embedded import figures
    from embedded.environment import stack_environment
    from embedded.settings import StackSettings

    os.environ.update(stack_environment(StackSettings.from_env()))
    # This process's hooks log each statement at INFO; the Airflow it starts keeps INFO (its environment).
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    results = []
    for orders in sorted(sizes):
        results.append(measure(orders, args.days))
        print(f"\n{orders:,} orders ({results[-1].source_rows:,} source rows), measured:")
        for stage in results[-1].stages:
            print(f"  {stage.name:<16}{stage.seconds:8.1f} s {stage.rows_per_s:12,.0f} rows/s "
                  f"{stage.peak_mb or 0:8,.0f} MB", flush=True)

    machine = figures.machine()
    memory_gb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    print(f"\ncommand: make bench-scale SIZES={','.join(map(str, sorted(sizes)))}   (commit {machine['commit']}, "
          f"{machine['arch']}, {machine['cores']} cores, {memory_gb:.0f} GB, Python {machine['python']}); "
          "each cell: wall time, rows per second, peak RSS of the largest process")
    print("growth between sizes:")
    print("\n".join(growth(results)))
    for r in results:
        print(f"\none extract slice at {r.orders:,} orders, polars against pandas (pyarrow backend):")
        print("\n".join(frame_lines(r.frames)))
    print()
    print("\n".join(table(results)))
    figures.write(figures.BENCH, {
        "command": "make bench-scale", "machine": machine, "days": args.days,
        "sizes": [{"orders": r.orders, "source_rows": r.source_rows,
                   "runs_s": r.runs_s, "frames": [asdict(f) for f in r.frames],
                   "stages": [{"name": s.name, "seconds": s.seconds, "rows": s.rows, "peak_mb": s.peak_mb}
                              for s in r.stages]} for r in results],
    }, section="scale")
    return 0


if __name__ == "__main__":
    sys.exit(main())
