"""`tokcli audit` configuration, suppression, exit codes and input errors."""

from __future__ import annotations

import subprocess
import sys

FILLER = "Please make sure to answer briefly.\n"  # one TC201 (info), bounded output
TIME_FIRST = (
    "Time: {{ now }}\n"
    + " ".join(f"Rule {n}: refunds for order type {n} follow the store policy." for n in range(90))
    + "\nBe concise.\n"
)  # one TC101: over 1,024 stable tokens, a warning (an error when priced)


def rules_of(run) -> list[str]:
    return [f["rule"] for f in run.json()["findings"]]


def test_select_and_ignore_by_code_prefix_and_name(cli, isolated_env):
    (isolated_env / "a.j2").write_text(TIME_FIRST)
    (isolated_env / "b.txt").write_text(FILLER)
    everything = cli("audit", ".", "--format", "json", "--fail-on", "never")
    assert rules_of(everything) == ["TC101", "TC201"]
    assert rules_of(cli("audit", ".", "-f", "json", "--select", "TC1")) == ["TC101"]
    assert rules_of(cli("audit", ".", "-f", "json", "--select", "filler")) == ["TC201"]
    run = cli("audit", ".", "-f", "json", "--ignore", "cache-breaking-prefix,TC2")
    assert rules_of(run) == [] and run.exit_code == 0


def test_unknown_rule_is_a_usage_error(cli, isolated_env):
    run = cli("audit", ".", "--select", "no-such-rule")
    assert run.exit_code == 2
    assert run.stderr == (
        "tokcli: error: audit.select: unknown rule 'no-such-rule' "
        "(see `tokcli audit --list-rules`)\n"
    )
    assert run.stdout == ""


def test_fail_on_threshold(cli, isolated_env):
    (isolated_env / "b.txt").write_text(FILLER)
    assert cli("audit", "b.txt").exit_code == 0  # an info, default --fail-on error
    assert cli("audit", "b.txt", "--fail-on", "warning").exit_code == 0
    assert cli("audit", "b.txt", "--fail-on", "info").exit_code == 1
    (isolated_env / "a.j2").write_text(TIME_FIRST)  # a warning (no volume: no money)
    assert cli("audit", "a.j2", "--fail-on", "warning").exit_code == 1
    (isolated_env / "a.j2").write_text(TIME_FIRST)
    assert cli("audit", "a.j2", "--fail-on", "never").exit_code == 0


def test_config_file_select_severity_per_file_ignores(cli, isolated_env):
    (isolated_env / "legacy").mkdir()
    (isolated_env / "legacy" / "old.j2").write_text(TIME_FIRST)
    (isolated_env / "b.txt").write_text(FILLER)
    (isolated_env / "tokcli.toml").write_text(
        "[audit]\n"
        'severity = { filler = "error" }\n'
        'per-file-ignores = { "legacy/*" = ["cache-breaking-prefix"] }\n'
    )
    run = cli("audit", ".", "--format", "json")
    assert [(f["path"], f["rule"], f["severity"]) for f in run.json()["findings"]] == [
        ("b.txt", "TC201", "error")
    ]
    assert run.exit_code == 1  # filler raised to error


def test_pyproject_tool_table_and_fail_on(cli, isolated_env):
    (isolated_env / "b.txt").write_text(FILLER)
    (isolated_env / "pyproject.toml").write_text(
        '[tool.tokcli.audit]\nselect = ["ALL"]\nignore = ["TC3"]\nfail-on = "info"\n'
    )
    run = cli("audit", "b.txt", "--format", "json")
    assert rules_of(run) == ["TC201"]
    assert run.exit_code == 1
    assert run.json()["summary"]["fail_on"] == "info"


def test_config_volume_and_model_price_findings(cli, isolated_env):
    (isolated_env / "b.txt").write_text(FILLER)
    (isolated_env / "tokcli.toml").write_text(
        '[audit]\nmodel = "gpt-5"\nrequests = 2000\nper = "day"\n'
    )
    (finding,) = cli("audit", "b.txt", "--format", "json").json()["findings"]
    # 5 tokens x 60,000 calls a month x $1.25/MTok (gpt-5 input)
    assert finding["monthly_cost"] == "0.375"


def test_max_tokens_in_config_bounds_output(cli, isolated_env):
    (isolated_env / "u.txt").write_text("Write an essay about the sea.\n")
    assert rules_of(cli("audit", "u.txt", "-f", "json")) == []  # TC301 is off by default
    assert rules_of(cli("audit", "u.txt", "-f", "json", "--select", "TC301")) == ["TC301"]
    (isolated_env / "tokcli.toml").write_text("[audit]\nmax_tokens = 500\n")
    assert rules_of(cli("audit", "u.txt", "-f", "json", "--select", "TC301")) == []


def test_unknown_config_key_names_the_field(cli, isolated_env):
    (isolated_env / "tokcli.toml").write_text('[audit]\nselct = ["TC1"]\n')
    run = cli("audit", ".")
    assert run.exit_code == 2
    assert run.stderr == (
        f"tokcli: error: {isolated_env / 'tokcli.toml'}:2: audit.selct: unknown key "
        "(did you mean 'select'?)\n"
    )


def test_inline_suppression_forms(cli, isolated_env):
    (isolated_env / "a.md").write_text(
        "Please make sure to be brief. <!-- tokcli: ignore[TC201] -->\n"
        "# tokcli: ignore\n"
        "Remember to be brief.\n"
        "Kindly be brief. <!-- tokcli: ignore[duplicate-instruction] -->\n"
    )
    run = cli("audit", "a.md", "--format", "json")
    assert [(f["line"], f["rule"]) for f in run.json()["findings"]] == [(4, "TC201")]
    assert run.json()["summary"]["suppressed"] == 2


def test_unknown_rule_in_a_suppression_comment_warns(cli, isolated_env):
    (isolated_env / "a.md").write_text("Be brief. <!-- tokcli: ignore[no-such] -->\n")
    run = cli("audit", "a.md")
    assert run.exit_code == 0
    assert run.stderr == "tokcli: warning: a.md:1: tokcli: ignore names unknown rule 'no-such'\n"


def test_exclude_option(cli, isolated_env):
    (isolated_env / "drafts").mkdir()
    (isolated_env / "drafts" / "x.txt").write_text(FILLER)
    (isolated_env / "y.txt").write_text(FILLER)
    run = cli("audit", ".", "--exclude", "drafts/*", "--format", "json")
    assert [f["path"] for f in run.json()["findings"]] == ["y.txt"]


def test_missing_file_exits_2(cli, isolated_env):
    run = cli("audit", "nope.txt")
    assert run.exit_code == 2
    assert run.stderr == "tokcli: error: nope.txt: no such file or directory\n"


def _diagnostics(run):
    return [
        (f["path"], f["line"], f["rule"], f["severity"], f["message"])
        for f in run.json()["findings"]
        if f["rule"] in ("TC001", "TC002")
    ]


def test_bad_front_matter_is_a_finding_and_the_run_goes_on(cli, isolated_env):
    # Old behaviour: exit 2 and no other finding. Now: a TC001 finding, the other file audited.
    (isolated_env / "p.prompt").write_text("---\nmodel: [gpt-5\n---\nHi {{x}}\n")
    (isolated_env / "q.txt").write_text(FILLER)
    run = cli("audit", ".", "--format", "json")
    assert run.exit_code == 1  # TC001 is an error, at or above the default --fail-on error
    ((path, line, rule, severity, message),) = _diagnostics(run)
    assert (path, rule, severity) == ("p.prompt", "TC001", "error")
    assert line in (2, 3) and message.startswith("invalid YAML")
    assert "q.txt" in {f["path"] for f in run.json()["findings"] if f["rule"] == "TC201"}
    assert run.stderr == "tokcli: error: audit: 1 finding at or above --fail-on error\n"
    never = cli("audit", ".", "--format", "json", "--fail-on", "never")
    assert never.exit_code == 0


def test_unknown_model_in_front_matter_is_one_warning_per_id(cli, isolated_env):
    (isolated_env / "p.j2").write_text("---\nmax_tokens: 5\nmodel: gpt-5-mimi\n---\nHi\n")
    (isolated_env / "r.j2").write_text("---\nmax_tokens: 5\nmodel: gpt-5-mimi\n---\nHo\n")
    run = cli("audit", ".", "--format", "json")
    assert run.exit_code == 0  # a warning, below the default --fail-on error
    ((path, line, rule, severity, message),) = _diagnostics(run)
    assert (path, line, rule, severity) == ("p.j2", 3, "TC002", "warning")
    assert message.startswith("unknown model 'gpt-5-mimi'; closest known ids: gpt-5-mini")
    assert [f["path"] for f in run.json()["files"]] == ["p.j2", "r.j2"]


def test_unknown_model_on_the_command_line_still_exits_2(cli, isolated_env):
    (isolated_env / "p.j2").write_text("Hi\n")
    run = cli("audit", "p.j2", "-m", "gpt-5-mimi")
    assert run.exit_code == 2
    assert run.stderr.startswith("tokcli: error: unknown model 'gpt-5-mimi'")


def test_bad_volume_in_front_matter(cli, isolated_env):
    (isolated_env / "p.j2").write_text("---\nmodel: gpt-5\nrequests: lots\n---\nHi\n")
    run = cli("audit", "p.j2", "--format", "json")
    assert run.exit_code == 1
    ((path, line, rule, _, message),) = _diagnostics(run)
    assert (path, line, rule) == ("p.j2", 3, "TC001")
    assert message.startswith("requests: must be a whole number")


def test_not_utf8_is_a_finding(cli, isolated_env):
    (isolated_env / "p.txt").write_bytes(b"Hello\n\xff\xfe bad\n")
    run = cli("audit", "p.txt", "--format", "json")
    assert run.exit_code == 1
    assert _diagnostics(run) == [("p.txt", 2, "TC001", "error", "not UTF-8 text (byte 6)")]


def test_deeply_nested_json_is_a_finding_not_a_traceback(cli, isolated_env):
    (isolated_env / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (isolated_env / "ok.txt").write_text(FILLER)
    run = cli("audit", "deep.json", "ok.txt", "--format", "json")
    assert run.exit_code == 1 and "Traceback" not in run.stderr
    ((path, _, rule, _, message),) = _diagnostics(run)
    assert (path, rule) == ("deep.json", "TC001") and "nested too deeply" in message


def test_empty_prompty_front_matter_is_valid(cli, isolated_env):
    (isolated_env / "e.prompty").write_text("---\n---\nsystem:\nSay hi in one word.\n")
    run = cli("audit", "e.prompty", "--format", "json", "--fail-on", "info")
    assert run.exit_code == 0, run.stdout
    assert run.json()["findings"] == []


def test_json_that_is_not_a_chat_file(cli, isolated_env):
    (isolated_env / "data").mkdir()
    (isolated_env / "data" / "package.json").write_text('{"name": "x"}')
    run = cli("audit", "data", "--format", "json")  # found by walking: skipped
    assert run.exit_code == 0 and run.json()["summary"]["files"] == 0
    named = cli("audit", "data/package.json", "--format", "json")  # named: a finding
    assert named.exit_code == 1
    assert _diagnostics(named) == [
        ("data/package.json", 1, "TC001", "error", "holds no chat messages (role/content)")
    ]


def test_list_rules(cli):
    run = cli("audit", "--list-rules", "--format", "json")
    names = [(r["code"], r["name"], r["severity"]) for r in run.json()["rules"]]
    assert [r["code"] for r in run.json()["rules"] if r["default"] == "off"] == ["TC301"]
    assert names == [
        ("TC001", "unreadable-template", "error"),
        ("TC002", "unknown-model", "warning"),
        ("TC101", "cache-breaking-prefix", "error"),
        ("TC102", "below-cache-minimum", "warning"),
        ("TC103", "unstable-serialization", "info"),
        ("TC104", "large-inline-examples", "warning"),
        ("TC105", "cache-breaking-code-prompt", "error"),
        ("TC201", "filler", "info"),
        ("TC202", "duplicate-instruction", "warning"),
        ("TC301", "unbounded-output", "warning"),
        ("TC302", "reasoning-model-for-simple-task", "warning"),
    ]


def test_real_process_exit_code_and_stdout(tokcli_process, isolated_env):
    (isolated_env / "a.j2").write_text(TIME_FIRST)
    args = ("-m", "deepseek-v4-flash", "-n", "100000", "--per", "day")  # saves > $10/month
    run = tokcli_process("audit", "a.j2", *args, "--format", "sarif", cwd=isolated_env)
    assert run.exit_code == 1
    assert run.stdout.lstrip().startswith("{") and '"version": "2.1.0"' in run.stdout
    assert run.stderr == "tokcli: error: audit: 1 finding at or above --fail-on error\n"


def test_loading_the_command_imports_no_heavy_library():
    code = (
        "import sys, tokcli.cli.audit, tokcli.audit.engine, tokcli.audit.formats\n"
        "heavy = {'pandas', 'httpx', 'tiktoken', 'rich', 'jinja2'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_model_precedence_flag_then_front_matter_then_config(cli, isolated_env):
    (isolated_env / "p.txt").write_text("---\nmodel: gpt-5-nano\nrequests: 100\n---\n" + FILLER)
    (isolated_env / "tokcli.toml").write_text('[audit]\nmodel = "gpt-5"\nrequests = 999\n')
    files = cli("audit", "p.txt", "--format", "json").json()["files"]
    assert (files[0]["model"], files[0]["monthly_requests"]) == ("gpt-5-nano", 100)
    flagged = cli("audit", "p.txt", "-m", "o1", "-n", "7", "--format", "json").json()["files"]
    assert (flagged[0]["model"], flagged[0]["monthly_requests"]) == ("o1", 7)
    (isolated_env / "q.txt").write_text(FILLER)
    defaults = cli("audit", "q.txt", "--format", "json").json()["files"]
    assert (defaults[0]["model"], defaults[0]["monthly_requests"]) == ("gpt-5", 999)


def test_empty_templates_have_no_findings(cli, isolated_env):
    (isolated_env / "empty.txt").write_text("")
    (isolated_env / "front.md").write_text("---\nmodel: gpt-5\n---\n\n")
    run = cli("audit", ".", "--format", "json", "--fail-on", "info")
    assert run.exit_code == 0
    assert run.json()["findings"] == [] and run.json()["summary"]["files"] == 2
