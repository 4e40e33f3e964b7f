"""The quick commands import only what they use (issue 17: start-up within 1.2x of
`python -c "import typer"`, measured by bench/bench_startup.py).

Each command runs in a fresh Python process, as a user runs it, after a first run that fills the
registry cache and creates the store; the test then looks at the modules that process loaded.
It asserts on modules, never on time: each module named here was a measured part of start-up
(YAML, the prompt renderers, json, pickle.py, tempfile, csv, ...)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

# Loaded by none of the three commands below.
NEVER = {
    "yaml",
    "rich",
    "jinja2",
    "tiktoken",
    "tokcli.prompts.source",
    "tokcli.prompts.templating",
    "tokcli.prompts.renderers",
    "tokcli.pricing.loader",  # the YAML registry is read from the cache
    "pickle",  # the C unpickler is used without pickle.py in front of it
    "tomllib",  # no config file here
    "tempfile",
    "gzip",
    "hashlib",
    "string",  # its Template class compiles a pattern at import (errors.py parses lazily)
    "encodings.utf_8_sig",  # a project's pyproject.toml is tested as bytes, not decoded
    "pkgutil",  # store migrations are found from their file names
    "tokcli.store.migrations.m0001_initial",  # ... and imported only when they run
    "tokcli.store.migrations.m0013_mark_days_per_batch",
    "tokcli.pricing.layers",  # a curated model is found without the generated layer
    "tokcli.reporting.forecast",  # only for --month and --forecast
    "tokcli.reporting.allocation",  # only for --allocate-shared
    "tokcli.outputs",  # only to write a file (--output)
    "tokcli.suggest",  # only to suggest a name for a misspelt one
}
COMMANDS = {
    "pricing show": (
        ["pricing", "show", "claude-sonnet-4-6"],
        {"json", "sqlite3", "tokcli.prompts", "tokcli.reporting", "tokcli.store"},
    ),
    "estimate --input-tokens": (
        ["estimate", "--input-tokens", "1000", "--output-tokens", "200",
         "--model", "claude-sonnet-4-6"],
        {"sqlite3", "tokcli.reporting", "tokcli.store", "tokcli.prompts.files",
         "json", "tokcli.estimate.gate", "tokcli.tokens"},
    ),
    "report on an empty store": (
        ["report"],
        {"csv", "fractions", "random", "tokcli.prompts",
         "tokcli.reporting.anomalies",  # only for --anomalies
         "tokcli.reporting.additions",  # only for --forecast, --anomalies, --allocate-shared
         "tokcli.pricing",  # no row to price: the registry is not loaded
         "json"},  # the rollup upkeep's JSON is for writes
    ),
}  # fmt: skip

_PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + repr(sorted(sys.modules)) + "\\n"))
sys.argv = ["tokcli", *{args!r}]
from tokcli.cli.entry import main
main()
"""


def _modules_loaded(args: list[str]) -> set[str]:
    """The modules a fresh `tokcli ARGS` process has loaded when it exits, in the test's
    environment (isolated folders, NO_COLOR)."""
    command = [sys.executable, "-c", _PROBE.format(args=args)]
    for _ in range(2):  # the first run fills the registry cache and creates the store
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("MODULES "))
    return set(ast.literal_eval(line.removeprefix("MODULES ")))


@pytest.mark.parametrize("name", COMMANDS)
def test_quick_command_imports_only_what_it_uses(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCLI_STORE", str(tmp_path / "usage.db"))
    monkeypatch.delenv("TOKCLI_NOW")  # the pinned test clock is parsed by the YAML loader
    args, also_not = COMMANDS[name]
    loaded = _modules_loaded(args)
    unexpected = sorted(loaded & (NEVER | also_not))
    assert unexpected == [], f"`tokcli {' '.join(args)}` imports {unexpected}"
    assert "typer" in loaded  # it did run through the CLI


def test_price_classes_keep_frozen_dataclass_behaviour():
    """pricing/model.py writes the frozen-dataclass methods once instead of compiling them per
    class at import: equality, hashing, immutability, dataclasses.replace/fields, repr and
    pickling behave as with @dataclass(frozen=True)."""
    import dataclasses
    import datetime as dt
    import pickle
    from decimal import Decimal

    from tokcli.pricing.model import Band, Model, PriceEntry, TierPricing, TimeOfDay

    band = Band(
        {"input": Decimal("3"), "output": Decimal("15")}, {"batch": TierPricing(Decimal("0.5"))}
    )
    when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    entry = PriceEntry(when, "https://example.com/pricing", band)
    model = Model("m", "anthropic", "M", "mid", ("m-alias",), 200_000, 8_000, None, (entry,))
    assert model.layer == "curated" and entry.long_context is None
    assert TierPricing().prices == {} and TierPricing().prices is not TierPricing().prices
    same = Model("m", "anthropic", "M", "mid", ("m-alias",), 200_000, 8_000, None, (entry,))
    assert same == model
    peak = TimeOfDay(((dt.time(9), dt.time(17)),), Decimal("0.5"))
    assert hash(peak) == hash(TimeOfDay(((dt.time(9), dt.time(17)),), Decimal("0.5")))
    with pytest.raises(TypeError):  # as a frozen dataclass holding a dict
        hash(model)
    assert model != dataclasses.replace(model, tier="cheap")
    assert dataclasses.replace(model, tier="cheap").tier == "cheap"
    assert [f.name for f in dataclasses.fields(Model)][:3] == ["id", "provider", "name"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.tier = "cheap"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del entry.notes
    assert repr(entry.standard.tiers["batch"]) == (
        "TierPricing(multiplier=Decimal('0.5'), prices={})"
    )
    assert pickle.loads(pickle.dumps(model)) == model


def test_estimate_quick_path_creates_no_dataclass_methods():
    """The value classes on the quick paths share tokcli.frozen's methods instead of having
    @dataclass compile them at import: creating one costs 2M to 3.6M instructions. Frozen for
    the immutable ones, Record for the mutable ones (estimate's and the report's)."""
    from tokcli import cost
    from tokcli.estimate import call, prompt, run, volume
    from tokcli.frozen import Frozen, Record
    from tokcli.prompts import settings
    from tokcli.reporting import anomalies, query, totals, valuation, views

    classes = [cost.Usage, cost.CostLine, cost.CostBreakdown, cost.ResolvedPrices,
               call.CallShape, call.CostItem, call.CallCost, prompt.CallOptions,
               settings.PromptSettings, volume.Volume, query.Selection, totals.BadValue,
               anomalies.Anomaly, valuation.Fx]  # fmt: skip
    for cls in classes:
        assert issubclass(cls, Frozen), cls
        assert "__eq__" not in vars(cls) and "__setattr__" not in vars(cls), cls
    mutable = [prompt.MeasuredPrompt, prompt.PromptEstimate, run.PromptRequest, query.FineRow,
               valuation.Part, views.ReportOptions, views.Group, views.Valued]  # fmt: skip
    for cls in mutable:
        assert issubclass(cls, Record), cls
        assert "__eq__" not in vars(cls) and "__repr__" not in vars(cls), cls
    for cls in classes + mutable:  # else @dataclass builds one with inspect.signature
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), cls


def test_frozen_value_classes_behave_as_frozen_dataclasses():
    import dataclasses
    import pickle
    from decimal import Decimal

    from tokcli.cost import Usage
    from tokcli.estimate.call import CallShape
    from tokcli.reporting.valuation import Fx

    usage = Usage(input_tokens=10, output_tokens=5)
    assert usage == Usage(10, 0, 0, 0, 5) and hash(usage) == hash(Usage(10, 0, 0, 0, 5))
    assert usage != Usage(input_tokens=11, output_tokens=5)
    with pytest.raises(ValueError, match="input_tokens"):  # __post_init__ still runs
        Usage(input_tokens=-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        usage.input_tokens = 3  # type: ignore[misc]
    assert dataclasses.replace(usage, requests=4).requests == 4
    with pytest.raises(ValueError, match="requests"):
        dataclasses.replace(usage, requests=-4)
    assert dataclasses.asdict(usage)["output_tokens"] == 5
    assert pickle.loads(pickle.dumps(usage)) == usage
    assert repr(CallShape(100, 20)).startswith("CallShape(input_tokens=100, output_tokens=20, ")
    assert Fx("EUR").rates == {} and Fx("EUR").rates is not Fx("EUR").rates
    assert Fx("EUR", {"USD": Decimal("0.9")}) == Fx("EUR", {"USD": Decimal("0.9")})


def test_migrations_are_found_from_file_names_and_imported_when_they_run(tmp_path):
    """Opening a migrated store imports no migration module; a new store imports each as it
    runs. Versions and names come from the mNNNN_name.py file names."""
    probe = """
import sys
from tokcli.store import connect
from tokcli.store.migrations import _version_and_name, all_migrations
assert _version_and_name("m0005_report_rollups.py") == (5, "report_rollups")
assert _version_and_name("m0005_report_rollups.pyc") == (5, "report_rollups")
assert _version_and_name("__init__.py") is None and _version_and_name("m05_x.py") is None
assert _version_and_name("m0005_.py") is None and _version_and_name("mabcd_x.py") is None
loaded = lambda: sorted(m for m in sys.modules if m.startswith("tokcli.store.migrations.m"))
found = all_migrations()
assert loaded() == [], loaded()
connect(sys.argv[1]).close()
print(len(found), len(loaded()))
"""
    store = tmp_path / "usage.db"
    runs = [
        subprocess.run([sys.executable, "-c", probe, str(store)], capture_output=True,
                       text=True, timeout=120)
        for _ in range(2)
    ]  # fmt: skip
    for run in runs:
        assert run.returncode == 0, run.stderr
    count = int(runs[0].stdout.split()[0])
    assert count >= 8
    assert runs[0].stdout.split() == [str(count), str(count)]  # a new store: each one ran
    assert runs[1].stdout.split() == [str(count), "0"]  # migrated: none imported


def test_every_written_out_init_takes_exactly_its_dataclass_fields():
    """A Frozen or Record class writes its __init__ out by hand (start-up): its parameters must
    be the dataclass fields, in order, with the same defaults (None for a default_factory), so
    adding a field without its parameter (or the reverse) fails here rather than in a user's
    run."""
    import dataclasses
    import importlib
    import inspect

    from tokcli.frozen import Frozen, Record

    modules = ["tokcli.cost", "tokcli.estimate.call", "tokcli.estimate.prompt",
               "tokcli.estimate.run", "tokcli.estimate.volume", "tokcli.prompts.settings",
               "tokcli.pricing.model", "tokcli.reporting.anomalies", "tokcli.reporting.query",
               "tokcli.reporting.totals", "tokcli.reporting.valuation",
               "tokcli.reporting.views"]  # fmt: skip
    for name in modules:
        importlib.import_module(name)
    pending, classes = [*Frozen.__subclasses__(), *Record.__subclasses__()], []
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending += cls.__subclasses__()
    assert len(classes) >= 23
    assert {"PromptRequest", "ReportOptions", "Group", "FineRow", "Part"} <= {
        cls.__name__ for cls in classes
    }
    for cls in classes:
        fields = dataclasses.fields(cls)
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert [p.name for p in parameters] == [f.name for f in fields], cls
        for parameter, field in zip(parameters, fields, strict=True):
            if field.default is not dataclasses.MISSING:
                assert parameter.default == field.default, (cls, field.name)
            elif field.default_factory is dataclasses.MISSING:
                assert parameter.default is inspect.Parameter.empty, (cls, field.name)
            else:  # None stands for a new default_factory() value
                assert parameter.default is None, (cls, field.name)


def test_the_cached_registry_builds_only_the_models_looked_up(tmp_path, monkeypatch):
    """From the parsed-registry cache each model stays pickled until it is looked up (start-up:
    `pricing show` uses one model), and every model it builds equals the parsed one."""
    from tokcli.pricing.registry import Registry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("TOKCLI_NO_CACHE", raising=False)
    parsed = Registry.load(use_cache=False)
    Registry.load()  # writes the cache
    assert list((tmp_path / "tokcli").glob("registry-*.pickle"))
    cached = Registry.load()
    assert cached.get("claude-sonnet-4-6") == parsed.get("claude-sonnet-4-6")
    built = [model_id for model_id in cached.models if model_id in cached.models._built_ids()]
    assert built == ["claude-sonnet-4-6"]
    assert list(cached.models) == list(parsed.models)
    assert all(cached.models[m] == parsed.models[m] for m in parsed.models)


def test_record_classes_behave_as_mutable_dataclasses():
    """tokcli.frozen.Record gives the mutable value classes @dataclass()'s equality, repr and
    unhashability without compiling them per class; replace/asdict/fields still work, and a
    default_factory field gets a new value per instance."""
    import dataclasses
    import datetime as dt
    from decimal import Decimal

    from tokcli.estimate.prompt import CallOptions
    from tokcli.estimate.run import PromptRequest
    from tokcli.reporting.query import Selection
    from tokcli.reporting.totals import Totals
    from tokcli.reporting.valuation import Part
    from tokcli.reporting.views import DEFAULT_K, DEFAULT_WOW_PERCENT, Group, ReportOptions

    day = dt.date(2026, 1, 5)
    request = PromptRequest(day, CallOptions())
    assert request == PromptRequest(day, CallOptions(), [], None, 30, {}, [], None)
    assert request != PromptRequest(day, CallOptions(), ["gpt-5"])
    assert (
        request.model_names == []
        and request.model_names is not PromptRequest(day, CallOptions()).model_names
    )
    request.days_per_month = 31  # mutable, as a plain dataclass
    assert request.days_per_month == 31
    with pytest.raises(TypeError):
        hash(request)
    assert repr(request).startswith("PromptRequest(at=datetime.date(2026, 1, 5), options=")
    assert dataclasses.replace(request, volume=None) == request
    assert dataclasses.asdict(request)["days_per_month"] == 31

    options = ReportOptions(Selection(), day)
    assert (options.k, options.wow_percent) == (DEFAULT_K, DEFAULT_WOW_PERCENT) == (3, 50)
    wider = dataclasses.replace(options, top=3)
    assert wider.top == 3 and wider != options and wider.selection is options.selection
    group = Group(("USD",))
    assert group.totals is not Group(("USD",)).totals and group.bases == set()
    sums = Totals()  # compared by identity, as before
    assert Group(("USD",), sums) == Group(("USD",), sums) != Group(("EUR",), sums)
    assert Group(("USD",), sums) != Group(("USD",), Totals())
    part = Part("USD", Decimal("1.50"), frozenset({"list"}), sums)
    assert part.list_rate == 1 and part.billed is None
    assert part == Part("USD", Decimal("1.5"), frozenset({"list"}), sums)
    assert part != Part("EUR", Decimal("1.5"), frozenset({"list"}), sums)


def test_typer_reads_each_signature_once_and_builds_the_same_commands():
    """cli/main.py has Typer share one reading of a command's signature between its
    parameters and its callback (start-up): every command and sub-command comes out with the
    parameters Typer builds on its own, and Typer's reader is put back afterwards."""
    import importlib

    import typer

    from tokcli.cli.main import _command_of, _read_once
    from tokcli.cli.registry import COMMANDS

    def described(command) -> list:
        params = [
            (p.name, p.opts, p.secondary_opts, type(p.type).__name__, repr(p.default),
             p.required, p.multiple, getattr(p, "help", None), getattr(p, "is_flag", None),
             p.metavar, p.nargs)
            for p in command.params
        ]  # fmt: skip
        subcommands = getattr(command, "commands", {})
        return [command.help, params, {n: described(subcommands[n]) for n in sorted(subcommands)}]

    reader = typer.main.get_params_from_function
    for module_name, _ in COMMANDS.values():
        app = importlib.import_module(module_name).app
        shared = _read_once(_command_of, app)
        assert typer.main.get_params_from_function is reader
        assert described(shared) == described(typer.main.get_command(app)), module_name


def test_the_entry_point_collects_garbage_after_start_up():
    """The entry point imports the CLI with the cyclic collector paused and freezes what it
    imported (start-up): the collector is on again while the command runs."""
    probe = """
import atexit, gc, sys
atexit.register(lambda: print(gc.isenabled(), gc.get_freeze_count() > 10000))
sys.argv = ["tokcli", "pricing", "show", "claude-sonnet-4-6"]
from tokcli.cli.entry import main
main()
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["True", "True"]
