"""Issue 14: the generated price layer, names as bills write them, user aliases, bad input.

The generated layer is pricing/generated/litellm.json, built by scripts/generate_price_layer.py
from the pinned LiteLLM 1.110.2 price file in third_party/litellm/ (MIT).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.pricing import Registry

ROOT = Path(__file__).resolve().parents[1]
PINNED = ROOT / "third_party" / "litellm" / "model_prices_and_context_window.json"
DAY = dt.date(2026, 11, 28)
M = Decimal(1_000_000)


@pytest.fixture(scope="module")
def registry():
    return Registry.load(use_cache=False)


def litellm(key: str) -> dict:
    """A model's row of the pinned input, numbers kept as exact decimals."""
    return json.loads(PINNED.read_text(encoding="utf-8"), parse_float=Decimal)[key]


def test_shipped_layer_is_what_the_script_produces_from_the_pinned_input():
    spec = importlib.util.spec_from_file_location(
        "generate_price_layer", ROOT / "scripts" / "generate_price_layer.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = ROOT / "pricing" / "generated" / "litellm.json"
    assert shipped.read_text(encoding="utf-8") == module.generate()


def test_every_generated_chat_entry_prices_a_1k_in_1k_out_call(registry):
    layer = registry.generated()
    ids = layer.ids()
    assert len(ids) > 2000
    for model_id in ids:
        model = layer.model(model_id)
        entry = model.prices[-1]
        cost = compute_cost(Usage(input_tokens=1000, output_tokens=1000), model, DAY)
        expected = (
            1000 * entry.standard.prices["input"] + 1000 * entry.standard.prices["output"]
        ) / M
        assert cost.total == expected, model_id
        assert cost.layer == "generated"


ISSUE_IDS = [
    "gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1-mini", "gpt-4.1-nano", "o3",
    "o3-mini", "o4-mini", "gpt-5.1", "gpt-5-codex", "gemini-2.5-flash-lite", "gemini-2.0-flash",
    "claude-opus-4-5", "claude-opus-4-1", "claude-3-7-sonnet-20250219",
    "claude-3-5-sonnet-20241022", "deepseek-reasoner", "claude-opus-4-7@default", "azure/gpt-4o",
]  # fmt: skip


@pytest.mark.parametrize("name", ISSUE_IDS)
def test_each_id_the_issue_lists_prices(registry, name):
    model = registry.get(name)
    cost = compute_cost(Usage(input_tokens=1000, output_tokens=1000), model, DAY)
    assert cost.total > 0


def test_generated_prices_equal_the_source_per_token_prices(registry):
    row = litellm("gpt-4o")
    model = registry.get("gpt-4o")
    usage = Usage(input_tokens=1234, cache_read_tokens=567, output_tokens=89)
    expected = (
        1234 * row["input_cost_per_token"]
        + 567 * row["cache_read_input_token_cost"]
        + 89 * row["output_cost_per_token"]
    )
    assert compute_cost(usage, model, DAY).total == expected


def test_curated_entries_win_over_the_generated_layer(registry):
    # LiteLLM lists gpt-5.5; the curated entry (verdict C20 on its priority tier) is used.
    assert "gpt-5.5" in registry.generated()
    model = registry.get("gpt-5.5")
    assert model.layer == "curated"
    assert model.entry_at(dt.datetime(2026, 11, 28, tzinfo=dt.UTC)).price(
        "input", "priority"
    ) == Decimal("12.50")


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Claude4.6Sonnet", "claude-sonnet-4-6"),
        ("Claude Sonnet 4.6", "claude-sonnet-4-6"),
        ("publishers/anthropic/models/claude-opus-4-7@20260416", "claude-opus-4-7"),
        ("projects/p/locations/global/publishers/anthropic/models/claude-opus-4-7",
         "claude-opus-4-7"),
        ("claude-opus-4-7@default", "claude-opus-4-7"),
        ("openrouter/anthropic/claude-sonnet-4.6", "claude-sonnet-4-6"),
        ("anthropic/claude-sonnet-4.6", "claude-sonnet-4-6"),
        ("gpt-4o-mini-0718", "gpt-4o-mini"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("bedrock/anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
    ],
)  # fmt: skip
def test_names_as_bills_write_them(registry, name, canonical):
    assert registry.get(name).id == canonical


def test_bedrock_geographic_profiles_cost_ten_percent_more_than_global(registry):
    base = registry.get("claude-opus-4-7")
    usage = Usage(input_tokens=1000, cache_write_5m_tokens=100, output_tokens=1000)
    global_cost = compute_cost(usage, registry.get("global.anthropic.claude-opus-4-7"), DAY)
    assert global_cost.total == compute_cost(usage, base, DAY).total
    for prefix in ("us.", "eu.", "apac.", "bedrock/us."):
        geo = compute_cost(usage, registry.get(f"{prefix}anthropic.claude-opus-4-7-v1:0"), DAY)
        assert geo.total == global_cost.total * Decimal("1.1"), prefix


def test_geographic_premium_derived_where_the_generated_layer_lacks_the_row():
    from tokcli.pricing.layers import GeneratedLayer

    registry = Registry.load(use_cache=False)
    registry._generated = GeneratedLayer(None, None)  # no generated rows at all
    geo = registry.get("us.anthropic.claude-fable-5-1-v1:0")
    moment = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    assert geo.entry_at(moment).standard.prices["input"] == Decimal("10.00") * Decimal("1.1")
    assert "geographic" in geo.notes
    # Haiku 3.5 predates global profiles: no premium
    old = registry.get("us.anthropic.claude-3-5-haiku-v1:0")
    assert old.entry_at(moment).standard.prices["input"] == Decimal("0.80")


def test_pre_global_claude_models_have_no_geographic_premium(registry):
    # Sonnet 4 predates global profiles; LiteLLM prices us. and plain alike ($3).
    row = litellm("us.anthropic.claude-sonnet-4-20250514-v1:0")
    assert (
        row["input_cost_per_token"]
        == litellm("anthropic.claude-sonnet-4-20250514-v1:0")["input_cost_per_token"]
    )


def test_layer_and_source_in_pricing_show_and_estimate(cli):
    shown = cli("pricing", "show", "gpt-4o", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    data = shown.json()
    assert (data["layer"], data["source"].startswith("LiteLLM 1.110.2")) == ("generated", True)
    curated = cli("pricing", "show", "claude-sonnet-4-6", "--format", "json").json()
    assert curated["layer"] == "curated"
    table = cli("estimate", "--input-tokens", "100", "-m", "gpt-4o")
    assert "gpt-4o: price from the generated price layer; source: LiteLLM" in table.stdout
    est = cli("estimate", "--input-tokens", "100", "-m", "gpt-4o", "--format", "json").json()
    assert est["results"][0]["price_layer"] == "generated"


def test_unknown_model_suggests_generated_ids(cli):
    result = cli("pricing", "show", "gpt-4o-minii")
    assert result.exit_code == 2
    assert "gpt-4o-mini" in result.stderr


# -- user aliases -------------------------------------------------------------------------


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tokcli.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_user_alias_from_config_prices_as_its_target(cli, tmp_path, monkeypatch):
    write_config(tmp_path, '[pricing.aliases]\nsupport-gpt = "gpt-4o"\nbot = "support-gpt"\n')
    monkeypatch.chdir(tmp_path)
    for name in ("support-gpt", "bot"):
        result = cli("estimate", "--input-tokens", "1000", "--output-tokens", "1000",
                     "-m", name, "--format", "json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        row = litellm("gpt-4o")
        expected = 1000 * row["input_cost_per_token"] + 1000 * row["output_cost_per_token"]
        assert Decimal(result.json()["results"][0]["cost_per_call"]) == expected


@pytest.mark.parametrize(
    ("body", "line", "field", "words"),
    [
        ('[pricing.aliases]\na = "b"\nb = "a"\n', 2, "pricing.aliases.a",
         "alias cycle: a -> b -> a"),
        ('[pricing.aliases]\nx = "gpt-4o"\nsupport = "gpt-4oo"\n', 3, "pricing.aliases.support",
         "not a known model"),
    ],
)  # fmt: skip
def test_bad_alias_exits_2_naming_file_line_and_field(cli, tmp_path, monkeypatch, body, line,
                                                       field, words):  # fmt: skip
    path = write_config(tmp_path, body)
    monkeypatch.chdir(tmp_path)
    result = cli("estimate", "--input-tokens", "10", "-m", "gpt-4o")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {path.resolve()}:{line}: {field}: ")
    assert words in result.stderr
    assert result.stderr.count("\n") == 1


# -- bad pricing files --------------------------------------------------------------------

GOOD = """provider: acme
models:
  - id: acme-1
    tier: mid
    prices:
      - effective_from: 2026-01-01
        source: test
        input: "1.00"
        output: "2.00"
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ('        input: "1.00"', '        inptu: "1.00"', 8, "models[0](acme-1).prices[0].inptu"),
        ('        input: "1.00"', '        input: "-1.00"', 8, "models[0](acme-1).prices[0].input"),
        ('        input: "1.00"', '        input: "one"', 8, "models[0](acme-1).prices[0].input"),
        ("effective_from: 2026-01-01", "effective_from: 2026-02-30", 6,
         "models[0](acme-1).prices[0].effective_from"),
    ],
)  # fmt: skip
def test_bad_pricing_file_exits_2_naming_file_line_and_field(cli, tmp_path, old, new, line,
                                                              field):  # fmt: skip
    path = tmp_path / "acme.yaml"
    path.write_text(GOOD.replace(old, new), encoding="utf-8")
    assert cli("pricing", "validate", path).exit_code == 0 or old in GOOD
    result = cli("pricing", "validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {path}:{line}: {field}: ")
    assert result.stderr.count("\n") == 1


# -- real Prompty samples (tests/fixtures/prompty/SOURCES.md) ------------------------------

PROMPTY = ROOT / "tests" / "fixtures" / "prompty"


def test_real_prompty_samples_naming_gpt_4o_estimate(cli, tmp_path):
    from tokcli.tokens import get_encoding

    variables = tmp_path / "vars.yaml"
    variables.write_text("question: What is the meaning of life?\n", encoding="utf-8")
    result = cli("estimate", PROMPTY, "--exclude", "SOURCES.md", "--vars", variables,
                 "--output-tokens", "100", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = {Path(r["path"]).name: r for r in result.json()["results"]}
    expected_models = {
        "shorthand_model_string.prompty": "gpt-4o",
        "shorthand_quick.prompty": "gpt-4o-mini",
        "structured_output.prompty": "gpt-4o-2024-08-06",  # Azure deployment ...-global
    }
    assert {name: r["model"] for name, r in rows.items()} == expected_models
    # One file checked by hand: o200k tokens of the two messages plus OpenAI's chat framing
    # (3 per message, 3 for the reply), priced at LiteLLM's gpt-4o-mini $0.15 in / $0.60 out.
    encoding = get_encoding("o200k_base")
    system = "You are a concise technical writer."
    user = "Write a one-paragraph summary of Python."
    tokens = len(encoding.encode_ordinary(system)) + len(encoding.encode_ordinary(user)) + 9
    quick = rows["shorthand_quick.prompty"]
    assert quick["input_tokens"] == tokens
    assert Decimal(quick["cost_per_call"]) == (tokens * Decimal("0.15") + 100 * Decimal("0.60")) / M


def test_override_file_changes_a_generated_model(cli, tmp_path):
    override = tmp_path / "mine.yaml"
    override.write_text(
        "models:\n  - id: gpt-4o\n    prices:\n      - effective_from: 2026-11-01\n"
        '        source: "our contract"\n        input: "2.00"\n',
        encoding="utf-8",
    )
    shown = cli("pricing", "show", "gpt-4o", "--pricing", override, "-f", "json")
    assert shown.exit_code == 0, shown.stderr
    data = shown.json()
    assert (data["layer"], data["source"], data["prices"]["input"]) == (
        "override", "our contract", "2",
    )  # fmt: skip
    assert data["prices"]["output"] == "10"  # kept from the generated layer
    before = cli("pricing", "show", "gpt-4o", "--pricing", override, "--at", "2026-10-01",
                 "-f", "json").json()  # fmt: skip
    assert before["prices"]["input"] == "2.5"


def test_pricing_list_by_layer(cli):
    curated = cli("pricing", "list", "-f", "json").json()["models"]
    assert {m["layer"] for m in curated} == {"curated"}
    generated = cli("pricing", "list", "--layer", "generated", "--provider", "azure", "-f", "json")
    assert generated.exit_code == 0, generated.stderr
    rows = {m["model"]: m for m in generated.json()["models"]}
    assert rows["azure/gpt-4o"]["layer"] == "generated"
    assert rows["azure/gpt-4o"]["effective_from"] is None  # the source records no date
    # azure/gpt-4o: LiteLLM 2.5e-06 / 1e-05 per token
    row = litellm("azure/gpt-4o")
    assert Decimal(rows["azure/gpt-4o"]["input"]) == row["input_cost_per_token"] * M
    assert Decimal(rows["azure/gpt-4o"]["output"]) == row["output_cost_per_token"] * M
    every = cli("pricing", "list", "--layer", "all", "-f", "json").json()["models"]
    ids = [m["model"] for m in every]
    assert len(ids) == len(set(ids))  # a curated id is listed once, from the curated layer
    assert next(m for m in every if m["model"] == "gpt-5.5")["layer"] == "curated"
    assert cli("pricing", "list", "--layer", "bogus").exit_code == 2


def test_misspelt_pricing_config_key_exits_2_naming_file_line_and_field(cli, tmp_path,
                                                                        monkeypatch):  # fmt: skip
    path = write_config(tmp_path, '[pricing]\noverrides = []\n\n[pricing.alaises]\nx = "gpt-4o"\n')
    monkeypatch.chdir(tmp_path)
    result = cli("estimate", "--input-tokens", "10", "-m", "gpt-4o")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"tokcli: error: {path.resolve()}:4: pricing.alaises: unknown key (did you mean 'aliases'?)"
    )


def test_pricing_table_overrides_resolve_against_the_config_file(cli, tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "mine.yaml").write_text(
        "models:\n  - id: gpt-4o\n    prices:\n      - effective_from: 2026-11-01\n"
        '        source: "our contract"\n        input: "2.00"\n',
        encoding="utf-8",
    )
    write_config(
        project, '[pricing]\noverrides = ["mine.yaml"]\n\n[pricing.aliases]\nbot = "gpt-4o"\n'
    )
    monkeypatch.chdir(project / "sub")
    shown = cli("pricing", "show", "bot", "-f", "json")
    assert shown.exit_code == 0, shown.stderr
    assert (shown.json()["source"], shown.json()["prices"]["input"]) == ("our contract", "2")
