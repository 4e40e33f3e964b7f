"""A local emulator of the OpenAI Files + Batch API, the Anthropic Message Batches API and the
Gemini API Batch Mode (gemini.py), as the providers' published API references describe them,
for tests only (127.0.0.1, port 0).

State machines advance one step per retrieve (GET of the batch), so tests are deterministic
and fast; `Outcome` picks how the next batches end (the bad days), `faults` inject HTTP
failures, and `delay` slows every request (to hold a lock in a concurrency test).

Emulator choices where the spec says "unknown" (documented in the README, `tokcli batch`):
- create with an unknown input_file_id: 404 `No such File object` (openai-python era);
- cancel of a terminal batch: 400 invalid_request_error (OpenAI) / invalid_request_error
  (Anthropic); cancel passes through `cancelling` for one retrieve;
- never-run lines of a cancelled OpenAI batch: `batch_cancelled` in the error file.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

OPENAI_KEY = "sk-emulator-openai-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-emulator-0123456789abcdef"
GEMINI_KEY = "AIzaSyEmulator-gemini-0123456789abcdef"


@dataclass
class Outcome:
    """How batches created from now on behave."""

    kind: str = "complete"  # complete | expire | token_limit
    polls_in_progress: int = 1  # retrieves spent in in_progress
    polls_finalizing: int = 1  # retrieves spent in finalizing (OpenAI); slow finalizing: raise
    finished_before_expiry: int = 1  # expire: how many lines finished before the window closed
    error_ids: set[str] = field(default_factory=set)  # lines the model endpoint rejects (4xx)
    error_at: set[int] = field(default_factory=set)  # the same, by 0-based position in the batch
    lost_at: set[int] = field(default_factory=set)  # lines missing from the results (a bad day)
    # Text echoed into every provider-controlled field (answers, per-line errors, metadata,
    # result file names): a leak test plants the API key in its many encodings here.
    plant: str = ""
    not_found_polls: int = 0  # retrieves right after create that answer 404
    # OpenAI: problems only the provider's validation finds (reported via status failed)
    validation_errors: list[dict] = field(default_factory=list)
    shuffle: bool = True  # results out of order

    def rejects(self, index: int, custom_id: str | None) -> bool:
        """Does the model endpoint reject the request at `index` (4xx line)?"""
        return custom_id in self.error_ids or index in self.error_at


@dataclass
class Fault:
    """Answer matching requests with `status` (or drop the connection) `times` times."""

    method: str
    path: str  # regex matched against the path
    # an HTTP status; "drop" (close after reading part of the body); "hang-before" (never
    # answer, nothing done); "hang-after" (do the work, then never answer); "drop-after" (do
    # the work, then close the connection without an answer); "html" (200 with a proxy's HTML
    # page); "truncated" (200 with the real JSON cut in half); "passthrough" (answer normally:
    # lets a later fault on the same route hit the second request). A client killed
    # while waiting leaves a step in doubt, as a power cut would.
    status: int | str = 500
    headers: dict = field(default_factory=dict)
    times: int = 1
    body: dict | None = None


class Request:
    def __init__(self, handler: BaseHTTPRequestHandler, body_file, emulator: Emulator):
        self.method = handler.command
        split = urlsplit(handler.path)
        self.path = split.path
        self.query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        self.headers = handler.headers
        self.body_file = body_file
        self.emulator = emulator

    def json(self):
        self.body_file.seek(0)
        return json.loads(self.body_file.read() or b"null")


class Response:
    def __init__(self, status=200, body=None, headers=None, raw: bytes | None = None,
                 file: Path | None = None):  # fmt: skip
        self.status, self.body, self.headers = status, body, dict(headers or {})
        self.raw, self.file = raw, file


class Emulator:
    def __init__(self, *, root: Path | None = None, delay: float = 0.0):
        from .anthropic import AnthropicAPI
        from .gemini import GeminiAPI
        from .openai import OpenAIAPI

        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="tokcli-emulator-")
        self.root = Path(root or self._tmp.name)
        self.delay = delay
        self.outcome = Outcome()
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str]] = []  # (method, path) of every request
        self.record = False  # keep request/response bodies in `exchanges`
        self.exchanges: list[dict] = []
        self.lock = threading.RLock()
        self.openai = OpenAIAPI(self)
        self.anthropic = AnthropicAPI(self)
        self.gemini = GeminiAPI(self)
        self._server: ThreadingHTTPServer | None = None
        self._stopping = False
        self.hung = 0  # requests held unanswered by hang faults
        self._ids = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, port: int = 0) -> Emulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                emulator._serve(self)

            do_GET = do_POST = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client killed mid-request (the crash tests) is not an emulator error

        self._server = Server(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_url(self) -> str:
        return self.base_url + "/v1"

    def new_id(self, prefix: str, width: int = 24) -> str:
        with self.lock:
            self._ids += 1
            serial = f"{self._ids:x}"
        import secrets

        return prefix + (secrets.token_hex(width) + serial)[-width:]

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p in self.log if m == method and re.fullmatch(pattern, p))

    # -- one request -------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        with self.lock:
            self.log.append((handler.command, path))
            fault = self._take_fault(handler.command, path)
        if self.delay:
            time.sleep(self.delay)
        if fault is not None and fault.status == "hang-before":
            self._hang(handler)
            return
        if fault is not None and fault.status == "drop":
            _read_some(handler)
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        with tempfile.SpooledTemporaryFile(max_size=8 << 20, dir=self.root) as body:
            _read_body(handler, body)
            if fault is not None and fault.status not in (*_AFTER_WORK, "passthrough"):
                response = self._fault_response(path, fault)
            else:
                request = Request(handler, body, self)
                response = self._api(path).handle(request)
            if self.record:
                self._record(handler, path, body, response)
        if fault is not None and fault.status == "hang-after":
            self._hang(handler)
            return
        if fault is not None and fault.status == "drop-after":
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        if fault is not None and fault.status == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            response = Response(200, raw=page, headers={"content-type": "text/html"})
        if fault is not None and fault.status == "truncated":
            whole = json.dumps(response.body).encode()
            response = Response(200, raw=whole[: len(whole) // 2],
                                headers={"content-type": "application/json"})  # fmt: skip
        _send(handler, response)

    def _hang(self, handler) -> None:
        """Hold the connection without answering until the client goes away or we stop."""
        with self.lock:
            self.hung += 1
        handler.close_connection = True
        handler.connection.settimeout(0.2)
        while self._server is not None and not self._stopping:
            try:
                if handler.connection.recv(1 << 16) == b"":
                    return  # the client died
            except TimeoutError:
                continue
            except OSError:
                return

    def _record(self, handler, path: str, body, response: Response) -> None:
        """Keep what went over the wire, for the OpenAPI contract test."""
        sent = None
        if "json" in (handler.headers.get("content-type") or ""):
            body.seek(0)
            sent = json.loads(body.read() or b"null")
        with self.lock:
            self.exchanges.append({
                "method": handler.command, "path": path, "status": response.status,
                "request": sent, "response": response.body, "raw": response.raw,
            })  # fmt: skip

    def _api(self, path: str):
        if path.startswith("/v1/messages"):
            return self.anthropic
        if self.gemini.owns(path):
            return self.gemini
        return self.openai

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and re.fullmatch(fault.path, path):
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, path: str, fault: Fault) -> Response:
        api = self._api(path)
        body = fault.body or api.error_body(int(fault.status), "emulated failure")
        return Response(int(fault.status), body, fault.headers)


_AFTER_WORK = ("hang-after", "drop-after", "html", "truncated")  # the request is acted on


def _read_body(handler, sink) -> None:
    if handler.headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            _copy(handler.rfile, sink, size)
            handler.rfile.readline()
    else:
        _copy(handler.rfile, sink, int(handler.headers.get("content-length") or 0))
    sink.seek(0)


def _copy(source, sink, size: int) -> None:
    while size > 0:
        chunk = source.read(min(size, 1 << 20))
        if not chunk:
            break
        sink.write(chunk)
        size -= len(chunk)


def _read_some(handler) -> None:
    length = int(handler.headers.get("content-length") or 0)
    if length:
        handler.rfile.read(min(length, 1024))


def _send(handler, response: Response) -> None:
    try:
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, str(value))
        if response.file is not None:
            size = response.file.stat().st_size
            handler.send_header(
                "content-type", response.headers.get("content-type", "application/octet-stream")
            )
            handler.send_header("content-length", str(size))
            handler.end_headers()
            with response.file.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    handler.wfile.write(chunk)
            return
        data = response.raw if response.raw is not None else json.dumps(response.body).encode()
        if response.raw is None:
            handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def split_multipart(body_file, content_type: str, folder: Path) -> dict[str, dict]:
    """Stream a multipart/form-data body into one file per part: name -> {filename, path}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise ValueError("no multipart boundary")
    delimiter = b"\r\n--" + match.group(1).encode()
    body_file.seek(0)
    buffer = b"\r\n" + body_file.read(1 << 16)
    parts: dict[str, dict] = {}
    current = None
    while True:
        at = buffer.find(delimiter)
        if at < 0:
            keep = len(delimiter)
            if current is not None:
                current["handle"].write(buffer[:-keep])
            buffer = buffer[-keep:]
            more = body_file.read(1 << 20)
            if not more:
                break
            buffer += more
            continue
        if current is not None:
            current["handle"].write(buffer[:at])
            current["handle"].close()
            current = None
        buffer = buffer[at + len(delimiter) :]
        while b"\r\n\r\n" not in buffer and len(buffer) < (1 << 16):
            more = body_file.read(1 << 16)
            if not more:
                break
            buffer += more
        if buffer.startswith(b"--"):
            break
        head, _, buffer = buffer.partition(b"\r\n\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', disposition)
        filename = re.search(r'filename="([^"]*)"', disposition)
        path = folder / f"part-{time.monotonic_ns()}"
        current = {
            "filename": filename.group(1) if filename else None,
            "path": path,
            "handle": path.open("wb"),
        }
        parts[name.group(1) if name else ""] = current
    if current is not None:
        current["handle"].close()
    return parts
