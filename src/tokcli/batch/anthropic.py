"""Anthropic Message Batches API (Anthropic's published API reference).

There is no upload step: the requests go in the create body, streamed from the input file.
There is no metadata either, so after a crash during create `find_created` lists the batches
created since the intent with the part's request count, and the engine reads each one's
custom_ids (`request_ids`, only possible once it has ended): a batch is the part's only if its
ids are the part's wire ids `<job id>-<line>`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

from tokcli.batch.limits import ANTHROPIC_BODY_OVERHEAD
from tokcli.batch.provider import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    RUNNING,
    PartSource,
    RemoteBatch,
    ResultLine,
)
from tokcli.errors import OptionError
from tokcli.http import HttpClient

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
COUNT_KEYS = ("processing", "succeeded", "errored", "canceled", "expired")
LIST_PAGE = 100


class AnthropicBatches:
    name = "anthropic"
    needs_upload = False

    def __init__(self, client: HttpClient):
        self.http = client

    def close(self) -> None:
        self.http.close()

    def upload(self, name: str, source: PartSource) -> str:  # pragma: no cover - never called
        raise NotImplementedError("Anthropic batches carry their requests in the create body")

    def find_upload(self, name: str, size: int, sha256: str) -> str | None:
        return None

    def delete_file(self, file_id: str) -> None:  # pragma: no cover - never called
        raise NotImplementedError("Anthropic batches have no uploads")

    def create(self, *, token, file_id, source, endpoint, metadata) -> RemoteBatch:
        # commas: one per line but the first. Two passes over the part (length, then body)
        # keep memory flat for a 256 MB body.
        length = ANTHROPIC_BODY_OVERHEAD - 1 + source.wire_size()

        def body():
            yield b'{"requests":['
            for index, line in enumerate(source.wire_lines()):
                yield (b"," if index else b"") + line
            yield b"]}"

        response = self.http.request_json(
            "POST",
            "/v1/messages/batches",
            headers={"Content-Type": "application/json", "Content-Length": str(length)},
            content_factory=body,
            idempotent=False,
        )
        return to_remote(response)

    def find_created(self, *, token, request_count, since, known_ids) -> list[RemoteBatch]:
        """Candidates: created since the intent, with our request count, not tracked yet. None
        is proven ours: the engine reads their custom_ids."""
        matches = []
        after = None
        while True:
            params = {"limit": LIST_PAGE, **({"after_id": after} if after else {})}
            page = self.http.request_json("GET", "/v1/messages/batches", params=params)
            items = page.get("data") or []
            for item in items:
                remote = to_remote(item)
                fresh = (remote.created_at or 0) >= since
                total = sum(remote.counts.get(k, 0) for k in COUNT_KEYS)
                if fresh and total == request_count and remote.batch_id not in known_ids:
                    matches.append(remote)
            oldest = min((to_remote(i).created_at or 0 for i in items), default=0)
            if not page.get("has_more") or not items or oldest < since:
                break
            after = page.get("last_id") or items[-1]["id"]
        return matches

    def request_ids(self, remote: RemoteBatch, folder: Path) -> list[str] | None:
        """The custom_ids of an ended batch, from its results; None while it runs (the API
        shows a batch's requests nowhere else)."""
        current = self.retrieve(remote.batch_id)
        if current.remote_status != "ended":
            return None
        paths = self.download_results(current, folder)
        if not paths:
            return None
        with paths[0].open("rb") as handle:
            return [json.loads(raw).get("custom_id") for raw in handle if raw.strip()]

    def retrieve(self, batch_id: str) -> RemoteBatch:
        response = self.http.request_json(
            "GET", f"/v1/messages/batches/{batch_id}", retry_not_found=True
        )
        return to_remote(response)

    def cancel(self, batch_id: str) -> RemoteBatch:
        return to_remote(self.http.request_json("POST", f"/v1/messages/batches/{batch_id}/cancel"))

    def download_results(self, remote: RemoteBatch, folder: Path) -> list[Path]:
        if not remote.raw.get("results_url") or remote.raw.get("archived_at"):
            return []
        # results_url is absolute; a gateway's base URL may differ from it, so the path is
        # rebuilt on our base URL (HttpClient would not send the key to another host anyway).
        path = folder / f"{remote.batch_id}.results.jsonl"
        with path.open("wb") as sink:
            self.http.download(
                f"/v1/messages/batches/{remote.batch_id}/results", sink, retry_not_found=True
            )
        return [path]

    def read_results(self, path: Path) -> Iterator[tuple[int, ResultLine]]:
        with path.open("rb") as handle:
            offset = 0
            for raw in handle:
                if raw.strip():
                    yield offset, parse_result(json.loads(raw))
                offset += len(raw)

    def parse_result(self, line: dict) -> ResultLine:
        return parse_result(line)


def _moment(text: str | None) -> float | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def to_remote(batch: dict) -> RemoteBatch:
    counts = batch.get("request_counts") or {}
    remote_status = batch.get("processing_status", "")
    status = RUNNING
    if remote_status == "ended":
        if batch.get("cancel_initiated_at"):
            status = CANCELLED
        elif counts.get("expired"):
            status = EXPIRED
        else:
            status = COMPLETED
    if not isinstance(batch.get("id"), str) or not batch["id"]:
        raise OptionError("the provider answered without a batch id: is {base_url} its API?")
    return RemoteBatch(
        batch_id=batch["id"],
        status=status,
        remote_status=remote_status,
        counts={
            "total": sum(counts.get(k, 0) for k in COUNT_KEYS),
            "succeeded": counts.get("succeeded", 0),
            "failed": counts.get("errored", 0),
            "expired": counts.get("expired", 0),
            "cancelled": counts.get("canceled", 0),
            "processing": counts.get("processing", 0),
        },
        created_at=_moment(batch.get("created_at")),
        ended_at=_moment(batch.get("ended_at")),
        raw=batch,
    )


def parse_result(line: dict) -> ResultLine:
    result = line.get("result") or {}
    kind = result.get("type")
    custom_id = line.get("custom_id", "")
    if kind == "succeeded":
        message = result.get("message") or {}
        return ResultLine(
            custom_id, "succeeded", message, None, message.get("model"), usage_of(message)
        )
    if kind == "errored":
        envelope = result.get("error") or {}
        return ResultLine(custom_id, "errored", None, envelope.get("error") or envelope)
    status = {"canceled": "cancelled", "expired": "expired"}.get(str(kind), "errored")
    return ResultLine(custom_id, status, None, {"type": kind or "unknown"})


def usage_of(message: dict) -> dict[str, int] | None:
    usage = message.get("usage")
    if not isinstance(usage, dict):
        return None
    creation = usage.get("cache_creation") or {}
    write_1h = creation.get("ephemeral_1h_input_tokens") or 0
    write_total = usage.get("cache_creation_input_tokens") or 0
    return {
        "input_tokens": usage.get("input_tokens") or 0,  # already excludes cache reads/writes
        "cache_read_tokens": usage.get("cache_read_input_tokens") or 0,
        "cache_write_5m_tokens": max(write_total - write_1h, 0),
        "cache_write_1h_tokens": write_1h,
        "output_tokens": usage.get("output_tokens") or 0,
    }
