"""Gemini API Batch Mode and Files API, as Google's published API reference describes them.

Sources (stored captures; cited in tests/emulator/SOURCES.md):
- https://ai.google.dev/api/batch-api: `POST /v1beta/{model=models/*}:batchGenerateContent`
  with `{"batch": GenerateContentBatch}` -> Operation `{name: "batches/{id}", metadata:
  GenerateContentBatch, done, response?: GenerateContentBatchOutput, error?: Status}`;
  `GET /v1beta/batches` (`{operations, nextPageToken}`), `GET /v1beta/batches/{id}`,
  `POST /v1beta/batches/{id}:cancel` (Empty), `DELETE /v1beta/batches/{id}` (Empty);
  GenerateContentBatch fields `name, displayName, model, inputConfig{fileName | requests:
  {requests: [InlinedRequest{request, metadata}]}}, output{responsesFile | inlinedResponses:
  {inlinedResponses: [InlinedResponse{response | error, metadata}]}}, createTime, endTime,
  updateTime, batchStats{requestCount, successfulRequestCount, failedRequestCount,
  pendingRequestCount} (int64 as strings), state (BATCH_STATE_PENDING | RUNNING | SUCCEEDED |
  FAILED | CANCELLED | EXPIRED), priority`.
- https://ai.google.dev/api/files: resumable `POST /upload/v1beta/files` (`X-Goog-Upload-
  Protocol: resumable`, command `start` -> `X-Goog-Upload-URL` header; command `upload,
  finalize` with the bytes -> `{"file": File}`); File `name: "files/{id}", displayName,
  mimeType, sizeBytes (int64 string), createTime, updateTime, expirationTime, sha256Hash
  (base64), uri, state (ACTIVE)`; `GET /v1beta/files` (`{files, nextPageToken}`), `DELETE
  /v1beta/files/{id}`; download `GET /download/v1beta/files/{id}:download?alt=media`.
- https://ai.google.dev/gemini-api/docs/batch-api: input file lines `{"key", "request"}`,
  output lines `{"key", "response"}` or `{"key", "error"}`; responses need not come back in
  request order (python-genai#1909): the emulator shuffles them.
- Errors: Google's envelope `{"error": {"code", "message", "status"}}`.

Emulator choices where the reference is silent: states advance one step per GET of the
batch (PENDING -> RUNNING -> SUCCEEDED); `pageSize` default 50; usage counts are made up the
same way as the other two emulators (text length / 4).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import re
import time

from . import GEMINI_KEY, Outcome, Response

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                503: "UNAVAILABLE"}  # fmt: skip
TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."


def rfc3339(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GeminiAPI:
    def __init__(self, emulator):
        self.emulator = emulator
        self.files: dict[str, dict] = {}  # "files/x" -> {"object": File, "data": bytes}
        self.batches: dict[str, dict] = {}  # "batches/x" -> {"object": batch, ...}
        self.sessions: dict[str, dict] = {}  # upload id -> {"displayName", "size"}

    @staticmethod
    def owns(path: str) -> bool:
        return path.startswith(("/v1beta/", "/upload/v1beta/", "/download/v1beta/"))

    def handle(self, request) -> Response:
        if request.headers.get("x-goog-api-key") != GEMINI_KEY:
            return self.error(401, "API key not valid. Please pass a valid API key.")
        routes = [
            ("POST", r"/upload/v1beta/files", self.upload),
            ("GET", r"/v1beta/files", self.list_files),
            ("GET", r"/v1beta/(files/[^/:]+)", self.get_file),
            ("DELETE", r"/v1beta/(files/[^/:]+)", self.delete_file),
            ("GET", r"/download/v1beta/(files/[^/:]+):download", self.download),
            ("POST", r"/v1beta/models/([^/:]+):batchGenerateContent", self.create),
            ("GET", r"/v1beta/batches", self.list_batches),
            ("GET", r"/v1beta/(batches/[^/:]+)", self.get_batch),
            ("POST", r"/v1beta/(batches/[^/:]+):cancel", self.cancel),
            ("DELETE", r"/v1beta/(batches/[^/:]+)", self.delete_batch),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                with self.emulator.lock:
                    return action(request, *match.groups())
        return self.error(404, f"Method not found: {request.method} {request.path}")

    def error_body(self, status: int, message: str) -> dict:
        code = STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        return {"error": {"code": status, "message": message, "status": code}}

    def error(self, status: int, message: str) -> Response:
        return Response(status, self.error_body(status, message))

    # -- files -------------------------------------------------------------------------------

    def upload(self, request, *_) -> Response:
        command = (request.headers.get("x-goog-upload-command") or "").lower()
        if command == "start":
            if request.headers.get("x-goog-upload-protocol") != "resumable":
                return self.error(400, "X-Goog-Upload-Protocol must be resumable")
            meta = (request.json() or {}).get("file") or {}
            upload_id = self.emulator.new_id("up", 16)
            self.sessions[upload_id] = {
                "displayName": meta.get("displayName") or meta.get("display_name") or "",
                "size": int(request.headers.get("x-goog-upload-header-content-length") or 0),
            }
            url = f"{self.emulator.base_url}/upload/v1beta/files?upload_id={upload_id}"
            return Response(200, {}, {"x-goog-upload-url": url, "x-goog-upload-status": "active"})
        if command == "upload, finalize":
            session = self.sessions.pop(request.query.get("upload_id", ""), None)
            if session is None:
                return self.error(404, "upload session not found")
            request.body_file.seek(0)
            data = request.body_file.read()
            if len(data) != session["size"]:
                return self.error(
                    400, "uploaded size differs from X-Goog-Upload-Header-Content-Length"
                )
            name = self.emulator.new_id("files/", 12)
            now = rfc3339(time.time())
            obj = {
                "name": name, "displayName": session["displayName"],
                "mimeType": "application/jsonl", "sizeBytes": str(len(data)),
                "createTime": now, "updateTime": now,
                "expirationTime": rfc3339(time.time() + 48 * 3600),
                "sha256Hash": base64.b64encode(hashlib.sha256(data).digest()).decode(),
                "uri": f"{self.emulator.base_url}/v1beta/{name}", "state": "ACTIVE",
                "source": "UPLOADED",
            }  # fmt: skip
            self.files[name] = {"object": obj, "data": data}
            return Response(200, {"file": obj}, {"x-goog-upload-status": "final"})
        return self.error(400, f"unsupported X-Goog-Upload-Command {command!r}")

    def store_file(self, display_name: str, data: bytes) -> dict:
        """A file the provider made itself (a responses file)."""
        name = self.emulator.new_id("files/", 12)
        now = rfc3339(time.time())
        obj = {
            "name": name, "displayName": display_name, "mimeType": "application/jsonl",
            "sizeBytes": str(len(data)), "createTime": now, "updateTime": now,
            "sha256Hash": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "state": "ACTIVE", "source": "GENERATED",
        }  # fmt: skip
        self.files[name] = {"object": obj, "data": data}
        return obj

    def list_files(self, request, *_) -> Response:
        items = [f["object"] for f in self.files.values()]
        page, token = _page(items, request.query)
        return Response(200, {"files": page, **({"nextPageToken": token} if token else {})})

    def get_file(self, request, name) -> Response:
        if name not in self.files:
            return self.error(404, f"File {name} not found.")
        return Response(200, self.files[name]["object"])

    def delete_file(self, request, name) -> Response:
        if self.files.pop(name, None) is None:
            return self.error(404, f"File {name} not found.")
        return Response(200, {})

    def download(self, request, name) -> Response:
        if request.query.get("alt") != "media":
            return self.error(400, "alt=media is required to download")
        if name not in self.files:
            return self.error(404, f"File {name} not found.")
        return Response(200, raw=self.files[name]["data"],
                        headers={"content-type": "application/octet-stream"})  # fmt: skip

    # -- batches -----------------------------------------------------------------------------

    def create(self, request, model) -> Response:
        body = request.json() or {}
        batch = body.get("batch") or {}
        if not batch.get("displayName"):
            return self.error(400, "batch.display_name is required")
        config = batch.get("inputConfig") or {}
        if "fileName" in config:
            stored = self.files.get(config["fileName"])
            if stored is None:
                return self.error(404, f"File {config['fileName']} not found.")
            lines = [json.loads(raw) for raw in stored["data"].splitlines() if raw.strip()]
            items = [(line.get("key"), line.get("request") or {}) for line in lines]
        else:
            inlined = ((config.get("requests") or {}).get("requests")) or []
            items = [((r.get("metadata") or {}).get("key"), r.get("request") or {})
                     for r in inlined]  # fmt: skip
        if not items:
            return self.error(400, "batch.input_config: no requests")
        now = time.time()
        name = self.emulator.new_id("batches/", 20)
        outcome: Outcome = self.emulator.outcome
        obj = {
            "@type": TYPE + "GenerateContentBatch", "name": name,
            "displayName": batch["displayName"], "model": f"models/{model}",
            "inputConfig": config if "fileName" in config else {"requests": {}},
            "createTime": rfc3339(now), "updateTime": rfc3339(now),
            "batchStats": {"requestCount": str(len(items)), "pendingRequestCount": str(len(items))},
            "state": "BATCH_STATE_PENDING", "priority": "0",
        }  # fmt: skip
        self.batches[name] = {
            "object": obj, "items": items, "model": model, "outcome": outcome,
            "polls": outcome.polls_in_progress, "inline": "fileName" not in config,
            "output": None, "hidden": outcome.not_found_polls,
        }  # fmt: skip
        return Response(200, self._operation(self.batches[name]))

    def _operation(self, batch: dict) -> dict:
        obj = batch["object"]
        done = obj["state"] not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
        operation = {"name": obj["name"], "metadata": obj, "done": done}
        if done and batch["output"] is not None:
            operation["response"] = {"@type": TYPE + "GenerateContentBatchOutput",
                                     **batch["output"]}  # fmt: skip
        if obj["state"] == "BATCH_STATE_FAILED":
            operation["error"] = {"code": 3, "message": batch.get("failure", "batch failed")}
        return operation

    def list_batches(self, request, *_) -> Response:
        items = sorted((self._operation(b) for b in self.batches.values()),
                       key=lambda o: o["metadata"]["createTime"], reverse=True)  # fmt: skip
        page, token = _page(items, request.query)
        return Response(200, {"operations": page, **({"nextPageToken": token} if token else {})})

    def get_batch(self, request, name) -> Response:
        batch = self.batches.get(name)
        if batch is None:
            return self.error(404, f"Batch {name} not found.")
        if batch["hidden"] > 0:
            batch["hidden"] -= 1
            return self.error(404, f"Batch {name} not found.")
        self._advance(batch)
        return Response(200, self._operation(batch))

    def cancel(self, request, name) -> Response:
        batch = self.batches.get(name)
        if batch is None:
            return self.error(404, f"Batch {name} not found.")
        if batch["object"]["state"] not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
            return self.error(400, f"Batch {name} is already in a terminal state.")
        batch["cancelled"] = True
        batch["polls"] = 0
        return Response(200, {})

    def delete_batch(self, request, name) -> Response:
        if self.batches.pop(name, None) is None:
            return self.error(404, f"Batch {name} not found.")
        return Response(200, {})

    # -- the state machine -------------------------------------------------------------------

    def _advance(self, batch: dict) -> None:
        obj = batch["object"]
        if obj["state"] == "BATCH_STATE_PENDING":
            obj["state"] = "BATCH_STATE_RUNNING"
            return
        if obj["state"] != "BATCH_STATE_RUNNING":
            return
        if batch["polls"] > 0:
            batch["polls"] -= 1
            return
        self._finish(batch)

    def _finish(self, batch: dict) -> None:
        obj, outcome = batch["object"], batch["outcome"]
        if outcome.kind == "token_limit" and not batch.get("cancelled"):
            obj["state"] = "BATCH_STATE_FAILED"
            batch["failure"] = "Batch failed: quota exceeded for batch enqueued tokens."
            obj["endTime"] = rfc3339(time.time())
            return
        stop = len(batch["items"])
        if batch.get("cancelled") or outcome.kind == "expire":
            stop = outcome.finished_before_expiry
        lines = []
        for index, (key, request) in enumerate(batch["items"]):
            if index in outcome.lost_at or index >= stop:
                continue
            if outcome.rejects(index, key):
                message = "Request contains an invalid argument. " + outcome.plant
                lines.append({"key": key, "error": {"code": 3, "message": message.strip()}})
            else:
                lines.append({"key": key, "response": _response(request, batch["model"],
                                                                outcome.plant)})  # fmt: skip
        if outcome.shuffle:
            random.Random(obj["name"]).shuffle(lines)
        if batch["inline"]:
            inlined = []
            for line in lines:
                item = {k: v for k, v in line.items() if k != "key"}
                item["metadata"] = {"key": line["key"]}
                inlined.append(item)
            batch["output"] = {"inlinedResponses": {"inlinedResponses": inlined}}
        else:
            data = "".join(json.dumps(line) + "\n" for line in lines).encode()
            stored = self.store_file(f"responses-{obj['name']}{outcome.plant}", data)
            batch["output"] = {"responsesFile": stored["name"]}
        ok = sum(1 for line in lines if "response" in line)
        obj["batchStats"] = {
            "requestCount": str(len(batch["items"])), "successfulRequestCount": str(ok),
            "failedRequestCount": str(len(lines) - ok), "pendingRequestCount": "0",
        }  # fmt: skip
        state = "SUCCEEDED"
        if batch.get("cancelled"):
            state = "CANCELLED"
        elif outcome.kind == "expire":
            state = "EXPIRED"
        obj["state"] = f"BATCH_STATE_{state}"
        obj["endTime"] = obj["updateTime"] = rfc3339(time.time())
        obj["output"] = batch["output"]


def prompt_tokens(request: dict) -> int:
    return len(json.dumps([request.get("systemInstruction"), request.get("contents")])) // 4 + 3


def output_tokens(request: dict) -> int:
    limit = (request.get("generationConfig") or {}).get("maxOutputTokens") or 50
    return min(limit, 9)


def _response(request: dict, model: str, plant: str) -> dict:
    prompt, output = prompt_tokens(request), output_tokens(request)
    return {
        "candidates": [{"content": {"parts": [{"text": f"ok {plant}".strip()}], "role": "model"},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": output,
                          "totalTokenCount": prompt + output},
        "modelVersion": model,
        "responseId": "resp-" + hashlib.sha1(json.dumps(request).encode()).hexdigest()[:12],
    }  # fmt: skip


def _page(items: list, query: dict) -> tuple[list, str | None]:
    size = max(1, min(int(query.get("pageSize") or 50), 1000))
    start = int(query.get("pageToken") or 0)
    page = items[start : start + size]
    return page, (str(start + size) if start + size < len(items) else None)
