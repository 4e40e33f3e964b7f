"""Issue 14: `tokcli pricing update` refreshes the generated layer offline, effective-dated,
printing every price-changing field first; `--dry-run` writes nothing.

The "newer copy" is the pinned LiteLLM input (third_party/litellm/) with edits made here, so the
expected changes are known independently of tokcli.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = ROOT / "third_party" / "litellm" / "model_prices_and_context_window.json"


@pytest.fixture
def newer(tmp_path) -> Path:
    data = json.loads(PINNED.read_text(encoding="utf-8"), parse_float=Decimal)
    data["gpt-4o"]["input_cost_per_token"] = Decimal("3e-06")  # 2.50 -> 3.00 per MTok
    data["gpt-4o"]["input_cost_per_token_above_128k_tokens"] = Decimal("6e-06")  # a new band
    del data["gpt-4o-mini"]["cache_read_input_token_cost_priority"]  # a removed tier price
    del data["o3-mini"]  # a removed model
    data["acme-new-model"] = {"mode": "chat", "litellm_provider": "acme",
                              "input_cost_per_token": Decimal("1e-06"),
                              "output_cost_per_token": Decimal("2e-06")}  # fmt: skip
    path = tmp_path / "newer.json"
    # Decimals back as JSON numbers, exactly as written (json has no Decimal encoder).
    text = json.dumps(data, default=lambda number: f"@@{number}@@")
    path.write_text(text.replace('"@@', "").replace('@@"', ""), encoding="utf-8")
    return path


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def changes_of(result) -> dict:
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert doc["version"] == 1
    return {(c["model"], c["field"]): (c["change"], c["old"], c["new"]) for c in doc["changes"]}


def test_dry_run_lists_every_changed_field_and_writes_nothing(cli, newer, data_home):
    result = cli("pricing", "update", newer, "--dry-run", "--format", "json")
    changes = changes_of(result)
    assert changes[("gpt-4o", "input")] == ("changed", "2.5", "3")
    assert changes[("gpt-4o", "long_context.above_input_tokens")] == ("added", None, 128000)
    assert changes[("gpt-4o", "long_context.input")] == ("added", None, "6")
    assert changes[("gpt-4o-mini", "priority.cache_read")] == ("removed", "0.125", None)
    assert changes[("o3-mini", "input")][0] == "removed"
    assert changes[("acme-new-model", "output")] == ("added", None, "2")
    assert not (data_home / "tokcli" / "pricing" / "generated.json").exists()
    doc = result.json()
    assert doc["written"] is False and doc["removed_models"] == ["o3-mini"]


def test_update_is_effective_dated_and_keeps_history(cli, newer, data_home):
    result = cli("pricing", "update", newer, "--effective-from", "2026-12-01", "-f", "json")
    assert result.json()["written"] is True
    layer = data_home / "tokcli" / "pricing" / "generated.json"
    assert layer.is_file()

    def input_price(day: str) -> str:
        shown = cli("pricing", "show", "gpt-4o", "--at", day, "-f", "json")
        assert shown.exit_code == 0, shown.stderr
        assert shown.json()["layer"] == "updated"
        return shown.json()["prices"]["input"]

    assert input_price("2026-11-30") == "2.5"  # old usage keeps its old price
    assert input_price("2026-12-01") == "3"
    removed = cli("pricing", "show", "o3-mini", "-f", "json")
    assert removed.exit_code == 0 and removed.json()["prices"]["input"] == "1.1"  # history kept
    added = cli("pricing", "show", "acme-new-model", "--at", "2026-12-02", "-f", "json")
    assert added.json()["prices"]["output"] == "2"
    again = cli("pricing", "update", newer, "--effective-from", "2026-12-01", "-f", "json")
    assert again.json()["changes"] == [] and again.json()["written"] is False


def test_update_from_an_unreadable_file_exits_2(cli, tmp_path, data_home):
    bad = tmp_path / "bad.json"
    bad.write_text('{"gpt-4o": {"input_cost_per_token": 1e-06,}\n}', encoding="utf-8")
    result = cli("pricing", "update", bad)
    assert result.exit_code == 2 and result.stderr.startswith(f"tokcli: error: {bad}:1:")
