"""[MoM revenue growth]: the DAX rule (its Python reference) against the previews' measure, on the edge cases.

DAX cannot run here. ``dax_reference.mom_revenue_growth`` transcribes the measure's DAX line by line and
evaluates it in one filter context; ``measures.mom_growth`` is the vectorised version the previews draw.
The data set holds every edge of the month axis: a partial first month, a month without orders, a
partial last month (whose last order is not a revenue order), months of the calendar before and after
the data (dim_date spans whole years), a month of 31 days against one of 30.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from include.shopstream.config import PROJECT_ROOT
from report_tools import dax_reference, measures, tmdl
from report_tools.dax_reference import Order
from tests.report_checks import assert_renders_cleanly

MODEL = PROJECT_ROOT / "powerbi" / "ShopStream.SemanticModel"


def _orders() -> list[Order]:
    rows = []
    day = date(2025, 11, 20)  # a partial first month: from November 20
    while day <= date(2026, 4, 10):  # a partial last month: to April 10
        if day.month != 2:  # February without any order
            rows.append(Order(day, 10.0 + day.day, True))
            if day.day % 7 == 0:
                rows.append(Order(day, 500.0, False))  # cancelled: never revenue
        day += timedelta(days=1)
    rows[-1] = Order(rows[-1].order_date, rows[-1].net_amount, False)  # the last order (April 10) is not revenue
    return rows


ORDERS = _orders()
FRAME = pd.DataFrame([{"order_id": i, "order_date": o.order_date, "net_amount": o.net_amount,
                       "is_revenue": o.is_revenue} for i, o in enumerate(ORDERS)])


def _month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == month]


def _revenue(start: date, end: date) -> float:
    return sum(o.net_amount for o in ORDERS if o.is_revenue and start <= o.order_date <= end)


def test_preview_equals_the_dax_reference_month_by_month() -> None:
    preview = measures.mom_growth(FRAME)
    assert list(preview.index) == [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]  # whole years
    for year_month, shown in preview.items():
        year, month = (int(x) for x in year_month.split("-"))
        reference = dax_reference.mom_revenue_growth(ORDERS, _month_days(year, month))
        if reference is None:
            assert pd.isna(shown), year_month
        else:
            assert shown == pytest.approx(reference, rel=1e-12), year_month


def test_the_edges() -> None:
    growth = measures.mom_growth(FRAME)
    shown = {k: v for k, v in growth.items() if not pd.isna(v)}
    # Blank: months before the data, the partial first month (2025-11) and the month after it (its previous
    # month is partial), February (no orders) and March (no previous revenue), months after April 10.
    assert set(shown) == {"2026-01", "2026-04"}
    # January against the whole of December (31 days each).
    december, january = _revenue(date(2025, 12, 1), date(2025, 12, 31)), _revenue(date(2026, 1, 1), date(2026, 1, 31))
    assert shown["2026-01"] == pytest.approx((january - december) / december)
    # April, partial: its days up to the last order date (April 10, although that order is no revenue)
    # against March 1-10, the same number of days.
    april, march = _revenue(date(2026, 4, 1), date(2026, 4, 10)), _revenue(date(2026, 3, 1), date(2026, 3, 10))
    assert shown["2026-04"] == pytest.approx((april - march) / march)


def test_the_dax_at_other_grains_and_contexts() -> None:
    whole_2026 = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    assert dax_reference.mom_revenue_growth(ORDERS, whole_2026) is None  # year (or total) grain: blank
    january = _month_days(2026, 1)
    assert dax_reference.mom_revenue_growth(ORDERS, january[:1], day_in_scope=True) is None  # day grain: blank
    # A slicer keeping part of the month: DATESBETWEEN on the marked date table overrides it.
    month_value = dax_reference.mom_revenue_growth(ORDERS, january)
    assert dax_reference.mom_revenue_growth(ORDERS, january[10:20]) == month_value
    # A filter on another table keeping one December and one January order: the data's bounds stay those of
    # every order (REMOVEFILTERS), so January is still comparable; without the December one, blank.
    kept = [o for o in ORDERS if o.order_date in (date(2025, 12, 15), date(2026, 1, 15)) and o.is_revenue]
    assert dax_reference.mom_revenue_growth(kept, january, all_orders=ORDERS) == pytest.approx(25.0 / 25.0 - 1)
    assert dax_reference.mom_revenue_growth(kept[1:], january, all_orders=ORDERS) is None
    preview = measures.mom_growth(FRAME[FRAME["order_date"].isin([o.order_date for o in kept])])
    assert preview.dropna().empty  # the preview's bounds come from the rows it is given: it draws no filter


def test_dax_date_functions() -> None:
    assert dax_reference._edate(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert dax_reference._eomonth(date(2026, 12, 5), 0) == date(2026, 12, 31)
    assert dax_reference._eomonth(date(2026, 1, 5), -1) == date(2025, 12, 31)


def _normalise(dax: str) -> str:
    return re.sub(r"\s+", " ", dax).strip()


def test_tmdl_measure_is_the_documented_reference() -> None:
    """The measure in fct_orders.tmdl is, token for token, the DAX the reference transcribes; its
    description states the rule."""
    model = tmdl.load_model(MODEL)
    measure = model.tables["fct_orders"].measures["MoM revenue growth"]
    assert _normalise(measure.expression) == _normalise(dax_reference.MOM_REVENUE_GROWTH_DAX)
    description = measure.description or ""
    for words in ("same number of days", "Blank for the first month", "not wholly inside the data",
                  "dax_reference.py"):
        assert words in description, words


def test_date_table_is_marked_and_whole_years() -> None:
    model = tmdl.load_model(MODEL)
    assert model.tables["dim_date"].properties.get("dataCategory") == "Time"
    sql = (PROJECT_ROOT / "include" / "dbt" / "shopstream" / "models" / "marts" / "dim_date.sql").read_text()
    assert "date_trunc('year', min(happened_at))" in sql
    assert "dateadd(day, -1, dateadd(year, 1, date_trunc('year', max(happened_at))))" in sql


# --- The previews, rendered from synthetic marts, in headless Chromium --------------------------------------------


def synthetic_frames(seed: int = 3) -> dict[str, pd.DataFrame]:
    """Marts as ``previews.data.read_marts`` returns them: 95 days over two years, long product, brand and
    customer names (the ones that get cut), an event with both flags."""
    import random

    rng = random.Random(seed)
    first = date(2025, 12, 1)
    days = [first + timedelta(days=i) for i in range(95)]
    orders = pd.DataFrame([{"order_id": i, "order_date": rng.choice(days), "net_amount": round(rng.uniform(5, 400), 2),
                            "is_revenue": rng.random() < 0.85} for i in range(1500)])
    brands = ["Schmidt, Müller und Hoffmann Gesellschaft", "Acme", "Dupont et Fils", "Rossi S.p.A.", "Smith Ltd"]
    categories = ["electronics", "home_garden", "grocery", "fashion", "sports_outdoors", "beauty", "toys", "books"]
    names = [f"{rng.choice(['Ergonomic', 'Rustic', 'Handcrafted', 'Incredible'])} "
             f"{rng.choice(['Stainless Steel', 'Wooden', 'Granite', 'Recycled Cotton'])} "
             f"{rng.choice(['Chair', 'Kettle', 'Backpack', 'Headphones with Noise Cancelling'])} {i}"
             for i in range(60)]
    revenue = sorted((rng.uniform(10, 5000) for _ in names), reverse=True)
    total = sum(revenue)
    cumulative = [sum(revenue[: i + 1]) / total for i in range(len(revenue))]
    products = pd.DataFrame({"product_id": range(60), "product_name": names,
                             "category": [rng.choice(categories) for _ in names], "revenue": revenue,
                             "units_sold": [rng.randint(1, 90) for _ in names],
                             "revenue_share": [r / total for r in revenue], "cumulative_revenue_share": cumulative,
                             "abc_class": ["A" if c <= 0.8 else "B" if c <= 0.95 else "C" for c in cumulative]})
    items = pd.DataFrame([{"product_sk": f"p{rng.randrange(60)}", "quantity": rng.randint(1, 3),
                           "net_amount": round(rng.uniform(5, 200), 2), "is_revenue": rng.random() < 0.85}
                          for _ in range(3000)])
    products_dim = pd.DataFrame({"product_sk": [f"p{i}" for i in range(60)],
                                 "brand": [brands[i % 5] for i in range(60)]})
    customers_dim = pd.DataFrame({"user_id": range(400), "signup_channel": [rng.choice(
        ["web", "app", "marketplace", "referral"]) for _ in range(400)], "is_current": True})
    segments = ["Champions", "Loyal", "At risk", "Lost", "Others"]
    ltv = pd.DataFrame([{"user_id": i, "full_name": f"Maximiliane-Josephine von Hohenberg-Wittelsbach {i}",
                         "country_code": rng.choice(["FR", "DE", "US"]), "customer_segment": rng.choice(
                             ["new", "returning", "vip"]), "orders": rng.randint(1, 14),
                         "lifetime_revenue": round(rng.uniform(10, 3000), 2), "recency_days": rng.randint(0, 90),
                         "rfm_segment": rng.choice(segments)} for i in range(300)])
    overview = pd.DataFrame([{"order_date": rng.choice(days), "country_code": rng.choice(["FR", "DE", "US", "GB"]),
                              "category": rng.choice(categories), "customer_segment": rng.choice(
                                  ["new", "returning", "vip"]), "revenue": round(rng.uniform(5, 900), 2)}
                             for _ in range(800)])
    events = pd.DataFrame({"event_type": ["page_view", "search", "product_view", "add_to_cart", "checkout_started",
                                          "purchase"], "events": [900, 700, 650, 500, 450, 400],
                           "future_dated": [18, 10, 12, 9, 8, 7], "incomplete": [20, 12, 11, 10, 9, 8],
                           "flagged": [37, 22, 23, 19, 17, 15]})
    findings = pd.DataFrame([
        {"tested_model": "stg_shopstream__users_with_a_long_model_name_for_the_overflow_check",
         "test_type": "is_not_flagged", "column_name": "has_blank_name", "status": "warn", "failures": 12},
        {"tested_model": "stg_shopstream__events", "test_type": "is_not_flagged",
         "column_name": "is_payload_incomplete", "status": "warn", "failures": 70},
        {"tested_model": "assert_revenue_reconciles_across_marts", "test_type": "singular", "column_name": None,
         "status": "error", "failures": None}])
    return {"orders": orders, "items": items, "products_dim": products_dim, "customers_dim": customers_dim,
            "events": events, "overview": overview, "products": products, "ltv": ltv, "findings": findings}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from report_tools import previews

    out = tmp_path_factory.mktemp("report")
    return out, previews.render(synthetic_frames(), out)


def test_previews_name_their_axes_and_count_what_they_say(rendered: tuple[Path, dict]) -> None:
    from report_tools.previews.data import page_data

    items, totals = page_data(synthetic_frames())
    trend = items["revenue_trend"]
    assert trend.axis == "date" and trend.categories[0] == "2025-12-01"  # dates, not ranks
    assert items["pareto"].categories[0].startswith(("Ergonomic", "Rustic", "Handcrafted", "Incredible"))
    growth = items["mom_growth"]
    assert growth.categories == sorted(growth.categories)  # by month, the PBIR sort
    assert totals["flagged_events"] == 133 and items["card_flagged_share"].value == pytest.approx(133 / 3600)
    assert items["card_customers"].label == "Buyers"
    assert totals["test_findings"] == {"warn": 2, "error": 1}
    assert [row[-2:] for row in items["test_findings"].rows] == [["warn", "12"], ["warn", "70"], ["error", ""]]
    document = (rendered[0] / "index.html").read_text()
    assert ">rank<" not in document


def test_previews_render_without_overflow_or_script_error(rendered: tuple[Path, dict], tmp_path: Path) -> None:
    """The check of tests/integration/test_report_previews.py, on previews of synthetic marts."""
    import shutil


    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    out, content = rendered
    assert_renders_cleanly(out, content, tmp_path / "profile", chromium)


def test_the_overflow_check_catches_a_cut_text(rendered: tuple[Path, dict], tmp_path: Path) -> None:
    """The page's script is no rubber stamp: a card value too wide for its card is reported."""
    import shutil

    from report_tools.previews.page import chromium_state

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    document = (rendered[0] / "index.html").read_text()
    broken = tmp_path / "index.html"
    broken.write_text(document.replace('<div class="card-value">', '<div class="card-value">' + "9" * 40, 1))
    state, _ = chromium_state(broken, tmp_path / "profile", chromium)
    assert any(entry.startswith("overview/card_revenue: 9999") for entry in state["overflow"]), state["overflow"]


def test_the_page_inlines_its_style_and_script_and_fetches_nothing(rendered: tuple[Path, dict]) -> None:
    """index.html carries templates/previews.css and previews.js whole, and every visual of every page."""
    from report_tools.previews.page import TEMPLATES

    out, content = rendered
    document = (out / "index.html").read_text()
    for asset, tag in (("previews.css", "style"), ("previews.js", "script")):
        text = (TEMPLATES / asset).read_text().strip()
        assert f"<{tag}>\n{text}\n</{tag}>" in document, f"{asset} is not inlined verbatim"
    for fetch in ('src="http', "src='http", 'href="http', "<link", "@import", "url(http", "<script src"):
        assert fetch not in document, f"index.html fetches from the network: {fetch}"
    for page in content["pages"].values():
        for visual in page["visuals"]:
            assert document.count(f'data-visual="{visual}"') == 1, visual
