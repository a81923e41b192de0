"""The Power BI project (powerbi/) against the dbt marts and against itself.

The real check reads the dbt manifest (`make manifest`); the other tests use a small manifest built
here from the marts' contract, so that they prove what the check catches whatever the state of the
dbt project: a renamed mart column, a renamed model column, a visual or a measure whose field is gone.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from include.shopstream import dbt_manifest
from include.shopstream.config import PROJECT_ROOT
from report_tools import consistency, measures, pbir, tmdl

POWERBI = PROJECT_ROOT / "powerbi"
MODEL = POWERBI / "ShopStream.SemanticModel"
REPORT = POWERBI / "ShopStream.Report"

_NUM, _MONEY, _TEXT, _DATE, _TS, _BOOL, _FLOAT = (
    "number(38,0)", "number(14,2)", "varchar", "date", "timestamp_ntz", "boolean", "float")

# The marts' contract (schema MARTS): column -> Snowflake data type.
CONTRACT: dict[str, dict[str, str]] = {
    "dim_customers": {"customer_sk": _TEXT, "user_id": _NUM, "email": _TEXT, "full_name": _TEXT,
                      "country_code": _TEXT, "city": _TEXT, "signup_channel": _TEXT, "valid_from": _TS,
                      "valid_to": _TS, "is_current": _BOOL},
    "dim_products": {"product_sk": _TEXT, "product_id": _NUM, "sku": _TEXT, "product_name": _TEXT, "category": _TEXT,
                     "brand": _TEXT, "unit_price": "number(12,2)", "is_active": _BOOL, "valid_from": _TS,
                     "valid_to": _TS, "is_current": _BOOL},
    "dim_date": {"date_day": _DATE, "year": _NUM, "quarter": _NUM, "month": _NUM, "month_name": _TEXT,
                 "year_month": _TEXT, "week_of_year": _NUM, "day_of_week": _NUM, "day_name": _TEXT,
                 "is_weekend": _BOOL},
    "fct_orders": {"order_id": _NUM, "user_id": _NUM, "customer_sk": _TEXT, "order_date": _DATE, "ordered_at": _TS,
                   "order_status": _TEXT, "payment_method": _TEXT, "shipping_country_code": _TEXT,
                   "item_count": _NUM, "quantity": _NUM, "gross_amount": _MONEY, "discount_amount": _MONEY,
                   "net_amount": _MONEY, "is_revenue": _BOOL},
    "fct_order_items": {"order_item_id": _NUM, "order_id": _NUM, "product_id": _NUM, "product_sk": _TEXT,
                        "user_id": _NUM, "order_date": _DATE, "quantity": _NUM, "unit_price": "number(12,2)",
                        "gross_amount": _MONEY, "discount_amount": _MONEY, "net_amount": _MONEY, "is_revenue": _BOOL},
    "fct_events": {"event_id": _NUM, "user_id": _NUM, "session_id": _TEXT, "event_type": _TEXT, "occurred_at": _TS,
                   "event_date": _DATE, "device": _TEXT, "page_url": _TEXT, "product_id": _NUM, "order_id": _NUM,
                   "is_future_dated": _BOOL, "is_payload_incomplete": _BOOL},
    "mart_sales_overview": {"order_date": _DATE, "country_code": _TEXT, "category": _TEXT, "customer_segment": _TEXT,
                            "revenue": _MONEY, "orders": _NUM, "items_sold": _NUM, "customers": _NUM},
    "mart_product_performance": {"product_id": _NUM, "sku": _TEXT, "product_name": _TEXT, "category": _TEXT,
                                 "revenue": _MONEY, "units_sold": _NUM, "orders": _NUM, "revenue_share": _FLOAT,
                                 "cumulative_revenue_share": _FLOAT, "abc_class": _TEXT},
    "mart_customer_ltv": {"user_id": _NUM, "full_name": _TEXT, "country_code": _TEXT, "customer_segment": _TEXT,
                          "first_order_date": _DATE, "last_order_date": _DATE, "orders": _NUM,
                          "lifetime_revenue": _MONEY, "average_basket": _MONEY, "recency_days": _NUM,
                          "frequency": _NUM, "monetary": _MONEY, "r_score": _NUM, "f_score": _NUM, "m_score": _NUM,
                          "rfm_segment": _TEXT},
    "mart_data_quality_findings": {"test_id": _TEXT, "test_type": _TEXT, "tested_model": _TEXT,
                                   "column_name": _TEXT, "severity": _TEXT, "status": _TEXT, "failures": _NUM,
                                   "message": _TEXT, "checked_at": _TS, "invocation_id": _TEXT},
}


def fake_manifest(contract: dict[str, dict[str, str]] = CONTRACT, enforced: bool = True) -> dbt_manifest.Manifest:
    """A dbt manifest holding only the marts, shaped as `dbt parse` writes them."""
    nodes = {}
    for name, columns in contract.items():
        nodes[f"model.shopstream.{name}"] = {
            "resource_type": "model", "name": name, "alias": name, "database": "SHOPSTREAM", "schema": "MARTS",
            "path": f"marts/{name}.sql", "original_file_path": f"models/marts/{name}.sql",
            "fqn": ["shopstream", "marts", name],
            "config": {"enabled": True, "materialized": "table", "contract": {"enforced": enforced}},
            "columns": {col: {"name": col, "data_type": data_type} for col, data_type in columns.items()},
        }
    return dbt_manifest.Manifest({"nodes": nodes})


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of powerbi/ to break; returns its .pbip."""
    shutil.copytree(POWERBI, tmp_path / "powerbi", ignore=shutil.ignore_patterns("screenshots"))
    return tmp_path / "powerbi" / "ShopStream.pbip"


# --- The project itself ----------------------------------------------------------------------------------


def test_project_is_consistent_with_the_marts_contract() -> None:
    assert consistency.check(manifest=fake_manifest()) == []


def test_project_is_consistent_with_the_dbt_manifest() -> None:
    try:
        manifest = dbt_manifest.load()
    except dbt_manifest.ManifestMissing as exc:
        pytest.skip(str(exc))
    errors = consistency.check(manifest=manifest)
    assert errors == [], "\n".join(errors)


def test_model_shape() -> None:
    model = tmdl.load_model(MODEL)
    assert set(model.tables) == set(CONTRACT)
    assert model.tables["dim_date"].properties.get("dataCategory") == "Time"
    for rel in model.relationships:
        assert rel.to_table.startswith("dim_") or rel.to_table == "fct_orders", rel
    wanted = {"Revenue", "Orders", "Average basket", "MoM revenue growth", "Customer LTV", "ABC revenue share",
              "RFM segment customers"}
    assert wanted <= {m for t in model.tables.values() for m in t.measures}
    assert model.cultures == ["en-US"]


def test_report_has_the_four_pages() -> None:
    report = pbir.load_report(REPORT)
    assert report.page_order == ["overview", "products", "customers", "data_quality"]
    assert all(page.visuals for page in report.pages.values())


def test_every_python_measure_mirrors_a_dax_measure() -> None:
    model = tmdl.load_model(MODEL)
    for name, (table, _function) in measures.MEASURES.items():
        assert name in model.tables[table].measures, f"{name} is no measure of {table}"


def test_pbi_local_files_are_git_ignored() -> None:
    ignore = (POWERBI / ".gitignore").read_text()
    assert "localSettings.json" in ignore and "cache.abf" in ignore


# --- What the check catches ------------------------------------------------------------------------------------


def test_renamed_mart_column_names_the_file_and_the_field() -> None:
    contract = {name: dict(columns) for name, columns in CONTRACT.items()}
    contract["fct_orders"]["net_amount_eur"] = contract["fct_orders"].pop("net_amount")
    errors = consistency.check(manifest=fake_manifest(contract))
    assert errors == [
        "powerbi/ShopStream.SemanticModel/definition/tables/fct_orders.tmdl: column net_amount -> "
        "MARTS.FCT_ORDERS.NET_AMOUNT not found in dbt model fct_orders (models/marts/fct_orders.sql)"
    ]


def test_missing_mart_and_unenforced_contract_fail() -> None:
    contract = {k: v for k, v in CONTRACT.items() if k != "mart_customer_ltv"}
    errors = consistency.check(manifest=fake_manifest(contract))
    assert any("mart_customer_ltv.tmdl" in e and "MARTS.MART_CUSTOMER_LTV" in e for e in errors), errors
    errors = consistency.check(manifest=fake_manifest(enforced=False))
    assert any("dim_date.tmdl" in e and "contract is not enforced" in e for e in errors), errors


def test_incompatible_type_fails() -> None:
    contract = {name: dict(columns) for name, columns in CONTRACT.items()}
    contract["dim_date"]["date_day"] = "varchar"
    errors = consistency.check(manifest=fake_manifest(contract))
    assert errors == [
        "powerbi/ShopStream.SemanticModel/definition/tables/dim_date.tmdl: column date_day has dataType dateTime, "
        "but MARTS.DIM_DATE.DATE_DAY is varchar in the contract of dbt model dim_date"
    ]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_renamed_model_column_breaks_measures_relationships_and_visuals(project_copy: Path) -> None:
    tables = project_copy.parent / "ShopStream.SemanticModel" / "definition" / "tables"
    _edit(tables / "fct_orders.tmdl", "column order_date\n", "column order_day\n")
    _edit(tables / "mart_customer_ltv.tmdl", "column rfm_segment\n", "column rfm\n")
    errors = consistency.check(project_copy, manifest=fake_manifest())
    text = "\n".join(errors)
    assert "relationships.tmdl: relationship fct_orders_order_date_dim_date: fct_orders.order_date is no column" in text
    assert re.search(r"customers/visuals/rfm_segments/visual\.json: column mart_customer_ltv\.rfm_segment "
                     r"is no column of table mart_customer_ltv", text), text


def test_personal_data_is_never_imported(project_copy: Path) -> None:
    assert consistency.personal_data_columns() >= {"EMAIL", "FULL_NAME", "PHONE"}
    table = project_copy.parent / "ShopStream.SemanticModel" / "definition" / "tables" / "dim_customers.tmdl"
    _edit(table, 'Table.RemoveColumns(Mart, {"EMAIL", "FULL_NAME"})', 'Table.RemoveColumns(Mart, {"EMAIL"})')
    pii_column = "\tcolumn full_name\n\t\tdataType: string\n\t\tsourceColumn: FULL_NAME\n\n"
    _edit(table, "\tcolumn city\n", pii_column + "\tcolumn city\n")
    errors = consistency.check(project_copy, manifest=fake_manifest())
    assert any("imports personal data FULL_NAME from MARTS.DIM_CUSTOMERS" in e for e in errors), errors
    assert any("column full_name is personal data (MARTS.DIM_CUSTOMERS.FULL_NAME)" in e for e in errors), errors


def test_broken_measure_reference_fails(project_copy: Path) -> None:
    fct_orders = project_copy.parent / "ShopStream.SemanticModel" / "definition" / "tables" / "fct_orders.tmdl"
    _edit(fct_orders, "DIVIDE ( [Revenue], [Orders] )", "DIVIDE ( [Revenue], [Order count] )")
    _edit(fct_orders, "SUM ( fct_orders[net_amount] )", "SUM ( fct_orders[net] )")
    errors = consistency.check(project_copy, manifest=fake_manifest())
    assert any(e.endswith("measure Average basket: [Order count] is no measure of the model") for e in errors), errors
    assert any("measure Revenue: fct_orders[net] is no column or measure of table fct_orders" in e for e in errors)


def test_visual_on_a_missing_measure_fails(project_copy: Path) -> None:
    visual = (project_copy.parent / "ShopStream.Report" / "definition" / "pages" / "overview" / "visuals"
              / "card_revenue" / "visual.json")
    _edit(visual, '"Property": "Revenue"', '"Property": "Turnover"')
    errors = consistency.check(project_copy, manifest=fake_manifest())
    assert errors == ["powerbi/ShopStream.Report/definition/pages/overview/visuals/card_revenue/visual.json".replace(
        "powerbi/", f"{project_copy.parent}/", 1) + ": measure fct_orders.Turnover is no measure of table fct_orders"]


def test_credentials_and_connection_are_checked(project_copy: Path) -> None:
    expressions = project_copy.parent / "ShopStream.SemanticModel" / "definition" / "expressions.tmdl"
    _edit(expressions, "expression SnowflakeRole", "expression SnowflakeRoleName")
    with expressions.open("a") as out:
        out.write('\nexpression Secret = "password=hunter2"\n')
    errors = consistency.check(project_copy, manifest=fake_manifest())
    assert any("Power Query parameter SnowflakeRole is missing" in e for e in errors), errors
    assert any("looks like a credential" in e for e in errors), errors


# --- Parsers --------------------------------------------------------------------------------------------------


def test_tmdl_parser_reads_multiline_expressions_and_quoted_names(tmp_path: Path) -> None:
    source = tmp_path / "t.tmdl"
    source.write_text(
        "/// Sales\ntable 'My sales'\n\n\t/// Growth\n\tmeasure 'Growth %' =\n\t\t\tVAR a = [x]\n\t\t\tRETURN\n"
        "\t\t\t    a\n\t\tformatString: 0.0%\n\n\tcolumn 'Net amount'\n\t\tdataType: decimal\n\t\tisHidden\n"
        "\t\tsourceColumn: NET_AMOUNT\n\n\tpartition p = m\n\t\tmode: import\n\t\tsource =\n\t\t\t\tlet\n"
        "\t\t\t\t    S = 1\n\t\t\t\tin\n\t\t\t\t    S\n\n\tannotation A = B\n")
    (table,) = tmdl.parse_text(source.read_text(), source)
    assert (table.type, table.name, table.description) == ("table", "My sales", "Sales")
    measure, column, partition, annotation = table.children
    assert measure.value == "VAR a = [x]\nRETURN\n    a" and measure.properties["formatString"] == "0.0%"
    assert column.name == "Net amount" and "isHidden" in column.properties
    assert partition.properties["source"] == "let\n    S = 1\nin\n    S"
    assert (annotation.name, annotation.value) == ("A", "B")


def test_dax_references_skip_strings_and_comments() -> None:
    refs = consistency.dax_references('CALCULATE ( [Revenue], \'dim date\'[date_day] = "x[y]" ) // t[c]\n+ f[g]')
    assert refs == [(None, "Revenue"), ("dim date", "date_day"), ("f", "g")]


# --- Python measures (the previews' versions of the DAX) ----------------------------------------------------------


def test_average_basket_is_a_ratio_at_every_grain() -> None:
    orders = pd.DataFrame({
        "order_id": [1, 2, 3, 4], "net_amount": [10.0, 30.0, 100.0, 50.0],
        "is_revenue": [True, True, True, False], "country": ["FR", "FR", "DE", "DE"],
    })
    assert measures.average_basket(orders) == pytest.approx(140 / 3)
    by_country = orders.groupby("country").apply(measures.average_basket, include_groups=False)
    assert by_country.to_dict() == {"DE": 100.0, "FR": 20.0}


def test_abc_share_rfm_counts_and_flagged_events() -> None:
    """MoM growth has its own tests (test_report_measures.py): the DAX rule against the previews."""
    products = pd.DataFrame({"abc_class": ["A", "A", "B", "C"], "revenue": [50.0, 30.0, 15.0, 5.0]})
    assert measures.abc_revenue_share(products).to_dict() == {"A": 0.8, "B": 0.15, "C": 0.05}
    ltv = pd.DataFrame({"rfm_segment": ["Lost", "Champions", "Lost"], "orders": [1, 0, 2],
                        "lifetime_revenue": [10.0, 0.0, 20.0]})
    assert measures.rfm_segment_customers(ltv).to_dict() == {"Lost": 2, "Champions": 1}
    assert measures.customer_ltv(ltv) == pytest.approx(15.0)
    events = pd.DataFrame({"is_future_dated": [True, True, False, False],
                           "is_payload_incomplete": [True, False, True, False]})
    flagged = measures.flagged_events(events)
    assert flagged == 3  # the event with both flags counts once
    assert measures.flagged_event_share(len(events), flagged) == pytest.approx(0.75)
