"""rapport.pdf's template: every measured figure comes from the figures' JSON, and missing figures fail clearly.

The template is rendered twice, from a fixture (tests/unit/fixtures/rapport_figures.json) and from the
same fixture with every number changed. A number that shows in both renderings did not come from the
figures: it must be a fact read from the repository (versions, the dbt project's counts) or one of the
few constants listed below, each with its reason. No Chromium and no stack are needed.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tools import rapport

FIXTURE = Path(__file__).parent / "fixtures" / "rapport_figures.json"

# Numbers the template states that are not measured, and why they are there.
CONSTANTS = {
    **{str(n): "a section number (« § 4 », headings 1 to 8)" for n in range(1, 9)},
    "67287": "apache/airflow issue number (the trigger race)",
    "72716": "apache/airflow issue number (the trigger race)",
    "18": "the money type number(18, 2) of the marts",
    "12": "the price type number(12, 2) of the source",
    "500": "HTTP 500, the emulator's answer the connector retried",
}
NUMBER = re.compile(r"(?<![\w.,\u202f])\d+(?:[.,\u202f]\d+)*(?![\w])")


class _VisibleText(HTMLParser):
    """The text a reader sees: no markup, no style sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def numbers(html: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(html)
    return set(NUMBER.findall(" ".join(parser.parts)))


def changed(value: Any) -> Any:
    """The same figures with every number changed (dates moved, digits of other strings shifted)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value * 7 + 100_003
    if isinstance(value, float):
        return round(value * 1.37 + 7.3113, 4)
    if isinstance(value, dict):
        return {k: changed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [changed(v) for v in value]
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                return (moment + timedelta(days=400)).date().isoformat()
            return (moment + timedelta(days=400, hours=7)).isoformat()
        if re.fullmatch(r"\d+\.\d+", value):
            return str(Decimal(value) * 3 + Decimal("0.07"))
        return re.sub(r"\d", lambda m: str((int(m.group()) + 5) % 10), value)
    return value


def figures() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


IMAGES = {"architecture": rapport.ARCHITECTURE_SVG.read_text(), "graph": "file:///graph.png",
          "pages": [{"title": "Overview", "uri": "file:///overview.png"}]}


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return rapport.repository_facts()


def test_every_figure_comes_from_the_json(facts: dict[str, Any]) -> None:
    base = figures()
    first = rapport.render_html(base, facts, IMAGES)
    second = rapport.render_html(changed(copy.deepcopy(base)), facts, IMAGES)
    from_the_repository = numbers(" ".join(
        rapport.nombre(v) if isinstance(v, int) else str(v)
        for v in [*facts["versions"].values(), *facts["dbt_nodes"].values(), facts["late_commit_overlap_min"],
                  len(facts["tables"])]
    ))
    typed = numbers(first) & numbers(second)
    unexplained = sorted(typed - from_the_repository - set(CONSTANTS))
    assert not unexplained, f"numbers in the report that no figure gives: {unexplained}"


def test_the_figures_show_in_the_report(facts: dict[str, Any]) -> None:
    """The measured figures are all there, formatted the French way."""
    base = figures()
    text = rapport.render_html(base, facts, IMAGES)
    run, bench = base["run"], base["bench"]
    expected = [
        rapport.nombre(bench["dag_parse"]["median_s"], 3), rapport.nombre(bench["pipeline"]["ratio"], 2),
        rapport.secondes(bench["pipeline"]["end_to_end_s"]), rapport.secondes(bench["pipeline"]["dbt_stage_s"]),
        rapport.secondes(bench["pipeline"]["plain_dbt_s"]), rapport.secondes(run["run"]["duration_s"]),
        rapport.secondes(run["elapsed_s"]), rapport.euros(run["reconciliation"]["revenue"]["postgres"]),
        run["run"]["run_id"], "Réconcilié au centime",
        *(rapport.nombre(n) for layer in run["layers"].values() for n in layer.values()),
    ]
    missing = [figure for figure in expected if figure not in text]
    assert not missing, missing
    assert rapport.nombre("1234567.89", 2) == "1\u202f234\u202f567,89"
    assert rapport.secondes(164) == "2\u00a0min\u00a044\u00a0s"


def test_an_unreconciled_run_says_so(facts: dict[str, Any]) -> None:
    base = figures()
    base["run"]["reconciliation"]["reconciled"] = False
    text = rapport.render_html(base, facts, IMAGES)
    assert "Écart" in text and "Réconcilié au centime" not in text


def test_a_figure_over_its_goal_says_so(facts: dict[str, Any]) -> None:
    base = figures()
    assert "au-dessus de l'objectif" not in rapport.render_html(base, facts, IMAGES)
    base["bench"]["pipeline"]["ratio"] = base["bench"]["pipeline"]["ratio_goal"] + 0.01
    base["bench"]["dag_parse"]["median_s"] = base["bench"]["dag_parse"]["goal_s"]
    assert rapport.render_html(base, facts, IMAGES).count("au-dessus de l'objectif") == 2


def _write(folder: Path, content: dict[str, Any]) -> None:
    (folder / "run_summary.json").write_text(json.dumps(content["run"]))
    (folder / "bench.json").write_text(json.dumps(content["bench"]))


def test_missing_figures_fail_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(rapport.MissingFigures, match=r"run_summary\.json is missing.*bench\.json is missing"
                       r".*Run `make run` and `make bench` first"):
        rapport.load_figures(tmp_path)

    base = figures()
    del base["bench"]["pipeline"]["ratio"]
    _write(tmp_path, base)
    with pytest.raises(rapport.MissingFigures, match=r"bench\.json lacks pipeline\.ratio \(written by `make bench`\)"):
        rapport.load_figures(tmp_path)

    base = figures()
    base["run"]["run"]["state"] = "failed"
    _write(tmp_path, base)
    with pytest.raises(rapport.MissingFigures, match="not the summary of a successful run"):
        rapport.load_figures(tmp_path)

    (tmp_path / "run_summary.json").unlink()
    assert rapport.main(["--out-dir", str(tmp_path), "--pdf", str(tmp_path / "rapport.pdf")]) == 2
    assert "Run `make run` and `make bench` first" in capsys.readouterr().err
    assert not (tmp_path / "rapport.pdf").exists()


def test_complete_figures_load(tmp_path: Path) -> None:
    _write(tmp_path, figures())
    loaded = rapport.load_figures(tmp_path)
    assert loaded["bench"]["pipeline"]["ratio"] == figures()["bench"]["pipeline"]["ratio"]


def test_an_undefined_figure_is_an_error(facts: dict[str, Any]) -> None:
    """StrictUndefined: a figure the template reads and the JSON lacks stops the rendering."""
    import jinja2

    base = figures()
    del base["run"]["previews"]["totals"]["average_basket"]
    with pytest.raises(jinja2.UndefinedError, match="average_basket"):
        rapport.render_html(base, facts, IMAGES)
