"""`tokcli estimate` as a CI gate: --baseline / --base-ref, --fail-on-increase,
--max-monthly-cost, the markdown PR comment and the JSON diff."""

from __future__ import annotations

import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

PROMPTS = Path(__file__).resolve().parent / "fixtures" / "prompts"
ACME = PROMPTS / "acme.pricing"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip
SHORT = "---\nmodel: acme-large\nmax_tokens: 100\nrequests: 1000\nper: month\n---\n"
SHORT += "You answer questions about {{ topic }}.\n"
SHORT_VARS = "vars: {topic: tea}\n"


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})  # fmt: skip


def write_prompt(path: Path, extra: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = SHORT.replace("---\nYou", f"{SHORT_VARS}---\nYou") + extra
    path.write_text(text)


@pytest.fixture
def repo() -> Path:
    """A git repository (the test's working folder) with two commits; the template grows."""
    root = Path.cwd()
    git("init", "-q", "-b", "main", cwd=root)
    (root / "tokcli.toml").write_text(f'pricing = ["{ACME}"]\n')
    write_prompt(root / "prompts" / "support.j2")
    write_prompt(root / "prompts" / "stable.j2")
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "base", cwd=root)
    write_prompt(root / "prompts" / "support.j2", "Always cite the policy document. " * 40)
    git("commit", "-q", "-am", "grow the support template", cwd=root)
    return root


def test_git_gate_fails_when_a_template_grows_and_markdown_shows_it(cli, repo):
    result = cli("estimate", "prompts", "--base-ref", "HEAD~1", "--fail-on-increase", "10",
                 "--format", "markdown")  # fmt: skip
    assert result.exit_code == 1
    assert "cost gate failed" in result.stderr and "prompts/support.j2" in result.stderr
    body = result.stdout
    assert body.startswith("### tokcli estimate: monthly cost vs HEAD~1: +$0.")
    assert body.splitlines()[0].endswith("%), gate failed")
    support = next(line for line in body.splitlines() if line.startswith("| prompts/support.j2"))
    stable = next(line for line in body.splitlines() if line.startswith("| prompts/stable.j2"))
    assert "acme-large" in support and "+" not in stable and "0.0%" in stable
    assert "| total |" in body
    assert "gate FAILED" in body


def test_git_gate_passes_without_change(cli, repo):
    result = cli("estimate", "prompts", "--base-ref", "HEAD", "--fail-on-increase", "10",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["gate"] == {"passed": True, "checks": ["no increase above 10%"], "failures": []}
    assert data["diff"]["diff_total"] == "0"
    assert {p["status"] for p in data["diff"]["prompts"]} == {"unchanged"}


def test_git_gate_json_diff_is_exact(cli, repo):
    result = cli("estimate", "prompts", "--base-ref", "HEAD~1", "--format", "json")
    assert result.exit_code == 0  # no threshold asked: report only
    data = result.json()
    diff = data["diff"]
    assert diff["metric"] == "monthly_cost"
    support = next(p for p in diff["prompts"] if p["path"] == "prompts/support.j2")
    after = next(r for r in data["results"] if r["path"] == "prompts/support.j2")
    assert support["after"] == after["monthly_cost"]
    grown = Decimal(support["after"]) - Decimal(support["before"])
    assert Decimal(support["diff"]) == grown > 0
    # The added text is ~280 tokens at $3/MTok x 1,000 calls: about $0.84 a month.
    assert Decimal("0.5") < grown < Decimal("1.5")
    assert Decimal(diff["after_total"]) - Decimal(diff["before_total"]) == grown


def test_new_and_removed_prompts_in_the_diff(cli, repo):
    (repo / "prompts" / "stable.j2").unlink()
    write_prompt(repo / "prompts" / "fresh.j2")
    result = cli("estimate", "prompts", "--base-ref", "HEAD", "--format", "json")
    assert result.exit_code == 0, result.stderr
    status = {p["path"]: p["status"] for p in result.json()["diff"]["prompts"]}
    assert status == {"prompts/fresh.j2": "new", "prompts/support.j2": "unchanged",
                      "prompts/stable.j2": "removed"}  # fmt: skip


def test_baseline_file_gate(cli, tmp_path):
    prompt = tmp_path / "p.j2"
    write_prompt(prompt)
    base = cli("estimate", prompt, "--pricing", ACME, "--format", "json")
    assert base.exit_code == 0
    baseline = tmp_path / "base.json"
    baseline.write_text(base.stdout)
    same = cli("estimate", prompt, "--pricing", ACME, "--baseline", baseline,
               "--fail-on-increase", "0")  # fmt: skip
    assert same.exit_code == 0, same.stderr
    write_prompt(prompt, "More words here. " * 30)
    grown = cli("estimate", prompt, "--pricing", ACME, "--baseline", baseline,
                "--fail-on-increase", "5", "--format", "json")  # fmt: skip
    assert grown.exit_code == 1
    data = grown.json()
    assert data["gate"]["passed"] is False
    assert Decimal(data["diff"]["percent_total"]) > 5


def test_max_monthly_cost(cli):
    args = ["--input-tokens", "1000", "--output-tokens", "1000", "-m", "acme-large", "--pricing",
            ACME, "--requests", "1000", "--per", "month"]  # fmt: skip
    # 0.018 x 1000 = $18 a month
    assert cli("estimate", *args, "--max-monthly-cost", "18").exit_code == 0
    over = cli("estimate", *args, "--max-monthly-cost", "17.99", "--format", "json")
    assert over.exit_code == 1
    assert over.json()["gate"]["failures"] == [
        "acme-large: monthly cost $18 is above the limit $17.99"
    ]
    no_volume = cli("estimate", "--input-tokens", "1", "-m", "acme-large", "--pricing", ACME,
                    "--max-monthly-cost", "5")  # fmt: skip
    assert no_volume.exit_code == 2 and "needs a volume" in no_volume.stderr


def test_gate_errors_exit_2_never_0(cli, tmp_path, repo):
    assert cli("estimate", "prompts", "--fail-on-increase", "5").exit_code == 2  # no baseline
    bad_ref = cli("estimate", "prompts", "--base-ref", "no-such-ref", "--fail-on-increase", "5")
    assert bad_ref.exit_code == 2 and "no-such-ref" in bad_ref.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,\n "results": [\n')
    result = cli("estimate", "prompts", "--baseline", broken, "--fail-on-increase", "5")
    assert result.exit_code == 2 and f"{broken}:3" in result.stderr
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"version": 1, "results": [{"model": "x", "cost_per_call": 0.5}]}')
    result = cli("estimate", "prompts", "--baseline", wrong)
    assert result.exit_code == 2 and "decimal string" in result.stderr
    # A template the base priced that no longer renders: reported (file:line), the run goes on
    # over the folder, and the gate fails (issue 16: a broken template is no cost decrease).
    (repo / "prompts" / "support.j2").write_text("{{ missing }}\n")
    result = cli("estimate", "prompts", "--base-ref", "HEAD", "--fail-on-increase", "5",
                 "-m", "acme-large")  # fmt: skip
    assert result.exit_code == 1 and "support.j2:1" in result.stderr
    assert "prompts/support.j2 could not be priced" in result.stderr


def test_config_prompts_drive_the_gate_without_paths(cli, repo):
    config = repo / "tokcli.toml"
    config.write_text(config.read_text() + '\n[[prompts]]\npath = "prompts/support.j2"\n')
    result = cli("estimate", "--base-ref", "HEAD~1", "--fail-on-increase", "10", "--format", "json")
    assert result.exit_code == 1
    paths = [p["path"] for p in result.json()["diff"]["prompts"]]
    assert paths == ["prompts/support.j2"]  # only what the config names
