"""Schema drift, the pure part: the data contract against information_schema rows -> findings.

The rows below are spelled as PostgreSQL 16's information_schema.columns returns them
(column_name, data_type, udt_name, character_maximum_length, numeric_precision, numeric_scale);
tests/integration/test_schema_drift.py reads them from the real server.
"""

from __future__ import annotations

import pytest

from include.shopstream.config import DELETED_ROWS, EXTRACTED_TABLES, SOURCE_COLUMN_TYPES, TABLES_BY_NAME
from include.shopstream.schema_contract import (
    ColumnType,
    ContractError,
    DriftFinding,
    DriftKind,
    compare_columns,
    raw_columns,
    type_change,
)

ORDER_ITEMS_ROWS = [
    ("order_item_id", "bigint", "int8", None, 64, 0),
    ("order_id", "bigint", "int8", None, 64, 0),
    ("product_id", "bigint", "int8", None, 64, 0),
    ("quantity", "integer", "int4", None, 32, 0),
    ("unit_price", "numeric", "numeric", None, 12, 2),
    ("discount_amount", "numeric", "numeric", None, 12, 2),
    ("created_at", "timestamp with time zone", "timestamptz", None, None, None),
    ("updated_at", "timestamp with time zone", "timestamptz", None, None, None),
]


def found(rows: list[tuple]) -> dict[str, ColumnType]:
    return {name: ColumnType.from_information_schema(*rest) for name, *rest in rows}


def order_items(rows: list[tuple]) -> list[DriftFinding]:
    return compare_columns("order_items", TABLES_BY_NAME["order_items"].source_types, found(rows))


def replaced(column: str, *row: object) -> list[tuple]:
    return [(column, *row) if r[0] == column else r for r in ORDER_ITEMS_ROWS]


def test_the_contract_types_every_extracted_column_in_order() -> None:
    for table in EXTRACTED_TABLES:
        assert tuple(SOURCE_COLUMN_TYPES[table.name]) == table.source_columns, table.name
        for spelled in table.source_types.values():
            assert str(ColumnType.parse(spelled)) == spelled, f"{table.name}: spell {spelled!r} as information_schema"


@pytest.mark.parametrize("spelled", ["bigint", "character(2)", "numeric(12,2)", "numeric", "timestamp with time zone"])
def test_a_contract_type_reads_back_as_written(spelled: str) -> None:
    assert str(ColumnType.parse(spelled)) == spelled


def test_an_unreadable_contract_type_says_how_to_write_it() -> None:
    with pytest.raises(ContractError, match="numeric\\(12,2\\)"):
        ColumnType.parse("numeric(12;2)")


def test_information_schema_types() -> None:
    assert ColumnType.from_information_schema("integer", "int4", None, 32, 0) == ColumnType("integer")
    assert ColumnType.from_information_schema("numeric", "numeric", None, 12, 2) == ColumnType.parse("numeric(12,2)")
    assert ColumnType.from_information_schema("numeric", "numeric", None, None, None) == ColumnType.parse("numeric")
    assert str(ColumnType.from_information_schema("character varying", "varchar", 50, None, None)) == (
        "character varying(50)"
    )
    assert ColumnType.from_information_schema("USER-DEFINED", "loyalty_tier", None, None, None) == ColumnType(
        "loyalty_tier"
    )
    assert ColumnType.from_information_schema("ARRAY", "_text", None, None, None) == ColumnType("_text")


def test_raw_columns_follow_the_contract_with_the_casts_and_required_columns() -> None:
    assert raw_columns(TABLES_BY_NAME["orders"]) == (
        ("order_id", "number(38, 0) not null"),
        ("user_id", "number(38, 0)"),
        ("order_status", "varchar"),
        ("payment_method", "varchar"),
        ("shipping_country_code", "varchar(2)"),  # character(2) keeps its length
        ("ordered_at", "timestamp_ntz"),
        ("created_at", "timestamp_ntz not null"),
        ("updated_at", "timestamp_ntz not null"),
    )
    products = dict(raw_columns(TABLES_BY_NAME["products"]))
    assert (products["unit_price"], products["is_active"]) == ("number(12, 2)", "boolean")
    assert dict(raw_columns(TABLES_BY_NAME["events"]))["payload"] == "varchar"  # jsonb, extracted as text
    assert raw_columns(DELETED_ROWS) == (
        ("deleted_row_id", "number(38, 0) not null"),
        ("table_name", "varchar not null"),
        ("row_id", "number(38, 0) not null"),
        ("deleted_at", "timestamp_ntz not null"),
    )


def test_the_source_as_contracted_has_no_drift() -> None:
    assert order_items(ORDER_ITEMS_ROWS) == []


def test_an_added_column_is_reported_not_blocking_with_how_to_land_it() -> None:
    rows = [*ORDER_ITEMS_ROWS, ("gift_wrap_fee", "numeric", "numeric", None, 8, 2)]
    [finding] = order_items(rows)
    fee = ColumnType("numeric", precision=8, scale=2)
    assert finding == DriftFinding("order_items", "gift_wrap_fee", DriftKind.ADDED, None, fee)
    assert not finding.blocking
    said = finding.what_happened()
    assert "oltp.order_items.gift_wrap_fee (numeric(8,2))" in said and "not extracted" in said
    action = finding.action()
    for step in ("`gift_wrap_fee::numeric(8, 2) as gift_wrap_fee`", "include/shopstream/config.py",
                 "add column gift_wrap_fee number(8, 2)`", "RAW.ORDER_ITEMS", "raw_objects.sql",
                 "stg_shopstream__order_items.sql", "docs/architecture.md"):
        assert step in action, step
    record = finding.record()
    assert (record["level"], record["kind"], record["change"]) == ("warning", "schema_drift", "added")
    assert (record["table"], record["column"], record["found"]) == ("oltp.order_items", "gift_wrap_fee", "numeric(8,2)")


def test_a_dropped_column_blocks_naming_its_contract_type_and_what_to_do() -> None:
    rows = [r for r in ORDER_ITEMS_ROWS if r[0] != "discount_amount"]
    [finding] = order_items(rows)
    assert (finding.kind, finding.column, str(finding.expected), finding.found) == (
        DriftKind.DROPPED, "discount_amount", "numeric(12,2)", None
    )
    assert finding.blocking
    assert "oltp.order_items.discount_amount (contract: numeric(12,2))" in finding.what_happened()
    action = finding.action()
    assert "remove it from include/shopstream/config.py" in action and "restore the column" in action
    assert "clear extract.order_items" in action
    assert finding.record()["level"] == "error"


def test_added_and_dropped_together_are_both_reported_contract_order_first() -> None:
    rows = [*(r for r in ORDER_ITEMS_ROWS if r[0] != "quantity"), ("qty", "integer", "int4", None, 32, 0)]
    findings = [(f.kind, f.column) for f in order_items(rows)]
    assert findings == [(DriftKind.DROPPED, "quantity"), (DriftKind.ADDED, "qty")]


@pytest.mark.parametrize(
    ("column", "row", "kind"),
    [
        # same kind of value, another size: extracted as the contract says, a misfit fails loudly
        ("quantity", ("bigint", "int8", None, 64, 0), DriftKind.RESIZED),
        ("quantity", ("smallint", "int2", None, 16, 0), DriftKind.RESIZED),
        ("unit_price", ("numeric", "numeric", None, 14, 2), DriftKind.RESIZED),
        ("unit_price", ("numeric", "numeric", None, 10, 1), DriftKind.RESIZED),
        # more decimals than the contract would be rounded away by the cast; a change of kind
        ("unit_price", ("numeric", "numeric", None, 12, 4), DriftKind.RETYPED),
        ("unit_price", ("numeric", "numeric", None, None, None), DriftKind.RETYPED),
        ("unit_price", ("double precision", "float8", None, 53, None), DriftKind.RETYPED),
        ("quantity", ("numeric", "numeric", None, 10, 0), DriftKind.RETYPED),
        ("quantity", ("text", "text", None, None, None), DriftKind.RETYPED),
        ("updated_at", ("timestamp without time zone", "timestamp", None, None, None), DriftKind.RETYPED),
    ],
)
def test_type_changes(column: str, row: tuple, kind: DriftKind) -> None:
    [finding] = order_items(replaced(column, *row))
    assert (finding.column, finding.kind, finding.blocking) == (column, kind, kind is DriftKind.RETYPED)
    assert str(finding.expected) == SOURCE_COLUMN_TYPES["order_items"][column]
    assert str(finding.found) in finding.what_happened() and str(finding.expected) in finding.what_happened()


@pytest.mark.parametrize(
    ("expected", "found", "kind"),
    [
        ("text", "character varying(80)", DriftKind.RESIZED),
        ("character(2)", "text", DriftKind.RESIZED),  # no padding any more; RAW's varchar(2) refuses longer
        ("character(2)", "character(3)", DriftKind.RETYPED),  # pads 'FR' to 'FR '
        ("text", "character(10)", DriftKind.RETYPED),
        ("jsonb", "json", DriftKind.RETYPED),
        ("jsonb", "text", DriftKind.RETYPED),
        ("boolean", "smallint", DriftKind.RETYPED),
        ("numeric", "numeric(20,6)", DriftKind.RESIZED),
        ("bigint", "bigint", None),
    ],
)
def test_type_change_rules(expected: str, found: str, kind: DriftKind | None) -> None:
    assert type_change(ColumnType.parse(expected), ColumnType.parse(found)) is kind


def test_only_dropped_and_retyped_block() -> None:
    assert {k for k in DriftKind if k.blocking} == {DriftKind.DROPPED, DriftKind.RETYPED}
