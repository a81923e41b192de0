"""`make report`: rapport.pdf, the project report in French, built from the repository and measured figures.

    make run && make bench && make report

Reads, and never types, its figures:
- ``output/run_summary.json`` (`make run`): the DAG run (id, time, tasks), the rows of every layer, the
  revenue reconciliation, the totals of the report previews;
- ``output/bench.json`` (`make bench`): the DAG parse time, one day through the scheduler against a
  plain ``dbt build``;
- ``output/report/*.png``: the report pages rendered by the DAG's report task;
- the repository: versions from ``requirements/``, the Runtime tag from the ``Dockerfile``, the tables
  from ``include/shopstream/config.py``, the dbt nodes from the manifest.

It takes a screenshot of the run's graph in the Airflow UI with headless Chromium (started if
needed: Airflow keeps the run in its metadata DB), renders ``docs/rapport/rapport.html.j2`` with
jinja2 into ``output/rapport/rapport.html``, and prints that page to ``rapport.pdf`` with Chromium.
A missing figure stops it with a message that says which command makes it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = PROJECT_ROOT / "docs" / "rapport" / "rapport.html.j2"
ARCHITECTURE_SVG = PROJECT_ROOT / "docs" / "rapport" / "architecture.svg"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")

# Each figures file, the command that writes it, and the keys the report reads from it.
REQUIRED = {
    "run_summary.json": ("make run", ("machine", "dag_id", "ds", "days", "orders_generated", "run", "elapsed_s",
                                      "layers", "reconciliation", "previews")),
    "bench.json": ("make bench", ("dag_parse", "pipeline")),
}
BENCH_SECTIONS = {
    "dag_parse": ("tasks", "median_s", "min_s", "max_s", "runs", "goal_s", "machine"),
    "pipeline": ("end_to_end_s", "dbt_stage_s", "dbt_tasks", "plain_dbt_s", "ratio", "ratio_goal", "machine"),
}


class MissingFigures(RuntimeError):
    """A figures file or one of its keys is missing: the message names the command that writes it."""


# --- figures ---------------------------------------------------------------------------------------


def load_figures(out_dir: Path) -> dict[str, Any]:
    """``{"run": <run_summary.json>, "bench": <bench.json>}``, every key the report reads checked.

    Raises MissingFigures naming each missing file or key and the command that writes it
    ("run `make run` and `make bench` first").
    """
    problems, loaded = [], {}
    for name, (command, keys) in REQUIRED.items():
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{path} is missing (written by `{command}`)")
            continue
        try:
            content = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            problems.append(f"{path} is not JSON ({exc}): run `{command}` again")
            continue
        missing = [key for key in keys if content.get(key) is None]
        if name == "bench.json":
            missing += [f"{section}.{key}" for section, section_keys in BENCH_SECTIONS.items()
                        if isinstance(content.get(section), dict)
                        for key in section_keys if content[section].get(key) is None]
        if missing:
            problems.append(f"{path} lacks {', '.join(missing)} (written by `{command}`)")
        loaded[name] = content
    if problems:
        raise MissingFigures("the report's figures are missing: " + "; ".join(problems)
                             + ". Run `make run` and `make bench` first, then `make report`.")
    run = loaded["run_summary.json"]
    if run["run"].get("state") != "success" or not run["previews"].get("pages"):
        raise MissingFigures(f"{out_dir / 'run_summary.json'} is not the summary of a successful run with its "
                             "report previews: run `make run` again, then `make bench` and `make report`.")
    return {"run": run, "bench": loaded["bench.json"]}


def repository_facts() -> dict[str, Any]:
    """What the report says about the code, read from the repository (never typed in the template)."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from include.shopstream import config, dbt_manifest

    def pin(path: str, package: str) -> str:
        match = re.search(rf"^{re.escape(package)}(?:\[[^\]]*\])?==([^\s#]+)", (PROJECT_ROOT / path).read_text(), re.M)
        if not match:
            raise RuntimeError(f"no pin of {package} in {path}")
        return match.group(1)

    runtime = re.search(r"^FROM \S+:(\S+)", (PROJECT_ROOT / "Dockerfile").read_text(), re.M)
    try:
        nodes = dbt_manifest.load().resource_counts()
    except dbt_manifest.ManifestMissing:
        nodes = {}
    return {
        "versions": {
            "airflow": pin("requirements/airflow-local.txt", "apache-airflow"),
            "cosmos": pin("requirements.txt", "astronomer-cosmos"),
            "azure_provider": pin("requirements.txt", "apache-airflow-providers-microsoft-azure"),
            "snowflake_provider": pin("requirements.txt", "apache-airflow-providers-snowflake"),
            "amazon_provider": pin("requirements.txt", "apache-airflow-providers-amazon"),
            "dbt_core": pin("requirements/dbt.txt", "dbt-core"),
            "dbt_snowflake": pin("requirements/dbt.txt", "dbt-snowflake"),
            "fakesnow": pin("requirements/emulators.txt", "fakesnow"),
            "moto": pin("requirements/emulators.txt", "moto"),
            "polars": pin("requirements.txt", "polars"),
            "runtime": runtime.group(1) if runtime else "?",
        },
        "tables": [table.name for table in config.TABLES],
        "late_commit_overlap_min": int(config.LATE_COMMIT_OVERLAP.total_seconds() // 60),
        "dbt_nodes": nodes,
        "report_exposure": config.REPORT_EXPOSURE,
        "powerbi_conn_id": config.POWERBI_CONN_ID,
        "powerbi_variables": list(config.POWERBI_VARIABLES),
        "connections": [config.POSTGRES_CONN_ID, config.AWS_CONN_ID, config.SNOWFLAKE_CONN_ID],
    }


# --- French number formatting ----------------------------------------------------------------------

NARROW_NBSP = "\u202f"


def nombre(value: float | int | str | Decimal, decimales: int = 0) -> str:
    """A number the French way: narrow no-break space between thousands, decimal comma (1 234,5)."""
    number = Decimal(str(value))
    text = f"{number:,.{decimales}f}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def secondes(value: float, decimales: int = 1) -> str:
    """Seconds, and minutes past a minute and a half: « 48,2 s », « 2 min 44 s »."""
    if value >= 90:
        minutes, rest = divmod(round(value), 60)
        return f"{minutes}\u00a0min\u00a0{rest}\u00a0s"
    return f"{nombre(value, decimales)}\u00a0s"


def euros(value: str | Decimal) -> str:
    return f"{nombre(value, 2)}"


def date_fr(value: str) -> str:
    moment = datetime.fromisoformat(value)
    mois = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
            "novembre", "décembre")[moment.month - 1]
    return f"{moment.day}\u00a0{mois}\u00a0{moment.year}"


FILTERS: dict[str, Callable[..., str]] = {"nombre": nombre, "secondes": secondes, "euros": euros, "date_fr": date_fr}


# --- rendering -------------------------------------------------------------------------------------


def render_html(figures: dict[str, Any], facts: dict[str, Any], images: dict[str, Any],
                template: Path = TEMPLATE) -> str:
    """The report as HTML. ``images``: ``architecture`` (SVG text), ``graph`` (a file URI or None),
    ``pages`` (list of ``{"title", "uri"}``). An undefined variable in the template is an error."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template.parent), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    env.filters.update(FILTERS)
    run = figures["run"]
    layers = run["layers"]
    dbt_counts = layers["dbt"]
    by_layer = {prefix: {m: n for m, n in sorted(dbt_counts.items()) if m.startswith(prefix)}
                for prefix in ("stg_", "int_", "dim_", "fct_", "mart_")}
    snapshots = {m: n for m, n in sorted(dbt_counts.items()) if m.startswith("snap_")}
    tasks = run["run"]["tasks"]
    states: dict[str, int] = {}
    for task in tasks:
        states[task["state"]] = states.get(task["state"], 0) + 1
    report_task = next((t for t in tasks if t["task_id"] == f"dbt.{facts['report_exposure']}_exposure"), None)
    return env.get_template(template.name).render(
        run=run, bench=figures["bench"], facts=facts, images=images, by_layer=by_layer, snapshots=snapshots,
        task_count=len(tasks), task_states=states, report_task=report_task,
    )


def _chromium(chromium: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


def print_pdf(html: Path, pdf: Path, profile: Path, chromium: str = CHROMIUM) -> None:
    """Print ``html`` to ``pdf`` (A4, the page's own @page margins, no header or footer)."""
    tmp = pdf.with_suffix(".pdf.tmp")
    _chromium(chromium, f"--user-data-dir={profile}", "--no-pdf-header-footer", "--virtual-time-budget=10000",
              f"--print-to-pdf={tmp}", html.as_uri())
    tmp.replace(pdf)


def screenshot_graph(base_url: str, dag_id: str, run_id: str, png: Path, profile: Path,
                     open_groups: tuple[str, ...] = (), chromium: str = CHROMIUM,
                     size: tuple[int, int] = (2400, 1000), settle_s: float = 3.0, timeout_s: float = 120.0) -> None:
    """A PNG of the run's graph in the Airflow 3 UI, taken by headless Chromium over the DevTools protocol.

    The embedded Airflow runs the simple auth manager with everyone admin: ``/auth/token/login`` sets
    the UI's ``_token`` cookie without credentials and redirects to ``next``. The UI shows a run as a
    grid unless its ``default_dag_view`` (local storage) says ``graph``, and opens the task groups its
    ``<dag>/open-groups`` lists (``open_groups``): both set before the page loads. The screenshot is
    taken once the graph's nodes are drawn and the UI's translations are loaded, with the details
    panel collapsed and the graph fitted to the view.
    Raises RuntimeError when Chromium or the page does not answer within ``timeout_s``.
    """
    from urllib.parse import quote
    from urllib.request import urlopen

    from websockets.sync.client import connect

    process = subprocess.Popen([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                f"--window-size={size[0]},{size[1]}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        browser_ws = None
        deadline = time.monotonic() + 60
        while browser_ws is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if match := re.search(r"DevTools listening on (ws://\S+)", line):
                browser_ws = match.group(1)
            elif not line and process.poll() is not None:
                break
        if browser_ws is None:
            raise RuntimeError("headless Chromium did not open its DevTools port")
        http = "http://" + browser_ws.split("/")[2]
        page_ws = next(t["webSocketDebuggerUrl"] for t in json.load(urlopen(f"{http}/json/list", timeout=10))
                       if t["type"] == "page")
        with connect(page_ws, max_size=None, open_timeout=30) as ws:
            counter = iter(range(1, 1_000_000))

            def call(method: str, **params: Any) -> dict[str, Any]:
                message_id = next(counter)
                ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
                while True:
                    reply = json.loads(ws.recv(timeout=120))
                    if reply.get("id") == message_id:
                        if "error" in reply:
                            raise RuntimeError(f"{method}: {reply['error']}")
                        return reply.get("result", {})

            call("Page.enable")
            call("Emulation.setDeviceMetricsOverride", width=size[0], height=size[1], deviceScaleFactor=1, mobile=False)
            settings = {"default_dag_view": "graph", f"{dag_id}/open-groups": list(open_groups)}
            call("Page.addScriptToEvaluateOnNewDocument", source="try { " + "".join(
                f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))}); " for k, v in settings.items()
            ) + "} catch (e) {}")
            target = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}"
            call("Page.navigate", url=f"{base_url}/auth/token/login?next={quote(target, safe='')}")
            # The single-page app fetches the graph and its translations, lays the nodes out, fits the view.
            state: dict[str, Any] = {}
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                result = call("Runtime.evaluate", returnByValue=True, expression=_GRAPH_STATE)
                state = json.loads(result.get("result", {}).get("value") or "{}")
                if state.get("nodes", 0) > 0 and state.get("translated") and not state.get("loading"):
                    break
                time.sleep(1)
            else:
                raise RuntimeError(f"the Airflow graph of {run_id} did not render in {timeout_s:.0f} s: {state}")
            # The details panel closed, the whole graph fitted to the view.
            for label in ("Collapse Details Panel", "Fit View"):
                call("Runtime.evaluate", expression=_CLICK % json.dumps(label))
                time.sleep(settle_s)
            # Only the graph: the union of the drawn nodes' boxes, with a margin.
            box = json.loads(call("Runtime.evaluate", returnByValue=True, expression=_GRAPH_BOX)["result"]["value"])
            shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=False,
                        clip={**box, "scale": 1} if box else None)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    import base64

    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(base64.b64decode(shot["data"]))


# What the page shows, read in the page: graph nodes drawn, translations loaded, no spinner left.
_GRAPH_STATE = """JSON.stringify({
  nodes: document.querySelectorAll('.react-flow__node').length,
  translated: !document.body.innerText.includes('nav.home'),
  loading: !!document.querySelector('.chakra-spinner, [class*="spinner"]'),
})"""


# The box around every drawn node of the graph (CSS pixels), or null.
_GRAPH_BOX = """JSON.stringify((() => {
  const boxes = [...document.querySelectorAll('.react-flow__node')].map(n => n.getBoundingClientRect());
  if (!boxes.length) return null;
  const m = 16;
  const x = Math.max(0, Math.min(...boxes.map(b => b.left)) - m);
  const y = Math.max(0, Math.min(...boxes.map(b => b.top)) - m);
  const right = Math.max(...boxes.map(b => b.right)) + m, bottom = Math.max(...boxes.map(b => b.bottom)) + m;
  return {x, y, width: right - x, height: bottom - y};
})())"""


# Clicks the button whose aria-label contains the given text (the UI's own buttons; none is an error).
_CLICK = """[...document.querySelectorAll('button')]
  .filter(b => (b.getAttribute('aria-label') || '').toLowerCase().includes(%s.toLowerCase()))
  .forEach(b => b.click())"""


def _previews(run: dict[str, Any], previews_dir: Path) -> list[dict[str, str]]:
    pages = []
    for page in run["previews"]["pages"].values():
        path = previews_dir / page["png"]
        if not path.is_file():
            raise MissingFigures(f"{path} is missing: the report previews of the run are gone; run `make run` again")
        pages.append({"title": page["display_name"], "uri": path.resolve().as_uri()})
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=PROJECT_ROOT / "output")
    parser.add_argument("--pdf", type=Path, default=PROJECT_ROOT / "rapport.pdf")
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--check", action="store_true", help="only check that the figures are there")
    args = parser.parse_args(argv)
    try:
        figures = load_figures(args.out_dir)
    except MissingFigures as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return 0
    if not shutil.which(args.chromium):
        print(f"error: no Chromium at {args.chromium}: `make browser` installs Debian's", file=sys.stderr)
        return 2
    build = args.out_dir / "rapport"
    build.mkdir(parents=True, exist_ok=True)
    profile = PROJECT_ROOT / ".local" / "chromium-rapport"

    from embedded import airflow_server
    from embedded.settings import StackSettings

    settings = StackSettings.from_env()
    print(airflow_server.start(settings), flush=True)
    run = figures["run"]
    graph = build / "airflow_graph.png"
    # The top-level groups open (extract, load, dbt); the per-model groups inside dbt stay closed.
    groups = tuple(sorted({t["task_id"].split(".")[0] for t in run["run"]["tasks"] if "." in t["task_id"]}))
    screenshot_graph(settings.airflow_url(), run["dag_id"], run["run"]["run_id"], graph, profile, groups,
                     args.chromium)
    images = {"architecture": ARCHITECTURE_SVG.read_text(), "graph": graph.resolve().as_uri(),
              "pages": _previews(run, args.out_dir / "report")}
    html = build / "rapport.html"
    html.write_text(render_html(figures, repository_facts(), images), encoding="utf-8")
    print_pdf(html, args.pdf, profile, args.chromium)
    print(f"rapport.pdf written: {args.pdf} (from {html}; figures of run {run['run']['run_id']}, "
          f"commit {run['machine']['commit']}; bench commit {figures['bench']['pipeline']['machine']['commit']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
