"""Usage rows for an export: every column of `usage`, with the row's tags, in time order."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

from tokcli.store.connection import Connection
from tokcli.store.errors import translates


@translates
def usage_with_tags(
    conn: Connection,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    source: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Usage rows whose period starts in the days [since, until] (None: open), of one source
    and carrying every tag key=value given, ordered by period_start then id; each a dict of
    the `usage` columns plus `tags` (a dict, empty when untagged)."""
    clauses, params = ["1 = 1"], []
    if since:
        clauses.append("u.period_start >= ?")
        params.append(f"{since:%Y-%m-%d}T00:00:00Z")
    if until:
        clauses.append("u.period_start < ?")
        params.append(f"{until + dt.timedelta(days=1):%Y-%m-%d}T00:00:00Z")
    if source:
        clauses.append("u.source = ?")
        params.append(source)
    for key, value in (tags or {}).items():
        clauses.append(
            "EXISTS (SELECT 1 FROM usage_tags t WHERE t.usage_id = u.id AND t.key = ? "
            "AND t.value = ?)"
        )
        params += [key, value]
    sql = (
        "SELECT u.*, (SELECT json_group_object(key, value) FROM usage_tags t "
        "WHERE t.usage_id = u.id) AS tags_json FROM usage u "
        f"WHERE {' AND '.join(clauses)} ORDER BY u.period_start, u.id"
    )
    for row in conn.execute(sql, params):
        found = dict(row)
        found["tags"] = json.loads(found.pop("tags_json") or "{}")
        yield found
