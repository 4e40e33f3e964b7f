"""Foundation benchmarks: CLI start-up and token-counting throughput.

Prints one JSON object per line:
- start-up of `tokcli --version`, `tokcli --help`, `tokcli pricing show MODEL` (median wall time
  over N runs) and its ratio to `python -c pass`;
- token counting of a 50 MB text: `tokcli tokens FILE -m gpt-5` end to end, and the counting call
  in-process, each as a throughput ratio to bare tiktoken (`encode_ordinary`) on the same text.

Run: .venv/bin/python bench/bench_foundation.py [--runs 20] [--megabytes 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Users run byte-compiled code (pip compiles on install); don't let this shell's setting hide it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def tokcli_command() -> list[str]:
    script = Path(sys.executable).parent / "tokcli"
    return [str(script)] if script.exists() else [shutil.which("tokcli") or "tokcli"]


def median_wall(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, env=ENV, check=True)  # warm caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, env=ENV, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def startup(runs: int) -> None:
    baseline = median_wall([sys.executable, "-c", "pass"], runs)
    emit(benchmark="python -c pass", value=round(baseline * 1000, 1), unit="ms")
    cases = {
        "tokcli --version": ["--version"],
        "tokcli --help": ["--help"],
        "tokcli pricing show claude-sonnet-4-6": ["pricing", "show", "claude-sonnet-4-6"],
    }
    for name, args in cases.items():
        wall = median_wall([*tokcli_command(), *args], runs)
        emit(benchmark=name, value=round(wall * 1000, 1), unit="ms",
             ratio_to_python=round(wall / baseline, 2), target="< 150 ms",
             ok=wall < 0.150)  # fmt: skip


def sample_text(megabytes: int) -> str:
    rng = random.Random(42)
    words = ["the", "cost", "of", "tokens", "über", "数据", "🙂", "return x;", "\n", "1234", "it's",
             "<|endoftext|>", "HTTP/1.1", "naïve", "—", "  "]  # fmt: skip
    parts, size = [], 0
    while size < megabytes * 1_000_000:
        chunk = " ".join(rng.choice(words) for _ in range(1000))
        parts.append(chunk)
        size += len(chunk.encode())
    return "".join(parts)


def tokens(megabytes: int) -> None:
    import tiktoken

    from tokcli.tokens import count_tokens, get_encoding

    text = sample_text(megabytes)
    get_encoding("o200k_base")  # make sure the offline file is in tiktoken's cache
    encoding = tiktoken.get_encoding("o200k_base")

    start = time.perf_counter()
    bare = len(encoding.encode_ordinary(text))
    bare_s = time.perf_counter() - start
    start = time.perf_counter()
    ours = count_tokens(text, "gpt-5", "openai").tokens
    ours_s = time.perf_counter() - start
    assert ours == bare, (ours, bare)
    emit(benchmark=f"token counting in-process, {megabytes} MB", value=round(bare_s / ours_s, 3),
         unit="throughput ratio to bare tiktoken", target=">= 0.90", ok=bare_s / ours_s >= 0.9,
         tokens=bare, bare_seconds=round(bare_s, 2), tokcli_seconds=round(ours_s, 2))  # fmt: skip

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.txt"
        path.write_text(text, encoding="utf-8")
        bare_cmd = [sys.executable, "-c", "import sys, tiktoken; e = tiktoken.get_encoding("
                    "'o200k_base'); print(len(e.encode_ordinary(open(sys.argv[1], "
                    "encoding='utf-8').read())))", str(path)]  # fmt: skip
        ours_cmd = [*tokcli_command(), "tokens", str(path), "-m", "gpt-5", "--format", "json"]
        bare_wall = median_wall(bare_cmd, 3)
        ours_wall = median_wall(ours_cmd, 3)
        counted = json.loads(subprocess.run(ours_cmd, capture_output=True, text=True,
                                            env=ENV).stdout)["tokens"]  # fmt: skip
        assert counted == bare
        emit(benchmark=f"tokcli tokens end to end, {megabytes} MB",
             value=round(bare_wall / ours_wall, 3), unit="throughput ratio to bare tiktoken",
             target=">= 0.90", ok=bare_wall / ours_wall >= 0.9,
             megabytes_per_second=round(megabytes / ours_wall, 2),
             bare_seconds=round(bare_wall, 2), tokcli_seconds=round(ours_wall, 2))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    startup(args.runs)
    tokens(args.megabytes)


if __name__ == "__main__":
    main()
