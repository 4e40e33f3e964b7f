"""Finding few-shot example blocks in a prompt (shared by large-inline-examples and
duplicate-instruction, which must not count repeated example lines as repeated instructions)."""

from __future__ import annotations

import re

XML_BLOCK = re.compile(r"<(examples?)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
HEADING = re.compile(r"^(#{1,6})\s+(?:few[- ]shot\s+)?examples?\b.*$", re.IGNORECASE | re.MULTILINE)
ANY_HEADING = re.compile(r"^(#{1,6})\s", re.MULTILINE)
LABEL = re.compile(
    r"^(?:few[- ]shot )?(?:examples?(?: \d+)?|example \d+)\s*:?\s*$|^example \d+\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# A paragraph that continues an example block starts like an example line.
EXAMPLE_LINE = re.compile(
    r"^(?:\s|[-*>]|\d+[.)]|example\b|input|output|q\b|a\b|question|answer|user|assistant|human|"
    r"ai\b|customer|agent|text|label|review|sentiment|category|query|response|result|ticket|"
    r"email|message|<)",
    re.IGNORECASE,
)


def find_example_blocks(prompt: str) -> list[tuple[int, int]]:
    if "example" not in prompt.lower():  # every kind of block below names itself
        return []
    blocks = [m.span() for m in XML_BLOCK.finditer(prompt)]
    for match in HEADING.finditer(prompt):
        if _inside(match.start(), blocks):
            continue
        level = len(match.group(1))
        end = len(prompt)
        for heading in ANY_HEADING.finditer(prompt, match.end()):
            if len(heading.group(1)) <= level:
                end = heading.start()
                break
        blocks.append((match.start(), end))
    for match in LABEL.finditer(prompt):
        if not _inside(match.start(), blocks):
            blocks.append((match.start(), _paragraphs_end(prompt, match.end())))
    return merged(blocks)


def _paragraphs_end(prompt: str, start: int) -> int:
    """Extend over the paragraphs that look like example lines."""
    end = start
    for paragraph in re.finditer(r"(?:[^\n]+\n?)+", prompt[start:]):
        first_line = paragraph.group().lstrip("\n")
        continues = EXAMPLE_LINE.match(first_line) or LABEL.match(first_line)
        if paragraph.start() > 0 and (not continues or ANY_HEADING.match(first_line)):
            break
        end = start + paragraph.end()
    return end


# A line holding only a role name starts a turn in text templates: Prompty `user:`, promptflow
# `# user:`, Semantic Kernel-style `Human:` headers are not counted (they carry text).
ROLE_LINE = re.compile(
    r"^[ \t]*#?[ \t]*(system|user|assistant|developer)[ \t]*:[ \t]*$", re.IGNORECASE | re.MULTILINE
)


def role_turns(prompt: str) -> list[tuple[str, int, int]]:
    """(role, start, end) of the turns of a text template written with role lines."""
    if ":" not in prompt:
        return []
    marks = list(ROLE_LINE.finditer(prompt))
    turns = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(prompt)
        turns.append((mark.group(1).lower(), mark.end(), end))
    return turns


def chat_example_block(spans: list[tuple[str, int, int]]) -> tuple[int, int] | None:
    """Few-shot turns in a chat file: the user/assistant pairs between the system message(s)
    and the final user message, as one block."""
    turns = [(role, start, end) for role, start, end in spans if role != "system"]
    if len(turns) < 3 or turns[-1][0] != "user":
        return None
    examples = turns[:-1]
    alternating = all(
        role == ("user" if index % 2 == 0 else "assistant")
        for index, (role, _, _) in enumerate(examples)
    )
    if not alternating or len(examples) % 2:
        return None
    return examples[0][1], examples[-1][2]


def _inside(offset: int, blocks: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in blocks)


def merged(blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(blocks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
