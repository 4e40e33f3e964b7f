"""tokcli.http against a scripted server on 127.0.0.1: retries, Retry-After, 404 after create,
non-idempotent requests, streaming bodies and secret redaction."""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tokcli.http import (
    AmbiguousRequestError,
    HttpClient,
    HttpError,
    RetryPolicy,
    Secrets,
    backoff_delay,
    parse_retry_after,
)

KEY = "sk-test-SECRETKEY1234567890abcdef"


class Scripted:
    """A server answering each request with the next scripted (status, headers, body) or
    'drop' (close the connection without answering)."""

    def __init__(self):
        self.script: list = []
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                if self.headers.get("transfer-encoding") == "chunked":
                    body = _read_chunked(self.rfile)
                else:
                    body = self.rfile.read(length)
                outer.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body": body}
                )  # fmt: skip
                step = outer.script.pop(0) if outer.script else (200, {}, {"ok": True})
                if step == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, payload = step
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _read_chunked(stream) -> bytes:
    data = b""
    while True:
        size = int(stream.readline().strip(), 16)
        if size == 0:
            stream.readline()
            return data
        data += stream.read(size)
        stream.readline()


@pytest.fixture
def server():
    scripted = Scripted()
    yield scripted
    scripted.close()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(server, sleeps):
    c = HttpClient(
        server.base_url,
        auth_headers={"Authorization": f"Bearer {KEY}"},
        policy=RetryPolicy(max_attempts=4, base_delay=1, max_delay=8, max_retry_after=60),
        sleep=sleeps.append,
        rng=lambda: 0.5,
        timeout=5,
    )
    yield c
    c.close()


def test_success_sends_auth_to_base_origin(client, server):
    assert client.request("GET", "/v1/x").json() == {"ok": True}
    assert server.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"


def test_retries_429_honouring_retry_after_seconds(client, server, sleeps):
    server.script = [(429, {"retry-after": "7"}, {"error": {"message": "slow down"}})] * 2
    assert client.request("GET", "/v1/x").status_code == 200
    assert sleeps == [7.0, 7.0]
    assert len(server.requests) == 3


def test_retry_after_http_date():
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": later}, now) == 30
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert parse_retry_after({}) is None


def test_5xx_and_529_use_exponential_backoff_with_full_jitter(client, server, sleeps):
    server.script = [(500, {}, {}), (529, {}, {}), (503, {}, {})]
    assert client.request("GET", "/v1/x").status_code == 200
    # rng 0.5 * min(8, 1 * 2**attempt) for attempts 1, 2, 3
    assert sleeps == [1.0, 2.0, 4.0]


def test_full_jitter_bounds():
    policy = RetryPolicy(base_delay=0.5, max_delay=8)
    assert backoff_delay(10, policy, lambda: 1.0) == 8
    assert backoff_delay(1, policy, lambda: 0.0) == 0


def test_attempts_are_capped(client, server, sleeps):
    server.script = [(500, {"x-request-id": "req_1"}, {"error": {"message": "boom"}})] * 10
    with pytest.raises(HttpError) as caught:
        client.request("GET", "/v1/x")
    assert len(server.requests) == 4
    assert caught.value.status == 500
    assert "boom" in str(caught.value) and "req_1" in str(caught.value)


def test_too_long_retry_after_is_not_slept_through(client, server, sleeps):
    server.script = [(429, {"retry-after": "3600"}, {"error": {"message": "quota"}})]
    with pytest.raises(HttpError, match="retry after 3600s"):
        client.request("GET", "/v1/x")
    assert sleeps == []


def test_4xx_is_not_retried(client, server):
    server.script = [(400, {}, {"error": {"message": "bad file"}})]
    with pytest.raises(HttpError, match="HTTP 400: bad file"):
        client.request("POST", "/v1/x", json_body={})
    assert len(server.requests) == 1


def test_transient_404_after_create_is_retried_when_asked(client, server, sleeps):
    server.script = [(404, {}, {"error": {"message": "not found"}})] * 2
    assert client.request("GET", "/v1/b/1", retry_not_found=True).status_code == 200
    server.script = [(404, {}, {"error": {"message": "not found"}})]
    with pytest.raises(HttpError, match="404"):
        client.request("GET", "/v1/b/1")


def test_non_idempotent_request_is_not_retried_after_a_5xx(client, server):
    server.script = [(500, {}, {"error": {"message": "oops"}})]
    with pytest.raises(AmbiguousRequestError, match="may have been acted on"):
        client.request("POST", "/v1/batches", json_body={}, idempotent=False)
    assert len(server.requests) == 1


def test_non_idempotent_request_is_retried_after_429_and_529(client, server):
    server.script = [(429, {"retry-after": "1"}, {}), (529, {}, {})]
    client.request("POST", "/v1/batches", json_body={}, idempotent=False)
    assert len(server.requests) == 3


def test_dropped_connection_is_retried_for_idempotent_requests(client, server):
    server.script = ["drop"]
    assert client.request("GET", "/v1/x").status_code == 200


def test_dropped_connection_during_create_is_ambiguous(client, server):
    server.script = ["drop"]
    with pytest.raises(AmbiguousRequestError):
        client.request("POST", "/v1/batches", json_body={}, idempotent=False)


def test_connection_refused_is_retried_then_reported(sleeps):
    c = HttpClient("http://127.0.0.1:9", policy=RetryPolicy(max_attempts=3), sleep=sleeps.append)
    with pytest.raises(HttpError, match="cannot connect"):
        c.request("GET", "/v1/x")
    assert len(sleeps) == 2


def test_streamed_body_is_regenerated_on_each_attempt(client, server):
    server.script = [(503, {}, {})]
    chunks = [b'{"a":', b"1}"]
    client.request("POST", "/v1/x", content_factory=lambda: iter(chunks))
    assert [r["body"] for r in server.requests] == [b'{"a":1}', b'{"a":1}']


def test_download_streams_into_sink_and_restarts_on_retry(client, server):
    server.script = [(500, {}, {}), (200, {}, b"line1\nline2\n")]
    sink = io.BytesIO()
    assert client.download("/v1/files/f/content", sink) == 12
    assert sink.getvalue() == b"line1\nline2\n"


def test_auth_is_never_sent_to_another_origin(client, server):
    other = Scripted()
    try:
        client.request("GET", other.base_url + "/elsewhere")
        assert "Authorization" not in other.requests[0]["headers"]
    finally:
        other.close()


def test_keys_are_redacted_from_errors_and_retry_notes(server, sleeps):
    notes = []
    c = HttpClient(
        server.base_url,
        auth_headers={"x-api-key": KEY},
        sleep=sleeps.append,
        on_retry=notes.append,
        policy=RetryPolicy(max_attempts=2),
    )
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    server.script = [(500, {}, echo), (401, {}, echo)]
    with pytest.raises(HttpError) as caught:
        c.request("GET", "/v1/x")
    text = str(caught.value) + json.dumps(caught.value.body) + " ".join(notes)
    assert KEY not in text
    assert "[REDACTED]" in str(caught.value)


def test_secrets_redact_key_shapes_it_was_not_told():
    assert "sk-ant-abcdef123456" not in Secrets().redact("bad key sk-ant-abcdef123456 given")


def test_transient_predicate_retries_a_read_after_write_gap(client, server):
    gap = (400, {}, {"error": {"message": "Cannot find file file-1"}})
    server.script = [gap, gap]
    response = client.request(
        "POST", "/v1/batches", json_body={}, idempotent=False,
        transient=lambda r: r.status_code == 400,
    )  # fmt: skip
    assert response.status_code == 200 and len(server.requests) == 3


# -- issue 21: encoded keys, one redaction pass at the door, non-JSON 2xx ------------------------


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


def _encoded_forms(key: str) -> list[str]:
    from urllib.parse import quote

    return [
        key,
        quote(f"Bearer {key}", safe=""),
        _b64(key),
        _b64(f"Bearer {key}"),
        *(_b64(pad + f"Authorization: Bearer {key}") for pad in ("", "x", "xy")),
        _b64(f"x-api-key: {key}").replace("+", "-").replace("/", "_"),
    ]


def test_secrets_redact_encoded_forms_of_a_key():
    secrets = Secrets()
    secrets.add(KEY)
    for form in _encoded_forms(KEY):
        text = secrets.redact_known(f"echo [{form}] end")
        assert form not in text and "[REDACTED]" in text, form
    # A model's answer that merely looks like a key is data, not a secret.
    assert secrets.redact_known("risk-assessment done") == "risk-assessment done"


def test_every_success_body_is_scrubbed_before_anyone_parses_it(client, server):
    server.script = [(200, {}, {"echo": _encoded_forms(KEY)})]
    body = client.request_json("GET", "/v1/x")
    assert all(form not in json.dumps(body) for form in _encoded_forms(KEY))
    assert body["echo"][0] == "[REDACTED]"


def test_downloads_are_scrubbed_even_across_chunk_boundaries(client, server):
    line = json.dumps({"text": "x" * 65_530 + _b64(f"Bearer {KEY}")}).encode() + b"\n"
    server.script = [(200, {}, line * 3)]
    sink = io.BytesIO()
    client.download("/v1/files/f/content", sink)
    assert KEY.encode() not in sink.getvalue()
    assert _b64(f"Bearer {KEY}").encode() not in sink.getvalue()
    assert sink.getvalue().count(b"[REDACTED]") == 3 and sink.getvalue().count(b"\n") == 3


@pytest.mark.parametrize("payload", [b"<html><body>502 Bad Gateway</body></html>", b'{"id": "ba'])
def test_a_2xx_that_is_not_json_is_one_error_not_a_traceback(client, server, payload):
    server.script = [(200, {"content-type": "text/html"}, payload)]
    with pytest.raises(HttpError) as caught:
        client.request_json("GET", "/v1/batches/b")
    assert "HTTP 200 but the body is not JSON (text/html" in str(caught.value)
    assert not isinstance(caught.value, AmbiguousRequestError)
    server.script = [(200, {}, payload)]
    with pytest.raises(AmbiguousRequestError):  # a create that answered garbage may exist
        client.request_json("POST", "/v1/batches", json_body={}, idempotent=False)
