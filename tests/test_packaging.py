"""A release can be cut from any commit: the sdist and wheel build, pass `twine check`, carry the
pricing registry, and say the version `tokcli --version` says (defined in one place)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import tokcli
from conftest import REPO


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # sdist first, then the wheel built from the unpacked sdist: a file missing from the sdist
    # fails here, not on a user's machine. --no-isolation: the test extra installs hatchling.
    run = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_version_is_defined_once():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/tokcli/__init__.py"


def test_sdist_and_wheel_pass_twine_check(dist):
    wheel, sdist = _one(dist, "*.whl"), _one(dist, "*.tar.gz")
    run = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("PASSED") == 2, run.stdout


def test_wheel_carries_the_registry_typing_marker_and_version(dist):
    wheel = _one(dist, "*.whl")
    assert wheel.name.startswith(f"tokcli-{tokcli.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (REPO / "pricing").glob("*.yaml")}
    assert shipped and {f"tokcli/_pricing/{name}" for name in shipped} <= names
    assert "tokcli/py.typed" in names
    metadata = zipfile.ZipFile(wheel).read(f"tokcli-{tokcli.__version__}.dist-info/METADATA")
    assert f"Version: {tokcli.__version__}\n" in metadata.decode()
    entry_points = zipfile.ZipFile(wheel).read(
        f"tokcli-{tokcli.__version__}.dist-info/entry_points.txt"
    )
    assert "tokcli = tokcli.cli.entry:main" in entry_points.decode()
    assert not [n for n in names if n.startswith("tests/") or "/__pycache__/" in n]


def test_sdist_carries_what_the_tests_and_docs_read(dist):
    sdist = _one(dist, "*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "mkdocs.yml",
        "docs/reference/cli.md",
        "tests/fixtures/samples/focus/SOURCES.md",
        "tests/fixtures/openapi/SOURCES.md",
        "examples/billing/demo_focus_2026-10.csv",
        "action.yml",
        "action/run.sh",
    ):
        assert needed in names, needed
