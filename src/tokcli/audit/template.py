"""Read one prompt file into the text the rules see, keeping a map back to file positions.

A template is parsed, never rendered or executed. Text kinds (plain, markdown, Jinja2,
.prompty, .prompt, str.format) are the file body after optional YAML front matter; chat files
(JSON/YAML messages) are their message contents in order, joined by blank lines.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tokcli.errors import InputError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".prompt", ".prompty", ".j2", ".jinja", ".jinja2"}
TEXT_SUFFIXES |= {".tmpl", ".tpl", ".mustache", ".hbs"}
CHAT_SUFFIXES = {".json", ".yaml", ".yml"}
PROMPT_SUFFIXES = TEXT_SUFFIXES | CHAT_SUFFIXES
ALWAYS_FRONT_MATTER = {".prompt", ".prompty"}
# Template syntax by suffix (as tokcli.prompts reads them); other suffixes: detected.
SYNTAX_BY_SUFFIX = {".tmpl": "format", ".tpl": "format"}
SYNTAX_BY_SUFFIX |= dict.fromkeys(
    (".j2", ".jinja", ".jinja2", ".prompty", ".prompt", ".hbs", ".mustache"), "jinja"
)


class NotAPrompt(Exception):
    """A JSON/YAML file that holds no chat messages: skipped when found by walking a folder."""


@dataclass
class Template:
    path: str
    raw: str  # the whole file
    kind: str  # text | chat
    prompt: str  # what the model receives (before rendering)
    front_matter: dict[str, Any] = field(default_factory=dict)
    front_matter_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> line
    # (prompt offset, raw offset) pairs, sorted: prompt[p:] starts at raw[r:].
    anchors: list[tuple[int, int]] = field(default_factory=list)
    max_tokens: int | None = None  # from the front matter, once read
    syntax: str = "auto"  # jinja | format | auto (see scan.scan)
    # Chat files: (role, start, end) of each message's text in `prompt`.
    message_spans: list[tuple[str, int, int]] = field(default_factory=list)

    @cached_property
    def _raw_line_starts(self) -> list[int]:
        """Offsets where lines start; built only when a finding needs a position."""
        starts = [0]
        index = self.raw.find("\n")
        while index != -1:
            starts.append(index + 1)
            index = self.raw.find("\n", index + 1)
        return starts

    @cached_property
    def raw_lines(self) -> list[str]:
        return self.raw.splitlines()

    @cached_property
    def _anchor_keys(self) -> list[int]:
        return [prompt_offset for prompt_offset, _ in self.anchors]

    def raw_offset(self, prompt_offset: int) -> int:
        index = bisect.bisect_right(self._anchor_keys, prompt_offset) - 1
        if index < 0:
            return 0
        prompt_start, raw_start = self.anchors[index]
        return min(raw_start + (prompt_offset - prompt_start), len(self.raw))

    def position(self, prompt_offset: int) -> tuple[int, int]:
        """1-based (line, column) in the file of an offset in the prompt text."""
        return self.raw_position(self.raw_offset(prompt_offset))

    def raw_position(self, raw_offset: int) -> tuple[int, int]:
        line_index = bisect.bisect_right(self._raw_line_starts, raw_offset) - 1
        return line_index + 1, raw_offset - self._raw_line_starts[line_index] + 1


def read_text(path: Path, label: str) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", path=label) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=label) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=label) from None
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=label, line=line) from None


def load_template(path: Path, label: str | None = None, text: str | None = None) -> Template:
    label = label or str(path)
    raw = read_text(path, label) if text is None else text
    suffix = path.suffix.lower()
    if suffix == ".py":
        return _python_template(label, raw)
    if suffix in CHAT_SUFFIXES:
        return _chat_template(label, raw, suffix)
    return _text_template(label, raw, suffix)


def _text_template(label: str, raw: str, suffix: str) -> Template:
    front, lines, body_start = _split_front_matter(label, raw, required=False)
    if suffix in ALWAYS_FRONT_MATTER and body_start == 0 and raw.startswith("---"):
        raise InputError("front matter is not closed by a line `---`", path=label, line=1)
    prompt = raw[body_start:]
    template = Template(label, raw, "text", prompt, front, lines, [(0, body_start)])
    template.syntax = declared_syntax(front) or SYNTAX_BY_SUFFIX.get(suffix, "auto")
    return template


# Declared template formats (Prompty `template`, LangChain/promptflow `template_format`,
# Semantic Kernel `template_format`) -> how audit reads the braces.
DECLARED_SYNTAX = {
    "f-string": "format",
    "fstring": "format",
    "format": "format",
    "python": "format",
    "jinja": "jinja",
    "jinja2": "jinja",
    "mustache": "jinja",
    "handlebars": "jinja",
    "semantic-kernel": "jinja",
    "liquid": "jinja",
}


def declared_syntax(front: dict) -> str | None:
    """The template syntax the front matter declares, if any."""
    declared = front.get("template_format") or front.get("template")
    if isinstance(declared, dict):  # Prompty v2: template: {format: {kind: jinja2}}
        declared = declared.get("format")
        if isinstance(declared, dict):
            declared = declared.get("kind") or declared.get("type")
    if isinstance(declared, str):
        return DECLARED_SYNTAX.get(declared.strip().lower())
    return None


# A Python file is audited only when it talks to an LLM client.
CLIENT_HINTS = ("openai", "anthropic", "litellm", "langchain")


def _python_template(label: str, raw: str) -> Template:
    """Python source, read by the code-prompt rule with `ast` (never run)."""
    if not any(hint in raw for hint in CLIENT_HINTS):
        raise NotAPrompt(label)
    return Template(label, raw, "python", raw, anchors=[(0, 0)])


def _split_front_matter(label: str, raw: str, *, required: bool):
    """(front matter dict, key -> line, offset of the body). No front matter: ({}, {}, 0)."""
    if not raw.startswith("---\n"):
        return {}, {}, 0
    end = raw.find("\n---", 3)
    while end != -1 and raw[end + 4 : end + 5] not in ("\n", ""):
        end = raw.find("\n---", end + 4)
    if raw.startswith("---\n---") and raw[7:8] in ("\n", ""):
        end = 3  # an empty front matter: `---` then `---` (valid Prompty)
    if end == -1:
        return {}, {}, 0
    block = raw[4 : end + 1]
    data = _parse_yaml(label, block, first_line=2)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return {}, {}, 0  # a markdown rule, not front matter
    body_start = end + 4
    if raw[body_start : body_start + 1] == "\n":
        body_start += 1
    return data, _key_lines(block, first_line=2), body_start


def _key_lines(block: str, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(block.split("\n"), start=first_line):
        if line and not line[0].isspace() and ":" in line and not line.startswith("#"):
            lines.setdefault(line.split(":", 1)[0].strip().strip("'\""), number)
    return lines


def _parse_yaml(label: str, text: str, first_line: int = 1):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", path=label, line=line) from None


def _chat_template(label: str, raw: str, suffix: str) -> Template:
    if suffix == ".json":
        import json

        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"invalid JSON: {exc.msg}", path=label, line=exc.lineno, column=exc.colno
            ) from None
        except RecursionError:
            raise InputError("invalid JSON: nested too deeply", path=label) from None
    else:
        data = _parse_yaml(label, raw)
    messages, meta = _messages_of(data)
    if messages is None and _prompt_template_file(data):
        return _declared_template(label, raw, data)
    if messages is None:
        raise NotAPrompt(label)
    contents = [_message_text(label, index, message) for index, message in enumerate(messages)]
    prompt = "\n\n".join(contents)
    anchors = _anchor_lines(raw, contents)
    lines = _key_lines(raw, 1) if suffix != ".json" else {}
    template = Template(label, raw, "chat", prompt, meta, lines, anchors)
    offset = 0
    for message, content in zip(messages, contents, strict=True):
        template.message_spans.append((str(message["role"]), offset, offset + len(content)))
        offset += len(content) + 2
    return template


def _prompt_template_file(data) -> bool:
    """Semantic Kernel (and LangChain hub) YAML/JSON: the prompt is a `template` string."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("template"), str)
        and bool(data.get("template_format") or data.get("input_variables") is not None)
    )


def _declared_template(label: str, raw: str, data: dict) -> Template:
    """The `template` string of a prompt file, read with the syntax it declares; positions map
    back to the file line by line (YAML block scalars keep each line's text)."""
    prompt = data["template"]
    meta = {k: v for k, v in data.items() if k != "template"}
    template = Template(label, raw, "text", prompt, meta, {}, _anchor_lines(raw, [prompt]))
    template.syntax = declared_syntax({"template_format": data.get("template_format")}) or "auto"
    settings = data.get("execution_settings")
    if isinstance(settings, dict):  # SK: max_tokens in execution_settings.<service>
        for service in settings.values():
            if isinstance(service, dict) and service.get("max_tokens") is not None:
                template.max_tokens = service["max_tokens"]
    return template


def _messages_of(data) -> tuple[list | None, dict]:
    if isinstance(data, list) and data and all(_is_message(m) for m in data):
        return data, {}
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        messages = data["messages"]
        if all(_is_message(m) for m in messages):
            return messages, {k: v for k, v in data.items() if k != "messages"}
    return None, {}


def _is_message(item) -> bool:
    return isinstance(item, dict) and "role" in item and "content" in item


def _message_text(label: str, index: int, message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        texts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "\n".join(t for t in texts if isinstance(t, str))
    if content is None:
        return ""
    raise InputError(
        "message content must be text or a list of parts",
        path=label,
        field=f"messages[{index}].content",
    )


def _anchor_lines(raw: str, contents: list[str]) -> list[tuple[int, int]]:
    """Find each content line in the file (verbatim in YAML blocks, mostly verbatim in JSON
    strings), in order. A line not found maps to the last place found."""
    anchors: list[tuple[int, int]] = [(0, 0)]
    prompt_offset = 0
    cursor = 0
    for content in contents:
        for line in content.split("\n"):
            probe = line.strip()
            if probe:
                found = raw.find(probe, cursor)
                if found != -1:
                    lead = len(line) - len(line.lstrip())
                    anchors.append((prompt_offset + lead, found))
                    cursor = found + len(probe)
                else:  # escaped in the file (quotes, backslashes): point at the last match
                    anchors.append((prompt_offset, cursor))
            prompt_offset += len(line) + 1
        prompt_offset += 1  # the blank line between messages
    return anchors
