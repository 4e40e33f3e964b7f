"""Completion of option values through the shell protocol of the installed console script:
model names from the pricing registry, `--by` keys from the store's tags."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

DEMO = REPO / "examples" / "billing" / "demo_focus_2026-10.csv"


def complete(words: str, env: dict[str, str] | None = None) -> list[str]:
    script = shutil.which("tokcli", path=str(Path(sys.executable).parent))
    assert script is not None
    full_env = {**os.environ, **(env or {}), "_TOKCLI_COMPLETE": "complete_bash",
                "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}  # fmt: skip
    run = subprocess.run([script], capture_output=True, text=True, env=full_env, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.split()


def test_model_names_complete_from_the_registry():
    from tokcli.pricing import Registry

    offered = complete("tokcli estimate -m claude-so")
    curated = {m.id for m in Registry.load().list() if m.id.startswith("claude-so")}
    assert offered and set(offered) == curated
    assert "claude-sonnet-4-6" in complete("tokcli pricing show claude-sonnet-4")


def test_by_keys_complete_from_the_store_tags(cli, tmp_path):
    store = tmp_path / "s.db"
    assert cli("import", DEMO, "--store", store).exit_code == 0
    env = {"TOKCLI_STORE": str(store)}
    assert complete("tokcli report --by te", env) == ["team"]
    assert set(complete("tokcli report --by team,fe", env)) == {"team,feature"}
    assert "model" in complete("tokcli advise --by mo", env)
