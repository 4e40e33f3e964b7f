"""The modules listed in pyproject.toml [tool.mypy] files type-check clean (issue 18)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_listed_modules_type_check_clean():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_the_core_packages_are_checked_strictly_and_none_of_them_is_excluded():
    """Issue 18: "strict on the core packages (pricing, cost, money, store, ...)"."""
    import re
    import tomllib

    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = {
        module
        for override in mypy["overrides"]
        if override.get("disallow_untyped_defs") and override.get("warn_return_any")
        for module in override["module"]
    }
    core = {"tokcli.money", "tokcli.cost", "tokcli.pricing", "tokcli.pricing.*", "tokcli.store",
            "tokcli.store.*", "tokcli.reporting.query"}  # fmt: skip
    assert core <= strict
    src = ROOT / "src" / "tokcli"
    core_files = [
        p.relative_to(ROOT).as_posix()
        for folder in ("store", "pricing")
        for p in sorted((src / folder).rglob("*.py"))
    ] + ["src/tokcli/money.py", "src/tokcli/cost.py", "src/tokcli/reporting/query.py"]
    assert len(core_files) > 30
    excluded = [f for f in core_files if any(re.search(p, f) for p in mypy.get("exclude", []))]
    assert excluded == []
