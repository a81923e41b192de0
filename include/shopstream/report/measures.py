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


def mom_growth(monthly_revenue: pd.Series) -> pd.Series:
    """[MoM revenue growth]: IF(NOT ISBLANK([Revenue]), DIVIDE([Revenue] - [Revenue previous month],
    [Revenue previous month])).

    ``monthly_revenue`` is [Revenue] per consecutive month (index: year_month, sorted, no gap); a month
    without revenue orders is NaN (DAX's blank), which gives a blank growth, as does a blank or zero
    previous month."""
    previous = monthly_revenue.shift(1)
    return pd.Series([float("nan") if pd.isna(c) or pd.isna(p) else _divide(c - p, p)
                      for c, p in zip(monthly_revenue, previous, strict=True)], index=monthly_revenue.index)


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


def customer_ltv(ltv: pd.DataFrame) -> float:
    """[Customer LTV] = DIVIDE(SUM(lifetime_revenue), COUNTROWS(FILTER(mart_customer_ltv, orders > 0)))"""
    return _divide(ltv["lifetime_revenue"].astype(float).sum(), int((ltv["orders"].astype(int) > 0).sum()))


def current_customers(customers: pd.DataFrame) -> int:
    """[Current customers] = CALCULATE(COUNTROWS(dim_customers), dim_customers[is_current] = TRUE())"""
    return int(customers["is_current"].astype(bool).sum())


def flagged_event_share(events: int, future_dated: int, incomplete: int) -> float:
    """[Flagged event share] = DIVIDE([Future-dated events] + [Incomplete-payload events], [Events])"""
    return _divide(future_dated + incomplete, events)


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
    "Customer LTV": ("mart_customer_ltv", customer_ltv),
    "Current customers": ("dim_customers", current_customers),
    "Flagged event share": ("fct_events", flagged_event_share),
}
