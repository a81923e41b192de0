"""The report's measures in Python, for the previews: one function per DAX measure of the semantic model.

Each function mirrors the DAX of the measure named in ``MEASURES`` (powerbi/ShopStream.SemanticModel/
definition/tables/<table>.tmdl); a unit test checks that every name exists there. Inputs are DataFrames
with the marts' column names in lower case. Like DAX's DIVIDE, a division by zero gives a blank (NaN).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd


def _divide(numerator: float, denominator: float) -> float:
    return float("nan") if not denominator else float(numerator) / float(denominator)


def revenue(orders: pd.DataFrame) -> float:
    """[Revenue] = CALCULATE(SUM(fct_orders[net_amount]), fct_orders[is_revenue] = TRUE())"""
    return float(orders.loc[orders["is_revenue"].astype(bool), "net_amount"].astype(float).sum())


def order_count(orders: pd.DataFrame) -> int:
    """[Orders] = CALCULATE(DISTINCTCOUNT(fct_orders[order_id]), fct_orders[is_revenue] = TRUE())"""
    return int(orders.loc[orders["is_revenue"].astype(bool), "order_id"].nunique())


def average_basket(orders: pd.DataFrame) -> float:
    """[Average basket] = DIVIDE([Revenue], [Orders]): a ratio of the grain's sums, never a mean of means."""
    return _divide(revenue(orders), order_count(orders))


def calendar_months(orders: pd.DataFrame) -> pd.PeriodIndex:
    """The months of dim_date: whole calendar years, January of the first order's year to December of the last's."""
    if not len(orders):
        return pd.PeriodIndex([], freq="M")
    dates = pd.to_datetime(orders["order_date"])
    return pd.period_range(f"{dates.min().year}-01", f"{dates.max().year}-12", freq="M")


def mom_growth(orders: pd.DataFrame) -> pd.Series:
    """[MoM revenue growth] on the month axis (dim_date[year_month]) of the whole calendar years; NaN is blank.

    The rule of the DAX (fct_orders.tmdl; its line-by-line reference is dax_reference.mom_revenue_growth):
    a month's revenue, from its first day to the last order date if the month is not over, against the
    previous month's revenue on the same number of days (capped at its length). Blank when the previous
    month is not wholly inside the data (the first month, the month after a partial first month), for a
    month after the last order date, a month without revenue, and a previous month without revenue.
    ``orders``: fct_orders rows (order_date, net_amount, is_revenue) after the filters of other tables.
    """
    months = calendar_months(orders)
    if not len(months):
        return pd.Series([], dtype=float)
    dates = pd.to_datetime(orders["order_date"]).dt.normalize()
    first, last = dates.min(), dates.max()
    revenue_rows = orders.assign(order_date=dates)[orders["is_revenue"].astype(bool).to_numpy()]
    # Cumulative revenue and row count per calendar day: a period's sum is a difference, and a period
    # without revenue rows (count 0) is blank, as SUM over no row is in DAX.
    days = pd.date_range(months[0].start_time, months[-1].end_time.normalize(), freq="D")
    daily = revenue_rows.groupby("order_date")["net_amount"].agg(["sum", "count"]).reindex(days, fill_value=0)
    cum = daily.cumsum()

    def period(start: pd.Timestamp, end: pd.Timestamp) -> float:
        if end < start or start < days[0]:
            return float("nan")
        before = cum.loc[start - pd.Timedelta(days=1)] if start > days[0] else pd.Series({"sum": 0.0, "count": 0})
        total, count = cum.loc[end] - before
        return float(total) if count else float("nan")

    values = []
    for month in months:
        start, previous = month.start_time, (month - 1).start_time
        cut_off = min(month.end_time.normalize(), last)
        previous_end = min((month - 1).end_time.normalize(), previous + pd.Timedelta(days=cut_off.day - 1))
        if previous < first or cut_off < start:
            values.append(float("nan"))
            continue
        current, before = period(start, cut_off), period(previous, previous_end)
        values.append(float("nan") if pd.isna(current) or pd.isna(before) else _divide(current - before, before))
    return pd.Series(values, index=[str(p) for p in months], dtype=float)


def item_revenue(items: pd.DataFrame) -> float:
    """[Item revenue] = CALCULATE(SUM(fct_order_items[net_amount]), fct_order_items[is_revenue] = TRUE())"""
    return float(items.loc[items["is_revenue"].astype(bool), "net_amount"].astype(float).sum())


def units_sold(items: pd.DataFrame) -> int:
    """[Units sold] = CALCULATE(SUM(fct_order_items[quantity]), fct_order_items[is_revenue] = TRUE())"""
    return int(items.loc[items["is_revenue"].astype(bool), "quantity"].astype(int).sum())


def sales_revenue(overview: pd.DataFrame) -> float:
    """[Sales revenue] = SUM(mart_sales_overview[revenue])"""
    return float(overview["revenue"].astype(float).sum())


def product_revenue(products: pd.DataFrame) -> float:
    """[Product revenue] = SUM(mart_product_performance[revenue])"""
    return float(products["revenue"].astype(float).sum())


def abc_revenue_share(products: pd.DataFrame) -> pd.Series:
    """[ABC revenue share] by abc_class = DIVIDE([Product revenue], CALCULATE([Product revenue], ALL(...)))"""
    total = product_revenue(products)
    by_class = products.assign(revenue=products["revenue"].astype(float)).groupby("abc_class")["revenue"].sum()
    return by_class.map(lambda r: _divide(r, total)).sort_index()


def rfm_segment_customers(ltv: pd.DataFrame) -> pd.Series:
    """[RFM segment customers] by rfm_segment = COUNTROWS(mart_customer_ltv)"""
    return ltv["rfm_segment"].value_counts()


def buyers(ltv: pd.DataFrame) -> int:
    """[Buyers] = COUNTROWS(mart_customer_ltv): customers with at least one revenue order."""
    return len(ltv)


def customer_ltv(ltv: pd.DataFrame) -> float:
    """[Customer LTV] = DIVIDE(SUM(lifetime_revenue), COUNTROWS(FILTER(mart_customer_ltv, orders > 0)))"""
    return _divide(ltv["lifetime_revenue"].astype(float).sum(), int((ltv["orders"].astype(int) > 0).sum()))


def current_customers(customers: pd.DataFrame) -> int:
    """[Current customers] = CALCULATE(COUNTROWS(dim_customers), dim_customers[is_current] = TRUE())"""
    return int(customers["is_current"].astype(bool).sum())


def flagged_events(events: pd.DataFrame) -> int:
    """[Flagged events] = CALCULATE(COUNTROWS(fct_events), is_future_dated || is_payload_incomplete): once each."""
    return int((events["is_future_dated"].astype(bool) | events["is_payload_incomplete"].astype(bool)).sum())


def flagged_event_share(events: int, flagged: int) -> float:
    """[Flagged event share] = DIVIDE([Flagged events], [Events]): an event with both flags counts once."""
    return _divide(flagged, events)


# DAX measure name -> (its table in the semantic model, the Python function above)
MEASURES: dict[str, tuple[str, Callable]] = {
    "Revenue": ("fct_orders", revenue),
    "Orders": ("fct_orders", order_count),
    "Average basket": ("fct_orders", average_basket),
    "MoM revenue growth": ("fct_orders", mom_growth),
    "Item revenue": ("fct_order_items", item_revenue),
    "Units sold": ("fct_order_items", units_sold),
    "Sales revenue": ("mart_sales_overview", sales_revenue),
    "Product revenue": ("mart_product_performance", product_revenue),
    "ABC revenue share": ("mart_product_performance", abc_revenue_share),
    "RFM segment customers": ("mart_customer_ltv", rfm_segment_customers),
    "Buyers": ("mart_customer_ltv", buyers),
    "Customer LTV": ("mart_customer_ltv", customer_ltv),
    "Current customers": ("dim_customers", current_customers),
    "Flagged events": ("fct_events", flagged_events),
    "Flagged event share": ("fct_events", flagged_event_share),
}
