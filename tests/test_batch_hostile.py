"""Issue 15 point 5 and issue 21: uploads that the connection loses after the server stored
them, answers that are not the API's, and max_tokens that would slip past --max-cost."""

from __future__ import annotations

import json

import pytest

from emulator import Fault
from emulator.samples import anthropic_line, kill_when_hung, openai_line, start_tokcli, write_jsonl


def input_files(emu):
    return [f for f in emu.openai.files.values() if f["object"]["purpose"] == "batch"]


def test_upload_stored_then_connection_lost_is_found_not_repeated(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    emu.faults = [Fault("POST", r"/v1/files", status="drop-after")]
    run = cli("batch", "submit", source, "-p", "openai", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert emu.count("POST", r"/v1/files") == 1  # looked for it, did not send it again
    assert len(input_files(emu)) == 1
    (stored,) = input_files(emu)
    assert run.json()["job"]["parts"][0]["file_id"] == stored["object"]["id"]
    assert len(emu.openai.batches) == 1


def test_resume_keeps_the_matching_upload_and_deletes_copies(tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    emu.faults = [Fault("POST", r"/v1/files", status="hang-after")]
    kill_when_hung(start_tokcli("batch", "submit", source, "-p", "openai"), emu, 1)
    (good,) = input_files(emu)
    # A cut-short copy under the same name (an earlier attempt): same name, other bytes.
    partial = tmp_path / "partial"
    partial.write_bytes(good["path"].read_bytes()[:40])
    copy = emu.openai._store_file("file-partialcopy00000000", partial, good["object"]["filename"],
                                  "batch", 40)  # fmt: skip
    resumed = tokcli_process("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert [f["object"]["id"] for f in input_files(emu)] == [good["object"]["id"]]
    assert copy["id"] not in emu.openai.files
    assert resumed.json()["jobs"][0]["parts"][0]["file_id"] == good["object"]["id"]
    assert emu.count("POST", r"/v1/files") == 1


def test_cancel_before_create_deletes_the_upload(tokcli_process, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    emu.faults = [Fault("POST", r"/v1/batches", status="hang-before")]
    kill_when_hung(start_tokcli("batch", "submit", source, "-p", "openai"), emu, 1)
    assert len(input_files(emu)) == 1
    job = tokcli_process("batch", "list", "--format", "json").json()["jobs"][0]["id"]
    cancelled = tokcli_process("batch", "cancel", job, "--format", "json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert input_files(emu) == [] and emu.openai.batches == {}


@pytest.mark.parametrize("how", ["html", "truncated"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_200_that_is_not_the_api_is_one_clear_error(how, provider, cli, env, emu, tmp_path):
    make = openai_line if provider == "openai" else anthropic_line
    source = write_jsonl(tmp_path / "in.jsonl", [make(i) for i in range(2)])
    emu.outcome.polls_in_progress = 0  # an Anthropic batch's ids are readable once it ends
    # A --base-url that reaches a proxy's error page (or a body cut short) on every request.
    emu.faults = [Fault(method, r"/.*", status=how, times=1000) for method in ("POST", "GET")]
    run = cli("batch", "submit", source, "-p", provider)
    assert run.exit_code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tokcli: error: ")
    assert "HTTP 200 but the body is not JSON" in lines[0] and "Traceback" not in run.stderr
    # The request was acted on (the upload or the batch exists): nothing is sent twice later.
    emu.faults = []
    resumed = cli("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    batches = emu.openai.batches if provider == "openai" else emu.anthropic.batches
    assert len(batches) == 1
    if provider == "openai":
        assert len(input_files(emu)) == 1


@pytest.mark.parametrize(
    "raw,shown",
    [("NaN", "NaN is not a JSON number"), ("Infinity", "Infinity is not a JSON number"),
     ("1e400", "inf must be a whole number >= 1"), ("-5", "-5 must be a whole number >= 1"),
     ("2.5", "2.5 must be a whole number >= 1"), ('"50"', "'50' must be a whole number >= 1")],
)  # fmt: skip
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_max_tokens_that_would_slip_past_max_cost_is_refused(
    provider, raw, shown, cli, env, emu, tmp_path
):
    make = openai_line if provider == "openai" else anthropic_line
    lines = [json.dumps(make(i)) for i in range(3)]
    field = "max_completion_tokens" if provider == "openai" else "max_tokens"
    lines[1] = lines[1].replace(f'"{field}": 50', f'"{field}": {raw}')
    assert raw in lines[1]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    run = cli("batch", "submit", source, "-p", provider, "--max-cost", "1000")
    assert run.exit_code == 2, run.stderr
    assert run.stderr.startswith(f"tokcli: error: {source}:2: ")
    assert shown in run.stderr
    assert emu.log == []  # nothing sent
