"""Console-script entry point. Kept free of Typer so `--help` and `--version` start fast."""

from __future__ import annotations

import sys

from tokcli.cli.registry import fast_path


def main() -> None:
    if fast_path(sys.argv[1:]):
        return
    from tokcli.cli.main import main as run

    run()
