"""Every runtime dependency earns its place: something in src/ imports it (or, for a package
that only ships data, reads its files). Nothing is installed that nothing imports."""

from __future__ import annotations

import re
import tomllib

from conftest import REPO

# Distribution name -> the module name code uses, where the two differ.
MODULE_OF = {"pyyaml": "yaml", "tomli-w": "tomli_w", "psycopg": "psycopg"}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def test_every_runtime_dependency_is_imported_by_src():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    source = "\n".join(p.read_text() for p in (REPO / "src").rglob("*.py"))
    unused = []
    for requirement in project["dependencies"]:
        name = _requirement_name(requirement)
        module = MODULE_OF.get(name, name.replace("-", "_"))
        imported = re.search(rf"^\s*(import|from) {module}\b", source, re.MULTILINE)
        data_only = re.search(rf"resources\.files\([\"']{module}[\"']\)", source)
        if not (imported or data_only):
            unused.append(name)
    assert not unused, f"declared but never imported: {unused}"
