"""`tokcli import`: billing and usage exports into the usage store.

One module per format (`openai.py`, `anthropic.py`, `focus.py`, ...), each exposing `Format`
objects; `detect.py` recognises a file from its content; `pipeline.py` writes one input in one
transaction. Format modules are imported only when first needed.
"""

from __future__ import annotations

import importlib

from tokcli.errors import OptionError
from tokcli.importers.format import Format

# --source name -> (module, attribute). The order is the order of `tokcli import --help`.
FORMATS: dict[str, tuple[str, str]] = {
    "openai-usage": ("tokcli.importers.sources.openai", "USAGE_JSON"),
    "openai-costs": ("tokcli.importers.sources.openai", "COSTS_JSON"),
    "openai-usage-csv": ("tokcli.importers.sources.openai", "USAGE_CSV"),
    "openai-costs-csv": ("tokcli.importers.sources.openai", "COSTS_CSV"),
    "anthropic-usage": ("tokcli.importers.sources.anthropic", "USAGE_JSON"),
    "anthropic-costs": ("tokcli.importers.sources.anthropic", "COSTS_JSON"),
    "anthropic-usage-csv": ("tokcli.importers.sources.anthropic", "USAGE_CSV"),
    "anthropic-costs-csv": ("tokcli.importers.sources.anthropic", "COSTS_CSV"),
    "gcp-billing": ("tokcli.importers.sources.gcp", "FORMAT"),
    "aws-cur": ("tokcli.importers.sources.aws", "FORMAT"),
    "azure-cost": ("tokcli.importers.sources.azure", "FORMAT"),
    "focus": ("tokcli.importers.sources.focus", "FORMAT"),
    "litellm": ("tokcli.importers.sources.litellm", "FORMAT"),
    "otlp": ("tokcli.importers.sources.otel", "FORMAT"),
    "claude-code": ("tokcli.importers.sources.claude_code", "FORMAT"),
    "mapped": ("tokcli.importers.sources.mapped", "FORMAT"),
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
