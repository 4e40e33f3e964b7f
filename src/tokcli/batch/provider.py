"""What the engine needs from a provider, and the shapes both providers map their objects to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tokcli.batch.limits import wire_id

# Normalised part status (the provider's own word is kept beside it as `remote_status`).
RUNNING, COMPLETED, FAILED, EXPIRED, CANCELLED = (
    "running", "completed", "failed", "expired", "cancelled",
)  # fmt: skip
TERMINAL = frozenset({COMPLETED, FAILED, EXPIRED, CANCELLED})
CHUNK = 1 << 20


@dataclass
class RemoteBatch:
    batch_id: str
    status: str  # one of RUNNING, COMPLETED, FAILED, EXPIRED, CANCELLED
    remote_status: str
    counts: dict[str, int]
    created_at: float | None = None  # Unix seconds
    ended_at: float | None = None
    errors: list[dict] = field(default_factory=list)  # validation errors of a failed batch
    raw: dict[str, Any] = field(default_factory=dict)
    owned: bool = False  # proven ours by a token the provider stores (OpenAI metadata)


@dataclass
class ResultLine:
    """One request's outcome, in a provider-neutral shape."""

    custom_id: str
    status: str  # succeeded | errored | expired | cancelled
    response: Any  # the provider's response body / message, when there is one
    error: dict | None
    model: str | None = None
    usage: dict[str, int] | None = None  # disjoint buckets named as tokcli.cost.Usage


@dataclass
class PartSource:
    """The bytes of one part: a byte range of the validated input file, streamed in chunks.

    With `job_id` set, each line goes out with its custom_id (`id_field`) replaced by the wire
    id `<job id>-<line>` (limits.wire_id): `wire_lines()` and `wire_size()`."""

    path: Path
    start: int
    end: int
    job_id: str | None = None
    first_line: int = 1
    id_field: str = "custom_id"
    _stats: tuple[int, str] | None = field(default=None, init=False, repr=False)

    @property
    def size(self) -> int:
        return self.end - self.start

    def chunks(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            left = self.size
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{self.path} shrank while being sent")
                left -= len(chunk)
                yield chunk

    def wire_lines(self) -> Iterator[bytes]:
        """Each line as sent, without its line ending."""
        for line_no, raw in enumerate(self.lines(), start=self.first_line):
            if self.job_id is None:
                yield raw.rstrip(b"\r\n")
            else:
                yield wire_line(json.loads(raw), self.id_field, wire_id(self.job_id, line_no))

    def wire_size(self) -> int:
        """Bytes of the lines as sent, each followed by one separator byte (newline, comma)."""
        return self._wire_stats()[0]

    def wire_sha256(self) -> str:
        """SHA-256 of the lines as uploaded (each ending in a newline)."""
        return self._wire_stats()[1]

    def _wire_stats(self) -> tuple[int, str]:
        # One pass computes both, once per part: a 200 MB part is re-serialised only for it
        # and for sending.
        if self._stats is None:
            import hashlib

            size, digest = 0, hashlib.sha256()
            for line in self.wire_lines():
                size += len(line) + 1
                digest.update(line + b"\n")
            self._stats = (size, digest.hexdigest())
        return self._stats

    def wire_ids(self) -> list[str]:
        """The custom_ids this part sends, in order."""
        if self.job_id is None:
            return [json.loads(raw)[self.id_field] for raw in self.lines()]
        count = sum(1 for _ in self.lines())
        return [wire_id(self.job_id, n) for n in range(self.first_line, self.first_line + count)]

    def lines(self) -> Iterator[bytes]:
        with self.path.open("rb") as handle:
            handle.seek(self.start)
            position = self.start
            while position < self.end:
                raw = handle.readline()
                if not raw:
                    raise OSError(f"{self.path} shrank while being sent")
                position += len(raw)
                yield raw


def wire_line(record: dict, id_field: str, new_id: str) -> bytes:
    """One request as sent: the record with its id replaced, compact JSON, key order kept."""
    record[id_field] = new_id
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


class Provider(Protocol):
    name: str
    needs_upload: bool

    def upload(self, name: str, source: PartSource) -> str: ...
    # optional: def uses_upload(self, source: PartSource) -> bool (default: needs_upload)
    def find_upload(self, name: str, size: int, sha256: str) -> str | None: ...
    def delete_file(self, file_id: str) -> None: ...
    def create(
        self, *, token: str, file_id: str | None, source: PartSource, endpoint: str | None,
        metadata: dict[str, str],
    ) -> RemoteBatch: ...  # fmt: skip
    def find_created(
        self, *, token: str, request_count: int, since: float, known_ids: set[str]
    ) -> list[RemoteBatch]: ...  # candidates; `owned` ones are proven
    def request_ids(self, remote: RemoteBatch, folder: Path) -> list[str] | None: ...
    def retrieve(self, batch_id: str) -> RemoteBatch: ...
    def cancel(self, batch_id: str) -> RemoteBatch: ...
    def download_results(self, remote: RemoteBatch, folder: Path) -> list[Path]: ...
    def read_results(self, path: Path) -> Iterator[tuple[int, ResultLine]]: ...
    def parse_result(self, line: dict) -> ResultLine: ...
    def close(self) -> None: ...
