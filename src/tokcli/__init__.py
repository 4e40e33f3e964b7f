"""tokcli: FinOps for LLM spend, from the command line and as a library.

    import tokcli
    tokcli.price("gpt-5", tokcli.Usage(input_tokens=1000, output_tokens=100))
    tokcli.import_files(["export.csv"], store="usage.db")
    tokcli.report("usage.db", by=["team"])

The names below (see `tokcli.api`) are the public, typed library API, under semantic versioning
from 0.2 on. They are loaded on first use, so `import tokcli` loads neither Typer nor rich, and
the command line's `tokcli --version` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_API = {
    "CostBreakdown": "tokcli.cost",
    "Usage": "tokcli.cost",
    "TokenCount": "tokcli.tokens",
    "TokcliError": "tokcli.errors",
    "InputError": "tokcli.errors",
    "UnknownModelError": "tokcli.errors",
    "ImportResult": "tokcli.api",
    "context": "tokcli.api",
    "count_tokens": "tokcli.api",
    "estimate_prompt": "tokcli.api",
    "import_files": "tokcli.api",
    "open_store": "tokcli.api",
    "price": "tokcli.api",
    "registry": "tokcli.api",
    "report": "tokcli.api",
}

__all__ = [  # noqa: RUF022 (grouped as _API)
    "__version__",
    "CostBreakdown",
    "Usage",
    "TokenCount",
    "TokcliError",
    "InputError",
    "UnknownModelError",
    "ImportResult",
    "context",
    "count_tokens",
    "estimate_prompt",
    "import_files",
    "open_store",
    "price",
    "registry",
    "report",
]

if TYPE_CHECKING:  # what type checkers and IDEs see
    from tokcli.api import (
        ImportResult,
        context,
        count_tokens,
        estimate_prompt,
        import_files,
        open_store,
        price,
        registry,
        report,
    )
    from tokcli.cost import CostBreakdown, Usage
    from tokcli.errors import InputError, TokcliError, UnknownModelError
    from tokcli.tokens import TokenCount


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'tokcli' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
