"""The four ways people use tokcli, end to end, through the installed `tokcli` console script:
a terminal estimate, a CI gate, a cron batch cycle, and pipes into scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from emulator import Fault
from emulator.samples import batch_env, kill_when_hung, openai_line, write_jsonl

REPO = Path(__file__).resolve().parents[1]
TOKCLI = Path(sys.executable).parent / "tokcli"  # the installed console script


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def tokcli(*args, env=None, cwd=None, timeout=120) -> Done:
    proc = subprocess.run([str(TOKCLI), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout)  # fmt: skip
    return Done(proc.returncode, proc.stdout, proc.stderr)


def shell(command: str, env=None, cwd=None) -> Done:
    path = f"{TOKCLI.parent}{os.pathsep}{os.environ['PATH']}"
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {}), "PATH": path}, timeout=120)  # fmt: skip
    return Done(proc.returncode, proc.stdout, proc.stderr)


def test_the_console_script_is_installed():
    assert TOKCLI.exists(), "pip install the project first (the README's test command does)"


# -- 1. a terminal estimate across three models ------------------------------------------------


def test_terminal_estimate_across_three_models(tmp_path):
    prompt = tmp_path / "support.md"
    prompt.write_text("You are a support agent for ACME. Answer in three bullets.\n" * 40)
    done = tokcli("estimate", prompt, "-m", "claude-sonnet-4-6", "-m", "gpt-5-mini", "-m",
                  "gemini-2.5-flash", "--requests", "10000", "--per", "day")  # fmt: skip
    assert done.code == 0, done.err
    table = done.out.splitlines()
    ranked = [m for line in table for m in ("gpt-5-mini", "gemini-2.5-flash", "claude-sonnet-4-6")
              if line.startswith(str(prompt)) and m in line]  # fmt: skip
    assert ranked[-1] == "claude-sonnet-4-6"  # cheapest first, the dearest last
    assert "1.00x" in done.out and "\x1b[" not in done.out


# -- 2. a CI gate in a throwaway git repository, plus audit SARIF ------------------------------


def _git(repo: Path, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@x",
                        "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@x"})  # fmt: skip


PROMPT = """---
model: gpt-5-mini
max_tokens: 10
requests: 20000
per: day
---
You are the billing assistant of ACME. Explain invoices clearly and briefly.
{body}
Customer question: {{{{ question }}}}
"""


def test_ci_gate_fails_on_a_20_percent_growth_and_passes_without_change(tmp_path):
    repo = tmp_path / "repo"
    (repo / "prompts").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    line = "Refer to the invoice line items and the plan the customer is on.\n"
    body = line * 20
    prompt = repo / "prompts" / "billing.j2"
    prompt.write_text(PROMPT.format(body=body))
    (repo / "vars.yaml").write_text("question: Why was I charged twice?\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")

    unchanged = tokcli("estimate", "prompts/", "--vars", "vars.yaml", "--base-ref", "main",
                       "--fail-on-increase", "10", "--format", "markdown", cwd=repo)  # fmt: skip
    assert unchanged.code == 0, unchanged.err

    prompt.write_text(PROMPT.format(body=line * 25))  # the prompt grows by about 20%
    grown = tokcli("estimate", "prompts/", "--vars", "vars.yaml", "--base-ref", "main",
                   "--fail-on-increase", "10", "--format", "markdown", cwd=repo)  # fmt: skip
    assert grown.code == 1, grown.err
    assert "prompts/billing.j2" in grown.out and "%" in grown.out  # the PR comment body
    assert "|" in grown.out.splitlines()[2]  # a markdown table

    sarif = tokcli("audit", "prompts/", "--format", "sarif", "--fail-on", "never", cwd=repo)
    assert sarif.code in (0, 1), sarif.err
    document = json.loads(sarif.out)
    assert document["version"] == "2.1.0"
    assert document["runs"][0]["tool"]["driver"]["name"] == "tokcli"


# -- 3. a cron cycle against the batch emulator ------------------------------------------------


def test_cron_batch_cycle(emu, tmp_path):
    env = batch_env(emu, tmp_path / "store.db")
    source = write_jsonl(tmp_path / "nightly.jsonl", [openai_line(i) for i in range(4)])
    emu.faults.append(Fault("POST", r"/v1/batches", status="hang-after"))  # created, no answer
    crash = subprocess.Popen([str(TOKCLI), "batch", "submit", source, "-p", "openai", "--tag",
                              "team=search"], env={**os.environ, **env})  # fmt: skip
    kill_when_hung(crash, emu, 1)  # killed between create and recording
    resumed = tokcli("batch", "resume", "--format", "json", env=env)
    assert resumed.code == 0, resumed.err
    assert len(emu.openai.batches) == 1  # exactly one remote batch

    emu.delay = 1.5  # hold requests so the two polls overlap, even on a busy CI
    command = [str(TOKCLI), "batch", "poll", "--all", "--format", "json"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, **env}) for _ in range(2)]  # fmt: skip
    results = [p.communicate(timeout=60) for p in procs]
    documents = [json.loads(out) for out, _ in results]
    assert sorted(str(d["skipped"]) for d in documents) == ["None", "locked"]
    emu.delay = 0

    for _ in range(20):
        polled = tokcli("batch", "poll", "--all", "--format", "json", env=env)
        if polled.code != 3:
            break
    assert polled.code == 0, polled.err
    job_id = polled.json()["jobs"][0]["id"]
    out = tmp_path / "answers.jsonl"
    collected = tokcli("batch", "results", job_id, "-o", out, env=env)
    assert collected.code == 0, collected.err
    assert len(out.read_text().splitlines()) == 4

    report = tokcli("report", "--by", "team", "--format", "json", env=env)
    rows = {row["team"]: row for row in report.json()["rows"]}
    assert rows["search"]["requests"] == 4 and rows["search"]["billed_cost"] not in (None, "0")


# -- 4. pipes into scripts ---------------------------------------------------------------------


def test_pipes(tmp_path):
    env = {"TOKCLI_STORE": str(tmp_path / "store.db")}
    imported = tokcli("import", REPO / "examples" / "billing" / "openai_usage_2025-01.json",
                      "--format", "json", env=env)  # fmt: skip
    assert imported.code == 0, imported.err
    report = shell('tokcli report --format json | python3 -c "import json,sys; '
                   "d = json.load(sys.stdin); print(d['version'])\"", env=env)  # fmt: skip
    assert report.code == 0 and report.out.strip() == "1", report.err
    head = shell("tokcli estimate --input-tokens 1000 --output-tokens 100 -m gpt-5 -m o1 "
                 "--format csv | head -1")  # fmt: skip
    assert head.code == 0 and head.err == ""
    assert head.out.startswith("path,") or "model" in head.out.splitlines()[0]


# -- the README quickstart ---------------------------------------------------------------------


def test_quickstart_import_then_report_matches_the_file(tmp_path):
    import csv
    from decimal import Decimal

    demo = REPO / "examples" / "billing" / "demo_focus_2026-10.csv"
    env = {"TOKCLI_STORE": str(tmp_path / "store.db")}
    assert tokcli("import", demo, env=env).code == 0
    again = tokcli("import", demo, "--format", "json", env=env)
    assert again.json()["totals"]["inserted"] == 0  # running the quickstart twice adds nothing
    report = tokcli("report", "--by", "team", "--format", "json", env=env)
    assert report.code == 0, report.err
    with demo.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_team: dict[str, Decimal] = {}
    for row in rows:
        team = json.loads(row["Tags"])["team"]
        by_team[team] = by_team.get(team, Decimal(0)) + Decimal(row["BilledCost"])
    reported = {r["team"]: Decimal(r["billed_cost"]) for r in report.json()["rows"]}
    assert reported == by_team
    assert Decimal(report.json()["total"]["billed_cost"]) == sum(by_team.values())
