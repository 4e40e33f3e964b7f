"""The store's own exceptions, so code outside `tokcli.store` never names a database driver.

Store functions raise the backend's database errors as `StoreError` (or its subclass
`StoreUnavailable`) with the backend's message unchanged: what users see stays the same whatever
the backend. Errors are plain exceptions, not `TokcliError`: the CLI's last boundary
(`cli.main`) words them ("the usage store is damaged", "the disk is full").
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar


class StoreError(Exception):
    """A database error from the store's backend; its text is the backend's message."""


class StoreUnavailable(StoreError):
    """The store cannot carry out the operation now, through no fault of the data: it is locked
    by another writer, read-only, out of disk space, or the I/O failed (SQLite's
    OperationalError). A reader may still answer another way, e.g. from the usage rows when the
    report rollups cannot be refreshed."""


def _backend_error_types() -> tuple[type[BaseException], type[BaseException]]:
    """(any database error, the operational kind) of the backend drivers."""
    import sqlite3  # here, not at the top: `tokcli --help` need not load the driver

    return sqlite3.DatabaseError, sqlite3.OperationalError


def as_store_error(exc: BaseException) -> StoreError | None:
    """`exc` as a StoreError when it is one or is a backend database error, else None. For
    the CLI's last boundary, which also meets errors raised by store code that does not
    translate its own (the connection, transactions)."""
    if isinstance(exc, StoreError):
        return exc
    database_error, operational_error = _backend_error_types()
    if isinstance(exc, operational_error):
        return StoreUnavailable(str(exc))
    if isinstance(exc, database_error):
        return StoreError(str(exc))
    return None


@contextmanager
def translated() -> Iterator[None]:
    """Raise the backend's database errors met inside as StoreError / StoreUnavailable."""
    database_error, _ = _backend_error_types()
    try:
        yield
    except database_error as exc:
        raise as_store_error(exc) from exc  # type: ignore[misc]


F = TypeVar("F", bound=Callable[..., Any])


def translates(function: F) -> F:
    """Decorator: `function` raises StoreError, never a driver's error. A generator function
    stays lazy and is translated while it is iterated."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with translated():
                yield from function(*args, **kwargs)

        return generator  # type: ignore[return-value]

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with translated():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
