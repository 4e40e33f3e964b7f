"""Reading a LiteLLM proxy's own PostgreSQL database (`LiteLLM_SpendLogs`), read-only.

Not tokcli's store, but SQL all the same, so it lives in the store package with the rest
(tests/test_store_boundary.py). `tokcli.importers.remote.litellm_db` turns the rows into an import.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tokcli.errors import TokcliError
from tokcli.store.connection import Connection
from tokcli.store.postgres import _scrub, redact

TABLE = '"LiteLLM_SpendLogs"'
PAGE_ROWS = 5_000
# The columns the litellm format reads (schema.prisma, model LiteLLM_SpendLogs); timestamps
# become ISO text in UTC and JSON columns their JSON text, as in an export.
_COLUMNS = (
    "request_id", "call_type", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
    "startTime", "endTime", "model", "model_group", "custom_llm_provider", "user", "metadata",
    "cache_hit", "request_tags", "team_id", "end_user", "status",
)  # fmt: skip


def newest_litellm_start(conn: Connection) -> str | None:
    """The newest period_start of the store's LiteLLM rows: where the next read resumes."""
    row = conn.execute("SELECT MAX(period_start) FROM usage WHERE source = 'litellm'").fetchone()
    return row[0] if row else None


def dump_spend_logs(url: str, since: dt.datetime | None, saved: Path) -> int:
    try:
        import psycopg
    except ImportError:
        raise TokcliError(
            "reading LiteLLM's database (postgresql://…) needs psycopg: "
            "pip install 'tokcli[postgresql]'"
        ) from None
    selected = ", ".join(_select(column) for column in _COLUMNS)
    where = 'WHERE "startTime" >= %s' if since else ""
    sql = f'SELECT {selected} FROM {TABLE} {where} ORDER BY "startTime", request_id'
    params = (since.replace(tzinfo=None),) if since else None
    count = 0
    try:
        with psycopg.connect(url, connect_timeout=15) as source:
            source.read_only = True
            with source.cursor(name="tokcli_spendlogs") as cursor, saved.open("w") as out:
                cursor.itersize = PAGE_ROWS
                cursor.execute(sql, params)
                names = [c.name for c in cursor.description or ()]
                for row in cursor:
                    out.write(json.dumps(dict(zip(names, row, strict=True)), default=str) + "\n")
                    count += 1
    except psycopg.Error as exc:
        detail = " ".join(_scrub(str(exc), url).split())
        raise TokcliError(f"{redact(url)}: cannot read {TABLE}: {detail}") from None
    return count


def _select(column: str) -> str:
    quoted = f'"{column}"'
    if column in ("startTime", "endTime"):
        # Prisma's DateTime is `timestamp(3)` without a zone, written in UTC.
        return f'to_char({quoted}, \'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') AS {quoted}'
    if column == "spend":
        return f"{quoted}::text AS {quoted}"  # the double's shortest exact text, not a float
    if column in ("metadata", "request_tags"):
        return f"{quoted}::text AS {quoted}"
    return quoted
