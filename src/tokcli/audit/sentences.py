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
# A sentence end inside a line: punctuation followed by spaces and a character that starts a
# sentence (not lower case).
_END = re.compile(r"[.!?]+(?=[ \t]+[^\sa-z])")
_LEAD = re.compile(r"[ \t]*(?:(?:[-*+•>]|\d+[.)]|[a-zA-Z][.)](?=\s)|#+)[ \t]+)*")
# A hard-wrapped sentence goes on when a line ends without closing punctuation and the next
# line starts with a lower-case letter (not a list item, heading or tag). The pattern starts
# with the line break (a literal: fast to scan for); the character before it is checked apart.
_NEXT_LOWER = re.compile(r"\n(?=[ \t]*[a-z])")
_CLOSED = frozenset(" \t\r\n.!?:;")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of every sentence in `text`, leading list marks and white space excluded."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in _join_wrapped(text).split("\n"):
        lead = _LEAD.match(line)  # the pattern matches every line, if only the empty start
        start = lead.end() if lead else 0
        if ". " in line or "! " in line or "? " in line or "\t" in line:  # inner ends
            for match in _END.finditer(line, start):
                if match.group() == "." and _abbreviation(line, match.start()):
                    continue
                _add(spans, line, offset, start, match.end())
                start = match.end()
                while start < len(line) and line[start] in " \t":
                    start += 1
        _add(spans, line, offset, start, len(line))
        offset += len(line) + 1
    return spans


def _join_wrapped(text: str) -> str:
    """The text with each wrapped line break as a space: same length, same offsets."""
    if "\n" not in text:
        return text

    def join(match: re.Match) -> str:
        at = match.start()
        return " " if at > 0 and text[at - 1] not in _CLOSED else "\n"

    return _NEXT_LOWER.sub(join, text)


def _abbreviation(text: str, dot: int) -> bool:
    """Is the word before this full stop an abbreviation or an initial ("e.g", "Dr", "J")?"""
    begin = dot
    while begin > 0 and (text[begin - 1].isalpha() or text[begin - 1] == "."):
        begin -= 1
    token = text[begin:dot].lower().rstrip(".")
    return bool(token) and (token in ABBREVIATIONS or len(token) == 1)


def _add(spans, line: str, offset: int, start: int, end: int) -> None:
    piece = line[start:end].rstrip()
    if piece.strip():
        spans.append((offset + start, offset + start + len(piece)))
