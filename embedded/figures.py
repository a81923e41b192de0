"""The measured figures of `make run` and `make bench`, written as JSON under ``output/``.

`make report` builds rapport.pdf from these files only (tools/rapport.py): a figure in the report is
one a command measured, never one typed by hand. Money travels as a decimal string (exact); times in
seconds; dates and times in ISO 8601, UTC.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from include.shopstream.config import PROJECT_ROOT, output_dir

RUN_SUMMARY = "run_summary.json"
BENCH = "bench.json"


def git_commit() -> str:
    """The short hash of the checked-out commit, with ``-dirty`` when tracked files are modified."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False, cwd=PROJECT_ROOT)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{commit}-dirty" if git("status", "--porcelain", "--untracked-files=no") else commit


def machine() -> dict[str, Any]:
    """Where the figures were measured: CPU architecture, cores, Python, and the commit."""
    return {"arch": platform.machine(), "cores": os.cpu_count(), "python": platform.python_version(),
            "commit": git_commit(), "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write(name: str, content: dict[str, Any], *, section: str | None = None) -> Path:
    """Write ``content`` to ``output/<name>`` (or replace its ``section`` in that file, keeping the
    others: the two benchmarks each write their part of bench.json). Written aside then moved in."""
    path = output_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if section is not None:
        existing = json.loads(path.read_text()) if path.is_file() else {}
        content = {**existing, section: content}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(content, indent=2, default=_default) + "\n")
    tmp.replace(path)
    return path
