"""Rule documentation: `tokcli audit --explain`, docs/rules/TCxxx.md kept in step with it,
and one stable page per rule in SARIF."""

from __future__ import annotations

from pathlib import Path

from tokcli.audit.explain import DOCS, explain
from tokcli.audit.rules import RULES

REPO = Path(__file__).resolve().parents[1]


def test_every_rule_is_documented_with_the_four_parts():
    assert set(DOCS) == {rule.info.code for rule in RULES}
    for rule in RULES:
        page = explain(rule.info.code)
        for heading in ("## What it flags", "## Why it costs money", "## Example", "## Fix"):
            assert heading in page, (rule.info.code, heading)


def test_docs_pages_match_the_explanations():
    # Regenerate with: python -m tokcli.audit.explain docs/rules
    for rule in RULES:
        path = REPO / "docs" / "rules" / f"{rule.info.code}.md"
        assert path.read_text(encoding="utf-8") == explain(rule.info.code), path


def test_cache_rules_state_the_provider_rule_and_prices():
    page = explain("TC101")
    assert "1,024 tokens" in page and "0.1x" in page and "error-saving" in page


def test_explain_command_by_code_and_name(cli):
    by_code = cli("audit", "--explain", "TC202")
    assert by_code.exit_code == 0
    assert by_code.stdout == explain("TC202")
    by_name = cli("audit", "--explain", "unbounded-output")
    assert by_name.stdout.startswith("# TC301 unbounded-output\n")
    assert "default: off" in by_name.stdout


def test_explain_unknown_rule_exits_2(cli):
    run = cli("audit", "--explain", "TC999")
    assert run.exit_code == 2
    assert run.stderr == (
        "tokcli: error: --explain: unknown rule 'TC999' (see `tokcli audit --list-rules`)\n"
    )
