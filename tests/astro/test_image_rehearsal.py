"""The Astro image, rehearsed without Docker (tools/rehearse_astro_image.py): its tree, its venvs from
the locks, `dbt parse` with the cloud target, then `pytest` as `astro dev pytest` runs it.

Slow (about a minute with uv's cache warm): `make test` runs it; the image itself skips it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from include.shopstream.config import PROJECT_ROOT

UV = PROJECT_ROOT / ".local" / "venvs" / "uv" / "bin" / "uv"


@pytest.mark.rehearsal
@pytest.mark.skipif(not UV.exists(), reason="needs uv from `make install` (absent in the image itself)")
def test_astro_image_rehearsal(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tools" / "rehearse_astro_image.py"), "--workdir", str(tmp_path),
         "--uv", str(UV)],
        capture_output=True, text=True, timeout=1800, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
