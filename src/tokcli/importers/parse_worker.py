"""Parsing a large input in a second process while this one writes it (issue 17).

The child (`python -m tokcli.importers.parse_worker`) runs the format's own `parse` over
every part of a set, in order, with the same `Options` (so identical rows of two parts are
numbered as in one process), and sends the `Parsed` rows here in chunks, each a length-prefixed
pickle. A thread here reads the chunks off the pipe as they come, up to CHUNKS_AHEAD of them:
the child parses on while this process writes a batch (a pipe alone holds less than one chunk,
so each stalled the other), and memory stays flat.
The parent does everything else exactly as for an in-process parse (write.py): checks,
pricing, the one transaction, rejects.

A plain row (one record, no error, no skip) travels as a tuple of its fields with money as its
exact text; any other outcome travels as the `Parsed` it is. An error the child meets (a
truncated file, a limit) is raised here, where the rows before it have been written, as it
would have been in one process. If this process stops first (a bad row, Ctrl-C, a kill), the
child is killed.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import fields
from decimal import Decimal
from operator import attrgetter
from typing import IO, Any, BinaryIO

from tokcli.collector import FOR_BATCHES, fewer_collections
from tokcli.errors import InputError
from tokcli.importers.format import Options, Parsed, out_of_bounds
from tokcli.importers.input_files import MiB, Source
from tokcli.store.usage import UsageRecord

# Below this many bytes (all parts together) a file is parsed in-process: starting the child
# costs about 0.2 s, which a small file would not win back.
WORKER_FROM_BYTES = 16 * MiB
CHUNK_ROWS = 2_000
# Chunks read ahead of the writer: about 1 MB each, so at most about 16 MB held.
CHUNKS_AHEAD = 16
_LENGTH_BYTES = 8  # each chunk's pickle is preceded by its length, little-endian
RECORD_FIELDS = tuple(f.name for f in fields(UsageRecord))
_record_values = attrgetter(*RECORD_FIELDS)  # a record's fields as a tuple, in one C call
MONEY_FIELDS = tuple(RECORD_FIELDS.index(name) for name in ("billed_cost", "list_cost"))
# Message kinds on the pipe.
ROWS, END_OF_SOURCE, FAILED = "rows", "end", "failed"
Parse = Callable[[Source, Options], Iterator[Parsed]]


def worth_a_worker(sources: list[Source]) -> bool:
    """A second process pays off for a large input on a machine with a second core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    large = sum(source.size for source in sources) >= WORKER_FROM_BYTES
    return large and (cores or 1) > 1 and bool(sys.executable)  # (an embedded Python has none)


class ParseWorker:
    """`with ParseWorker(parse, sources, options) as worker:` then `worker.rows(source)` for
    each source in order. Leaving the block ends the child, whatever happened.

    The child is `python -m tokcli.importers.parse_worker`, told its work on stdin and sending
    rows on stdout (pickled: both ends are this same code). Not a fork: this process holds an
    open store in a transaction, which a forked child must never share; and not
    multiprocessing's spawn, which would run the caller's main script again in the child."""

    def __init__(self, parse: Parse, sources: list[Source], options: Options) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.output = self.process.stdout
        with self.process.stdin as work:
            pickle.dump((parse, sources, options), work, protocol=pickle.HIGHEST_PROTOCOL)
        self.sources = sources
        self.position = 0
        self.reader = _ChunkReader(self.output)
        self.reader.start()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.reader.stop()
        if self.process.poll() is None:
            self.process.kill()  # stopped before the end (a bad row, Ctrl-C): its rows are moot
        self.process.wait()
        self.reader.join()  # the child is gone, so its pipe is at its end: the read returns
        self.output.close()

    def rows(self, source: Source) -> Iterator[Parsed]:
        """The parsed rows of `source` (the next source of the set), as `parse` gives them."""
        if self.sources[self.position] is not source:
            raise ValueError("ParseWorker.rows: sources must be read in order")
        self.position += 1
        while True:
            chunk = self.reader.chunks.get()
            if chunk is None:
                raise InputError(
                    f"the parsing process stopped (exit code {self.process.wait()})",
                    path=source.name,
                )
            message = pickle.loads(chunk)
            kind = message[0]
            if kind == ROWS:
                source.bytes_reported = message[2]
                for item in message[1]:
                    yield _unpacked(item)
            elif kind == END_OF_SOURCE:
                source.bytes_reported = source.size
                return
            else:
                raise message[1]


class _ChunkReader(threading.Thread):
    """Reads the child's chunks (pickles, unopened) into `chunks` as they arrive, at most
    CHUNKS_AHEAD waiting; None after the last, when the pipe ends. Reading a pipe releases the
    GIL, so this thread costs the writing thread next to nothing."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(name="tokcli-parse-reader", daemon=True)
        self.stream = stream
        self.chunks: queue.Queue[bytes | None] = queue.Queue(CHUNKS_AHEAD)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                header = self.stream.read(_LENGTH_BYTES)
                if len(header) < _LENGTH_BYTES:
                    break
                length = int.from_bytes(header, "little")
                chunk = self.stream.read(length)
                if len(chunk) < length:
                    break  # the child died mid-chunk: what came whole is all there is
                self._put(chunk)
        except (OSError, ValueError):
            pass  # the pipe broke or was closed: the end, as for a short read
        self._put(None)

    def _put(self, item: bytes | None) -> None:
        while not self.stopped.is_set():  # the writer may stop reading (a bad row, Ctrl-C)
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        self.stopped.set()


def _work(parse: Parse, sources: list[Source], options: Options, output: BinaryIO) -> None:
    """The child: parse every source in order, send chunks of packed rows, then the end."""

    def send(message: tuple[Any, ...]) -> None:
        chunk = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        output.write(len(chunk).to_bytes(_LENGTH_BYTES, "little"))
        output.write(chunk)
        output.flush()

    try:
        for source in sources:
            chunk: list[Any] = []
            for parsed in parse(source, options):
                chunk.append(_packed(parsed))
                if len(chunk) >= CHUNK_ROWS:
                    send((ROWS, chunk, source.bytes_done()))
                    chunk = []
            send((ROWS, chunk, source.bytes_done()))
            send((END_OF_SOURCE,))
    except BrokenPipeError:
        pass  # the parent has stopped reading: it no longer wants the rows
    except BaseException as exc:  # any failure is the parent's to raise, with its message
        send((FAILED, _sendable(exc)))


def _packed(parsed: Parsed) -> Any:
    """A plain row as ("r", line, billing period, *record fields); money as its exact text.
    A skipped row as ("s", line, reason, lines): its raw row is never shown. Else the Parsed."""
    if parsed.error is None and parsed.path is None:
        if parsed.skipped is not None:
            return ("s", parsed.line, parsed.skipped, parsed.lines)
        if parsed.lines == 1 and len(parsed.records) == 1 and not out_of_bounds(parsed.records):
            values = list(_record_values(parsed.records[0]))
            for index in MONEY_FIELDS:
                if values[index] is not None:
                    values[index] = str(values[index])  # str(Decimal) round-trips exactly
            return ("r", parsed.line, parsed.billing_period, *values)
    return parsed


def _unpacked(item: Any) -> Parsed:
    if type(item) is not tuple:
        return item  # type: ignore[no-any-return]
    if item[0] == "s":
        return Parsed(item[1], skipped=item[2], lines=item[3])
    values = list(item[3:])
    for index in MONEY_FIELDS:
        if values[index] is not None:
            values[index] = Decimal(values[index])
    return Parsed(item[1], records=[UsageRecord(*values)], billing_period=item[2], in_bounds=True)


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (InputError does), else its text."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _child_main() -> None:
    # Ctrl-C reaches the whole process group: the parent decides, and ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The rows go out on the pipe that was stdout; anything else written to stdout (a library's
    # print) goes to stderr instead of into the middle of the rows.
    rows_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parse, sources, options = pickle.load(sys.stdin.buffer)
    try:
        with fewer_collections(FOR_BATCHES):  # chunks of rows alive at once
            _work(parse, sources, options, rows_out)
        rows_out.flush()
    except BrokenPipeError:
        pass
    os._exit(0)  # no flush at exit into a pipe the parent may have closed


if __name__ == "__main__":
    _child_main()
