"""Contract test: what tokcli sends and what the emulator answers, checked against the providers'
OpenAPI documents, so neither can drift from the real APIs.

The documents in tests/fixtures/openapi are the providers' own, trimmed by `trim.py` there to the
file and batch operations and every schema they reference (SOURCES.md gives each origin).

One documented relaxation: OpenAI's spec types optional fields such as `Batch.output_file_id`
as plain `string`, while the API (and the spec's own examples) send `null` for them. Optional
properties of OpenAI schemas therefore also accept null; required ones do not.
"""

from __future__ import annotations

import copy
import functools
import json
import re

import httpx
import jsonschema
import pytest

from conftest import FIXTURES
from emulator import ANTHROPIC_KEY, Emulator, Outcome
from emulator.samples import anthropic_line, openai_line, write_jsonl

SPECS = FIXTURES / "openapi"


@functools.cache
def openai_spec() -> dict:
    spec = json.loads((SPECS / "openai-openapi.json").read_text())
    spec["components"] = _optional_nullable(spec["components"])
    return spec


@functools.cache
def openai_2025_spec() -> dict:
    """The 2025-04 spec: the last one with BatchRequestInput / BatchRequestOutput (line shapes)."""
    spec = json.loads((SPECS / "openai-openapi-2025-04-29.json").read_text())
    spec["components"] = _optional_nullable(spec["components"])
    return spec


@functools.cache
def anthropic_spec() -> dict:
    return json.loads((SPECS / "anthropic-openapi.json").read_text())


def _optional_nullable(node):
    if isinstance(node, list):
        return [_optional_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _optional_nullable(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict):
        required = set(node.get("required") or [])
        node["properties"] = {
            name: schema if name in required else {"anyOf": [schema, {"type": "null"}]}
            for name, schema in node["properties"].items()
        }
    return node


_VALIDATORS: dict = {}


def check(spec: dict, schema: dict, instance) -> None:
    key = (id(spec), json.dumps(schema, sort_keys=True))
    if key not in _VALIDATORS:
        root = {**copy.copy(schema), "components": spec["components"]}
        _VALIDATORS[key] = jsonschema.Draft202012Validator(root)
    _VALIDATORS[key].validate(instance)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(spec: dict, method: str, path: str, prefix: str = ""):
    """The spec operation whose path template matches a concrete path."""
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", prefix + template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the spec")


def response_schema(op: dict, status: int) -> dict:
    responses = op["responses"]
    answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    content = answer["content"]
    return next(iter(content.values()))["schema"]


@pytest.fixture
def emu():
    emulator = Emulator().start()
    emulator.record = True
    yield emulator
    emulator.stop()


def run_cycle(cli, tmp_path, provider, make, count=4, **submit_options):
    source = write_jsonl(tmp_path / f"{provider}.jsonl", [make(i) for i in range(count)])
    extra = [arg for key, value in submit_options.items() for arg in (f"--{key}", value)]
    job = cli("batch", "submit", source, "-p", provider, "--format", "json", *extra).json()["job"]
    for _ in range(10):
        if cli("batch", "poll", job["id"]).exit_code != 3:
            break
    cli("batch", "results", job["id"], "-o", tmp_path / f"{provider}.out.jsonl")
    return job


def test_openai_exchanges_match_the_openapi_spec(cli, env, emu, tmp_path):
    spec, lines_spec = openai_spec(), openai_2025_spec()
    emu.outcome = Outcome(error_at={1})
    run_cycle(cli, tmp_path, "openai", openai_line)
    emu.outcome = Outcome(kind="expire", finished_before_expiry=1)
    run_cycle(cli, tmp_path / "..", "openai", lambda i: openai_line(i + 10))
    emu.outcome = Outcome(kind="token_limit")
    run_cycle(cli, tmp_path, "openai", lambda i: openai_line(i + 20))
    # Errors: unknown batch, bad key.
    httpx.get(f"{emu.openai_url}/batches/batch_nope", headers={"Authorization": "Bearer x"})
    httpx.get(f"{emu.openai_url}/batches/batch_nope",
              headers={"Authorization": f"Bearer {env['OPENAI_API_KEY']}"})  # fmt: skip

    seen = set()
    for exchange in emu.exchanges:
        op = operation(spec, exchange["method"], exchange["path"], prefix="/v1")
        seen.add((exchange["method"], exchange["status"]))
        if exchange["status"] >= 400:
            check(spec, ref("ErrorResponse"), exchange["response"])
            continue
        if exchange["request"] is not None:  # tokcli's create-batch body
            check(spec, op["requestBody"]["content"]["application/json"]["schema"],
                  exchange["request"])  # fmt: skip
        if exchange["response"] is not None:
            check(spec, response_schema(op, exchange["status"]), exchange["response"])
    assert {("POST", 200), ("GET", 200), ("GET", 401), ("GET", 404)} <= seen

    # Input, output and error file lines against BatchRequestInput / BatchRequestOutput.
    for path in (tmp_path / "openai.jsonl",):
        for line in path.read_text().splitlines():
            check(lines_spec, ref("BatchRequestInput"), json.loads(line))
    result_files = [f for f in emu.openai.files.values() if f["object"]["purpose"] != "batch"]
    assert result_files
    for stored in result_files:
        for line in stored["path"].read_text().splitlines():
            check(lines_spec, ref("BatchRequestOutput"), json.loads(line))


def test_anthropic_exchanges_match_the_openapi_spec(cli, env, emu, tmp_path):
    spec = anthropic_spec()
    emu.outcome = Outcome(error_at={2})
    run_cycle(cli, tmp_path, "anthropic", anthropic_line)
    emu.outcome = Outcome(kind="expire", finished_before_expiry=1)
    job = run_cycle(cli, tmp_path / "..", "anthropic", lambda i: anthropic_line(i + 10))
    headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    httpx.get(f"{emu.base_url}/v1/messages/batches/msgbatch_nope", headers=headers)
    httpx.get(f"{emu.base_url}/v1/messages/batches", headers={"x-api-key": "wrong"})
    batch_id = job["parts"][0]["batch_id"]
    httpx.delete(f"{emu.base_url}/v1/messages/batches/{batch_id}", headers=headers)

    seen = set()
    for exchange in emu.exchanges:
        op = operation(spec, exchange["method"], exchange["path"])
        seen.add((exchange["method"], exchange["status"]))
        if exchange["request"] is not None:
            check(spec, op["requestBody"]["content"]["application/json"]["schema"],
                  exchange["request"])  # fmt: skip
        schema = response_schema(op, exchange["status"])
        if exchange["raw"] is not None:  # results JSONL: one document per line
            lines = exchange["raw"].decode().splitlines()
            assert lines
            for line in lines:
                check(spec, schema, json.loads(line))
        else:
            check(spec, schema, exchange["response"])
    assert {("POST", 200), ("GET", 200), ("GET", 404), ("GET", 401), ("DELETE", 200)} <= seen
