"""One streaming pass over a batch input file: every line validated before anything leaves the
machine, split points within the provider's limits, and token totals for the estimate.

The file is read in binary, line by line, so memory stays flat whatever its size; only the set
of custom_ids (needed to reject duplicates) grows with the line count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.batch.limits import (
    ANTHROPIC_BODY_OVERHEAD,
    ANTHROPIC_CUSTOM_ID,
    ID_FIELD,
    JOB_ID_WIDTH,
    LIMITS,
    OPENAI_ENDPOINTS,
    Limits,
    wire_id,
)
from tokcli.batch.provider import wire_line
from tokcli.errors import InputError, Location, OptionError

# (text, model) -> tokens
TokenCounter = Callable[[str, str], int]


@dataclass
class PartSpan:
    """A run of consecutive lines that goes out as one provider batch."""

    index: int
    first_line: int  # 1-based
    start_offset: int
    end_offset: int  # exclusive
    request_count: int = 0
    payload_bytes: int = 0  # what the provider counts against its size limit


@dataclass
class ModelTotals:
    requests: int = 0
    input_tokens: int = 0
    output_ceiling: int = 0  # sum of max_tokens: the most the outputs can cost
    unbounded_requests: int = 0  # lines without max_tokens


@dataclass
class ScanResult:
    path: Path
    provider: str
    endpoint: str | None
    sha256: str
    size: int
    request_count: int
    parts: list[PartSpan]
    models: dict[str, ModelTotals] = field(default_factory=dict)


def scan_file(
    path: Path,
    provider: str,
    *,
    endpoint: str | None = None,
    limits: Limits | None = None,
    count_tokens: TokenCounter | None = None,
    wire_ids: bool = True,
) -> ScanResult:
    """Validate `path` as `provider` batch input; raise InputError naming file and line.
    Parts are sized on the lines as sent: with `wire_ids`, each carries the wire custom_id
    `<job id>-<line>` instead of the user's (limits.wire_id)."""
    limits = limits or LIMITS[provider]
    checker = {"openai": _OpenAILine, "anthropic": _AnthropicLine, "gemini": _GeminiLine}[provider](
        endpoint
    )
    id_field = ID_FIELD[provider]
    splitter = _Splitter(provider, limits, str(path))
    digest = hashlib.sha256()
    seen_ids: dict[str, int] = {}
    models: dict[str, ModelTotals] = {}
    offset = 0
    line_no = 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with handle:
        for raw in handle:
            line_no += 1
            digest.update(raw)
            where: Location = {"path": str(path), "line": line_no}
            record = _parse(raw, where)
            custom_id = _custom_id(record, where, id_field)
            if custom_id in seen_ids:
                raise InputError(
                    f"duplicate {id_field} {custom_id!r} (first on line {seen_ids[custom_id]})",
                    field=id_field,
                    **where,
                )
            seen_ids[custom_id] = line_no
            request = checker.check(record, custom_id, where)
            _add_tokens(models, request, count_tokens)
            if wire_ids:
                sent = len(wire_line(dict(record), id_field, _placeholder_id(line_no)))
                splitter.add(line_no, offset, sent + 1, sent)
            else:
                splitter.add(line_no, offset, len(raw), len(raw.rstrip(b"\r\n")))
            offset += len(raw)
    if line_no == 0:
        raise InputError("empty file: no requests", path=str(path))
    return ScanResult(
        path=path,
        provider=provider,
        endpoint=checker.endpoint,
        sha256=digest.hexdigest(),
        size=offset,
        request_count=line_no,
        parts=splitter.finish(offset),
        models=models,
    )


def _placeholder_id(line_no: int) -> str:
    """A wire id of the real one's length (every job id has the same width)."""
    return wire_id("j" * JOB_ID_WIDTH, line_no)


@dataclass
class _Request:
    model: str
    text: str
    max_tokens: int | None
    has_output: bool = True


def _parse(raw: bytes, where: Location) -> dict:
    if not raw.strip():
        raise InputError("blank line (one JSON request per line)", **where)
    try:
        record = json.loads(raw, parse_constant=_not_json)
    except ValueError as exc:
        if exc.args and exc.args[0] == _NOT_JSON:
            message = f"not valid JSON: {exc.args[1]} is not a JSON number"
            raise InputError(message, **where) from None
        if isinstance(exc, UnicodeDecodeError):
            raise InputError("not UTF-8 text", **where) from None
        if not isinstance(exc, json.JSONDecodeError):
            raise
        raise InputError(f"not valid JSON: {exc.msg}", column=exc.colno, **where) from None
    if not isinstance(record, dict):
        raise InputError("expected a JSON object", **where)
    return record


_NOT_JSON = "tokcli: non-JSON constant"


def _not_json(name: str):
    """Python's json accepts NaN and Infinity; JSON (and the providers) do not."""
    raise ValueError(_NOT_JSON, name)


def _custom_id(record: dict, where: Location, id_field: str = "custom_id") -> str:
    custom_id = record.get(id_field)
    if not isinstance(custom_id, str) or not custom_id:
        raise InputError("missing or empty (a non-empty string)", field=id_field, **where)
    return custom_id


class _OpenAILine:
    """BatchRequestInput: {custom_id, method: POST, url, body}; one model and one url per file."""

    def __init__(self, endpoint: str | None):
        if endpoint is not None and endpoint not in OPENAI_ENDPOINTS:
            raise OptionError.at(
                "{endpoint}", f"{endpoint!r} is not one of {', '.join(OPENAI_ENDPOINTS)}"
            )
        self.endpoint = endpoint
        self.model: str | None = None
        self.model_line = 0

    def check(self, record: dict, custom_id: str, where: Location) -> _Request:
        unknown = set(record) - {"custom_id", "method", "url", "body"}
        if unknown:
            raise InputError(
                f"unexpected key(s) {', '.join(sorted(unknown))}; an OpenAI batch line has "
                "custom_id, method, url, body (use `tokcli batch convert --to openai`)",
                **where,
            )
        if record.get("method") != "POST":
            raise InputError('must be "POST"', field="method", **where)
        url = record.get("url")
        if url not in OPENAI_ENDPOINTS:
            raise InputError(f"{url!r} is not a batch endpoint", field="url", **where)
        if self.endpoint is None:
            self.endpoint = url
        elif url != self.endpoint:
            raise InputError(
                f"{url!r} differs from the batch endpoint {self.endpoint!r}", field="url", **where
            )
        body = record.get("body")
        if not isinstance(body, dict):
            raise InputError("missing or not an object", field="body", **where)
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InputError("missing", field="body.model", **where)
        if self.model is None:
            self.model, self.model_line = model, where["line"]
        elif model != self.model:
            raise InputError(
                f"{model!r}: one model per OpenAI batch file, line {self.model_line} uses "
                f"{self.model!r}",
                field="body.model",
                **where,
            )
        if body.get("stream"):
            raise InputError("streaming is not allowed in a batch", field="body.stream", **where)
        for name in _OPENAI_MAX_TOKENS:
            _check_max_tokens(body.get(name), f"body.{name}", where, optional=True)
        return _Request(
            model=model,
            text=_openai_text(body, url),
            max_tokens=_first_int(body, *_OPENAI_MAX_TOKENS),
            has_output=url not in ("/v1/embeddings", "/v1/moderations"),
        )


_OPENAI_MAX_TOKENS = ("max_completion_tokens", "max_tokens", "max_output_tokens")


def _check_max_tokens(value, name: str, where: Location, *, optional: bool) -> None:
    """A whole number >= 1: NaN, 1e400, -5 or "50" would price the output at nothing and slip
    past --max-cost (issue 21)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{value!r} must be a whole number >= 1", field=name, **where)


class _AnthropicLine:
    """MessageBatchIndividualRequestParams: {custom_id, params}; additionalProperties false."""

    endpoint = None

    def __init__(self, endpoint: str | None = None):
        pass

    def check(self, record: dict, custom_id: str, where: Location) -> _Request:
        unknown = set(record) - {"custom_id", "params"}
        if unknown:
            raise InputError(
                f"unexpected key(s) {', '.join(sorted(unknown))}; an Anthropic batch line has "
                "custom_id and params (use `tokcli batch convert --to anthropic`)",
                **where,
            )
        if not ANTHROPIC_CUSTOM_ID.match(custom_id):
            raise InputError(
                f"{custom_id!r} must be 1-64 characters of a-z, A-Z, 0-9, _ and -",
                field="custom_id",
                **where,
            )
        params = record.get("params")
        if not isinstance(params, dict):
            raise InputError("missing or not an object", field="params", **where)
        model = params.get("model")
        if not isinstance(model, str) or not model:
            raise InputError("missing", field="params.model", **where)
        max_tokens = params.get("max_tokens")
        _check_max_tokens(max_tokens, "params.max_tokens", where, optional=False)
        if not isinstance(params.get("messages"), list) or not params["messages"]:
            raise InputError("missing or empty", field="params.messages", **where)
        if params.get("stream"):
            raise InputError("streaming is not allowed in a batch", field="params.stream", **where)
        text = _content_text(params.get("system")) + _messages_text(params["messages"])
        return _Request(model=model, text=text, max_tokens=max_tokens)


class _GeminiLine:
    """A line of a Gemini batch input file: {"key", "request": GenerateContentRequest}. The
    model is in the batch's URL, so every line names the same `request.model`; tokcli keeps
    `models/{model}` as the job's endpoint."""

    def __init__(self, endpoint: str | None = None):
        self.endpoint = endpoint
        self.model: str | None = None
        self.model_line = 0

    def check(self, record: dict, custom_id: str, where: Location) -> _Request:
        unknown = set(record) - {"key", "request"}
        if unknown:
            raise InputError(
                f"unexpected key(s) {', '.join(sorted(unknown))}; a Gemini batch line has key "
                "and request",
                **where,
            )
        request = record.get("request")
        if not isinstance(request, dict):
            raise InputError("missing or not an object", field="request", **where)
        model = request.get("model")
        if not isinstance(model, str) or not model.removeprefix("models/"):
            raise InputError('missing (e.g. "models/gemini-2.5-flash")', field="request.model",
                             **where)  # fmt: skip
        model = model.removeprefix("models/")
        if self.model is None:
            self.model, self.model_line = model, where["line"]
            self.endpoint = f"models/{model}"
        elif model != self.model:
            raise InputError(
                f"{model!r}: one model per Gemini batch, line {self.model_line} uses "
                f"{self.model!r}",
                field="request.model",
                **where,
            )
        contents = request.get("contents")
        if not isinstance(contents, list) or not contents:
            raise InputError("missing or empty", field="request.contents", **where)
        config = request.get("generationConfig") or {}
        if not isinstance(config, dict):
            raise InputError("not an object", field="request.generationConfig", **where)
        max_tokens = config.get("maxOutputTokens")
        _check_max_tokens(max_tokens, "request.generationConfig.maxOutputTokens", where,
                          optional=True)  # fmt: skip
        system = request.get("systemInstruction") or {}
        texts = [_parts_text(system.get("parts") if isinstance(system, dict) else None)]
        texts += [_parts_text(c.get("parts")) for c in contents if isinstance(c, dict)]
        return _Request(model=model, text="\n".join(t for t in texts if t), max_tokens=max_tokens)


def _parts_text(parts) -> str:
    if not isinstance(parts, list):
        return ""
    return "\n".join(
        p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)
    )


class _Splitter:
    """Cuts the file into parts that each stay within the provider's count and size limits."""

    def __init__(self, provider: str, limits: Limits, path: str):
        self.provider, self.limits, self.path = provider, limits, path
        self.parts: list[PartSpan] = []
        self.current: PartSpan | None = None

    def _cost(self, line_bytes: int, content_bytes: int, first: bool) -> int:
        if self.provider == "anthropic":  # lines joined with "," inside {"requests":[...]}
            return content_bytes + (ANTHROPIC_BODY_OVERHEAD if first else 1)
        return line_bytes  # OpenAI parts are byte ranges of the file, uploaded as they are

    def add(self, line_no: int, offset: int, line_bytes: int, content_bytes: int) -> None:
        alone = self._cost(line_bytes, content_bytes, first=True)
        if alone > self.limits.max_bytes:
            raise InputError(
                f"request of {alone:,} bytes is over the provider's batch size limit "
                f"({self.limits.max_bytes:,} bytes)",
                path=self.path,
                line=line_no,
            )
        part = self.current
        if part is not None:
            grown = part.payload_bytes + self._cost(line_bytes, content_bytes, first=False)
            if part.request_count >= self.limits.max_requests or grown > self.limits.max_bytes:
                part.end_offset = offset
                part = None
        if part is None:
            part = PartSpan(len(self.parts), line_no, offset, offset)
            self.parts.append(part)
            self.current = part
            part.payload_bytes = alone
        else:
            part.payload_bytes = grown
        part.request_count += 1

    def finish(self, end: int) -> list[PartSpan]:
        if self.current is not None:
            self.current.end_offset = end
        return self.parts


def _add_tokens(models: dict, request: _Request, count_tokens: TokenCounter | None) -> None:
    totals = models.setdefault(request.model, ModelTotals())
    totals.requests += 1
    if count_tokens is not None and request.text:
        totals.input_tokens += count_tokens(request.text, request.model)
    if not request.has_output:
        return
    if request.max_tokens is None:
        totals.unbounded_requests += 1
    else:
        totals.output_ceiling += request.max_tokens


def _first_int(body: dict, *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _openai_text(body: dict, url: str) -> str:
    if url in ("/v1/chat/completions",):
        return _messages_text(body.get("messages") or [])
    value = body.get("input", body.get("prompt"))
    if isinstance(value, list):
        return "\n".join(v if isinstance(v, str) else _messages_text([v]) for v in value)
    text = value if isinstance(value, str) else ""
    return _content_text(body.get("instructions")) + text


def _messages_text(messages: list) -> str:
    return "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))


def _content_text(content) -> str:
    """The text of a message content: a string or a list of blocks with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b.get("text", "")
            for b in content
            if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    return ""
