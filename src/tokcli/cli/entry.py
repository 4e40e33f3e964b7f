"""Console-script entry point. Kept free of Typer so `--help` and `--version` start fast."""

from __future__ import annotations

import atexit
import gc
import sys

from tokcli.cli.registry import fast_path


def main() -> None:
    if fast_path(sys.argv[1:]):
        return
    # Start-up (issue 17): importing Typer and the CLI allocates a few hundred thousand objects
    # that live as long as the process, and the cyclic collector would walk them again and
    # again (a tenth of `tokcli pricing show` under cachegrind): import with it paused, then
    # freeze what was imported so later collections skip it. The commands' own garbage is
    # collected as usual. At exit, freezing again spares the final full collection over
    # objects the operating system is about to reclaim anyway.
    gc.disable()
    try:
        from tokcli.cli.main import main as run

        gc.freeze()
    finally:
        gc.enable()
    atexit.register(gc.freeze)
    run()
