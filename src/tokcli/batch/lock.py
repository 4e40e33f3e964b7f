"""One acting `tokcli batch` process per store.

SQLite: an exclusive `fcntl.flock` on `<store>.batch.lock`: the kernel drops it when the process
dies, even by SIGKILL, so a crashed run never leaves a stale lock behind (a lock row in SQLite
would need a lease and a clock). PostgreSQL: a session advisory lock on the store's server,
which every host sees and the server drops when the holding connection ends, however it ends.
`poll` does not wait for it (a second cron run has nothing to add); `submit`, `resume`,
`cancel` and `results` wait a while.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from tokcli.errors import TokcliError


class Busy(TokcliError):
    """Another tokcli batch process holds the lock."""


def BatchLock(store_path):  # a factory standing where the class stood
    """The lock for this store: a file lock beside a SQLite file, an advisory lock on a server."""
    from tokcli.store.postgres import StoreURL

    if isinstance(store_path, StoreURL):
        return ServerBatchLock(store_path)
    return FileBatchLock(store_path)


class ServerBatchLock:
    """The store server's session advisory lock, held for the length of the run."""

    def __init__(self, url):
        from tokcli.store.postgres import BATCH_LOCK, SessionLock

        self.url = url
        self._lock = SessionLock(url, BATCH_LOCK)

    def acquire(self, wait: float = 0.0, poll: float = 0.05) -> None:
        deadline = time.monotonic() + wait
        while not self._lock.try_acquire():
            if time.monotonic() >= deadline:
                self._lock.release()
                raise Busy(f"another tokcli batch process is working on {self.url}")
            time.sleep(poll)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class FileBatchLock:
    def __init__(self, store_path: Path):
        self.path = Path(str(store_path) + ".batch.lock")
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0, poll: float = 0.05) -> None:
        """Take the lock, waiting up to `wait` seconds; raise Busy if it stays taken."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise Busy(
                        f"another tokcli batch process is working on {self.path.name[:-11]}"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
