"""`tokcli estimate`, prompt mode: token counts, cost per call, volumes, ranking, errors.

Most expectations use tests/fixtures/prompts/acme.pricing, a test-only override with round
prices (acme-large: $3 in / $15 out / $0.30 cache read / $3.75 5-minute write / $6 1-hour write,
batch x0.5, min cacheable 1,024; acme-small: $1 / $5 / $0.10 / $1.25, min 2,048; acme-plain:
$0.50 / $1.50, no cache or batch prices), so each figure can be checked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tokcli.errors import PriceNotAvailableError
from tokcli.pricing import Registry
from tokcli.pricing.model import as_moment
from tokcli.tokens import get_encoding

PROMPTS = Path(__file__).resolve().parent / "fixtures" / "prompts"
ACME = PROMPTS / "acme.pricing"


def o200k(text: str) -> int:
    return len(get_encoding("o200k_base").encode_ordinary(text))


def run_json(cli, *args):
    result = cli("estimate", *args, "--format", "json", "--pricing", ACME)
    assert result.exit_code == 0, result.stderr
    return result.json()


def priced_models() -> list:
    """Every registry model with standard input and output prices in force today."""
    models = []
    for model in Registry.load().models.values():
        try:
            entry = model.entry_at(as_moment(dt.date(2026, 11, 24)))
        except PriceNotAvailableError:
            continue
        prices = entry.standard.prices
        if prices.get("input") is not None and prices.get("output") is not None:
            models.append((model.id, prices["input"], prices["output"]))
    return models


def test_done_when_every_model_matches_the_formula_exactly(cli):
    models = priced_models()
    assert len(models) > 30
    args = ["--input-tokens", "8000", "--output-tokens", "800", "--requests", "50000"]
    args += ["--per", "month"]
    for model_id, _, _ in models:
        args += ["-m", model_id]
    result = cli("estimate", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    by_model = {r["model"]: r for r in result.json()["results"]}
    assert len(by_model) == len(models)
    for model_id, input_price, output_price in models:
        expected = 50000 * (8000 * input_price + 800 * output_price) / Decimal(1_000_000)
        assert Decimal(by_model[model_id]["monthly_cost"]) == expected, model_id
        assert by_model[model_id]["monthly_requests"] == 50000


def test_json_contract_and_money_as_strings(cli):
    data = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000", "-m", "acme-large")
    assert data["version"] == 1
    (result,) = data["results"]
    for key in ("path", "model", "input_tokens", "exact", "output_tokens", "cost_per_call"):
        assert key in result
    assert result["path"] is None
    assert result["cost_per_call"] == "0.018"  # (1000 x 3 + 1000 x 15) / 1e6
    assert "monthly_cost" not in result  # no volume given
    assert [i["bucket"] for i in result["cost_items"]] == ["input", "output"]
    assert result["cost_items"][0]["cost"] == "0.003"


def test_ranked_cheapest_first_with_ratio_to_dearest(cli):
    data = run_json(
        cli, "--input-tokens", "1000", "--output-tokens", "1000",
        "-m", "acme-large", "-m", "acme-small", "-m", "acme-plain",
    )  # fmt: skip
    ranked = [(r["model"], r["cost_per_call"], r["ratio_to_dearest"]) for r in data["results"]]
    # plain 0.002, small 0.006, large 0.018
    assert ranked == [
        ("acme-plain", "0.002", "0.1111"),
        ("acme-small", "0.006", "0.3333"),
        ("acme-large", "0.018", "1"),
    ]


def test_cached_tokens_with_hit_rate_is_the_exact_expectation(cli):
    data = run_json(
        cli, "--input-tokens", "5000", "--cached-tokens", "2000", "--cache-hit-rate", "0.75",
        "--output-tokens", "100", "-m", "acme-large",
    )  # fmt: skip
    result = data["results"][0]
    # hit: 3000 x 3 + 2000 x 0.30 + 100 x 15 = 11,100 -> 0.0111
    # miss: 3000 x 3 + 2000 x 3.75 (5m write) + 100 x 15 = 18,000 -> 0.018
    # 0.75 x 0.0111 + 0.25 x 0.018 = 0.012825
    assert result["cost_per_call"] == "0.012825"
    assert result["cached_prefix_tokens"] == 2000
    items = {i["bucket"]: i for i in result["cost_items"]}
    assert items["cache_read"]["tokens"] == "1500"  # 0.75 x 2000 expected per call
    assert items["cache_write_5m"]["tokens"] == "500"


def test_cached_tokens_alone_means_every_call_hits(cli):
    data = run_json(
        cli, "--input-tokens", "5000", "--cached-tokens", "2000", "--output-tokens", "100",
        "-m", "acme-large",
    )  # fmt: skip
    assert data["results"][0]["cost_per_call"] == "0.0111"


def test_one_hour_cache_write_price(cli):
    data = run_json(
        cli, "--input-tokens", "5000", "--cached-tokens", "2000", "--cache-hit-rate", "0.5",
        "--cache-ttl", "1h", "--output-tokens", "100", "-m", "acme-large",
    )  # fmt: skip
    # miss with a 1h write: 9,000 + 2000 x 6 + 1,500 = 22,500; 0.5 x 0.0111 + 0.5 x 0.0225
    assert data["results"][0]["cost_per_call"] == "0.0168"


def test_prefix_below_minimum_cacheable_is_not_cached(cli):
    data = run_json(
        cli, "--input-tokens", "5000", "--cached-tokens", "2000", "--output-tokens", "100",
        "-m", "acme-small",
    )  # fmt: skip
    result = data["results"][0]
    assert result["cost_per_call"] == "0.0055"  # 5000 x 1 + 100 x 5, no cache discount
    assert result["cached_prefix_tokens"] == 0
    assert any("below the minimum cacheable 2,048" in n for n in result["notes"])


def test_batch_tier_and_unpublished_tier(cli):
    data = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000", "--batch",
                    "-m", "acme-large")  # fmt: skip
    assert data["results"][0]["cost_per_call"] == "0.009"  # half of 0.018
    assert data["results"][0]["service_tier"] == "batch"
    same = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000", "--tier", "batch",
                    "-m", "acme-large")  # fmt: skip
    assert same["results"][0]["cost_per_call"] == "0.009"
    flex = cli("estimate", "--input-tokens", "1", "--tier", "flex", "-m", "acme-large",
               "--pricing", ACME)  # fmt: skip
    assert flex.exit_code == 2 and "no flex tier" in flex.stderr


def test_reasoning_tokens_and_multiplier(cli):
    data = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000",
                    "--reasoning-tokens", "2000", "-m", "acme-large")  # fmt: skip
    # no separate reasoning price: billed as output. 3,000 + 15,000 + 30,000 = 48,000
    assert data["results"][0]["cost_per_call"] == "0.048"
    data = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000",
                    "--reasoning-multiplier", "1.5", "-m", "acme-large")  # fmt: skip
    assert data["results"][0]["reasoning_tokens"] == 1500
    assert data["results"][0]["cost_per_call"] == "0.0405"  # 3,000 + 15,000 + 22,500


def test_volume_per_day_with_days_per_month(cli):
    data = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000", "--requests", "100",
                    "--per", "day", "--days-per-month", "31", "-m", "acme-large")  # fmt: skip
    result = data["results"][0]
    assert result["monthly_requests"] == 3100
    assert result["monthly_cost"] == "55.8"  # 0.018 x 3100


def test_at_date_uses_the_entry_in_force(cli):
    later = run_json(cli, "--input-tokens", "1000", "--output-tokens", "1000", "--at",
                     "2026-12-15", "-m", "acme-large")  # fmt: skip
    assert later["results"][0]["cost_per_call"] == "0.024"  # $4 / $20 from 2026-12-01
    assert later["results"][0]["price_effective_from"] == "2026-12-01"
    early = cli("estimate", "--input-tokens", "1", "--at", "2025-06-01", "-m", "acme-large",
                "--pricing", ACME)  # fmt: skip
    assert early.exit_code == 2 and "no price in force" in early.stderr


def test_chat_prompt_stable_prefix_framing_and_cache(cli, tmp_path):
    system = "You are the support assistant of Acme. " * 120  # well above 1,024 tokens
    path = tmp_path / "support.yaml"
    path.write_text(
        "messages:\n"
        f"  - role: system\n    content: {json.dumps(system)}\n"
        "  - role: user\n    content: 'Question: {{ q }}'\n"
        "vars: {q: Where is my parcel?}\n"
    )
    data = run_json(cli, path, "-m", "acme-large", "--cache-hit-rate", "1",
                    "--output-tokens", "10")  # fmt: skip
    result = data["results"][0]
    rendered = system + "\nQuestion: Where is my parcel?"
    prefix = o200k(system + "\nQuestion: ")
    total = o200k(rendered) + 3 * 2 + 3  # two messages framed, plus the reply priming
    assert result["input_tokens"] == total
    assert result["exact"] is False  # acme's tokenizer is not public: o200k approximation
    assert result["cached_prefix_tokens"] == prefix
    expected = (Decimal(total - prefix) * 3 + Decimal(prefix) * Decimal("0.30") + 10 * 15) / (10**6)
    assert Decimal(result["cost_per_call"]) == expected


def test_plain_text_prompt_counts_exactly_for_openai(cli):
    result = cli("estimate", PROMPTS / "plain.txt", "-m", "gpt-5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (row,) = result.json()["results"]
    assert row["input_tokens"] == o200k((PROMPTS / "plain.txt").read_text())
    assert row["exact"] is True
    assert (row["output_tokens"], row["output_tokens_from"]) == (500, "default (500)")


def test_front_matter_model_and_max_tokens(cli):
    result = cli("estimate", PROMPTS / "greeting.j2", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (row,) = result.json()["results"]
    assert (row["model"], row["output_tokens"]) == ("gpt-5", 300)
    assert row["input_tokens"] == o200k("Hello Ada!\n- tea\n- cake\n\n")


def test_vars_file_fills_a_missing_variable(cli, tmp_path):
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text("order_id: A-17\n")
    result = cli("estimate", PROMPTS / "bad" / "undefined.j2", "-m", "gpt-5", "--vars", vars_file,
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = "Hello Ada,\nyour order A-17 has shipped.\n"
    assert result.json()["results"][0]["input_tokens"] == o200k(text)


def test_directory_walk_with_exclude_and_every_kind(cli):
    topic = Path.cwd() / "topic.yaml"
    topic.write_text("topic: rain\n")
    result = cli("estimate", PROMPTS, "--exclude", "bad", "-m", "gpt-5", "--vars", topic,
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    paths = [Path(r["path"]).name for r in result.json()["results"]]
    assert paths == ["chat.json", "chat.yaml", "greeting.j2", "letter.tmpl", "plain.txt",
                     "recipe.prompt", "support.prompty"]  # fmt: skip


def test_stdin_and_text(cli):
    result = cli("estimate", "-", "-m", "gpt-5", "--format", "json", input="Hello there")
    assert result.exit_code == 0, result.stderr
    row = result.json()["results"][0]
    assert (row["path"], row["input_tokens"]) == ("-", o200k("Hello there"))
    result = cli("estimate", "--text", "Hello there", "-m", "gpt-5", "--format", "json")
    assert result.json()["results"][0]["path"] is None
    assert result.json()["results"][0]["input_tokens"] == o200k("Hello there")


def test_config_prompts_entries_give_model_and_volume(cli):
    prompt = Path.cwd() / "prompts" / "a.txt"
    prompt.parent.mkdir()
    prompt.write_text("Summarise the ticket.")
    (Path.cwd() / "tokcli.toml").write_text(
        f'pricing = ["{ACME}"]\n\n[[prompts]]\npath = "prompts/a.txt"\nmodel = "acme-large"\n'
        'requests = 200\nper = "day"\n'
    )
    result = cli("estimate", "--output-tokens", "0", "--format", "json")
    assert result.exit_code == 0, result.stderr
    (row,) = result.json()["results"]
    assert (row["path"], row["model"], row["monthly_requests"]) == ("prompts/a.txt", "acme-large",
                                                                    6000)  # fmt: skip
    tokens = o200k("Summarise the ticket.")
    assert Decimal(row["monthly_cost"]) == Decimal(tokens * 3 * 6000) / 10**6


def test_front_matter_volume(cli, tmp_path):
    path = tmp_path / "p.md"
    path.write_text(
        "---\nmodel: acme-plain\nrequests: 1000\nper: month\nmax_tokens: 100\n---\nHi\n"
    )
    data = run_json(cli, path)
    row = data["results"][0]
    assert row["monthly_requests"] == 1000
    tokens = o200k("Hi\n")
    assert Decimal(row["monthly_cost"]) == (tokens * Decimal("0.5") + 100 * Decimal("1.5")) / 1000


@pytest.mark.parametrize(
    "name, text, where, words",
    [
        ("fm.md", "---\nmodel: gpt-5\nvars: [x\n---\nbody\n", ":3:", "front matter"),
        ("undef.j2", "---\nvars: {a: 1}\n---\n{{ a }}\n{{ b }}\n", ":5:", "'b' is undefined"),
        ("model.md", "---\nmax_tokens: 10\nmodel: gpt-99-ultra\n---\nHi\n", ":3:", "unknown model"),
    ],
)
def test_bad_prompts_exit_2_with_file_and_line(cli, tmp_path, name, text, where, words):
    path = tmp_path / name
    path.write_text(text)
    result = cli("estimate", path, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""  # nothing half-written
    assert result.stderr.startswith(f"tokcli: error: {path}{where}")
    assert words in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_model_flag_and_usage_errors_exit_2(cli):
    assert cli("estimate", "--input-tokens", "1", "-m", "nope-model").exit_code == 2
    assert cli("estimate", "--input-tokens", "1", "-m", "gpt-5", "--requests", "5").exit_code == 2
    assert cli("estimate", "-m", "gpt-5").exit_code == 2  # nothing to estimate
    bad_rate = cli("estimate", "--input-tokens", "1", "-m", "gpt-5", "--cache-hit-rate", "1.5")
    assert bad_rate.exit_code == 2 and "--cache-hit-rate" in bad_rate.stderr
    no_model = cli("estimate", PROMPTS / "plain.txt")
    assert no_model.exit_code == 2 and "no model" in no_model.stderr


def test_table_csv_and_markdown(cli):
    args = ["--input-tokens", "1000", "--output-tokens", "1000", "-m", "acme-large", "-m",
            "acme-small", "--pricing", ACME, "--requests", "10", "--per", "month"]  # fmt: skip
    table = cli("estimate", *args)
    assert table.exit_code == 0
    assert "acme-small" in table.stdout and "$0.18" in table.stdout  # 0.018 x 10
    assert "volume: 10 requests per month" in table.stdout
    csv = cli("estimate", *args, "--format", "csv").stdout.splitlines()
    assert csv[0].startswith("path,model,input_tokens")
    assert csv[1].split(",")[1] == "acme-small"
    markdown = cli("estimate", *args, "--format", "markdown").stdout
    assert "| prompt | model |" in markdown and "| acme-large |" in markdown


def test_real_process_end_to_end(tokcli_process):
    result = tokcli_process("estimate", "--text", "Hi", "-m", "gpt-5", "--output-tokens", "1",
                            "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json()["results"][0]["input_tokens"] == o200k("Hi")


def test_command_module_imports_no_heavy_library():
    code = (
        "import sys, tokcli.cli.estimate, tokcli.estimate.run, tokcli.estimate.workload;"
        "heavy = ('jinja2', 'tiktoken', 'pandas', 'httpx', 'rich');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_chat_file_unknown_model_names_its_line(cli, tmp_path):
    path = tmp_path / "req.json"
    path.write_text('{\n  "max_tokens": 5,\n  "model": "gpt-99",\n  "messages": []\n}\n')
    result = cli("estimate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {path}:3: model: unknown model 'gpt-99'")


def test_dotprompt_provider_prefix_resolves(cli):
    result = cli("estimate", PROMPTS / "recipe.prompt", "--format", "json")
    assert result.exit_code == 0, result.stderr
    row = result.json()["results"][0]
    assert (row["model"], row["output_tokens"]) == ("gemini-2.5-flash", 400)


def test_contradictory_options_exit_2(cli):
    tier = cli("estimate", "--input-tokens", "1", "-m", "gpt-5", "--batch", "--tier", "flex")
    assert tier.exit_code == 2 and "--batch contradicts --tier flex" in tier.stderr
    mixed = cli("estimate", "-", PROMPTS / "plain.txt", "-m", "gpt-5", input="x")
    assert mixed.exit_code == 2 and "stdin" in mixed.stderr
    both = cli("estimate", "--text", "x", "--input-tokens", "3", "-m", "gpt-5")
    assert both.exit_code == 2
    reasoning = cli("estimate", "--input-tokens", "1", "-m", "gpt-5", "--reasoning-tokens", "1",
                    "--reasoning-multiplier", "2")  # fmt: skip
    assert reasoning.exit_code == 2 and "not both" in reasoning.stderr
