"""Fewer runs of Python's cyclic garbage collector while a command holds many objects at once.

CPython's collector runs each time 700 more container objects (tuples, lists, records) are
alive than at its last run, and every tenth run also walks the objects that survived earlier
ones. An import or a store copy keeps a batch of rows alive at once, a report every rollup
row it reads, none of them in a reference cycle, so the collector walked them again and again
for nothing (issue 17, measured with gc.callbacks on this machine):

- a FOCUS import of 200,000 rows: 1.95 s of the writing process's 25.7 s; 0.09 s with
  FOR_BATCHES;
- `report --by team,env` over a year (bench_report): 0.84 s of 3.35 s; 0.003 s with
  FOR_RESULTS;
- `store copy` of that import's store: 1.25 s of about 31 s; 0.25 s with FOR_BATCHES.

`fewer_collections` raises that 700 for the length of a block. It does not switch the collector
off: reference cycles (an error kept with its traceback) are still found once that many more
objects are alive, so memory stays bounded whatever the input.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

# An import: its batches are freed as they are written, so only garbage in cycles would grow
# past this (about 10 MB of it at most).
FOR_BATCHES = 100_000
# A report: the rows it reads stay alive until it is done, so a collection could free nothing
# but cycles, which it does not make. A year by two tag keys still ran the collector 15 times
# (0.35 s) at a threshold of 100,000.
FOR_RESULTS = 1_000_000


# The thresholds are one setting of the process. Blocks that overlap (a library caller importing
# in one thread and reporting in another) share it: the highest `alive` among them holds while
# any runs, and the thresholds found by the first are restored when the last ends, whatever
# order they end in.
_lock = threading.Lock()
_running: list[int] = []  # the `alive` of each block running now, in any thread
_found: tuple[int, ...] = ()  # the thresholds when the first of them began


@contextlib.contextmanager
def fewer_collections(alive: int) -> Iterator[None]:
    """The collector runs once `alive` more objects are alive (its first threshold) for the
    block, then as before; a caller's higher threshold, or 0 (collector off), is left alone."""
    global _found
    with _lock:
        if not _running:
            _found = gc.get_threshold()
        _running.append(alive)
        _apply()
    try:
        yield
    finally:
        with _lock:
            _running.remove(alive)
            if _running:
                _apply()
            else:
                gc.set_threshold(*_found)


def _apply() -> None:
    wanted = max(_running)
    if 0 < _found[0] < wanted:
        gc.set_threshold(wanted, *_found[1:])
    else:
        gc.set_threshold(*_found)
