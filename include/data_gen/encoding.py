"""PostgreSQL binary COPY encoding of the generator's raw rows, and their conversion to Python values.

Why: psycopg's ``write_row`` adapts every value through its dumpers (``json.dumps`` for JSONB,
``datetime`` and ``Decimal`` objects built per row) and that, not PostgreSQL, bounded the load at about
45,000 rows/s here. The generator therefore keeps values "raw" (timestamps as integer microseconds
since PostgreSQL's epoch, money as integer cents, JSON as ready-made text) and this module turns a raw
row into the bytes of the binary COPY format directly: a few ``struct`` packs per row.

Raw kinds, one per column (``column_kind``): ``int8`` (int or None), ``int4``, ``text`` (str or None),
``ts`` (microseconds since 2000-01-01 UTC, a ``timestamptz``), ``money`` (cents, a ``numeric(12, 2)``),
``bool`` and ``jsonb`` (JSON text). ``to_python`` gives the values psycopg would return (``datetime``,
``Decimal``, ``dict``), for tests and for library users who want rows rather than bytes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PG_EPOCH_UNIX_SECONDS = 946_684_800
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
NULL = struct.pack(">i", -1)
_TRUE = struct.pack(">ib", 1, 1)
_FALSE = struct.pack(">ib", 1, 0)
_LEN = struct.Struct(">i").pack
_INT8 = struct.Struct(">iq").pack
_INT4 = struct.Struct(">ii").pack

# The PostgreSQL type each kind must meet (checked against the catalog before a load).
PG_TYPES: dict[str, tuple[str, ...]] = {
    "int8": ("int8",),
    "int4": ("int4",),
    "text": ("text", "bpchar", "varchar"),
    "ts": ("timestamptz",),
    "money": ("numeric",),
    "bool": ("bool",),
    "jsonb": ("jsonb",),
}


def column_kind(column: str) -> str:
    """The raw kind of a column, from the naming rules of the OLTP schema."""
    if column.endswith("_at"):
        return "ts"
    if column.endswith("_id") and column != "session_id":
        return "int8"
    return {
        "quantity": "int4",
        "unit_price": "money",
        "discount_amount": "money",
        "is_active": "bool",
        "payload": "jsonb",
    }.get(column, "text")


def ts_from_unix(seconds: float) -> int:
    """Microseconds since PostgreSQL's epoch of a UNIX time in seconds."""
    return round((seconds - PG_EPOCH_UNIX_SECONDS) * 1_000_000)


def ts_from_datetime(value: datetime) -> int:
    delta = value - PG_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def ts_to_datetime(micros: int) -> datetime:
    return PG_EPOCH + timedelta(microseconds=micros)


@lru_cache(maxsize=65_536)
def encode_money(cents: int) -> bytes:
    """A non-negative ``numeric`` with two decimals in binary form (base-10000 digits)."""
    if cents < 0:
        raise ValueError(f"negative amount: {cents}")
    units, frac = divmod(cents, 100)
    digits: list[int] = []
    while units:
        units, digit = divmod(units, 10_000)
        digits.insert(0, digit)
    weight = len(digits) - 1
    digits.append(frac * 100)
    while digits and digits[-1] == 0:  # PostgreSQL stores no trailing zero digit
        digits.pop()
    while digits and digits[0] == 0:
        digits.pop(0)
        weight -= 1
    if not digits:
        weight = 0
    body = struct.pack(f">hhhh{len(digits)}h", len(digits), weight, 0, 2, *digits)
    return _LEN(len(body)) + body


def _money_to_python(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


_TO_PYTHON: dict[str, Callable[[Any], Any]] = {
    "ts": ts_to_datetime,
    "money": _money_to_python,
    "jsonb": json.loads,
}


_FIXED = {"int8": ("iq", 8), "ts": ("iq", 8), "int4": ("ii", 4)}


def _compile_encoder(kinds: Sequence[str], not_null: Sequence[bool]) -> Callable[[Sequence[Any]], bytes]:
    """Build ``encode(row) -> bytes`` for these column kinds as one expression (no call per column).

    Runs of fixed-width non-null columns become a single ``struct`` pack: that halves the encoding cost,
    which is most of the client's work per row.
    """
    namespace: dict[str, Any] = {
        "HDR": struct.pack(">h", len(kinds)),
        "NULL": NULL,
        "LEN": _LEN,
        "I8": _INT8,
        "MONEY": encode_money,
        "TRUE": _TRUE,
        "FALSE": _FALSE,
    }
    parts: list[str] = ["HDR"]
    run_fmt, run_args = "", []

    def close_run() -> None:
        nonlocal run_fmt, run_args
        if run_fmt:
            name = f"P{len(namespace)}"
            namespace[name] = struct.Struct(">" + run_fmt).pack
            parts.append(f"{name}({', '.join(run_args)})")
            run_fmt, run_args = "", []

    for i, (kind, required) in enumerate(zip(kinds, not_null, strict=True)):
        v = f"r[{i}]"
        if kind in _FIXED and required:
            fmt, size = _FIXED[kind]
            run_fmt += fmt
            run_args += [str(size), v]
            continue
        close_run()
        if kind in ("int8", "ts"):
            parts.append(f"(NULL if {v} is None else I8(8, {v}))")
        elif kind == "int4":
            parts.append(f"(NULL if {v} is None else LEN(4) + {v}.to_bytes(4, 'big', signed=True))")
        elif kind == "money":
            parts.append(f"MONEY({v})")
        elif kind == "bool":
            parts.append(f"(TRUE if {v} else FALSE)")
        elif kind == "jsonb":
            parts.append(f"(LEN(len(b := {v}.encode()) + 1) + b'\\x01' + b)")
        else:
            parts.append(f"(NULL if {v} is None else LEN(len(b := {v}.encode())) + b)")
    close_run()
    source = f"def encode(r):\n    return b''.join(({', '.join(parts)},))\n"
    exec(compile(source, "<row-encoder>", "exec"), namespace)  # code built from the kinds only
    return namespace["encode"]


class RowCodec:
    """Encoder (binary COPY) and converter (Python values) for the rows of one table.

    ``nullable`` names the columns that may hold None; the others are packed without a NULL test.
    """

    def __init__(self, columns: Sequence[str], nullable: Iterable[str] = ()) -> None:
        self.columns = tuple(columns)
        self.kinds = tuple(column_kind(c) for c in self.columns)
        may_be_null = set(nullable)
        self.encode = _compile_encoder(self.kinds, [c not in may_be_null for c in self.columns])
        self._converters = tuple(_TO_PYTHON.get(k) for k in self.kinds)

    def encode_many(self, rows: Iterable[Sequence[Any]]) -> bytes:
        encode = self.encode
        return b"".join([encode(row) for row in rows])

    def to_python(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(v if conv is None or v is None else conv(v) for conv, v in zip(self._converters, row, strict=True))

    def check_types(self, pg_types: Sequence[str]) -> list[str]:
        """The columns whose PostgreSQL type does not match their raw kind (empty when all match)."""
        return [
            f"{c} is {t}, expected {'/'.join(PG_TYPES[k])}"
            for c, k, t in zip(self.columns, self.kinds, pg_types, strict=True)
            if t not in PG_TYPES[k]
        ]
