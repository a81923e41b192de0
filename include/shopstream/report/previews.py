"""Previews of the Power BI report's pages, computed from the marts in the warehouse.

Power BI Desktop runs on Windows only, so the run command renders each page of
powerbi/ShopStream.Report here: one PNG per page and one self-contained ``index.html`` (inline SVG
charts, a little inline JavaScript for the page tabs, nothing fetched from the network), plus
``totals.json`` with every figure the pages show. The pages, their visuals, titles and positions come
from the PBIR files; the figures come from the marts through the Python versions of the DAX measures
(``measures.py``). They are previews, not Power BI renderings, and say so.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from include.shopstream import dbt_manifest
from include.shopstream.config import SNOWFLAKE_CONN_ID, SNOWFLAKE_DATABASE
from include.shopstream.report import measures as m
from include.shopstream.report import pbir
from include.shopstream.report.consistency import POWERBI_DIR

REPORT_DIR = POWERBI_DIR / "ShopStream.Report"
TITLE = "ShopStream — Preview computed from the marts — not a Power BI rendering"
PAGE_WIDTH, PAGE_HEIGHT = 1280, 720
MARTS = ("fct_orders", "fct_order_items", "dim_products", "dim_customers", "fct_events", "mart_sales_overview",
         "mart_product_performance", "mart_customer_ltv", "mart_data_quality_findings")
MAX_BARS, MAX_LINE_LABELS, MAX_TABLE_ROWS = 12, 20, 14
COLORS = ["#118DFF", "#12239E", "#E66C37", "#6B007B", "#E044A7", "#744EC2", "#D9B300", "#D64550"]


# --- Reading the marts ----------------------------------------------------------------------------


def mart_relations() -> dict[str, str]:
    """Model name -> relation, from the dbt manifest when it knows the marts, else SHOPSTREAM.MARTS.<NAME>."""
    relations = {name: f"{SNOWFLAKE_DATABASE}.MARTS.{name.upper()}" for name in MARTS}
    try:
        known = dbt_manifest.relations()
    except (dbt_manifest.ManifestMissing, ValueError):
        known = {}
    relations.update({name: known[name] for name in MARTS if name in known})
    return relations


_QUERIES = {
    "orders": "select order_id, order_date, net_amount, is_revenue from {fct_orders}",
    "items": "select product_sk, quantity, net_amount, is_revenue from {fct_order_items}",
    "products_dim": "select product_sk, brand from {dim_products}",
    # SCD2: the current version is the row flagged is_current (never read valid_to: NULL timestamps may
    # come back as 1970-01-01 through the emulator).
    "customers_dim": "select user_id, signup_channel, is_current from {dim_customers} where is_current",
    "events": ("select event_type, count(*) as events,"
               " sum(case when is_future_dated then 1 else 0 end) as future_dated,"
               " sum(case when is_payload_incomplete then 1 else 0 end) as incomplete,"
               " sum(case when is_future_dated or is_payload_incomplete then 1 else 0 end) as flagged"
               " from {fct_events} group by event_type"),
    "overview": "select order_date, country_code, category, customer_segment, revenue from {mart_sales_overview}",
    "products": ("select product_id, product_name, category, revenue, units_sold, revenue_share,"
                 " cumulative_revenue_share, abc_class from {mart_product_performance}"),
    "findings": ("select tested_model, test_type, column_name, status, failures"
                 " from {mart_data_quality_findings} order by failures desc nulls last, tested_model, test_type"),
    "ltv": ("select user_id, country_code, customer_segment, orders, lifetime_revenue, recency_days,"
            " rfm_segment from {mart_customer_ltv}"),
}


def read_marts(conn: Any, relations: dict[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """The data every page needs, through a DB-API connection; column names in lower case."""
    relations = relations or mart_relations()
    frames = {}
    cursor = conn.cursor()
    try:
        for key, sql in _QUERIES.items():
            cursor.execute(sql.format(**relations))
            columns = [d[0].lower() for d in cursor.description]
            frames[key] = pd.DataFrame([tuple(r) for r in cursor.fetchall()], columns=columns)
    finally:
        cursor.close()
    for frame in frames.values():
        for column in frame.columns:
            if frame[column].dtype == object and len(frame) and type(frame[column].iloc[0]).__name__ == "Decimal":
                frame[column] = frame[column].astype(float)
    return frames


def missing_marts(conn: Any, relations: dict[str, str] | None = None) -> list[str]:
    """The marts the previews read that the warehouse does not hold (yet)."""
    relations = relations or mart_relations()
    missing = []
    cursor = conn.cursor()
    try:
        for name in MARTS:
            try:
                cursor.execute(f"select 1 from {relations[name]} limit 1")
                cursor.fetchall()
            except Exception as exc:
                if "does not exist" not in str(exc) and "not found" not in str(exc).lower():
                    raise
                missing.append(relations[name])
    finally:
        cursor.close()
    return missing


def snowflake_connection() -> Any:
    from airflow.providers.snowflake.hooks.snowflake import SnowflakeHook

    return SnowflakeHook(snowflake_conn_id=SNOWFLAKE_CONN_ID).get_conn()


# --- What the pages show ---------------------------------------------------------------------------------------


def money(value: float) -> str:
    return "(blank)" if value is None or math.isnan(value) else f"{value:,.2f}"


def integer(value: float) -> str:
    return f"{int(value):,}"


def percent(value: float) -> str:
    return "(blank)" if value is None or math.isnan(value) else f"{value:.1%}"


@dataclass
class Card:
    label: str
    value: float
    text: str


@dataclass
class Chart:
    kind: str  # bar (horizontal), column, line, donut, table
    categories: list[str]
    series: dict[str, list[float]]
    formatter: Callable[[float], str] = money
    total: float | None = None  # shown in the chart's caption when the split adds up to a figure
    columns: list[str] = field(default_factory=list)  # for tables
    rows: list[list[str]] = field(default_factory=list)
    axis: str = "category"  # "date": categories are ISO dates, ticks show them as dates
    x_label: str = ""  # what the category axis holds
    empty: str = "(no data)"  # shown when there is no category: why the visual is empty


def page_data(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, Card | Chart | str], dict[str, Any]]:
    """Visual name -> what it shows, and the figures (totals.json) the pages display."""
    orders, items, overview = frames["orders"], frames["items"], frames["overview"]
    products, ltv, events = frames["products"], frames["ltv"], frames["events"]
    v: dict[str, Card | Chart | str] = {}
    revenue, n_orders, basket = m.revenue(orders), m.order_count(orders), m.average_basket(orders)
    units = m.units_sold(items)

    # Overview
    dates = pd.to_datetime(orders["order_date"])
    v["slicer_date"] = f"Order date: {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d} (all)" if len(orders) else ""
    v["slicer_month"] = "Month: all"
    v["card_revenue"] = Card("Revenue", revenue, money(revenue))
    v["card_orders"] = Card("Orders", n_orders, integer(n_orders))
    v["card_average_basket"] = Card("Average basket", basket, money(basket))
    v["card_units_sold"] = Card("Units sold", units, integer(units))
    revenue_orders = orders[orders["is_revenue"].astype(bool)].assign(order_date=dates)
    daily = revenue_orders.groupby("order_date")["net_amount"].sum()
    if len(daily):
        daily = daily.reindex(pd.date_range(daily.index.min(), daily.index.max(), freq="D"), fill_value=0.0)
    v["revenue_trend"] = Chart("line", [f"{d:%Y-%m-%d}" for d in daily.index], {"Revenue": daily.tolist()},
                               total=float(daily.sum()), axis="date", x_label="order date")
    # Power BI leaves out the months whose value is blank; the axis is sorted by month (the PBIR sort).
    growth = m.mom_growth(orders).dropna().sort_index()
    v["mom_growth"] = Chart("column", list(growth.index), {"MoM revenue growth": growth.tolist()}, percent,
                            x_label="month", empty="(blank: no month whose previous month is wholly in the data)")
    for name, column in (("revenue_by_country", "country_code"), ("revenue_by_category", "category"),
                         ("revenue_by_segment", "customer_segment")):
        split = overview.groupby(column)["revenue"].sum().sort_values(ascending=False)
        kind = "donut" if name == "revenue_by_segment" else "bar"
        v[name] = Chart(kind, [str(c) for c in split.index], {"Sales revenue": split.tolist()},
                        total=m.sales_revenue(overview))

    # Product performance
    ranked = products.sort_values("revenue", ascending=False)
    share = m.abc_revenue_share(products)
    count_by_class = products.groupby("abc_class").size().reindex(share.index)
    v["card_products"] = Card("Products", len(products), integer(len(products)))
    v["card_product_revenue"] = Card("Product revenue", m.product_revenue(products), money(m.product_revenue(products)))
    v["abc_share"] = Chart("column", [f"{c} ({integer(n)} products)" for c, n in count_by_class.items()],
                           {"ABC revenue share": share.tolist()}, percent)
    v["pareto"] = Chart("line", [str(n) for n in ranked["product_name"]],
                        {"Cumulative revenue share": ranked["cumulative_revenue_share"].astype(float).tolist()},
                        percent, x_label="products, by revenue (descending)")
    brands = (items[items["is_revenue"].astype(bool)].merge(frames["products_dim"], on="product_sk", how="left")
              .fillna({"brand": "(blank)"}).groupby("brand")["net_amount"].sum().sort_values(ascending=False))
    v["revenue_by_brand"] = Chart("bar", [str(b) for b in brands.index], {"Item revenue": brands.tolist()},
                                  total=m.item_revenue(items))
    top = ranked.head(12)
    v["top_products"] = Chart("table", [], {}, columns=["product_name", "category", "abc_class", "units_sold",
                                                         "Product revenue", "ABC revenue share"],
                              rows=[[str(r.product_name), str(r.category), str(r.abc_class), integer(r.units_sold),
                                     money(r.revenue), percent(m._divide(r.revenue, m.product_revenue(products)))]
                                    for r in top.itertuples()])

    # Customer analysis
    ltv_value = m.customer_ltv(ltv)
    v["card_customers"] = Card("Buyers", m.buyers(ltv), integer(m.buyers(ltv)))
    v["card_ltv"] = Card("Customer LTV", ltv_value, money(ltv_value))
    v["card_customer_basket"] = Card("Average basket", basket, money(basket))
    rfm = m.rfm_segment_customers(ltv)
    v["rfm_segments"] = Chart("bar", [str(s) for s in rfm.index], {"RFM segment customers": rfm.tolist()}, integer,
                              total=float(rfm.sum()))
    by_segment = ltv.groupby("customer_segment").apply(m.customer_ltv, include_groups=False).sort_index()
    v["ltv_by_segment"] = Chart("column", [str(s) for s in by_segment.index], {"Customer LTV": by_segment.tolist()})
    channels = frames["customers_dim"].groupby("signup_channel").apply(m.current_customers, include_groups=False)
    v["customers_by_channel"] = Chart("column", [str(c) for c in channels.index],
                                      {"Current customers": channels.tolist()}, integer, total=float(channels.sum()))
    top_customers = ltv.sort_values("lifetime_revenue", ascending=False).head(12)
    v["top_customers"] = Chart("table", [], {}, columns=["user_id", "country_code", "rfm_segment", "orders",
                                                          "lifetime_revenue", "recency_days"],
                               rows=[[str(r.user_id), str(r.country_code), str(r.rfm_segment), integer(r.orders),
                                      money(r.lifetime_revenue), integer(r.recency_days)]
                                     for r in top_customers.itertuples()])

    # Data quality
    n_events, future, incomplete, n_flagged = (int(events[c].sum())
                                               for c in ("events", "future_dated", "incomplete", "flagged"))
    flagged = m.flagged_event_share(n_events, n_flagged)
    v["card_events"] = Card("Events", n_events, integer(n_events))
    v["card_future_dated"] = Card("Future-dated events", future, integer(future))
    v["card_incomplete"] = Card("Incomplete-payload events", incomplete, integer(incomplete))
    v["card_flagged_share"] = Card("Flagged event share", flagged, percent(flagged))
    by_type = events.sort_values("event_type")
    v["flags_by_event_type"] = Chart("bar", by_type["event_type"].astype(str).tolist(), {
        "Future-dated events": by_type["future_dated"].astype(float).tolist(),
        "Incomplete-payload events": by_type["incomplete"].astype(float).tolist(),
    }, integer)

    findings = frames["findings"]
    v["test_findings"] = Chart("table", [], {}, columns=["tested_model", "test_type", "column_name", "status",
                                                          "failures"],
                               rows=[[str(r.tested_model), str(r.test_type),
                                      "" if r.column_name is None else str(r.column_name), str(r.status),
                                      "" if pd.isna(r.failures) else integer(r.failures)]
                                     for r in findings.head(MAX_TABLE_ROWS).itertuples()])

    totals = {
        "revenue": round(revenue, 2), "orders": n_orders, "average_basket": round(basket, 2), "units_sold": units,
        "revenue_trend_total": round(float(daily.sum()), 2),
        "sales_revenue_by_country": round(sum(v["revenue_by_country"].series["Sales revenue"]), 2),
        "sales_revenue_by_category": round(sum(v["revenue_by_category"].series["Sales revenue"]), 2),
        "products": len(products), "product_revenue": round(m.product_revenue(products), 2),
        "abc_revenue_share": {k: round(float(x), 4) for k, x in share.items()},
        "item_revenue_by_brand": round(float(brands.sum()), 2),
        "customers": len(ltv), "customer_ltv": round(ltv_value, 2),
        "rfm_segment_customers": {str(k): int(x) for k, x in rfm.items()},
        "current_customers": int(channels.sum()),
        "events": n_events, "future_dated_events": future, "incomplete_payload_events": incomplete,
        "flagged_events": n_flagged,
        "test_findings": {str(s): int(n) for s, n in findings.groupby("status").size().items()},
        "mom_revenue_growth": {k: round(float(x), 4) for k, x in growth.items()},
    }
    return v, totals


# --- Drawing ---------------------------------------------------------------------------------------------------


def _short(value: float) -> str:
    """Axis ticks: 1.2k, 3.4M, 5.6B, 7.8T (never scientific notation, which overflows a narrow axis)."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _fit(text: str, chars: int) -> str:
    """A label cut to ``chars`` characters with an ellipsis: shown whole or visibly shortened, never clipped."""
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


def _chars(width_px: float, font_pt: float) -> int:
    """Characters of a sans-serif font that fit in ``width_px`` (average advance about 0.6 em, bold included)."""
    return max(4, int(width_px / (font_pt * 96 / 72 * 0.62)))


def _tick_label(item: Chart, category: str, chars: int) -> str:
    if item.axis == "date":
        return f"{pd.Timestamp(category):%d %b}"
    return _fit(category, chars)


TITLE_LINE_PX = 16


def title_lines(title: str, item: Card | Chart | str, width_px: float) -> list[str]:
    """The visual's title (with the total its split adds up to), wrapped to the visual's width: two lines at
    most, the second cut with an ellipsis if it must be."""
    import textwrap

    if isinstance(item, Chart) and item.total is not None:
        title = f"{title} (total {item.formatter(item.total)})"
    lines = textwrap.wrap(title, _chars(width_px - 16, 9)) or [""]
    return [lines[0], _fit(" ".join(lines[1:]), _chars(width_px - 16, 9))] if len(lines) > 1 else lines


def _axes_box(item: Card | Chart | str, width_px: float) -> tuple[float, float, float, float]:
    """Where the axes sit below the title (left, bottom, width, height as fractions): room for category
    names left of a bar chart and for slanted names under a line or column chart."""
    if not isinstance(item, Chart) or item.kind in ("table", "donut") or not item.categories:
        return 0.02, 0.02, 0.96, 0.94
    if item.kind == "bar":
        left = min(0.4, 130 / width_px)
        return left, 0.14, 0.95 - left, 0.80
    left = min(0.2, 56 / width_px)
    return left, 0.34, 0.95 - left, 0.60


def _draw(ax: Any, item: Card | Chart | str, width_px: float) -> None:
    """Draw one visual, but its title (the caller's), into ``ax``; ``width_px`` is the visual's width, to cut labels."""
    if isinstance(item, str):
        ax.axis("off")
        ax.text(0.02, 0.4, _fit(item, _chars(width_px - 12, 9)), fontsize=9, transform=ax.transAxes)
        return
    if isinstance(item, Card):
        ax.axis("off")
        ax.text(0.5, 0.45, item.text, fontsize=20, ha="center", va="center", transform=ax.transAxes)
        ax.text(0.5, 0.08, _fit(item.label, _chars(width_px - 12, 8)), fontsize=8, ha="center", color="#605E5C",
                transform=ax.transAxes)
        return
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    from matplotlib.ticker import MaxNLocator

    if item.kind == "table":
        ax.axis("off")
        if item.rows:
            table = ax.table(cellText=item.rows, colLabels=item.columns, loc="upper center", cellLoc="left")
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            table.auto_set_column_width(list(range(len(item.columns))))  # columns as wide as their text
            table.scale(1, 1.1)
        return
    if not item.categories:
        ax.axis("off")
        ax.text(0.5, 0.5, _fit(item.empty, _chars(width_px - 20, 8)), ha="center", va="center", fontsize=8,
                transform=ax.transAxes, color="#605E5C")
        return
    names = list(item.series)
    if item.kind == "donut":
        values = [max(x, 0) for x in item.series[names[0]]]
        ax.pie(values, labels=[_fit(c, 14) for c in item.categories], colors=COLORS, wedgeprops={"width": 0.4},
               textprops={"fontsize": 7})
        ax.set_aspect("equal")
        return
    categories, series = item.categories, item.series
    if item.kind == "bar" and len(categories) > MAX_BARS:
        # Power BI would scroll; the preview keeps the first bars and sums the rest into one.
        rest = len(categories) - MAX_BARS + 1
        categories = [*categories[: MAX_BARS - 1], f"{rest} others"]
        series = {n: [*v[: MAX_BARS - 1], float(sum(x for x in v[MAX_BARS - 1:] if not math.isnan(x)))]
                  for n, v in series.items()}
    positions = list(range(len(categories)))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values = [0 if (x is None or math.isnan(x)) else x for x in series[name]]
        offsets = [p + (i - (len(names) - 1) / 2) * width for p in positions]
        if item.kind == "line":
            ax.plot(positions, values, color=COLORS[i], label=name, linewidth=1.5)
        elif item.kind == "bar":
            ax.barh(offsets, values, height=width, color=COLORS[i], label=name)
        else:
            ax.bar(offsets, values, width=width, color=COLORS[i], label=name)
    if all(x == 0 or math.isnan(x) for values in item.series.values() for x in values):
        ax.text(0.5, 0.5, "(all zero)", ha="center", va="center", transform=ax.transAxes, color="#605E5C")
        (ax.set_xlim if item.kind == "bar" else ax.set_ylim)(0, 1)
    value_format = (lambda x, _: percent(x)) if item.formatter is percent else (lambda x, _: _short(x))
    if item.kind == "bar":
        left_px = _axes_box(item, width_px)[0] * width_px
        ax.set_yticks(positions, [_fit(c, _chars(left_px - 10, 7)) for c in categories])
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(value_format)
    else:
        # Every category is named (dates as dates, products by name); when they do not all fit, every
        # step-th one is, slanted, and cut to what the space below the axis holds.
        plot_px = width_px * _axes_box(item, width_px)[2]
        step = max(1, math.ceil(len(positions) / max(1, int(plot_px / 30))))
        slanted = step > 1 or len(positions) * 8 * 7 * 96 / 72 * 0.62 > plot_px
        chars = 12 if slanted else max(4, int(plot_px / max(1, len(positions)) / 6))
        ax.set_xticks(positions[::step], [_tick_label(item, c, chars) for c in categories[::step]],
                      rotation=30 if slanted else 0, ha="right" if slanted else "center", rotation_mode="anchor")
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.yaxis.set_major_formatter(value_format)
        if item.x_label:
            ax.set_xlabel(item.x_label, fontsize=7, color="#605E5C")
    if item.kind == "column" and len(names) == 1 and len(positions) <= 12:
        for p, x in zip(positions, series[names[0]], strict=True):
            ax.annotate(item.formatter(x), (p, 0 if math.isnan(x) else x), fontsize=7, ha="center", va="bottom")
    if len(names) > 1:
        ax.legend(fontsize=7, frameon=False)


def _figure(width_px: float, height_px: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width_px / 100, height_px / 100), dpi=100)


def render_page_png(page: pbir.Page, items: dict[str, Any], path: Path) -> None:
    """One PNG of the page: every visual drawn at its PBIR position on a 1280x720 canvas."""
    fig = _figure(PAGE_WIDTH, PAGE_HEIGHT + 40)
    fig.text(0.01, 0.985, f"{page.display_name}  ·  {TITLE}", fontsize=10, va="top", color="#252423")
    for visual in _ordered(page):
        x, y, w, h = _position(visual)
        item = items.get(visual.name, "(not computed)")
        lines = title_lines(visual.title or visual.name, item, w)
        fig.text((x + 8) / PAGE_WIDTH, 1 - (y + 40 + 6) / (PAGE_HEIGHT + 40), "\n".join(lines), fontsize=9,
                 fontweight="bold", va="top", linespacing=1.3)
        top = y + 8 + TITLE_LINE_PX * len(lines)  # the plot below the title
        rect = [x / PAGE_WIDTH, 1 - (y + h + 40) / (PAGE_HEIGHT + 40), w / PAGE_WIDTH,
                (y + h - top) / (PAGE_HEIGHT + 40)]
        left, bottom, width, height = _axes_box(item, w)
        ax = fig.add_axes([rect[0] + left * rect[2], rect[1] + bottom * rect[3], width * rect[2], height * rect[3]])
        _draw(ax, item, w)
    fig.savefig(path, format="png", metadata={"Software": None})


def render_visual_svg(visual: pbir.Visual, item: Card | Chart | str, height_px: float) -> str:
    """The visual's chart without its title (an HTML heading above it), ``height_px`` high."""
    _, _, w, _ = _position(visual)
    fig = _figure(w - 2, height_px)
    ax = fig.add_axes(list(_axes_box(item, w)))
    _draw(ax, item, w)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    # Several SVGs share one document: give each its own element ids.
    prefix = f"{visual.name}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda mt: f'id="{prefix}{mt.group(1)}"', svg)
    return re.sub(r'(href="#|url\(#)([^")]+)', lambda mt: f"{mt.group(1)}{prefix}{mt.group(2)}", svg)


def _position(visual: pbir.Visual) -> tuple[float, float, float, float]:
    data = json.loads(visual.file.read_text())["position"]
    return float(data["x"]), float(data["y"]), float(data["width"]), float(data["height"])


def _ordered(page: pbir.Page) -> list[pbir.Visual]:
    return sorted(page.visuals.values(), key=lambda v: (_position(v)[1], _position(v)[0]))


_SCRIPT = """
window.__errors = [];
window.onerror = function (message, source, line) { window.__errors.push(message + ' @' + line); report(); };
function show(page) {
  document.querySelectorAll('.page').forEach(function (p) { p.hidden = p.id !== 'page-' + page; });
  document.querySelectorAll('nav button').forEach(function (b) {
    b.setAttribute('aria-selected', String(b.dataset.page === page)); });
}
// Text a reader cannot read whole: an element narrower than its text (scrollWidth > clientWidth), text
// (HTML or SVG) reaching outside its visual's box, or a visual whose content is larger than the visual.
function overflowing(page) {
  var found = [];
  page.querySelectorAll('.visual').forEach(function (v) {
    var box = v.getBoundingClientRect();
    var where = page.id.slice(5) + '/' + v.dataset.visual + ': ';
    if (v.scrollHeight > v.clientHeight + 1 || v.scrollWidth > v.clientWidth + 1) {
      found.push(where + 'content larger than the visual'); }
    v.querySelectorAll('h2, th, td, .card-value, .card-label, .slicer, text').forEach(function (t) {
      var text = t.textContent.trim();
      var r = t.getBoundingClientRect();
      if (!text || (r.width === 0 && r.height === 0)) { return; }
      var cut = t instanceof HTMLElement && t.scrollWidth > t.clientWidth + 1;  // SVG text: its box only
      var outside = r.left < box.left - 1 || r.right > box.right + 1
        || r.top < box.top - 1 || r.bottom > box.bottom + 1;
      if (cut || outside) { found.push(where + text.slice(0, 80)); }
    });
  });
  return found;
}
function report() {
  var pages = document.querySelectorAll('.page');
  var visuals = document.querySelectorAll('.visual');
  var drawn = 0;
  var overflow = [];
  visuals.forEach(function (v) {
    if (v.querySelector('svg, table, .card-value, .slicer')) { drawn += 1; }
  });
  var shown = document.querySelector('.page:not([hidden])');
  pages.forEach(function (p) { show(p.id.slice(5)); overflow = overflow.concat(overflowing(p)); });
  if (shown) { show(shown.id.slice(5)); }
  document.getElementById('render-report').textContent = JSON.stringify({
    pages: pages.length, visuals: visuals.length, drawn: drawn, errors: window.__errors, overflow: overflow});
}
document.querySelectorAll('nav button').forEach(function (b) {
  b.addEventListener('click', function () { show(b.dataset.page); });
});
show(document.querySelector('.page').id.slice(5));
report();
"""

_STYLE = """
body { font-family: 'Segoe UI', system-ui, sans-serif; margin: 0; background: #F3F2F1; color: #252423; }
header { padding: 12px 20px; background: #252423; color: #fff; }
header h1 { font-size: 18px; margin: 0; } header p { margin: 4px 0 0; font-size: 12px; color: #ddd; }
nav { padding: 8px 20px; } nav button { margin-right: 6px; padding: 6px 12px; border: 1px solid #C8C6C4;
  background: #fff; cursor: pointer; } nav button[aria-selected=true] { background: #118DFF; color: #fff; }
.page { position: relative; width: 1280px; height: 720px; margin: 0 20px 20px; background: #fff; }
.visual { position: absolute; box-sizing: border-box; border: 1px solid #E1DFDD; overflow: hidden;
  display: flex; flex-direction: column; }
.visual svg { display: block; width: 100%; flex: 1 1 0; min-height: 0; }
.card-value { font-size: 28px; text-align: center; margin-top: 18px; } .card-label { text-align: center;
  font-size: 12px; color: #605E5C; } .visual h2 { font-size: 12px; line-height: 16px; margin: 6px 8px; flex: none; }
.slicer { font-size: 12px; margin: 6px 8px; }
table { border-collapse: collapse; font-size: 11px; margin: 0 8px; } th, td { border-bottom: 1px solid #EDEBE9;
  padding: 1px 8px; text-align: left; white-space: nowrap; line-height: 15px; }
#render-report { display: none; }
"""


def _visual_html(visual: pbir.Visual, item: Card | Chart | str) -> str:
    x, y, w, h = _position(visual)
    title = html.escape(visual.title or visual.name)
    style = f"left:{x:.0f}px;top:{y:.0f}px;width:{w:.0f}px;height:{h:.0f}px"
    if isinstance(item, Card):
        body = (f'<h2>{title}</h2><div class="card-value">{html.escape(item.text)}</div>'
                f'<div class="card-label">{html.escape(item.label)}</div>')
    elif isinstance(item, str):
        body = f'<h2>{title}</h2><div class="slicer">{html.escape(item)}</div>'
    elif item.kind == "table":
        # As many rows as the visual holds (Power BI would scroll), cells cut with an ellipsis to share its width.
        fit = max(1, int((h - 50) / 18))
        chars = max(8, int((w - 16) / max(1, len(item.columns)) / 6.2))
        head = "".join(f"<th>{html.escape(_fit(c, chars))}</th>" for c in item.columns)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(_fit(c, chars))}</td>" for c in row) + "</tr>"
                       for row in item.rows[:fit])
        body = f"<h2>{title}</h2><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    else:
        lines = title_lines(visual.title or visual.name, item, w)
        heading = "<br>".join(html.escape(line) for line in lines)
        body = f"<h2>{heading}</h2>" + render_visual_svg(visual, item, h - 14 - TITLE_LINE_PX * len(lines))
    kind = "card" if isinstance(item, Card) else "slicer" if isinstance(item, str) else item.kind
    return (f'<div class="visual visual-{kind}" data-visual="{html.escape(visual.name)}" '
            f'style="{style}">{body}</div>')


def render(frames: dict[str, pd.DataFrame], out: Path, report_dir: Path = REPORT_DIR) -> dict[str, Any]:
    """Write <page>.png per page, index.html and totals.json into ``out``; returns the totals.json content."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "shopstream"
    report = pbir.load_report(report_dir)
    items, totals = page_data(frames)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    nav, sections, pages = [], [], {}
    for name in report.page_order:
        page = report.pages[name]
        render_page_png(page, items, out / f"{name}.png")
        visuals = _ordered(page)
        pages[name] = {"display_name": page.display_name, "png": f"{name}.png", "visuals": [v.name for v in visuals]}
        nav.append(f'<button data-page="{name}">{html.escape(page.display_name)}</button>')
        sections.append(f'<section class="page" id="page-{name}" aria-label="{html.escape(page.display_name)}">'
                        + "".join(_visual_html(v, items.get(v.name, "(not computed)")) for v in visuals)
                        + "</section>")
    document = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(TITLE)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{html.escape(TITLE)}</h1><p>Pages of powerbi/ShopStream.Report, figures computed from the "
        f"marts with the Python versions of the DAX measures; generated {generated}.</p></header>"
        f"<nav>{''.join(nav)}</nav>{''.join(sections)}<pre id=\"render-report\"></pre>"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )
    (out / "index.html").write_text(document, encoding="utf-8")
    content = {"title": TITLE, "generated_at": generated, "pages": pages, "totals": totals}
    (out / "totals.json").write_text(json.dumps(content, indent=2) + "\n")
    return content


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
                  "--virtual-time-budget=10000")


def chromium_state(index: Path, profile: Path, chromium: str, timeout: float = 120) -> tuple[dict[str, Any], list[str]]:
    """Open ``index.html`` in headless Chromium; returns what its script measured (pages, visuals, drawn,
    script errors, overflowing text) and the console's uncaught errors."""
    import subprocess

    result = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", index.as_uri()],
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr[-3000:]}")
    dom, marker = result.stdout, '<pre id="render-report">'
    start = dom.index(marker) + len(marker)
    state = json.loads(html.unescape(dom[start:dom.index("</pre>", start)]))
    return state, [line for line in result.stderr.splitlines() if "Uncaught" in line]


def render_from_warehouse(out: Path, conn: Any = None, relations: dict[str, str] | None = None) -> dict[str, Any]:
    """Read the marts (through the Airflow connection unless a DB-API connection is given) and render."""
    own = conn is None
    conn = snowflake_connection() if own else conn
    try:
        if missing := missing_marts(conn, relations):
            raise RuntimeError(f"the warehouse has no {', '.join(missing)}: run the pipeline first (`make run`)")
        frames = read_marts(conn, relations)
    finally:
        if own:
            conn.close()
    return render(frames, out)
