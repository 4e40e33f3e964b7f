"""`tokcli import`: billing and usage exports into the usage store.

The import path runs one way, from a file to the store (tests/test_architecture.py keeps it so):

    input_files.py   opening inputs within limits: gzip/zip, encodings, CSV and JSON rows
    fields.py        parsing cell values: numbers, money, times, record keys (RowError)
    format.py        the contract every parser meets: `Format`, `Parsed`, `Options`
    normalise.py     what several formats share: service tiers, token kinds in meter names
    sources/         one parser per format (`openai.py`, `focus.py`, ...), exposing `Format`s
    pricer.py        canonical model ids and list cost for the parsed rows
    write.py         one input (or one multi-part set) into the store, in one transaction
    detect.py        recognising an input's format from its content
    part_sets.py     which inputs are the parts of one billing export
    parse_worker.py  parsing a large input in a second process while write.py writes it
    remote/          imports that fetch rows from a server (admin APIs, a LiteLLM database)
    job.py           an `ImportJob` over many inputs, and its summary document

Format modules are imported only when first needed.
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
