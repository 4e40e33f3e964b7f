"""tokcli: FinOps for LLM spend from the command line.

The package is library first: `tokcli.pricing`, `tokcli.cost`, `tokcli.tokens` and
`tokcli.store` are plain Python; `tokcli.cli` is a thin Typer layer on top of them.
"""

__version__ = "0.1.0"
