"""The report previews' drawing: each visual's chart with matplotlib, on a page PNG or as an SVG.

Everything here takes what data.py computed (a Card, a Chart or a slicer's text) and the visual's
PBIR position, in pixels of the 1280x720 page. Labels are cut to the room they have (with an
ellipsis, never clipped), titles wrapped to two lines. matplotlib is imported inside the functions
that draw: it is a local-only package (requirements/airflow-local.txt), absent from the Astro image.
"""

from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from report_tools import pbir
from report_tools.previews.data import NOT_COMPUTED, Card, Chart, Shown, percent

PAGE_WIDTH, PAGE_HEIGHT = 1280, 720  # px, Power BI's 16:9 page
MAX_BARS = 12  # a bar chart's bars; the rest are summed into one
COLORS = ["#118DFF", "#12239E", "#E66C37", "#6B007B", "#E044A7", "#744EC2", "#D9B300", "#D64550"]
TITLE_LINE_PX = 16  # one line of a visual's title


def use_headless_matplotlib() -> None:
    """matplotlib without a display (Agg), SVG text kept as text, and SVG ids that do not change between runs."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "shopstream"


def position(visual: pbir.Visual) -> tuple[float, float, float, float]:
    """The visual's box on the page, from its visual.json: (x, y, width, height) in px."""
    data = json.loads(visual.file.read_text())["position"]
    return float(data["x"]), float(data["y"]), float(data["width"]), float(data["height"])


def ordered(page: pbir.Page) -> list[pbir.Visual]:
    """The page's visuals in reading order: top to bottom, then left to right."""
    return sorted(page.visuals.values(), key=lambda v: (position(v)[1], position(v)[0]))


def _short(value: float) -> str:
    """Axis ticks: 1.2k, 3.4M, 5.6B, 7.8T (never scientific notation, which overflows a narrow axis)."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def fit(text: str, chars: int) -> str:
    """A label cut to ``chars`` characters with an ellipsis: shown whole or visibly shortened, never clipped."""
    return text if len(text) <= chars else text[: max(1, chars - 1)].rstrip() + "…"


def chars_in(width_px: float, font_pt: float) -> int:
    """Characters of a sans-serif font that fit in ``width_px`` (average advance about 0.6 em, bold included)."""
    return max(4, int(width_px / (font_pt * 96 / 72 * 0.62)))


def _tick_label(item: Chart, category: str, chars: int) -> str:
    if item.axis == "date":
        return f"{pd.Timestamp(category):%d %b}"
    return fit(category, chars)


def title_lines(title: str, item: Shown, width_px: float) -> list[str]:
    """The visual's title (with the total its split adds up to), wrapped to the visual's width: two lines at
    most, the second cut with an ellipsis if it must be."""
    import textwrap

    if isinstance(item, Chart) and item.total is not None:
        title = f"{title} (total {item.formatter(item.total)})"
    lines = textwrap.wrap(title, chars_in(width_px - 16, 9)) or [""]
    return [lines[0], fit(" ".join(lines[1:]), chars_in(width_px - 16, 9))] if len(lines) > 1 else lines


def _axes_box(item: Shown, width_px: float) -> tuple[float, float, float, float]:
    """Where the axes sit below the title (left, bottom, width, height as fractions): room for category
    names left of a bar chart and for slanted names under a line or column chart."""
    if not isinstance(item, Chart) or item.kind in ("table", "donut") or not item.categories:
        return 0.02, 0.02, 0.96, 0.94
    if item.kind == "bar":
        left = min(0.4, 130 / width_px)
        return left, 0.14, 0.95 - left, 0.80
    left = min(0.2, 56 / width_px)
    return left, 0.34, 0.95 - left, 0.60


def _draw(ax: Any, item: Shown, width_px: float) -> None:
    """Draw one visual, but its title (the caller's), into ``ax``; ``width_px`` is the visual's width, to cut labels."""
    if isinstance(item, str):
        ax.axis("off")
        ax.text(0.02, 0.4, fit(item, chars_in(width_px - 12, 9)), fontsize=9, transform=ax.transAxes)
        return
    if isinstance(item, Card):
        ax.axis("off")
        ax.text(0.5, 0.45, item.text, fontsize=20, ha="center", va="center", transform=ax.transAxes)
        ax.text(0.5, 0.08, fit(item.label, chars_in(width_px - 12, 8)), fontsize=8, ha="center", color="#605E5C",
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
        ax.text(0.5, 0.5, fit(item.empty, chars_in(width_px - 20, 8)), ha="center", va="center", fontsize=8,
                transform=ax.transAxes, color="#605E5C")
        return
    names = list(item.series)
    if item.kind == "donut":
        values = [max(x, 0) for x in item.series[names[0]]]
        ax.pie(values, labels=[fit(c, 14) for c in item.categories], colors=COLORS, wedgeprops={"width": 0.4},
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
        ax.set_yticks(positions, [fit(c, chars_in(left_px - 10, 7)) for c in categories])
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


def render_page_png(page: pbir.Page, items: dict[str, Shown], caption: str, path: Path) -> None:
    """One PNG of the page: every visual drawn at its PBIR position on a 1280x720 canvas, below a 40 px
    band naming the page and ``caption``; a visual missing from ``items`` shows NOT_COMPUTED."""
    fig = _figure(PAGE_WIDTH, PAGE_HEIGHT + 40)
    fig.text(0.01, 0.985, f"{page.display_name}  ·  {caption}", fontsize=10, va="top", color="#252423")
    for visual in ordered(page):
        x, y, w, h = position(visual)
        item = items.get(visual.name, NOT_COMPUTED)
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


def render_visual_svg(visual: pbir.Visual, item: Shown, height_px: float) -> str:
    """The visual's chart without its title (an HTML heading above it), ``height_px`` high: an ``<svg>``
    element whose ids are prefixed with the visual's name, so that several share one document."""
    _, _, w, _ = position(visual)
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
