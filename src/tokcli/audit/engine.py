"""Run the rules over files: discover, read, scan, check, locate, suppress, apply config."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.audit.costing import Pricing, TokenCounter, requests_per_month
from tokcli.audit.findings import Finding, Severity
from tokcli.audit.scan import scan
from tokcli.audit.settings import AuditSettings, path_matches
from tokcli.audit.suppression import parse_suppressions
from tokcli.audit.template import PROMPT_SUFFIXES, NotAPrompt, Template, load_template
from tokcli.errors import InputError, TokcliError

SKIPPED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox"}


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
    """(file, named explicitly?) for files, folders and globs, sorted, excluded ones removed."""
    found: dict[Path, bool] = {}
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for file in _walk(path):
                found.setdefault(file, False)
        elif path.exists():
            found[path] = True
        elif any(ch in item for ch in "*?["):
            import glob

            matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
            matches = [p for p in matches if p.is_file()]
            if not matches:
                raise InputError("the pattern matches no file", path=item)
            for file in matches:
                found.setdefault(file, True)
        else:
            raise InputError("no such file or folder", path=item)
    return [
        (p, explicit)
        for p, explicit in sorted(found.items(), key=lambda kv: kv[0].as_posix())
        if not any(path_matches(display_path(p, cwd), pattern) for pattern in exclude)
    ]


def _walk(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        files += [Path(root, n) for n in names if Path(n).suffix.lower() in PROMPT_SUFFIXES]
    return files


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


def _pricing(template: Template, settings: AuditSettings, registry, today) -> Pricing | None:
    front = template.front_matter
    name, source_line = settings.model, None
    from_front = _front_matter_model(front)
    if settings.model is None and from_front is not None:
        name, source_line = from_front, template.front_matter_lines.get("model")
    if name is None:
        return None
    model = _find_model(registry, name, template.path, source_line)
    requests, per = settings.requests, settings.per
    if requests is None and front.get("requests") is not None:
        requests = _front_int(front["requests"], template, "requests")
        per = str(front.get("per", "month"))
        if per not in ("day", "month"):
            raise InputError(
                f"expected day or month, got {per!r}",
                path=template.path,
                line=template.front_matter_lines.get("per"),
                field="per",
            )
    return Pricing(model, today, requests_per_month(requests, per))


def _front_matter_model(front: dict) -> str | None:
    value = front.get("model")
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # .prompty: model: {configuration: {model|azure_deployment}}
        config = value.get("configuration") if isinstance(value.get("configuration"), dict) else {}
        for candidate in (
            value.get("id"),
            value.get("name"),
            config.get("model"),
            config.get("azure_deployment"),
            config.get("name"),
        ):
            if isinstance(candidate, str):
                return candidate
    return None


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


def _front_int(value, template: Template, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(
            f"expected a whole number >= 0, got {value!r}",
            path=template.path,
            line=template.front_matter_lines.get(key),
            field=key,
        )
    return value


def failed(findings: list[Finding], fail_on: Severity | None) -> list[Finding]:
    if fail_on is None:
        return []
    return [f for f in findings if f.severity >= fail_on]
