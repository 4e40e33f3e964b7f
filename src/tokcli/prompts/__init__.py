"""Prompt files, every kind `estimate` and `audit` accept: find them, read them, render them.

    for path in iter_prompt_files(["prompts/"]):
        source = load_prompt(path)                 # kind, front matter, body, messages
        rendered = render_prompt(source, {"name": "Ada"})
        for name, line, column in template_variables(source): ...

Kinds: text, markdown, chat (JSON/YAML message lists), prompty, dotprompt, jinja, format.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Each name is loaded from its module on first use (PEP 562), so importing one part, such as
# the settings `estimate --input-tokens` needs, does not load YAML and the renderers.
_WHERE = {
    "PROMPT_SUFFIXES": "files",
    "SUFFIX_KINDS": "files",
    "iter_prompt_files": "files",
    "PromptSettings": "settings",
    "prompt_settings": "settings",
    "KINDS": "source",
    "PromptMessage": "source",
    "PromptSource": "source",
    "load_prompt": "source",
    "read_prompt_text": "source",
    "RenderedPrompt": "templating",
    "render_prompt": "templating",
    "sample_variables": "templating",
    "template_variables": "templating",
}

if TYPE_CHECKING:
    from tokcli.prompts.files import PROMPT_SUFFIXES, SUFFIX_KINDS, iter_prompt_files
    from tokcli.prompts.settings import PromptSettings, prompt_settings
    from tokcli.prompts.source import (
        KINDS,
        PromptMessage,
        PromptSource,
        load_prompt,
        read_prompt_text,
    )
    from tokcli.prompts.templating import (
        RenderedPrompt,
        render_prompt,
        sample_variables,
        template_variables,
    )


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "KINDS",
    "PROMPT_SUFFIXES",
    "SUFFIX_KINDS",
    "PromptMessage",
    "PromptSettings",
    "PromptSource",
    "RenderedPrompt",
    "iter_prompt_files",
    "load_prompt",
    "prompt_settings",
    "read_prompt_text",
    "render_prompt",
    "sample_variables",
    "template_variables",
]
