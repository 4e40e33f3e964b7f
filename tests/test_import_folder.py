"""`tokcli import FOLDER`: a folder of exports is walked; a transcript folder is one input."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "billing"


def test_a_folder_of_exports_is_walked(cli, tmp_path):
    folder = tmp_path / "exports"
    (folder / "transcripts").mkdir(parents=True)
    shutil.copy(EXAMPLES / "demo_focus_2026-10.csv", folder / "focus.csv")
    shutil.copy(EXAMPLES / "openai_usage_2025-01.json", folder / "openai.json")
    shutil.copy(EXAMPLES / "claude-code" / "short.jsonl", folder / "transcripts" / "a.jsonl")
    (folder / "README.md").write_text("notes about these exports\n")
    (folder / ".hidden.csv").write_text("not data\n")
    result = cli("import", folder, "--store", tmp_path / "s.db", "--format", "json")
    assert result.exit_code == 0, result.stderr
    imported = {(Path(f["path"]).name, f["format"]) for f in result.json()["files"]}
    assert imported == {("focus.csv", "focus"), ("openai.json", "openai-usage"),
                        ("transcripts", "claude-code")}  # fmt: skip


def test_a_folder_of_transcripts_is_one_claude_code_input(cli, tmp_path):
    result = cli("import", EXAMPLES / "claude-code", "--store", tmp_path / "s.db", "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert [f["format"] for f in result.json()["files"]] == ["claude-code"]
