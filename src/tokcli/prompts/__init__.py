"""Prompt files, every kind `estimate` and `audit` accept: find them, read them, render them.

    for path in iter_prompt_files(["prompts/"]):
        source = load_prompt(path)                 # kind, front matter, body, messages
        rendered = render_prompt(source, {"name": "Ada"})
        for name, line, column in template_variables(source): ...

Kinds: text, markdown, chat (JSON/YAML message lists), prompty, dotprompt, jinja, format.
"""

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
