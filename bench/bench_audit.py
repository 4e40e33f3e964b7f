"""Benchmark for `tokcli audit` (issue 4): 10,000 templates of 4 KB audited in under 10 s.

Standalone script, not a test. Prints one JSON object per line per figure:
    {"benchmark": ..., "value": ..., "unit": ..., "target": ..., "ok": ...}

    .venv/bin/python bench/bench_audit.py [--templates 10000] [--size 4096]

Figures: the real command in a subprocess (start-up, discovery, reading, all rules, JSON
output): wall time, and the child's CPU time (user + system), which the load of a shared
machine disturbs less; optionally a second run with a model and volume (every finding priced).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOPICS = ["refunds", "shipping", "warranty", "accounts", "invoices", "returns", "security"]
VERBS = ["explain", "summarise", "check", "compare", "list", "describe", "verify"]
# Plain instructions without numbers, distinct from each other (no duplicate findings).
INSTRUCTIONS = [
    "Greet the customer by name when the ticket includes it.",
    "Quote the relevant policy paragraph before giving advice.",
    "Escalate legal threats to a human agent immediately.",
    "Never promise delivery dates that the carrier has not confirmed.",
    "Offer a refund only when the order qualifies under the returns policy.",
    "Ask for the order reference if the customer did not provide one.",
    "Keep a neutral tone even when the customer is upset.",
    "Link to the status page during a known outage.",
    "Do not share internal ticket notes with customers.",
    "Suggest the self-service portal for password resets.",
    "Confirm the shipping address before rerouting a parcel.",
    "Explain warranty exclusions in plain language.",
    "Mention accessibility options when a customer asks about the app.",
    "Summarise long threads before replying to the latest message.",
    "Flag suspected fraud to the risk team without telling the customer.",
    "Use metric units unless the customer writes in imperial units.",
    "Apologise once, then focus on the fix.",
    "Recommend the annual plan only to customers who ask about pricing.",
    "Check the invoice history before answering billing disputes.",
    "Point business customers to their account manager for contract changes.",
    "Translate replies into the language the customer used.",
    "Close the conversation by asking whether anything else is needed.",
    "Refuse requests to change another person's account details.",
    "Describe data export steps for customers leaving the service.",
]
NOUNS = ["policy", "order", "parcel", "contract", "ticket", "payment", "device", "account"]


def template_text(index: int, size: int) -> str:
    """A ~`size`-byte template; a third start with a variable (cache finding), all unique.
    Lines alternate between numbered clauses and plain instructions, some of which repeat
    nearly (duplicate-instruction findings), as real prompts do."""
    head = "Current time: {{ now }}\n" if index % 3 == 0 else ""
    lines = [f"You are the assistant for team {index} of the support desk."]
    n = 0
    while sum(len(line) + 1 for line in lines) + len(head) < size - 80:
        topic, verb, noun = TOPICS[n % 7], VERBS[(n + index) % 7], NOUNS[(n * 3 + index) % 8]
        if n % 2:  # half the lines carry no number, so the near-duplicate search hashes them
            lines.append(f"- {INSTRUCTIONS[(n // 2 + index) % len(INSTRUCTIONS)]}")
        else:
            lines.append(
                f"- Section {n}.{index}: {verb} the {noun} rules for {topic}, citing clause "
                f"{n * 7 + index} and the {noun} record number {index * 100 + n}."
            )
        n += 1
    lines.append("Answer in at most 5 sentences.")
    lines.append("Question: {{ question }}")
    return head + "\n".join(lines) + "\n"


def make_corpus(folder: Path, count: int, size: int) -> int:
    total = 0
    for index in range(count):
        text = template_text(index, size)
        (folder / f"t{index:05d}.j2").write_text(text)
        total += len(text.encode())
    return total


def run_command(folder: Path, *extra: str) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds of the child, JSON document)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tokcli", "audit", str(folder), "--format", "json",
         "--fail-on", "never", *extra],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"audit failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, cpu, json.loads(proc.stdout)


def emit(name: str, value, unit: str, target: str, ok: bool, **extra) -> None:
    figure = {"benchmark": name, "value": value, "unit": unit, "target": target, "ok": ok}
    print(json.dumps({**figure, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument(
        "--with-model", action="store_true", help="also time a run that prices every finding"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tokcli-bench-audit-") as tmp:
        folder = Path(tmp)
        total = make_corpus(folder, args.templates, args.size)
        label = f"{args.templates} templates x {args.size} B"
        wall, cpu, doc = run_command(folder)
        emit(
            f"audit command wall time, {label}", round(wall, 2), "s", "< 10", wall < 10,
            findings=doc["summary"]["findings"], megabytes=round(total / 1e6, 1),
            files=doc["summary"]["files"], load_average=round(load, 2),
        )  # fmt: skip
        emit(f"audit command CPU time, {label}", round(cpu, 2), "s", "< 10", cpu < 10)
        per_template = cpu / args.templates * 1000
        emit("audit CPU per template", round(per_template, 2), "ms", "< 1", per_template < 1)
        if args.with_model:
            extra = ("-m", "claude-sonnet-4-6", "-n", "1000", "--per", "day")
            wall, cpu, doc = run_command(folder, *extra)
            emit(
                f"audit command with model and volume (CPU), {label}", round(cpu, 2), "s",
                "< 10", cpu < 10, wall=round(wall, 2), findings=doc["summary"]["findings"],
                monthly_cost=doc["summary"]["monthly_cost"],
            )  # fmt: skip


if __name__ == "__main__":
    main()
