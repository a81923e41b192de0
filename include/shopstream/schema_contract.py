"""Schema drift: the source's columns compared with the data contract before every extraction.

The contract is ``config.SOURCE_COLUMN_TYPES`` (with each table's select list in ``config.TABLES``).
Each ``extract.<table>`` task reads its table's columns from PostgreSQL's ``information_schema`` just
before its query, compares them with the contract (``compare_columns``, a pure function) and acts on
each finding:

========== ======================================================= ===================================
kind       what changed in the source                              what the run does
========== ======================================================= ===================================
ADDED      a column the contract does not have                     warns, extracts the contract's
                                                                   columns: RAW is not altered
RESIZED    same kind of value, another size (varchar length,       warns, extracts into RAW's contract
           text <-> varchar, integer width, numeric precision      type: a value that does not fit it
           with no more decimals)                                  fails the cast or the COPY loudly
DROPPED    a contract column is gone (or not readable)             fails the table's extraction at once
RETYPED    any other type change (text -> integer, more decimals,  fails the table's extraction at once
           timestamptz -> timestamp, a char length, ...)
========== ======================================================= ===================================

Each finding is a WARNING or ERROR log line in the task's log and one JSON line (``level``,
``kind``: ``schema_drift``, table, column, change, types, action) in the run's failures log
(``include/shopstream/notify.py``). A blocking finding raises ``AirflowFailException``: no retry (the
schema will not change back by itself), RAW untouched; the other tables extract and load, dbt does
not run (it waits for every load), and the next run after the fix extracts everything since the
table's last load.

New columns are not landed automatically: RAW's columns are a reviewed contract (dbt's sources and
tests; a new column may hold personal data nobody has classified), and a new column's type in RAW
(money's precision, JSON, time zones) is a decision, not a guess. The warning says how to adopt it;
docs/architecture.md has the procedure.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from include.shopstream.config import RAW_SCHEMA, SOURCE_SCHEMA, SourceTable

log = logging.getLogger(__name__)

SOURCE_COLUMNS_SQL = """\
select column_name, data_type, udt_name, character_maximum_length, numeric_precision, numeric_scale
from information_schema.columns
where table_schema = %s
  and table_name = %s
order by ordinal_position
"""

INTEGERS = ("smallint", "integer", "bigint")
VARIABLE_STRINGS = ("character varying", "text")
STRINGS = ("character", *VARIABLE_STRINGS)
_SPELLED = re.compile(r"^\s*(?P<name>[a-z][a-z0-9_ ]*?)\s*(?:\(\s*(?P<a>\d+)\s*(?:,\s*(?P<b>\d+)\s*)?\))?\s*$")


class ContractError(ValueError):
    """A type in the contract (config.SOURCE_COLUMN_TYPES) that this module cannot read."""


@dataclass(frozen=True)
class ColumnType:
    """A PostgreSQL column type as ``information_schema.columns`` describes it.

    ``data_type`` is its ``data_type`` (``udt_name`` for enums, domains' bases aside, and arrays);
    ``length`` is ``character_maximum_length`` (character types only); ``precision`` and ``scale``
    are set for ``numeric`` only (both None when it is unconstrained).
    """

    data_type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    @classmethod
    def parse(cls, spelled: str) -> ColumnType:
        """Read the contract's spelling: ``bigint``, ``character(2)``, ``numeric(12,2)``, ``numeric``.

        Raises ``ContractError`` for a spelling it cannot read.
        """
        match = _SPELLED.match(spelled.lower())
        if not match:
            raise ContractError(f"cannot read the contract type {spelled!r}: write it as information_schema's "
                                "data_type, with (length) or (precision,scale), e.g. 'numeric(12,2)'")
        name, a, b = match["name"], match["a"], match["b"]
        if name == "numeric":
            return cls(name, precision=int(a) if a else None, scale=(int(b) if b else 0) if a else None)
        if b is not None:
            raise ContractError(f"{spelled!r}: only numeric takes (precision,scale)")
        return cls(name, length=int(a) if a else None)

    @classmethod
    def from_information_schema(
        cls,
        data_type: str,
        udt_name: str,
        character_maximum_length: int | None,
        numeric_precision: int | None,
        numeric_scale: int | None,
    ) -> ColumnType:
        """One ``information_schema.columns`` row's type (its precision is kept for numeric only:
        integers report their binary width there)."""
        if data_type == "numeric":
            return cls("numeric", precision=numeric_precision, scale=numeric_scale)
        if data_type in ("USER-DEFINED", "ARRAY"):
            return cls(udt_name)
        return cls(data_type, length=character_maximum_length)

    def __str__(self) -> str:
        if self.precision is not None:
            return f"{self.data_type}({self.precision},{self.scale})"
        if self.length is not None:
            return f"{self.data_type}({self.length})"
        return self.data_type


class DriftKind(enum.Enum):
    """How a source column differs from the contract (see the module's table)."""

    ADDED = "added"
    DROPPED = "dropped"
    RETYPED = "retyped"
    RESIZED = "resized"

    @property
    def blocking(self) -> bool:
        """True when extracting anyway would lose or corrupt data: the table's extraction fails."""
        return self in (DriftKind.DROPPED, DriftKind.RETYPED)


@dataclass(frozen=True)
class DriftFinding:
    """One column of one source table that differs from the contract.

    ``expected`` is the contract's type (None for an added column), ``found`` the source's (None for a
    dropped one).
    """

    table: str
    column: str
    kind: DriftKind
    expected: ColumnType | None
    found: ColumnType | None

    @property
    def blocking(self) -> bool:
        return self.kind.blocking

    @property
    def qualified_column(self) -> str:
        return f"{SOURCE_SCHEMA}.{self.table}.{self.column}"

    @property
    def raw_table(self) -> str:
        """The table's RAW table in the warehouse, ``RAW.<TABLE>``."""
        return f"{RAW_SCHEMA}.{self.table.upper()}"

    def what_happened(self) -> str:
        """One sentence: the column, the change, the types and what this run did about it."""
        where = self.qualified_column
        if self.kind is DriftKind.ADDED:
            return (f"schema drift: {where} ({self.found}) is new in the source and not in the contract: "
                    f"not extracted, {self.raw_table} unchanged")
        if self.kind is DriftKind.DROPPED:
            return (f"schema drift: {where} (contract: {self.expected}) is gone from the source or not "
                    f"readable: {self.table} not extracted, RAW untouched")
        if self.kind is DriftKind.RETYPED:
            return (f"schema drift: {where} changed type: contract {self.expected}, source {self.found}; "
                    f"extracting it would change its values: {self.table} not extracted, RAW untouched")
        return (f"schema drift: {where} changed size: contract {self.expected}, source {self.found}; "
                "extracted into RAW's contract type (a value that does not fit it fails the extract or the load)")

    def action(self) -> str:
        """What the operator does about it, naming the files to change."""
        stg = f"include/dbt/shopstream/models/staging/stg_shopstream__{self.table}.sql and .yml"
        contract = "include/shopstream/config.py (TABLES' select list and SOURCE_COLUMN_TYPES)"
        # RAW's DDL is rendered from the contract: a new warehouse follows it, an existing one is altered.
        raw_ddl = "a new warehouse's RAW follows the contract: include/sql/snowflake/raw_objects.sql"
        after = (f"then clear extract.{self.table} with its downstream tasks, or let the next run go: "
                 "it extracts everything since the table's last load")
        if self.kind is DriftKind.ADDED:
            expression, raw_type = suggested_landing(self.column, self.found or ColumnType("text"))
            return (f"to land it, add `{expression}` to {contract}, then `alter table ... add column "
                    f"{self.column} {raw_type}` on {self.raw_table} and its landing table ({raw_ddl}), "
                    f"and the column to {stg}; "
                    "see docs/architecture.md, 'Schema drift'. To ignore it, do nothing: runs carry on")
        if self.kind is DriftKind.DROPPED:
            return (f"if the source dropped {self.column} on purpose, remove it from {contract}, from {stg} and "
                    f"from the models that use it (RAW keeps its history; its new versions get NULL); if not, "
                    f"restore the column in the source; {after}")
        if self.kind is DriftKind.RETYPED:
            return (f"if the change is meant, change {self.column}'s type (and its cast) in {contract}, "
                    f"the column of {self.raw_table} (`alter table`; {raw_ddl}) and {stg}; "
                    f"if not, restore type {self.expected} in the source; {after}")
        return (f"nothing is lost; to adopt {self.found}, change it in {contract} and widen "
                f"{self.raw_table}.{self.column} (`alter table`; {raw_ddl}) if it grew")

    def record(self) -> dict[str, Any]:
        """The finding as the fields of its JSON line in the failures log."""
        return {
            "level": "error" if self.blocking else "warning",
            "kind": "schema_drift",
            "table": f"{SOURCE_SCHEMA}.{self.table}",
            "column": self.column,
            "change": self.kind.value,
            "expected": None if self.expected is None else str(self.expected),
            "found": None if self.found is None else str(self.found),
            "error": self.what_happened(),
            "action": self.action(),
        }


def raw_type(extracted: ColumnType) -> str:
    """The Snowflake type RAW gives a column extracted as ``extracted`` (its cast, else its source type).

    Integers become ``number(38, 0)``; numerics keep their precision and scale (``number(38, 2)``
    when unconstrained); strings keep their length (``varchar(2)`` for ``character(2)``); timestamps
    become ``timestamp_ntz`` (UTC); JSON, UUIDs, enums and unknown types travel as ``varchar``.
    """
    kind = extracted.data_type
    if kind in INTEGERS:
        return "number(38, 0)"
    if kind == "numeric":
        if extracted.precision is None:
            return "number(38, 2)"
        return f"number({extracted.precision}, {extracted.scale})"
    if kind in STRINGS:
        return f"varchar({extracted.length})" if extracted.length else "varchar"
    if kind == "boolean":
        return "boolean"
    if kind.startswith("timestamp"):
        return "timestamp_ntz"
    if kind == "date":
        return "date"
    if kind in ("double precision", "real"):
        return "float"
    return "varchar"


def raw_columns(table: SourceTable) -> tuple[tuple[str, str], ...]:
    """RAW's columns for ``table``, before the load columns: ``(name, Snowflake type)`` in extraction order.

    Each column's type is ``raw_type`` of its extracted type: the select list's cast
    (``x::numeric(12, 2) as x``), else the contract's source type (``config.SOURCE_COLUMN_TYPES``).
    The type ends in ``not null`` for ``table.required_columns``. include/sql/snowflake/raw_objects.sql
    renders RAW from these, so RAW cannot drift from the contract.
    """
    columns = []
    for expression, name, source in zip(table.columns, table.column_names, table.source_columns, strict=True):
        cast = expression.split(" as ", 1)[0].split("::", 1)[1:]
        extracted = ColumnType.parse(cast[0] if cast else table.source_types[source])
        required = " not null" if name in table.required_columns else ""
        columns.append((name, raw_type(extracted) + required))
    return tuple(columns)


def suggested_landing(column: str, found: ColumnType) -> tuple[str, str]:
    """How a new column would be extracted and typed in RAW: (select-list expression, Snowflake type).

    Money and every decimal keep their precision; JSON, UUIDs and unknown types travel as text.
    """
    kind = found.data_type
    if kind == "numeric":
        if found.precision is None:
            return f"{column}::numeric(38, 2) as {column}", "number(38, 2) (choose the scale the values need)"
        return f"{column}::numeric({found.precision}, {found.scale}) as {column}", raw_type(found)
    if kind.startswith("timestamp"):
        return column, f"{raw_type(found)} (UTC)"
    landed = raw_type(found)
    if landed == "varchar" and kind not in STRINGS:  # a type RAW keeps as text: extract it as text
        return f"{column}::text as {column}", landed
    return column, landed


def type_change(expected: ColumnType, found: ColumnType) -> DriftKind | None:
    """Classify a contract column's type change: None (same), RESIZED (compatible) or RETYPED.

    Compatible means every value keeps its meaning when extracted as the contract's type, or fails
    loudly when it does not fit: integers of another width, a variable-length string for any string,
    a numeric with no more decimals than the contract. Padding (``character(n)`` of another length),
    more decimals (rounded by the extraction's cast) and a change of kind are RETYPED.
    """
    if expected == found:
        return None
    if expected.data_type in INTEGERS and found.data_type in INTEGERS:
        return DriftKind.RESIZED
    if expected.data_type in STRINGS and found.data_type in VARIABLE_STRINGS:
        return DriftKind.RESIZED
    if expected.data_type == found.data_type == "numeric":
        if expected.scale is None:
            return DriftKind.RESIZED  # an unconstrained contract takes any numeric
        if found.scale is None or found.scale > expected.scale:
            return DriftKind.RETYPED  # the contract's scale would round the new decimals away
        return DriftKind.RESIZED
    return DriftKind.RETYPED


def compare_columns(table: str, contract: Mapping[str, str], found: Mapping[str, ColumnType]) -> list[DriftFinding]:
    """The differences between a table's contract and its source columns, contract order then new ones.

    ``contract`` maps column -> contract spelling (``config.SOURCE_COLUMN_TYPES[table]``); ``found``
    maps column -> ``ColumnType`` as read from information_schema (``read_source_columns``). An
    empty list means the source matches the contract. Raises ``ContractError`` for an unreadable
    contract type.
    """
    findings = []
    for column, spelled in contract.items():
        expected = ColumnType.parse(spelled)
        if column not in found:
            findings.append(DriftFinding(table, column, DriftKind.DROPPED, expected, None))
        elif kind := type_change(expected, found[column]):
            findings.append(DriftFinding(table, column, kind, expected, found[column]))
    for column, found_type in found.items():
        if column not in contract:
            findings.append(DriftFinding(table, column, DriftKind.ADDED, None, found_type))
    return findings


def read_source_columns(conn: Any, table: str) -> dict[str, ColumnType]:
    """A source table's columns, in order, as its reader sees them (information_schema shows only
    the columns the connection's user may read). ``conn`` is a DB-API connection to the source
    (psycopg or psycopg2); an empty dict means the table is missing or unreadable."""
    cursor = conn.cursor()
    try:
        cursor.execute(SOURCE_COLUMNS_SQL, (SOURCE_SCHEMA, table))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return {name: ColumnType.from_information_schema(*rest) for name, *rest in rows}


class SchemaDriftError(Exception):
    """The source dropped or incompatibly retyped a contract column (or the table): not extracted."""


def check_source_table(table: SourceTable, conn: Any, context: Mapping[str, Any] | None = None) -> list[DriftFinding]:
    """Compare one table's source columns with the contract, report every finding, stop on a blocking one.

    Each finding is logged (WARNING, or ERROR when blocking) and appended to the failures log with
    the run's ids from ``context``. Returns the findings when none blocks; raises ``SchemaDriftError``
    naming every blocking finding and what to do otherwise, before anything is extracted.
    """
    from include.shopstream.notify import record_event

    found = read_source_columns(conn, table.name)
    if not found:
        message = (f"schema drift: source table {SOURCE_SCHEMA}.{table.name} is missing or not readable by the "
                   f"extraction's user: nothing extracted, RAW untouched. Restore it (or grant SELECT), or remove "
                   f"it from include/shopstream/config.py and the dbt sources")
        record_event(context, level="error", kind="schema_drift", table=f"{SOURCE_SCHEMA}.{table.name}",
                     change="missing_table", error=message)
        raise SchemaDriftError(message)
    findings = compare_columns(table.name, table.source_types, found)
    for finding in findings:
        log.log(logging.ERROR if finding.blocking else logging.WARNING, "%s. What to do: %s",
                finding.what_happened(), finding.action())
        record_event(context, **finding.record())
    blocking = [f for f in findings if f.blocking]
    if blocking:
        raise SchemaDriftError(" | ".join(f"{f.what_happened()}. What to do: {f.action()}" for f in blocking))
    return findings
