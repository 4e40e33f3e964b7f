"""Run the emulator by hand: `python -m tests.emulator --port 8765` (from the repository root).

Then point tokcli at it:
    export OPENAI_BASE_URL=http://127.0.0.1:8765/v1 ANTHROPIC_BASE_URL=http://127.0.0.1:8765
    export OPENAI_API_KEY=<printed key> ANTHROPIC_API_KEY=<printed key>
"""

from __future__ import annotations

import argparse
import time

from . import ANTHROPIC_KEY, OPENAI_KEY, Emulator, Outcome


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--outcome", default="complete", choices=["complete", "expire", "token_limit"]
    )
    parser.add_argument("--polls", type=int, default=1, help="retrieves spent in_progress")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds added to each request")
    options = parser.parse_args()
    emulator = Emulator(delay=options.delay)
    emulator.outcome = Outcome(kind=options.outcome, polls_in_progress=options.polls)
    emulator.start(options.port)
    print(f"emulator on {emulator.base_url}")
    print(f"  OPENAI_BASE_URL={emulator.openai_url} OPENAI_API_KEY={OPENAI_KEY}")
    print(f"  ANTHROPIC_BASE_URL={emulator.base_url} ANTHROPIC_API_KEY={ANTHROPIC_KEY}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
