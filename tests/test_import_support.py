"""Helpers shared by the import/export tests: read the store directly with sqlite3, so the
assertions do not go through the code under test."""

from __future__ import annotations

import decimal
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def exact_decimals():
    """Sums in these tests use 60 digits, as tokcli's money context does: Decimal's default 28
    would round long Azure/OpenAI amounts on both sides of an assertion and hide a difference.
    Autouse in every module that imports it."""
    with decimal.localcontext() as context:
        context.prec = 60
        yield


TOKEN_COLUMNS = (
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def store_rows(store: Path, where: str = "1=1", params=()) -> list[dict]:
    conn = sqlite3.connect(store)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"SELECT * FROM usage WHERE {where}", params)]
    finally:
        conn.close()


def token_totals(store: Path, where: str = "1=1") -> dict[str, int]:
    rows = store_rows(store, where)
    return {c: sum(r[c] for r in rows) for c in TOKEN_COLUMNS}


def money_total(store: Path, column: str = "billed_cost", where: str = "1=1") -> Decimal:
    return sum(
        (Decimal(r[column]) for r in store_rows(store, where) if r[column] is not None),
        Decimal(0),
    )


def store_dump(store: Path) -> list:
    """Everything the store holds, in a stable order: equal dumps mean an unchanged store."""
    conn = sqlite3.connect(store)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        return [
            (t, sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"')), key=repr)) for t in tables
        ]
    finally:
        conn.close()


def tags_of(store: Path, record_key: str) -> dict[str, str]:
    conn = sqlite3.connect(store)
    try:
        return dict(
            conn.execute(
                "SELECT t.key, t.value FROM usage_tags t JOIN usage u ON u.id = t.usage_id "
                "WHERE u.record_key = ?",
                (record_key,),
            ).fetchall()
        )
    finally:
        conn.close()
