"""The template engines behind `render_prompt`, each with a time and size budget.

- Jinja2 (.j2, .prompty, text with Jinja tags): a SandboxedEnvironment that also refuses
  string/list multiplication and powers past the size budget, stops output past it, and gives
  `include`/`extends` the template's own folder, never a path outside the project root.
- Handlebars (Dotprompt .prompt): Google's own Python implementation (dotpromptz-handlebars),
  with Dotprompt's helpers (`role`, `json`, `history`, `section`, `media`, `ifEquals`,
  `unlessEquals`) and partials from `_name.prompt` files beside the template.
- Semantic Kernel (`{{$var}}`, `{{plugin.function $arg}}`): variables substituted; a function
  call sends its output, unknown before the call, so it renders as nothing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcli.errors import InputError, OptionError

ROLE_SENTINEL = "\x00tokcli-role:{}\x00"
ROLE_SPLIT = re.compile("\x00tokcli-role:(\\w+)\x00")
# Semantic Kernel: {{$name}} and {{plugin.function ...}} (not {{#...}} / {{/...}}: Handlebars).
SK_VARIABLE = re.compile(r"\{\{\s*\$([A-Za-z_]\w*)\s*\}\}")
SK_CALL = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)(?:\s+[^{}]*)?\}\}")
SK_SYNTAX = re.compile(r"\{\{\s*\$[A-Za-z_]")
PARTIAL = re.compile(r"\{\{>\s*([\w.-]+)")


CHARS_ENV, SECONDS_ENV = "TOKCLI_MAX_RENDERED_CHARS", "TOKCLI_MAX_RENDER_SECONDS"
CHARS_KEY, SECONDS_KEY = "templates.max_rendered_chars", "templates.max_render_seconds"
# How to fix an error, naming options as {option} (the command line shows its flags).
RAISE_HINT = OptionError(
    "raise with {max_rendered_chars} / {max_render_seconds}, TOKCLI_MAX_RENDERED_CHARS / "
    "TOKCLI_MAX_RENDER_SECONDS or [templates] max_rendered_chars / max_render_seconds)"
)
GIVE_IT = OptionError(" (give it in front matter or {vars})")
GIVE_IT_SK = OptionError(" (give it in config.json input_variables, front matter or {vars})")


@dataclass(frozen=True)
class RenderLimits:
    """How much a template may produce and for how long. Each limit comes from, first found:
    the command-line flag (--max-rendered-chars, --max-render-seconds), the environment
    (TOKCLI_MAX_RENDERED_CHARS, TOKCLI_MAX_RENDER_SECONDS), the config ([templates]
    max_rendered_chars, max_render_seconds), else the default below."""

    max_chars: int = 2_000_000
    seconds: float = 10.0

    @classmethod
    def from_environment(cls, environ=os.environ) -> RenderLimits:
        return cls.resolve(environ=environ)

    @classmethod
    def resolve(
        cls,
        *,
        chars_flag: int | None = None,
        seconds_flag: float | str | None = None,  # the flag's text, checked here
        environ=os.environ,
        config=None,
    ) -> RenderLimits:
        """Flag > environment > config > default. `config` is a tokcli Config (or None)."""
        default = cls()
        chars = _first_given(
            _checked(chars_flag, "{max_rendered_chars}", int),
            _checked(environ.get(CHARS_ENV), CHARS_ENV, int),
            _checked(config.get(CHARS_KEY) if config else None, f"config: {CHARS_KEY}", int),
            default.max_chars,
        )
        seconds = _first_given(
            _checked(seconds_flag, "{max_render_seconds}", float),
            _checked(environ.get(SECONDS_ENV), SECONDS_ENV, float),
            _checked(config.get(SECONDS_KEY) if config else None, f"config: {SECONDS_KEY}", float),
            default.seconds,
        )
        return cls(chars, seconds)


def _first_given(*values):
    return next(value for value in values if value is not None)


def _checked(raw, name: str, kind):
    """`raw` as a number > 0 (None when not given); anything else is an error naming `name`
    (an option as `{option}`: the command line shows its flag; else an environment variable or
    config key, as is)."""
    if raw is None:
        return None
    try:
        if isinstance(raw, bool) or (kind is int and isinstance(raw, float)):
            raise ValueError
        value = kind(raw)
    except (TypeError, ValueError):
        value = 0
    if not value > 0 or value == float("inf"):
        what = "a whole number" if kind is int else "a number"
        raise OptionError.at(name, f"expected {what} > 0, got {raw!r}")
    return value


class RenderBudgetExceeded(Exception):
    """A template would produce more text than the budget, or take longer."""


def budget_error(source, limits: RenderLimits, what: str) -> InputError:
    return InputError(
        f"template rendering stopped: {what} (limit: {limits.max_chars:,} characters, "
        f"{limits.seconds:g} s; ",
        path=source.label,
        hint=RAISE_HINT,
    )


@contextmanager
def deadline(seconds: float):
    """Raise RenderBudgetExceeded in this thread after `seconds` (POSIX main thread only;
    elsewhere the size budget still holds)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise RenderBudgetExceeded(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- Jinja ----------------------------------------------------------------------------------

_environments: dict[tuple[str | None, int], Any] = {}


def jinja_environment(folder: Path | None, limits: RenderLimits):
    """A sandboxed environment whose loader sees only `folder` (the template's own), cached."""
    key = (str(folder) if folder else None, limits.max_chars)
    if key not in _environments:
        _environments[key] = _make_environment(folder, limits)
    return _environments[key]


def _make_environment(folder: Path | None, limits: RenderLimits):
    from jinja2 import FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    class BudgetedSandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**", "+"])

        def call_binop(self, context, operator, left, right):
            _check_binop(operator, left, right, limits.max_chars)
            return super().call_binop(context, operator, left, right)

    # FileSystemLoader refuses `..` in template names: include/extends stay in the folder.
    loader = FileSystemLoader(str(folder)) if folder is not None else None
    return BudgetedSandbox(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, loader=loader
    )


def _check_binop(operator: str, left, right, max_chars: int) -> None:
    if operator == "*":
        for sequence, count in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(count, int)
                and len(sequence) * count > max_chars
            ):
                raise RenderBudgetExceeded(
                    f"`* {count:,}` would make {len(sequence) * count:,} items"
                )
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if right > 0 and abs(left) > 1 and abs(left).bit_length() * right > 8 * max_chars:
            raise RenderBudgetExceeded(f"`{left} ** {right}` is too large a number")
    elif (
        operator == "+"
        and isinstance(left, str | list)
        and isinstance(right, str | list)
        and len(left) + len(right) > max_chars
    ):
        raise RenderBudgetExceeded("a concatenation past the size budget")


def render_jinja_template(template, values: dict, limits: RenderLimits) -> str:
    """Render chunk by chunk, stopping as soon as the output passes the size budget."""
    pieces, size = [], 0
    with deadline(limits.seconds):
        for piece in template.generate(values):
            size += len(piece)
            if size > limits.max_chars:
                raise RenderBudgetExceeded(f"the output passed {limits.max_chars:,} characters")
            pieces.append(piece)
    return "".join(pieces)


def project_folder(path: Path, root: Path | None = None) -> Path | None:
    """The template's folder when it is inside the project root (the working folder), else
    None: include/extends never read outside the project."""
    root = (root or Path.cwd()).resolve()
    folder = Path(path).resolve().parent
    try:
        folder.relative_to(root)
    except ValueError:
        return None
    return folder


# -- Handlebars (Dotprompt) -------------------------------------------------------------------


# Semantic Kernel Handlebars calls a kernel function as a helper: {{Plugin-function arg}}.
SK_HANDLEBARS_CALL = re.compile(r"(?:\{\{|\()\s*([A-Za-z_]\w*[-.][\w.-]*\w)(?=[\s})])")


def render_handlebars(
    source, body: str, values: dict, limits: RenderLimits, *, kernel_functions: bool = False
) -> str:
    """Dotprompt's Handlebars, with role markers kept as sentinels for splitting.
    `kernel_functions` (Semantic Kernel): a `{{Plugin-function ...}}` call sends its output,
    unknown before the call, so it renders as nothing (as in SK's own prompt syntax)."""
    from dotpromptz_handlebars import Handlebars

    engine = Handlebars(escape_html=False, strict=False)
    if kernel_functions:
        for name in set(SK_HANDLEBARS_CALL.findall(body)):
            engine.register_helper(name, lambda args, options: "")
    engine.register_helper("role", lambda args, options: ROLE_SENTINEL.format(_first(args)))
    engine.register_helper("json", _json_helper)
    for name in ("history", "section", "media"):
        engine.register_helper(name, lambda args, options: "")
    engine.register_helper("ifEquals", _equals_helper(True))
    engine.register_helper("unlessEquals", _equals_helper(False))
    for name, text in dotprompt_partials(source).items():
        engine.register_partial(name, text)
    try:
        with deadline(limits.seconds):
            rendered = engine.compile(body)(values)
    except RenderBudgetExceeded:
        raise
    except RecursionError:
        raise InputError("template nests too deeply", path=source.label) from None
    except Exception as exc:  # the template's own error, whatever the engine raises
        raise InputError(
            f"template error: {exc}", path=source.label, line=source.body_line
        ) from None
    if len(rendered) > limits.max_chars:
        raise RenderBudgetExceeded(f"the output passed {limits.max_chars:,} characters")
    return rendered


def _first(args) -> str:
    return str(args[0]).lower() if args else "user"


def _json_helper(args, options):
    value = args[0] if args else None
    indent = options.hash.get("indent") if hasattr(options, "hash") else None
    return json.dumps(value, indent=indent, ensure_ascii=False, default=str)


def _equals_helper(when: bool):
    def helper(args, options):
        same = len(args) >= 2 and args[0] == args[1]
        return options.fn(options.context) if same == when else options.inverse(options.context)

    return helper


def dotprompt_partials(source) -> dict[str, str]:
    """`{{> name}}` partials: `_name.prompt` files beside the template (front matter dropped)."""
    folder = project_folder(source.path)
    if folder is None or "{{>" not in source.body:
        return {}
    partials = {}
    files = {p.stem[1:]: p for p in sorted(folder.glob("_*.prompt"))}  # Dotprompt: _name
    wanted = list(PARTIAL.findall(source.body))
    while wanted:  # partials used by the template and by its partials
        name = wanted.pop()
        if name in partials:
            continue
        path = files.get(name) or folder / f"{name}.prompt"  # else a sibling of that name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            text = text[text.find("\n", end + 1) + 1 :] if end != -1 else text
        partials[name] = text
        wanted += PARTIAL.findall(text)
    return partials


# -- Semantic Kernel ----------------------------------------------------------------------------


def is_semantic_kernel(text: str) -> bool:
    return SK_SYNTAX.search(text) is not None


def render_semantic_kernel(source, text: str, values: dict) -> str:
    folded = {str(key).lower(): value for key, value in values.items()}  # SK: case-insensitive

    def variable(match: re.Match) -> str:
        name = match.group(1)
        if name.lower() not in folded:
            line = source.body_line + text.count("\n", 0, match.start())
            raise InputError(
                f"undefined template variable {name!r}",
                path=source.label,
                line=line,
                hint=GIVE_IT_SK,
            )
        return str(folded[name.lower()])

    rendered = SK_VARIABLE.sub(variable, text)
    # {{plugin.function $arg}}: output unknown before the call, sent as nothing.
    return SK_CALL.sub("", rendered)


def semantic_kernel_defaults(path: Path) -> dict[str, Any]:
    """Sample values from a Semantic Kernel function's config.json beside skprompt.txt:
    `input_variables[].default` (v1) or `input.parameters[].defaultValue` (v0)."""
    config = Path(path).with_name("config.json")
    if Path(path).name != "skprompt.txt" or not config.is_file():
        return {}
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError):
        return {}
    values: dict[str, Any] = {}
    if not isinstance(data, dict):
        return values
    for item in data.get("input_variables") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            values[item["name"]] = item.get("default", "")
    legacy_input = data.get("input")
    legacy: dict[str, Any] = legacy_input if isinstance(legacy_input, dict) else {}
    for item in legacy.get("parameters") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            values.setdefault(item["name"], item.get("defaultValue", ""))
    return values


# -- ${file:...} and ${env:...} references (Prompty, promptflow) --------------------------------

REFERENCE = re.compile(r"^\$\{(file|env):([^}]*)\}$")


def resolve_references(value: Any, base: Path, environ=os.environ, depth: int = 0) -> Any:
    """Prompty/promptflow `${file:sample.json}` (JSON, YAML or text beside the template, never
    outside the project root) and `${env:NAME}` (the variable's value, or "" when it is not set:
    a sample does not need a secret)."""
    if depth > 20:
        return value
    if isinstance(value, dict):
        return {k: resolve_references(v, base, environ, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, base, environ, depth + 1) for v in value]
    if not isinstance(value, str):
        return value
    match = REFERENCE.match(value.strip())
    if match is None:
        return value
    kind, target = match.group(1), match.group(2).strip()
    if kind == "env":
        return environ.get(target.split(":", 1)[0], "")
    return _read_reference(base, target, value)


def _read_reference(base: Path, target: str, original: str):
    root = Path.cwd().resolve()
    path = (base / target).resolve()
    try:
        path.relative_to(root)
    except ValueError:
        return original  # outside the project: left as written
    if not path.is_file():
        return original
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return text
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    if path.suffix.lower() == ".jsonl":
        first = text.strip().splitlines()[:1]
        try:
            return json.loads(first[0]) if first else {}
        except (ValueError, RecursionError):
            return text
    return text
