"""Sentence segmentation for prompts: where an instruction starts and ends.

A newline ends a sentence (prompts are written line by line), unless the text is
hard-wrapped: a line without closing punctuation followed by one that starts in lower case
goes on. Inside a line a sentence ends at `.`, `!` or `?` followed by white space and then
something that is not lower case; never inside a number ("4.5", "section 1.2"), an
identifier ("os.path", "v2.1.0"), or after a common abbreviation ("e.g.", "i.e.", "etc.",
"Dr.") or an initial. List bullets, numbering and heading marks in front of a sentence are
not part of it.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "vs",
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "no",
        "nos",
        "fig",
        "figs",
        "sec",
        "approx",
        "incl",
        "cf",
        "al",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "corp",
        "dept",
        "est",
        "vol",
        "pp",
        "ch",
        "eq",
        "resp",
        "viz",
        "esp",
    ]
)
# A sentence end inside a line: punctuation, then white space, then a character that starts a
# sentence (not lower case).
_END = re.compile(r"[.!?]+(?=\s+[^\sa-z])")
_LEAD = re.compile(r"[ \t]*(?:(?:[-*+•>]|\d+[.)]|[a-zA-Z][.)](?=\s)|#+)[ \t]+)*")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence in `text`, leading list marks and white space excluded."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in _join_wrapped(text).split("\n"):
        lead = _LEAD.match(line)
        start = lead.end() if lead else 0
        for end in _ends(line, start):
            _add(spans, line, offset, start, end)
            start = end
            while start < len(line) and line[start].isspace():
                start += 1
        _add(spans, line, offset, start, len(line))
        offset += len(line) + 1
    return spans


# A hard-wrapped sentence goes on when a line ends without closing punctuation and the next
# line starts with a lower-case letter (not a list item, heading or tag).
_CONTINUED = re.compile(r"(?<=[^\s.!?:;])\n(?=[ \t]*[a-z])")


def _join_wrapped(text: str) -> str:
    """The text with each wrapped line break as a space: same length, same offsets."""
    return _CONTINUED.sub(" ", text) if "\n" in text else text


def _ends(line: str, start: int):
    for match in _END.finditer(line, start):
        if match.group() == "." and _abbreviation(line, match.start()):
            continue
        yield match.end()


def _abbreviation(line: str, dot: int) -> bool:
    word = _LAST_WORD.search(line, 0, dot)
    if word is None:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in ABBREVIATIONS or len(token) == 1


def _add(spans, line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end]
    stripped = piece.rstrip()
    if stripped.strip():
        spans.append((offset + start, offset + start + len(stripped)))
