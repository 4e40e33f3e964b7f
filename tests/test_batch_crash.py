"""Crash safety with real processes: SIGKILL while a remote step is in doubt (the emulator holds
the request unanswered, before or after acting on it), then `resume` finishes with exactly one
remote batch; two `poll --all` at once: one acts, the other exits cleanly. Random kills at any
moment are in test_batch_chaos.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from emulator import Fault
from emulator.samples import anthropic_line, kill_when_hung, openai_line, start_tokcli, write_jsonl

# The three windows a kill can leave in doubt, as emulator faults.
WINDOWS = {
    "after-upload": ("POST", r"/v1/files", "hang-after"),
    "before-create": ("POST", r"/v1/batches", "hang-before"),
    "after-create": ("POST", r"/v1/batches", "hang-after"),
}


def killed_submit(emu, source, provider, window):
    method, path, how = WINDOWS[window]
    if provider == "anthropic":
        path = r"/v1/messages/batches"
    emu.faults.append(Fault(method, path, status=how))
    kill_when_hung(start_tokcli("batch", "submit", source, "-p", provider), emu, emu.hung + 1)


def input_files(emu):
    return [f for f in emu.openai.files.values() if f["object"]["purpose"] == "batch"]


@pytest.mark.parametrize("crash_at", ["after-upload", "before-create", "after-create"])
def test_openai_sigkill_then_resume_makes_one_batch(crash_at, tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    killed_submit(emu, source, "openai", crash_at)
    expected_before = 1 if crash_at == "after-create" else 0
    assert len(emu.openai.batches) == expected_before

    listed = tokcli_process("batch", "list", "--format", "json").json()["jobs"]
    assert [j["state"] for j in listed] == ["submitting"]

    resumed = tokcli_process("batch", "resume", listed[0]["id"], "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    job = resumed.json()["jobs"][0]
    assert job["state"] == "running"
    assert len(emu.openai.batches) == 1
    assert job["parts"][0]["batch_id"] == next(iter(emu.openai.batches))
    # The upload that reached the provider before the crash was found, not repeated.
    assert len(input_files(emu)) == 1

    # Submitting the same file again returns the job, and does not create another batch.
    again = tokcli_process("batch", "submit", source, "-p", "openai", "--format", "json")
    assert again.exit_code == 0 and again.json()["existing"] is True
    assert again.json()["job"]["id"] == job["id"]
    assert len(emu.openai.batches) == 1


@pytest.mark.parametrize("crash_at", ["before-create", "after-create"])
def test_anthropic_sigkill_then_resume_makes_one_batch(
    crash_at, tokcli_process, env, emu, tmp_path
):
    source = write_jsonl(tmp_path / "in.jsonl", [anthropic_line(i) for i in range(3)])
    emu.outcome.polls_in_progress = 0  # its ids are readable once it ended
    killed_submit(emu, source, "anthropic", crash_at)
    # A resume with no job named picks up every half-submitted job.
    resumed = tokcli_process("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert len(emu.anthropic.batches) == 1
    job = resumed.json()["jobs"][0]
    assert job["parts"][0]["batch_id"] == next(iter(emu.anthropic.batches))


def test_submit_of_a_crashed_job_finishes_it(tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    killed_submit(emu, source, "openai", "after-create")
    rerun = tokcli_process("batch", "submit", source, "-p", "openai", "--format", "json")
    assert rerun.exit_code == 0, rerun.stderr
    assert rerun.json()["job"]["state"] == "running"
    assert len(emu.openai.batches) == 1


def test_ambiguous_create_is_reconciled_not_repeated(cli, env, emu, tmp_path):
    """A 500 after the batch was made (the SDK would retry and pay twice): tokcli looks it up."""
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    real = emu.openai.create_batch

    def create_then_fail(request, *args):
        real(request, *args)
        return emu.openai.error(500, "The server had an error while processing your request.")

    emu.openai.create_batch = create_then_fail
    run = cli("batch", "submit", source, "-p", "openai", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert len(emu.openai.batches) == 1
    assert run.json()["job"]["parts"][0]["batch_id"] == next(iter(emu.openai.batches))


def test_resume_refuses_a_changed_input_file(tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    killed_submit(emu, source, "openai", "before-create")
    write_jsonl(source, [openai_line(i) for i in range(3)])
    resumed = tokcli_process("batch", "resume")
    assert resumed.exit_code == 2
    assert "changed since job" in resumed.stderr
    assert len(emu.openai.batches) == 0


def test_two_polls_at_once_one_acts_the_other_exits_cleanly(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    assert cli("batch", "submit", source, "-p", "openai").exit_code == 0
    emu.delay = 1.5  # hold each request so the first poll keeps the lock, even on a busy CI
    before = emu.count("GET", r"/v1/batches/[^/]+")
    command = [sys.executable, "-m", "tokcli", "batch", "poll", "--all", "--format", "json"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ))
        for _ in range(2)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=60) for p in procs]
    codes = [p.returncode for p in procs]
    documents = [json.loads(out) for out, _ in outputs]
    skipped = [d for d in documents if d["skipped"] == "locked"]
    acted = [d for d in documents if d["skipped"] is None]
    assert len(skipped) == 1 and len(acted) == 1, outputs
    assert codes[documents.index(skipped[0])] == 0
    assert all(err == "" for _, err in outputs)
    # Only one process talked to the provider.
    assert emu.count("GET", r"/v1/batches/[^/]+") - before == 1


def test_poll_is_quiet_when_nothing_changed(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    emu.outcome.polls_in_progress = 5
    cli("batch", "submit", source, "-p", "openai")
    first = cli("batch", "poll", "--all")  # validating -> in_progress: a change
    assert first.exit_code == 3 and first.stdout.strip()
    second = cli("batch", "poll", "--all")  # still in_progress: nothing to say
    assert second.exit_code == 3 and second.stdout == "" and second.stderr == ""


def test_poll_wait_until_done(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    cli("batch", "submit", source, "-p", "openai")
    started = time.monotonic()
    run = cli("batch", "poll", "--all", "--wait", "--interval", "0.01", "--timeout", "20",
              "--format", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert time.monotonic() - started < 10


def test_poll_wait_times_out_as_running(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    emu.outcome.polls_in_progress = 10_000
    cli("batch", "submit", source, "-p", "openai")
    run = cli("batch", "poll", "--all", "--wait", "--interval", "0.01", "--timeout", "0.3")
    assert run.exit_code == 3


def test_transient_faults_are_retried(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    emu.faults = [
        Fault("POST", r"/v1/files", "drop"),  # connection dropped during upload
        Fault("POST", r"/v1/batches", 429, {"retry-after": "0"}),
        Fault("GET", r"/v1/batches/.+", 500),
    ]
    emu.outcome.not_found_polls = 1  # 404 right after create
    assert cli("batch", "submit", source, "-p", "openai").exit_code == 0
    assert len(emu.openai.batches) == 1 and len(input_files(emu)) == 1
    assert cli("batch", "poll", "--all").exit_code == 3
    assert all(f.times == 0 for f in emu.faults)


def test_anthropic_two_batches_with_the_same_requests_need_adopt(
    tokcli_process, env, emu, tmp_path
):
    """The part's own requests twice on the server (sent by hand meanwhile): tokcli names both
    and lets the user pick; it never cancels anything."""
    import httpx

    emu.outcome.polls_in_progress = 0
    source = write_jsonl(tmp_path / "in.jsonl", [anthropic_line(i) for i in range(2)])
    killed_submit(emu, source, "anthropic", "after-create")
    (ours,) = emu.anthropic.batches
    copy = emu.anthropic.batches[ours]["requests"]
    httpx.post(
        f"{emu.base_url}/v1/messages/batches",
        json={"requests": copy},
        headers={"x-api-key": env["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"},
    )
    refused = tokcli_process("batch", "resume")
    assert refused.exit_code == 2 and "all hold this part's requests" in refused.stderr
    assert ours in refused.stderr and len(emu.anthropic.batches) == 2
    job_id = tokcli_process("batch", "list", "--format", "json").json()["jobs"][0]["id"]
    adopted = tokcli_process("batch", "resume", job_id, "--adopt", ours, "--format", "json")
    assert adopted.exit_code == 0, adopted.stderr
    assert adopted.json()["jobs"][0]["parts"][0]["batch_id"] == ours
    assert len(emu.anthropic.batches) == 2


def test_force_is_refused_while_a_job_is_half_submitted(tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(2)])
    killed_submit(emu, source, "openai", "after-create")
    forced = tokcli_process("batch", "submit", source, "-p", "openai", "--force")
    assert forced.exit_code == 2 and "half-submitted" in forced.stderr
    assert len(emu.openai.batches) == 1


def test_resume_is_quiet_when_there_is_nothing_to_do(cli, env, emu):
    run = cli("batch", "resume")
    assert run.exit_code == 0 and run.stdout == "" and run.stderr == ""
    assert cli("batch", "resume", "--format", "json").json() == {"version": 1, "jobs": []}
