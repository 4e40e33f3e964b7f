"""`tokcli estimate --workload`: the workload model and each lever against hand-computed costs.

Prices from tests/fixtures/prompts/acme.pricing: acme-large $3 in / $15 out / $0.30 cache read /
$3.75 cache write, batch x0.5, min cacheable 1,024; acme-small $1 / $5, min cacheable 2,048.
The base workload: 1,000 calls a month on acme-large, 2,000-token system prompt + 1,000-token
user message in, 500 out. Input 3,000,000 x $3 = $9, output 500,000 x $15 = $7.50: $16.50.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "tests" / "fixtures" / "prompts" / "acme.pricing"
EXAMPLES = ROOT / "examples" / "workloads"
BASE = """\
name: test
model: acme-large
traffic:
  requests_per_month: 1000
per_call:
  system_prompt: 2000
  user_message: 1000
  output: 500
"""


def run(cli, text: str, *, tmp_path: Path, expect: int = 0) -> dict:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    result = cli("estimate", "--workload", path, "--pricing", ACME, "--format", "json")
    assert result.exit_code == expect, result.stderr
    return result.json() if expect == 0 else {"stderr": result.stderr, "path": str(path)}


def lever_data(cli, tmp_path, lever: str) -> dict:
    data = run(cli, BASE + f"levers:\n  - {lever}\n", tmp_path=tmp_path)
    (result,) = data["levers"]
    return result


def test_baseline_figures(cli, tmp_path):
    data = run(cli, BASE, tmp_path=tmp_path)
    base = data["baseline"]
    assert data["version"] == 1 and data["mode"] == "workload"
    assert base["input_tokens_per_month"] == 3_000_000
    assert base["output_tokens_per_month"] == 500_000
    assert base["input_cost_per_month"] == "9"
    assert base["output_cost_per_month"] == "7.5"
    assert base["monthly_cost"] == "16.5"
    assert base["annual_cost"] == "198"
    (result,) = data["results"]
    assert (result["model"], result["input_tokens"], result["output_tokens"]) == (
        "acme-large",
        3000,
        500,
    )
    assert result["cost_per_call"] == "0.0165"


@pytest.mark.parametrize(
    "lever, monthly",
    [
        # 20% of calls answered by a semantic cache: 800 calls x $0.0165
        ("semantic_cache: {hit_rate: 0.2}", "13.2"),
        # system prompt halved: 2,000,000 input x $3 + $7.50
        ("prompt_tightening: {percent: 50}", "13.5"),
        # tightening the user message too: 1,500 x 1,000 x $3 + $7.50
        ("prompt_tightening: {percent: 50, applies_to: [system_prompt, user_message]}", "12"),
        # output capped at 200: $9 + 200,000 x $15
        ("output_cap: {tokens: 200}", "12"),
        # half the calls hit the cache: 1M uncached x $3 + 1M read x $0.30 + 1M written x $3.75
        ("prompt_caching: {hit_rate: 0.5}", "14.55"),
        # half the calls at batch prices (x0.5): 16.5 x 0.75
        ("batch: {share: 0.5}", "12.375"),
        # 50/50 with acme-small: 500 x (3000 x $1 + 500 x $5)/1e6 + 16.5 / 2
        ("routing: {acme-small: 50, acme-large: 50}", "11"),
    ],
)
def test_each_lever_alone(cli, tmp_path, lever, monthly):
    result = lever_data(cli, tmp_path, lever)
    assert result["monthly_cost_alone"] == monthly
    assert Decimal(result["saving_alone"]) == Decimal("16.5") - Decimal(monthly)


CHAT = """\
name: chat
model: acme-large
traffic:
  users: 10
  turns_per_user_per_day: 4
per_call:
  history_per_turn: 100
  user_message: 100
"""
# 10 users x 4 turns x 30 days = 1,200 calls; history over 4 turns: 0, 100, 200, 300 -> 150 on
# average; 250 input per call: 300,000 tokens x $3 = $0.90.


def test_history_grows_per_turn(cli, tmp_path):
    data = run(cli, CHAT, tmp_path=tmp_path)
    assert data["baseline"]["calls_per_month"] == "1200"
    assert data["baseline"]["input_tokens_per_month"] == 300_000
    assert data["baseline"]["monthly_cost"] == "0.9"


def test_history_truncation(cli, tmp_path):
    # keep 1 turn: 0, 100, 100, 100 -> 75; 175 x 1,200 = 210,000 x $3 = $0.63
    data = run(cli, CHAT + "levers:\n  - history_truncation: {turns: 1}\n", tmp_path=tmp_path)
    assert data["levers"][0]["monthly_cost_alone"] == "0.63"


def test_history_summarisation(cli, tmp_path):
    # keep 1 turn + a 20-token summary once turns are dropped: 0, 100, 120, 120 -> 85
    # 185 x 1,200 = 222,000 x $3 = $0.666
    text = CHAT + "levers:\n  - history_summarisation: {turns: 1, summary_tokens: 20}\n"
    assert run(cli, text, tmp_path=tmp_path)["levers"][0]["monthly_cost_alone"] == "0.666"


def test_levers_apply_in_sequence_never_added_up(cli, tmp_path):
    text = BASE + "levers:\n  - output_cap: {tokens: 200}\n  - batch: {share: 0.5}\n"
    data = run(cli, text, tmp_path=tmp_path)
    cap, batch = data["levers"]
    assert (cap["saving_alone"], batch["saving_alone"]) == ("4.5", "4.125")
    # in sequence: the cap leaves $12; batching half of that saves $3 (not $4.125)
    assert (cap["monthly_cost_after"], cap["saving_in_sequence"]) == ("12", "4.5")
    assert (batch["monthly_cost_after"], batch["saving_in_sequence"]) == ("9", "3")
    assert data["saving"]["monthly"] == "7.5"  # 4.5 + 3, not 4.5 + 4.125
    assert data["saving"]["percent"] == "45.45"
    assert data["with_levers"]["monthly_cost"] == "9"


def test_caching_respects_each_models_minimum(cli, tmp_path):
    # acme-small needs 2,048 cacheable tokens; the 2,000-token system prompt is not cached there
    text = BASE.replace("model: acme-large", "model: acme-small")
    text += "levers:\n  - prompt_caching: {hit_rate: 1}\n"
    data = run(cli, text, tmp_path=tmp_path)
    assert data["levers"][0]["saving_alone"] == "0"
    assert data["baseline"]["monthly_cost"] == "5.5"  # 3M x $1 + 0.5M x $5


def test_agentic_tasks_and_routing_base(cli, tmp_path):
    text = """\
routing: {acme-large: 25, acme-small: 75}
traffic: {tasks_per_day: 10, calls_per_task: 5}
days_per_month: 20
per_call: {user_message: 1000, output: 0}
"""
    data = run(cli, text, tmp_path=tmp_path)
    # 10 x 5 x 20 = 1,000 calls; 250 on large (250,000 x $3 = $0.75), 750 on small ($0.75)
    assert data["baseline"]["calls_per_month"] == "1000"
    assert data["baseline"]["monthly_cost"] == "1.5"


@pytest.mark.parametrize(
    "text, line, words",
    [
        (BASE + "levers:\n  - magic: {x: 1}\n", 10, "unknown lever"),
        (BASE + "levers:\n  - routing: {acme-small: 50, acme-large: 40}\n", 10, "add up to 100"),
        (BASE.replace("acme-large", "acme-huge"), 2, "unknown model"),
        (BASE.replace("  user_message: 1000", "  user_message: lots"), 7, "must be a number"),
        (BASE + "levers:\n  - batch: {share: 1.5}\n", 10, "between 0 and 1"),
        (BASE.replace("requests_per_month", "requests_per_year"), 4, "unknown key"),
    ],
)
def test_bad_workload_exit_2_with_file_and_line(cli, tmp_path, text, line, words):
    failed = run(cli, text, tmp_path=tmp_path, expect=2)
    assert failed["stderr"].startswith(f"tokcli: error: {failed['path']}:{line}")
    assert words in failed["stderr"]


def test_batch_lever_on_model_without_batch_tier_exits_2(cli, tmp_path):
    text = BASE.replace("acme-large", "acme-plain") + "levers:\n  - batch: {share: 0.5}\n"
    failed = run(cli, text, tmp_path=tmp_path, expect=2)
    assert "no batch tier" in failed["stderr"] and "line 10" in failed["stderr"]


@pytest.mark.parametrize(
    "name, calls, input_tokens, output_tokens",
    [
        ("chatbot", 6_000_000, 4_800_000_000, 2_400_000_000),  # 10,000 x 20 x 30; 800 / 400
        ("rag", 50_000, 400_000_000, 40_000_000),  # 8,000 / 800 per query
        ("codegen", 15_000, 30_000_000, 22_500_000),  # 500 a day; 2,000 / 1,500
        ("agentic", 750_000, 14_400_000_000, 600_000_000),  # 1,000 tasks x 25 calls a day
    ],
)
def test_example_workloads_run(cli, name, calls, input_tokens, output_tokens):
    result = cli("estimate", "--workload", EXAMPLES / f"{name}.yaml", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    base = data["baseline"]
    assert Decimal(base["calls_per_month"]) == calls
    assert (base["input_tokens_per_month"], base["output_tokens_per_month"]) == (
        input_tokens,
        output_tokens,
    )
    assert len(data["levers"]) >= 3
    total_in_sequence = sum(Decimal(lever["saving_in_sequence"]) for lever in data["levers"])
    assert total_in_sequence == Decimal(data["saving"]["monthly"]) > 0
    table = cli("estimate", "--workload", EXAMPLES / f"{name}.yaml")
    assert table.exit_code == 0 and "all levers together" in table.stdout


def test_agentic_example_is_500k_tokens_per_task(cli):
    data = cli("estimate", "--workload", EXAMPLES / "agentic.yaml", "--format", "json").json()
    per_call = data["results"][0]["input_tokens"] + data["results"][0]["output_tokens"]
    assert per_call * 25 == 500_000


def test_workload_refuses_prompt_options(cli):
    result = cli("estimate", "p.txt", "--workload", EXAMPLES / "rag.yaml")
    assert result.exit_code == 2 and "--workload" in result.stderr


def test_summarization_spelling_and_tasks_per_month(cli, tmp_path):
    text = """\
model: acme-large
traffic: {tasks_per_month: 100, calls_per_task: 3}
per_call: {history_per_turn: 100, user_message: 0, output: 0}
levers:
  - history_summarization: {turns: 0, summary_tokens: 10}
"""
    data = run(cli, text, tmp_path=tmp_path)
    # 300 calls over 3-step tasks: history 0, 100, 200 -> 100 on average -> 30,000 x $3 = $0.09
    assert data["baseline"]["monthly_cost"] == "0.09"
    # keep no steps, a 10-token summary from the second step: 0, 10, 10 -> 20/3 per call
    # 300 x 20/3 = 2,000 tokens x $3 = $0.006
    assert data["levers"][0]["lever"] == "history_summarisation"
    assert data["levers"][0]["monthly_cost_alone"] == "0.006"
