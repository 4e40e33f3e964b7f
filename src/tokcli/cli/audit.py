"""`tokcli audit`: lint prompt templates for cache-breaking structure, filler and unbounded
output; each finding priced in dollars per month when a model and a volume are known."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from tokcli.cli.common import PricingOpt, command_app, runtime
from tokcli.errors import CheckFailed, TokcliError
from tokcli.render import Column, Output

app = command_app(
    "Lint prompt templates for cache-breaking and costly patterns.", no_args_is_help=False
)


class AuditFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


class Per(StrEnum):
    day = "day"
    month = "month"


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


@app.command()
def audit(
    paths: Annotated[
        list[str] | None,
        typer.Argument(help="Template files, folders or globs (default: the current folder)."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Model for prices and limits (over front matter)."),
    ] = None,
    requests: Annotated[
        int | None,
        typer.Option("--requests", "-n", min=0, help="Calls per --per, to price findings."),
    ] = None,
    per: Annotated[
        Per | None, typer.Option("--per", help="Volume period (month = 30 days).")
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these rules: codes, prefixes or names (repeatable)."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Skip these rules (repeatable).")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip paths matching this glob.")
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option("--fail-on", help="Exit 1 on findings at or above this (default: error)."),
    ] = None,
    fmt: Annotated[
        AuditFormat | None,
        typer.Option("--format", "-f", help="table, json, csv, markdown, sarif or github."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes (default: one per CPU for big runs)."
        ),
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List the rules and exit.")
    ] = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", help="Explain a rule (code or name) and exit.", metavar="RULE"),
    ] = None,
    pricing: PricingOpt = None,
):
    """Lint prompt templates; exit 1 when a finding is at or above --fail-on.

    \b
    Example:
        tokcli audit prompts/
        tokcli audit prompts/ -m claude-sonnet-4-6 -n 50000 --per day
        tokcli audit prompts/ --format sarif > audit.sarif
    """
    if explain is not None:
        _explain(explain)
        return
    rt = runtime(pricing=pricing)
    chosen = _format(rt, fmt)
    if list_rules:
        rt.emit(_rules_output(), "table" if chosen in ("sarif", "github") else chosen)
        return
    from tokcli.audit.engine import failed, run_audit
    from tokcli.audit.settings import build_settings

    options = {
        "model": model,
        "requests": requests,
        "per": per.value if per else None,
        "select": _split(select),
        "ignore": _split(ignore),
        "exclude": exclude or [],
        "fail_on": fail_on.value if fail_on else None,
    }
    settings = build_settings(rt.config.section("audit"), options)
    for name in (settings.model, settings.default_model):
        if name is not None:
            rt.registry.get(name)  # unknown model: exit 2 before reading any file
    result = run_audit(
        paths or ["."], settings, registry=rt.registry, today=rt.today(), cwd=rt.cwd, jobs=jobs
    )
    for warning in result.warnings:
        rt.warn(warning)
    failing = failed(result.findings, settings.fail_on)
    _emit(rt, result, chosen, settings, bool(failing))
    if failing and settings.fail_on is not None:  # fail_on is set whenever a finding fails
        raise CheckFailed(
            f"audit: {len(failing)} finding{'s' if len(failing) != 1 else ''} at or above "
            f"--fail-on {settings.fail_on.name}"
        )


def _explain(selector: str) -> None:
    from tokcli.audit.explain import explain, resolve

    code = resolve(selector)
    if code is None:
        raise TokcliError(f"--explain: unknown rule {selector!r} (see `tokcli audit --list-rules`)")
    typer.echo(explain(code), nl=False)


def _format(rt, flag: AuditFormat | None) -> str:
    if flag is not None:
        return flag.value
    configured = rt.config.get("audit.format") or rt.config.get("format") or "table"
    if configured not in AuditFormat.__members__:
        raise TokcliError(f"config: format must be one of {', '.join(AuditFormat.__members__)}")
    return configured


def _emit(rt, result, fmt: str, settings, failing: bool) -> None:
    from tokcli.audit import formats
    from tokcli.render import use_color

    if fmt == "sarif":
        formats.write_sarif(result, rt.stdout)
    elif fmt == "github":
        formats.write_github(result, rt.stdout)
    elif fmt == "table":
        color = use_color(rt.stdout, rt.environ)
        formats.write_text(result, rt.stdout, color=color, summary=formats.summary_line(result))
    else:
        document = formats.audit_document(result, settings.fail_on, failing)
        rows = [
            {**f, "location": f"{f['path']}:{f['line']}:{f['column']}", "rule": _rule(f)}
            for f in document["findings"]
        ]
        for row, finding in zip(rows, result.findings, strict=True):
            row["monthly_cost"] = finding.monthly_cost
            if finding.overlaps:  # the same saving is on the finding it names: count it once
                row["monthly_cost"] = None
                row["message"] += f" (saving counted in {finding.overlaps})"
        columns = [
            Column("location", "location"),
            Column("severity", "severity"),
            Column("rule", "rule"),
            Column("message", "message"),
            Column("tokens", "tokens", "int"),
            Column("monthly_cost", "$/month", "money"),
        ]
        output = Output(
            data=document,
            rows=rows,
            columns=columns,
            title="tokcli audit",
            notes=[formats.summary_line(result)],
        )
        rt.emit(output, fmt)


def _rule(finding: dict) -> str:
    return f"{finding['rule']} {finding['name']}"


def _rules_output() -> Output:
    from tokcli.audit.rules import RULES

    rows = [
        {
            "code": r.info.code,
            "name": r.info.name,
            "severity": r.info.severity.name,
            "default": "on" if r.info.default_enabled else "off",
            "summary": r.info.summary,
        }
        for r in RULES
    ]
    columns = [
        Column("code", "code"),
        Column("name", "name"),
        Column("severity", "severity"),
        Column("default", "default"),
        Column("summary", "summary"),
    ]
    return Output(data={"version": 1, "rules": rows}, rows=rows, columns=columns)
