"""TC001 unreadable-template and TC002 unknown-model: what audit could not check, reported as
findings so that every output format (SARIF, GitHub annotations, JSON, ...) carries them and
the run goes on over the other files. Like ruff's E902 io-error: they are not selectable away
with --select, only with --ignore."""

from __future__ import annotations

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Rule

UNREADABLE = RuleInfo(
    "TC001",
    "unreadable-template",
    Severity.error,
    "The file could not be read, parsed or priced; audit reports it and checks the other files.",
)
UNKNOWN_MODEL = RuleInfo(
    "TC002",
    "unknown-model",
    Severity.warning,
    "The model the template names is not in the pricing registry; its findings carry tokens "
    "but no money.",
)
DIAGNOSTIC_CODES = frozenset({UNREADABLE.code, UNKNOWN_MODEL.code})


def unreadable(message: str, line: int | None, column: int | None = None) -> Finding:
    finding = Finding(
        UNREADABLE,
        message,
        "Fix the file (or exclude it with --exclude / `exclude` in [audit] config).",
        0,
        0,
        severity=Severity.error,
    )
    finding.extra["at"] = (line or 1, column or 1)
    return finding


def unknown_model(name: str, suggestions: list[str], line: int | None) -> Finding:
    hint = f"; closest known ids: {', '.join(suggestions)}" if suggestions else ""
    finding = Finding(
        UNKNOWN_MODEL,
        f"unknown model {name!r}{hint}",
        "Use a model id from `tokcli pricing list`, or add the model with a --pricing file; "
        "until then this template's findings are not priced.",
        0,
        0,
        severity=Severity.warning,
    )
    finding.extra["at"] = (line or 1, 1)
    finding.extra["model"] = name
    return finding


def _never(ctx):  # diagnostics are made by the engine, not by looking at a template
    return ()


UNREADABLE_RULE = Rule(UNREADABLE, _never)
UNKNOWN_MODEL_RULE = Rule(UNKNOWN_MODEL, _never)
