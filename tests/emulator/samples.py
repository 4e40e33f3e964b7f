"""Input files and environment for batch tests."""

from __future__ import annotations

import json
from pathlib import Path

from . import ANTHROPIC_KEY, GEMINI_KEY, OPENAI_KEY


def openai_line(index: int, model: str = "gpt-5-mini", max_tokens: int = 50) -> dict:
    return {
        "custom_id": f"req-{index}",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": model,
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": f"Question number {index}: what is {index} + 1?"},
            ],
            "max_completion_tokens": max_tokens,
        },
    }


def anthropic_line(index: int, model: str = "claude-haiku-4-5", max_tokens: int = 50) -> dict:
    return {
        "custom_id": f"req-{index}",
        "params": {
            "model": model,
            "max_tokens": max_tokens,
            "system": "You are terse.",
            "messages": [{"role": "user", "content": f"Question {index}: what is {index} + 1?"}],
        },
    }


def gemini_line(index: int, model: str = "gemini-2.5-flash", max_tokens: int = 50) -> dict:
    """A line of a Gemini batch input file (the Batch API guide's `{"key", "request"}`)."""
    return {
        "key": f"req-{index}",
        "request": {
            "model": f"models/{model}",
            "systemInstruction": {"parts": [{"text": "You are terse."}]},
            "contents": [{"role": "user",
                          "parts": [{"text": f"Question {index}: what is {index} + 1?"}]}],
            "generationConfig": {"maxOutputTokens": max_tokens},
        },
    }  # fmt: skip


def write_jsonl(path: Path, lines) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def batch_env(emulator, store: Path) -> dict[str, str]:
    """Environment that points tokcli at the emulator, with tiny retry delays."""
    return {
        "OPENAI_API_KEY": OPENAI_KEY,
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "OPENAI_BASE_URL": emulator.openai_url,
        "ANTHROPIC_BASE_URL": emulator.base_url,
        "GEMINI_API_KEY": GEMINI_KEY,
        "GOOGLE_GEMINI_BASE_URL": emulator.base_url,
        "TOKCLI_HTTP_BACKOFF": "0.01",
        "TOKCLI_STORE": str(store),
    }


def start_tokcli(*args, env: dict | None = None):
    """`python -m tokcli ARGS` in the background (stdout/stderr captured)."""
    import os
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "tokcli", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def kill_when_hung(proc, emulator, hung: int, timeout: float = 60.0) -> None:
    """SIGKILL `proc` while the emulator holds its request unanswered (a hang fault): the
    step it was waiting for is in doubt, exactly as after a power cut."""
    import signal
    import time

    deadline = time.monotonic() + timeout
    while emulator.hung < hung and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.hung >= hung, proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
