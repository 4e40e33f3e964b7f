"""Rendering prompt templates with sample values, and finding the variables they use.

Templates are rendered by Jinja2's SandboxedEnvironment with StrictUndefined: a template can
read the values it is given, but it cannot reach Python internals, and a variable it uses but
nobody defined is an error naming the file and line, never a silent empty string. Jinja2 is
imported on first use only (start-up time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tokcli.errors import InputError, TokcliError
from tokcli.prompts.renderers import (
    GIVE_IT,
    ROLE_SPLIT,
    RenderBudgetExceeded,
    RenderLimits,
    budget_error,
    is_semantic_kernel,
    jinja_environment,
    project_folder,
    render_handlebars,
    render_jinja_template,
    render_semantic_kernel,
    resolve_references,
    semantic_kernel_defaults,
)
from tokcli.prompts.source import PromptSource, split_prompty_messages

JINJA_SYNTAX = re.compile(r"\{\{|\{%|\{#")
# The first name in an expression: {{ user.name | upper }} -> user. {{{x}}} is Handlebars.
_EXPRESSION_NAME = re.compile(r"\{\{\{?-?\s*(?:[#/](?:if|unless|each|with)\s+)?([A-Za-z_]\w*)")
_STATEMENT_NAME = re.compile(
    r"\{%-?\s*(?:(?:if|elif)\s+(?:not\s+)?|for\s+[\w, ]+?\s+in\s+)([A-Za-z_]\w*)"
)
# A str.format / f-string placeholder: {name}, {name.attr}, {name!r}, {name:>10}; not {{ or }}.
FORMAT_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)((?:\.\w+|\[[^\]{}]*\])*)(![rsa])?(:[^{}]*)?\}")
_NOT_VARIABLES = frozenset(
    {
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
        "loop",
        "else",
        "role",
        "media",
        "this",
        "history",
        "section",
        "json",
        "not",
        "range",
        "super",
        "self",
        "caller",
        "varargs",
        "kwargs",
    }
)
# A template whose only syntax is {{ name }} is rendered without Jinja (compiling a template
# costs ~1 ms; a directory of a thousand prompts should not pay it for plain substitution).
_BARE_EXPRESSION = re.compile(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}")
_ROLE_SENTINEL = "\x00tokcli-role:{}\x00"
_ROLE_SPLIT = ROLE_SPLIT
_TEMPLATE_NAME = "<template>"


@dataclass(frozen=True)
class RenderedPrompt:
    messages: list[tuple[str, str]]  # (role, text)

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.messages)


SAMPLE_KEYS = ("default", "sample", "example")  # Prompty v1 default/sample, v2 example


def sample_variables(source: PromptSource) -> dict[str, Any]:
    """Sample inputs a prompt file carries: Prompty `inputs.*.default/sample/example` (v1
    mapping or v2 list of {name, example}), Prompty 2 `inputSchema.properties[].default`, and
    `sample:` (a mapping or `${file:sample.json}`), Dotprompt `input.default`, Semantic Kernel
    `config.json` and prompt YAML `input_variables[].default`, or a plain `vars:` /
    `variables:` / `sample:` mapping. `${file:...}` and `${env:...}` values are resolved."""
    meta = source.front_matter
    values: dict[str, Any] = dict(semantic_kernel_defaults(source.path))
    inputs = meta.get("inputs")
    if isinstance(inputs, dict):
        for name, spec in inputs.items():
            if isinstance(spec, dict):
                for key in SAMPLE_KEYS:
                    if key in spec:
                        values[name] = spec[key]
            elif spec is not None:
                values[name] = spec
    elif isinstance(inputs, list):
        for spec in inputs:
            if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                for key in SAMPLE_KEYS:
                    if key in spec:
                        values[spec["name"]] = spec[key]
    # Prompty 2: inputSchema.properties is a list of {name, kind, default}.
    schema = meta.get("inputSchema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for prop in properties if isinstance(properties, list) else []:
        if isinstance(prop, dict) and isinstance(prop.get("name"), str) and "default" in prop:
            values[prop["name"]] = prop["default"]
    # Semantic Kernel prompt YAML: input_variables is a list of {name, default}.
    declared = meta.get("input_variables")
    for item in declared if isinstance(declared, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and "default" in item:
            values[item["name"]] = item["default"]
    dotprompt_input = meta.get("input")
    if isinstance(dotprompt_input, dict) and isinstance(dotprompt_input.get("default"), dict):
        values.update(dotprompt_input["default"])
    base = source.path.parent
    for key in ("sample", "samples", "vars", "variables"):
        value = resolve_references(meta.get(key), base)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = value[0]  # a list of samples: the first one
        if isinstance(value, dict):
            values.update(value)
    return resolve_references(values, base)


def render_prompt(
    source: PromptSource,
    variables: dict[str, Any] | None = None,
    *,
    limits: RenderLimits | None = None,
) -> RenderedPrompt:
    """The prompt as the model would receive it, rendered with sample values merged with
    `variables` (which win), within `limits` (default: RenderLimits.from_environment())."""
    limits = limits or RenderLimits.from_environment()
    try:
        return _render(source, {**sample_variables(source), **(variables or {})}, limits)
    except RenderBudgetExceeded as exc:
        raise budget_error(source, limits, str(exc)) from None
    except RecursionError:
        raise InputError("template nests too deeply to render", path=source.label) from None


def _render(source: PromptSource, values: dict, limits: RenderLimits) -> RenderedPrompt:
    source.limits = limits
    kind = source.kind
    if kind == "chat":
        return RenderedPrompt(
            [
                (m.role, _render_text(source, m.content, m.line, values))
                for m in source.messages or []
            ]
        )
    if kind == "format":
        return RenderedPrompt([("user", _render_format(source, values))])
    if kind == "prompty":
        rendered = _render_jinja(source, source.body, source.body_line, values)
        messages = split_prompty_messages(rendered, 1)
        return RenderedPrompt([(m.role, m.content) for m in messages])
    if kind == "dotprompt":
        rendered = render_handlebars(source, source.body, values, limits)
        return RenderedPrompt(_split_rendered_roles(rendered))
    if kind == "jinja":
        return RenderedPrompt([("user", _render_declared(source, values, limits))])
    return RenderedPrompt([("user", _render_text(source, source.body, source.body_line, values))])


def _render_declared(source: PromptSource, values: dict, limits: RenderLimits) -> str:
    """A Jinja-kind template, in the syntax its file declares: Semantic Kernel prompt YAML says
    `template_format: semantic-kernel` (its default: `{{$name}}`) or `handlebars`."""
    declared = str(source.front_matter.get("template_format") or "").lower()
    body = source.body
    if declared == "semantic-kernel" or (not declared and is_semantic_kernel(body)):
        return render_semantic_kernel(source, body, values)
    if declared == "handlebars":
        rendered = render_handlebars(source, body, values, limits, kernel_functions=True)
        return "".join(text for _, text in _split_rendered_roles(rendered))
    return _render_jinja(source, body, source.body_line, values)


def template_variables(source: PromptSource) -> list[tuple[str, int, int]]:
    """(name, line, column) of every variable placeholder in the file, 1-based, in file order:
    `{{ var }}` and `{% if var %}` everywhere, and `{var}` except in Jinja-family templates
    (where single braces are dict literals)."""
    body, first_line = source.body, source.body_line
    found: list[tuple[int, str]] = []
    semantic_kernel = source.kind != "format" and is_semantic_kernel(body)
    if semantic_kernel:  # {{$name}} and {{plugin.function $name}}: the $names are variables
        for block in re.finditer(r"\{\{[^{}]*\}\}", body):
            for variable in re.finditer(r"\$([A-Za-z_]\w*)", block.group()):
                found.append((block.start() + variable.start(1), variable.group(1)))
    # In str.format templates {{ is an escaped brace, not an expression.
    plain = source.kind == "format" or semantic_kernel
    jinja_patterns = () if plain else (_EXPRESSION_NAME, _STATEMENT_NAME)
    for pattern in jinja_patterns:
        for match in pattern.finditer(body):
            if match.group(1) not in _NOT_VARIABLES:
                found.append((match.start(1), match.group(1)))
    if source.kind not in ("jinja", "prompty", "dotprompt"):
        for match in FORMAT_FIELD.finditer(body):
            found.append((match.start(1), match.group(1)))
        # Plain text and markdown: braces in shown code and `{{Name: ...}}` placeholders are
        # documentation, not variables.
        shown = shown_code(body)
        found = [
            (offset, name)
            for offset, name in found
            if not any(start <= offset < end for start, end in shown)
            and not _DOC_PLACEHOLDER.match(body, offset + len(name))
        ]
    result = []
    for offset, name in sorted(set(found)):
        line_start = body.rfind("\n", 0, offset) + 1
        line = first_line + body.count("\n", 0, offset)
        result.append((name, line, offset - line_start + 1))
    return result


def _split_rendered_roles(rendered: str) -> list[tuple[str, str]]:
    parts = _ROLE_SPLIT.split(rendered)
    messages = [("user", parts[0])]
    messages += [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]
    return [(role, text) for role, text in messages if text.strip()]


def _render_text(source: PromptSource, text: str, first_line: int, values: dict) -> str:
    """Plain text is rendered only when it holds template syntax."""
    if is_semantic_kernel(text):
        return render_semantic_kernel(source, text, values)
    if JINJA_SYNTAX.search(_DOC_TAG.sub(" ", _outside_code(text))):
        return _render_jinja(source, text, first_line, values)
    return text  # template syntax only inside shown code: documentation, sent as written


# Code shown to the model in plain text and markdown: fences and inline code spans.
_CODE_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_DOC_PLACEHOLDER = re.compile(r"\s*:(?!:)")  # {{Model: gpt-4o}}: a name followed by a colon
# Whole documentation tags: {{Model: gpt-4o}}, {{.Name}} (Go), {{ ... }}.
_DOC_TAG = re.compile(r"\{\{\s*(?:[A-Za-z_]\w*\s*:(?!:)|\.|\.\.\.)[^{}]*\}\}")


def shown_code(text: str) -> list[tuple[int, int]]:
    if "`" not in text and "~~~" not in text:
        return []
    spans = [m.span() for m in _CODE_FENCE.finditer(text)]
    return spans + [
        m.span()
        for m in _INLINE_CODE.finditer(text)
        if not any(start <= m.start() < end for start, end in spans)
    ]


def _outside_code(text: str) -> str:
    spans = shown_code(text)
    if not spans:
        return text
    pieces, cursor = [], 0
    for start, end in sorted(spans):
        pieces.append(text[cursor:start])
        cursor = max(cursor, end)
    return " ".join([*pieces, text[cursor:]])


def _render_format(source: PromptSource, values: dict) -> str:
    """str.format-style placeholders, substituted by name only: no attribute or index access,
    so a template cannot reach into the objects it is given."""
    body = source.body

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            line = source.body_line + body.count("\n", 0, match.start())
            raise InputError(
                f"undefined template variable {name!r}",
                path=source.label,
                line=line,
                hint=GIVE_IT,
            )
        return str(values[name])

    text = FORMAT_FIELD.sub(substitute, body)
    return text.replace("{{", "{").replace("}}", "}")


def _render_jinja(source: PromptSource, text: str, first_line: int, values: dict) -> str:
    simple = _render_bare_names(source, text, first_line, values)
    if simple is not None:
        return simple
    import jinja2

    limits = getattr(source, "limits", None) or RenderLimits.from_environment()
    environment = jinja_environment(project_folder(source.path), limits)
    try:
        template = environment.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"template syntax error: {exc.message}",
            path=source.label,
            line=first_line + (exc.lineno or 1) - 1,
        ) from None
    try:
        return render_jinja_template(template, values, limits)
    except (TokcliError, RenderBudgetExceeded):
        raise
    except jinja2.TemplateNotFound as exc:
        raise InputError(
            f"included template not found in the template's folder: {exc.name}",
            path=source.label,
            line=first_line + _template_line(exc) - 1,
        ) from None
    except jinja2.UndefinedError as exc:
        line = first_line + _template_line(exc) - 1
        raise InputError(
            f"undefined template variable: {exc.message}",
            path=source.label,
            line=line,
            hint=GIVE_IT,
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        line = first_line + _template_line(exc) - 1
        raise InputError(
            f"unsafe template operation refused: {exc}", path=source.label, line=line
        ) from None
    except Exception as exc:  # anything a template does wrong is the template's error
        line = first_line + _template_line(exc) - 1
        raise InputError(
            f"template error: {type(exc).__name__}: {exc}", path=source.label, line=line
        ) from None


def _render_bare_names(source: PromptSource, text: str, first_line: int, values: dict):
    """What Jinja would render for a template made only of text and {{ name }} expressions
    (str() of each value, newlines normalised), or None when the template has more syntax."""
    if "{%" in text or "{#" in text or text.count("{{") != len(_BARE_EXPRESSION.findall(text)):
        return None
    text = text.replace("\r\n", "\n")

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            line = first_line + text.count("\n", 0, match.start())
            raise InputError(
                f"undefined template variable: '{name}' is undefined",
                path=source.label,
                line=line,
                hint=GIVE_IT,
            )
        return str(values[name])

    return _BARE_EXPRESSION.sub(substitute, text)


def _template_line(exc: BaseException) -> int:
    """The template line an exception came from: Jinja rewrites tracebacks so that template
    frames carry the template's name and line."""
    line = 1
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
