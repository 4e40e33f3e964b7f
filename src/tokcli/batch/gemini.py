"""Gemini API Batch Mode (the third provider).

Written from Google's published API reference, as stored captures of:
- https://ai.google.dev/api/batch-api (models.batchGenerateContent, batches.get / list /
  cancel / delete, GenerateContentBatch, InputConfig, InlinedRequest(s),
  GenerateContentBatchOutput, InlinedResponse(s), BatchStats, BatchState);
- https://ai.google.dev/api/files (media.upload via `upload/v1beta/files`, the resumable
  protocol `X-Goog-Upload-*`, File with `sizeBytes` and `sha256Hash`, files.list / delete,
  `download/v1beta/{file}:download?alt=media`);
- https://ai.google.dev/gemini-api/docs/batch-api (the guide: inline requests up to 20 MB in
  total, else a JSONL file of `{"key", "request"}` lines; output JSONL of `{"key",
  "response"}` or `{"key", "error"}` lines; 50% of the standard price).

A batch is created as a long-running Operation named `batches/{id}`; its `metadata` is the
GenerateContentBatch and, once done, `response` holds `responsesFile` or `inlinedResponses`.
The recovery token is the batch's `displayName` (stored by the API, listed by batches.list);
the file upload is found again by its display name, size and SHA-256. Each request carries
the wire id `<job id>-<line>` as its key (InlinedRequest.metadata.key / the line's `key`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tokcli.batch.provider import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    FAILED,
    RUNNING,
    PartSource,
    RemoteBatch,
    ResultLine,
)
from tokcli.errors import OptionError, TokcliError
from tokcli.http import HttpClient, HttpError

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API = "/v1beta"
# The guide: inline requests suit batches whose total request size stays under 20 MB.
INLINE_MAX_BYTES = 20_000_000
LIST_PAGE = 100
_STATE = {
    "PENDING": RUNNING, "RUNNING": RUNNING, "SUCCEEDED": COMPLETED, "FAILED": FAILED,
    "CANCELLED": CANCELLED, "EXPIRED": EXPIRED,
}  # fmt: skip


class GeminiBatches:
    name = "gemini"
    needs_upload = True  # for parts over the inline limit (uses_upload decides per part)

    def __init__(self, client: HttpClient, *, inline_max_bytes: int = INLINE_MAX_BYTES):
        self.http = client
        self.inline_max_bytes = inline_max_bytes

    def close(self) -> None:
        self.http.close()

    def uses_upload(self, source: PartSource) -> bool:
        return source.wire_size() > self.inline_max_bytes

    # -- files -------------------------------------------------------------------------------

    def upload(self, name: str, source: PartSource) -> str:
        """media.upload, resumable protocol: `start` names the file and its size and returns
        an upload URL; `upload, finalize` sends the bytes and creates the File."""
        size = source.wire_size()
        start = self.http.request(
            "POST",
            "/upload/v1beta/files",
            headers={
                "X-Goog-Upload-Protocol": "resumable",
                "X-Goog-Upload-Command": "start",
                "X-Goog-Upload-Header-Content-Length": str(size),
                "X-Goog-Upload-Header-Content-Type": "application/jsonl",
            },
            json_body={"file": {"displayName": name}},
        )
        url = start.headers.get("x-goog-upload-url")
        if not url:
            raise TokcliError("POST /upload/v1beta/files: no X-Goog-Upload-URL in the answer")

        def body():
            for line in source.wire_lines():
                yield line + b"\n"

        done = self.http.request_json(
            "POST",
            url,
            headers={"X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0",
                     "Content-Length": str(size)},
            content_factory=body,
            idempotent=False,  # a lost answer after the bytes arrived: look before resending
        )  # fmt: skip
        file = done.get("file") or {}
        if not isinstance(file.get("name"), str):
            raise OptionError("the upload answered without a file name: is {base_url} the API?")
        return file["name"]

    def find_upload(self, name: str, size: int, sha256: str) -> str | None:
        """Our upload: display name (the part's token), size and SHA-256 as the API reports
        them (sha256Hash is base64). Other files under our name are left-over copies: deleted."""
        want = base64.b64encode(bytes.fromhex(sha256)).decode() if sha256 else None
        ours = [f for f in self._list("/files", "files") if f.get("displayName") == name]
        keep = None
        for item in ours:
            same = str(item.get("sizeBytes")) == str(size) and item.get("sha256Hash") == want
            if keep is None and same and item.get("state", "ACTIVE") != "FAILED":
                keep = item["name"]
        for item in ours:
            if item["name"] != keep:
                self.delete_file(item["name"])
        return keep

    def delete_file(self, file_id: str) -> None:
        try:
            self.http.request("DELETE", f"{API}/{file_id}")
        except HttpError as exc:
            if exc.status != 404:
                raise

    # -- batches -----------------------------------------------------------------------------

    def create(self, *, token, file_id, source, endpoint, metadata) -> RemoteBatch:
        """models.batchGenerateContent; `endpoint` is the job's `models/{model}`."""
        if file_id is not None:
            input_config: dict = {"fileName": file_id}
        else:
            requests = []
            for line in source.wire_lines():
                record = json.loads(line)
                requests.append({"request": record["request"], "metadata": {"key": record["key"]}})
            input_config = {"requests": {"requests": requests}}
        operation = self.http.request_json(
            "POST",
            f"{API}/{endpoint}:batchGenerateContent",
            json_body={"batch": {"displayName": display_name(token), "inputConfig": input_config}},
            idempotent=False,  # a retried create is a second batch, paid twice
        )
        return to_remote(operation)

    def find_created(self, *, token, request_count, since, known_ids) -> list[RemoteBatch]:
        """The batch whose displayName is the part's token: proven ours."""
        for item in self._list("/batches", "operations"):
            if (item.get("metadata") or {}).get("displayName") == display_name(token):
                remote = to_remote(item)
                remote.owned = True
                return [remote]
        return []

    def request_ids(self, remote: RemoteBatch, folder: Path) -> list[str] | None:
        return None  # never needed: candidates are proven by their display name

    def retrieve(self, batch_id: str) -> RemoteBatch:
        return to_remote(self._operation(batch_id))

    def _operation(self, batch_id: str) -> dict:
        return self.http.request_json("GET", f"{API}/{batch_id}", retry_not_found=True)

    def cancel(self, batch_id: str) -> RemoteBatch:
        self.http.request("POST", f"{API}/{batch_id}:cancel")
        return self.retrieve(batch_id)

    def _list(self, path: str, key: str) -> Iterator[dict]:
        token = None
        while True:
            params = {"pageSize": LIST_PAGE, **({"pageToken": token} if token else {})}
            page = self.http.request_json("GET", API + path, params=params)
            yield from (item for item in page.get(key) or [] if isinstance(item, dict))
            token = page.get("nextPageToken")
            if not token:
                return

    # -- results -----------------------------------------------------------------------------

    def download_results(self, remote: RemoteBatch, folder: Path) -> list[Path]:
        """One JSONL file of `{"key", "response"|"error"}` lines: the responses file as it is,
        or the inlined responses written in the same shape (fetched again: they are not kept
        in the store)."""
        operation = self._operation(remote.batch_id)
        output = operation.get("response") or (operation.get("metadata") or {}).get("output") or {}
        path = folder / f"{remote.batch_id.replace('/', '_')}.results.jsonl"
        if output.get("responsesFile"):
            with path.open("wb") as sink:
                self.http.download(
                    f"/download/v1beta/{output['responsesFile']}:download?alt=media", sink,
                    retry_not_found=True,
                )  # fmt: skip
            return [path]
        inlined = (output.get("inlinedResponses") or {}).get("inlinedResponses")
        if not inlined:
            return []
        with path.open("w", encoding="utf-8") as sink:
            for item in inlined:
                line = {"key": (item.get("metadata") or {}).get("key")}
                line.update({k: item[k] for k in ("response", "error") if k in item})
                sink.write(json.dumps(line, ensure_ascii=False) + "\n")
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


def display_name(token: str) -> str:
    return f"tokcli-{token}"


def _moment(text: str | None) -> float | None:
    if not text:
        return None
    # RFC 3339 with 0 to 9 fractional digits: Python reads at most 6.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return dt.datetime.fromisoformat(text).timestamp()


def to_remote(operation: dict) -> RemoteBatch:
    """An Operation (create, get) or its GenerateContentBatch metadata -> RemoteBatch. The
    stored copy leaves out the inlined responses (up to 20 MB) and adds `created_at` /
    `ended_at` under the names the results code reads."""
    metadata = operation.get("metadata")
    batch: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
    name = operation.get("name") or batch.get("name")
    if not isinstance(name, str) or not name.startswith("batches/"):
        raise OptionError("the provider answered without a batch name: is {base_url} its API?")
    state = str(batch.get("state") or "")
    status = _STATE.get(state.rsplit("_", 1)[-1], RUNNING)
    stats = batch.get("batchStats") or {}
    count = {
        k: int(stats.get(k) or 0)
        for k in (
            "requestCount",
            "successfulRequestCount",
            "failedRequestCount",
            "pendingRequestCount",
        )
    }
    kept = {k: v for k, v in batch.items() if k != "output"}
    output = operation.get("response") or batch.get("output") or {}
    raw: dict[str, Any] = {
        "name": name,
        "metadata": kept,
        "done": bool(operation.get("done")),
        "error": operation.get("error"),
        "responsesFile": output.get("responsesFile"),
        "created_at": batch.get("createTime"),
        "ended_at": batch.get("endTime") if status != RUNNING else None,
    }
    errors = []
    if isinstance(operation.get("error"), dict):
        errors = [{"code": str(operation["error"].get("status") or "failed"), "line": None,
                   "message": operation["error"].get("message") or "the batch failed"}]  # fmt: skip
    return RemoteBatch(
        batch_id=name,
        status=status,
        remote_status=state,
        counts={
            "total": count["requestCount"],
            "succeeded": count["successfulRequestCount"],
            "failed": count["failedRequestCount"],
            "processing": count["pendingRequestCount"],
        },
        created_at=_moment(batch.get("createTime")),
        ended_at=_moment(raw["ended_at"]),
        errors=errors,
        raw={**raw, "errors": {"data": errors}} if errors else raw,
    )


def parse_result(line: dict) -> ResultLine:
    key = line.get("key") or ""
    response = line.get("response")
    if isinstance(response, dict):
        return ResultLine(key, "succeeded", response, None, _model(response), usage_of(response))
    error = line.get("error") or line.get("status") or {"message": "no response"}
    return ResultLine(key, "errored", None, error)


def _model(response: dict) -> str | None:
    version = response.get("modelVersion")
    return version.removeprefix("models/") if isinstance(version, str) else None


def usage_of(response: dict) -> dict[str, int] | None:
    """usageMetadata -> disjoint buckets: promptTokenCount includes the cached tokens;
    thoughts are billed as output and kept apart as reasoning."""
    usage = response.get("usageMetadata")
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("promptTokenCount") or 0)
    cached = int(usage.get("cachedContentTokenCount") or 0)
    return {
        "input_tokens": max(prompt - cached, 0),
        "cache_read_tokens": cached,
        "output_tokens": int(usage.get("candidatesTokenCount") or 0),
        "reasoning_tokens": int(usage.get("thoughtsTokenCount") or 0),
    }
