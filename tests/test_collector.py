"""Imports and reports run Python's cyclic garbage collector less often (tokcli.collector,
issue 17), never switch it off, and leave it as they found it.

The figures behind it (gc.callbacks, this machine): the collector took 1.95 s of a 200,000-row
FOCUS import's writing process and 0.84 s of a year-long report by two tag keys; with the
raised thresholds, 0.09 s and 0.003 s."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

import tokcli
from tokcli.collector import FOR_BATCHES, FOR_RESULTS, fewer_collections
from tokcli.context import Context
from tokcli.importers import write
from tokcli.reporting import budgets, document
from tokcli.reporting.document import budget_statuses

FIXTURES = Path(__file__).parent / "fixtures" / "import"


@pytest.fixture
def default_collector() -> Iterator[tuple[int, int, int]]:
    """The collector on, at CPython's default thresholds, whatever the test does."""
    was_enabled, thresholds = gc.isenabled(), gc.get_threshold()
    gc.enable()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*thresholds)
    if not was_enabled:
        gc.disable()


def thresholds_during(monkeypatch, module, name: str) -> list[int]:
    """Replace `module.name` by a spy that records the collector's first threshold at each
    call, then calls the original; returns the recorded thresholds (filled as it runs)."""
    seen: list[int] = []
    original = getattr(module, name)

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold()[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_the_threshold_is_raised_inside_and_restored_after(default_collector):
    with fewer_collections(50_000):
        assert gc.get_threshold() == (50_000, 10, 10)
        assert gc.isenabled()
    assert gc.get_threshold() == default_collector


def test_the_threshold_is_restored_when_the_block_fails(default_collector):
    with pytest.raises(RuntimeError), fewer_collections(50_000):
        raise RuntimeError("a failed report")
    assert gc.get_threshold() == default_collector


def test_a_callers_higher_threshold_or_collector_off_is_left_alone(default_collector):
    gc.set_threshold(5_000_000, 10, 10)
    with fewer_collections(50_000):
        assert gc.get_threshold() == (5_000_000, 10, 10)
    gc.set_threshold(0, 10, 10)  # a threshold of 0 switches the collector off
    with fewer_collections(50_000):
        assert gc.get_threshold()[0] == 0
    assert gc.get_threshold() == (0, 10, 10)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_cycles_are_still_collected_inside_the_block(default_collector):
    """Not the collector switched off: garbage in cycles is freed once `alive` more objects
    are alive, so memory stays bounded."""
    with fewer_collections(1_000):
        first = _Node()
        gone = weakref.ref(first)
        del first
        for _ in range(5_000):  # 5,000 more objects in cycles, each dropped at once
            _Node()
        assert gone() is None


def test_a_report_is_built_with_fewer_collections(default_collector, monkeypatch, tmp_path):
    seen = thresholds_during(monkeypatch, document, "build_document")
    store = tmp_path / "usage.db"
    tokcli.import_files([FIXTURES / "cur2_bedrock_2025-09.csv"], store)
    doc = tokcli.report(store, by=["model"])
    assert seen == [FOR_RESULTS]
    assert doc["rows"] and gc.get_threshold() == default_collector


def test_an_import_writes_with_fewer_collections(default_collector, monkeypatch, tmp_path):
    seen = thresholds_during(monkeypatch, write, "_write_sources")
    result = tokcli.import_files([FIXTURES / "cur2_bedrock_2025-09.csv"], tmp_path / "usage.db")
    assert result.inserted > 0
    assert seen == [FOR_BATCHES] and gc.get_threshold() == default_collector


def test_budgets_are_evaluated_with_fewer_collections(default_collector, monkeypatch, tmp_path):
    seen = thresholds_during(monkeypatch, budgets, "evaluate")
    (tmp_path / "tokcli.toml").write_text(
        '[[budgets]]\nname = "search"\nscope = { team = "search" }\namount = "5000"\n'
        'period = "month"\n'
    )
    context = Context(environ={"HOME": str(tmp_path)}, cwd=tmp_path, store_flag=tmp_path / "s.db")
    (status,) = budget_statuses(context)
    assert status.budget.name == "search"
    assert seen == [FOR_RESULTS] and gc.get_threshold() == default_collector


def test_a_store_copy_writes_with_fewer_collections(default_collector, monkeypatch, tmp_path):
    from tokcli.store import connect, copy

    seen = thresholds_during(monkeypatch, copy, "_copy_usage")
    imported = tokcli.import_files([FIXTURES / "cur2_bedrock_2025-09.csv"], tmp_path / "a.db")
    source, target = connect(tmp_path / "a.db"), connect(tmp_path / "b.db")
    try:
        result = copy.copy_store(source, target)
    finally:
        source.close()
        target.close()
    assert result.verified and result.usage_copied == imported.inserted > 0
    assert seen == [FOR_BATCHES] and gc.get_threshold() == default_collector


def test_blocks_that_overlap_in_two_threads_keep_the_higher_threshold_and_restore_at_the_end(
    default_collector,
):
    """A library caller may import in one thread while another reports: the blocks then end in
    the order they started (not nested), which must neither drop the threshold under the block
    still running nor leave it raised after both."""
    found: dict[str, int] = {}
    import_began, report_began, import_ended = (threading.Event() for _ in range(3))

    def importing() -> None:
        with fewer_collections(FOR_BATCHES):
            import_began.set()
            report_began.wait(5)
        import_ended.set()

    def reporting() -> None:
        import_began.wait(5)
        with fewer_collections(FOR_RESULTS):
            report_began.set()
            import_ended.wait(5)
            found["report, after the import ended"] = gc.get_threshold()[0]

    threads = [threading.Thread(target=importing), threading.Thread(target=reporting)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert found == {"report, after the import ended": FOR_RESULTS}
    assert gc.get_threshold() == default_collector
