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
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tokcli.importers import get_format
from tokcli.importers.input_files import Source
from tokcli.importers.write import FileResult, ImportSettings, import_source
from tokcli.store.litellm_source import TABLE, dump_spend_logs, newest_litellm_start
from tokcli.store.postgres import redact

if TYPE_CHECKING:
    from tokcli.store.connection import Connection

OVERLAP = dt.timedelta(hours=1)


def pull_litellm(conn: Connection, url: str, settings: ImportSettings) -> FileResult:
    """Import the spend logs newer than what the store holds from `url` into `conn`."""
    since = _resume_point(conn)
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "litellm_spendlogs.jsonl"
        count = dump_spend_logs(url, since, saved)
        result = import_source(conn, Source(saved), get_format("litellm"), settings)
    window = f"from {since:%Y-%m-%dT%H:%M:%SZ}" if since else "all rows"
    result.path = f"{redact(url)} {TABLE} ({window}, {count:,} read)"
    return result


def _resume_point(conn: Connection) -> dt.datetime | None:
    newest = newest_litellm_start(conn)
    if not newest:
        return None
    moment = dt.datetime.fromisoformat(str(newest).replace("Z", "+00:00"))
    return moment - OVERLAP
