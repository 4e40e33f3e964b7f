"""Gemini API Batch Mode, the third provider, against the emulator built from Google's API
reference (tests/emulator/gemini.py): inline and file input, results in input order, usage at
Gemini batch prices, the same crash guarantees."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from conftest import open_raw_store
from emulator import Fault, Outcome
from emulator.gemini import output_tokens, prompt_tokens
from emulator.samples import gemini_line, kill_when_hung, start_tokcli, write_jsonl

# Gemini 2.5 Flash batch prices, USD per million tokens, from Google's pricing page (the
# registry row effective 2026-09-01: input 0.15, output 1.25; 50% of 0.30 / 2.50).
BATCH_INPUT, BATCH_OUTPUT = Decimal("0.15"), Decimal("1.25")
STANDARD_INPUT, STANDARD_OUTPUT = Decimal("0.30"), Decimal("2.50")


def poll_to_end(cli, job_id):
    for _ in range(20):
        run = cli("batch", "poll", job_id, "--format", "json")
        if run.exit_code != 3:
            return run
    raise AssertionError("never ended")


def run_cycle(cli, env, emu, tmp_path, count=5):
    lines = [gemini_line(i) for i in range(count)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    submitted = cli("batch", "submit", source, "-p", "gemini", "--tag", "team=ml",
                    "--format", "json")  # fmt: skip
    assert submitted.exit_code == 0, submitted.stderr
    job = submitted.json()["job"]
    assert job["endpoint"] == "models/gemini-2.5-flash"
    assert poll_to_end(cli, job["id"]).exit_code == 0
    out = tmp_path / "out.jsonl"
    collected = cli("batch", "results", job["id"], "-o", out, "--format", "json")
    assert collected.exit_code == 0, collected.stderr
    written = [json.loads(line) for line in out.read_text().splitlines()]
    return job, lines, collected.json(), written


@pytest.mark.parametrize("mode", ["inline", "file"])
def test_gemini_full_cycle(mode, cli, env, emu, tmp_path, monkeypatch):
    if mode == "file":
        monkeypatch.setenv("TOKCLI_GEMINI_INLINE_MAX", "100")  # every part goes by upload
    emu.outcome = Outcome(error_at={2})
    job, lines, summary, written = run_cycle(cli, env, emu, tmp_path)

    (batch,) = emu.gemini.batches.values()
    uploads = [f for f in emu.gemini.files.values() if f["object"]["source"] == "UPLOADED"]
    if mode == "file":
        (upload,) = uploads
        assert batch["object"]["inputConfig"] == {"fileName": upload["object"]["name"]}
        assert job["parts"][0]["file_id"] == upload["object"]["name"]
    else:
        assert uploads == [] and batch["inline"]
    # Every request went out under the job's identity, in input order, exactly once.
    assert [key for key, _ in batch["items"]] == [f"{job['id']}-{n}" for n in range(1, 6)]

    # Results come back shuffled; the file is in input order with the user's keys.
    assert [line["custom_id"] for line in written] == [f"req-{i}" for i in range(5)]
    assert [line["status"] for line in written] == ["succeeded"] * 2 + ["errored"] + [
        "succeeded"
    ] * 2
    assert summary["statuses"]["succeeded"] == 4 and summary["statuses"]["errored"] == 1

    # Usage at Gemini batch prices, by hand from the emulator's token counts.
    ok = [line["request"] for i, line in enumerate(lines) if i != 2]
    prompt = sum(prompt_tokens(r) for r in ok)
    output = sum(output_tokens(r) for r in ok)
    expected = (prompt * BATCH_INPUT + output * BATCH_OUTPUT) / 1_000_000
    standard = (prompt * STANDARD_INPUT + output * STANDARD_OUTPUT) / 1_000_000
    assert Decimal(summary["batch_cost"]) == expected
    assert Decimal(summary["standard_cost"]) == standard
    rows = (
        open_raw_store(env["TOKCLI_STORE"])
        .execute(
            "SELECT provider, model, service_tier, requests, input_tokens, output_tokens, "
            "billed_cost FROM usage"
        )
        .fetchall()
    )
    assert len(rows) == 1
    assert rows[0][:6] == ("google", "gemini-2.5-flash", "batch", 4, prompt, output)
    assert Decimal(rows[0][6]) == expected
    # A second run records nothing twice.
    again = cli("batch", "results", job["id"], "-o", tmp_path / "again.jsonl", "--format", "json")
    assert again.json()["usage_rows_recorded"] == 0
    assert open_raw_store(env["TOKCLI_STORE"]).execute(
        "SELECT COUNT(*) FROM usage").fetchone()[0] == 1  # fmt: skip


def test_gemini_validation_names_file_line_and_field(cli, env, emu, tmp_path):
    lines = [gemini_line(0), gemini_line(1, model="gemini-2.5-pro")]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    run = cli("batch", "submit", source, "-p", "gemini")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"tokcli: error: {source}:2: request.model: ")
    bad = gemini_line(0)
    bad["request"]["generationConfig"]["maxOutputTokens"] = -5
    run = cli("batch", "submit", write_jsonl(tmp_path / "b.jsonl", [bad]), "-p", "gemini")
    assert run.exit_code == 2 and "maxOutputTokens: -5 must be a whole number" in run.stderr
    assert emu.log == []


@pytest.mark.parametrize("window", ["hang-before", "hang-after"])
def test_gemini_killed_mid_create_then_resume_makes_one_batch(
    window, tokcli_process, env, emu, tmp_path
):
    source = write_jsonl(tmp_path / "in.jsonl", [gemini_line(i) for i in range(3)])
    emu.faults = [Fault("POST", r"/v1beta/models/.+", status=window)]
    kill_when_hung(start_tokcli("batch", "submit", source, "-p", "gemini"), emu, 1)
    assert len(emu.gemini.batches) == (1 if window == "hang-after" else 0)
    resumed = tokcli_process("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert len(emu.gemini.batches) == 1
    assert resumed.json()["jobs"][0]["parts"][0]["batch_id"] == next(iter(emu.gemini.batches))


def test_gemini_upload_lost_after_storing_is_found(cli, env, emu, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKCLI_GEMINI_INLINE_MAX", "100")
    source = write_jsonl(tmp_path / "in.jsonl", [gemini_line(i) for i in range(3)])
    emu.faults = [Fault("POST", r"/upload/v1beta/files", status="passthrough", times=1),
                  Fault("POST", r"/upload/v1beta/files", status="drop-after")]  # fmt: skip
    run = cli("batch", "submit", source, "-p", "gemini", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert len(emu.gemini.files) == 1
    assert emu.count("POST", r"/upload/v1beta/files") == 2  # start + finalize, not again


def test_gemini_failed_batch_reports_and_signals(cli, env, emu, tmp_path):
    emu.outcome = Outcome(kind="token_limit")
    source = write_jsonl(tmp_path / "in.jsonl", [gemini_line(i) for i in range(2)])
    job = cli("batch", "submit", source, "-p", "gemini", "--format", "json").json()["job"]
    polled = poll_to_end(cli, job["id"])
    assert polled.exit_code == 4
    assert "quota exceeded" in polled.stderr
    out = tmp_path / "out.jsonl"
    assert cli("batch", "results", job["id"], "-o", out).exit_code == 0
    assert [json.loads(line)["status"] for line in out.read_text().splitlines()] == ["failed"] * 2


def test_convert_to_gemini_and_back(cli, env, emu, tmp_path):
    neutral = [
        {"custom_id": "q1", "model": "gemini-2.5-flash", "system": "Be brief.",
         "messages": [{"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello"},
                      {"role": "user", "content": "Sum 2+2"}],
         "max_tokens": 20, "temperature": 0.2},
    ]  # fmt: skip
    source = write_jsonl(tmp_path / "neutral.jsonl", neutral)
    out = tmp_path / "gemini.jsonl"
    assert cli("batch", "convert", source, "--to", "gemini", "-o", out).exit_code == 0
    (line,) = [json.loads(x) for x in out.read_text().splitlines()]
    assert line == {
        "key": "q1",
        "request": {
            "model": "models/gemini-2.5-flash",
            "contents": [{"role": "user", "parts": [{"text": "Hi"}]},
                         {"role": "model", "parts": [{"text": "Hello"}]},
                         {"role": "user", "parts": [{"text": "Sum 2+2"}]}],
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "generationConfig": {"temperature": 0.2, "maxOutputTokens": 20},
        },
    }  # fmt: skip
    back = cli("batch", "convert", out, "--to", "neutral")
    assert [json.loads(x) for x in back.stdout.splitlines()] == neutral
    planned = cli("batch", "submit", out, "-p", "gemini", "--dry-run", "--format", "json")
    assert planned.exit_code == 0, planned.stderr
    assert planned.json()["estimate"]["models"][0]["output_tokens_max"] == 20


def test_gemini_two_polls_at_once_one_acts(cli, env, emu, tmp_path):
    import os
    import subprocess
    import sys

    source = write_jsonl(tmp_path / "in.jsonl", [gemini_line(i) for i in range(2)])
    assert cli("batch", "submit", source, "-p", "gemini").exit_code == 0
    emu.delay = 1.5  # hold each request so the first poll keeps the lock
    before = emu.count("GET", r"/v1beta/batches/[^/]+")
    command = [sys.executable, "-m", "tokcli", "batch", "poll", "--all", "--format", "json"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=dict(os.environ)) for _ in range(2)]  # fmt: skip
    documents = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sorted(str(d["skipped"]) for d in documents) == ["None", "locked"]
    assert emu.count("GET", r"/v1beta/batches/[^/]+") - before == 1
