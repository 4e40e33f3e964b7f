"""OpenAI Files + Batch API (BATCH-APIS.md section A): objects, state machine, result files."""

from __future__ import annotations

import json
import random
import re
import shutil
import time
import uuid
from pathlib import Path

from . import OPENAI_KEY, Outcome, Response, split_multipart

ENDPOINTS = {
    "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos",
}  # fmt: skip
MAX_REQUESTS = 50_000
MAX_BYTES = 200_000_000
TOKEN_LIMIT_MESSAGE = (
    "Enqueued token limit reached for {model} in organization org-emulator. Limit: 90,000 "
    "enqueued tokens. Please try again once some in_progress batches have been completed."
)


class OpenAIAPI:
    def __init__(self, emulator):
        self.emulator = emulator
        self.files: dict[str, dict] = {}  # id -> {"object": File, "path": Path}
        self.batches: dict[str, dict] = {}  # id -> {"object": Batch, "plan": [...], ...}
        self.folder = emulator.root / "openai"
        self.folder.mkdir(parents=True, exist_ok=True)

    # -- routing -----------------------------------------------------------------------------

    def handle(self, request) -> Response:
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {OPENAI_KEY}":
            return self.error(401, "Incorrect API key provided.", code="invalid_api_key")
        routes = [
            ("POST", r"/v1/files", self.create_file),
            ("GET", r"/v1/files", self.list_files),
            ("GET", r"/v1/files/([^/]+)", self.get_file),
            ("DELETE", r"/v1/files/([^/]+)", self.delete_file),
            ("GET", r"/v1/files/([^/]+)/content", self.file_content),
            ("POST", r"/v1/batches", self.create_batch),
            ("GET", r"/v1/batches", self.list_batches),
            ("GET", r"/v1/batches/([^/]+)", self.get_batch),
            ("POST", r"/v1/batches/([^/]+)/cancel", self.cancel_batch),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                with self.emulator.lock:
                    return action(request, *match.groups())
        return self.error(404, f"Invalid URL ({request.method} {request.path})")

    def error_body(self, status: int, message: str, code=None, param=None) -> dict:
        kind = "invalid_request_error" if status < 500 else "server_error"
        if status == 429:
            kind, code = "requests", code or "rate_limit_exceeded"
        return {"error": {"message": message, "type": kind, "param": param, "code": code}}

    def error(self, status: int, message: str, code=None, param=None) -> Response:
        return Response(status, self.error_body(status, message, code, param),
                        {"x-request-id": "req_" + uuid.uuid4().hex})  # fmt: skip

    # -- files -------------------------------------------------------------------------------

    def create_file(self, request, *_) -> Response:
        parts = split_multipart(request.body_file, request.headers.get("content-type"), self.folder)
        purpose_part, file_part = parts.get("purpose"), parts.get("file")
        if file_part is None or purpose_part is None:
            return self.error(400, "Missing required parameter: 'file'.", param="file")
        purpose = purpose_part["path"].read_text()
        filename = file_part["filename"] or "upload"
        if purpose == "batch" and not filename.endswith(".jsonl"):
            return self.error(400, "Invalid file format for Batch API. Must be .jsonl")
        size = file_part["path"].stat().st_size
        if purpose == "batch" and size > MAX_BYTES:
            return self.error(400, "File is too large.")
        file_id = self.emulator.new_id("file-", 22)
        return Response(200, self._store_file(file_id, file_part["path"], filename, purpose, size))

    def _store_file(self, file_id, path: Path, filename, purpose, size) -> dict:
        now = int(time.time())
        target = self.folder / file_id
        shutil.move(path, target)
        obj = {
            "id": file_id, "object": "file", "bytes": size, "created_at": now,
            "expires_at": now + 2_592_000, "filename": filename, "purpose": purpose,
            "status": "processed", "status_details": None,
        }  # fmt: skip
        self.files[file_id] = {"object": obj, "path": target}
        return obj

    def list_files(self, request, *_) -> Response:
        items = [f["object"] for f in self.files.values()]
        if request.query.get("purpose"):
            items = [f for f in items if f["purpose"] == request.query["purpose"]]
        items.sort(key=lambda f: (f["created_at"], f["id"]),
                   reverse=request.query.get("order", "desc") == "desc")  # fmt: skip
        return Response(200, _page(items, request.query, default_limit=10_000))

    def get_file(self, request, file_id) -> Response:
        if file_id not in self.files:
            return self.error(404, f"No such File object: {file_id}", param="id")
        return Response(200, self.files[file_id]["object"])

    def delete_file(self, request, file_id) -> Response:
        """DELETE /v1/files/{file_id} -> DeleteFileResponse {id, object: "file", deleted}."""
        if file_id not in self.files:
            return self.error(404, f"No such File object: {file_id}", param="id")
        self.files.pop(file_id)["path"].unlink(missing_ok=True)
        return Response(200, {"id": file_id, "object": "file", "deleted": True})

    def file_content(self, request, file_id) -> Response:
        if file_id not in self.files:
            return self.error(404, f"No such File object: {file_id}", param="id")
        return Response(200, file=self.files[file_id]["path"],
                        headers={"content-type": "application/octet-stream"})  # fmt: skip

    # -- batches -----------------------------------------------------------------------------

    def create_batch(self, request, *_) -> Response:
        body = request.json() or {}
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not body.get(name):
                return self.error(400, f"Missing required parameter: '{name}'.", param=name)
        if body["endpoint"] not in ENDPOINTS:
            return self.error(400, f"Invalid endpoint: {body['endpoint']}", param="endpoint")
        if body["completion_window"] != "24h":
            return self.error(400, "Invalid completion_window", param="completion_window")
        if body["input_file_id"] not in self.files:
            return self.error(404, f"No such File object: {body['input_file_id']}",
                              param="input_file_id")  # fmt: skip
        now = int(time.time())
        batch_id = self.emulator.new_id("batch_", 32)
        obj = {
            "id": batch_id, "object": "batch", "endpoint": body["endpoint"], "errors": None,
            "input_file_id": body["input_file_id"], "completion_window": "24h",
            "status": "validating", "output_file_id": None, "error_file_id": None,
            "created_at": now, "in_progress_at": None, "expires_at": now + 86_400,
            "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None,
            "cancelling_at": None, "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata"),
        }  # fmt: skip
        outcome: Outcome = self.emulator.outcome
        if outcome.plant:
            obj["metadata"] = {**(obj["metadata"] or {}), "echo": outcome.plant}
        self.batches[batch_id] = {
            "object": obj,
            "outcome": outcome,
            "plan": self._plan(outcome),
            "hidden": outcome.not_found_polls,
        }
        return Response(200, obj)

    @staticmethod
    def _plan(outcome: Outcome) -> list[str]:
        if outcome.kind == "token_limit":
            return ["token_limit"]
        running = ["in_progress"] * outcome.polls_in_progress
        if outcome.kind == "expire":
            return ["validate", *running, "expired"]
        return ["validate", *running, *(["finalizing"] * outcome.polls_finalizing), "completed"]

    def list_batches(self, request, *_) -> Response:
        items = sorted((b["object"] for b in self.batches.values()),
                       key=lambda b: (b["created_at"], b["id"]), reverse=True)  # fmt: skip
        return Response(200, _page(items, request.query, default_limit=20, max_limit=100))

    def get_batch(self, request, batch_id) -> Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return self.error(404, f"No batch found with id '{batch_id}'.", code="batch_not_found")
        if batch["hidden"] > 0:  # read-after-write gap right after create
            batch["hidden"] -= 1
            return self.error(404, f"No batch found with id '{batch_id}'.", code="batch_not_found")
        self._advance(batch)
        return Response(200, batch["object"])

    def cancel_batch(self, request, batch_id) -> Response:
        batch = self.batches.get(batch_id)
        if batch is None:
            return self.error(404, f"No batch found with id '{batch_id}'.", code="batch_not_found")
        obj = batch["object"]
        if obj["status"] in ("completed", "failed", "expired", "cancelled"):
            return self.error(400, f"Cannot cancel a batch with status '{obj['status']}'.")
        if obj["status"] != "cancelling":
            obj["status"], obj["cancelling_at"] = "cancelling", int(time.time())
            batch["plan"] = ["cancelled"]
        return Response(200, obj)

    # -- the state machine -------------------------------------------------------------------

    def _advance(self, batch: dict) -> None:
        obj = batch["object"]
        if not batch["plan"] or obj["status"] in ("completed", "failed", "expired", "cancelled"):
            return
        step = batch["plan"].pop(0)
        now = int(time.time())
        if step == "token_limit":
            lines = self._lines(obj)
            model = next((r.get("body", {}).get("model") for _, r in lines if r), "gpt")
            self._fail(obj, [{"code": "token_limit_exceeded", "line": None, "param": None,
                              "message": TOKEN_LIMIT_MESSAGE.format(model=model)}])  # fmt: skip
        elif step == "validate":
            errors = self._validate(obj, batch["outcome"])
            if errors:
                self._fail(obj, errors)
                batch["plan"] = []
                return
            obj["status"], obj["in_progress_at"] = "in_progress", now
            obj["request_counts"]["total"] = len(self._lines(obj))
        elif step == "in_progress":
            obj["status"] = "in_progress"
        elif step == "finalizing":
            total = obj["request_counts"]["total"]
            failed = self._count_rejected(obj, batch["outcome"])
            obj["request_counts"].update(completed=total - failed, failed=failed)
            obj["status"], obj["finalizing_at"] = "finalizing", obj["finalizing_at"] or now
        else:  # completed, expired, cancelled: write the result files
            self._finish(batch, step, now)

    def _lines(self, obj) -> list[tuple[int, dict | None]]:
        path = self.files[obj["input_file_id"]]["path"]
        lines = []
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    record = json.loads(raw)
                except ValueError:
                    record = None
                lines.append((number, record if isinstance(record, dict) else None))
        return lines

    def _validate(self, obj, outcome: Outcome) -> list[dict]:
        if outcome.validation_errors:
            return list(outcome.validation_errors)
        lines = self._lines(obj)
        if not lines:
            return [_error("empty_file", "The input file is empty.")]
        if len(lines) > MAX_REQUESTS:
            return [_error("too_many_tasks", f"The batch has more than {MAX_REQUESTS} requests.")]
        errors, seen, model = [], set(), None
        for number, record in lines:
            if record is None:
                errors.append(
                    _error("invalid_json_line", "This line is not parseable as valid JSON.", number)
                )
                continue
            custom_id = record.get("custom_id")
            if custom_id in seen:
                errors.append(_error(
                    "duplicate_custom_id",
                    "The custom_id for this request is a duplicate of another request. The "
                    "custom_id parameter must be unique for each request in a batch.",
                    number, "custom_id",
                ))  # fmt: skip
            seen.add(custom_id)
            if record.get("url") != obj["endpoint"]:
                errors.append(_error("url_mismatch", "The url does not match the batch endpoint.",
                                     number, "url"))  # fmt: skip
            line_model = (record.get("body") or {}).get("model")
            model = model or line_model
            if line_model != model:
                errors.append(
                    _error(
                        "model_mismatch",
                        "Each input file can only include requests to a single model.",
                        number,
                        "body.model",
                    )
                )
        return errors

    def _fail(self, obj, errors: list[dict]) -> None:
        obj["status"], obj["failed_at"] = "failed", int(time.time())
        obj["errors"] = {"object": "list", "data": errors}

    def _count_rejected(self, obj, outcome: Outcome) -> int:
        return sum(
            1 for n, r in self._lines(obj) if r and outcome.rejects(n - 1, r.get("custom_id"))
        )

    def _finish(self, batch: dict, status: str, now: int) -> None:
        obj, outcome = batch["object"], batch["outcome"]
        lines = [r for _, r in self._lines(obj)]
        done_count = len(lines)
        if status in ("expired", "cancelled"):
            done_count = outcome.finished_before_expiry
        output, errors = [], []
        for index, record in enumerate(lines):
            custom_id = record["custom_id"]
            if index >= done_count:
                code = "batch_expired" if status == "expired" else "batch_cancelled"
                message = (
                    "This request could not be executed before the completion window expired."
                    if status == "expired"
                    else "The batch was cancelled."
                )
                errors.append(
                    {
                        "id": "batch_req_" + uuid.uuid4().hex,
                        "custom_id": custom_id,
                        "response": None,
                        "error": {"code": code, "message": message},
                    }
                )
            elif index in outcome.lost_at:
                continue
            elif outcome.rejects(index, custom_id):
                errors.append(_rejected_line(custom_id))
            else:
                output.append(_success_line(record))
        if outcome.plant:
            _plant(output, errors, outcome.plant)
        if outcome.shuffle:
            random.Random(obj["id"]).shuffle(output)
            random.Random(obj["id"] + "e").shuffle(errors)
        obj["output_file_id"] = self._result_file(obj, "output", output, outcome.plant)
        obj["error_file_id"] = self._result_file(obj, "error", errors, outcome.plant)
        succeeded = len(output)
        obj["request_counts"] = {
            "total": len(lines),
            "completed": succeeded,
            # Expired lines are not counted as failed (observed, BATCH-APIS A.7).
            "failed": sum(1 for e in errors if (e.get("error") or {}).get("code") is None),
        }
        obj["status"] = status
        obj[f"{status}_at"] = now
        if status == "completed":
            obj["finalizing_at"] = obj["finalizing_at"] or now
        obj["usage"] = _batch_usage(output)

    def _result_file(self, obj, kind: str, lines: list[dict], plant: str = "") -> str | None:
        if not lines:
            return None
        file_id = self.emulator.new_id("file-", 22)
        path = self.folder / f"{file_id}.tmp"
        with path.open("w") as handle:
            for line in lines:
                handle.write(json.dumps(line) + "\n")
        name = f"{obj['id']}_{kind}{plant}.jsonl"
        self._store_file(file_id, path, name, "batch_output", path.stat().st_size)
        return file_id


def _error(code, message, line=None, param=None) -> dict:
    return {"code": code, "message": message, "param": param, "line": line}


def prompt_tokens(record: dict) -> int:
    """Deterministic stand-in for a tokenizer: the tests recompute it to check recorded usage."""
    return len(json.dumps(record.get("body", {}).get("messages", []))) // 4 + 5


def completion_tokens(record: dict) -> int:
    body = record.get("body", {})
    return min(body.get("max_completion_tokens") or body.get("max_tokens") or 16, 7)


def _success_line(record: dict) -> dict:
    body = record.get("body", {})
    prompt, completion = prompt_tokens(record), completion_tokens(record)
    return {
        "id": "batch_req_" + uuid.uuid4().hex,
        "custom_id": record["custom_id"],
        "response": {
            "status_code": 200,
            "request_id": str(uuid.uuid4()),
            "body": {
                "id": "chatcmpl-" + uuid.uuid4().hex[:24],
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": "ok", "refusal": None}}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                    "prompt_tokens_details": {"cached_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0},
                },
            },
        },
        "error": None,
    }  # fmt: skip


def _plant(output: list[dict], errors: list[dict], text: str) -> None:
    for line in output:
        line["response"]["body"]["choices"][0]["message"]["content"] += " " + text
    for line in errors:
        if line.get("error"):
            line["error"]["message"] += " " + text
        else:
            line["response"]["body"]["error"]["message"] += " " + text


def _rejected_line(custom_id: str) -> dict:
    """A 4xx from the model endpoint: `error` is null, the status is in the response."""
    return {
        "id": "batch_req_" + uuid.uuid4().hex,
        "custom_id": custom_id,
        "response": {
            "status_code": 400,
            "request_id": str(uuid.uuid4()),
            "body": {"error": {"message": "Invalid 'messages': empty content.",
                               "type": "invalid_request_error", "param": "messages",
                               "code": None}},
        },
        "error": None,
    }  # fmt: skip


def _batch_usage(output: list[dict]) -> dict:
    prompt = sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in output)
    completion = sum(line["response"]["body"]["usage"]["completion_tokens"] for line in output)
    return {
        "input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion, "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }  # fmt: skip


def _page(items: list[dict], query: dict, *, default_limit: int, max_limit: int = 10_000) -> dict:
    limit = max(1, min(int(query.get("limit") or default_limit), max_limit))
    after = query.get("after")
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    page = items[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(items) > limit,
    }
