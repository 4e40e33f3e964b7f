"""The type of an open store connection: the slice of `sqlite3.Connection` the store uses,
which `sqlite3.Connection` and the PostgreSQL backend's `PgConnection` both provide.

A Protocol rather than either class, so annotations (inside and outside `tokcli.store`, which
never names a database driver: tests/test_store_boundary.py checks it) accept both backends
and mypy checks that both keep offering what the store calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Connection", "Cursor", "Parameters"]

# A statement's `?` values, by position (the store never binds by name).
Parameters = Sequence[Any]


class Cursor(Protocol):
    """The result of `execute`: rows readable by index and by column name, or `None` once
    `row_factory` is set to `None` (plain tuples, for loops over millions of rows)."""

    row_factory: Any

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> Cursor: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...

    @property
    def rowcount(self) -> int: ...


class Connection(Protocol):
    """An open store, in autocommit mode: `store.transaction(conn)` opens the transactions."""

    row_factory: Any

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Parameters], /) -> Cursor: ...

    def cursor(self) -> Cursor: ...

    def create_aggregate(
        self, name: str, n_arg: int, aggregate_class: Callable[[], Any], /
    ) -> None: ...

    def create_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, /, *, deterministic: bool = ...
    ) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    # `with conn:` ends the block the backend's way (sqlite3 commits, PostgreSQL closes);
    # writes use `store.transaction(conn)`, which means the same on both.
    def __enter__(self) -> Any: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> object: ...
