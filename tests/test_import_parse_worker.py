"""A large FOCUS input is parsed in a second process while the first writes (issue 17,
importers/parse_worker.py). The store it leaves is the store the in-process parse leaves, table
for table; errors are the same errors, the rows before them unwritten; parts of one set share
their numbering of identical rows; and no child process outlives the import."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from conftest import SAMPLES
from test_import_focus_bulk import EDGE_ROWS, GOOD, write_csv
from test_import_support import store_dump
from tokcli.importers import parse_worker, write
from tokcli.importers.input_files import Source

CHILDREN_STARTED: list = []


@pytest.fixture
def in_worker(monkeypatch):
    """Parse every input in a worker, whatever its size, and note each child started."""
    monkeypatch.setattr(write, "worth_a_worker", lambda sources: True)
    started = parse_worker.ParseWorker.__init__

    def init(self, *args):
        started(self, *args)
        CHILDREN_STARTED.append(self.process)

    monkeypatch.setattr(parse_worker.ParseWorker, "__init__", init)
    CHILDREN_STARTED.clear()
    yield CHILDREN_STARTED
    assert all(child.returncode is not None for child in CHILDREN_STARTED)  # all waited for


def dump(store, *, skip=("schema_migrations",)):
    """The store's tables (test_import_support.store_dump) but those named: migrations carry
    the wall-clock time they ran at."""
    return [table for table in store_dump(store) if table[0] not in skip]


def imported(cli, store, *args):
    return cli("import", *args, "--store", store, "--format", "json")


def in_process_dump(cli, tmp_path, *args):
    store = tmp_path / "in-process.db"
    result = imported(cli, store, *args)
    return result, dump(store) if store.exists() else None


FILES = [
    SAMPLES / "focus" / "focus_sample.csv",
    SAMPLES / "focus-ai" / "multi_model_usage.csv",
    SAMPLES / "focus-ai" / "ai_prompt_caching_a.csv",
]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_worker_leaves_the_store_the_in_process_parse_leaves(cli, tmp_path, path, request):
    expected, expected_dump = in_process_dump(cli, tmp_path, path, "--all-services")
    children = request.getfixturevalue("in_worker")
    store = tmp_path / "worker.db"

    result = imported(cli, store, path, "--all-services")

    assert len(children) == 1  # the worker did the parsing
    assert result.exit_code == expected.exit_code == 0, result.stderr
    assert result.json() == expected.json()
    assert dump(store) == expected_dump


def test_bad_rows_are_rejected_with_their_lines(cli, tmp_path, request):
    path = write_csv(tmp_path / "edge.csv", EDGE_ROWS)
    args = (path, "--skip-bad-rows", "--rejects", tmp_path / "in-process.rejects.csv")
    expected, expected_dump = in_process_dump(cli, tmp_path, *args)
    children = request.getfixturevalue("in_worker")
    store = tmp_path / "worker.db"
    rejects = tmp_path / "worker.rejects.csv"

    result = imported(cli, store, path, "--skip-bad-rows", "--rejects", rejects)

    assert children and result.exit_code == 0, result.stderr
    document = result.json()
    assert document["totals"] == expected.json()["totals"]
    assert document["totals"]["rejected"] >= 8
    assert rejects.read_text() == (tmp_path / "in-process.rejects.csv").read_text()
    assert dump(store, skip=("schema_migrations", "imports")) == [
        t for t in expected_dump if t[0] != "imports"
    ]


def test_a_bad_row_refuses_the_file_and_ends_the_worker(cli, tmp_path, request):
    path = write_csv(tmp_path / "bad.csv", [GOOD] * 3 + [{**GOOD, "BilledCost": "twelve"}])
    expected, _ = in_process_dump(cli, tmp_path, path)
    children = request.getfixturevalue("in_worker")
    store = tmp_path / "worker.db"

    result = imported(cli, store, path)

    assert children
    assert result.exit_code == expected.exit_code == 2
    assert f"{path}:5: BilledCost: not a number" in result.stderr
    assert result.stderr == expected.stderr
    assert all(
        rows == [] for table, rows in dump(store) if table.startswith("usage")
    )  # nothing written


def test_an_error_the_worker_meets_is_raised_as_in_one_process(cli, tmp_path, request):
    path = write_csv(tmp_path / "truncated.csv", [GOOD] * 5)
    path.write_text(path.read_text() + '1.0,"acct-1,USD\n', encoding="utf-8")  # open quote
    expected, _ = in_process_dump(cli, tmp_path, path)
    children = request.getfixturevalue("in_worker")

    result = imported(cli, tmp_path / "worker.db", path)

    assert children
    assert "truncated or damaged" in result.stderr
    assert (result.exit_code, result.stderr) == (expected.exit_code, expected.stderr)


def test_identical_rows_of_two_parts_keep_their_numbering(cli, tmp_path, request):
    """Parts of one set are parsed by one child in order with one numbering, so the second
    part's copy of a row is `#1`, as in one process, and re-importing adds nothing."""
    folder = tmp_path / "export"
    folder.mkdir()
    for part in (1, 2):
        write_csv(folder / f"part-{part:05d}.csv", [GOOD, {**GOOD, "BilledCost": f"{part}.5"}])
    _, expected_dump = in_process_dump(cli, tmp_path, folder)
    children = request.getfixturevalue("in_worker")
    store = tmp_path / "worker.db"

    result = imported(cli, store, folder)
    again = imported(cli, store, folder)

    assert len(children) == 2  # one per import of the set
    assert result.json()["totals"]["inserted"] == 4
    assert again.json()["totals"]["inserted"] == 0
    assert dump(store, skip=("schema_migrations", "imports")) == [
        t for t in expected_dump if t[0] != "imports"
    ]


def test_rows_travel_exactly(tmp_path):
    """Money crosses the pipe as its text and comes back the same Decimal, exponent and all."""
    costs = ["0.00000080000", "-7.125", "1E+3", "0.000000000000000000000000000001"]
    path = write_csv(tmp_path / "money.csv", [{**GOOD, "BilledCost": c} for c in costs])
    from tokcli.importers.format import Options
    from tokcli.importers.sources import focus

    for parsed in focus.parse(Source(path), Options()):
        back = parse_worker._unpacked(parse_worker._packed(parsed))
        record, again = parsed.records[0], back.records[0]
        assert again == record and str(again.billed_cost) == str(record.billed_cost)
        assert (back.line, back.billing_period) == (parsed.line, parsed.billing_period)
    assert Decimal("1E+3").as_tuple() == Decimal(str(Decimal("1E+3"))).as_tuple()


def test_small_inputs_stay_in_process(tmp_path, monkeypatch):
    small = Source(write_csv(tmp_path / "small.csv", [GOOD]))
    assert not parse_worker.worth_a_worker([small])
    monkeypatch.setattr(parse_worker, "WORKER_FROM_BYTES", 1)
    if len(os.sched_getaffinity(0)) > 1:
        assert parse_worker.worth_a_worker([small])
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not parse_worker.worth_a_worker([small])  # one core: nothing to gain


def test_progress_is_reported_from_the_worker(tmp_path, in_worker):
    """The progress bar follows the bytes the child has read, up to the whole file."""
    from tokcli import store
    from tokcli.importers import get_format
    from tokcli.importers.pricer import Pricer
    from tokcli.pricing.registry import Registry

    path = write_csv(tmp_path / "bill.csv", [GOOD] * 5000)
    seen: list[tuple[int, int]] = []
    settings = write.ImportSettings(
        pricer=Pricer(Registry.load()), progress=lambda done, total: seen.append((done, total))
    )
    conn = store.connect(tmp_path / "s.db")
    try:
        result = write.import_source(conn, Source(path), get_format("focus"), settings)
    finally:
        conn.close()
    assert in_worker and result.inserted == 5000
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert 0 < seen[0][0] < size  # reported while rows were still coming
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_the_child_parses_ahead_while_the_writer_is_busy(tmp_path):
    """While the writer writes a batch (here: reads nothing), the child's chunks keep coming
    into a bounded queue, up to CHUNKS_AHEAD, instead of the child waiting on a full pipe; the
    rows read afterwards are every row, in order, and leaving the block ends the child."""
    import time

    from tokcli.importers.format import Options
    from tokcli.importers.sources import focus

    rows = parse_worker.CHUNK_ROWS * (parse_worker.CHUNKS_AHEAD + 4)
    path = write_csv(tmp_path / "bill.csv", [GOOD] * rows)
    source = Source(path)
    with parse_worker.ParseWorker(focus.parse, [source], Options()) as worker:
        waited = 0.0
        while worker.reader.chunks.qsize() < parse_worker.CHUNKS_AHEAD and waited < 60:
            time.sleep(0.05)
            waited += 0.05
        assert worker.reader.chunks.qsize() == parse_worker.CHUNKS_AHEAD  # bounded, and full
        lines = [parsed.line for parsed in worker.rows(source)]
    assert worker.process.returncode is not None
    assert lines == [parsed.line for parsed in focus.parse(Source(path), Options())]
    assert len(lines) == rows


def test_leaving_early_ends_the_child_and_the_reader(tmp_path):
    """A writer that stops after the first row (a bad row, Ctrl-C) leaves no child and no
    reading thread behind, though the child had more to send and the queue was full."""
    from tokcli.importers.format import Options
    from tokcli.importers.sources import focus

    path = write_csv(tmp_path / "bill.csv", [GOOD] * (parse_worker.CHUNK_ROWS * 40))
    source = Source(path)
    with parse_worker.ParseWorker(focus.parse, [source], Options()) as worker:
        next(iter(worker.rows(source)))
    assert worker.process.returncode is not None
    assert not worker.reader.is_alive()


def test_a_count_beyond_the_bound_is_refused_as_in_one_process(cli, tmp_path, request):
    """Quantities each within bounds, times a unit of 1K tokens, can pass 1e15 tokens. The
    worker checks rows before it packs them (and the writer trusts those it packed): the one
    row it could not pack must still be refused, on its line, as in one process."""
    beyond = {**GOOD, "ConsumedQuantity": "2000000000000", "ConsumedUnit": "1K Tokens"}
    path = write_csv(tmp_path / "beyond.csv", [GOOD] * 3 + [beyond] + [GOOD] * 2)
    expected, _ = in_process_dump(cli, tmp_path, path)
    children = request.getfixturevalue("in_worker")

    result = imported(cli, tmp_path / "worker.db", path)

    assert children
    assert result.exit_code == expected.exit_code == 2
    assert f"{path}:5:" in result.stderr and "beyond 1e15" in result.stderr
    assert result.stderr == expected.stderr


def test_a_lone_surrogate_is_refused_as_in_one_process(cli, tmp_path, request):
    """A Tags cell escaping a lone surrogate: the worker cannot pack that row (no store can
    hold its text), so the writer checks it and refuses it on its line, as in one process."""
    lone = {**GOOD, "Tags": '{"team": "\\ud800"}'}
    path = write_csv(tmp_path / "lone.csv", [GOOD] * 3 + [lone] + [GOOD] * 2)
    expected, _ = in_process_dump(cli, tmp_path, path)
    children = request.getfixturevalue("in_worker")

    result = imported(cli, tmp_path / "worker.db", path)

    assert children
    assert result.exit_code == expected.exit_code == 2
    assert f"{path}:5: tags: tag 'team': not Unicode text" in result.stderr
    assert result.stderr == expected.stderr
