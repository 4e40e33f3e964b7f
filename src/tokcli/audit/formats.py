"""Audit results as data: the JSON document (the contract), SARIF 2.1.0, GitHub workflow
annotations, and the grouped text people read. Core code: writes to a stream it is given."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TextIO
from urllib.parse import quote as url_quote

from tokcli import __version__
from tokcli.audit.engine import AuditResult
from tokcli.audit.findings import Finding, Severity
from tokcli.money import ZERO, display, plain
from tokcli.sanitise import github_data, github_property

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {Severity.error: "error", Severity.warning: "warning", Severity.info: "note"}
GITHUB_LEVEL = {Severity.error: "error", Severity.warning: "warning", Severity.info: "notice"}
INFORMATION_URI = (
    "https://github.com/tokcli/tokcli#tokcli-audit-lint-prompt-templates-every-finding-priced"
)
# One stable page per rule (docs/rules/TC101.md); no fragment, so no second `#`.
RULE_DOCS_URI = "https://github.com/tokcli/tokcli/blob/main/docs/rules/{code}.md"


def finding_dict(finding: Finding) -> dict:
    return {
        "rule": finding.rule.code,
        "name": finding.rule.name,
        "severity": finding.level.name,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "message": finding.message,
        "suggestion": finding.suggestion,
        "tokens": finding.tokens,
        "monthly_cost": plain(finding.monthly_cost),
        "overlaps": finding.overlaps,
    }


def total_monthly_cost(findings: list[Finding]) -> Decimal | None:
    """Money at stake, each saving counted once (findings that overlap another are left out)."""
    priced = [f.monthly_cost for f in findings if f.monthly_cost is not None and not f.overlaps]
    return sum(priced, ZERO) if priced else None


def audit_document(result: AuditResult, fail_on: Severity | None, failed: bool) -> dict:
    by_severity = {s.name: 0 for s in sorted(Severity, reverse=True)}
    by_rule: dict[str, int] = {}
    for finding in result.findings:
        by_severity[finding.level.name] += 1
        by_rule[finding.rule.code] = by_rule.get(finding.rule.code, 0) + 1
    return {
        "version": 1,
        "findings": [finding_dict(f) for f in result.findings],
        "summary": {
            "files": len(result.files),
            "findings": len(result.findings),
            "suppressed": result.suppressed,
            "by_severity": by_severity,
            "by_rule": dict(sorted(by_rule.items())),
            "monthly_cost": plain(total_monthly_cost(result.findings)),
            "currency": "USD",
            "fail_on": fail_on.name if fail_on else "never",
            "failed": failed,
        },
        "files": [
            {
                "path": f.path,
                "model": f.model,
                "monthly_requests": f.monthly_requests,
                "token_method": f.token_method,
                "tokens_exact": f.exact,
            }
            for f in result.files
        ],
    }


# -- SARIF 2.1.0 --------------------------------------------------------------------------


def sarif_document(result: AuditResult) -> dict:
    from tokcli.audit.rules import RULES
    from tokcli.audit.rules.diagnostics import DIAGNOSTIC_CODES

    index = {rule.info.code: i for i, rule in enumerate(RULES)}
    occurrences: dict[str, int] = {}
    results = [
        _sarif_result(f, index[f.rule.code], _fingerprint(f, occurrences)) for f in result.findings
    ]
    notifications = [
        _sarif_notification(f) for f in result.findings if f.rule.code in DIAGNOSTIC_CODES
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tokcli",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_sarif_rule(rule.info) for rule in RULES],
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def _sarif_rule(info) -> dict:
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.summary},
        "helpUri": RULE_DOCS_URI.format(code=info.code),
        "help": {
            "text": f"{info.code} {info.name}: {info.summary} "
            f"See `tokcli audit --explain {info.code}`."
        },
        "defaultConfiguration": {"level": SARIF_LEVEL[info.severity]},
        "properties": {"tags": ["cost", "llm", "prompt"]},
    }


def _sarif_location(finding: Finding) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": url_quote(finding.path), "uriBaseId": "%SRCROOT%"},
            "region": {
                "startLine": finding.line,
                "startColumn": finding.column,
                "endLine": finding.end_line,
                "endColumn": finding.end_column,
            },
        }
    }


def _sarif_notification(finding: Finding) -> dict:
    """A file audit could not check, also as a tool execution notification."""
    return {
        "level": SARIF_LEVEL[finding.level],
        "message": {"text": f"{finding.path}: {finding.message}"},
        "locations": [_sarif_location(finding)],
        "descriptor": {"id": finding.rule.code},
    }


def _sarif_result(finding: Finding, rule_index: int, fingerprint: str) -> dict:
    properties = {"tokens": finding.tokens, "severity": finding.level.name}
    if finding.monthly_cost is not None:
        properties["monthlyCostUsd"] = plain(finding.monthly_cost)
    return {
        "ruleId": finding.rule.code,
        "ruleIndex": rule_index,
        "level": SARIF_LEVEL[finding.level],
        "message": {"text": f"{finding.message}. {finding.suggestion}"},
        "locations": [_sarif_location(finding)],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": properties,
    }


def _fingerprint(finding: Finding, occurrences: dict[str, int]) -> str:
    """Rule, file and the line's text (stable when lines move), plus which occurrence of that
    key this is in the file: two identical lines get two fingerprints, so GitHub keeps two
    alerts (the `:n` suffix is how CodeQL's own line hashes count repeats)."""
    import hashlib

    text = f"{finding.rule.code}:{finding.path}:{finding.source_line.strip()}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    occurrences[digest] = occurrences.get(digest, 0) + 1
    return f"{digest}:{occurrences[digest]}"


def write_sarif(result: AuditResult, stream: TextIO) -> None:
    stream.write(json.dumps(sarif_document(result), indent=2, ensure_ascii=False) + "\n")


# -- GitHub workflow annotations ------------------------------------------------------------


def write_github(result: AuditResult, stream: TextIO) -> None:
    for f in result.findings:
        props = (
            f"file={github_property(f.path)},line={f.line},col={f.column},"
            f"endLine={f.end_line},endColumn={f.end_column},"
            f"title={github_property(f'{f.rule.code} {f.rule.name}')}"
        )
        text = f"{f.message}{_cost_suffix(f)}. {f.suggestion}"
        stream.write(f"::{GITHUB_LEVEL[f.level]} {props}::{github_data(text)}\n")


def _cost_suffix(finding: Finding) -> str:
    if finding.monthly_cost is None:
        return ""
    return f" ({display(finding.monthly_cost)}/month)"


# -- text, grouped by file --------------------------------------------------------------------

COLORS = {Severity.error: "\x1b[31m", Severity.warning: "\x1b[33m", Severity.info: "\x1b[36m"}


def write_text(result: AuditResult, stream: TextIO, *, color: bool, summary: str) -> None:
    current = None
    for f in result.findings:
        if f.path != current:
            if current is not None:
                stream.write("\n")
            stream.write(_bold(f.path, color) + "\n")
            current = f.path
        level = f.level.name
        if color:
            level = f"{COLORS[f.level]}{level}\x1b[0m"
        cost = ""
        if f.monthly_cost is not None:
            cost = f"  {display(f.monthly_cost)}/month"
            cost += f" (included in {f.overlaps})" if f.overlaps else ""
        stream.write(f"  {f.line}:{f.column}  {level}  {f.rule.code} {f.rule.name}{cost}\n")
        stream.write(f"    {f.message}\n")
        stream.write(_excerpt(f))
        stream.write(f"    help: {f.suggestion}\n")
    if result.findings:
        stream.write("\n")
    stream.write(summary + "\n")


def _excerpt(f: Finding) -> str:
    number = str(f.line)
    gutter = " " * len(number)
    source = f.source_line.expandtabs(1)
    width = max(1, f.end_column - f.column)
    marks = " " * (f.column - 1) + "^" * min(width, max(1, len(source) - f.column + 1))
    return f"    {number} | {source}\n    {gutter} | {marks}\n"


def _bold(text: str, color: bool) -> str:
    return f"\x1b[1m{text}\x1b[0m" if color else text


def summary_line(result: AuditResult) -> str:
    files = len(result.files)
    if not result.findings:
        text = f"No findings in {files} file{'s' if files != 1 else ''}."
    else:
        counts = {s: 0 for s in Severity}
        for f in result.findings:
            counts[f.level] += 1
        parts = [
            f"{counts[s]} {s.name}{'s' if counts[s] != 1 and s.name != 'info' else ''}"
            for s in sorted(Severity, reverse=True)
            if counts[s]
        ]
        touched = len({f.path for f in result.findings})
        n = len(result.findings)
        text = (
            f"{n} finding{'s' if n != 1 else ''} ({', '.join(parts)}) in {touched} of {files} "
            f"file{'s' if files != 1 else ''}."
        )
        total = total_monthly_cost(result.findings)
        if total is not None:
            text += f" {display(total)}/month could be saved."
    if result.suppressed:
        text += f" {result.suppressed} suppressed."
    return text
