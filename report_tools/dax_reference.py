"""A reference of the DAX measure [MoM revenue growth], in Python: its semantics, one filter context at a time.

DAX cannot run here (Power BI Desktop and Analysis Services run on Windows), so this module transcribes
the measure's DAX line by line, with the DAX rules that matter for it made explicit:

- BLANK is ``None``. ``SUM`` over no row is BLANK (not 0); ``x - BLANK`` is ``x``; ``DIVIDE(x, y)`` is
  BLANK when ``y`` is BLANK or 0; ``IF(cond, value)`` is BLANK when ``cond`` is false.
- ``REMOVEFILTERS()`` removes every filter: the first and last order dates are those of the whole data.
- ``DATESBETWEEN`` on the marked date table's key replaces every filter on ``dim_date`` (Power BI adds
  ``ALL(dim_date)`` when a marked date table's key is filtered), so day filters inside the month do not
  shrink the compared periods; filters on other tables (country, category...) still apply and are the
  caller's: pass the orders that survive them.
- ``HASONEVALUE(dim_date[year_month])`` is true when the context holds exactly one month;
  ``ISINSCOPE(dim_date[date_day])`` is true when a visual groups by day.

``MOM_REVENUE_GROWTH_DAX`` is the measure's expression exactly as it stands in
``powerbi/ShopStream.SemanticModel/definition/tables/fct_orders.tmdl`` (a unit test compares them), and
``mom_revenue_growth`` evaluates it. The previews do not use this function: they use the vectorised
``measures.mom_growth``, and tests/unit/test_report_measures.py checks that both agree, month by month,
on a data set made of the edge cases (a partial first month, a month without orders, a partial last month).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MOM_REVENUE_GROWTH_DAX = """
VAR FirstOrderDate = CALCULATE ( MIN ( fct_orders[order_date] ), REMOVEFILTERS () )
VAR LastOrderDate = CALCULATE ( MAX ( fct_orders[order_date] ), REMOVEFILTERS () )
VAR MonthStart = DATE ( YEAR ( MIN ( dim_date[date_day] ) ), MONTH ( MIN ( dim_date[date_day] ) ), 1 )
VAR MonthEnd = EOMONTH ( MonthStart, 0 )
VAR CutOff = MIN ( MonthEnd, LastOrderDate )
VAR PreviousStart = EDATE ( MonthStart, -1 )
VAR PreviousEnd = MIN ( EOMONTH ( PreviousStart, 0 ), PreviousStart + DAY ( CutOff ) - 1 )
VAR CurrentRevenue = CALCULATE ( [Revenue], DATESBETWEEN ( dim_date[date_day], MonthStart, CutOff ) )
VAR PreviousRevenue = CALCULATE ( [Revenue], DATESBETWEEN ( dim_date[date_day], PreviousStart, PreviousEnd ) )
RETURN
    IF (
        HASONEVALUE ( dim_date[year_month] )
            && NOT ISINSCOPE ( dim_date[date_day] )
            && PreviousStart >= FirstOrderDate
            && CutOff >= MonthStart
            && NOT ISBLANK ( CurrentRevenue ),
        DIVIDE ( CurrentRevenue - PreviousRevenue, PreviousRevenue )
    )
"""


@dataclass(frozen=True)
class Order:
    """A row of fct_orders, the columns the measure reads."""

    order_date: date
    net_amount: float
    is_revenue: bool


def _eomonth(day: date, months: int) -> date:
    """DAX EOMONTH(day, months): the last day of the month ``months`` after ``day``'s."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _edate(day: date, months: int) -> date:
    """DAX EDATE(day, months): the same day ``months`` later, clamped to that month's last day."""
    end = _eomonth(day, months)
    return end.replace(day=min(day.day, end.day))


def _revenue(orders: Iterable[Order], start: date, end: date) -> float | None:
    """CALCULATE([Revenue], DATESBETWEEN(dim_date[date_day], start, end)): BLANK when no revenue row."""
    amounts = [o.net_amount for o in orders if o.is_revenue and start <= o.order_date <= end]
    return sum(amounts) if amounts else None


def _divide(numerator: float | None, denominator: float | None) -> float | None:
    if denominator is None or denominator == 0:
        return None
    return (numerator or 0.0) / denominator


def mom_revenue_growth(orders: list[Order], context_days: list[date], day_in_scope: bool = False,
                       all_orders: list[Order] | None = None) -> float | None:
    """[MoM revenue growth] in a filter context: ``context_days`` are the dim_date rows the context keeps
    (a month of a visual's axis, a year, a slicer's range...), ``day_in_scope`` says whether the visual
    groups by dim_date[date_day], ``orders`` the fct_orders rows left by filters on other tables and
    ``all_orders`` every row (REMOVEFILTERS; default ``orders``). Returns None for BLANK."""
    everything = orders if all_orders is None else all_orders
    if not context_days or not everything:
        return None
    first_order_date = min(o.order_date for o in everything)
    last_order_date = max(o.order_date for o in everything)
    first_day = min(context_days)
    month_start = date(first_day.year, first_day.month, 1)
    month_end = _eomonth(month_start, 0)
    cut_off = min(month_end, last_order_date)
    previous_start = _edate(month_start, -1)
    previous_end = min(_eomonth(previous_start, 0), previous_start + timedelta(days=cut_off.day - 1))
    current_revenue = _revenue(orders, month_start, cut_off)
    previous_revenue = _revenue(orders, previous_start, previous_end)
    has_one_month = len({(d.year, d.month) for d in context_days}) == 1
    if (has_one_month and not day_in_scope and previous_start >= first_order_date and cut_off >= month_start
            and current_revenue is not None):
        return _divide(current_revenue - (previous_revenue or 0.0), previous_revenue)
    return None
