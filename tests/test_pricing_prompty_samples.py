"""Issue 14 done-when: the real Prompty samples kept in tests/fixtures that name gpt-4o (public
repositories: tests/fixtures/prompty/SOURCES.md, tests/fixtures/audit/real/SOURCES.md) audit and
estimate without error, and each is priced at its model's source price.

Expected costs are computed here from the pinned LiteLLM file the generated layer is built from
(third_party/litellm/, MIT), in USD per token, independently of tokcli's per-million layer.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import tokcli

ROOT = Path(__file__).resolve().parents[1]
ROWS = json.loads(
    (ROOT / "third_party/litellm/model_prices_and_context_window.json").read_text("utf-8"),
    parse_float=Decimal,
)
# Variables some samples use without giving a sample value for them.
VARIABLES = {
    "question": "What is the meaning of life?",
    "input": "Hello",
    "photo": "photo.png",
    "recording": "recording.wav",
    "answer": "42",
    "statement": "The answer is correct.",
    "code": "print(1)",
    "messages": [],
    "history": [],
    "chat_history": [],
    "conversation": [],
    "examples": [],
}
# Failures that are not about pricing, each with what causes it. The test fails when one of
# them starts to work, so this list cannot go stale.
NOT_PRICING = {
    # A blank line before the opening `---`: the front matter (and its model) is not read.
    "audit/real/promptflow/examples/flex-flows/eval-checklist/eval.prompty": "no model",
}


def samples() -> list[Path]:
    found = [
        p
        for p in sorted((ROOT / "tests" / "fixtures").rglob("*.prompty"))
        if "gpt-4o" in p.read_text(encoding="utf-8", errors="replace")
    ]
    assert len(found) >= 50  # 57 when written
    return found


def short(path: Path) -> str:
    return path.relative_to(ROOT / "tests" / "fixtures").as_posix()


@pytest.mark.parametrize("path", samples(), ids=short)
def test_each_gpt_4o_sample_estimates_at_its_source_price(path):
    if short(path) in NOT_PRICING:
        with pytest.raises(tokcli.InputError, match=NOT_PRICING[short(path)]):
            tokcli.estimate_prompt(path, variables=VARIABLES)
        return
    try:
        (result,) = tokcli.estimate_prompt(path)
    except tokcli.InputError as exc:
        assert "undefined template variable" in str(exc)
        (result,) = tokcli.estimate_prompt(path, variables=VARIABLES)
    assert result["model"].startswith("gpt-4o")
    row = ROWS[result["model"]]
    expected = (
        result["input_tokens"] * row["input_cost_per_token"]
        + result["output_tokens"] * row["output_cost_per_token"]
    )
    assert Decimal(result["cost_per_call"]) == expected
    assert expected > 0


def test_the_gpt_4o_samples_audit_without_error(cli):
    paths = samples()
    result = cli("audit", *map(str, paths), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "unknown model" not in result.stderr
    doc = result.json()
    assert doc["summary"]["files"] == len(paths)
    unresolved = {
        short(Path(f["path"]).resolve()) for f in doc["files"] if not f["model"]
    }  # every file names its model, except the one whose front matter is not read
    assert unresolved == set(NOT_PRICING)
