"""Keys, base URLs, the lock and option errors."""

from __future__ import annotations

import pytest

from emulator import OPENAI_KEY
from emulator.samples import openai_line, write_jsonl
from tokcli.batch.lock import BatchLock, Busy


def test_missing_key_is_one_clear_line(cli, env, emu, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(0)])
    run = cli("batch", "submit", source, "-p", "openai")
    assert run.exit_code == 2
    assert "OPENAI_API_KEY is not set (or give --api-key-file)" in run.stderr
    assert emu.log == []


def test_key_file_and_base_url_flag(cli, env, emu, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    key_file = tmp_path / "openai.key"
    key_file.write_text(f"{OPENAI_KEY}\n")
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(0)])
    run = cli("batch", "submit", source, "-p", "openai", "--api-key-file", key_file,
              "--base-url", emu.openai_url, "--format", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert len(emu.openai.batches) == 1
    # The job remembers where it went: polling needs no --base-url.
    job_id = run.json()["job"]["id"]
    assert cli("batch", "poll", job_id, "--api-key-file", key_file).exit_code == 3


def test_wrong_key_is_reported_without_the_key(cli, env, emu, tmp_path, monkeypatch):
    wrong = "sk-wrong-key-0123456789abcdefghij"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(0)])
    run = cli("batch", "submit", source, "-p", "openai")
    assert run.exit_code == 2 and "HTTP 401" in run.stderr
    assert wrong not in run.stderr + run.stdout
    assert "batch resume" in run.stderr  # the job is recorded; resume continues it


def test_lock_is_exclusive_and_freed(tmp_path):
    first, second = BatchLock(tmp_path / "s.db"), BatchLock(tmp_path / "s.db")
    first.acquire()
    with pytest.raises(Busy):
        second.acquire(wait=0.05)
    first.release()
    second.acquire()
    second.release()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["batch", "poll"], "give a JOB or --all"),
        (["batch", "poll", "job_x", "--all"], "give a JOB or --all"),
        (["batch", "status", "job_missing"], "no batch job 'job_missing'"),
        (["batch", "submit", "in.jsonl", "-p", "openai", "--tag", "novalue"], "key=value"),
        (["batch", "submit", "in.jsonl", "-p", "openai", "--max-cost", "lots"], "--max-cost"),
        (["batch", "submit", "missing.jsonl", "-p", "openai"], "cannot read"),
        (["batch", "submit", "in.jsonl", "-p", "openai", "--endpoint", "/v1/nope"], "--endpoint"),
    ],
)
def test_option_errors(cli, env, tmp_path, args, message):
    write_jsonl(tmp_path / "work" / "in.jsonl", [openai_line(0)])
    run = cli(*args)
    assert run.exit_code == 2 and message in run.stderr, run.stderr


def test_same_file_returns_the_job_and_force_submits_again(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(0)])
    first = cli("batch", "submit", source, "-p", "openai", "--format", "json").json()
    again = cli("batch", "submit", source, "-p", "openai")
    assert again.exit_code == 0 and again.stdout == ""  # not a terminal: nothing to say
    assert len(emu.openai.batches) == 1
    # Other tags make another job; --force makes another job for the same options.
    tagged = cli("batch", "submit", source, "-p", "openai", "-t", "team=x", "--format", "json")
    assert tagged.json()["existing"] is False
    forced = cli("batch", "submit", source, "-p", "openai", "--force", "--format", "json").json()
    assert forced["existing"] is False and forced["job"]["id"] != first["job"]["id"]
    assert len(emu.openai.batches) == 3
    latest = cli("batch", "submit", source, "-p", "openai", "--format", "json").json()
    assert latest["existing"] is True and latest["job"]["id"] == forced["job"]["id"]


def test_poll_all_continues_past_a_job_it_cannot_poll(cli, env, emu, tmp_path, monkeypatch):
    from emulator.samples import anthropic_line

    openai_file = write_jsonl(tmp_path / "o.jsonl", [openai_line(0)])
    anthropic_file = write_jsonl(tmp_path / "a.jsonl", [anthropic_line(0)])
    assert cli("batch", "submit", openai_file, "-p", "openai").exit_code == 0
    assert cli("batch", "submit", anthropic_file, "-p", "anthropic").exit_code == 0
    monkeypatch.delenv("ANTHROPIC_API_KEY")  # cron has only the OpenAI key
    run = cli("batch", "poll", "--all", "--format", "json")
    assert run.exit_code == 2
    assert (
        "ANTHROPIC_API_KEY is not set" in run.stderr
        and "1 job(s) could not be polled" in run.stderr
    )
    assert [j["provider"] for j in run.json()["jobs"]] == ["openai"]  # the other was polled
