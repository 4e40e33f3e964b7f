"""The release a user is told to install is the one this checkout is: every pinned tag in the
README, docs and examples is `v<__version__>`, and the changelog has that version's section."""

from __future__ import annotations

import re
from pathlib import Path

import tokcli

REPO = Path(__file__).resolve().parents[1]
PINNED = re.compile(r"(?:@|rev: )v(\d+\.\d+\.\d+)")


def _pinned_versions() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [REPO / "README.md", REPO / ".pre-commit-hooks.yaml"]
    files += sorted((REPO / "docs").rglob("*.md")) + sorted((REPO / "examples").rglob("*.y*ml"))
    for path in files:
        versions = set(PINNED.findall(path.read_text(encoding="utf-8")))
        if versions:
            found[str(path.relative_to(REPO))] = versions
    return found


def test_every_pinned_tag_is_this_version():
    pinned = _pinned_versions()
    assert len(pinned) >= 5  # README, getting started, recipes, examples
    wrong = {name: v for name, v in pinned.items() if v != {tokcli.__version__}}
    assert wrong == {}


def test_the_changelog_has_this_versions_section():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(tokcli.__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$",
                     changelog, re.MULTILINE)  # fmt: skip
