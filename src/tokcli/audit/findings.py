"""What a rule reports: a Finding with a code, a location, a suggestion and, where known, a
price."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum


class Severity(IntEnum):
    """Ordered so that `finding.severity >= fail_on` decides the exit code."""

    info = 1
    warning = 2
    error = 3

    @classmethod
    def parse(cls, text: str, *, field: str) -> Severity:
        try:
            return cls[str(text).strip().lower()]
        except KeyError:
            from tokcli.errors import TokcliError

            names = ", ".join(s.name for s in cls)
            raise TokcliError(f"{field}: expected one of {names}, got {text!r}") from None


@dataclass(frozen=True)
class RuleInfo:
    code: str  # TC101
    name: str  # cache-breaking-prefix (public, kebab-case)
    severity: Severity  # default
    summary: str  # one line, for docs, SARIF and `--list-rules`
    # Off by default when the rule cannot reach 80% real findings on the labelled corpus of
    # real templates (tests/fixtures/audit/real); `--select` turns it on.
    default_enabled: bool = True


@dataclass
class Finding:
    """One problem in one template. Offsets are into the prompt text; the engine turns them into
    file line/column. `tokens` are the tokens affected per call; `monthly_cost` the money."""

    rule: RuleInfo
    message: str
    suggestion: str
    start: int  # offset in the prompt text
    end: int
    severity: Severity | None = None  # None: the rule's (or the configured) severity
    tokens: int | None = None
    monthly_cost: Decimal | None = None
    # Another finding already counts this money (summary totals must not add it twice).
    overlaps: str | None = None
    # Filled by the engine.
    path: str = ""
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    source_line: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def level(self) -> Severity:
        """The severity reported: the one the engine set, else the rule's."""
        return self.severity if self.severity is not None else self.rule.severity
