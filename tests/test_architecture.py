"""The shape of the code (issue 18): commands parse, call the library and render; the logic and
the documents they print live below cli/; one output path; no private name crosses a package."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "tokcli"

# The Runtime (its default streams), the error boundary and the Typer-free `--help`/`--version`
# fast path touch the streams themselves; every command writes through its Runtime.
STREAM_OWNERS = {"cli/common.py", "cli/main.py", "cli/registry.py"}


def _modules(under: Path = SRC):
    for path in sorted(under.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text())


def test_commands_write_through_the_runtime():
    offenders = []
    for relative, tree in _modules(SRC / "cli"):
        if relative in STREAM_OWNERS:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("stdout", "stderr")
                and isinstance(node.value, ast.Name)
                and node.value.id == "sys"
            ):
                offenders.append(f"{relative}:{node.lineno}: sys.{node.attr}")
    assert offenders == []


def test_no_private_name_is_imported_from_another_package():
    """config_schema used to import report.budgets._FIELDS (issue 18)."""
    offenders = []
    for relative, tree in _modules():
        package = "tokcli." + relative.rpartition("/")[0].replace("/", ".")
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith("tokcli"):
                continue
            source_package = node.module.rpartition(".")[0]
            private = [a.name for a in node.names if a.name.startswith("_") and a.name[1] != "_"]
            if private and source_package != package.rstrip("."):
                offenders.append(f"{relative}: {node.module}.{', '.join(private)}")
    assert offenders == []


def test_tco_and_budget_documents_come_from_the_library_without_the_cli():
    """The documents `tokcli tco` and `tokcli budget check` print are built below cli/ (they
    lived in cli/tco.py and cli/report.py), with neither Typer nor the CLI imported."""
    code = """
import datetime as dt, sys
from decimal import Decimal
from tokcli.pricing.registry import Registry
from tokcli.reporting.budgets import Budget, BudgetStatus, budgets_output, failing, failure_message
from tokcli.reporting.forecast import forecast
from tokcli.tco.analysis import analyse, api_options, gpu_options
from tokcli.tco.documents import commit_output, payback_output, tco_output
from tokcli.tco.inputs import COMMIT_SETTINGS, PAYBACK_SETTINGS, TCO_SETTINGS, resolve

day = dt.date(2026, 11, 24)
values, assumptions = resolve(TCO_SETTINGS, {"volume": "2B"}, {}, "tco")
per_token, _ = api_options(values, Registry.load(), day)
analysis = analyse([*per_token, *gpu_options(values)[0]], values)
doc = tco_output(analysis, values, assumptions, day).data
assert doc["volume"]["tokens_per_month"] == 2_000_000_000, doc["volume"]
flags = {"commit": "8000", "discount": "20%", "usage": ["6000", "14000"], "discount_on": None}
values, assumptions = resolve(COMMIT_SETTINGS, flags, {}, "tco.commit")
# 14,000 of usage at 20% off = 11,200 against a floor of 8,000
assert commit_output(values, assumptions).data["scenarios"][1]["committed_cost"] == Decimal(11200)
values, assumptions = resolve(PAYBACK_SETTINGS, {}, {}, "tco.payback")
assert payback_output(values, assumptions).data["payback_months"] is not None

budget = Budget("search", (("team", "search"),), Decimal(100))
start, end = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
outlook = forecast({dt.date(2026, 11, 2): Decimal(150)}, start, end, day)
status = BudgetStatus(budget, start, end, Decimal(150), outlook, Decimal(150), (), "over", "over")
assert failing([status]) == [status]
assert failure_message([status]) == "budget check failed: search (over: 150% used)"
assert budgets_output([status], "json").data["budgets"][0]["state"] == "over"
loaded = sorted(m for m in sys.modules if m == "typer" or m.startswith("tokcli.cli"))
assert loaded == [], loaded
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# Commands may open a store only to hand it to one library call; the loops, locks, transactions
# and documents are below cli/ (cli/batch.py held the poll loop and the lock, cli/report.py the
# report document and the budget states; issue 18).
LIBRARY_WORK = {"sleep", "monotonic", "BatchLock", "fetch", "refresh", "transaction"}


def test_commands_hold_no_loop_lock_or_query():
    offenders = []
    for relative, tree in _modules(SRC / "cli"):
        for node in ast.walk(tree):
            if isinstance(node, ast.While):
                offenders.append(f"{relative}:{node.lineno}: while loop")
            name = None
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in LIBRARY_WORK:
                offenders.append(f"{relative}:{node.lineno}: {name}()")
    assert offenders == []


def test_the_batch_lifecycle_runs_as_library_calls_without_the_cli():
    code = """
import sys
from tokcli.batch.documents import jobs_document, poll_document, plan_document
from tokcli.batch.session import BatchSession, plan, poll_exit
from tokcli.reporting.document import budget_statuses, report_document
print(sorted(m for m in ("typer", "click", "rich", "tokcli.cli") if m in sys.modules))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# The import path from a file to the store runs one way (issue 18): each importers/ module
# imports importers/ modules of lower layers only. Parsers (sources/) never reach the writer,
# the registry or a job; the writer never reaches a job; exporters are not importers.
IMPORT_LAYERS = (
    ("importers/fields.py", "importers/input_files.py"),
    ("importers/format.py", "importers/normalise.py"),
    ("importers/sources/",),
    ("importers/__init__.py", "importers/pricer.py", "importers/detect.py"),
    ("importers/part_sets.py", "importers/parse_worker.py"),
    ("importers/write.py",),
    ("importers/remote/",),
    ("importers/job.py",),
)


def _layer(relative: str) -> int:
    for rank, members in enumerate(IMPORT_LAYERS):
        if any(relative == m or (m.endswith("/") and relative.startswith(m)) for m in members):
            return rank
    raise AssertionError(f"{relative}: place the new module in IMPORT_LAYERS")


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every tokcli module the code imports, lazily or not, as a path below src/tokcli."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tokcli"):
            # `from tokcli.importers.sources import openai` imports the submodule
            names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("tokcli")]
        else:
            continue
        found += [(node.lineno, _module_path(name)) for name in names]
    return found


def _module_path(name: str) -> str:
    """`tokcli.importers.write` -> importers/write.py; a name inside a module
    (`tokcli.importers.get_format`, `tokcli.importers.write.FileResult`) -> that module."""
    path = name.replace(".", "/")[len("tokcli/") :]
    if (SRC / (path + ".py")).exists():
        return path + ".py"
    if (SRC / path).is_dir():
        return path + "/__init__.py"
    return _module_path(name.rpartition(".")[0])


def test_the_import_path_runs_one_way_from_a_file_to_the_store():
    offenders = []
    for relative, tree in _modules(SRC / "importers"):
        for line, target in _imported_modules(tree):
            if target.startswith("cli/") or target.startswith("exporters/"):
                offenders.append(f"{relative}:{line}: imports {target}")
            elif target.startswith("importers/") and _layer(target) >= _layer(relative):
                offenders.append(f"{relative}:{line}: imports {target} (not below it)")
    for relative, tree in _modules(SRC / "store"):
        offenders += [
            f"{relative}:{line}: imports {target}"
            for line, target in _imported_modules(tree)
            if target.startswith(("importers/", "exporters/"))
        ]
    assert offenders == []


def test_the_import_path_check_finds_a_parser_that_writes():
    tree = ast.parse("def parse():\n    from tokcli.importers.write import import_source\n")
    ((line, target),) = _imported_modules(tree)
    assert (line, target) == (2, "importers/write.py")
    assert _layer(target) > _layer("importers/sources/openai.py")
    assert _layer("importers/job.py") > _layer("importers/remote/admin_api.py")
