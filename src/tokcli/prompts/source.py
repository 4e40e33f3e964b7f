"""Reading one prompt file into a `PromptSource`: its kind, front matter, body and messages.

Nothing here renders a template; see `templating.py`. Every error names the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tokcli.errors import InputError
from tokcli.prompts.files import SUFFIX_KINDS
from tokcli.textio import read_text_file

KINDS = ("text", "markdown", "chat", "prompty", "dotprompt", "jinja", "format")
_FENCE = re.compile(r"^---[ \t]*$")
_FENCE_END = re.compile(r"^(---|\.\.\.)[ \t]*$")
# Prompty: a line holding only a role name and a colon starts that role's message.
_PROMPTY_ROLE = re.compile(
    r"^[ \t]*(system|user|assistant|developer|tool|function)[ \t]*:[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Dotprompt (Handlebars): {{role "system"}} starts a message.
DOTPROMPT_ROLE = re.compile(r"\{\{\s*role\s+[\"'](\w+)[\"']\s*\}\}")
_JSON_ROLE_KEY = re.compile(r'(?<!\\)"role"\s*:')
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class PromptMessage:
    role: str
    content: str
    line: int  # 1-based line in the file where the message (its content) starts


@dataclass
class PromptSource:
    path: Path
    kind: str
    front_matter: dict[str, Any]
    body: str  # the template source after any front matter
    body_line: int  # 1-based line of the file where `body` starts
    messages: list[PromptMessage] | None = None
    # For chat files: how many message contents were not text (images, audio); not counted.
    skipped_parts: int = 0
    key_lines: dict[str, int] = field(default_factory=dict)  # front-matter key -> file line
    limits: Any = None  # RenderLimits while rendering (set by render_prompt)

    @property
    def label(self) -> str:
        return str(self.path)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


def read_prompt_text(path: Path) -> str:
    """A prompt file as text: UTF-8 with or without BOM; unreadable files are InputErrors."""
    return read_text_file(path)


def load_prompt(path: Path, text: str | None = None) -> PromptSource:
    """Read a prompt file (or `text` standing for it, e.g. stdin or a git blob)."""
    path = Path(path)
    if text is None:
        text = read_prompt_text(path)
    text = text.removeprefix("\ufeff")
    kind = SUFFIX_KINDS.get(path.suffix.lower(), "text")
    if kind == "chat":
        return _load_structured(path, text)
    front_matter, key_lines, body, body_line = split_front_matter(path, text)
    kind = _kind_from_front_matter(kind, front_matter)
    source = PromptSource(path, kind, front_matter, body, body_line, key_lines=key_lines)
    if kind == "prompty":
        source.messages = split_prompty_messages(body, body_line)
    elif kind == "dotprompt" and DOTPROMPT_ROLE.search(body):
        source.messages = _split_dotprompt_messages(body, body_line)
    return source


def split_front_matter(path: Path, text: str) -> tuple[dict, dict[str, int], str, int]:
    """(front matter, key -> file line, body, body line). No front matter: ({}, {}, text, 1)."""
    lines = text.splitlines(keepends=True)
    if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
        return {}, {}, text, 1
    for index in range(1, len(lines)):
        if _FENCE_END.match(lines[index].rstrip("\r\n")):
            block = "".join(lines[1:index])
            data, key_lines = parse_yaml_mapping(
                path, block, first_line=2, last_line=max(index, 2), what="front matter"
            )
            return data, key_lines, "".join(lines[index + 1 :]), index + 2
    raise InputError("front matter opened with --- is never closed", path=str(path), line=1)


def parse_yaml_mapping(
    path: Path, text: str, *, first_line: int, last_line: int | None = None, what: str
) -> tuple[dict, dict[str, int]]:
    """A YAML mapping (empty text -> {}) and the file line of each top-level key."""
    try:
        node = yaml.compose(text, Loader=_YAML_LOADER)
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        if last_line is not None:  # an unclosed bracket is reported at the end of the block
            line = min(line, last_line)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML in {what}: {problem}", path=str(path), line=line) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise InputError(
            f"{what} must be a mapping (key: value), not {type(data).__name__}",
            path=str(path),
            line=first_line,
        )
    key_lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = first_line + key_node.start_mark.line
    return data, key_lines


def _kind_from_front_matter(kind: str, front_matter: dict) -> str:
    """Front matter may name the template syntax of a plain-text or markdown file."""
    if kind not in ("text", "markdown", "format", "jinja"):
        return kind
    declared = front_matter.get("template_format") or front_matter.get("template")
    if declared in ("f-string", "format", "python"):
        return "format"
    if declared in ("jinja", "jinja2"):
        return "jinja"
    return kind


def split_prompty_messages(body: str, body_line: int) -> list[PromptMessage]:
    """Prompty bodies are `system:` / `user:` / `assistant:` sections; text before the first
    role line belongs to the system message, as Prompty parses it."""
    messages = []
    role, start, content_line = "system", 0, body_line
    for match in _PROMPTY_ROLE.finditer(body):
        messages.append(PromptMessage(role, body[start : match.start()], content_line))
        role = match.group(1).lower()
        start = match.end() + 1 if body[match.end() : match.end() + 1] == "\n" else match.end()
        content_line = body_line + body.count("\n", 0, start)
    messages.append(PromptMessage(role, body[start:], content_line))
    return [m for m in messages if m.content.strip()]


def _split_dotprompt_messages(body: str, body_line: int) -> list[PromptMessage]:
    messages = []
    role, start = "user", 0  # Dotprompt: text before any {{role}} is a user message
    for match in DOTPROMPT_ROLE.finditer(body):
        messages.append(
            PromptMessage(role, body[start : match.start()], body_line + body.count("\n", 0, start))
        )
        role, start = match.group(1).lower(), match.end()
    messages.append(PromptMessage(role, body[start:], body_line + body.count("\n", 0, start)))
    return [m for m in messages if m.content.strip()]


# -- chat message files (JSON / YAML) ------------------------------------------------------------


def _load_structured(path: Path, text: str) -> PromptSource:
    if path.suffix.lower() == ".json":
        document, lines = _parse_json(path, text)
    else:
        document, lines = _parse_yaml_document(path, text)
    if isinstance(document, list):
        if document and not any(isinstance(item, dict) and "role" in item for item in document):
            raise NotAPromptFile(  # a list of tools, samples or records: no message at all
                "expected a list of chat messages [{role, content}]: no item has a role",
                path=str(path),
                line=1,
            )
        return _chat_source(path, text, {}, document, lines, {})
    if isinstance(document, dict):
        key_lines = lines.get("__keys__", {})
        if isinstance(document.get("messages"), list):
            settings = {k: v for k, v in document.items() if k not in ("messages", "system")}
            messages = list(document["messages"])
            if isinstance(document.get("system"), str | list):  # Anthropic: system beside messages
                messages.insert(0, {"role": "system", "content": document["system"]})
                lines["messages"] = [key_lines.get("system", 1), *lines.get("messages", [])]
            return _chat_source(path, text, settings, messages, lines, key_lines)
        for key in ("template", "prompt"):
            if isinstance(document.get(key), str):
                settings = {k: v for k, v in document.items() if k != key}
                body_line = key_lines.get(key, 1)
                return PromptSource(
                    path, "jinja", settings, document[key], body_line, key_lines=key_lines
                )
    raise NotAPromptFile(
        "expected a list of chat messages [{role, content}], a mapping with `messages`, "
        "or a mapping with a `template` string",
        path=str(path),
        line=1,
    )


class NotAPromptFile(InputError):
    """A JSON/YAML file that holds no prompt at all (a Semantic Kernel config.json, a flow
    definition): an error when named, skipped when found by walking a folder."""


def _parse_json(path: Path, text: str) -> tuple[Any, dict]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:  # 100,000 nested brackets: refused, not a traceback
        raise InputError("invalid JSON: nested too deeply", path=str(path)) from None
    # json keeps no positions: the n-th "role" key in the text starts the n-th message.
    role_lines = [text.count("\n", 0, m.start()) + 1 for m in _JSON_ROLE_KEY.finditer(text)]
    key_lines = {}
    if isinstance(document, dict):
        for key in document:
            found = re.search(r'(?<!\\)"' + re.escape(json.dumps(key)[1:-1]) + r'"\s*:', text)
            if found:
                key_lines[key] = text.count("\n", 0, found.start()) + 1
    return document, {"messages": role_lines, "__keys__": key_lines}


def _parse_yaml_document(path: Path, text: str) -> tuple[Any, dict]:
    try:
        node = yaml.compose(text, Loader=_YAML_LOADER)
        document = yaml.load(text, Loader=_YAML_LOADER)
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", path=str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    lines: dict[str, Any] = {"messages": [], "__keys__": {}}
    messages_node = node
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            lines["__keys__"][str(key_node.value)] = key_node.start_mark.line + 1
            if key_node.value == "messages":
                messages_node = value_node
    if isinstance(messages_node, yaml.SequenceNode):
        lines["messages"] = [item.start_mark.line + 1 for item in messages_node.value]
    return document, lines


def _chat_source(path, text, settings, items, lines, key_lines) -> PromptSource:
    messages = []
    skipped = 0
    message_lines = lines.get("messages", [])
    for index, item in enumerate(items):
        line = message_lines[index] if index < len(message_lines) else 1
        if not isinstance(item, dict):
            raise InputError(
                "a message must be a mapping with role and content",
                path=str(path),
                line=line,
                field=f"messages[{index}]",
            )
        role = item.get("role")
        if not isinstance(role, str) or not role:
            raise InputError(
                "missing or non-text role",
                path=str(path),
                line=line,
                field=f"messages[{index}].role",
            )
        content, skipped_here = _message_text(path, item.get("content"), line, index)
        skipped += skipped_here
        messages.append(PromptMessage(role, content, line))
    return PromptSource(path, "chat", settings, text, 1, messages, skipped, key_lines)


def _message_text(path: Path, content: Any, line: int, index: int) -> tuple[str, int]:
    """Text of a message's content: a string, or the text of its content parts."""
    if content is None:
        return "", 0  # e.g. an assistant turn that only calls tools
    if isinstance(content, str):
        return content, 0
    if isinstance(content, list):
        texts, skipped = [], 0
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
            else:
                skipped += 1  # image, audio, file parts: not text tokens
        return "\n".join(texts), skipped
    raise InputError(
        "content must be text or a list of content parts",
        path=str(path),
        line=line,
        field=f"messages[{index}].content",
    )
