"""The one HTTP layer for talking to providers: timeouts, capped retries with exponential backoff
and full jitter that honour `Retry-After`, and secrets that never reach a message.

httpx is imported inside functions: importing this module costs nothing at start-up.

Retry rules (README, section `tokcli batch`):
- 429, 408, 5xx and Anthropic's 529 are retried, and so are connection errors, up to
  `RetryPolicy.max_attempts` attempts in all.
- A request that is *not idempotent* (creating a batch) is only retried when the server surely
  did not act on it: 429 and 529 (rejected before processing) and errors while connecting.
  After a 5xx or a read timeout the outcome is unknown; `AmbiguousRequestError` is raised so the
  caller can look for what the first attempt may have created instead of making a duplicate.
- `retry_not_found=True` also retries 404: providers answer 404 for a few seconds after a
  create (read-after-write gaps). `transient(response)` marks other such answers (OpenAI's
  400 "Cannot find file" right after an upload). Both are capped by `not_found_attempts`.
- `Retry-After` (seconds or an HTTP date) and `retry-after-ms` are honoured; a wait longer than
  `max_retry_after` is not slept through: the error is raised so that cron tries again later.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote, quote_plus, urlsplit

from tokcli.errors import OptionError, TokcliError

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
# The server rejected these before doing anything, so even a create may be retried.
REJECTED_UNPROCESSED = frozenset({429, 529})
REDACTED = "[REDACTED]"
# Key shapes redacted even when we were not told the key (echoed back in provider messages).
_KEY_PATTERNS = re.compile(r"(sk-(?:ant-)?[A-Za-z0-9_\-*]{6,}|Bearer\s+[A-Za-z0-9._\-~+/=*]{6,})")


class HttpError(TokcliError):
    """A request failed for good. The message names the method, path and provider's reason,
    with secrets redacted; `status` is None when no response arrived. A `hint` that names an
    option (`{base_url}`) follows the message: the CLI shows the option as its flag."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: Any = None,
        request_id: str | None = None,
        hint: OptionError | None = None,
    ):
        self.message, self.hint = message, hint
        super().__init__(message + (str(hint) if hint else ""))
        self.status, self.body, self.request_id = status, body, request_id

    def render(self, name_of: Callable[[str], str]) -> str:
        return self.message + (self.hint.render(name_of) if self.hint else "")


class AmbiguousRequestError(HttpError):
    """A non-idempotent request may or may not have been acted on (5xx, read timeout)."""


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5  # seconds; doubled per attempt, full jitter
    max_delay: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is not waited for
    not_found_attempts: int = 4  # with retry_not_found / transient


@dataclass
class Secrets:
    """Strings that must never leave the process: in a message, the store or a file.

    Each secret is also matched in the forms a provider may echo it in (issue 21): URL-encoded,
    and base64 of the key or of `Bearer KEY` at any of the three byte alignments inside a longer
    base64 text (standard and URL-safe alphabets). Secrets shorter than 8 characters are
    matched only as themselves."""

    values: set[str] = field(default_factory=set)
    _forms: list[str] | None = field(default=None, repr=False)

    def add(self, value: str | None) -> None:
        if value and value not in self.values:
            self.values.add(value)
            self._forms = None

    def forms(self) -> list[str]:
        if self._forms is None:
            found: set[str] = set()
            for value in self.values:
                found.add(value)
                if len(value) < 8:
                    continue
                found.update({quote(value, safe=""), quote_plus(value)})
                for plain_text in (value, f"Bearer {value}"):
                    found.update(_base64_cores(plain_text.encode()))
            self._forms = sorted((f for f in found if f), key=len, reverse=True)
        return self._forms

    def redact(self, text: str) -> str:
        """For messages: every form of every secret, and anything shaped like a key."""
        return _KEY_PATTERNS.sub(REDACTED, self.redact_known(text))

    def redact_known(self, text: str) -> str:
        """For provider content kept as data (results, stored objects): only our secrets, so
        that a model's answer mentioning `task-force` is not mangled by the key shapes."""
        for form in self.forms():
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        for form in self.forms():
            encoded = form.encode()
            if encoded in data:
                data = data.replace(encoded, REDACTED.encode())
        return data


def _base64_cores(data: bytes) -> set[str]:
    """The base64 characters that depend only on `data`, for data starting at byte offset 0,
    1 or 2 of a longer encoded text: what any base64 containing `data` must contain."""
    import base64

    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data).decode().rstrip("=")
        start = -(-8 * shift // 6)  # ceil: the first character free of the padding bytes
        end = (8 * (shift + len(data))) // 6  # the last character made only of data bits
        core = encoded[start:end]
        if len(core) >= 8:
            cores.add(core)
            cores.add(core.replace("+", "-").replace("/", "_"))
    return cores


class RedactingSink:
    """A file-like writer that redacts secrets line by line (a secret never spans lines in
    JSONL) before anything reaches the disk."""

    def __init__(self, sink: IO[bytes], secrets: Secrets):
        self.sink, self.secrets, self.pending = sink, secrets, b""

    def seek(self, *args):
        self.pending = b""
        return self.sink.seek(*args)

    def truncate(self, *args):
        return self.sink.truncate(*args)

    def write(self, data: bytes) -> int:
        self.pending += data
        cut = self.pending.rfind(b"\n") + 1
        if cut:
            self.sink.write(self.secrets.redact_bytes(self.pending[:cut]))
            self.pending = self.pending[cut:]
        return len(data)

    def flush(self) -> None:
        if self.pending:
            self.sink.write(self.secrets.redact_bytes(self.pending))
            self.pending = b""


def parse_retry_after(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max((moment - now).total_seconds(), 0.0)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: Callable[[], float]) -> float:
    """Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(policy.max_delay, policy.base_delay * (2**attempt))
    return rng() * ceiling


def provider_message(body: Any) -> str | None:
    """The human message from an OpenAI or Anthropic error envelope."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return None


class HttpClient:
    """A small synchronous client for one provider's base URL.

    `auth_headers` are sent only to the base URL's origin, never to another host (an absolute
    URL a server hands back, such as Anthropic's `results_url`, may point elsewhere).
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth_headers: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        on_retry: Callable[[str], None] | None = None,
        secrets: Secrets | None = None,
    ):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.sleep, self.rng, self.on_retry = sleep, rng, on_retry
        self.secrets = secrets or Secrets()
        self._auth = dict(auth_headers or {})
        for value in self._auth.values():
            self.secrets.add(value)
            self.secrets.add(value.removeprefix("Bearer ").strip())
        self._client = httpx.Client(
            headers=dict(headers or {}),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return self.base_url + "/" + path_or_url.lstrip("/")

    def _headers_for(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if _origin(url) == _origin(self.base_url):
            headers.update(self._auth)
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_factory: Callable[[], Iterable[bytes] | bytes] | None = None,
        files_factory: Callable[[], dict] | None = None,
        data: Mapping[str, str] | None = None,
        idempotent: bool = True,
        retry_not_found: bool = False,
        transient: Callable[[Any], bool] | None = None,
    ):
        """Send with retries; return the httpx.Response of a 2xx answer, else raise HttpError.

        Bodies that are streamed come from a factory so that each attempt starts afresh."""
        url = self.url(path)

        def send():
            kwargs: dict[str, Any] = {"params": params, "headers": self._headers_for(url, headers)}
            if json_body is not None:
                kwargs["json"] = json_body
            if content_factory is not None:
                kwargs["content"] = content_factory()
            if files_factory is not None:
                kwargs["files"] = files_factory()
                kwargs["data"] = data
            return self._client.request(method, url, **kwargs)

        response = self._with_retries(method, url, send, idempotent, retry_not_found, transient)
        return self._scrubbed(response)

    def request_json(self, method: str, path: str, **kwargs) -> dict:
        """`request`, and its body as a JSON object. A 2xx that is not one (an HTML page from a
        proxy, a body cut short) is an HttpError naming the request, never a traceback; for a
        request that is not idempotent it is ambiguous: it may have been acted on."""
        response = self.request(method, path, **kwargs)
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict):
            return body
        kind = (response.headers.get("content-type") or "no content type").split(";")[0]
        what = "not a JSON object" if body is not None else "not JSON"
        ambiguous = not kwargs.get("idempotent", True)
        message = (
            f"{method} {urlsplit(self.url(path)).path}: HTTP {response.status_code} but the "
            f"body is {what} ({kind}, {len(response.content)} bytes)"
        )
        hint = ": is {base_url} the provider's API?"
        if ambiguous:
            hint += "; the request may have been acted on"
        raise self._error(
            message, ambiguous=ambiguous, status=response.status_code, hint=OptionError(hint)
        )

    def _scrubbed(self, response):
        """The response with every secret form removed from its body: one pass at the door,
        before anything a provider sent is parsed, printed, stored or written."""
        import httpx

        content = response.content
        clean = self.secrets.redact_bytes(content)
        if clean == content:
            return response
        headers = [(k, v) for k, v in response.headers.items()
                   if k.lower() not in ("content-encoding", "content-length")]  # fmt: skip
        return httpx.Response(
            response.status_code, headers=headers, content=clean, request=response.request
        )

    def download(self, path: str, sink: IO[bytes], *, retry_not_found: bool = False) -> int:
        """Stream a GET body into `sink`, rewritten from the start on each attempt."""
        url = self.url(path)
        written = 0
        redacting = RedactingSink(sink, self.secrets)

        def send():
            nonlocal written
            headers = self._headers_for(url, {"Accept": "application/binary"})
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 300:
                    response.read()
                    return response
                redacting.seek(0)
                redacting.truncate()
                written = 0
                for chunk in response.iter_bytes(1 << 16):
                    redacting.write(chunk)
                    written += len(chunk)
                redacting.flush()
                return response

        self._with_retries("GET", url, send, True, retry_not_found)
        return written

    def _with_retries(self, method, url, send, idempotent, retry_not_found, transient=None):
        import httpx

        where = f"{method} {urlsplit(url).path}"
        attempt = 0
        not_found_seen = 0
        while True:
            attempt += 1
            last = attempt >= self.policy.max_attempts
            try:
                response = send()
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached the server: safe to retry anything.
                if last:
                    raise self._error(f"{where}: cannot connect: {exc}") from None
                self._pause(attempt, None, f"{where}: cannot connect; retrying")
                continue
            except httpx.TransportError as exc:
                # The request may have been received: only idempotent ones are retried.
                if not idempotent:
                    raise self._error(
                        f"{where}: connection lost, outcome unknown: {type(exc).__name__}",
                        ambiguous=True,
                    ) from None
                if last:
                    raise self._error(f"{where}: connection failed: {type(exc).__name__}") from None
                self._pause(attempt, None, f"{where}: {type(exc).__name__}; retrying")
                continue
            status = response.status_code
            if 200 <= status < 300:
                return response
            wait = parse_retry_after(response.headers)
            retry = status in RETRYABLE_STATUSES and (idempotent or status in REJECTED_UNPROCESSED)
            gap = (status == 404 and retry_not_found) or bool(transient and transient(response))
            if gap and not_found_seen + 1 < self.policy.not_found_attempts:
                not_found_seen += 1  # a read-after-write gap: nothing was done, safe to repeat
                retry = True
            too_long = wait is not None and wait > self.policy.max_retry_after
            if not retry or last or too_long:
                ambiguous = not idempotent and status >= 500 and status not in REJECTED_UNPROCESSED
                raise self._response_error(where, response, ambiguous=ambiguous, wait=wait)
            self._pause(attempt, wait, f"{where}: HTTP {status}; retrying")

    def _pause(self, attempt: int, retry_after: float | None, note: str) -> None:
        delay = (
            retry_after
            if retry_after is not None
            else backoff_delay(attempt, self.policy, self.rng)
        )
        if self.on_retry:
            self.on_retry(self.secrets.redact(f"{note} in {delay:.1f}s"))
        self.sleep(delay)

    def _error(self, message: str, *, ambiguous: bool = False, **kwargs) -> HttpError:
        cls = AmbiguousRequestError if ambiguous else HttpError
        return cls(self.secrets.redact(message), **kwargs)

    def _response_error(self, where, response, *, ambiguous, wait) -> HttpError:
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            body = None
        reason = provider_message(body) or response.reason_phrase or "error"
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        message = f"{where}: HTTP {response.status_code}: {reason}"
        if wait is not None and wait > self.policy.max_retry_after:
            message += f" (server asks to retry after {wait:.0f}s)"
        if request_id:
            message += f" (request id {request_id})"
        if ambiguous:
            message += "; the request may have been acted on"
        return self._error(
            message,
            ambiguous=ambiguous,
            status=response.status_code,
            body=_redact_body(body, self.secrets),
            request_id=request_id,
        )


def _redact_body(body: Any, secrets: Secrets) -> Any:
    if body is None:
        return None
    return json.loads(secrets.redact(json.dumps(body)))


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
