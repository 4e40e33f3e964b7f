"""`tokcli audit` on the template corpus (tests/fixtures/audit/corpus): every finding, exactly.

The corpus has clean templates (clean/, suppressed/) that must produce no finding and true
positives (tp/) for every rule. A new false positive or a lost finding fails this test.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from conftest import FIXTURES
from tokcli.audit.rules import RULES
from tokcli.audit.rules.diagnostics import DIAGNOSTIC_CODES

CORPUS = FIXTURES / "audit" / "corpus"

# (path, line, column, rule, severity), sorted as audit prints them, at default settings
# (TC301 unbounded-output is off by default: see OPT_IN). Without a model, a per-call value
# in front of a template under 1,024 stable tokens is `info`: nothing is lost on OpenAI or
# Anthropic, whose smallest cacheable prompt is 1,024 tokens.
EXPECTED = [
    ("corpus/tp/below_minimum_cross.j2", 7, 11, "TC101", "warning"),
    ("corpus/tp/below_minimum_cross.j2", 7, 11, "TC102", "warning"),
    ("corpus/tp/below_minimum_never.prompt", 7, 1, "TC102", "info"),
    ("corpus/tp/chat_filler.yaml", 7, 7, "TC201", "info"),
    ("corpus/tp/chat_messages.json", 5, 33, "TC101", "info"),
    ("corpus/tp/duplicate_exact.txt", 4, 1, "TC202", "warning"),
    ("corpus/tp/duplicate_near.md", 5, 1, "TC202", "warning"),
    ("corpus/tp/examples_after_var.j2", 1, 18, "TC101", "info"),
    ("corpus/tp/examples_after_var.j2", 5, 1, "TC104", "warning"),
    ("corpus/tp/examples_shared_b.md", 4, 1, "TC104", "info"),
    ("corpus/tp/filler_emphasis.md", 3, 7, "TC201", "info"),
    ("corpus/tp/filler_emphasis.md", 4, 1, "TC201", "info"),
    ("corpus/tp/filler_role.txt", 1, 1, "TC201", "info"),
    ("corpus/tp/filler_role.txt", 2, 1, "TC201", "info"),
    ("corpus/tp/filler_role.txt", 3, 1, "TC201", "info"),
    ("corpus/tp/filler_role.txt", 4, 1, "TC201", "info"),
    ("corpus/tp/ids_in_prefix.txt", 1, 26, "TC101", "info"),
    ("corpus/tp/literal_timestamp.md", 1, 20, "TC101", "info"),
    ("corpus/tp/reasoning_classify.prompt", 6, 1, "TC302", "warning"),
    ("corpus/tp/time_first.j2", 1, 15, "TC101", "info"),
    ("corpus/tp/tools_first.j2", 2, 1, "TC101", "info"),
    ("corpus/tp/tools_first.j2", 2, 1, "TC103", "info"),
    ("corpus/tp/unsorted_json.j2", 1, 20, "TC101", "info"),
    ("corpus/tp/unsorted_json.j2", 1, 20, "TC103", "info"),
    ("corpus/tp/uuid_literal.txt", 1, 7, "TC101", "info"),
]


# Rules off by default, with their true positives when selected.
OPT_IN = [
    ("corpus/tp/unbounded.txt", 1, 1, "TC301", "warning"),
    ("corpus/tp/unbounded_priced.prompty", 9, 1, "TC301", "warning"),
]


@pytest.fixture
def corpus(isolated_env):
    shutil.copytree(CORPUS, isolated_env / "corpus")
    return "corpus"


def test_corpus_has_at_least_30_templates():
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert len(files) >= 30
    assert len(list((CORPUS / "clean").iterdir())) >= 10


def test_corpus_findings_are_exactly_the_expected_ones(cli, corpus):
    run = cli("audit", corpus, "--format", "json", "--fail-on", "never")
    assert run.exit_code == 0, run.stderr
    found = [
        (f["path"], f["line"], f["column"], f["rule"], f["severity"])
        for f in run.json()["findings"]
    ]
    assert found == EXPECTED
    summary = run.json()["summary"]
    assert summary["files"] == 33
    # one per file in suppressed/, but ignore_file.j2 suppresses TC301, which is off by default
    assert summary["suppressed"] == 2


def test_clean_and_suppressed_templates_produce_nothing(cli, corpus):
    for folder in ("clean", "suppressed"):
        run = cli("audit", f"{corpus}/{folder}", "--format", "json", "--fail-on", "info")
        assert run.exit_code == 0, run.stdout
        assert run.json()["findings"] == []


def test_every_rule_has_a_true_positive_in_the_corpus():
    # TC105 reads Python: its true positives are in tests/test_audit_cache_breaking.py.
    checks = {rule.info.code for rule in RULES} - DIAGNOSTIC_CODES - {"TC105"}
    assert {code for *_, code, _ in EXPECTED + OPT_IN} == checks


def test_opt_in_rules_find_their_true_positives(cli, corpus):
    run = cli("audit", corpus, "--format", "json", "--fail-on", "never", "--select", "TC301")
    found = [
        (f["path"], f["line"], f["column"], f["rule"], f["severity"])
        for f in run.json()["findings"]
    ]
    assert found == OPT_IN


def test_no_volume_no_error_then_priced_errors_fail(cli, corpus):
    # Severity follows money: without a model and volume no finding has a price, so none is
    # an error and the default --fail-on error passes.
    run = cli("audit", corpus, "--format", "json")
    assert run.exit_code == 0 and run.json()["summary"]["by_severity"]["error"] == 0
    priced = cli("audit", corpus, "-m", "deepseek-v4-flash", "-n", "100000", "--per", "day")
    errors = [line for line in priced.stdout.splitlines() if "  error  " in line]
    assert priced.exit_code == 1 and errors
    assert all("TC101" in line and "/month" in line for line in errors)
    assert priced.stderr.strip() == (
        f"tokcli: error: audit: {len(errors)} finding{'s' if len(errors) > 1 else ''} "
        "at or above --fail-on error"
    )


def test_front_matter_volume_prices_the_reasoning_finding(cli, corpus):
    # o1 input $15/MTok vs gpt-5-nano $0.05/MTok (registry); 24 prompt tokens (o200k, exact
    # for OpenAI); 1,000 requests/day x 30 days.
    run = cli(
        "audit",
        f"{corpus}/tp/reasoning_classify.prompt",
        "-n",
        "1000",
        "--per",
        "day",
        "--format",
        "json",
    )
    (finding,) = run.json()["findings"]
    assert finding["tokens"] == 24
    assert Decimal(finding["monthly_cost"]) == Decimal(24 * 30_000) * Decimal("14.95") / 10**6
    assert "$15/MTok" in finding["message"] and "gpt-5-nano" in finding["message"]


def test_parallel_workers_give_the_same_result(cli, corpus):
    sequential = cli("audit", corpus, "--format", "json", "--fail-on", "never", "--jobs", "1")
    parallel = cli("audit", corpus, "--format", "json", "--fail-on", "never", "--jobs", "2")
    assert parallel.json() == sequential.json()


def test_repeated_examples_found_across_worker_chunks(cli, isolated_env):
    block = (CORPUS / "tp" / "examples_shared_a.md").read_text()
    folder = isolated_env / "many"
    folder.mkdir()
    for n in range(45):  # chunks of 20 files: f00 and f44 land in different workers
        text = block if n in (0, 44) else f"Reply with yes or no about item {n}.\n"
        (folder / f"f{n:02d}.md").write_text(text)
    for jobs in ("1", "2"):
        run = cli("audit", "many", "--format", "json", "--jobs", jobs)
        found = [(f["path"], f["rule"], f["message"]) for f in run.json()["findings"]]
        assert found == [
            ("many/f44.md", "TC104", "the same 353-token example block is in many/f00.md:4")
        ]
