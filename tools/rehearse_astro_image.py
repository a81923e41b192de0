"""Rehearse the Astro image build without Docker: the image's file tree, its venvs, its manifest, its tests.

What the Dockerfile does, step for step, in a temporary folder:
  1. the build context: the project minus what .dockerignore leaves out (ONBUILD copies the rest);
  2. Airflow's environment: requirements.txt under the Airflow lock, on the image's Python (the tag's
     -python-X.Y), with apache-airflow at the project's pin standing in for the image's own build;
  3. dbt_venv from the dbt lock;
  4. tools/build_dbt_manifest.sh: `dbt parse` and `dbt docs generate` with the cloud target;
  5. `pytest` with no argument, as `astro dev pytest` runs it, in the image's environment variables:
     the DAG integrity tests must pass there, and what needs the embedded stack must skip.

uv installs the venvs (from its cache after the first run); the image uses pip on the same locks.
Usage: python tools/rehearse_astro_image.py [--workdir DIR] [--source DIR]
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
from include.shopstream import dbt_manifest  # noqa: E402  (run as a script, from tools/)
from include.shopstream.config import LOCAL_ONLY_PACKAGES  # noqa: E402

IMAGE_HOME = "/usr/local/airflow"  # where the image keeps the project; rewritten to the rehearsal tree


def dockerignore_patterns(source: Path) -> list[str]:
    lines = (source / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's matching, as far as this project's .dockerignore uses it: globs from the context root,
    `**/` for any depth, a folder's pattern covering everything below it. No `!` exceptions are used."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], pattern[3:]):
                return True
    return False


def copy_build_context(source: Path, tree: Path) -> int:
    patterns = dockerignore_patterns(source)
    copied = 0
    for folder, dirs, files in os.walk(source):
        rel_folder = Path(folder).relative_to(source).as_posix()
        rel = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [d for d in dirs if not ignored(rel + d, patterns)]
        for name in files:
            if not ignored(rel + name, patterns):
                target = tree / (rel + name)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target)
                copied += 1
    return copied


def image_python_version(dockerfile: Path) -> str:
    match = re.search(r"^FROM \S+:\S+-python-(\d+\.\d+)\s*$", dockerfile.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit("the Dockerfile's FROM names no -python-X.Y distribution")
    return match.group(1)


def find_python(version: str, uv: str) -> str | None:
    """The interpreter for `version`: uv's discovery, then pyenv's folders (whose shims uv cannot query)."""
    found = subprocess.run([uv, "python", "find", version], capture_output=True, text=True, check=False)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    # pyenv's own variable, looked up as the Makefile looks up PYTHON: the machine's, not a setting.
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for candidate in sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True):
        return str(candidate)
    return shutil.which(f"python{version}")


def airflow_pin(requirements: Path) -> str:
    """The project's Airflow, stated once: the apache-airflow pin of requirements/airflow-local.txt."""
    match = re.search(r"^apache-airflow==(\S+)", requirements.read_text(), re.MULTILINE)
    if not match:
        raise SystemExit(f"no apache-airflow== pin in {requirements}")
    return match.group(1)


def image_environment(dockerfile: Path, tree: Path) -> dict[str, str]:
    """The Dockerfile's ENV instructions, with the image's project folder mapped onto the tree."""
    text = dockerfile.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r"(\w+)=('[^']*'|\"[^\"]*\"|\S+)", line[4:]):
                env[key] = value.strip("'\"").replace(IMAGE_HOME, str(tree))
    return env


def run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def rehearse(workdir: Path, source: Path, uv: str) -> None:
    started = time.monotonic()
    tree, airflow_venv = workdir / "usr-local-airflow", workdir / "airflow-env"
    for stale in (tree, airflow_venv, workdir / "airflow-home"):
        shutil.rmtree(stale, ignore_errors=True)
    tree.mkdir(parents=True)
    print(f"build context: {copy_build_context(source, tree)} files in {tree}")
    shipped = [package for package in LOCAL_ONLY_PACKAGES if (tree / package).exists()]
    if shipped:
        raise SystemExit(f"the image would ship local-only tooling: {', '.join(shipped)} (add it to .dockerignore)")

    dockerfile = tree / "Dockerfile"
    version = image_python_version(dockerfile)
    python = find_python(version, uv)
    if python is None:
        raise SystemExit(f"Python {version} (the image's) not found: install it, e.g. `uv python install {version}`")
    requirements = tree / "requirements"
    pin = airflow_pin(requirements / "airflow-local.txt")

    run([uv, "venv", "--quiet", "--python", python, str(airflow_venv)])
    run([uv, "pip", "install", "--quiet", "--python", str(airflow_venv / "bin" / "python"),
         "-r", str(tree / "requirements.txt"), f"apache-airflow=={pin}", "pytest",
         "-c", str(requirements / "airflow.lock.txt")])
    run([uv, "venv", "--quiet", "--python", python, str(tree / "dbt_venv")])
    run([uv, "pip", "install", "--quiet", "--python", str(tree / "dbt_venv" / "bin" / "python"),
         "-r", str(requirements / "dbt.lock.txt")])
    run([str(tree / "tools" / "build_dbt_manifest.sh"), str(tree / "dbt_venv" / "bin" / "dbt")])
    # The image runs the adapter's own macros: its manifest must not hold one of the emulator's shims.
    manifest = dbt_manifest.load(tree / "include" / "dbt" / "shopstream" / "target" / "manifest.json")
    shims = sorted(m["name"] for m in manifest.data["macros"].values()
                   if m["original_file_path"].startswith("emulator_shims/"))
    if shims:
        raise SystemExit(f"the image's dbt manifest holds the emulator's shims {shims}: build it with the cloud target")

    # The rehearsed image's environment: this machine's, less the project's and Airflow's settings.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW", "SHOPSTREAM_", "VIRTUAL_ENV", "PYTHON", "REQUESTS_CA_BUNDLE"))}
    env.update(image_environment(dockerfile, tree))
    env.update({"AIRFLOW_HOME": str(workdir / "airflow-home"), "PATH": f"{airflow_venv / 'bin'}:{env['PATH']}"})
    report = workdir / "pytest-report.txt"
    with report.open("w") as out:
        result = subprocess.run([str(airflow_venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider",
                                 "-rA", "-q"], cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    text = report.read_text()
    print(text[-6000:])
    if result.returncode != 0:
        raise SystemExit(f"`pytest` failed in the rehearsed image (exit {result.returncode}): {report}")
    if "PASSED tests/dags/" not in text:
        raise SystemExit(f"the DAG integrity tests did not run in the rehearsed image: {report}")
    print(f"rehearsal passed in {time.monotonic() - started:.0f} s (Python {version}, Airflow {pin})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "shopstream-astro-rehearsal")
    parser.add_argument("--source", type=Path, default=PROJECT_ROOT, help="the build context (default: this project)")
    parser.add_argument("--uv", default=str(PROJECT_ROOT / ".local/venvs/uv/bin/uv"),
                        help="the uv to install with (default: the one `make install` provides, else uv on PATH)")
    args = parser.parse_args()
    uv = args.uv if Path(args.uv).exists() else shutil.which("uv")
    if uv is None:
        sys.exit("uv not found: `make install` provides .local/venvs/uv/bin/uv")
    rehearse(args.workdir.resolve(), args.source.resolve(), uv)


if __name__ == "__main__":
    main()
