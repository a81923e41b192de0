"""Load generated rows into PostgreSQL with binary COPY, all tables in one transaction.

Why: COPY is the fastest way in, and one transaction means a failed or interrupted load leaves the
database exactly as it was. The DDL is applied first (it is idempotent), so a fresh database needs no
separate setup step. Rows are encoded to the binary COPY format by ``include.data_gen.encoding`` (not by
psycopg's per-value adapters) and orders, items and events are drawn in a single pass
(``copy_order_stream``): about 100,000 rows/s on a two-core machine (bench/bench_data_gen.py).

Safety: the loader never mixes a new data set into existing rows. If any table holds rows it refuses,
unless ``reset`` is asked for, which empties the six tables (named explicitly) and restarts their ids.
Appending a history is not supported (its ids start at 1); ``include.data_gen.next_day`` adds a day.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import psycopg
from psycopg import sql

from include.data_gen.dsn import describe
from include.data_gen.encoding import SIGNATURE
from include.data_gen.generator import DEFAULT_BATCH_SIZE, GeneratorOptions, OltpGenerator, codec, copy_columns
from include.shopstream.config import DELETED_ROWS, SOURCE_SCHEMA, SQL_DIR, TABLES_BY_NAME

DDL_DIR = SQL_DIR / "postgres"
EXIT_REFUSED = 2
SPOOL_CHUNK = 1 << 20


class LoadError(RuntimeError):
    """A load that must stop with a one-line message and exit code 2 (no traceback)."""

    exit_code = EXIT_REFUSED


class TablesNotEmptyError(LoadError):
    """The target tables already hold rows and neither reset nor append was asked for."""


@dataclass
class TableStats:
    """Rows written to one table and the seconds its COPY took."""

    table: str
    rows: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class LoadReport:
    """The outcome of one load: per-table figures and the wall time of the whole transaction."""

    tables: list[TableStats] = field(default_factory=list)
    seconds: float = 0.0
    constraint_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        """A small aligned table for the terminal."""
        lines = [f"{'table':<14} {'rows':>12} {'seconds':>8} {'rows/s':>10}"]
        for t in self.tables:
            lines.append(f"{t.table:<14} {t.rows:>12,} {t.seconds:>8.2f} {t.rows_per_second:>10,.0f}")
        lines.append(f"{'(indexes, FKs)':<14} {'':>12} {self.constraint_seconds:>8.2f}")
        lines.append(f"{'total':<14} {self.total_rows:>12,} {self.seconds:>8.2f} {self.rows_per_second:>10,.0f}")
        return "\n".join(lines)


def ddl_files(directory: Path = DDL_DIR) -> list[Path]:
    """The OLTP DDL scripts, in name order (``001_…``, ``002_…``)."""
    return sorted(directory.glob("*.sql"))


def _qualified(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SOURCE_SCHEMA), sql.Identifier(table))


def connect(conninfo: str) -> psycopg.Connection:
    """Open a connection, turning libpq's multi-line failure into a one-line ``LoadError``."""
    try:
        return psycopg.connect(conninfo)
    except psycopg.OperationalError as exc:
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "unknown error")
        raise LoadError(f"cannot connect to PostgreSQL at {describe(conninfo)}: {reason}") from None


def apply_ddl(conn: psycopg.Connection, files: list[Path] | None = None) -> None:
    """Run each DDL script whole (no parameters: psycopg sends it as one multi-statement query)."""
    for path in ddl_files() if files is None else files:
        conn.execute(path.read_text(encoding="utf-8").encode())


def non_empty_tables(conn: psycopg.Connection, tables: tuple[str, ...]) -> list[str]:
    """The tables that hold at least one row."""
    found = []
    for table in tables:
        query = sql.SQL("select exists (select 1 from {})").format(_qualified(table))
        row = conn.execute(query).fetchone()
        if row and row[0]:
            found.append(table)
    return found


def truncate(conn: psycopg.Connection, tables: tuple[str, ...]) -> None:
    """Empty exactly these tables and restart their identities (cascade covers their dependants)."""
    names = sql.SQL(", ").join(_qualified(t) for t in tables)
    conn.execute(sql.SQL("truncate table {} restart identity cascade").format(names))


def reset_identity(conn: psycopg.Connection, table: str) -> None:
    """Move the identity past the explicit ids we wrote, so the application's next insert does not clash."""
    pk = TABLES_BY_NAME[table].primary_key
    query = sql.SQL(
        "select setval(pg_get_serial_sequence({name}, {pk}), coalesce(max({pk_id}), 1),"
        " max({pk_id}) is not null) from {table}"
    ).format(
        name=sql.Literal(f"{SOURCE_SCHEMA}.{table}"),
        pk=sql.Literal(pk),
        pk_id=sql.Identifier(pk),
        table=_qualified(table),
    )
    conn.execute(query)


@dataclass(frozen=True)
class DeferredDdl:
    """Foreign keys and secondary indexes set aside during a bulk load, with the DDL that restores them."""

    drop: list[sql.Composable]
    restore: list[sql.Composable]


def defer_constraints(conn: psycopg.Connection, tables: tuple[str, ...]) -> DeferredDdl:
    """Drop the tables' foreign keys and non-constraint indexes; return how to recreate them identically.

    Why: checking a foreign key row by row and maintaining three indexes per row costs the server more
    than the client spends generating the row (measured: 100k events load in 2.7 s with them, 1.0 s
    without, plus 0.2 s to rebuild). PostgreSQL's own advice for bulk loads ("Populating a Database")
    is to add them afterwards. The definitions are read back from the catalog (``pg_get_constraintdef``,
    ``pg_get_indexdef``), so nothing is repeated from the DDL, and everything happens in the load's
    transaction: a failed load rolls the drops back too. Primary keys and unique constraints stay.
    """
    rels = [f"{SOURCE_SCHEMA}.{t}" for t in tables]
    fks = conn.execute(
        "select c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) from pg_constraint c "
        "where c.contype = 'f' and c.conrelid = any(%s::regclass[]) order by 1, 2",
        (rels,),
    ).fetchall()
    indexes = conn.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i "
        "where i.indrelid = any(%s::regclass[]) and not exists "
        "(select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 1",
        (rels,),
    ).fetchall()
    deferred = DeferredDdl(drop=[], restore=[])
    for rel, name, definition in fks:
        table = sql.SQL(rel)  # regclass text: already quoted and schema-qualified as needed
        deferred.drop.append(sql.SQL("alter table {} drop constraint {}").format(table, sql.Identifier(name)))
        deferred.restore.append(
            sql.SQL("alter table {} add constraint {} {}").format(table, sql.Identifier(name), sql.SQL(definition))
        )
    for index, definition in indexes:
        deferred.drop.append(sql.SQL("drop index {}").format(sql.SQL(index)))
        deferred.restore.insert(0, sql.SQL(definition))  # indexes first: the FK checks then use them
    for statement in deferred.drop:
        conn.execute(statement)
    return deferred


def restore_constraints(conn: psycopg.Connection, deferred: DeferredDdl) -> None:
    """Recreate what ``defer_constraints`` dropped; adding a foreign key validates every loaded row."""
    for statement in deferred.restore:
        conn.execute(statement)


def column_types(conn: psycopg.Connection, table: str, columns: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type of each column, read from the catalog."""
    query = sql.SQL(
        "select a.attname, t.typname from pg_attribute a join pg_type t on t.oid = a.atttypid "
        "where a.attrelid = {rel}::regclass and a.attnum > 0 and not a.attisdropped"
    ).format(rel=sql.Literal(f"{SOURCE_SCHEMA}.{table}"))
    types = {name: typ for name, typ in conn.execute(query).fetchall()}
    missing = [c for c in columns if c not in types]
    if missing:
        raise LoadError(f"{SOURCE_SCHEMA}.{table} has no column(s) {', '.join(missing)}: DDL and config differ")
    return [types[c] for c in columns]


def check_column_types(conn: psycopg.Connection, table: str) -> None:
    """Refuse to send binary data a column would misread (the DDL changed but not the generator)."""
    table_codec = codec(table)
    wrong = table_codec.check_types(column_types(conn, table, table_codec.columns))
    if wrong:
        raise LoadError(f"{SOURCE_SCHEMA}.{table}: {'; '.join(wrong)}: DDL and generator differ")


def copy_statement(table: str) -> sql.Composed:
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in copy_columns(table))
    return sql.SQL("copy {} ({}) from stdin (format binary)").format(_qualified(table), columns)


class Progress:
    """Throttled progress lines on stderr (one every ``every`` seconds at most) with the running rate."""

    def __init__(self, stream: TextIO | None = None, every: float = 2.0) -> None:
        self.stream = stream
        self.every = every
        self.started = time.perf_counter()
        self.last = self.started

    def __call__(self, table: str, rows: int) -> None:
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            print(f"  {table}: {rows:,} rows ({now - self.started:.0f} s)", file=self.stream or sys.stderr, flush=True)


class RowSink:
    """Encoded rows of one table, buffered and flushed to a COPY (or to a spool file) in big writes."""

    def __init__(self, table: str, write: Callable[[bytes], object], batch_size: int) -> None:
        self.table = table
        self.encode = codec(table).encode
        self.write = write
        self.batch_size = batch_size
        self.buffer: list[bytes] = [SIGNATURE]
        self.rows = 0

    def add(self, row: tuple) -> None:
        self.buffer.append(self.encode(row))
        if len(self.buffer) > self.batch_size:
            self.flush()

    def add_many(self, rows: list[tuple]) -> None:
        encode = self.encode
        self.buffer.extend([encode(r) for r in rows])
        if len(self.buffer) > self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.rows += len(self.buffer) - (1 if self.buffer[0] is SIGNATURE else 0)
            self.write(b"".join(self.buffer))
            self.buffer = []


def copy_rows(
    conn: psycopg.Connection,
    table: str,
    rows: Iterable[tuple],
    batch_size: int,
    progress: Callable[[str, int], None],
) -> TableStats:
    """COPY raw rows into one table (binary format, encoded here)."""
    stats = TableStats(table)
    started = time.perf_counter()
    with conn.cursor() as cur, cur.copy(copy_statement(table)) as copy:
        sink = RowSink(table, copy.write, batch_size)
        for n, row in enumerate(rows, 1):
            sink.add(row)
            if n % batch_size == 0:
                progress(table, n)
        sink.flush()
    stats.rows = sink.rows
    stats.seconds = time.perf_counter() - started
    return stats


def copy_order_stream(
    conn: psycopg.Connection,
    generator: OltpGenerator,
    batch_size: int,
    progress: Callable[[str, int], None],
) -> list[TableStats]:
    """Orders, items and events in one pass over the orders (each order's rows are drawn once).

    Events (the biggest table) stream straight into their COPY; orders and items are encoded into
    temporary spool files and copied afterwards, so memory stays flat and nothing is generated twice.
    The pass's time is shared between the three tables by rows; each spool's COPY is added to its table.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as orders_spool, tempfile.TemporaryFile() as items_spool:
        with conn.cursor() as cur, cur.copy(copy_statement("events")) as copy:
            events = RowSink("events", copy.write, batch_size)
            orders = RowSink("orders", orders_spool.write, batch_size)
            items = RowSink("order_items", items_spool.write, batch_size)
            for n, (order, order_items, order_events) in enumerate(generator.order_stream(), 1):
                orders.add(order)
                items.add_many(order_items)
                events.add_many(order_events)
                if n % batch_size == 0:
                    progress("orders+items+events", n)
            for sink in (events, orders, items):
                sink.flush()
        pass_seconds = time.perf_counter() - started
        total = orders.rows + items.rows + events.rows
        stats = [TableStats(s.table, s.rows, pass_seconds * s.rows / total) for s in (orders, items, events)]
        for spool, stat in ((orders_spool, stats[0]), (items_spool, stats[1])):
            spool_started = time.perf_counter()
            spool.seek(0)
            with conn.cursor() as cur, cur.copy(copy_statement(stat.table)) as copy:
                while chunk := spool.read(SPOOL_CHUNK):
                    copy.write(chunk)
            stat.seconds += time.perf_counter() - spool_started
    return stats


def stderr_progress(stream: TextIO | None = None) -> Callable[[str, int], None]:
    """A progress callback printing ``table: n rows`` lines, at most one every two seconds."""
    return Progress(stream)


def load(
    options: GeneratorOptions,
    conninfo: str,
    *,
    reset: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Apply the DDL and load a generated data set; nothing is committed unless every table loads."""
    generator = OltpGenerator(options)
    tables = generator.tables()
    report_progress = progress or stderr_progress()
    report = LoadReport()
    started = time.perf_counter()
    with connect(conninfo) as conn, conn.transaction():
        apply_ddl(conn)
        filled = non_empty_tables(conn, tables)
        if filled and not reset:
            raise TablesNotEmptyError(
                f"{SOURCE_SCHEMA} tables already hold rows ({', '.join(filled)}) at {describe(conninfo)}: "
                "nothing loaded; pass --reset to replace them"
            )
        if reset:
            # The delete log goes with the rows it records: a new history has deleted nothing yet.
            truncate(conn, (*tables, DELETED_ROWS.name))
        for table in tables:
            check_column_types(conn, table)
        deferred = defer_constraints(conn, tables)
        by_table: dict[str, TableStats] = {}
        for table in ("users", "products", "crm_contacts"):
            by_table[table] = copy_rows(conn, table, generator.raw_rows(table), batch_size, report_progress)
        for stat in copy_order_stream(conn, generator, batch_size, report_progress):
            by_table[stat.table] = stat
        for table in tables:
            report.tables.append(by_table[table])
            reset_identity(conn, table)
        finishing = time.perf_counter()
        restore_constraints(conn, deferred)
        report.constraint_seconds = time.perf_counter() - finishing
    report.seconds = time.perf_counter() - started
    return report
