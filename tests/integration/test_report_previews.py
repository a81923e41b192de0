"""The report previews rendered from the marts of the test stack's warehouse.

Reuses the marts a pipeline test left in the warehouse (the emulator keeps its data in memory for the
session): skipped, with the reason, when they are missing. Proves that the previews show the marts'
totals (computed here by SQL), that there is one PNG per report page, and that the HTML page renders
every page and every visual in headless Chromium without a script error and without the network.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from report_tools import pbir, previews
from report_tools.previews import data
from tests.report_checks import assert_renders_cleanly

# After the pipeline test, in its process: it reads the marts those DAG runs built.
pytestmark = [pytest.mark.integration, pytest.mark.airflow]

@pytest.fixture(scope="module")
def warehouse(embedded_stack):
    conn = data.snowflake_connection()
    missing = data.missing_marts(conn)
    if missing:
        conn.close()
        reason = f"no marts in the test stack's warehouse ({', '.join(missing)}): run after the pipeline test"
        if os.environ.get("CI"):  # the full suite builds them first: missing marts there are a failure
            pytest.fail(reason)
        pytest.skip(reason)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def rendered(warehouse, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("report")
    return out, previews.render_from_warehouse(out, conn=warehouse)


def _sql(conn, sql: str) -> list[tuple]:
    relations = data.mart_relations()
    cursor = conn.cursor()
    try:
        cursor.execute(sql.format(**relations))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _one(conn, sql: str) -> float:
    value = _sql(conn, sql)[0][0]
    return float(value or 0)


def test_totals_shown_equal_the_marts_totals(warehouse, rendered) -> None:
    _, content = rendered
    shown = content["totals"]
    revenue = _one(warehouse, "select sum(net_amount) from {fct_orders} where is_revenue")
    orders = _one(warehouse, "select count(distinct order_id) from {fct_orders} where is_revenue")
    assert shown["revenue"] == pytest.approx(revenue, abs=0.005)
    assert shown["orders"] == orders
    assert shown["average_basket"] == pytest.approx(revenue / orders, abs=0.005)
    assert shown["revenue_trend_total"] == pytest.approx(revenue, abs=0.005)
    assert shown["units_sold"] == _one(warehouse, "select sum(quantity) from {fct_order_items} where is_revenue")
    assert shown["item_revenue_by_brand"] == pytest.approx(
        _one(warehouse, "select sum(net_amount) from {fct_order_items} where is_revenue"), abs=0.005)
    sales = _one(warehouse, "select sum(revenue) from {mart_sales_overview}")
    assert shown["sales_revenue_by_country"] == pytest.approx(sales, abs=0.005)
    assert shown["sales_revenue_by_category"] == pytest.approx(sales, abs=0.005)

    product_revenue = _one(warehouse, "select sum(revenue) from {mart_product_performance}")
    assert shown["products"] == _one(warehouse, "select count(*) from {mart_product_performance}")
    assert shown["product_revenue"] == pytest.approx(product_revenue, abs=0.005)
    by_class = _sql(warehouse, "select abc_class, sum(revenue) from {mart_product_performance} group by abc_class")
    assert shown["abc_revenue_share"] == pytest.approx(
        {c: round(float(r) / product_revenue, 4) for c, r in by_class}, abs=1e-4)

    customers = _one(warehouse, "select count(*) from {mart_customer_ltv}")
    buyers = _one(warehouse, "select count(*) from {mart_customer_ltv} where orders > 0")
    assert shown["customers"] == customers
    assert shown["customer_ltv"] == pytest.approx(
        _one(warehouse, "select sum(lifetime_revenue) from {mart_customer_ltv}") / buyers, abs=0.005)
    rfm = _sql(warehouse, "select rfm_segment, count(*) from {mart_customer_ltv} group by rfm_segment")
    assert shown["rfm_segment_customers"] == {s: int(n) for s, n in rfm}
    assert shown["current_customers"] == _one(warehouse, "select count(*) from {dim_customers} where is_current")

    assert shown["events"] == _one(warehouse, "select count(*) from {fct_events}")
    assert shown["future_dated_events"] == _one(warehouse, "select count(*) from {fct_events} where is_future_dated")
    assert shown["incomplete_payload_events"] == _one(
        warehouse, "select count(*) from {fct_events} where is_payload_incomplete")
    findings = _sql(warehouse, "select status, count(*) from {mart_data_quality_findings} group by status")
    assert shown["test_findings"] == {status: int(n) for status, n in findings}
    assert shown["test_findings"].get("warn", 0) > 0, "the default source's dirty rows should make tests warn"


def test_one_png_per_page_and_a_self_contained_html(rendered) -> None:
    out, content = rendered
    report = pbir.load_report(previews.REPORT_DIR)
    assert list(content["pages"]) == report.page_order
    for page in report.page_order:
        png = out / f"{page}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    document = (out / "index.html").read_text()
    assert "Preview computed from the marts" in document and "not a Power BI rendering" in document
    for fetch in ('src="http', "src='http", 'href="http', "<link", "@import", "url(http"):
        assert fetch not in document, f"index.html fetches from the network: {fetch}"
    for page in report.pages.values():
        for visual in page.visuals:
            assert f'data-visual="{visual}"' in document, visual


def test_html_renders_in_headless_chromium(rendered, tmp_path: Path) -> None:
    """Every page and visual drawn, no script error, and no overflowing text: the page's own script measures
    each text element (scrollWidth > clientWidth, or its box outside its visual's) on every page."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    out, content = rendered
    assert_renders_cleanly(out, content, tmp_path / "profile", chromium)
