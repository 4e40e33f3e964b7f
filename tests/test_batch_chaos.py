"""Crash safety at random moments, not at named hooks: the real `python -m tokcli` is SIGKILLed
after a delay drawn from a seeded RNG, again and again, across submit, resume, poll and
results, for all three providers, while the emulator slows each request so kills land inside
remote steps as well as between them. Whatever the kills, at the end:

- one remote batch per part of the job (never a second one, never none);
- every request sent once, under the job's own ids, in input order;
- the results file has every line once, in input order;
- usage recorded once; no upload left behind.

Bounded for CI: TOKCLI_CHAOS_KILLS kills per provider (default 16), seed TOKCLI_CHAOS_SEED.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from emulator import Outcome
from emulator.samples import anthropic_line, gemini_line, openai_line, write_jsonl

KILLS = int(os.environ.get("TOKCLI_CHAOS_KILLS", "16"))
SEED = int(os.environ.get("TOKCLI_CHAOS_SEED", "20261128"))
LINES, PART_SIZE = 6, 3  # two parts per job: more windows to land in
MAKE = {"openai": openai_line, "anthropic": anthropic_line, "gemini": gemini_line}


class Chaos:
    """Runs tokcli commands, killing some of them after a random delay."""

    def __init__(self, rng: random.Random, budget: int):
        self.rng, self.budget, self.kills = rng, budget, 0

    def run(self, *args: str) -> subprocess.CompletedProcess | None:
        """None when the run was killed; else the finished process."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokcli", *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        )  # fmt: skip
        if self.kills < self.budget and self.rng.random() < 0.8:
            try:
                proc.wait(timeout=self.rng.uniform(0.05, 0.6))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
                self.kills += 1
                return None
        out, err = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def until(self, accept, *args: str, limit: int = 60) -> subprocess.CompletedProcess:
        """Repeat a command (killed or not) until its exit code is accepted."""
        for _ in range(limit):
            done = self.run(*args)
            if done is not None and done.returncode in accept:
                return done
            if done is not None and done.returncode not in (0, 3):
                assert "Traceback" not in done.stderr, done.stderr
        raise AssertionError(f"{args} never finished: {done and done.stderr}")


def sent_ids(emu, provider: str) -> list[list[str]]:
    """The request ids of every remote batch, in the order they were sent."""
    if provider == "anthropic":
        return [[r["custom_id"] for r in b["requests"]] for b in emu.anthropic.batches.values()]
    if provider == "gemini":
        return [[key for key, _ in b["items"]] for b in emu.gemini.batches.values()]
    batches = []
    for batch in emu.openai.batches.values():
        path = emu.openai.files[batch["object"]["input_file_id"]]["path"]
        batches.append([json.loads(line)["custom_id"] for line in path.read_text().splitlines()])
    return batches


def leftover_uploads(emu, provider: str, used: set[str]) -> list[str]:
    if provider == "openai":
        files = [f for f, v in emu.openai.files.items() if v["object"]["purpose"] == "batch"]
    elif provider == "gemini":
        files = [f for f, v in emu.gemini.files.items() if v["object"]["source"] == "UPLOADED"]
    else:
        files = []
    return [f for f in files if f not in used]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
def test_random_kills_never_pay_twice_or_lose_a_request(provider, env, emu, tmp_path, monkeypatch):
    rng = random.Random(f"{SEED}-{provider}")
    if provider == "gemini":
        monkeypatch.setenv("TOKCLI_GEMINI_INLINE_MAX", "600")  # one part inline, one by file
    emu.delay = 0.04  # each request takes a while: kills land inside remote steps too
    emu.outcome = Outcome(polls_in_progress=1, polls_finalizing=1)
    lines = [MAKE[provider](i) for i in range(LINES)]
    if provider == "gemini":  # a longer first line: part 0 over the inline limit
        lines[0]["request"]["contents"][0]["parts"][0]["text"] += " padding" * 40
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    chaos = Chaos(rng, KILLS)
    started = time.monotonic()

    submit = ("batch", "submit", source, "-p", provider, "--max-requests", PART_SIZE,
              "--tag", "team=chaos", "--format", "json")  # fmt: skip
    chaos.until({0, 3}, *submit)  # re-submitting the same file finishes the same job
    chaos.until({0}, "batch", "resume")
    chaos.until({0}, "batch", "poll", "--all")
    out = tmp_path / "out.jsonl"
    listed = chaos.until({0}, "batch", "list", "--format", "json")
    (job,) = json.loads(listed.stdout)["jobs"]
    chaos.until({0}, "batch", "results", job["id"], "-o", out, "--format", "json")
    assert chaos.kills > 0, "no run was killed: the test proved nothing"

    # One remote batch per part, each holding that part's requests once, in input order.
    batches = sent_ids(emu, provider)
    expected = [[f"{job['id']}-{n}" for n in range(first, first + PART_SIZE)]
                for first in (1, 1 + PART_SIZE)]  # fmt: skip
    assert sorted(batches) == sorted(expected), (chaos.kills, batches)
    final = json.loads(chaos.until({0}, "batch", "status", job["id"], "--format", "json").stdout)
    assert [p["batch_id"] for p in final["job"]["parts"]] != [None, None]
    assert len({p["batch_id"] for p in final["job"]["parts"]}) == 2

    # Every line once, in input order, with the user's own ids.
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [w["custom_id"] for w in written] == [f"req-{i}" for i in range(LINES)]
    assert {w["status"] for w in written} == {"succeeded"}

    # Usage recorded once per remote batch, covering every request.
    rows = (
        sqlite3.connect(env["TOKCLI_STORE"])
        .execute("SELECT record_key, requests FROM usage")
        .fetchall()
    )
    assert len(rows) == 2 and sum(r[1] for r in rows) == LINES, rows
    used = {p["file_id"] for p in final["job"]["parts"] if p["file_id"]}
    assert leftover_uploads(emu, provider, used) == []
    # Bounded: a CI budget, not a timing assertion on tokcli.
    print(f"{provider}: {chaos.kills} kills in {time.monotonic() - started:.1f}s")
