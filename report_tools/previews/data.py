"""The data of the report previews: the marts read from the warehouse, and what each visual shows.

``read_marts`` runs one query per dataset the pages need (``QUERIES``) and returns pandas frames;
``page_data`` turns them into plain values: a :class:`Card` (one figure), a :class:`Chart` (categories
and series, or a table's rows) or a string (a slicer's state) per visual, and the figures of
``totals.json``. The figures come from the Python versions of the DAX measures (``measures.py``).
Nothing here draws: drawing.py draws these values, page.py lays them out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from include.shopstream import dbt_manifest
from include.shopstream.config import SNOWFLAKE_CONN_ID, SNOWFLAKE_DATABASE
from report_tools import measures as m

MARTS = ("fct_orders", "fct_order_items", "dim_products", "dim_customers", "fct_events", "mart_sales_overview",
         "mart_product_performance", "mart_customer_ltv", "mart_data_quality_findings")
MAX_TABLE_ROWS = 14  # rows of the data quality findings kept (the visual shows what fits of them)

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


QUERIES = {
    "orders": "select order_id, order_date, net_amount, is_revenue from {fct_orders}",
    # The item measures are sums: the lines summed per product version and revenue flag give the same
    # figures as the lines themselves, in a few thousand rows instead of one per order line.
    "items": ("select product_sk, is_revenue, sum(quantity) as quantity, sum(net_amount) as net_amount"
              " from {fct_order_items} group by product_sk, is_revenue"),
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
    """The data every page needs, one frame per key of ``QUERIES``; column names in lower case, numbers
    with a scale (``Decimal``) as floats.

    ``conn`` is a Snowflake connection (``snowflake_connection()``): its cursors' ``fetch_pandas_all``
    builds each frame from the Arrow result, several times faster than Python rows at a million
    orders (``make bench-scale``'s report stage).
    """
    relations = relations or mart_relations()
    frames = {}
    cursor = conn.cursor()
    try:
        for key, sql in QUERIES.items():
            cursor.execute(sql.format(**relations))
            frame = cursor.fetch_pandas_all()
            frame.columns = [column.lower() for column in frame.columns]
            frames[key] = frame
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
    """``1,234.50``; ``(blank)`` for a missing value, as Power BI shows a blank measure."""
    return "(blank)" if value is None or math.isnan(value) else f"{value:,.2f}"


def integer(value: float) -> str:
    """``1,234``."""
    return f"{int(value):,}"


def percent(value: float) -> str:
    """``12.3%`` for 0.123; ``(blank)`` for a missing value."""
    return "(blank)" if value is None or math.isnan(value) else f"{value:.1%}"


@dataclass
class Card:
    """A card visual: one figure, and the text it shows."""

    label: str
    value: float
    text: str


@dataclass
class Chart:
    """A chart or a table visual: a series of values per name over the categories, or a table's rows."""

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


# What one visual shows: a card, a chart (or a table), or a slicer's state as text.
Shown = Card | Chart | str
NOT_COMPUTED = "(not computed)"  # what a visual of the report that page_data does not compute shows


def page_data(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, Shown], dict[str, Any]]:
    """Visual name -> what it shows, and the figures (totals.json) the pages display.

    ``frames`` as :func:`read_marts` returns them (one per key of ``QUERIES``). The totals are rounded
    as the pages show them: money to the cent, shares to four decimals.
    """
    orders, items, overview = frames["orders"], frames["items"], frames["overview"]
    products, ltv, events = frames["products"], frames["ltv"], frames["events"]
    v: dict[str, Shown] = {}
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

