"""No secret in the repository: detect-secrets over every tracked file, against .secrets.baseline.

The baseline holds the scanner's settings (plugins, filters, the excluded paths) and the findings
audited as false positives (``"is_secret": false``): dummy credentials of the emulators and the tests.
A finding not in the baseline fails, and so does a baseline entry nobody audited.

After a review, refresh the baseline with
``.local/venvs/airflow/bin/python -m detect_secrets scan --baseline .secrets.baseline`` and audit the new
entries with ``... -m detect_secrets audit .secrets.baseline`` (docs/cloud.md, "Secret scan").
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from detect_secrets.core.potential_secret import PotentialSecret
from detect_secrets.core.scan import scan_file
from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings

from include.shopstream.config import PROJECT_ROOT

BASELINE = PROJECT_ROOT / ".secrets.baseline"


def tracked_files() -> list[str]:
    """What `git ls-files` lists (the index: a file added for the next commit is scanned too)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True, text=True
    ).stdout
    # A tracked file deleted in the working tree has nothing left to leak; the baseline holds the
    # findings' hashes (as detect-secrets' own CLI, the scan skips it).
    return [name for name in listing.split("\0") if name and name != BASELINE.name and (PROJECT_ROOT / name).is_file()]


def _scan_chunk(files: list[str], settings: dict[str, Any], root: Path) -> list[tuple[str, PotentialSecret]]:
    # Relative names: the baseline's exclusion patterns are anchored at the repository root.
    with transient_settings(settings), contextlib.chdir(root):
        return [(name, secret) for name in files for secret in scan_file(name)]


def scan(files: list[str], settings: dict[str, Any], root: Path) -> SecretsCollection:
    """Scan ``files`` (relative to ``root``) with the baseline's plugins and filters.

    Files are listed by git rather than by detect-secrets' own walk, which visits .local/ first
    (seconds spent on the venvs before the exclusion filter drops them), and scanned by one process
    per core: about 27 plugins on every line take ~6 s in one process.
    """
    workers = max(1, min(len(files), os.cpu_count() or 1, 8))
    chunks = [files[i::workers] for i in range(workers)]
    if workers == 1:
        results = [_scan_chunk(files, settings, root)]
    else:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_scan_chunk, chunks, [settings] * workers, [root] * workers))
    found = SecretsCollection(root=str(root))
    for name, secret in (pair for chunk in results for pair in chunk):
        found[name].add(secret)
    return found


def new_findings(found: SecretsCollection, baseline: SecretsCollection) -> list[str]:
    """Findings absent from the baseline (same file, type and secret hash; line numbers may move)."""
    return sorted(f"{name}:{secret.line_number} {secret.type}" for name, secret in found - baseline)


@pytest.fixture(scope="module")
def baseline_json() -> dict[str, Any]:
    return json.loads(BASELINE.read_text())


@pytest.fixture(scope="module")
def settings(baseline_json: dict[str, Any]) -> dict[str, Any]:
    return {"plugins_used": baseline_json["plugins_used"], "filters_used": baseline_json["filters_used"]}


@pytest.fixture(scope="module")
def baseline(baseline_json: dict[str, Any]) -> SecretsCollection:
    return SecretsCollection.load_from_baseline(baseline_json)


def test_no_secret_outside_the_baseline(settings: dict[str, Any], baseline: SecretsCollection) -> None:
    found = scan(tracked_files(), settings, PROJECT_ROOT)
    assert new_findings(found, baseline) == [], (
        "detect-secrets found possible secrets: remove them, or audit them as false positives in .secrets.baseline"
    )


def test_every_baseline_entry_is_an_audited_false_positive(baseline_json: dict[str, Any]) -> None:
    unaudited = [
        f"{name}:{entry['line_number']} {entry['type']}"
        for name, entries in baseline_json["results"].items()
        for entry in entries
        if entry.get("is_secret") is not False
    ]
    assert unaudited == []


def test_the_scan_excludes_only_local_and_binary_files(settings: dict[str, Any]) -> None:
    exclusions = [f["pattern"] for f in settings["filters_used"] if f["path"].endswith("should_exclude_file")]
    assert exclusions, "the baseline should exclude .local/, output/, target/ and binaries"
    assert all("py" not in pattern.replace("pyc", "") for pattern in exclusions[0]), "never exclude Python files"


def test_a_committed_key_would_fail(settings: dict[str, Any], baseline: SecretsCollection, tmp_path: Path) -> None:
    # Built at run time, so this file itself holds no key for the scan to find.
    key_id, secret = "AKIA" + "Z" * 4 + "QWERTY7XQP12", "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCY" + "SHOPSTREAMK3Y"
    (tmp_path / "include").mkdir()
    (tmp_path / "include" / "leak.py").write_text(f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET = "{secret}"\n')
    found = scan(["include/leak.py"], settings, tmp_path)
    assert any("AWS Access Key" in line for line in new_findings(found, baseline))
