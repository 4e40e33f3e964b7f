"""Inline suppression, written in the template's own comment syntax:

    {{ now }} {# tokcli: ignore[cache-breaking-prefix] #}      same line
    <!-- tokcli: ignore[TC201, duplicate-instruction] -->       a comment alone on its line
    # tokcli: ignore                                            covers the next line
    {# tokcli: ignore-file[unbounded-output] #}                 anywhere: the whole file

Rules are named by code or name; no brackets means every rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKER = re.compile(r"tokcli:\s*ignore(?P<file>-file)?(?:\[(?P<rules>[^\]]*)\])?", re.IGNORECASE)
# A line that holds nothing but a comment carrying the marker.
COMMENT_ONLY = re.compile(
    r"^\s*(?:\{#-?|<!--|#|//|\{\{!(?:--)?|;|--)\s*tokcli:\s*ignore[^\n]*$", re.IGNORECASE
)
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)  # line -> selectors
    whole_file: set[str] = field(default_factory=set)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, selector) not a rule

    def covers(self, line: int, code: str, name: str) -> bool:
        return _matches(self.whole_file, code, name) or _matches(
            self.by_line.get(line, set()), code, name
        )


def _matches(selectors: set[str], code: str, name: str) -> bool:
    return ALL in selectors or code.lower() in selectors or name in selectors


def parse_suppressions(raw: str) -> Suppressions:
    found = Suppressions()
    if "tokcli:" not in raw.lower():
        return found
    from tokcli.audit.rules import BY_CODE, BY_NAME

    known = {c.lower() for c in BY_CODE} | set(BY_NAME)
    for number, line in enumerate(raw.split("\n"), start=1):
        for match in MARKER.finditer(line):
            selectors = _selectors(match["rules"])
            found.unknown += [(number, s) for s in selectors if s != ALL and s not in known]
            if match["file"]:
                found.whole_file |= selectors
                continue
            found.by_line.setdefault(number, set()).update(selectors)
            if COMMENT_ONLY.match(line):
                found.by_line.setdefault(number + 1, set()).update(selectors)
    return found


def _selectors(text: str | None) -> set[str]:
    if text is None or not text.strip():
        return {ALL}
    return {s.strip().lower() for s in text.split(",") if s.strip()}
