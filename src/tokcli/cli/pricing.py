"""`tokcli pricing`: list, show, validate and override model prices."""

# No `from __future__ import annotations` here: Typer reads the command signatures and would
# evaluate each string annotation twice (inspect.signature, then get_type_hints), a fifth of
# `estimate`'s start-up (issue 17). Written annotations are evaluated once, at import.

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import (
    AtOpt,
    FormatOpt,
    PricingOpt,
    command_app,
    complete_model,
    parse_date,
    runtime,
)
from tokcli.errors import PriceNotAvailableError, TokcliError
from tokcli.render import Column, Output

app = command_app("List, show, validate and override model prices (USD per million tokens).")


def _moment(at: str | None, rt) -> dt.datetime:
    day = parse_date(at) or rt.today()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@app.command("list")
def list_models(
    provider: Annotated[
        str | None, typer.Option("--provider", "-p", help="Only this provider.")
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            "--tier", "-t", help="Only this tier: flagship, mid, cheap, reasoning, open-weight."
        ),
    ] = None,
    layer: Annotated[
        str,
        typer.Option(
            "--layer",
            help="Which models: curated (reviewed pricing/*.yaml), generated (the broad layer "
            "from a public price file, with your updates) or all.",
        ),
    ] = "curated",
    at: AtOpt = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """List models with the prices in force on a date.

    \b
    Example:
        tokcli pricing list --provider anthropic
        tokcli pricing list --tier cheap --format json
        tokcli pricing list --layer generated --provider azure
    """
    from tokcli.pricing import TIERS

    if layer not in ("curated", "generated", "all"):
        raise TokcliError(f"--layer: expected curated, generated or all, got {layer!r}")
    rt = runtime(pricing=pricing)
    if tier is not None and tier.lower() not in TIERS:
        raise TokcliError(f"--tier: expected one of {', '.join(TIERS)}, got {tier!r}")
    registry = rt.registry
    models = registry.list(provider, tier) if layer != "generated" else []
    if layer != "curated":
        models += _generated_models(registry, provider, tier)
    known = registry.providers() if layer == "curated" else sorted({m.provider for m in models})
    if provider is not None and not models and provider.lower() not in known:
        raise TokcliError(f"--provider: unknown provider {provider!r}; known: {', '.join(known)}")
    moment = _moment(at, rt)
    rows = []
    for model in models:
        try:
            entry = model.entry_at(moment)
        except PriceNotAvailableError:
            entry = None
        prices = entry.standard.prices if entry else {}
        rows.append(
            {
                "model": model.id,
                "provider": model.provider,
                "tier": model.tier,
                "input": prices.get("input"),
                "output": prices.get("output"),
                "cache_read": prices.get("cache_read"),
                "context_window": model.context_window,
                # None where the source records no start date (generated layer, 1970-01-01)
                "effective_from": entry.effective_from.date()
                if entry and entry.effective_from.year != 1970
                else None,
                "overridden": bool(model.origin),
                "layer": model.layer,
            }
        )
    columns = [
        Column("model", "model"),
        Column("provider", "provider"),
        Column("tier", "tier"),
        Column("input", "input $/MTok", "price"),
        Column("output", "output $/MTok", "price"),
        Column("cache_read", "cache read", "price"),
        Column("context_window", "context", "int"),
        Column("effective_from", "since"),
    ]
    data = {
        "version": 1,
        "at": moment.date(),
        "currency": "USD",
        "unit": "per_million_tokens",
        "models": rows,
    }
    notes = [f"prices in force on {moment:%Y-%m-%d}, USD per million tokens"]
    if any(r["overridden"] for r in rows):
        notes.append(
            "some models are changed by a pricing override file (`pricing show` says which)"
        )
    rt.emit(Output(data=data, rows=rows, columns=columns, notes=notes), rt.format(fmt))


def _generated_models(registry, provider: str | None, tier: str | None) -> list:
    if tier is not None:  # the generated layer makes no tier judgement
        return []
    layer = registry.generated()
    chosen = []
    for model_id in layer.ids():
        if model_id in registry.models:
            continue  # the curated model of the same id wins
        model = layer.model(model_id)
        if provider is None or model.provider == provider.lower():
            chosen.append(model)
    return sorted(chosen, key=lambda m: (m.provider, m.id))


@app.command("show")
def show(
    model: Annotated[
        str, typer.Argument(help="Model id, alias or display name.", autocompletion=complete_model)
    ],
    at: AtOpt = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """Show a model's prices in force on a date, with their source.

    \b
    Example:
        tokcli pricing show claude-sonnet-4-6
        tokcli pricing show deepseek-v4-pro --at 2026-05-01 --format json
    """
    from tokcli.pricing.views import model_dict, price_grid

    rt = runtime(pricing=pricing)
    found = rt.registry.get(model)
    moment = _moment(at, rt)
    try:
        entry = found.entry_at(moment)
    except PriceNotAvailableError as exc:
        if found.prices:
            raise
        entry = None
        rt.warn(str(exc))
    data = model_dict(found, entry)
    rows = price_grid(entry) if entry else []
    for row in rows:
        if row.pop("overridden"):
            row["dimension"] += " *"
    columns = [
        Column("dimension", "$/MTok"),
        Column("standard", "standard", "price"),
        Column("batch", "batch", "price"),
        Column("flex", "flex", "price"),
        Column("priority", "priority", "price"),
    ]
    if entry and entry.long_context is not None:
        columns.append(Column("long_context", f">{entry.long_context_above:,} in", "price"))
    columns = [c for c in columns if c.key == "dimension" or any(r.get(c.key) for r in rows)]
    title = f"{found.id} ({found.name or found.id}, {found.provider}, tier {found.tier or '-'})"
    notes = _show_notes(found, entry, moment)
    rt.emit(Output(data=data, rows=rows, columns=columns, title=title, notes=notes), rt.format(fmt))


def _show_notes(model, entry, moment) -> list[str]:
    notes = []
    facts = [
        f"context {model.context_window:,}" if model.context_window else None,
        f"max output {model.max_output:,}" if model.max_output else None,
        f"min cacheable {model.min_cacheable_at(entry):,}"
        if entry and model.min_cacheable_at(entry)
        else None,
    ]
    if any(facts):
        notes.append(", ".join(f for f in facts if f))
    if entry is None:
        notes.append("no price is recorded for this model")
        return notes
    since = (
        "an unrecorded date"
        if entry.effective_from.year == 1970
        else f"{entry.effective_from:%Y-%m-%d %H:%M} UTC"
    )
    notes.append(
        f"in force from {since} on {moment:%Y-%m-%d}; source: {entry.source}; layer: {model.layer}"
    )
    later = [e for e in model.prices if e.effective_from > moment]
    if later:
        notes.append(f"changes on {later[0].effective_from:%Y-%m-%d} ({len(later)} later entries)")
    if entry.time_of_day is not None:
        notes.append(f"peak prices; off-peak hours are x{entry.time_of_day.off_peak_multiplier}")
    if entry.overridden:
        notes.append(f"* overridden by {entry.origin}")
    if entry.notes:
        notes.append(entry.notes)
    if model.layer != "curated" and model.notes:
        notes.append(model.notes)
    return notes


@app.command("validate")
def validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Pricing files (registry or override files). Default: the shipped registry.",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = None,
):
    """Check pricing files against the schema; errors name file, line and field."""
    from tokcli.pricing import Registry, shipped_pricing_dir
    from tokcli.pricing.loader import load_pricing_file
    from tokcli.pricing.yamlfile import load_yaml

    rt = runtime()
    rows = []
    if not files:
        directory = shipped_pricing_dir()
        registry = Registry.load(directory=directory)
        rows.append({"file": str(directory), "kind": "registry", "models": len(registry.models)})
    for path in files or []:
        doc = load_yaml(path)
        is_registry = isinstance(doc, dict) and "provider" in doc
        models, _ = load_pricing_file(path, override=not is_registry)
        if not is_registry:  # an override must also merge cleanly over the registry
            Registry.load(overrides=[path])
        rows.append(
            {
                "file": str(path),
                "kind": "registry" if is_registry else "override",
                "models": len(models),
            }
        )
    columns = [Column("file", "file"), Column("kind", "kind"), Column("models", "models", "int")]
    rt.emit(
        Output(
            data={"version": 1, "valid": True, "files": rows},
            rows=rows,
            columns=columns,
            notes=["valid"],
        ),
        rt.format(fmt),
    )


@app.command("import-litellm")
def import_litellm(
    location: Annotated[
        str,
        typer.Argument(
            help="LiteLLM model_prices_and_context_window.json "
            "file, or an http(s) URL (needs the network)."
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the override file here (default: stdout, with the differences on stderr).",
        ),
    ] = None,
    include_unknown: Annotated[
        bool, typer.Option("--all", help="Also add models the registry does not know.")
    ] = False,
    effective_from: Annotated[
        str | None,
        typer.Option(
            "--effective-from", help="Date the imported prices take effect (default: today)."
        ),
    ] = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """Convert LiteLLM's price file into a tokcli override file and show what differs.

    \b
    Example:
        tokcli pricing import-litellm model_prices_and_context_window.json -o litellm.yaml
        tokcli estimate prompt.txt -m gpt-5 --pricing litellm.yaml
    """
    import yaml

    from tokcli.pricing.litellm import convert, read_litellm

    rt = runtime(pricing=pricing)
    data, origin = read_litellm(location)
    when = parse_date(effective_from, option="--effective-from") or rt.today()
    result = convert(
        data, rt.registry, origin=origin, effective_from=when, include_unknown=include_unknown
    )
    text = "# tokcli pricing override converted from LiteLLM; see pricing/SCHEMA.md\n"
    text += yaml.safe_dump(result.override, sort_keys=False, allow_unicode=True)
    rows = [
        {"model": d.model, "field": d.field, "registry": d.registry, "litellm": d.litellm}
        for d in result.differences
    ]
    columns = [
        Column("model", "model"),
        Column("field", "field"),
        Column("registry", "registry $/MTok", "price"),
        Column("litellm", "LiteLLM $/MTok", "price"),
    ]
    summary = {
        "version": 1,
        "source": origin,
        "known_models": result.known,
        "unknown_models": len(result.unknown),
        "duplicate_keys": result.duplicates,
        "differences": rows,
        "output": str(output) if output else None,
    }
    notes = [
        f"{result.known} models matched the registry, {len(rows)} prices differ; "
        f"{len(result.unknown)} LiteLLM models unknown to tokcli"
        + ("" if include_unknown else " (add them with --all)")
    ]
    report = Output(data=summary, rows=rows, columns=columns, notes=notes)
    if output is not None:
        from tokcli.outputs import write_text

        write_text(output, text)
        rt.emit(report, rt.format(fmt))
    else:
        rt.stdout.write(text)
        from tokcli.render import render

        render(report, rt.format(fmt), rt.stderr)


@app.command("update")
def update(
    source: Annotated[
        str | None,
        typer.Argument(
            help="A newer price file you downloaded, or its URL: genai-prices' data.json "
            "(pydantic/genai-prices, prices/data.json or prices/new_data/v2/data.json) or "
            "LiteLLM's model_prices_and_context_window.json; the format is recognised by its "
            "shape (default: the file inside an installed litellm package).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the differences; write nothing.")
    ] = False,
    effective_from: Annotated[
        str | None,
        typer.Option("--effective-from", help="Date changed prices start (default: today)."),
    ] = None,
    fmt: FormatOpt = None,
):
    """Refresh the generated price layer offline; every changed price is listed first.

    A changed price becomes a new entry from today (old usage keeps its old price); price
    changes the file dates later keep their dates; models the newer file drops keep their
    history. Models the file lists that tokcli cannot price exactly are reported, one line
    each, and left out. Written to the user's layer (XDG data dir), which stacks over the
    shipped one; curated prices still win.

    \b
    Example:
        tokcli pricing update ~/Downloads/data.json --dry-run
        tokcli pricing update ~/Downloads/model_prices_and_context_window.json
        tokcli pricing update
    """
    from tokcli.pricing.registry import user_layer_path
    from tokcli.pricing.update import installed_litellm_file, plan_update, read_source, write_layer

    rt = runtime()
    location = source or str(installed_litellm_file())
    when = parse_date(effective_from, option="--effective-from") or rt.today()
    data = read_source(location)
    registry = rt.registry
    plan = plan_update(registry.generated(), data, location, when)
    target = user_layer_path(rt.environ)
    rows = [
        {"model": c.model, "field": c.field, "change": c.kind, "old": c.old, "new": c.new}
        for c in plan.changes
    ]
    written = bool(plan.changes) and not dry_run
    if written:
        write_layer(plan, target)
    for model, why in plan.unmapped:
        rt.warn(f"{location}: {model}: not mapped: {why}")
    for model, why in plan.partial:
        rt.warn(f"{location}: {model}: token prices mapped; {why}")
    curated = sorted(m for m in {*plan.changed, *plan.removed} if m in registry.models)
    data_out = {
        "version": 1,
        "source": location,
        "effective_from": when,
        "dry_run": dry_run,
        "layer_file": str(target),
        "written": written,
        "changed_models": plan.changed,
        "added_models": plan.added,
        "removed_models": plan.removed,
        "not_mapped": [{"model": m, "reason": why} for m, why in plan.unmapped],
        "partly_mapped": [{"model": m, "left_out": why} for m, why in plan.partial],
        "changes": rows,
    }
    columns = [
        Column("model", "model"),
        Column("field", "field"),
        Column("change", "change"),
        Column("old", "old $/MTok", "price"),
        Column("new", "new $/MTok", "price"),
    ]
    notes = [
        f"{len(plan.changed)} models changed, {len(plan.added)} added, {len(plan.removed)} "
        f"removed; {len(rows)} price fields differ; changed prices start {when}"
    ]
    if plan.unmapped:
        notes.append(f"{len(plan.unmapped)} models not mapped (listed above on stderr)")
    if curated:
        notes.append(
            f"curated prices win over the layer for {', '.join(curated)}: review pricing/*.yaml"
        )
    if dry_run:
        notes.append(f"dry run: nothing written ({target} unchanged)")
    elif written:
        notes.append(f"written to {target}")
    else:
        notes.append("no price changed: nothing written")
    rt.emit(Output(data=data_out, rows=rows, columns=columns, notes=notes), rt.format(fmt))
