"""The versions stated in several places agree: the Airflow pin (requirements/airflow-local.txt, the one
place it is set), the Astro Runtime tag of the Dockerfile, the docs, and the locks (`make lock`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from include.shopstream.config import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"

# Astro Runtime builds -> (Airflow, Pythons offered), from Astronomer's runtime catalog
# (https://updates.astronomer.io/astronomer-runtime, key runtimeVersionsV3, as of 2026-09-25). Moving the
# Dockerfile to another build means adding its line here from that catalog or the Runtime release notes.
RUNTIME_CATALOG: dict[str, tuple[str, tuple[str, ...]]] = {
    "3.3-1": ("3.3.0", ("3.12", "3.13", "3.14")),
    "3.3-2": ("3.3.0", ("3.12", "3.13", "3.14")),
    "3.3-7": ("3.3.1", ("3.12", "3.13", "3.14")),
    "3.3-8": ("3.3.2", ("3.12", "3.13", "3.14")),
}

# Each requirements file -> the locks compiled from it (Makefile, `lock`): one per venv, for the image's
# Python, read by `make install` and by the Dockerfile alike.
LOCKS = {
    "airflow-local.txt": ("airflow.lock.txt", "airflow-embedded.lock.txt"),
    "../requirements.txt": ("airflow.lock.txt",),
    "dbt.txt": ("dbt.lock.txt",),
    "emulators.txt": ("emulators.lock.txt",),
}

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)", re.MULTILINE)


def _name(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()


def pins(path: Path) -> dict[str, str]:
    return {_name(name): version for name, version in PIN.findall(path.read_text())}


def airflow_version() -> str:
    return pins(REQUIREMENTS / "airflow-local.txt")["apache-airflow"]


def runtime_tag() -> tuple[str, str | None]:
    """(Runtime build, Python distribution or None) of the Dockerfile's FROM."""
    match = re.search(r"^FROM astrocrpublic\.azurecr\.io/runtime:(\d+\.\d+-\d+)(?:-python-(\d+\.\d+))?\s*$",
                      DOCKERFILE.read_text(), re.MULTILINE)
    assert match, "the Dockerfile's FROM is not an Airflow 3 Astro Runtime image"
    return match.group(1), match.group(2)


def test_runtime_tag_carries_the_project_airflow() -> None:
    build, _ = runtime_tag()
    assert build in RUNTIME_CATALOG, f"Runtime {build} is not in RUNTIME_CATALOG: add its Airflow version"
    carried, _ = RUNTIME_CATALOG[build]
    assert carried == airflow_version(), (
        f"Dockerfile: Runtime {build} carries Airflow {carried}, requirements/airflow-local.txt pins "
        f"{airflow_version()}")
    assert build.split("-")[0] == ".".join(airflow_version().split(".")[:2])


def test_image_python_is_offered_locked_and_local() -> None:
    """The image's Python is one its Runtime offers, and the one the locks and the local venvs use."""
    build, python = runtime_tag()
    assert python, "name the image's Python (-python-X.Y): the locks are compiled for one Python"
    assert python in RUNTIME_CATALOG[build][1], f"Runtime {build} offers no Python {python}"
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(rf"^PYTHON_VERSION := {re.escape(python)}$", makefile, re.MULTILINE), (
        f"the Makefile's PYTHON_VERSION (the locks' and the local venvs' Python) is not the image's {python}")
    assert re.search(r"^COMPILE = .*--python-version \$\(PYTHON_VERSION\)", makefile, re.MULTILINE), (
        "`make lock` must compile the locks for PYTHON_VERSION")
    compose = PROJECT_ROOT / "docker-compose.override.yml"
    if compose.exists():  # not in the image's build context (.dockerignore)
        stand_in = re.findall(r"image: python:(\d+\.\d+)", compose.read_text())
        assert stand_in == [python], f"the stand-ins' Python image {stand_in} is not the image's {python}"


def test_requirements_txt_leaves_airflow_to_the_image() -> None:
    assert "apache-airflow" not in pins(PROJECT_ROOT / "requirements.txt")


@pytest.mark.parametrize("doc", ["README.md", *sorted(p.name for p in (PROJECT_ROOT / "docs").glob("*.md"))])
def test_docs_state_the_project_airflow(doc: str) -> None:
    path = PROJECT_ROOT / doc if doc == "README.md" else PROJECT_ROOT / "docs" / doc
    text = path.read_text()
    stated = set(re.findall(r"\b(?:Airflow|apache-airflow)[ =]=?(\d+\.\d+\.\d+)", text))
    assert stated <= {airflow_version()}, f"{doc} states Airflow {sorted(stated)}, the pin is {airflow_version()}"
    build, _ = runtime_tag()
    runtimes = set(re.findall(r"\bRuntime (\d+\.\d+-\d+)", text))
    assert runtimes <= {build}, f"{doc} names Runtime {sorted(runtimes)}, the Dockerfile {build}"


@pytest.mark.parametrize(("source", "locks"), LOCKS.items())
def test_locks_hold_every_pin(source: str, locks: tuple[str, ...]) -> None:
    """A pin edited in a requirements file without `make lock` fails here."""
    wanted = pins(REQUIREMENTS / source)
    for lock in locks:
        locked = pins(REQUIREMENTS / lock)
        drift = {name: (version, locked.get(name)) for name, version in wanted.items() if locked.get(name) != version}
        assert not drift, f"{lock} differs from {source} (pin, lock): {drift}; run `make lock`"
