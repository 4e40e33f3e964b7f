"""Issue 15, points 2 and 4: exit codes as README and ExitCode say, failures that keep
signalling until acknowledged, missing result lines that fail the run, and each failed line
with its own validation error."""

from __future__ import annotations

import json

from emulator import Outcome
from emulator.samples import anthropic_line, openai_line, write_jsonl
from tokcli.errors import ExitCode


def submit(cli, tmp_path, provider="openai", count=4, name="in.jsonl"):
    make = openai_line if provider == "openai" else anthropic_line
    source = write_jsonl(tmp_path / name, [make(i) for i in range(count)])
    run = cli("batch", "submit", source, "-p", provider, "--format", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()["job"]["id"]


def poll_to_end(cli, job_id):
    for _ in range(20):
        run = cli("batch", "poll", job_id, "--format", "json")
        if run.exit_code != ExitCode.BATCH_RUNNING:
            return run
    raise AssertionError("never ended")


def test_status_exits_3_while_running_then_0(cli, env, emu, tmp_path):
    emu.outcome = Outcome(polls_in_progress=2)
    job = submit(cli, tmp_path)
    assert cli("batch", "status", job).exit_code == 3
    poll_to_end(cli, job)
    assert cli("batch", "status", job).exit_code == 0


def test_failed_job_keeps_signalling_until_acknowledged(cli, env, emu, tmp_path):
    emu.outcome = Outcome(kind="token_limit")
    job = submit(cli, tmp_path)
    first = cli("batch", "poll", "--all")
    assert first.exit_code == 4 and "token_limit_exceeded" in first.stderr
    # cron runs again: the failure is still there, nobody has handled it
    again = cli("batch", "poll", "--all", "--format", "json")
    assert again.exit_code == 4
    assert again.json()["exit"] == "failed" and again.json()["exit_code"] == 4
    assert f"tokcli batch ack {job}" in again.stderr
    assert cli("batch", "status", job).exit_code == 4

    acked = cli("batch", "ack", job, "--format", "json")
    assert acked.exit_code == 0, acked.stderr
    assert acked.json()["job"]["acked_at"]
    quiet = cli("batch", "poll", "--all", "--format", "json")
    assert quiet.exit_code == 0 and quiet.json()["exit"] == "finished"
    assert cli("batch", "status", job).exit_code == 0


def test_ack_refuses_a_job_that_did_not_fail(cli, env, emu, tmp_path):
    job = submit(cli, tmp_path)
    run = cli("batch", "ack", job)
    assert run.exit_code == 2 and "not failed" in run.stderr


def test_poll_json_exit_names_are_the_documented_ones(cli, env, emu, tmp_path):
    emu.outcome = Outcome(polls_in_progress=2)
    job = submit(cli, tmp_path)
    running = cli("batch", "poll", job, "--format", "json")
    assert running.exit_code == 3
    assert (running.json()["exit"], running.json()["exit_code"]) == ("running", 3)
    done = poll_to_end(cli, job)
    assert (done.json()["exit"], done.json()["exit_code"]) == ("finished", 0)


def test_results_with_missing_lines_exit_4_with_the_count(cli, env, emu, tmp_path):
    emu.outcome = Outcome(lost_at={1, 2}, polls_in_progress=0)
    job = submit(cli, tmp_path, provider="anthropic", count=5)
    poll_to_end(cli, job)
    out = tmp_path / "out.jsonl"
    run = cli("batch", "results", job, "-o", out, "--format", "json")
    assert run.exit_code == 4
    assert "2 of 5 line(s) have no result" in run.stderr
    statuses = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    assert statuses == ["succeeded", "missing", "missing", "succeeded", "succeeded"]


def test_each_line_gets_its_own_validation_error(cli, env, emu, tmp_path):
    emu.outcome = Outcome(validation_errors=[
        {"code": "invalid_request", "line": 3, "param": "body.temperature",
         "message": "line three is wrong"},
        {"code": "invalid_request", "line": 5, "param": "body.top_p",
         "message": "line five is wrong"},
    ])  # fmt: skip
    job = submit(cli, tmp_path, count=6)
    assert poll_to_end(cli, job).exit_code == 4
    out = tmp_path / "out.jsonl"
    assert cli("batch", "results", job, "-o", out).exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["failed"] * 6
    assert lines[2]["error"]["message"] == "line three is wrong"
    assert lines[4]["error"]["message"] == "line five is wrong"
    for index in (0, 1, 3, 5):
        message = lines[index]["error"]["message"]
        assert "line three is wrong" not in message and "line five is wrong" not in message
        assert "other line(s) (3, 5)" in message
