"""Completion and error handling use only Typer's public API: since 0.26 Typer vendors Click as
the private `typer._click`, and its `_completion_*` modules are private too; either can change in
any Typer release and break `tokcli` for everyone who upgrades it."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

SRC = REPO / "src" / "tokcli"


def private_typer_uses(path: Path, root: Path = REPO) -> list[str]:
    """`import typer._x`, `from typer._x import`, `from typer import _x`, `typer._x` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("typer._")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("typer._"):
                found.append(node.module)
            elif node.module.split(".")[0] == "typer":
                found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif _is_private_typer_attribute(node):
            found.append(f"typer.{node.attr}")
    return [f"{path.relative_to(root)}:{name}" for name in found]


def _is_private_typer_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and isinstance(node.value, ast.Name)
        and node.value.id == "typer"
    )


def test_the_checker_sees_every_form_of_private_import(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text(
        "import typer._click\nfrom typer._completion_shared import x\n"
        "from typer import _click, echo\nimport typer\ny = typer._completion_classes\n"
        "from typer.main import get_command\n"
    )
    names = [hit.split(":", 1)[1] for hit in private_typer_uses(sample, root=tmp_path)]
    assert names == ["typer._click", "typer._completion_shared", "typer._click",
                     "typer._completion_classes"]  # fmt: skip


def test_no_module_under_src_uses_private_typer_modules():
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20  # the walk found the package
    hits = [hit for path in files for hit in private_typer_uses(path)]
    assert hits == [], f"private Typer API used: {hits}"
