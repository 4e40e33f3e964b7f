"""The pricing registry and `tokcli pricing`: coverage of PRICING-FACTS.md, history, contract."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tokcli.pricing import Registry, shipped_pricing_dir
from tokcli.pricing.loader import load_pricing_file

# Every model PRICING-FACTS.md names (sections 1.1-1.5 and 1.8), by the id a user would type.
PRICING_FACTS_MODELS = [
    "claude-opus-4-7", "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5",
    "claude-sonnet-4-5", "claude-sonnet-4", "claude-3-5-haiku",
    "gpt-5.5", "gpt-5.5-pro", "gpt-5.4", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-5.2",
    "gpt-5.2-pro", "gpt-4.1", "o1",
    "gemini-3.1-pro-preview", "gemini-3-flash-preview", "gemini-3.1-flash-lite",
    "gemini-3.5-flash", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash-lite",
    "deepseek-v4-flash", "deepseek-v4-pro", "deepseek-chat",
    "mistral-medium-3.5", "qwen3.6-plus", "minimax-m2.7", "llama-4-maverick", "llama-3.3-70b",
    "gemma-4-31b", "mistral-small-3.2", "mistral-nemo",
    "claude-sonnet-5", "claude-opus-4-8", "claude-opus-5", "claude-opus-5-5",
    "claude-sonnet-5-5", "claude-haiku-5-5", "claude-fable-5", "claude-fable-5-1",
    "gpt-5.6", "gpt-6-astra", "gemini-3.5-flash-lite", "gemini-3.6-flash", "gemini-3.7-flash",
    "gemini-3.8-flash",
]  # fmt: skip


@pytest.fixture(scope="module")
def registry():
    return Registry.load(use_cache=False)


@pytest.mark.parametrize("model", PRICING_FACTS_MODELS)
def test_pricing_show_answers_for_every_model_in_pricing_facts(cli, model):
    result = cli("pricing", "show", model, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = result.json()
    assert data["model"]
    assert set(data["prices"]) == {
        "input",
        "output",
        "cache_read",
        "cache_write_5m",
        "cache_write_1h",
        "batch_input",
        "batch_output",
    }


def test_pricing_show_json_contract(cli):
    data = cli("pricing", "show", "claude-sonnet-4-6", "--format", "json").json()
    assert data["model"] == "claude-sonnet-4-6"
    assert data["provider"] == "anthropic"
    assert data["effective_from"] == "2026-02-17"
    assert "AP-a" in data["source"]
    assert data["prices"] == {
        "input": "3", "output": "15", "cache_read": "0.3", "cache_write_5m": "3.75",
        "cache_write_1h": "6", "batch_input": "1.5", "batch_output": "7.5",
    }  # fmt: skip


def test_null_where_the_provider_has_no_such_price(cli):
    prices = cli("pricing", "show", "gpt-5.5-pro", "-f", "json").json()["prices"]
    assert prices["cache_read"] is None  # C14: no cached price for gpt-5.5-pro
    assert prices["cache_write_5m"] is None  # OpenAI charges no cache write before gpt-5.6
    deepseek = cli("pricing", "show", "deepseek-v4-flash", "-f", "json").json()["prices"]
    assert deepseek["batch_input"] is None and deepseek["batch_output"] is None


# Prices as PRICING-FACTS.md gives them, after its conflict verdicts (model, dimension, price).
VERDICTS = [
    ("claude-haiku-4-5", "input", "1.00"),  # C1
    ("claude-haiku-4-5", "output", "5.00"),
    ("claude-haiku-4-5", "cache_read", "0.10"),
    ("claude-3-5-haiku", "input", "0.80"),
    ("gpt-5.5", "input", "5.00"),  # C2
    ("gpt-5.5", "cache_read", "0.50"),  # C4: 90% off on GPT-5.x
    ("gpt-5.5", "output", "30.00"),
    ("claude-opus-4-7", "cache_read", "0.50"),  # C3
    ("claude-opus-4-6", "cache_write_1h", "10.00"),  # C5: 1h write = 2x
    ("claude-opus-4-6", "cache_write_5m", "6.25"),
    ("mistral-medium-3.5", "input", "1.50"),  # C7
    ("mistral-medium-3.5", "output", "7.50"),
    ("gemini-3.5-flash", "input", "1.50"),  # C8
    ("gemini-3.5-flash", "output", "9.00"),
    ("gemini-3.1-flash-lite", "output", "1.50"),  # C9
    ("gpt-4.1", "cache_read", "0.50"),  # C16
    ("gemini-2.5-pro", "cache_read", "0.125"),  # C17 (2026)
    ("gpt-5-nano", "input", "0.05"),
    ("o1", "cache_read", "7.50"),
]


@pytest.mark.parametrize(("model", "dimension", "price"), VERDICTS)
def test_registry_follows_the_conflict_verdicts(registry, model, dimension, price):
    entry = registry.get(model).entry_at(_utc("2026-11-24"))
    assert entry.standard.prices[dimension] == Decimal(price)


def test_priority_and_batch_tiers_follow_the_sources(registry):
    entry = registry.get("gpt-5.5").entry_at(_utc("2026-11-24"))
    assert entry.price("input", "priority") == Decimal("12.50")  # C20: OP over L86
    assert entry.price("output", "priority") == Decimal("75.00")
    assert entry.price("cache_read", "batch") == Decimal("0.25")
    opus = registry.get("claude-opus-4-7").entry_at(_utc("2026-11-24"))
    assert opus.price("cache_read", "batch") == Decimal("0.25")  # C6: batch x cache stacks


@pytest.mark.parametrize(
    ("model", "date", "dimension", "price"),
    [
        ("deepseek-v4-flash", "2026-04-25", "cache_read", "0.028"),  # launch
        ("deepseek-v4-flash", "2026-05-01", "cache_read", "0.0028"),  # after 04-26 12:15
        ("deepseek-v4-flash", "2026-09-01", "input", "0.44"),  # peak pricing from 08-16
        ("deepseek-v4-flash", "2026-11-01", "input", "0.30"),  # V4.1 Flash by 10-27
        ("deepseek-v4-pro", "2026-06-15", "input", "0.435"),  # permanent from 05-31
        ("deepseek-v4-pro", "2026-09-01", "input", "1.32"),
        ("gemini-2.5-pro", "2025-06-01", "cache_read", "0.31"),  # the 2025 page (C17)
        ("gemini-2.5-pro", "2026-06-01", "cache_read", "0.125"),
        ("claude-sonnet-5-5", "2026-10-06", "cache_read", "0.20"),
        ("claude-sonnet-5-5", "2026-10-07", "cache_read", "0.10"),
    ],
)
def test_at_a_date_returns_the_entry_then_in_force(cli, model, date, dimension, price):
    data = cli("pricing", "show", model, "--at", date, "--format", "json").json()
    assert Decimal(data["prices"][dimension]) == Decimal(price)


def test_entry_changes_at_the_stated_minute(registry):
    import datetime as dt

    model = registry.get("deepseek-v4-flash")
    before = dt.datetime(2026, 4, 26, 12, 14, tzinfo=dt.UTC)
    after = dt.datetime(2026, 4, 26, 12, 15, tzinfo=dt.UTC)
    assert model.entry_at(before).standard.prices["cache_read"] == Decimal("0.028")
    assert model.entry_at(after).standard.prices["cache_read"] == Decimal("0.0028")


def test_before_the_first_price_is_an_error_not_zero(cli):
    result = cli("pricing", "show", "claude-opus-4-7", "--at", "2020-01-01")
    assert result.exit_code == 2
    assert "no price in force on 2020-01-01" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("anthropic/claude-sonnet-4-6", "claude-sonnet-4-6"),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("claude-haiku-4-5@20251001", "claude-haiku-4-5"),
        ("Claude Haiku 4.5", "claude-haiku-4-5"),
        ("GPT-5-2025-08-07", "gpt-5"),
        ("vertex_ai/gemini-2.5-pro", "gemini-2.5-pro"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ],
)
def test_aliases_and_cloud_forms_resolve(registry, alias, canonical):
    assert registry.get(alias).id == canonical


def test_unknown_model_exits_2_and_suggests(cli):
    result = cli("pricing", "show", "claude-sonet-4-6")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown model 'claude-sonet-4-6'" in result.stderr
    assert "claude-sonnet-4-6" in result.stderr
    assert result.stderr.count("\n") == 1


def test_list_filters_by_provider_and_tier(cli):
    rows = cli("pricing", "list", "--provider", "anthropic", "--tier", "cheap", "-f",
               "json").json()["models"]  # fmt: skip
    assert {r["model"] for r in rows} >= {"claude-haiku-4-5", "claude-3-5-haiku"}
    assert all(r["provider"] == "anthropic" and r["tier"] == "cheap" for r in rows)
    assert cli("pricing", "list", "--tier", "huge").exit_code == 2
    assert cli("pricing", "list", "--provider", "nobody").exit_code == 2


def test_table_output_rounds_for_people(cli):
    out = cli("pricing", "show", "deepseek-v4-pro", "--at", "2026-06-15").stdout
    assert "$0.435" in out and "$0.003625" in out
    assert "source:" in out


# -- validation -------------------------------------------------------------------------------


def test_shipped_registry_validates(cli):
    result = cli("pricing", "validate", "-f", "json")
    assert result.exit_code == 0
    assert result.json()["files"][0]["models"] >= len(PRICING_FACTS_MODELS)


def test_every_shipped_price_is_a_quoted_string():
    # A YAML float (2.5) would have lost exactness before tokcli saw it; the loader refuses them,
    # so loading every file is the check.
    for path in sorted(shipped_pricing_dir().glob("*.yaml")):
        models, _ = load_pricing_file(path)
        assert models, path


BAD_FILES = {
    "float price": ("provider: acme\nmodels:\n  - id: m\n    tier: cheap\n    prices:\n"
                    "      - effective_from: 2026-01-01\n        source: x\n        input: 2.5\n",
                    ":8:", "input"),
    "missing source": ("provider: acme\nmodels:\n  - id: m\n    tier: cheap\n    prices:\n"
                       "      - effective_from: 2026-01-01\n        input: '2.5'\n",
                       ":6:", "source"),
    "bad tier": ("provider: acme\nmodels:\n  - id: m\n    tier: huge\n    prices: []\n",
                 ":4:", "tier"),
    "yaml syntax": ("provider: acme\nmodels:\n  - id: m\n    tier: [cheap\n", ":", "invalid YAML"),
    "dates not increasing": (
        "provider: acme\nmodels:\n  - id: m\n    tier: cheap\n    prices:\n"
        "      - {effective_from: 2026-02-01, source: x, input: '1'}\n"
        "      - {effective_from: 2026-01-01, source: x, input: '2'}\n", ":7:", "effective_from"),
    "unknown field": ("provider: acme\nmodels:\n  - id: m\n    tier: cheap\n    prize: []\n",
                      ":5:", "prize"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_malformed_pricing_file_exit_2_with_file_line_field(cli, tmp_path, case):
    text, line, field = BAD_FILES[case]
    path = tmp_path / "acme.yaml"
    path.write_text(text)
    result = cli("pricing", "validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {path}")
    assert line in result.stderr and field in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_missing_file_exit_2(cli, tmp_path):
    result = cli("pricing", "validate", tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.stderr
    override = cli("pricing", "show", "gpt-5", "--pricing", tmp_path / "gone.yaml")
    assert override.exit_code == 2 and "gone.yaml" in override.stderr


# -- overrides --------------------------------------------------------------------------------


def test_override_changes_prices_and_is_marked(cli, tmp_path):
    override = tmp_path / "negotiated.yaml"
    override.write_text(yaml.safe_dump({"models": [{"id": "claude-sonnet-4-6", "prices": [
        {"source": "ACME contract 2026-03", "input": "2.40", "output": "12.00"}]}]}))  # fmt: skip
    data = cli("pricing", "show", "claude-sonnet-4-6", "--pricing", override, "-f", "json").json()
    assert data["prices"]["input"] == "2.4" and data["prices"]["output"] == "12"
    assert data["prices"]["cache_read"] == "0.3"  # untouched fields keep the registry's value
    assert data["overridden_by"] == str(override)
    assert data["entry"]["overridden"] == ["input", "output"]
    table = cli("pricing", "show", "claude-sonnet-4-6", "--pricing", override).stdout
    assert "input *" in table and f"overridden by {override}" in table


def test_override_from_config_and_dated_entry(cli, isolated_env):
    (isolated_env / "prices.yaml").write_text(yaml.safe_dump({"models": [
        {"id": "gpt-5", "prices": [{"effective_from": "2026-07-01", "source": "deal",
                                    "input": "1.00"}]},
        {"id": "acme-llm", "provider": "acme", "tier": "cheap", "prices": [
            {"effective_from": "2026-01-01", "source": "ACME price list", "input": "0.10",
             "output": "0.20"}]},
    ]}))  # fmt: skip
    (isolated_env / "tokcli.toml").write_text('pricing = ["prices.yaml"]\n')
    before = cli("pricing", "show", "gpt-5", "--at", "2026-06-30", "-f", "json").json()
    after = cli("pricing", "show", "gpt-5", "--at", "2026-07-01", "-f", "json").json()
    assert before["prices"]["input"] == "1.25" and after["prices"]["input"] == "1"
    assert after["prices"]["output"] == "10"  # inherited from the entry in force
    assert cli("pricing", "show", "acme-llm", "-f", "json").json()["prices"]["output"] == "0.2"


# -- LiteLLM import ---------------------------------------------------------------------------

LITELLM = Path(__file__).parent / "fixtures" / "litellm_prices.json"


def test_import_litellm_writes_override_and_lists_differences(cli, tmp_path):
    out = tmp_path / "litellm.yaml"
    result = cli("pricing", "import-litellm", LITELLM, "-o", out, "--effective-from",
                 "2026-11-01", "-f", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = result.json()
    fields = {(d["model"], d["field"]): (d["registry"], d["litellm"])
              for d in summary["differences"]}  # fmt: skip
    # LiteLLM's older priority price for gpt-5.5 differs from the registry's (verdict C20).
    assert fields[("gpt-5.5", "priority.input")] == ("12.5", "10")
    assert fields[("gpt-5.5", "priority.output")] == ("75", "60")
    # Issue 14: the diff shows what applying the override changes, removals included. LiteLLM
    # lists Sonnet 4.6's batch tier with input and output only, which replaces the registry's
    # x0.5 tier, so its batch cache prices would go; every other Sonnet price is identical.
    sonnet = {f: v for (m, f), v in fields.items() if m == "claude-sonnet-4-6"}
    assert sonnet == {
        "batch.cache_read": ("0.15", None),
        "batch.cache_write_5m": ("1.875", None),
        "batch.cache_write_1h": ("3", None),
    }
    # Long-context bands are compared too: LiteLLM's gpt-5.5 band has no cached-input price.
    assert fields[("gpt-5.5", "long_context.cache_read")] == ("1", None)
    assert ("gpt-5.5", "long_context.input") not in fields  # 10 on both sides
    assert summary["duplicate_keys"] == 1  # openai/gpt-5.5 lost to the canonical key
    assert summary["unknown_models"] == 1  # acme-private-model; embeddings are skipped
    data = cli("pricing", "show", "gpt-5.5", "--pricing", out, "--at", "2026-11-02",
               "-f", "json").json()  # fmt: skip
    assert data["entry"]["tiers"]["priority"]["input"] == "10"
    assert data["entry"]["long_context"]["input"] == "10"
    old = cli("pricing", "show", "gpt-5.5", "--pricing", out, "--at", "2026-10-01", "-f", "json")
    assert old.json()["entry"]["tiers"]["priority"]["input"] == "12.5"


def test_import_litellm_all_adds_unknown_models(cli, tmp_path):
    out = tmp_path / "all.yaml"
    assert cli("pricing", "import-litellm", LITELLM, "-o", out, "--all").exit_code == 0
    data = cli("pricing", "show", "acme-private-model", "--pricing", out, "-f", "json").json()
    # 1.23e-07 per token, parsed from its text: exactly 0.123 per million, no float noise.
    assert data["prices"]["input"] == "0.123" and data["prices"]["output"] == "0.456"
    assert data["context_window"] == 32000


def test_import_litellm_to_stdout_keeps_summary_on_stderr(cli):
    result = cli("pricing", "import-litellm", LITELLM)
    assert result.exit_code == 0
    document = yaml.safe_load(result.stdout)
    assert [m["id"] for m in document["models"]] == ["claude-sonnet-4-6", "gpt-5.5"]
    assert "prices differ" in result.stderr


def test_import_litellm_bad_json_exit_2(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"gpt-5": {"input_cost_per_token": 1e-06,}\n}')
    result = cli("pricing", "import-litellm", bad)
    assert result.exit_code == 2
    assert f"{bad}:1:" in result.stderr


def _utc(day: str):
    import datetime as dt

    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def test_parsed_registry_cache_is_used_and_invalidated(tmp_path):
    import shutil

    folder = tmp_path / "pricing"
    folder.mkdir()
    shutil.copy(shipped_pricing_dir() / "mistral.yaml", folder / "mistral.yaml")
    first = Registry.load(directory=folder)
    cached = list((tmp_path / "home" / "cache" / "tokcli").glob("registry-*.pickle"))
    assert len(cached) == 1
    assert Registry.load(directory=folder).models.keys() == first.models.keys()
    path = folder / "mistral.yaml"
    path.write_text(path.read_text().replace('input: "1.50"', 'input: "1.25"'))
    changed = Registry.load(directory=folder).get("mistral-medium-3.5")
    assert changed.prices[-1].standard.prices["input"] == Decimal("1.25")


def test_litellm_gemini_pro_conversion_has_no_long_context_write_without_a_standard_one():
    """Issue 14: LiteLLM lists a >200K cache-write price for gemini-2.5-pro and no standard
    one; the old conversion made a band where writes cost something only above 200K."""
    from tokcli.pricing.litellm import entry_from_litellm

    spec = {
        "input_cost_per_token": Decimal("1.25e-06"),
        "output_cost_per_token": Decimal("1e-05"),
        "cache_read_input_token_cost": Decimal("1.25e-07"),
        "input_cost_per_token_above_200k_tokens": Decimal("2.5e-06"),
        "output_cost_per_token_above_200k_tokens": Decimal("1.5e-05"),
        "cache_read_input_token_cost_above_200k_tokens": Decimal("2.5e-07"),
        "cache_creation_input_token_cost_above_200k_tokens": Decimal("2.5e-07"),
        "input_cost_per_token_above_200k_tokens_batches": Decimal("1.25e-06"),
        "input_cost_per_token_batches": Decimal("6.25e-07"),
    }
    entry = entry_from_litellm(spec)
    assert "cache_write_5m" not in entry
    assert entry["long_context"] == {
        "above_input_tokens": 200000,
        "input": "2.5",
        "output": "15",
        "cache_read": "0.25",
        "tiers": {"batch": {"input": "1.25"}},
    }
