"""OpenAI Files + Batch API (OpenAI's published API reference and OpenAPI document).

Each part is uploaded as its own `.jsonl` file named after the part's token, then a batch is
created with the token in `metadata`: the two things `find_upload` / `find_created` look for
after a crash, because the API has no idempotency key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

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
from tokcli.errors import OptionError
from tokcli.http import HttpClient, HttpError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
TOKEN_KEY = "tokcli_token"
_STATUS = {
    "validating": RUNNING,
    "in_progress": RUNNING,
    "finalizing": RUNNING,
    "cancelling": RUNNING,
    "completed": COMPLETED,
    "failed": FAILED,
    "expired": EXPIRED,
    "cancelled": CANCELLED,
}
LIST_PAGE = 100


class OpenAIBatches:
    name = "openai"
    needs_upload = True

    def __init__(self, client: HttpClient):
        self.http = client

    def close(self) -> None:
        self.http.close()

    # -- files -------------------------------------------------------------------------------

    def upload(self, name: str, source: PartSource) -> str:
        boundary = f"tokcli-{uuid.uuid4().hex}"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/jsonl\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body():
            yield head
            for line in source.wire_lines():
                yield line + b"\n"
            yield tail

        response = self.http.request_json(
            "POST",
            "/files",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + source.wire_size() + len(tail)),
            },
            content_factory=body,
            # A dropped connection after the server stored the file is not retried blindly
            # (a second copy of up to 200 MB stays behind): the engine looks for it first.
            idempotent=False,
        )
        return _id_of(response)

    def find_upload(self, name: str, size: int, sha256: str) -> str | None:
        """Our earlier upload of this part: same name (the part's token), same size, same
        content hash. Other files under our name are copies tokcli left behind: deleted."""
        listed = self.http.request_json(
            "GET", "/files", params={"purpose": "batch", "order": "desc"}
        )
        ours = [
            item for item in listed.get("data") or []
            if item.get("filename") == name and item.get("status") != "error"
        ]  # fmt: skip
        keep = None
        for item in ours:
            if keep is None and item.get("bytes") == size and self._sha256(item["id"]) == sha256:
                keep = item["id"]
        for item in ours:
            if item["id"] != keep:
                self.delete_file(item["id"])
        return keep

    def _sha256(self, file_id: str) -> str:
        import hashlib
        import tempfile

        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as sink:
            self.http.download(f"/files/{file_id}/content", sink, retry_not_found=True)
            sink.seek(0)
            while chunk := sink.read(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    def delete_file(self, file_id: str) -> None:
        try:
            self.http.request("DELETE", f"/files/{file_id}")
        except HttpError as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise

    # -- batches -----------------------------------------------------------------------------

    def create(self, *, token, file_id, source, endpoint, metadata) -> RemoteBatch:
        response = self.http.request_json(
            "POST",
            "/batches",
            json_body={
                "input_file_id": file_id,
                "endpoint": endpoint,
                "completion_window": "24h",
                "metadata": {**metadata, TOKEN_KEY: token},
            },
            idempotent=False,  # a retried create is a second batch, paid twice
            # The fresh file may not be visible yet (BATCH-APIS A.5, E.6): 404 "No such File
            # object" or 400 "Cannot find file"; both mean nothing was created.
            retry_not_found=True,
            transient=_file_not_visible_yet,
        )
        return to_remote(response)

    def find_created(self, *, token, request_count, since, known_ids) -> list[RemoteBatch]:
        """Look through batches created since `since` for the one carrying our token: the
        token is unique to the part, so a match is proven ours."""
        after = None
        while True:
            params = {"limit": LIST_PAGE, **({"after": after} if after else {})}
            page = self.http.request_json("GET", "/batches", params=params)
            items = page.get("data") or []
            for item in items:
                if (item.get("metadata") or {}).get(TOKEN_KEY) == token:
                    remote = to_remote(item)
                    remote.owned = True
                    return [remote]
            # The list is newest first in practice; stop once past the intent's time.
            oldest = min((item.get("created_at") or 0 for item in items), default=0)
            if not page.get("has_more") or not items or oldest < since:
                return []
            after = items[-1]["id"]

    def request_ids(self, remote: RemoteBatch, folder: Path) -> list[str] | None:
        """The custom_ids of a batch's input file (readable at any time)."""
        file_id = remote.raw.get("input_file_id")
        if not file_id:
            return None
        path = folder / f"{remote.batch_id}.input.jsonl"
        with path.open("wb") as sink:
            self.http.download(f"/files/{file_id}/content", sink, retry_not_found=True)
        with path.open("rb") as handle:
            return [json.loads(raw).get("custom_id") for raw in handle if raw.strip()]

    def retrieve(self, batch_id: str) -> RemoteBatch:
        # A batch can answer 404 for a few seconds after it was created.
        response = self.http.request_json("GET", f"/batches/{batch_id}", retry_not_found=True)
        return to_remote(response)

    def cancel(self, batch_id: str) -> RemoteBatch:
        return to_remote(self.http.request_json("POST", f"/batches/{batch_id}/cancel"))

    # -- results -----------------------------------------------------------------------------

    def download_results(self, remote: RemoteBatch, folder: Path) -> list[Path]:
        """Output and error files; either may be missing (`null` or `""`, BATCH-APIS A.6)."""
        paths = []
        for kind in ("output_file_id", "error_file_id"):
            file_id = remote.raw.get(kind)
            if not file_id:
                continue
            path = folder / f"{remote.batch_id}.{kind.split('_')[0]}.jsonl"
            with path.open("wb") as sink:
                self.http.download(f"/files/{file_id}/content", sink, retry_not_found=True)
            paths.append(path)
        return paths

    def read_results(self, path: Path) -> Iterator[tuple[int, ResultLine]]:
        with path.open("rb") as handle:
            offset = 0
            for raw in handle:
                if raw.strip():
                    yield offset, parse_result(json.loads(raw))
                offset += len(raw)

    def parse_result(self, line: dict) -> ResultLine:
        return parse_result(line)


def _id_of(obj: dict) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not value:
        raise OptionError("the provider answered without an object id: is {base_url} its API?")
    return value


def _file_not_visible_yet(response) -> bool:
    if response.status_code != 400:
        return False
    try:
        message = (response.json().get("error") or {}).get("message") or ""
    except ValueError:
        return False
    return message.startswith("Cannot find file")


def to_remote(batch: dict) -> RemoteBatch:
    counts = batch.get("request_counts") or {}
    status = batch.get("status", "")
    ended = next(
        (batch.get(k) for k in ("completed_at", "failed_at", "expired_at", "cancelled_at")
         if batch.get(k)),
        None,
    )  # fmt: skip
    errors = (batch.get("errors") or {}).get("data") or []
    return RemoteBatch(
        batch_id=_id_of(batch),
        status=_STATUS.get(status, RUNNING),
        remote_status=status,
        counts={
            "total": counts.get("total", 0),
            "succeeded": counts.get("completed", 0),
            "failed": counts.get("failed", 0),
        },
        created_at=batch.get("created_at"),
        ended_at=ended,
        errors=errors,
        raw=batch,
    )


def parse_result(line: dict) -> ResultLine:
    """A line of an output or error file. Success is read from response.status_code, not from
    `error` (a 4xx from the model endpoint has `error: null`, BATCH-APIS A.10)."""
    response = line.get("response") or None
    error = line.get("error")
    custom_id = line.get("custom_id", "")
    if response is None:
        code = (error or {}).get("code") or "error"
        status = (
            "expired"
            if code == "batch_expired"
            else ("cancelled" if code == "batch_cancelled" else "errored")
        )
        return ResultLine(custom_id, status, None, error)
    body = response.get("body") or {}
    if not 200 <= int(response.get("status_code") or 0) < 300:
        reason = body.get("error") if isinstance(body, dict) else None
        return ResultLine(custom_id, "errored", body, reason or {"code": "http_error"})
    return ResultLine(custom_id, "succeeded", body, None, body.get("model"), usage_of(body))


def usage_of(body: dict) -> dict[str, int] | None:
    """Chat completions / responses / embeddings usage -> disjoint tokcli buckets."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0
    completion = usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0
    in_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
    cached = in_details.get("cached_tokens") or 0
    reasoning = out_details.get("reasoning_tokens") or 0
    return {
        "input_tokens": max(prompt - cached, 0),
        "cache_read_tokens": cached,
        "output_tokens": max(completion - reasoning, 0),
        "reasoning_tokens": reasoning,
    }
