"""`tokcli import`: billing and usage exports into the usage store.

One module per format (`openai.py`, `anthropic.py`, `focus.py`, ...), each exposing `Format`
objects; `detect.py` recognises a file from its content; `pipeline.py` writes one input in one
transaction. Format modules are imported only when first needed.
"""

from __future__ import annotations

import importlib

from tokcli.errors import OptionError
from tokcli.importers.base import Format

# --source name -> (module, attribute). The order is the order of `tokcli import --help`.
FORMATS: dict[str, tuple[str, str]] = {
    "openai-usage": ("tokcli.importers.openai", "USAGE_JSON"),
    "openai-costs": ("tokcli.importers.openai", "COSTS_JSON"),
    "openai-usage-csv": ("tokcli.importers.openai", "USAGE_CSV"),
    "openai-costs-csv": ("tokcli.importers.openai", "COSTS_CSV"),
    "anthropic-usage": ("tokcli.importers.anthropic", "USAGE_JSON"),
    "anthropic-costs": ("tokcli.importers.anthropic", "COSTS_JSON"),
    "anthropic-usage-csv": ("tokcli.importers.anthropic", "USAGE_CSV"),
    "anthropic-costs-csv": ("tokcli.importers.anthropic", "COSTS_CSV"),
    "gcp-billing": ("tokcli.importers.gcp", "FORMAT"),
    "aws-cur": ("tokcli.importers.aws", "FORMAT"),
    "azure-cost": ("tokcli.importers.azure", "FORMAT"),
    "focus": ("tokcli.importers.focus", "FORMAT"),
    "litellm": ("tokcli.importers.litellm", "FORMAT"),
    "otlp": ("tokcli.importers.otel", "FORMAT"),
    "claude-code": ("tokcli.importers.claude_code", "FORMAT"),
    "mapped": ("tokcli.importers.mapped", "FORMAT"),
}


def get_format(name: str) -> Format:
    entry = FORMATS.get(name)
    if entry is None:
        raise OptionError(
            "{source}: unknown format {name!r}; known: {known}", name=name, known=", ".join(FORMATS)
        )
    module = importlib.import_module(entry[0])
    fmt = getattr(module, entry[1])
    if not isinstance(fmt, Format):  # FORMATS names a module attribute that is no Format
        raise TypeError(f"{entry[0]}.{entry[1]} is not an importer Format")
    return fmt
