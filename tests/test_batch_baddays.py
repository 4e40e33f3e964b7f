"""The bad days of BATCH-APIS.md section E, against the emulator."""

from __future__ import annotations

import json

import pytest

from conftest import open_raw_store
from emulator import ANTHROPIC_KEY, OPENAI_KEY, Fault, Outcome
from emulator.samples import anthropic_line, openai_line, write_jsonl


def submit(cli, tmp_path, provider="openai", count=4):
    make = openai_line if provider == "openai" else anthropic_line
    source = write_jsonl(tmp_path / "in.jsonl", [make(i) for i in range(count)])
    run = cli("batch", "submit", source, "-p", provider, "--format", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()["job"]


def poll_to_end(cli, job_id, limit=20):
    for _ in range(limit):
        run = cli("batch", "poll", job_id, "--format", "json")
        if run.exit_code != 3:
            return run
    raise AssertionError("never ended")


def collect(cli, job_id, tmp_path):
    out = tmp_path / "out.jsonl"
    run = cli("batch", "results", job_id, "-o", out, "--format", "json")
    assert run.exit_code == 0, run.stderr
    return run.json(), [json.loads(x) for x in out.read_text().splitlines()]


def usage_count(env):
    return open_raw_store(env["TOKCLI_STORE"]).execute("SELECT COUNT(*) FROM usage").fetchone()[0]


def test_validation_failure_reported_only_after_create(cli, env, emu, tmp_path):
    emu.outcome = Outcome(validation_errors=[{
        "code": "invalid_request", "line": 2, "param": "body.temperature",
        "message": "temperature must be at most 2",
    }])  # fmt: skip
    job = submit(cli, tmp_path)
    polled = poll_to_end(cli, job["id"])
    assert polled.exit_code == 4
    assert polled.json()["jobs"][0]["state"] == "failed"
    summary, lines = collect(cli, job["id"], tmp_path)
    assert summary["statuses"]["failed"] == 4
    assert lines[1]["error"]["message"] == "temperature must be at most 2"
    assert usage_count(env) == 0


def test_token_limit_failure(cli, env, emu, tmp_path):
    emu.outcome = Outcome(kind="token_limit")
    job = submit(cli, tmp_path)
    polled = poll_to_end(cli, job["id"])
    assert polled.exit_code == 4
    assert "failed: token_limit_exceeded: Enqueued token limit reached" in polled.stderr
    _, lines = collect(cli, job["id"], tmp_path)
    assert "Enqueued token limit reached" in lines[0]["error"]["message"]
    assert lines[0]["error"]["code"] == "token_limit_exceeded"


def test_completed_with_no_output_file(cli, env, emu, tmp_path):
    emu.outcome = Outcome(error_at=set(range(4)))
    job = submit(cli, tmp_path)
    assert poll_to_end(cli, job["id"]).exit_code == 0
    batch = next(iter(emu.openai.batches.values()))["object"]
    assert batch["status"] == "completed" and batch["output_file_id"] is None
    summary, lines = collect(cli, job["id"], tmp_path)
    assert summary["statuses"]["errored"] == 4
    assert lines[0]["error"]["type"] == "invalid_request_error"
    assert usage_count(env) == 0


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_expired_batch_keeps_its_finished_results(cli, env, emu, tmp_path, provider):
    emu.outcome = Outcome(kind="expire", finished_before_expiry=3)
    job = submit(cli, tmp_path, provider, count=5)
    polled = poll_to_end(cli, job["id"])
    assert polled.exit_code == 0
    assert polled.json()["jobs"][0]["state"] == "expired"
    summary, lines = collect(cli, job["id"], tmp_path)
    assert summary["statuses"]["succeeded"] == 3 and summary["statuses"]["expired"] == 2
    assert [x["status"] for x in lines] == ["succeeded"] * 3 + ["expired"] * 2
    assert usage_count(env) == 1  # the finished, billed part is on record
    row = open_raw_store(env["TOKCLI_STORE"]).execute("SELECT requests FROM usage").fetchone()
    assert row[0] == 3


def test_slow_finalizing_stays_running(cli, env, emu, tmp_path):
    emu.outcome = Outcome(polls_finalizing=4)
    job = submit(cli, tmp_path)
    states = []
    for _ in range(8):
        run = cli("batch", "poll", job["id"], "--format", "json")
        states.append((run.exit_code, run.json()["jobs"][0]["parts"][0]["remote_status"]))
        if run.exit_code == 0:
            break
    assert states.count((3, "finalizing")) == 4
    assert states[-1] == (0, "completed")
    assert cli("batch", "results", job["id"], "-o", tmp_path / "x.jsonl").exit_code == 0


def test_results_refused_while_running(cli, env, emu, tmp_path):
    emu.outcome = Outcome(polls_in_progress=100)
    job = submit(cli, tmp_path)
    run = cli("batch", "results", job["id"], "-o", tmp_path / "out.jsonl")
    assert run.exit_code == 2 and "still running" in run.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_anthropic_529_and_429_are_retried(cli, env, emu, tmp_path):
    emu.faults = [
        Fault("POST", r"/v1/messages/batches", 529),
        Fault("POST", r"/v1/messages/batches", 429, {"retry-after": "0"}),
        Fault("GET", r"/v1/messages/batches/.+", 529),
    ]
    emu.outcome = Outcome(not_found_polls=1)
    job = submit(cli, tmp_path, "anthropic")
    assert len(emu.anthropic.batches) == 1
    assert poll_to_end(cli, job["id"]).exit_code == 0
    assert all(f.times == 0 for f in emu.faults)


def test_persistent_server_errors_give_up_with_a_clear_message(cli, env, emu, tmp_path):
    job = submit(cli, tmp_path)
    emu.faults = [Fault("GET", r"/v1/batches/.+", 500, times=100)]
    run = cli("batch", "poll", job["id"])
    assert run.exit_code == 2
    assert "HTTP 500" in run.stderr and run.stderr.count("\n") == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_cancel_keeps_the_finished_part(cli, env, emu, tmp_path, provider):
    emu.outcome = Outcome(polls_in_progress=50, finished_before_expiry=1)
    job = submit(cli, tmp_path, provider, count=3)
    cancelled = cli("batch", "cancel", job["id"], "--format", "json")
    assert cancelled.exit_code == 0, cancelled.stderr
    polled = poll_to_end(cli, job["id"])
    assert polled.json()["jobs"][0]["state"] == "cancelled"
    summary, lines = collect(cli, job["id"], tmp_path)
    assert summary["statuses"]["succeeded"] == 1 and summary["statuses"]["cancelled"] == 2
    assert [x["status"] for x in lines] == ["succeeded", "cancelled", "cancelled"]


def test_keys_never_reach_output_logs_or_store(tokcli_process, env, emu, tmp_path, monkeypatch):
    """A full cycle in subprocesses with a failure that echoes the key: grep everything."""
    key_file = tmp_path / "key.txt"
    key_file.write_text(ANTHROPIC_KEY + "\n")
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    source = write_jsonl(tmp_path / "in.jsonl", [anthropic_line(i) for i in range(2)])
    outputs = []

    def run(*args):
        result = tokcli_process(*args, "--api-key-file", key_file)
        outputs.extend([result.stdout, result.stderr])
        return result

    echo = {
        "type": "error",
        "error": {"type": "api_error", "message": f"bad key {ANTHROPIC_KEY} / {OPENAI_KEY}"},
    }
    emu.faults = [Fault("GET", r"/v1/messages/batches/.+", 500, times=10, body=echo)]
    submitted = run("batch", "submit", source, "-p", "anthropic", "--format", "json")
    job_id = submitted.json()["job"]["id"]
    failed = run("batch", "poll", job_id)
    assert failed.exit_code == 2 and "[REDACTED]" in failed.stderr
    emu.faults = []
    for _ in range(5):
        if run("batch", "poll", job_id).exit_code == 0:
            break
    run("batch", "results", job_id, "-o", tmp_path / "out.jsonl")
    run("batch", "status", job_id, "--format", "json")
    store_bytes = b"".join(
        path.read_bytes() for path in tmp_path.glob("store.db*") if path.is_file()
    )
    for secret in (ANTHROPIC_KEY, OPENAI_KEY):
        assert all(secret not in text for text in outputs)
        assert secret.encode() not in store_bytes
        assert secret not in (tmp_path / "out.jsonl").read_text()


def test_file_not_visible_right_after_upload_is_retried(cli, env, emu, tmp_path):
    """OpenAI answered 400 "Cannot find file" to a create right after the upload (E.6)."""
    missing = {"error": {"message": "Cannot find file file-x, or project proj_x does not have "
                         "access to it.", "type": "invalid_request_error", "param": "file_id",
                         "code": None}}  # fmt: skip
    emu.faults = [Fault("POST", r"/v1/batches", 400, body=missing, times=2)]
    submit(cli, tmp_path)
    assert len(emu.openai.batches) == 1 and emu.faults[0].times == 0
