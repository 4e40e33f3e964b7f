"""`tokcli import --from postgresql://…/litellm --source litellm`: read a LiteLLM proxy's own
`LiteLLM_SpendLogs` table, incrementally, so a LiteLLM team gets tokcli's reports, budgets and
forecasts without exporting files.

Each run reads the rows that started at or after the newest LiteLLM row already in the store,
less a safety overlap (a proxy writes spend logs in batches, so a row may land after a later
one); the overlap's rows are recognised by their record key (the request id) and skipped. The
rows are written to a temporary JSON Lines file and imported by the `litellm` format, the same
path as a `LiteLLM_SpendLogs` export, in one transaction.

The proxy's database is only read (a read-only transaction); its password, like the store's,
never appears in output or errors.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

from tokcli.errors import TokcliError
from tokcli.importers import get_format
from tokcli.importers.pipeline import FileResult, ImportSettings, import_source
from tokcli.importers.reading import Source
from tokcli.store.postgres import redact

TABLE = '"LiteLLM_SpendLogs"'
OVERLAP = dt.timedelta(hours=1)
PAGE_ROWS = 5_000
# The columns the litellm format reads (schema.prisma, model LiteLLM_SpendLogs); timestamps
# become ISO text in UTC and JSON columns their JSON text, as in an export.
_COLUMNS = (
    "request_id", "call_type", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
    "startTime", "endTime", "model", "model_group", "custom_llm_provider", "user", "metadata",
    "cache_hit", "request_tags", "team_id", "end_user", "status",
)  # fmt: skip


def pull_litellm(conn, url: str, settings: ImportSettings) -> FileResult:
    """Import the spend logs newer than what the store holds from `url` into `conn`."""
    since = _resume_point(conn)
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "litellm_spendlogs.jsonl"
        count = _dump_rows(url, since, saved)
        result = import_source(conn, Source(saved), get_format("litellm"), settings)
    window = f"from {since:%Y-%m-%dT%H:%M:%SZ}" if since else "all rows"
    result.path = f"{redact(url)} {TABLE} ({window}, {count:,} read)"
    return result


def _resume_point(conn) -> dt.datetime | None:
    newest = conn.execute(
        "SELECT MAX(period_start) FROM usage WHERE source = 'litellm'"
    ).fetchone()[0]
    if not newest:
        return None
    moment = dt.datetime.fromisoformat(str(newest).replace("Z", "+00:00"))
    return moment - OVERLAP


def _dump_rows(url: str, since: dt.datetime | None, saved: Path) -> int:
    try:
        import psycopg
    except ImportError:
        raise TokcliError(
            "--from postgresql://…: reading LiteLLM's database needs psycopg: "
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
        from tokcli.store.postgres import _scrub

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
