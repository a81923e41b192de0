"""The report previews' pages: index.html, one PNG per page and totals.json, assembled from data and drawing.

The pages, their visuals, titles and positions come from the PBIR files (``pbir.py``); what each
visual shows from data.py; the charts from drawing.py. ``index.html`` is the Jinja template
``templates/index.html.j2`` with ``previews.css`` and ``previews.js`` inlined (a self-contained
file: nothing is fetched from the network). Its script measures what a reader would see (every
visual drawn, no script error, no text cut or outside its visual) into ``#render-report``, which
:func:`chromium_state` reads back from headless Chromium.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from report_tools import pbir
from report_tools.consistency import POWERBI_DIR
from report_tools.previews import data, drawing
from report_tools.previews.data import NOT_COMPUTED, Card, Chart, Shown

REPORT_DIR = POWERBI_DIR / "ShopStream.Report"
TITLE = "ShopStream — Preview computed from the marts — not a Power BI rendering"
TEMPLATES = Path(__file__).parent / "templates"


def _visual_view(visual: pbir.Visual, item: Shown) -> dict[str, Any]:
    """What the template needs to show one visual: its kind, box, title and content (a chart as SVG)."""
    from markupsafe import Markup

    x, y, w, h = drawing.position(visual)
    view: dict[str, Any] = {
        "name": visual.name, "item": item, "title": visual.title or visual.name,
        "kind": "card" if isinstance(item, Card) else "slicer" if isinstance(item, str) else item.kind,
        "style": f"left:{x:.0f}px;top:{y:.0f}px;width:{w:.0f}px;height:{h:.0f}px",
    }
    if view["kind"] == "table":
        # As many rows as the visual holds (Power BI would scroll), cells cut with an ellipsis to share its width.
        fit = max(1, int((h - 50) / 18))
        chars = max(8, int((w - 16) / max(1, len(item.columns)) / 6.2))
        view["head"] = [drawing.fit(c, chars) for c in item.columns]
        view["rows"] = [[drawing.fit(c, chars) for c in row] for row in item.rows[:fit]]
    elif isinstance(item, Chart):
        lines = drawing.title_lines(view["title"], item, w)
        view["title_lines"] = lines
        view["svg"] = Markup(drawing.render_visual_svg(visual, item, h - 14 - drawing.TITLE_LINE_PX * len(lines)))
    return view


def _index_html(pages: list[dict[str, Any]], generated: str) -> str:
    """The document: ``pages`` as ``[{"name", "display_name", "visuals": [_visual_view(...), ...]}]``."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.get_template("index.html.j2").render(
        title=TITLE, generated=generated, pages=pages,
        style=Markup((TEMPLATES / "previews.css").read_text(encoding="utf-8").strip()),
        script=Markup((TEMPLATES / "previews.js").read_text(encoding="utf-8").strip()),
    )


def render(frames: dict[str, pd.DataFrame], out: Path, report_dir: Path = REPORT_DIR) -> dict[str, Any]:
    """Write <page>.png per page, index.html and totals.json into ``out``; returns the totals.json content:
    ``{"title", "generated_at", "pages": {name: {"display_name", "png", "visuals": [names]}}, "totals"}``."""
    drawing.use_headless_matplotlib()
    report = pbir.load_report(report_dir)
    items, totals = data.page_data(frames)
    out.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    views, pages = [], {}
    for name in report.page_order:
        page = report.pages[name]
        drawing.render_page_png(page, items, TITLE, out / f"{name}.png")
        visuals = drawing.ordered(page)
        pages[name] = {"display_name": page.display_name, "png": f"{name}.png", "visuals": [v.name for v in visuals]}
        views.append({"name": name, "display_name": page.display_name,
                      "visuals": [_visual_view(v, items.get(v.name, NOT_COMPUTED)) for v in visuals]})
    (out / "index.html").write_text(_index_html(views, generated), encoding="utf-8")
    content = {"title": TITLE, "generated_at": generated, "pages": pages, "totals": totals}
    (out / "totals.json").write_text(json.dumps(content, indent=2) + "\n")
    return content


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
                  "--virtual-time-budget=10000")


def chromium_state(index: Path, profile: Path, chromium: str, timeout: float = 120) -> tuple[dict[str, Any], list[str]]:
    """Open ``index.html`` in headless Chromium; returns what its script measured (pages, visuals, drawn,
    script errors, overflowing text) and the console's uncaught errors.

    Raises RuntimeError with Chromium's stderr when it fails.
    """
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
    """Read the marts (through the Airflow connection unless a DB-API connection is given) and render.

    Raises RuntimeError naming the marts the warehouse does not hold yet (run the pipeline first).
    """
    own = conn is None
    conn = data.snowflake_connection() if own else conn
    try:
        if missing := data.missing_marts(conn, relations):
            raise RuntimeError(f"the warehouse has no {', '.join(missing)}: run the pipeline first (`make run`)")
        frames = data.read_marts(conn, relations)
    finally:
        if own:
            conn.close()
    return render(frames, out)
