"""Each environment fact is read in one module, and the names and defaults that dbt must restate agree.

- The environment is read by include/shopstream/config.py (the pipeline) and
  embedded/settings.py (the embedded stack) only; the few other places that touch
  ``os.environ`` pass it on to a child process or write a setting, and are listed below with why.
- The embedded dbt target's name is spelled, quoted, only in config.py, the dbt project's switch of
  macro paths, the emulator's shims and the profile.
- Every variable the two readers read is documented in .env.example.
- dbt cannot import Python: profiles.yml states the database, role, warehouse, schema, threads and
  the emulator's port again. Each must equal config.py's or StackSettings' value.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from embedded.settings import DEFAULT_PORTS, SNOWFLAKE_PORT_ENV
from include.shopstream.config import (
    CLOUD_DBT_TARGET,
    DAGS_DIR,
    DBT_PROJECT_DIR,
    DBT_TARGET_ENV,
    DBT_TARGET_SCHEMA,
    DEFAULT_SNOWFLAKE_DATABASE,
    EMBEDDED_DBT_TARGET,
    INCLUDE_DIR,
    LOCAL_ONLY_PACKAGES,
    PROJECT_ROOT,
    SNOWFLAKE_DATABASE_ENV,
    TRANSFORMER_SESSION,
    dbt_threads,
)

READERS = {"include/shopstream/config.py", "embedded/settings.py"}
# Every other use of os.environ / os.getenv, with how many and why: none of them reads a setting.
PLUMBING = {
    # `python -m embedded exec`: the command runs in the caller's environment plus the stack's.
    "embedded/__main__.py": 1,
    # A server process inherits the caller's environment plus its own variables.
    "embedded/process.py": 1,
    # The stack's PATH is the caller's with the Airflow venv first.
    "embedded/environment.py": 1,
    # Writes Airflow's log level for this process before Airflow is imported.
    "embedded/run_pipeline.py": 1,
    # The scale benchmark points the stack's settings at its own stack, passes them on, and quiets
    # its own hooks' logs (as the run driver does).
    "bench/bench_scale.py": 3,
    # PYENV_ROOT, pyenv's own variable (the Makefile's lookup of PYTHON); the rehearsed image's
    # environment, the caller's less the project's and Airflow's variables.
    "tools/rehearse_astro_image.py": 2,
}


def _environment_uses(path: Path) -> int:
    """How many times ``path`` names ``os.environ`` or ``os.getenv``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return sum(
        1
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _python_files() -> list[Path]:
    roots = (INCLUDE_DIR, DAGS_DIR, *(PROJECT_ROOT / package for package in LOCAL_ONLY_PACKAGES),
             PROJECT_ROOT / "tools", PROJECT_ROOT / "bench")
    return sorted(p for root in roots for p in root.rglob("*.py") if "dbt_packages" not in p.parts)


def test_the_environment_is_read_in_config_and_stack_settings_only() -> None:
    uses = {str(p.relative_to(PROJECT_ROOT)): n for p in _python_files() if (n := _environment_uses(p))}
    assert set(uses) >= READERS, f"the readers no longer read the environment? {sorted(uses)}"
    others = {path: n for path, n in uses.items() if path not in READERS}
    assert others == PLUMBING, (
        f"os.environ outside config.py and embedded/settings.py: {others} (expected {PLUMBING}). "
        "Read a setting in config.py (the pipeline's) or StackSettings (the stack's) and import it."
    )


def test_every_variable_read_is_documented() -> None:
    names = {name for reader in READERS
             for name in re.findall(r"""["'](SHOPSTREAM_[A-Z0-9_]+)["']""", (PROJECT_ROOT / reader).read_text())}
    documented = set(re.findall(r"SHOPSTREAM_[A-Z0-9_]+[A-Z0-9]", (PROJECT_ROOT / ".env.example").read_text()))
    assert len(names) > 10, names
    assert names <= documented, f"read but not documented in .env.example: {sorted(names - documented)}"


def test_the_embedded_target_is_named_in_its_places_only() -> None:
    allowed = {
        "include/shopstream/config.py",
        "include/dbt/shopstream/dbt_project.yml",
        "include/dbt/shopstream/profiles.yml",
    }
    quoted = re.compile(rf"""['"]{EMBEDDED_DBT_TARGET}['"]""")
    roots = (INCLUDE_DIR, DAGS_DIR, *(PROJECT_ROOT / package for package in LOCAL_ONLY_PACKAGES),
             PROJECT_ROOT / "tools", PROJECT_ROOT / "tests", PROJECT_ROOT / "bench")
    found = []
    for root in roots:
        for path in root.rglob("*"):
            relative = str(path.relative_to(PROJECT_ROOT))
            if (not path.is_file() or path.suffix not in (".py", ".sql", ".yml", ".sh")
                    or relative in allowed or {"emulator_shims", "target", "target-build", "logs"} & set(path.parts)):
                continue
            if quoted.search(path.read_text(errors="replace")):
                found.append(relative)
    commands = [PROJECT_ROOT / name for name in ("Makefile", "Dockerfile", "docker-compose.override.yml")]
    for path in [*commands, *(PROJECT_ROOT / "tools").glob("*.sh")]:
        if re.search(rf"--target[ =]{EMBEDDED_DBT_TARGET}\b", path.read_text()):
            found.append(str(path.relative_to(PROJECT_ROOT)))
    # The compose stand-ins choose the target once, in the variable the DAG reads.
    compose = (PROJECT_ROOT / "docker-compose.override.yml").read_text()
    assert re.findall(rf"\b{DBT_TARGET_ENV}: (\S+)", compose) == [EMBEDDED_DBT_TARGET]
    assert not found, f"the embedded target's name, spelled again in {found}: import EMBEDDED_DBT_TARGET"


def _env_default(value: object) -> tuple[str, str] | None:
    """``(variable, default)`` of a profile value ``{{ env_var('VAR', 'default') ... }}``, else None."""
    match = re.search(r"env_var\('(\w+)',\s*'([^']*)'\)", str(value))
    return (match.group(1), match.group(2)) if match else None


def test_the_profile_agrees_with_config_and_the_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["shopstream"]["outputs"]
    embedded, cloud = outputs[EMBEDDED_DBT_TARGET], outputs[CLOUD_DBT_TARGET]

    assert _env_default(embedded["port"]) == (SNOWFLAKE_PORT_ENV, str(DEFAULT_PORTS[SNOWFLAKE_PORT_ENV]))
    for target in (embedded, cloud):
        assert _env_default(target["database"]) == (SNOWFLAKE_DATABASE_ENV, DEFAULT_SNOWFLAKE_DATABASE)
        assert target["schema"] == DBT_TARGET_SCHEMA
    # dbt's role and warehouse: the embedded profile's, and the cloud's defaults.
    assert {"role": embedded["role"], "warehouse": embedded["warehouse"]} == TRANSFORMER_SESSION
    assert {"role": _env_default(cloud["role"])[1], "warehouse": _env_default(cloud["warehouse"])[1]} == (
        TRANSFORMER_SESSION
    )
    for name, target in ((EMBEDDED_DBT_TARGET, embedded), (CLOUD_DBT_TARGET, cloud)):
        monkeypatch.setenv(DBT_TARGET_ENV, name)
        assert target["threads"] == dbt_threads(), f"profiles.yml's {name} threads differ from config.dbt_threads()"
