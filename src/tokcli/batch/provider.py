"""What the engine needs from a provider, and the shapes both providers map their objects to."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

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
    """The bytes of one part: a byte range of the validated input file, streamed in chunks."""

    path: Path
    start: int
    end: int

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


class Provider(Protocol):
    name: str
    needs_upload: bool

    def upload(self, name: str, source: PartSource) -> str: ...
    def find_upload(self, name: str) -> str | None: ...
    def create(
        self, *, token: str, file_id: str | None, source: PartSource, endpoint: str | None,
        metadata: dict[str, str],
    ) -> RemoteBatch: ...  # fmt: skip
    def find_created(
        self, *, token: str, request_count: int, since: float, known_ids: set[str]
    ) -> RemoteBatch | None: ...
    def retrieve(self, batch_id: str) -> RemoteBatch: ...
    def cancel(self, batch_id: str) -> RemoteBatch: ...
    def download_results(self, remote: RemoteBatch, folder: Path) -> list[Path]: ...
    def read_results(self, path: Path) -> Iterator[tuple[int, ResultLine]]: ...
    def parse_result(self, line: dict) -> ResultLine: ...
    def close(self) -> None: ...


def crash_point(name: str) -> None:
    """Test hook: TOKCLI_BATCH_CRASH_AT=<name> kills the process here with SIGKILL, as a power
    cut or an OOM kill would, to prove that `resume` recovers from every gap between steps."""
    if os.environ.get("TOKCLI_BATCH_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
