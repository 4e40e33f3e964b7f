"""Output formats of `tokcli audit`: JSON contract, SARIF 2.1.0, GitHub annotations, table,
markdown, csv."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema

from conftest import FIXTURES
from tokcli.tokens import count_tokens

# The official OASIS schema (tests/fixtures/audit/SOURCES.md), not a hand-written subset.
SCHEMA = json.loads((FIXTURES / "audit" / "sarif-schema-2.1.0.json").read_text())
# deepseek-v4-flash: cache minimum 64 tokens, so the session id's finding has a price.
PRICED = ("-m", "deepseek-v4-flash", "-n", "100000")

TEMPLATE = """Session: {{ session_id }}
You are a helpful, friendly, patient assistant for the Acme parcel service. Answer questions about
parcel tracking, delivery windows, customs forms and lost parcels. Parcels are held at the depot for
seven days before they return to the sender. Customs forms are required for parcels leaving the EU.
Please make sure to ask for the tracking number first.
"""


def write(tmp, name="prompts/support.j2", text=TEMPLATE):
    # The cache finding saves $2.20/month at the volumes below: an error from $1 (error-saving).
    # Every rule, filler as a warning: these tests are about the formats, not the defaults.
    (tmp / "tokcli.toml").write_text(
        '[audit]\nerror-saving = "1"\nselect = ["ALL"]\nseverity = { filler = "warning" }\n'
    )
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_json_contract(cli, isolated_env):
    write(isolated_env)
    run = cli("audit", "prompts", "-m", "deepseek-v4-flash", "-n", "100000", "--format", "json")
    doc = run.json()
    assert doc["version"] == 1
    assert [f["rule"] for f in doc["findings"]] == ["TC301", "TC101", "TC102", "TC201", "TC201"]
    first = doc["findings"][1]
    assert set(first) == {
        "rule", "name", "severity", "path", "line", "column", "end_line", "end_column",
        "message", "suggestion", "tokens", "monthly_cost", "overlaps",
    }  # fmt: skip
    assert (first["path"], first["line"], first["column"]) == ("prompts/support.j2", 1, 10)
    assert (first["end_line"], first["end_column"]) == (1, 26)  # end exclusive: "{{ session_id }}"
    assert isinstance(first["monthly_cost"], str)  # money as a decimal string
    # deepseek-v4-flash (registry, in force 2026-11): input 0.30, cache read 0.006 per MTok;
    # min cacheable 64, so moving the id makes "Session: " plus the run one cacheable prefix.
    prefix = count_tokens("Session: ", "deepseek-v4-flash", "deepseek").tokens
    saving = Decimal(first["tokens"] + prefix) * 100_000 * Decimal("0.294") / 10**6
    assert Decimal(first["monthly_cost"]) == saving
    filler = doc["findings"][4]
    assert filler["tokens"] == 5  # "Please"," make"," sure"," to"," " (o200k)
    assert Decimal(filler["monthly_cost"]) == Decimal(5 * 100_000) * Decimal("0.30") / 10**6
    summary = doc["summary"]
    assert summary["by_severity"] == {"error": 1, "warning": 4, "info": 0}
    assert summary["by_rule"] == {"TC101": 1, "TC102": 1, "TC201": 2, "TC301": 1}
    # TC102 describes the same saving as TC101 ("overlaps"): the total counts it once.
    assert doc["findings"][2]["overlaps"] == "cache-breaking-prefix"
    total = sum(
        Decimal(f["monthly_cost"])
        for f in doc["findings"]
        if f["monthly_cost"] and not f["overlaps"]
    )
    assert Decimal(summary["monthly_cost"]) == total
    assert summary["fail_on"] == "error" and summary["failed"] is True
    assert doc["files"][0]["model"] == "deepseek-v4-flash"
    assert doc["files"][0]["tokens_exact"] is False  # DeepSeek: stated approximation


def test_sarif_validates_against_the_2_1_0_schema(cli, isolated_env):
    write(isolated_env)
    write(isolated_env, "prompts/notes.md", "Summarise the notes.\n")
    run = cli("audit", "prompts", *PRICED, "--format", "sarif", "--fail-on", "never")
    assert run.exit_code == 0
    log = run.json()
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["version"] == "2.1.0"
    (tool_run,) = log["runs"]
    rules = tool_run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "TC001", "TC002", "TC101", "TC102", "TC103", "TC104", "TC105", "TC201", "TC202", "TC301",
        "TC302",
    ]  # fmt: skip
    for rule in rules:  # one stable page per rule: at most one "#" (GitHub rejects two)
        assert rule["helpUri"].count("#") <= 1
        assert rule["helpUri"].endswith(f"/docs/rules/{rule['id']}.md")
    results = tool_run["results"]
    assert len(results) == 6
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")
        assert location["region"]["startLine"] >= 1
    assert [r["ruleId"] for r in results] == [
        "TC301", "TC301", "TC101", "TC102", "TC201", "TC201"
    ]  # fmt: skip
    assert results[2]["level"] == "error"
    assert results[2]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 1, "startColumn": 10, "endLine": 1, "endColumn": 26,
    }  # fmt: skip


def test_invalid_sarif_is_rejected_by_the_schema():
    # The vendored schema must be able to fail: a result without a message is not SARIF.
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{}]}]}
    validator = jsonschema.Draft4Validator(SCHEMA)
    assert not validator.is_valid(bad)
    assert not validator.is_valid({"version": "2.0.0", "runs": []})
    region = {"startLine": 0}
    bad_region = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x"}},
                "results": [
                    {
                        "message": {"text": "m"},
                        "locations": [{"physicalLocation": {"region": region}}],
                    }
                ],
            }
        ],
    }
    assert not validator.is_valid(bad_region)


def test_github_annotations(cli, isolated_env):
    write(isolated_env, "p.txt", "Please make sure to be brief, thanks.\n")
    run = cli("audit", "p.txt", "--format", "github", "--fail-on", "never")
    assert run.stdout.splitlines() == [
        "::warning file=p.txt,line=1,col=1,endLine=1,endColumn=21,title=TC201 filler::"
        "pleasantry: `Please make sure to` costs 5 tokens per call. Replace it with nothing; "
        "the instruction reads the same to the model.",
        "::warning file=p.txt,line=1,col=31,endLine=1,endColumn=38,title=TC201 filler::"
        "pleasantry: `thanks.` costs 2 tokens per call. Replace it with nothing; the "
        "instruction reads the same to the model.",
    ]


def test_table_groups_by_file_and_marks_the_span(cli, isolated_env):
    write(isolated_env)
    run = cli("audit", "prompts", *PRICED, "--select", "cache-breaking-prefix")
    assert run.exit_code == 1
    lines = run.stdout.splitlines()
    assert lines[0] == "prompts/support.j2"
    assert lines[1] == "  1:10  error  TC101 cache-breaking-prefix  $2.20/month"
    assert lines[3] == "    1 | Session: {{ session_id }}"
    assert lines[4] == "      |          ^^^^^^^^^^^^^^^^"
    assert lines[5].startswith("    help: Move `{{ session_id }}` after the stable content")
    assert lines[-1] == "1 finding (1 error) in 1 of 1 file. $2.20/month could be saved."


def test_table_money_is_rounded_for_people(cli, isolated_env):
    write(isolated_env)
    run = cli("audit", "prompts", "--select", "TC101", "-m", "deepseek-v4-flash", "-n", "100000")
    header = run.stdout.splitlines()[1]
    assert header.startswith("  1:10  error  TC101 cache-breaking-prefix  $")
    assert header.endswith("/month")
    assert "could be saved" in run.stdout.splitlines()[-1]


def test_markdown_for_a_pull_request_comment(cli, isolated_env):
    write(isolated_env)
    run = cli("audit", "prompts", *PRICED, "--format", "markdown", "--fail-on", "never")
    assert run.exit_code == 0
    assert run.stdout.startswith("### tokcli audit\n\n| location | severity | rule | message |")
    assert "| prompts/support.j2:1:10 | error | TC101 cache-breaking-prefix |" in run.stdout
    assert "- 5 findings (1 error, 4 warnings) in 1 of 1 file." in run.stdout


def test_csv_has_one_row_per_finding(cli, isolated_env):
    write(isolated_env)
    run = cli("audit", "prompts", "--format", "csv", "--fail-on", "never")
    rows = run.stdout.splitlines()
    assert rows[0] == "location,severity,rule,message,tokens,monthly_cost"
    assert len(rows) == 5


def test_no_findings_message(cli, isolated_env):
    write(isolated_env, "ok.txt", "Reply with yes or no.\n{question}\n")
    run = cli("audit", "ok.txt")
    assert run.exit_code == 0
    assert run.stdout == "No findings in 1 file.\n"


def test_sarif_identical_lines_get_distinct_fingerprints(cli, isolated_env):
    # Old code: the fingerprint was rule + path + line text, so GitHub merged these alerts.
    text = "Please make sure to cite.\nPlease make sure to cite.\n"
    write(isolated_env, "p.txt", text)
    run = cli("audit", "p.txt", "--format", "sarif", "--fail-on", "never", "--select", "TC201")
    results = run.json()["runs"][0]["results"]
    prints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(prints) == 2 and len(set(prints)) == 2
    assert [p.rsplit(":", 1)[1] for p in prints] == ["1", "2"]
    assert prints[0].rsplit(":", 1)[0] == prints[1].rsplit(":", 1)[0]


def test_sarif_carries_unreadable_files(cli, isolated_env):
    write(isolated_env, "p.prompt", "---\nmodel: [x\n---\nHi\n")
    run = cli("audit", "p.prompt", "--format", "sarif", "--fail-on", "never")
    log = run.json()
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    (tool_run,) = log["runs"]
    assert [r["ruleId"] for r in tool_run["results"]] == ["TC001"]
    (note,) = tool_run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].startswith("p.prompt: invalid YAML")
