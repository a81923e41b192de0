"""The dbt project's SQL stays sqlfluff-clean (rules in include/dbt/shopstream/.sqlfluff).

sqlfluff lives in the dbt venv (requirements/dbt.txt); the jinja templater needs no database.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from include.shopstream.config import DBT_PROJECT_DIR, dbt_executable

LINTED = ("models", "snapshots", "tests", "macros", "emulator_shims")


def test_sqlfluff_is_clean() -> None:
    sqlfluff = Path(dbt_executable()).parent / "sqlfluff"
    assert sqlfluff.exists(), f"{sqlfluff} missing: install requirements/dbt.txt into the dbt venv"
    result = subprocess.run(
        [str(sqlfluff), "lint", "--disable-progress-bar", *LINTED],
        cwd=DBT_PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
