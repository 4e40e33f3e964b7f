"""`tokcli import --from openai|anthropic`: pull usage and cost buckets from the providers'
admin APIs, following pagination to the end, and import them like the JSON exports.

Windows are whole UTC days (`--since` 00:00 to the day after `--until`), always with the same
group-by, so an overlapping pull replaces the same buckets instead of double counting
(BILLING-FORMATS.md traps 6, 7 and 10). The admin key comes from the environment; it is sent
only to the provider's own origin and redacted from every message by tokcli.http.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.errors import OptionError, TokcliError
from tokcli.importers import get_format
from tokcli.importers.input_files import Source
from tokcli.importers.write import FileResult, ImportSettings, import_source

if TYPE_CHECKING:
    # httpx loads only when a pull runs
    from tokcli.context import Context
    from tokcli.http import HttpClient
    from tokcli.store.connection import Connection

MAX_PAGES = 10_000  # a server that never stops paginating is an error, not a hang


@dataclass(frozen=True)
class Endpoint:
    fmt: str  # the import format of its pages
    path: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Provider:
    key_env: str
    base_url_env: str
    default_base_url: str
    endpoints: tuple[Endpoint, ...]

    def auth_headers(self, key: str) -> dict[str, str]:
        if self.key_env.startswith("OPENAI"):
            return {"Authorization": f"Bearer {key}"}
        return {"x-api-key": key}

    def extra_headers(self) -> dict[str, str]:
        return {} if self.key_env.startswith("OPENAI") else {"anthropic-version": "2023-06-01"}


PROVIDERS = {
    "openai": Provider(
        "OPENAI_ADMIN_KEY",
        "OPENAI_BASE_URL",
        "https://api.openai.com/v1",
        (
            Endpoint(
                "openai-usage",
                "organization/usage/completions",
                {
                    "bucket_width": "1d",
                    "limit": 31,
                    "group_by": ["project_id", "api_key_id", "model", "batch", "service_tier"],
                },
            ),
            Endpoint(
                "openai-costs",
                "organization/costs",
                {"bucket_width": "1d", "limit": 180, "group_by": ["project_id", "line_item"]},
            ),
        ),
    ),
    "anthropic": Provider(
        "ANTHROPIC_ADMIN_KEY",
        "ANTHROPIC_BASE_URL",
        "https://api.anthropic.com",
        (
            Endpoint(
                "anthropic-usage",
                "v1/organizations/usage_report/messages",
                {
                    "bucket_width": "1d",
                    "limit": 31,
                    "group_by[]": [
                        "model",
                        "workspace_id",
                        "api_key_id",
                        "service_tier",
                        "context_window",
                    ],
                },
            ),
            Endpoint(
                "anthropic-costs",
                "v1/organizations/cost_report",
                {"bucket_width": "1d", "limit": 31, "group_by[]": ["workspace_id", "description"]},
            ),
        ),
    ),
}


def pull_into(
    conn: Connection,
    rt: Context,
    pull: str,
    window: tuple[dt.date | None, dt.date | None],
    settings: ImportSettings,
) -> list[FileResult]:
    """Pull `window` (since, until; until defaults to today) from provider `pull`'s admin API
    and import each endpoint's pages like the matching JSON export."""
    since, until = window
    provider = PROVIDERS.get(pull)
    if provider is None:
        raise OptionError("{pull}: expected openai or anthropic, got {got!r}", got=pull)
    key = rt.environ.get(provider.key_env)
    if not key:
        raise OptionError(
            "{pull} {provider}: set {env} to an organization admin key",
            provider=pull,
            env=provider.key_env,
        )
    if since is None:
        raise OptionError("{pull} needs {since} YYYY-MM-DD")
    start, end = _window(since, until or rt.today())
    base_url = rt.environ.get(provider.base_url_env) or provider.default_base_url
    results = []
    with _client(provider, base_url, key, rt) as client, tempfile.TemporaryDirectory() as folder:
        for endpoint in provider.endpoints:
            pages = fetch_all(client, endpoint, pull, start, end)
            saved = Path(folder) / f"{endpoint.fmt}.json"
            # The pages' own text, joined into a JSON list: amounts keep every digit they had
            # (parsing them into floats and writing them back could change one).
            saved.write_text("[" + ",".join(pages) + "]", encoding="utf-8")
            result = import_source(conn, Source(saved), get_format(endpoint.fmt), settings)
            result.path = f"{pull}:{endpoint.path} {start:%Y-%m-%d}..{end:%Y-%m-%d}"
            results.append(result)
    return results


def _window(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if until < since:
        raise OptionError("{until} {end} is before {since} {start}", end=until, start=since)
    start = dt.datetime(since.year, since.month, since.day, tzinfo=dt.UTC)
    last = dt.datetime(until.year, until.month, until.day, tzinfo=dt.UTC)
    return start, last + dt.timedelta(days=1)


def _client(provider: Provider, base_url: str, key: str, rt: Context) -> HttpClient:
    from tokcli.http import HttpClient

    return HttpClient(
        base_url,
        auth_headers=provider.auth_headers(key),
        headers=provider.extra_headers(),
        on_retry=rt.warn,
    )


def fetch_all(
    client: HttpClient, endpoint: Endpoint, provider: str, start: dt.datetime, end: dt.datetime
) -> list[str]:
    """Every page (its JSON text) of one endpoint for the window, following `has_more` /
    `next_page` to the end."""
    params = dict(endpoint.params)
    if provider == "openai":
        params.update(start_time=int(start.timestamp()), end_time=int(end.timestamp()))
    else:
        params.update(starting_at=_rfc3339(start), ending_at=_rfc3339(end))
    pages: list[str] = []
    cursor = None
    seen: set[str] = set()
    while True:
        if cursor is not None:
            params["page"] = cursor
        text = client.request("GET", endpoint.path, params=params).text
        try:
            page = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            raise TokcliError(f"{endpoint.path}: the answer is not JSON") from None
        if not isinstance(page, dict):
            raise TokcliError(f"{endpoint.path}: expected a page object")
        pages.append(text)
        cursor = page.get("next_page")
        if not page.get("has_more") or not cursor:
            return pages
        if cursor in seen or len(pages) >= MAX_PAGES:
            raise TokcliError(f"{endpoint.path}: the server repeats page cursor {cursor!r}")
        seen.add(cursor)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
