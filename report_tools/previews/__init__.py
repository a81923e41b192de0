"""Previews of the Power BI report's pages, computed from the marts in the warehouse.

Power BI Desktop runs on Windows only, so the run command renders each page of
powerbi/ShopStream.Report here: one PNG per page and one self-contained ``index.html`` (inline SVG
charts, a little inline JavaScript for the page tabs, nothing fetched from the network), plus
``totals.json`` with every figure the pages show. They are previews, not Power BI renderings, and say so.

- ``data.py``: the queries on the marts, and what each visual shows (cards, chart series, table rows,
  the totals) computed with the Python versions of the DAX measures (``measures.py``);
- ``drawing.py``: the charts, with matplotlib (a page PNG, or one visual as SVG);
- ``page.py``: the pages assembled from the PBIR layout into ``index.html`` (``templates/``: the Jinja
  page, its CSS and its JavaScript), the PNGs and ``totals.json``; and the headless Chromium check.
"""

from report_tools.previews.page import REPORT_DIR, render, render_from_warehouse

__all__ = ["REPORT_DIR", "render", "render_from_warehouse"]
