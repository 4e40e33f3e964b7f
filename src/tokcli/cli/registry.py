"""The command registry and the root help, importable without Typer.

`tokcli --help` and `tokcli --version` are answered from here before Typer (~90 ms of imports)
is loaded; every other command goes through Typer.
"""

from __future__ import annotations

import sys

# name -> (module defining `app`, one-line summary shown by `tokcli --help`)
COMMANDS: dict[str, tuple[str, str]] = {
    "estimate": ("tokcli.cli.estimate", "Price a prompt, template or workload; gate CI on cost."),
    "audit": ("tokcli.cli.audit", "Lint prompt templates for cache-breaking and costly patterns."),
    "import": ("tokcli.cli.import_", "Load billing and usage exports into the usage store."),
    "export": ("tokcli.cli.export", "Write the usage store as FOCUS CSV."),
    "report": ("tokcli.cli.report", "Spend by team, feature, model and day; forecasts, anomalies."),
    "budget": ("tokcli.cli.budget", "Check budgets from the config; exit 1 when one is over."),
    "batch": ("tokcli.cli.batch", "Submit, poll and collect provider batch jobs safely from cron."),
    "advise": ("tokcli.cli.advise", "Ranked, priced recommendations from the usage in the store."),
    "tco": ("tokcli.cli.tco", "Build-vs-buy breakeven: API vs neocloud vs self-hosted GPUs."),
    "pricing": ("tokcli.cli.pricing", "List, show, validate and override model prices."),
    "tokens": ("tokcli.cli.tokens", "Count the tokens of a file or stdin, exactly where possible."),
    "store": ("tokcli.cli.store", "Inspect the local usage store."),
    "init": ("tokcli.cli.init", "Write a commented starter tokcli.toml."),
    "completion": (
        "tokcli.cli.completion",
        "Print the shell completion script for bash, zsh, fish.",
    ),
}

ABOUT = (
    "FinOps for LLM spend: see, predict and cut what you pay for tokens.\n\n"
    "Exit codes: 0 success; 1 a check you asked for failed (budget, cost regression,\n"
    "audit findings); 2 usage or input error (bad option, unknown model, bad file);\n"
    "3 and 4 from `batch poll`: a job still running, a job failed."
)


def module_exists(module: str) -> bool:
    import importlib.util  # here: a command that runs imports its module without asking

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


COMPLETE_VAR = "_TOKCLI_COMPLETE"


def available() -> list[str]:
    """Registered commands whose module is installed, in registry order."""
    return [name for name, (module, _) in COMMANDS.items() if module_exists(module)]


def root_help() -> str:
    names = available()
    width = max(len(n) for n in names) if names else 0
    lines = ["Usage: tokcli [OPTIONS] COMMAND [ARGS]...", ""]
    for paragraph in ABOUT.split("\n\n"):
        lines += [paragraph, ""]
    if names:
        lines.append("Commands:")
        lines += [f"  {n.ljust(width)}  {COMMANDS[n][1]}" for n in names]
        lines.append("")
    lines += [
        "Options:",
        "  --version   Print the version and exit.",
        "  --debug     On an internal error, print the traceback (also TOKCLI_DEBUG=1).",
        "  -h, --help  Show this message and exit.",
        "",
        "Run `tokcli COMMAND --help` for a command's options.",
    ]
    return "\n".join(lines) + "\n"


def fast_path(argv: list[str]) -> bool:
    """Answer `tokcli`, `tokcli --help` and `tokcli --version` without Typer. True if answered."""
    import os

    if COMPLETE_VAR in os.environ:  # a shell asking for completions: Typer answers those
        return False
    if argv in ([], ["--help"], ["-h"]):
        sys.stdout.write(root_help())
        return True
    if argv == ["--version"]:
        from tokcli import __version__

        sys.stdout.write(f"tokcli {__version__}\n")
        return True
    return False
