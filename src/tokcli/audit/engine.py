"""Run the rules over files: discover, read, scan, check, locate, suppress, apply config."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.audit.costing import Pricing, TokenCounter, requests_per_month
from tokcli.audit.findings import Finding, Severity
from tokcli.audit.scan import scan
from tokcli.audit.settings import AuditSettings, path_matches
from tokcli.audit.suppression import parse_suppressions
from tokcli.audit.template import NotAPrompt, Template, load_template
from tokcli.errors import InputError, TokcliError


@dataclass
class FileReport:
    path: str
    model: str | None
    monthly_requests: int | None
    token_method: str | None
    exact: bool


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    suppressed: int = 0
    warnings: list[str] = field(default_factory=list)


def display_path(path: Path, cwd: Path) -> str:
    try:
        return path.resolve().relative_to(cwd.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(paths: Iterable[str], exclude: list[str], cwd: Path) -> list[tuple[Path, bool]]:
    """(file, named explicitly?) for files, folders and globs, in the order `estimate` uses
    (tokcli.prompts.iter_prompt_files), then audit's own excludes (per-file-ignores syntax)."""
    from tokcli.prompts import iter_prompt_files

    named = {Path(p) for p in paths}
    return [
        (path, path in named)
        for path in iter_prompt_files(paths)
        if not any(path_matches(display_path(path, cwd), pattern) for pattern in exclude)
    ]


def run_audit(
    paths: Iterable[str],
    settings: AuditSettings,
    *,
    registry,
    today: dt.date,
    cwd: Path,
) -> AuditResult:
    from tokcli.audit.rules import RULES

    result = AuditResult()
    shared: dict = {}
    for path, explicit in discover(paths, settings.exclude, cwd):
        label = display_path(path, cwd)
        try:
            template = load_template(path, label)
        except NotAPrompt:
            if explicit:
                raise InputError("holds no chat messages (role/content)", path=label) from None
            continue
        enabled = settings.enabled_for(label)
        rules = [rule for rule in RULES if rule.info.code in enabled]
        findings, report = audit_template(template, rules, settings, registry, today, shared)
        result.files.append(report)
        kept = _unsuppressed(template, findings, result)
        result.findings += kept
    return result


def audit_template(template, rules, settings, registry, today, shared):
    from tokcli.audit.rules import Context

    pricing = _pricing(template, settings, registry, today)
    model = pricing.model if pricing else None
    counter = TokenCounter(model.id if model else None, model.provider if model else None)
    ctx = Context(template, scan(template.prompt), counter, settings, pricing, registry, shared)
    findings = []
    for rule in rules:
        for finding in rule.check(ctx):
            _locate(template, finding)
            if finding.rule.code in settings.severity:
                finding.severity = settings.severity[finding.rule.code]
            elif finding.severity is None:
                finding.severity = finding.rule.severity
            findings.append(finding)
    findings.sort(key=lambda f: (f.line, f.column, f.rule.code))
    report = FileReport(
        template.path,
        model.id if model else None,
        pricing.monthly_requests if pricing else None,
        counter.method,
        counter.exact,
    )
    return findings, report


def _unsuppressed(template: Template, findings: list[Finding], result: AuditResult):
    suppressions = parse_suppressions(template.raw)
    for line, selector in suppressions.unknown:
        result.warnings.append(
            f"{template.path}:{line}: tokcli: ignore names unknown rule {selector!r}"
        )
    kept = []
    for finding in findings:
        if suppressions.covers(finding.line, finding.rule.code, finding.rule.name):
            result.suppressed += 1
        else:
            kept.append(finding)
    return kept


def _locate(template: Template, finding: Finding) -> None:
    finding.path = template.path
    finding.line, finding.column = template.position(finding.start)
    end = finding.end if finding.end > finding.start else finding.start
    finding.end_line, finding.end_column = template.position(end)
    lines = template.raw_lines
    finding.source_line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    if finding.end <= finding.start or finding.end_line != finding.line:
        # Mark to the end of the first line (SARIF end column is exclusive).
        finding.end_line = finding.line
        finding.end_column = max(len(finding.source_line) + 1, finding.column + 1)


def front_matter_settings(template: Template):
    """Model, max_tokens and volume from the front matter, read the way `estimate` reads them
    (tokcli.prompts.prompt_settings knows the Prompty, Dotprompt and tokcli layouts)."""
    from tokcli.prompts import PromptSource, prompt_settings

    source = PromptSource(
        path=Path(template.path),
        kind=template.kind,
        front_matter=template.front_matter,
        body=template.prompt,
        body_line=1,
        key_lines=template.front_matter_lines,
    )
    return prompt_settings(source)


def _pricing(template: Template, settings: AuditSettings, registry, today) -> Pricing | None:
    front = front_matter_settings(template)
    template.max_tokens = front.max_tokens
    name, source_line = settings.model, None
    if name is None and front.model is not None:
        name, source_line = front.model, template.front_matter_lines.get("model", 1)
    name = name or settings.default_model
    if name is None:
        return None
    model = _find_model(registry, name, template.path, source_line)
    requests, per = settings.requests, settings.per
    if requests is None and front.requests is not None:
        requests, per = front.requests, front.per or "month"
    if requests is None:
        requests, per = settings.default_requests, settings.default_per
    return Pricing(model, today, requests_per_month(requests, per))


def _find_model(registry, name: str, path: str, line: int | None):
    found = registry.find(name)
    if found is None and "/" in name:  # Dotprompt style: googleai/gemini-2.5-flash
        found = registry.find(name.split("/", 1)[1])
    if found is not None:
        return found
    try:
        registry.get(name)
    except TokcliError as exc:
        if line is None:
            raise
        raise InputError(str(exc), path=path, line=line, field="model") from None
    raise AssertionError("unreachable")


def failed(findings: list[Finding], fail_on: Severity | None) -> list[Finding]:
    if fail_on is None:
        return []
    return [f for f in findings if f.severity >= fail_on]
