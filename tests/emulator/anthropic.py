"""Anthropic Message Batches API (BATCH-APIS.md section B): MessageBatch objects with all ten
keys, RFC 3339 times, counts held in `processing` until the batch ends, results only once
ended, `results_url` pointing at the emulator itself."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
import uuid

from . import ANTHROPIC_KEY, Outcome, Response

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_REQUESTS = 100_000
ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 504: "timeout_error", 529: "overloaded_error",
}  # fmt: skip


def rfc3339(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AnthropicAPI:
    def __init__(self, emulator):
        self.emulator = emulator
        self.batches: dict[str, dict] = {}
        self.created: dict[str, float] = {}

    def handle(self, request) -> Response:
        if request.headers.get("x-api-key") != ANTHROPIC_KEY:
            return self.error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return self.error(400, "anthropic-version: header is required")
        routes = [
            ("POST", r"/v1/messages/batches", self.create),
            ("GET", r"/v1/messages/batches", self.list),
            ("GET", r"/v1/messages/batches/([^/]+)", self.get),
            ("POST", r"/v1/messages/batches/([^/]+)/cancel", self.cancel),
            ("GET", r"/v1/messages/batches/([^/]+)/results", self.results),
            ("DELETE", r"/v1/messages/batches/([^/]+)", self.delete),
        ]
        for method, pattern, action in routes:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                with self.emulator.lock:
                    return action(request, *match.groups())
        return self.error(404, f"Not found: {request.path}")

    def error_body(self, status: int, message: str) -> dict:
        kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_" + uuid.uuid4().hex[:24],
        }

    def error(self, status: int, message: str) -> Response:
        body = self.error_body(status, message)
        return Response(status, body, {"request-id": body["request_id"]})

    def create(self, request, *_) -> Response:
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "Request body is not valid JSON")
        requests = (body or {}).get("requests")
        if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_REQUESTS:
            return self.error(400, "requests: List should have between 1 and 100000 items")
        seen = set()
        for index, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
                return self.error(400, f"requests.{index}.custom_id: String should match pattern "
                                       "'^[a-zA-Z0-9_-]{1,64}$'")  # fmt: skip
            if custom_id in seen:
                return self.error(400, f"requests.{index}.custom_id: duplicate custom_id")
            seen.add(custom_id)
            params = item.get("params") or {}
            if not isinstance(params.get("max_tokens"), int) or params["max_tokens"] < 1:
                return self.error(400, f"requests.{index}.params.max_tokens: Field required")
        now = time.time()
        batch_id = self.emulator.new_id("msgbatch_", 24)
        obj = {
            "id": batch_id, "type": "message_batch", "processing_status": "in_progress",
            "request_counts": {"processing": len(requests), "succeeded": 0, "errored": 0,
                               "canceled": 0, "expired": 0},
            "ended_at": None, "created_at": rfc3339(now), "expires_at": rfc3339(now + 86_400),
            "cancel_initiated_at": None, "results_url": None, "archived_at": None,
        }  # fmt: skip
        outcome: Outcome = self.emulator.outcome
        self.batches[batch_id] = {
            "object": obj,
            "requests": requests,
            "outcome": outcome,
            "polls": outcome.polls_in_progress,
            "hidden": outcome.not_found_polls,
            "results": None,
        }
        return Response(200, obj)

    def list(self, request, *_) -> Response:
        items = sorted((b["object"] for b in self.batches.values()),
                       key=lambda b: (b["created_at"], b["id"]), reverse=True)  # fmt: skip
        limit = max(1, min(int(request.query.get("limit") or 20), 1000))
        ids = [item["id"] for item in items]
        after = request.query.get("after_id")
        if after:
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = items[:limit]
        return Response(200, {
            "data": page, "has_more": len(items) > limit,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        })  # fmt: skip

    def _find(self, batch_id):
        batch = self.batches.get(batch_id)
        if batch is None:
            return None, self.error(404, f"Batch {batch_id} not found")
        if batch["hidden"] > 0:  # read-after-write gap right after create (BATCH-APIS E.6)
            batch["hidden"] -= 1
            return None, self.error(404, f"Batch {batch_id} not found")
        return batch, None

    def get(self, request, batch_id) -> Response:
        batch, error = self._find(batch_id)
        if error:
            return error
        self._advance(batch)
        return Response(200, batch["object"])

    def cancel(self, request, batch_id) -> Response:
        batch, error = self._find(batch_id)
        if error:
            return error
        obj = batch["object"]
        if obj["processing_status"] == "ended":
            return self.error(400, f"Batch {batch_id} has already ended")
        obj["processing_status"] = "canceling"
        obj["cancel_initiated_at"] = obj["cancel_initiated_at"] or rfc3339(time.time())
        batch["polls"] = 0
        return Response(200, obj)

    def delete(self, request, batch_id) -> Response:
        batch, error = self._find(batch_id)
        if error:
            return error
        if batch["object"]["processing_status"] != "ended":
            return self.error(400, "Batch must be ended (cancel it first) before deletion")
        del self.batches[batch_id]
        return Response(200, {"id": batch_id, "type": "message_batch_deleted"})

    def results(self, request, batch_id) -> Response:
        batch, error = self._find(batch_id)
        if error:
            return error
        if batch["object"]["processing_status"] != "ended":
            return self.error(400, f"Batch {batch_id} has not ended; results are not available")
        data = "".join(json.dumps(line) + "\n" for line in batch["results"]).encode()
        return Response(200, raw=data, headers={"content-type": "application/x-jsonl"})

    def _advance(self, batch: dict) -> None:
        obj = batch["object"]
        if obj["processing_status"] == "ended":
            return
        if batch["polls"] > 0:
            batch["polls"] -= 1
            return
        self._end(batch)

    def _end(self, batch: dict) -> None:
        obj, outcome = batch["object"], batch["outcome"]
        cancelled = obj["processing_status"] == "canceling"
        stop = len(batch["requests"])
        if cancelled or outcome.kind == "expire":
            stop = outcome.finished_before_expiry
        results = []
        for index, item in enumerate(batch["requests"]):
            custom_id = item["custom_id"]
            if index >= stop:
                results.append(
                    {
                        "custom_id": custom_id,
                        "result": {"type": "canceled" if cancelled else "expired"},
                    }
                )
            elif outcome.rejects(index, custom_id):
                results.append(
                    {
                        "custom_id": custom_id,
                        "result": {
                            "type": "errored",
                            "error": self.error_body(400, "messages: empty content"),
                        },
                    }
                )
            else:
                results.append(
                    {
                        "custom_id": custom_id,
                        "result": {"type": "succeeded", "message": _message(item)},
                    }
                )
        results = [r for i, r in enumerate(results) if i not in outcome.lost_at]
        for line in results if outcome.plant else []:
            result = line["result"]
            if result["type"] == "succeeded":
                result["message"]["content"][0]["text"] += " " + outcome.plant
            elif result["type"] == "errored":
                result["error"]["error"]["message"] += " " + outcome.plant
        if outcome.shuffle:
            random.Random(obj["id"]).shuffle(results)
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for line in results:
            counts[line["result"]["type"]] += 1
        batch["results"] = results
        obj.update(
            processing_status="ended",
            request_counts=counts,
            ended_at=rfc3339(time.time()),
            results_url=f"{self.emulator.base_url}/v1/messages/batches/{obj['id']}/results",
        )


def input_tokens(item: dict) -> int:
    params = item["params"]
    return len(json.dumps([params.get("system"), params.get("messages")])) // 4 + 3


def output_tokens(item: dict) -> int:
    return min(item["params"]["max_tokens"], 9)


def _message(item: dict) -> dict:
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": item["params"]["model"],
        "content": [{"type": "text", "text": "ok", "citations": None}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "stop_details": None,
        "container": None,
        "usage": {
            "input_tokens": input_tokens(item),
            "output_tokens": output_tokens(item),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "inference_geo": None,
            "server_tool_use": None,
            "service_tier": "batch",
        },
    }
