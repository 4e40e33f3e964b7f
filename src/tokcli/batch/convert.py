"""Convert batch request lines between a provider-neutral form, OpenAI, Anthropic and Gemini.

Neutral line: {"custom_id", "model", "messages", "max_tokens", optional "system",
"temperature", "top_p"}. Messages are chat messages with `role` user/assistant and `content`
as a string or a list of text blocks. Each input line may be in any of the four forms; only
what all of them can express is converted, anything else is an error naming the line.
Gemini lines are the Batch API guide's `{"key", "request": GenerateContentRequest}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tokcli.batch.limits import ANTHROPIC_CUSTOM_ID, DEFAULT_OPENAI_ENDPOINT
from tokcli.errors import InputError, Location

SAMPLING = ("temperature", "top_p")
NEUTRAL_KEYS = {"custom_id", "model", "messages", "max_tokens", "system", *SAMPLING}


def convert_file(path: Path, target: str, out: IO[str], *, model: str | None = None) -> int:
    """Write every line of `path` converted to `target` into `out`; return the line count.

    Output streams line by line, so a bad line stops it half-way: callers writing a file write
    a temporary one and move it into place only on success."""
    count = 0
    for line_no, neutral in _neutral_lines(path):
        if model:
            neutral["model"] = model
        where: Location = {"path": str(path), "line": line_no}
        out.write(json.dumps(_to_target(neutral, target, where), ensure_ascii=False) + "\n")
        count += 1
    return count


def _neutral_lines(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            where: Location = {"path": str(path), "line": line_no}
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f"not valid JSON: {exc}", **where) from None
            if not isinstance(record, dict):
                raise InputError("expected a JSON object", **where)
            yield line_no, to_neutral(record, where)


def to_neutral(record: dict, where: Location) -> dict:
    """Any of the three line forms -> the neutral form."""
    if "params" in record:
        return _from_anthropic(record, where)
    if "request" in record:
        return _from_gemini(record, where)
    if "body" in record:
        return _from_openai(record, where)
    unknown = set(record) - NEUTRAL_KEYS
    if unknown:
        raise InputError(
            f"unexpected key(s) {', '.join(sorted(unknown))}; a neutral line has "
            f"{', '.join(sorted(NEUTRAL_KEYS))}",
            **where,
        )
    for name in ("custom_id", "model"):
        if not isinstance(record.get(name), str) or not record[name]:
            raise InputError("missing", field=name, **where)
    if not isinstance(record.get("messages"), list) or not record["messages"]:
        raise InputError("missing or empty", field="messages", **where)
    for message in record["messages"]:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise InputError("each message needs role user or assistant", field="messages",
                             **where)  # fmt: skip
        _blocks(message.get("content"), where)
    return dict(record)


def _from_openai(record: dict, where: Location) -> dict:
    body = record.get("body")
    url = record.get("url", DEFAULT_OPENAI_ENDPOINT)
    if url != "/v1/chat/completions" or not isinstance(body, dict):
        raise InputError(f"only /v1/chat/completions lines can be converted, not {url!r}", **where)
    system_parts, messages = [], []
    for message in body.get("messages") or []:
        role = message.get("role")
        if role in ("system", "developer"):
            system_parts.append(_text_only(message.get("content"), where))
        elif role in ("user", "assistant"):
            messages.append({"role": role, "content": _blocks(message.get("content"), where)})
        else:
            raise InputError(f"role {role!r} cannot be converted", field="messages", **where)
    neutral = {
        "custom_id": record.get("custom_id"),
        "model": body.get("model"),
        "messages": messages,
    }
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None:
        neutral["max_tokens"] = max_tokens
    if system_parts:
        neutral["system"] = "\n\n".join(system_parts)
    neutral.update({k: body[k] for k in SAMPLING if k in body})
    return to_neutral(neutral, where)


def _from_anthropic(record: dict, where: Location) -> dict:
    params = record.get("params")
    if not isinstance(params, dict):
        raise InputError("not an object", field="params", **where)
    neutral = {
        "custom_id": record.get("custom_id"),
        "model": params.get("model"),
        "messages": [
            {"role": m.get("role"), "content": _blocks(m.get("content"), where)}
            for m in params.get("messages") or []
        ],
        "max_tokens": params.get("max_tokens"),
    }
    if params.get("system"):
        neutral["system"] = _text_only(params["system"], where)
    neutral.update({k: params[k] for k in SAMPLING if k in params})
    return to_neutral(neutral, where)


def _from_gemini(record: dict, where: Location) -> dict:
    request = record.get("request")
    if not isinstance(request, dict):
        raise InputError("not an object", field="request", **where)
    messages = []
    for content in request.get("contents") or []:
        role = {"user": "user", "model": "assistant"}.get((content or {}).get("role", "user"))
        if role is None:
            raise InputError("role must be user or model", field="request.contents", **where)
        messages.append({"role": role, "content": _parts_text(content.get("parts"), where)})
    model = request.get("model")
    neutral = {
        "custom_id": record.get("key"),
        "model": model.removeprefix("models/") if isinstance(model, str) else model,
        "messages": messages,
    }
    config = request.get("generationConfig") or {}
    if config.get("maxOutputTokens") is not None:
        neutral["max_tokens"] = config["maxOutputTokens"]
    neutral.update({k: config[g] for k, g in GEMINI_SAMPLING.items() if g in config})
    system = request.get("systemInstruction")
    if system:
        neutral["system"] = _parts_text((system or {}).get("parts"), where)
    return to_neutral(neutral, where)


GEMINI_SAMPLING = {"temperature": "temperature", "top_p": "topP"}


def _parts_text(parts, where: Location) -> str:
    """Gemini text parts -> one string; anything but text cannot be converted."""
    if not isinstance(parts, list) or any(
        not isinstance(p, dict) or set(p) != {"text"} or not isinstance(p["text"], str)
        for p in parts
    ):
        raise InputError("only text parts can be converted", field="request.contents", **where)
    return "".join(p["text"] for p in parts)


def _to_gemini(neutral: dict) -> dict:
    contents = [
        {"role": "model" if m["role"] == "assistant" else "user",
         "parts": [{"text": _plain(m["content"])}]}
        for m in neutral["messages"]
    ]  # fmt: skip
    request: dict = {"model": f"models/{neutral['model']}", "contents": contents}
    if neutral.get("system"):
        request["systemInstruction"] = {"parts": [{"text": neutral["system"]}]}
    config = {g: neutral[k] for k, g in GEMINI_SAMPLING.items() if k in neutral}
    if neutral.get("max_tokens") is not None:
        config["maxOutputTokens"] = neutral["max_tokens"]
    if config:
        request["generationConfig"] = config
    return {"key": neutral["custom_id"], "request": request}


def _plain(content) -> str:
    return content if isinstance(content, str) else "\n\n".join(b["text"] for b in content)


def _blocks(content, where: Location):
    """Keep a string as it is; keep text blocks as {type: text, text}; refuse anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        blocks = []
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "text":
                kind = block.get("type") if isinstance(block, dict) else type(block).__name__
                raise InputError(
                    f"content of type {kind!r} cannot be converted (text only)",
                    field="messages",
                    **where,
                )
            blocks.append({"type": "text", "text": block.get("text", "")})
        return blocks
    raise InputError("content must be a string or a list of text blocks", field="messages", **where)


def _text_only(content, where: Location) -> str:
    blocks = _blocks(content, where)
    return blocks if isinstance(blocks, str) else "\n\n".join(b["text"] for b in blocks)


def _to_target(neutral: dict, target: str, where: Location) -> dict:
    if target == "neutral":
        return neutral
    if target == "gemini":
        return _to_gemini(neutral)
    if target == "openai":
        messages = list(neutral["messages"])
        if neutral.get("system"):
            messages.insert(0, {"role": "system", "content": neutral["system"]})
        body = {"model": neutral["model"], "messages": messages}
        if neutral.get("max_tokens") is not None:
            body["max_completion_tokens"] = neutral["max_tokens"]
        body.update({k: neutral[k] for k in SAMPLING if k in neutral})
        return {
            "custom_id": neutral["custom_id"],
            "method": "POST",
            "url": DEFAULT_OPENAI_ENDPOINT,
            "body": body,
        }
    if not ANTHROPIC_CUSTOM_ID.match(neutral["custom_id"]):
        raise InputError(
            f"{neutral['custom_id']!r}: Anthropic needs 1-64 characters of a-z, A-Z, 0-9, _ and -",
            field="custom_id",
            **where,
        )
    max_tokens = neutral.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InputError("Anthropic needs a whole number >= 1", field="max_tokens", **where)
    params = {"model": neutral["model"], "max_tokens": max_tokens, "messages": neutral["messages"]}
    if neutral.get("system"):
        params["system"] = neutral["system"]
    params.update({k: neutral[k] for k in SAMPLING if k in neutral})
    return {"custom_id": neutral["custom_id"], "params": params}
