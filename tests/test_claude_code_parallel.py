"""Claude Code import reads whole blocks of lines at once and many files in worker processes
(issue 17); neither changes an outcome.

A block of lines is decoded by one msgspec call when every line is one JSON object (`{` ... `}`)
and there are as many values as lines; anything else is read line by line, the path the other
tests in tests/test_claude_code_fast.py hold to the standard json decoder. A folder of
transcripts is read file by file in worker processes, the main process replaying each file's
outcomes in order and de-duplicating responses across files as before. The transcripts are the
real ones in tests/fixtures/samples/claude-code-jsonl (see its SOURCES.md), copied and changed.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from tokcli.errors import InputError
from tokcli.importers.format import Options
from tokcli.importers.input_files import Limits, Source
from tokcli.importers.sources import claude_code

TRANSCRIPTS = SAMPLES / "claude-code-jsonl"
DEPTH = Limits().json_depth


def _real_lines() -> list[bytes]:
    lines = []
    for path in sorted(TRANSCRIPTS.glob("*.jsonl")):
        text = path.read_text(encoding="utf-8")
        lines += [line.encode() + b"\n" for line in text.splitlines() if line.strip()]
    return lines


def _expected_rows(lines: list[bytes]) -> int:
    """Rows an import of these lines makes, counted from the JSON: one per (message id, request
    id) of the lines with usage, except a sidechain replay of a main-chain message."""
    keys: dict[tuple[str, str], bool] = {}  # key -> every line of it is a sidechain's
    main_chain = set()
    for raw in lines:
        line = json.loads(raw)
        if "usage" not in line.get("message", {}):
            continue
        key = (line["message"]["id"], line["requestId"])
        sidechain = line.get("isSidechain") is True
        keys[key] = keys.get(key, True) and sidechain
        if not sidechain:
            main_chain.add(key[0])
    return sum(1 for key, side in keys.items() if not (side and key[0] in main_chain))


def _outcomes(path: Path, limits: Limits | None = None) -> list[tuple]:
    """Every outcome of parsing `path`, in order, with everything it says."""
    return [
        (
            p.line,
            p.path,
            p.skipped,
            str(p.error) if p.error is not None else None,
            getattr(p.error, "field", None),
            p.raw,
            p.lines,
            [vars(record) for record in p.records],
        )
        for p in claude_code.parse(Source(path, limits), Options())
    ]


def _line_by_line(path: Path, monkeypatch) -> list[tuple]:
    with monkeypatch.context() as patch:
        patch.setattr(claude_code, "_decoded_block", lambda lines, depth: None)
        return _outcomes(path)


# Lines that a decoder reading a block as one stream of values could take for other lines:
# a value across two lines, two values on one line, values joined by a comma.
_STREAM_TRAPS = [
    b'{"c":[{"d":1}\n',
    b'{"e":2}]}\n',
    b'{"a":1} {"b":2}\n',
    b'{"a":1},{"b":2}\n',
    b'{"a":1}  \n',
    b'  {"a":1}\n',
    b"\n",
    b'{"message":{"usage":{"output_tokens":3.0},"model":"claude-opus-4-6"},'
    b'"timestamp":"2026-02-10T22:57:51.291Z"}\n',
    b'{"type":"user","deep":' + b"[" * 250 + b"]" * 250 + b"}\n",
    b'{"type":"user","text":"}\\n{"}\n',
]


def test_the_stream_traps_are_read_line_by_line():
    real = _real_lines()
    assert claude_code._decoded_block(real, DEPTH) is not None  # real lines: one call
    for trap in _STREAM_TRAPS[:-1]:
        assert claude_code._decoded_block([real[0], trap, real[1]], DEPTH) is None, trap
    # Braces and an escaped line end inside a string are text: the block is still one call.
    assert len(claude_code._decoded_block([real[0], _STREAM_TRAPS[-1]], DEPTH)) == 2


def test_a_block_decoded_whole_gives_each_line_the_outcome_it_has_alone(tmp_path, monkeypatch):
    path = tmp_path / "t.jsonl"
    real = _real_lines()
    path.write_bytes(b"".join(real + _STREAM_TRAPS + real))
    whole = _outcomes(path)
    assert whole == _line_by_line(path, monkeypatch)
    # Counted independently: each trap is one bad line except the blank one, the line with a
    # 3.0 count (the slow path reads it) and the string with braces (not an API response).
    errors = [o for o in whole if o[3] is not None]
    first_trap = len(real) + 1
    assert [o[0] for o in errors] == [first_trap + n for n in (0, 1, 2, 3, 8)]
    # The real lines twice (the second time repeated lines), and the trap with a 3.0 count: a
    # response without ids, a row of its own.
    assert len([o for o in whole if o[7]]) == _expected_rows(real) + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40),
    block=st.sampled_from([64, 1000, 1 << 16]),
)
def test_any_mix_of_lines_and_blocks_has_the_same_outcomes(tmp_path_factory, picks, block):
    pool = _real_lines() + _STREAM_TRAPS
    path = tmp_path_factory.mktemp("mix") / "t.jsonl"
    path.write_bytes(b"".join(pool[n % len(pool)] for n in picks))
    original = claude_code._BLOCK_BYTES
    claude_code._BLOCK_BYTES = block
    try:
        whole = _outcomes(path)
        claude_code._decoded_block, saved = (lambda lines, depth: None), claude_code._decoded_block
        try:
            alone = _outcomes(path)
        finally:
            claude_code._decoded_block = saved
    finally:
        claude_code._BLOCK_BYTES = original
    assert whole == alone


# Worker processes


def _folder(tmp_path: Path, copies: int = 3) -> Path:
    """The sample transcripts in several project folders, as Claude Code lays them out; one
    copy's lines are the same responses again (de-duplicated across files)."""
    folder = tmp_path / "projects"
    for n in range(copies):
        project = folder / f"-home-dev-p{n}"
        project.mkdir(parents=True)
        for sample in TRANSCRIPTS.glob("*.jsonl"):
            (project / sample.name).write_bytes(sample.read_bytes())
    return folder


def _in_workers(folder: Path, monkeypatch, limits: Limits | None = None) -> list[tuple]:
    """The outcomes with the files read in two worker processes (none read here)."""
    read_here = []
    original = claude_code._read_file

    def spy(path, limits):
        read_here.append(path)
        return original(path, limits)

    with monkeypatch.context() as patch:
        patch.setattr(claude_code, "_read_file", spy)
        patch.setattr(claude_code, "_worker_count", lambda files: 2)
        outcomes = _outcomes(folder, limits)
    assert read_here == []  # every file was read by a worker
    return outcomes


def _in_this_process(folder: Path, monkeypatch, limits: Limits | None = None) -> list[tuple]:
    with monkeypatch.context() as patch:
        patch.setattr(claude_code, "_worker_count", lambda files: 1)
        return _outcomes(folder, limits)


def test_worker_processes_give_the_same_outcomes_and_rows(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    here = _in_this_process(folder, monkeypatch)
    assert _in_workers(folder, monkeypatch) == here
    # Counted independently: the copies repeat the samples' responses.
    assert len([o for o in here if o[7]]) == _expected_rows(_real_lines())
    assert sum(o[6] for o in here) == 3 * len(_real_lines())  # every line counted once


def test_a_bad_line_in_one_file_is_reported_with_its_file_and_line(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    bad_file = folder / "-home-dev-p1" / "short.jsonl"
    lines = bad_file.read_bytes().splitlines(keepends=True)
    lines.insert(4, b'{"type": "assistant"\n')
    bad_file.write_bytes(b"".join(lines))
    here = _in_this_process(folder, monkeypatch)
    workers = _in_workers(folder, monkeypatch)
    assert workers == here
    errors = [(o[1], o[0], o[3]) for o in workers if o[3] is not None]
    assert len(errors) == 1
    path, line, message = errors[0]
    assert (path, line) == (str(bad_file), 5)
    assert message.startswith("invalid JSON: ")


@pytest.mark.parametrize("problem", ["not UTF-8", "a line longer than"])
def test_a_file_that_stops_the_import_stops_it_the_same_way(tmp_path, monkeypatch, problem):
    folder = _folder(tmp_path)
    bad_file = folder / "-home-dev-p2" / "tool_heavy.jsonl"
    limits = Limits()
    if problem == "not UTF-8":
        bad_file.write_bytes(bad_file.read_bytes() + b'{"a":"caf\xe9"}\n')
    else:  # the longest line of the samples is over the limit
        longest = max(len(line.decode()) for line in _real_lines())
        limits = Limits(line_length=longest // 2)
    with pytest.raises(InputError) as here:
        _in_this_process(folder, monkeypatch, limits)
    with pytest.raises(InputError) as workers:
        _in_workers(folder, monkeypatch, limits)
    assert str(workers.value) == str(here.value)
    assert problem in str(here.value)
    assert workers.value.path == here.value.path
    assert workers.value.line == here.value.line
    if problem == "not UTF-8":
        expected_line = len(bad_file.read_bytes().splitlines())
        assert (workers.value.path, workers.value.line) == (str(bad_file), expected_line)
    else:  # the option that raises the limit, named as the command line names it
        assert "--limit" in workers.value.render(lambda name: "--limit")


_VICTIM: list[str] = []  # the file whose worker dies (set before the workers are forked)


def _dies_on_the_victim(job: tuple[str, Limits]) -> object:
    if job[0] in _VICTIM:
        os._exit(1)  # killed, out of memory
    return claude_code._read_file(*job)


def test_a_worker_that_dies_leaves_its_files_to_this_process(tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    here = _in_this_process(folder, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(claude_code, "_read_file_job", _dies_on_the_victim)
        patch.setattr(claude_code, "_worker_count", lambda files: 2)
        patch.setattr(claude_code, "_process_context", _fork_context)
        patch.setattr(sys.modules[__name__], "_VICTIM", [str(sorted(folder.rglob("*.jsonl"))[5])])
        assert _outcomes(folder) == here


def _fork_context():
    import multiprocessing

    return multiprocessing.get_context("fork")


def test_workers_started_by_a_fork_server_give_the_same_outcomes(tmp_path, monkeypatch):
    # While another thread runs (a progress bar), the workers come from a fork server.
    folder = _folder(tmp_path)
    here = _in_this_process(folder, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(threading, "active_count", lambda: 2)
        context = claude_code._process_context()
        assert context.get_start_method() == "forkserver"
        patch.setattr(claude_code, "_process_context", lambda: context)
        assert _in_workers(folder, monkeypatch) == here


def test_an_import_in_workers_stores_what_one_in_this_process_does(cli, tmp_path, monkeypatch):
    folder = _folder(tmp_path)
    stored = []
    for workers in (2, 1):
        monkeypatch.setattr(claude_code, "_worker_count", lambda files, n=workers: n)
        store = tmp_path / f"s{workers}.db"
        result = cli("import", folder, "--source", "claude-code", "--store", store, "-f", "json")
        summary = result.json()["files"][0]
        assert summary["inserted"] == _expected_rows(_real_lines())
        again = cli("import", folder, "--source", "claude-code", "--store", store, "-f", "json")
        assert again.json()["files"][0]["inserted"] == 0  # the same record keys
        report = cli("report", "--store", store, "--by", "model", "-f", "json").json()
        stored.append((summary["rows_read"], summary["skip_reasons"], report))
    assert stored[0] == stored[1]


def test_a_folder_is_sized_and_walked_with_one_look_at_each_entry(tmp_path, monkeypatch):
    """A folder of transcripts (thousands of files in a real ~/.claude/projects) is sized with
    one stat of each entry, and parsed with two of each file (listed, then opened) and none of
    the folder per file; a broken link in it is no file, as before."""
    folder = _folder(tmp_path, copies=4)
    os.symlink(tmp_path / "gone.jsonl", folder / "-home-dev-p0" / "broken.jsonl")
    expected = sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
        if os.path.isfile(os.path.join(root, name))
    )
    assert expected == 4 * sum(p.stat().st_size for p in TRANSCRIPTS.glob("*.jsonl"))
    stats: list[str] = []
    stat = Path.stat
    monkeypatch.setattr(Path, "stat", lambda p, **kw: stats.append(str(p)) or stat(p, **kw))
    source = Source(folder)
    assert source.size == expected
    of_files = Counter(path for path in stats if path.endswith(".jsonl"))
    assert len(of_files) == 4 * 4 + 1 and set(of_files.values()) == {1}  # the link too, once
    monkeypatch.setattr(claude_code, "_worker_count", lambda files: 1)
    stats.clear()
    outcomes = list(claude_code.parse(source, Options()))
    assert sum(len(o.records) for o in outcomes) == _expected_rows(_real_lines())
    looked_at = Counter(stats)
    assert looked_at[str(folder)] <= 1
    transcripts = [path for path in looked_at if path.endswith(".jsonl")]
    assert len(transcripts) == 17 and max(looked_at[path] for path in transcripts) <= 2


def _distinct_copies(tmp_path: Path, copies: int) -> Path:
    """The samples again and again in one project, each copy's responses made distinct (their
    message and request ids), as the responses of a long session are: the same model, folder,
    session and branch in each."""
    folder = tmp_path / "projects" / "-home-dev-long"
    folder.mkdir(parents=True)
    for n in range(copies):
        for sample in TRANSCRIPTS.glob("*.jsonl"):
            text = sample.read_text(encoding="utf-8")
            text = text.replace('"id":"msg_', f'"id":"msg_c{n}_')
            text = text.replace('"requestId":"req_', f'"requestId":"req_c{n}_')
            (folder / f"{n:03d}-{sample.name}").write_text(text, encoding="utf-8")
    return folder.parent


def test_held_responses_share_their_model_and_tags_and_each_row_gets_its_own(tmp_path, monkeypatch):
    """Every response waits in the main process until the last file is read (a later file may
    hold a larger line of it): what responses have in common is held once, not once each, and
    each row still gets tags of its own, as its lines say, in the order they are added."""
    folder = _distinct_copies(tmp_path, copies=40)
    held = []
    original = claude_code._deduplicated

    def spy(best):
        held.extend(entry.record for entry in best.values() if entry.record is not None)
        return original(best)

    monkeypatch.setattr(claude_code, "_deduplicated", spy)
    monkeypatch.setattr(claude_code, "_worker_count", lambda files: 2)
    records = [r for p in claude_code.parse(Source(folder), Options()) for r in p.records]
    assert len(records) == 40 * _expected_rows(_real_lines())  # counted from the JSON
    assert len(held) >= len(records)  # and sidechain replays, dropped at the end
    models, common_tags = {h[2] for h in held}, {h[5] for h in held}
    assert len({id(h[2]) for h in held}) == len(models) < 5
    assert len({id(h[5]) for h in held}) == len(common_tags) < 10
    assert len({id(r.tags) for r in records}) == len(records)  # a dict for each row
    order = ["project", "session", "git_branch", "speed", "tool_call"]
    for record in records:
        keys = list(record.tags)
        assert keys == sorted(keys, key=order.index)
    said = set()
    for raw in _real_lines():
        line = json.loads(raw)
        if "usage" in line.get("message", {}) and line["message"].get("model") != "<synthetic>":
            said.add((line.get("cwd"), line.get("sessionId"), line.get("gitBranch")))
    stored = {(r.tags.get("project"), r.tags.get("session"), r.tags.get("git_branch"))
              for r in records}  # fmt: skip
    assert stored == said
    assert any("tool_call" in r.tags for r in records)
