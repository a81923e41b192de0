"""A check shared by the previews' unit and integration tests: what headless Chromium sees on the page."""

from __future__ import annotations

from pathlib import Path


def assert_renders_cleanly(out: Path, content: dict, profile: Path, chromium: str) -> None:
    """Every page and visual drawn, no script error, no overflowing text, no console error."""
    from report_tools.previews.page import chromium_state

    state, console_errors = chromium_state(out / "index.html", profile, chromium)
    expected = sum(len(p["visuals"]) for p in content["pages"].values())
    assert state == {"pages": len(content["pages"]), "visuals": expected, "drawn": expected, "errors": [],
                     "overflow": []}
    assert console_errors == []
