"""Every JSON document tokcli prints is an object with a "version" field, so scripts can check
the contract they parse (the tokens command once had none)."""

from __future__ import annotations

import json

import pytest

from conftest import REPO

DEMO = REPO / "examples" / "billing" / "demo_focus_2026-10.csv"
BUDGETS = '[[budgets]]\nscope = { team = "search" }\namount = "5000"\n'

COMMANDS = [
    ["pricing", "list"],
    ["pricing", "show", "gpt-5"],
    ["estimate", "--input-tokens", "1000", "--output-tokens", "200", "-m", "gpt-5"],
    ["estimate", "prompt.txt", "-m", "gpt-5"],
    ["audit", "prompt.txt"],
    ["tokens", "prompt.txt"],
    ["report"],
    ["report", "--by", "team"],
    ["report", "--by", "day"],
    ["report", "budgets"],
    ["budget", "check"],
    ["store", "info"],
    ["advise"],
    ["batch", "list"],
    ["tco", "--volume", "1B"],
    ["tco", "commit", "--commit", "100", "--discount", "20%", "--usage", "90"],
    ["tco", "payback"],
]


@pytest.fixture
def loaded(cli, isolated_env, tmp_path, monkeypatch):
    store = tmp_path / "s.db"
    monkeypatch.setenv("TOKCLI_STORE", str(store))
    assert cli("import", DEMO).exit_code == 0
    (isolated_env / "prompt.txt").write_text("Summarise the ticket below in three bullets.\n")
    (isolated_env / "tokcli.toml").write_text(BUDGETS)
    return store


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_json_document_carries_a_version(cli, loaded, args):
    result = cli(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.stderr  # 1: a budget or audit check failed
    document = json.loads(result.stdout)
    assert isinstance(document, dict) and isinstance(document.get("version"), int), args
