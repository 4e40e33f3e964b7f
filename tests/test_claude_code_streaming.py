"""Claude Code import streams (issue 17): the parsed lines are not held until the end, one JSON
decoder serves every line, and de-duplication still keeps each response's largest line, in
line order, with sidechain replays dropped.

The lines are a real assistant line of tests/fixtures/samples/claude-code-jsonl/short.jsonl
(see its SOURCES.md) with ids, counts and text changed for each case."""

from __future__ import annotations

import copy
import json
import tracemalloc
from pathlib import Path

from conftest import SAMPLES
from tokcli.importers.format import Options
from tokcli.importers.input_files import Source
from tokcli.importers.sources import claude_code


def _real_assistant_line() -> dict:
    path = SAMPLES / "claude-code-jsonl" / "short.jsonl"
    for text in path.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        if line.get("type") == "assistant" and "usage" in line.get("message", {}):
            return line
    raise AssertionError("no assistant line in the sample")


def _line(message_id: str, output: int, *, text: str = "", sidechain: bool = False) -> str:
    line = copy.deepcopy(_real_assistant_line())
    line["message"]["id"] = message_id
    line["requestId"] = f"req-{message_id}"
    line["message"]["usage"]["output_tokens"] = output
    line["message"]["content"] = [{"type": "text", "text": text}]
    line["isSidechain"] = sidechain
    return json.dumps(line)


def _parse(path: Path) -> list:
    return list(claude_code.parse(Source(path), Options()))


def test_message_text_is_not_held_until_the_end(tmp_path):
    # 60 responses, each with 100 KB of text: 6 MB of text a parser that keeps its lines holds
    # at once; a streaming one holds about one line.
    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for n in range(60):
            handle.write(_line(f"msg_{n:03d}", 10 + n, text="x" * 100_000) + "\n")
    tracemalloc.start()
    try:
        rows = _parse(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(len(r.records) for r in rows) == 60
    assert peak < 2_000_000, f"peak {peak:,} bytes: the parsed lines are being kept"


def test_one_json_decoder_for_every_line(tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    path.write_text("".join(_line(f"msg_{n}", n + 1) + "\n" for n in range(50)))
    built = []
    original = json.JSONDecoder.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(json.JSONDecoder, "__init__", counting)
    rows = _parse(path)
    assert sum(len(r.records) for r in rows) == 50
    assert built == []  # the module's one decoder, built at import


def test_largest_line_of_each_response_is_kept_in_line_order(tmp_path):
    path = tmp_path / "t.jsonl"
    lines = [
        _line("msg_a", 5),  # 1: a snapshot of A
        _line("msg_a", 40),  # 2: A grows: the largest of A
        _line("msg_b", 7),  # 3: B, one line
        _line("msg_a", 20),  # 4: a smaller line of A (logged again)
        _line("msg_c", 9, sidechain=True),  # 5: a sub-agent's own response: kept
        _line("msg_b", 7, sidechain=True),  # 6: a sidechain replay of B's message id
    ]
    # The replay has its own request id, as Claude Code writes it.
    replay = json.loads(lines[5])
    replay["requestId"] = "req-replay"
    lines[5] = json.dumps(replay)
    path.write_text("\n".join(lines) + "\n")
    rows = _parse(path)
    kept = [(r.line, r.records[0].output_tokens) for r in rows if r.records]
    assert kept == [(2, 40), (3, 7), (5, 9)]
    skipped = sorted(r.line for r in rows if r.skipped)
    assert skipped == [1, 4, 6]
    assert all(r.skipped == "repeated line of one API response" for r in rows if r.skipped)
    assert len(rows) == len(lines)  # every line accounted for once


def test_a_bad_count_on_a_repeated_line_is_still_a_row_error(tmp_path):
    path = tmp_path / "t.jsonl"
    bad = json.loads(_line("msg_a", 3))
    bad["message"]["usage"]["output_tokens"] = -1
    path.write_text(_line("msg_a", 50) + "\n" + json.dumps(bad) + "\n")
    rows = _parse(path)
    errors = [r for r in rows if r.error is not None]
    assert [(r.line, r.error.field) for r in errors] == [(2, "message.usage.output_tokens")]


def test_invalid_json_and_deep_nesting_are_row_errors(tmp_path):
    path = tmp_path / "t.jsonl"
    deep = "[" * 300 + "]" * 300
    path.write_text(_line("msg_a", 1) + "\n" + '{"type": "assistant"\n' + deep + "\n")
    rows = _parse(path)
    errors = {r.line: str(r.error) for r in rows if r.error is not None}
    assert errors[2].startswith("invalid JSON: ")
    assert "nested deeper than 200 levels" in errors[3]
