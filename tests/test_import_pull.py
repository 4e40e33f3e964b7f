"""`tokcli import --from openai|anthropic` against a local server on 127.0.0.1 that answers in
the documented shapes (paginated buckets), never the internet."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit sums)
    money_total,
    store_rows,
    token_totals,
)

OPENAI_KEY = "sk-admin-TESTKEY-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-admin01-TESTKEY-abcdef0123456789"
DAY = 86_400
SEPT_1 = 1_756_684_800  # 2025-09-01T00:00:00Z


def openai_usage_page(days, next_page):
    return {
        "object": "page",
        "has_more": next_page is not None,
        "next_page": next_page,
        "data": [
            {
                "object": "bucket",
                "start_time": SEPT_1 + d * DAY,
                "end_time": SEPT_1 + (d + 1) * DAY,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 1000 * (d + 1),
                        "input_cached_tokens": 100,
                        "output_tokens": 10 * (d + 1),
                        "num_model_requests": d + 1,
                        "project_id": "proj_abc",
                        "api_key_id": None,
                        "user_id": None,
                        "model": "gpt-5-mini-2025-08-07",
                        "batch": False,
                        "service_tier": "default",
                    }
                ],
            }
            for d in days
        ],
    }


OPENAI_PAGES = {
    "/v1/organization/usage/completions": {
        None: openai_usage_page([0, 1], "page_2"),
        "page_2": openai_usage_page([2, 3], "page_3"),
        "page_3": openai_usage_page([4], None),
    },
    "/v1/organization/costs": {
        None: {
            "object": "page",
            "has_more": False,
            "next_page": None,
            "data": [
                {
                    "object": "bucket",
                    "start_time": SEPT_1,
                    "end_time": SEPT_1 + DAY,
                    "results": [
                        {
                            "object": "organization.costs.result",
                            "amount": {"value": "__WIRE_NUMBER__", "currency": "usd"},
                            "line_item": "gpt-5-mini-2025-08-07, input",
                            "project_id": "proj_abc",
                        }
                    ],
                }
            ],
        }
    },
}
# A JSON number with more digits than a float holds, as the server writes it on the wire.
WIRE_NUMBER = "0.1234567890123456789"
ANTHROPIC_PAGES = {
    "/v1/organizations/usage_report/messages": {
        None: {
            "data": [
                {
                    "starting_at": "2025-09-01T00:00:00Z",
                    "ending_at": "2025-09-02T00:00:00Z",
                    "results": [
                        {
                            "uncached_input_tokens": 500,
                            "cache_creation": {
                                "ephemeral_1h_input_tokens": 0,
                                "ephemeral_5m_input_tokens": 40,
                            },
                            "cache_read_input_tokens": 60,
                            "output_tokens": 70,
                            "model": "claude-sonnet-4-20250514",
                            "workspace_id": None,
                            "api_key_id": "apikey_01",
                            "service_tier": "standard",
                            "context_window": "0-200k",
                        }
                    ],
                }
            ],
            "has_more": True,
            "next_page": "page_MjAyNS0wOS0wMlQwMDowMDowMFo=",
        },
        "page_MjAyNS0wOS0wMlQwMDowMDowMFo=": {
            "data": [
                {
                    "starting_at": "2025-09-02T00:00:00Z",
                    "ending_at": "2025-09-03T00:00:00Z",
                    "results": [],
                }
            ],
            "has_more": False,
            "next_page": None,
        },
    },
    "/v1/organizations/cost_report": {
        None: {
            "data": [
                {
                    "starting_at": "2025-09-01T00:00:00Z",
                    "ending_at": "2025-09-02T00:00:00Z",
                    "results": [
                        {
                            "amount": "123.45",
                            "currency": "USD",
                            "cost_type": "tokens",
                            "description": "Claude Sonnet 4 Usage - Input Tokens",
                            "model": "claude-sonnet-4-20250514",
                            "service_tier": "standard",
                            "token_type": "uncached_input_tokens",
                            "context_window": "0-200k",
                            "workspace_id": None,
                        }
                    ],
                }
            ],
            "has_more": False,
            "next_page": None,
        }
    },
}


class FakeAdminApi(BaseHTTPRequestHandler):
    pages: ClassVar[dict] = {}
    requests: ClassVar[list] = []
    throttle_first: ClassVar[bool] = False

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        type(self).requests.append((url.path, query, dict(self.headers)))
        if type(self).throttle_first:
            type(self).throttle_first = False
            self._answer(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            return
        by_cursor = self.pages.get(url.path)
        cursor = (query.get("page") or [None])[0]
        if by_cursor is None or cursor not in by_cursor:
            self._answer(404, {"error": {"message": f"no such page {url.path} {cursor}"}})
            return
        self._answer(200, by_cursor[cursor])

    def _answer(self, status, body, headers=None):
        data = json.dumps(body).replace('"__WIRE_NUMBER__"', WIRE_NUMBER).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def api():
    def start(pages, throttle_first=False):
        handler = type("Handler", (FakeAdminApi,), {"pages": pages, "requests": []})
        handler.throttle_first = throttle_first
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", handler

    servers = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_pull_openai_follows_every_page_and_keeps_the_key_secret(cli, api, tmp_path):
    base, handler = api(OPENAI_PAGES, throttle_first=True)
    store = tmp_path / "s.db"
    env = {"OPENAI_ADMIN_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{base}/v1"}
    args = ("import", "--from", "openai", "--since", "2025-09-01", "--until", "2025-09-05")

    result = cli(*args, "--store", store, "--format", "json", env=env)

    assert result.exit_code == 0, result.stderr
    usage_calls = [q for p, q, _ in handler.requests if p.endswith("/usage/completions")]
    assert [q.get("page") for q in usage_calls] == [None, None, ["page_2"], ["page_3"]]
    first = usage_calls[0]
    assert first["start_time"] == [str(SEPT_1)] and first["end_time"] == [str(SEPT_1 + 5 * DAY)]
    assert set(first["group_by"]) >= {"model", "project_id"}
    assert all(h["Authorization"] == f"Bearer {OPENAI_KEY}" for _, _, h in handler.requests)
    totals = token_totals(store, "source = 'openai-usage'")
    assert totals["requests"] == 1 + 2 + 3 + 4 + 5
    assert totals["input_tokens"] == 1000 * 15 - 100 * 5
    # The cost's JSON number keeps every digit it had on the wire.
    assert money_total(store) == Decimal(WIRE_NUMBER)
    assert OPENAI_KEY not in result.stdout + result.stderr
    assert OPENAI_KEY.encode() not in store.read_bytes()
    assert "retrying" in result.stderr  # the 429 was retried through tokcli.http

    again = cli(*args, "--store", store, "--format", "json", env=env)
    assert again.json()["totals"]["inserted"] == 0  # the same window adds nothing


def test_pull_anthropic_usage_and_cost_report(cli, api, tmp_path):
    base, handler = api(ANTHROPIC_PAGES)
    store = tmp_path / "s.db"
    env = {"ANTHROPIC_ADMIN_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": base}

    result = cli("import", "--from", "anthropic", "--since", "2025-09-01", "--until",
                 "2025-09-02", "--store", store, "--format", "json", env=env)  # fmt: skip

    assert result.exit_code == 0, result.stderr
    paths = [p for p, _, _ in handler.requests]
    assert paths.count("/v1/organizations/usage_report/messages") == 2
    first_query = handler.requests[0][1]
    assert first_query["starting_at"] == ["2025-09-01T00:00:00Z"]
    assert first_query["ending_at"] == ["2025-09-03T00:00:00Z"]
    assert "model" in first_query["group_by[]"]
    headers = handler.requests[0][2]
    assert headers["x-api-key"] == ANTHROPIC_KEY
    assert headers["anthropic-version"] == "2023-06-01"
    totals = token_totals(store)
    assert (totals["input_tokens"], totals["cache_write_5m_tokens"]) == (500, 40)
    assert money_total(store) == Decimal("1.2345")  # 123.45 cents
    assert ANTHROPIC_KEY not in result.stdout + result.stderr
    assert {r["source"] for r in store_rows(store)} == {"anthropic-usage", "anthropic-costs"}


def test_pull_without_a_key_is_a_usage_error(cli, tmp_path):
    result = cli("import", "--from", "openai", "--since", "2025-09-01", "--store",
                 tmp_path / "s.db")  # fmt: skip
    assert result.exit_code == 2
    assert "OPENAI_ADMIN_KEY" in result.stderr


def test_pull_errors_never_show_the_key(cli, api, tmp_path):
    base, _ = api({})  # every path answers 404
    env = {"OPENAI_ADMIN_KEY": OPENAI_KEY, "OPENAI_BASE_URL": f"{base}/v1"}
    result = cli("import", "--from", "openai", "--since", "2025-09-01", "--until",
                 "2025-09-01", "--store", tmp_path / "s.db", env=env)  # fmt: skip
    assert result.exit_code == 2
    assert "HTTP 404" in result.stderr
    assert OPENAI_KEY not in result.stderr
