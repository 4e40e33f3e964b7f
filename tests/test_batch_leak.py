"""Issue 15 point 3 / issue 21: a provider that echoes the API key, plainly or encoded, in any
field it controls. The key must appear nowhere: stdout, stderr, the store (the whole SQLite
file, WAL included), results files."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from emulator import ANTHROPIC_KEY, OPENAI_KEY, Fault, Outcome
from emulator.samples import anthropic_line, openai_line, write_jsonl


def encodings(key: str) -> list[str]:
    """The key as a provider might echo it: plain, URL-encoded, base64 of the key and of the
    auth header, and base64 of a longer text holding it at each byte alignment."""
    forms = [
        key,
        quote(f"Bearer {key}", safe=""),
        base64.b64encode(key.encode()).decode(),
        base64.b64encode(f"Bearer {key}".encode()).decode(),
        base64.urlsafe_b64encode(f"x-api-key: {key}".encode()).decode(),
    ]
    forms += [base64.b64encode(f"{pad}Authorization: Bearer {key};".encode()).decode()
              for pad in ("", "a", "ab")]  # fmt: skip
    return forms


def plant(key: str) -> str:
    return " ".join(f"[{form}]" for form in encodings(key))


def leaks(text: str, key: str) -> list[str]:
    """Every way the key shows in `text`: as itself, URL-decoded, or inside any base64 run
    (decoded at each of the four character offsets), found independently of tokcli's code."""
    from urllib.parse import unquote

    found = []
    if key in text or key in unquote(text):
        found.append("plain or URL-encoded")
    for run in re.findall(r"[A-Za-z0-9+/_-]{16,}", text):
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                decoded = base64.b64decode(chunk.replace("-", "+").replace("_", "/"))
            except ValueError:
                continue
            if key.encode() in decoded:
                found.append(f"base64 {run[:12]}...")
    return found


def store_text(store: Path) -> str:
    """The store's bytes as they sit on disk, WAL and shared memory included."""
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(store) + suffix)
        if path.exists():
            data += path.read_bytes()
    return data.decode("latin-1")


def poll_to_end(cli, job_id, seen):
    for _ in range(20):
        run = cli("batch", "poll", job_id, "--format", "json")
        seen.append(run)
        if run.exit_code != 3:
            return run
    raise AssertionError("never ended")


def test_openai_key_planted_everywhere_never_leaves(cli, env, emu, tmp_path):
    key, text = OPENAI_KEY, plant(OPENAI_KEY)
    assert leaks(text, key)  # the detector sees every planted form
    runs = []
    error_body = {"error": {"message": f"upstream said {text}", "type": "server_error",
                            "param": None, "code": None}}  # fmt: skip
    emu.faults = [Fault("GET", r"/v1/batches/.+", 500, body=error_body)]  # retried
    emu.outcome = Outcome(plant=text, error_at={1})
    good = write_jsonl(tmp_path / "good.jsonl", [openai_line(i) for i in range(3)])
    submitted = cli("batch", "submit", good, "-p", "openai", "--format", "json")
    runs.append(submitted)
    job = submitted.json()["job"]["id"]
    poll_to_end(cli, job, runs)
    runs.append(cli("batch", "results", job, "-o", tmp_path / "good.out.jsonl", "--format", "json"))

    # A batch-level validation failure whose message echoes the key: printed by poll.
    emu.outcome = Outcome(plant=text, validation_errors=[
        {"code": "invalid_request", "line": 1, "param": "body", "message": f"bad {text}"},
        {"code": "token_limit_exceeded", "line": None, "param": None, "message": f"no {text}"},
    ])  # fmt: skip
    bad = write_jsonl(tmp_path / "bad.jsonl", [openai_line(10 + i) for i in range(2)])
    runs.append(cli("batch", "submit", bad, "-p", "openai", "--format", "json"))
    runs.append(cli("batch", "poll", "--all"))
    assert runs[-1].exit_code == 4 and "failed" in runs[-1].stderr
    bad_job = runs[-2].json()["job"]["id"]
    runs.append(cli("batch", "results", bad_job, "-o", tmp_path / "bad.out.jsonl"))

    # An HTTP error body that echoes the key, on a request that fails for good.
    emu.faults = [Fault("POST", r"/v1/files", 400, body=error_body)]
    third = write_jsonl(tmp_path / "third.jsonl", [openai_line(20)])
    failed = cli("batch", "submit", third, "-p", "openai")
    runs.append(failed)
    assert failed.exit_code == 2 and "upstream said" in failed.stderr

    check_nothing_leaked(key, runs, env, tmp_path)


def test_anthropic_key_planted_everywhere_never_leaves(cli, env, emu, tmp_path):
    key, text = ANTHROPIC_KEY, plant(ANTHROPIC_KEY)
    runs = []
    error_body = {"type": "error", "error": {"type": "api_error", "message": f"oops {text}"},
                  "request_id": f"req_{text}"}  # fmt: skip
    emu.faults = [Fault("GET", r"/v1/messages/batches/.+", 529, body=error_body)]
    emu.outcome = Outcome(plant=text, error_at={0}, polls_in_progress=0)
    source = write_jsonl(tmp_path / "in.jsonl", [anthropic_line(i) for i in range(3)])
    submitted = cli("batch", "submit", source, "-p", "anthropic", "--format", "json")
    runs.append(submitted)
    job = submitted.json()["job"]["id"]
    poll_to_end(cli, job, runs)
    runs.append(cli("batch", "results", job, "-o", tmp_path / "a.out.jsonl", "--format", "json"))
    emu.faults = [Fault("POST", r"/v1/messages/batches", 400, body=error_body)]
    second = write_jsonl(tmp_path / "second.jsonl", [anthropic_line(9)])
    runs.append(cli("batch", "submit", second, "-p", "anthropic"))
    assert runs[-1].exit_code == 2 and "oops" in runs[-1].stderr
    check_nothing_leaked(key, runs, env, tmp_path)


def check_nothing_leaked(key: str, runs, env, tmp_path: Path) -> None:
    for run in runs:
        assert leaks(run.stdout, key) == [], run.stdout
        assert leaks(run.stderr, key) == [], run.stderr
    outputs = sorted(tmp_path.glob("*.out.jsonl"))
    assert outputs, "results were written"
    for path in outputs:
        text = path.read_text()
        assert "[REDACTED]" in text  # the planted fields are there, scrubbed
        assert leaks(text, key) == [], path
    assert leaks(store_text(Path(env["TOKCLI_STORE"])), key) == []


@pytest.mark.parametrize("mode", ["inline", "file"])
def test_gemini_key_planted_everywhere_never_leaves(mode, cli, env, emu, tmp_path, monkeypatch):
    from emulator import GEMINI_KEY
    from emulator.samples import gemini_line

    if mode == "file":
        monkeypatch.setenv("TOKCLI_GEMINI_INLINE_MAX", "100")
    key, text = GEMINI_KEY, plant(GEMINI_KEY)
    runs = []
    error_body = {"error": {"code": 503, "message": f"busy {text}", "status": "UNAVAILABLE"}}
    emu.faults = [Fault("GET", r"/v1beta/batches/.+", 503, body=error_body)]
    emu.outcome = Outcome(plant=text, error_at={1})
    source = write_jsonl(tmp_path / "in.jsonl", [gemini_line(i) for i in range(3)])
    submitted = cli("batch", "submit", source, "-p", "gemini", "--format", "json")
    runs.append(submitted)
    job = submitted.json()["job"]["id"]
    poll_to_end(cli, job, runs)
    runs.append(cli("batch", "results", job, "-o", tmp_path / "a.out.jsonl", "--format", "json"))
    emu.faults = [Fault("POST", r"/v1beta/models/.+", 400, body=error_body)]
    emu.outcome = Outcome()
    second = write_jsonl(tmp_path / "second.jsonl", [gemini_line(9)])
    runs.append(cli("batch", "submit", second, "-p", "gemini"))
    assert runs[-1].exit_code == 2 and "busy" in runs[-1].stderr
    check_nothing_leaked(key, runs, env, tmp_path)
