"""`advise` on real OpenTelemetry GenAI spans (tests/fixtures/samples/otel-genai-agents, see its
SOURCES.md): the importer counts each model call once, finds the session each call belongs to,
and advise prices the sessions and its recommendations. Every expected figure is computed here
from the span attributes with the standard library and the providers' list prices per million
tokens, as recorded in pricing/*.yaml:

    gemini-2.5-flash  $0.30 input, $0.075 cache read (until 2026-05-24), $2.50 output
    gemini-2.0-flash  $0.10 input, $0.40 output
    gpt-5             $1.25 input, $10 output
    gpt-5-mini        $0.25 input, $2 output

Reasoning tokens are billed as output. The synthetic cases at the end are edge cases the real
files do not show (a loop, older attribute names, a parent exported after its children).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
from decimal import Decimal as D

import pytest

from conftest import SAMPLES
from test_import_support import (
    exact_decimals,  # noqa: F401  (autouse: 60-digit arithmetic, as tokcli computes)
    store_rows,
    token_totals,
)
from tokcli.money import MONEY_CONTEXT

AGENTS = SAMPLES / "otel-genai-agents"
PER_MILLION = {  # (input, output) list prices on the calls' dates
    "gemini-2.5-flash": (D("0.30"), D("2.50")),
    "gemini-2.0-flash": (D("0.10"), D("0.40")),
    "gpt-5": (D("1.25"), D("10")),
    "gpt-5-mini": (D("0.25"), D("2")),
}
GEMINI_25_CACHE_READ = D("0.075")
SINCE, UNTIL = "2025-08-01", "2026-03-31"
PERIOD_DAYS = (dt.date(2026, 3, 31) - dt.date(2025, 8, 1)).days + 1


def monthly(amount: D, days: int) -> D:
    """`amount` over `days` days as an average month's (365.25 / 12 = 30.4375 days): times
    30.4375, then divided by the days, at 60 digits."""
    with decimal.localcontext(MONEY_CONTEXT):
        return amount * D("30.4375") / days


# --- an independent reading of the OTLP files -------------------------------------------


def _value(value: dict):
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return value[kind]
    return None


def spans_of(path) -> list[dict]:
    document = json.loads(path.read_text())
    spans = []
    for resource_spans in document["resourceSpans"]:
        for scope in resource_spans["scopeSpans"]:
            for span in scope["spans"]:
                attrs = {a["key"]: _value(a["value"]) for a in span.get("attributes", [])}
                spans.append({**span, "attrs": attrs})
    return spans


def has_usage(span) -> bool:
    return any(k.startswith(("gen_ai.usage.", "llm.token_count.")) for k in span["attrs"])


def calls_of(path) -> list[dict]:
    """The spans that are model calls: usage, and no span below them with usage."""
    spans = spans_of(path)
    parents = {s["spanId"]: s.get("parentSpanId") for s in spans}
    with_usage = [s for s in spans if has_usage(s)]
    run_totals = set()
    for span in with_usage:
        parent = span.get("parentSpanId")
        while parent:
            run_totals.add(parent)
            parent = parents.get(parent)
    return [s for s in with_usage if s["spanId"] not in run_totals]


def first(attrs, *keys):
    return next((attrs[k] for k in keys if attrs.get(k) is not None), None)


def call_cost(span) -> D:
    attrs = span["attrs"]
    model = first(attrs, "gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
    model = model.removesuffix("-2025-08-07")  # OpenAI's dated snapshot of the same model
    prompt = int(first(attrs, "gen_ai.usage.input_tokens", "llm.token_count.prompt"))
    produced = int(first(attrs, "gen_ai.usage.output_tokens", "llm.token_count.completion"))
    input_price, output_price = PER_MILLION[model]
    return (prompt * input_price + produced * output_price) / 1_000_000


def session_of(span, spans) -> str:
    """Own conversation/session id, an ancestor's, the trace's only one, or the trace id."""
    by_id = {s["spanId"]: s for s in spans}
    node = span
    while node is not None:
        named = first(node["attrs"], "gen_ai.conversation.id", "session.id")
        if named:
            return named
        node = by_id.get(node.get("parentSpanId"))
    in_trace = {
        first(s["attrs"], "gen_ai.conversation.id", "session.id")
        for s in spans
        if s["traceId"] == span["traceId"]
    } - {None}
    return in_trace.pop() if len(in_trace) == 1 else span["traceId"]


def expected_sessions() -> dict[str, D]:
    costs: dict[str, D] = {}
    for path in sorted(AGENTS.glob("*.json")):
        spans = spans_of(path)
        for call in calls_of(path):
            session = session_of(call, spans)
            costs[session] = costs.get(session, D(0)) + call_cost(call)
    return costs


# --- the tests --------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path, cli):
    path = tmp_path / "usage.db"
    result = cli("import", AGENTS, "--store", path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return path


def advise(cli, store, *extra):
    result = cli(
        "advise", "--store", store, "--since", SINCE, "--until", UNTIL, "-f", "json", *extra
    )
    assert result.exit_code == 0, result.stderr
    return result.json()


def test_each_model_call_is_counted_once_not_again_on_its_run_span(store):
    """Microsoft.Extensions.AI's `orchestrate_tools` spans carry the sum of the chat spans under
    them: imported as well, they doubled the token totals (5 rows instead of 3 for that file)."""
    calls = [c for path in sorted(AGENTS.glob("*.json")) for c in calls_of(path)]
    prompt = sum(
        int(first(c["attrs"], "gen_ai.usage.input_tokens", "llm.token_count.prompt")) for c in calls
    )
    produced = sum(
        int(first(c["attrs"], "gen_ai.usage.output_tokens", "llm.token_count.completion"))
        for c in calls
    )
    totals = token_totals(store)
    assert len(store_rows(store)) == len(calls) == 9
    assert (
        totals["input_tokens"] + totals["cache_read_tokens"] == prompt == 8047 + 67 + 293 + 62 + 6
    )
    assert totals["output_tokens"] + totals["reasoning_tokens"] == produced
    assert all(row["model_raw"] for row in store_rows(store))  # no model-less run totals


def test_openinference_token_names_are_read(store):
    """google-gemini: only `llm.token_count.*`; the reasoning tokens are part of completion."""
    (row,) = store_rows(store, "model_raw = 'gemini-2.5-flash' AND period_start < '2025-09-01'")
    attrs = calls_of(AGENTS / "google-gemini-2025-08-01.json")[0]["attrs"]
    reasoning = int(attrs["llm.token_count.completion_details.reasoning"])
    assert row["input_tokens"] == int(attrs["llm.token_count.prompt"]) == 6
    assert row["reasoning_tokens"] == reasoning == 1104
    assert row["output_tokens"] == int(attrs["llm.token_count.completion"]) - reasoning
    assert row["provider"] == "google"


def session_tags(store) -> dict[str, list[str]]:
    rows = {r["id"]: r for r in store_rows(store)}
    tags = {}
    for usage_id in rows:
        conn_rows = store_rows_tags(store, usage_id)
        tags[rows[usage_id]["record_key"]] = conn_rows
    return tags


def store_rows_tags(store, usage_id) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(store)
    try:
        return dict(
            conn.execute("SELECT key, value FROM usage_tags WHERE usage_id = ?", [usage_id])
        )
    finally:
        conn.close()


def test_every_call_gets_the_session_its_spans_name(store):
    """session.id on the agent's top span only (C#); gen_ai.conversation.id on one chat span of two
    (Agent Framework); nothing at all (Vercel AI SDK): the trace is the task."""
    expected = sorted(
        session_of(call, spans_of(path))
        for path in sorted(AGENTS.glob("*.json"))
        for call in calls_of(path)
    )
    stored = sorted(store_rows_tags(store, row["id"])["session"] for row in store_rows(store))
    assert stored == expected
    csharp = spans_of(AGENTS / "csharp-agent-with-gemini-2026-03-09.json")
    named = [s["attrs"]["session.id"] for s in csharp if "session.id" in s["attrs"]]
    assert len(named) == 1  # on the agent's top span only, none on the chat spans
    assert stored.count(named[0]) == 3
    agent = spans_of(AGENTS / "microsoft-agent-2025-12-17.json")
    conversation = next(
        s["attrs"]["gen_ai.conversation.id"]
        for s in agent
        if "gen_ai.conversation.id" in s["attrs"]
    )
    assert stored.count(conversation) == 2
    vercel = spans_of(AGENTS / "vercel-aisdk-2025-11-17.json")
    assert stored.count(vercel[0]["traceId"]) == 1


def test_a_tool_call_the_model_asked_for_is_fingerprinted_without_its_arguments(store):
    """google-adk: the first call's output asks for `say_hello` (OpenInference attributes, no
    arguments attribute): tagged `say_hello:` + the first 12 hex of sha256 of JSON null."""
    tagged = [store_rows_tags(store, r["id"]).get("tool_call") for r in store_rows(store)]
    digest = hashlib.sha256(json.dumps(None).encode()).hexdigest()[:12]
    assert [t for t in tagged if t] == [f"say_hello:{digest}"]


def test_real_otel_sessions_are_priced(cli, store):
    costs = sorted(expected_sessions().values())
    doc = advise(cli, store)
    sessions = doc["sessions"]
    assert sessions["sessions"] == len(costs) == 5
    assert D(sessions["max"]) == costs[-1]
    assert D(sessions["p95"]) == costs[4]  # nearest rank: ceil(0.95 x 5) = 5th
    assert D(sessions["p50"]) == costs[2]  # ceil(0.5 x 5) = 3rd
    # The dearest task is the Gemini answer with 1,104 reasoning tokens: 6 x $0.30 + 2,055 x
    # $2.50 per million.
    assert costs[-1] == (6 * D("0.30") + 2055 * D("2.50")) / 1_000_000


def test_report_by_session_lists_each_real_otel_session_at_its_cost(cli, store):
    result = cli(
        "report", "--store", store, "--by", "session", "--since", SINCE, "--until", UNTIL,
        "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    listed = {row["session"]: D(row["list_cost"]) for row in result.json()["rows"]}
    assert listed == expected_sessions()


def test_real_otel_spans_get_a_cache_and_a_reasoning_recommendation_ranked_by_saving(cli, store):
    """Per session: the C# agent sends ~2,700-token prompts to Gemini 2.5 Flash with no cache
    reads (80% of them could be reads), and the Gemini answer spends 1,104 of 2,055 output
    tokens on reasoning. Nothing else qualifies: the other calls are short, on cheap or mid
    models, and no session loops, retries or grows."""
    csharp = calls_of(AGENTS / "csharp-agent-with-gemini-2026-03-09.json")
    prompt = sum(int(c["attrs"]["gen_ai.usage.input_tokens"]) for c in csharp)
    moved = int(D("0.8") * prompt)
    cache_saving = monthly(moved * (D("0.30") - GEMINI_25_CACHE_READ) / 1_000_000, PERIOD_DAYS)
    gemini = calls_of(AGENTS / "google-gemini-2025-08-01.json")[0]["attrs"]
    reasoning = int(gemini["llm.token_count.completion_details.reasoning"])
    reasoning_saving = monthly((reasoning - reasoning // 2) * D("2.50") / 1_000_000, PERIOD_DAYS)

    doc = advise(cli, store, "--by", "session")
    found = [
        (r["lever"], r["group"]["session"], D(r["monthly_saving"])) for r in doc["recommendations"]
    ]
    (session_id,) = [
        s["attrs"]["session.id"]
        for s in spans_of(AGENTS / "csharp-agent-with-gemini-2026-03-09.json")
        if "session.id" in s["attrs"]
    ]
    gemini_trace = spans_of(AGENTS / "google-gemini-2025-08-01.json")[0]["traceId"]
    assert found == [
        ("cache", session_id, cache_saving),
        ("reasoning", gemini_trace, reasoning_saving),
    ]
    assert cache_saving > reasoning_saving
    assert prompt == 8047 and moved == 6437


# --- edge cases the real files do not show (synthetic) --------------------------------


def _span(span_id, start_s, attrs, parent=None, trace="ab" * 16):
    body = {
        "traceId": trace,
        "spanId": span_id,
        "name": "chat",
        "startTimeUnixNano": str(1_791_000_000_000_000_000 + start_s * 1_000_000_000),
        "endTimeUnixNano": str(1_791_000_000_000_000_000 + (start_s + 1) * 1_000_000_000),
        "attributes": [{"key": k, "value": v} for k, v in attrs.items()],
    }
    if parent:
        body["parentSpanId"] = parent
    return body


def _document(*spans):
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}


def _usage(prompt, output, **extra):
    attrs = {
        "gen_ai.request.model": {"stringValue": "claude-sonnet-4-6"},
        "gen_ai.provider.name": {"stringValue": "anthropic"},
        "gen_ai.usage.input_tokens": {"intValue": str(prompt)},
        "gen_ai.usage.output_tokens": {"intValue": str(output)},
    }
    attrs.update(extra)
    return attrs


def test_a_run_span_exported_on_a_later_line_is_still_recognised_as_a_sum(cli, tmp_path):
    """The file exporter writes a parent after its children (it ends last): the run total on
    line 2 is skipped, and its conversation id reaches the call on line 1."""
    child = _span("c" * 16, 1, _usage(100, 10), parent="p" * 16)
    parent = _span(
        "p" * 16, 0, _usage(100, 10, **{"gen_ai.conversation.id": {"stringValue": "conv-1"}})
    )
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps(_document(child)) + "\n" + json.dumps(_document(parent)) + "\n")
    store = tmp_path / "s.db"
    result = cli("import", path, "--store", store)
    assert result.exit_code == 0, result.stderr
    (row,) = store_rows(store)
    assert (row["input_tokens"], row["output_tokens"]) == (100, 10)
    assert store_rows_tags(store, row["id"])["session"] == "conv-1"


def test_older_gen_ai_names_are_read(cli, tmp_path):
    """Semantic conventions before 1.27 (`prompt_tokens`, `completion_tokens`) and OpenLLMetry's
    cache names (`cache_read_input_tokens`, `cache_creation_input_tokens`), input including the
    cached part as the conventions say."""
    attrs = {
        "gen_ai.system": {"stringValue": "anthropic"},
        "gen_ai.request.model": {"stringValue": "claude-sonnet-4-6"},
        "gen_ai.usage.prompt_tokens": {"intValue": "1000"},
        "gen_ai.usage.completion_tokens": {"intValue": "50"},
        "gen_ai.usage.cache_read_input_tokens": {"intValue": "600"},
        "gen_ai.usage.cache_creation_input_tokens": {"intValue": "300"},
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(_document(_span("a" * 16, 0, attrs))))
    store = tmp_path / "s.db"
    assert cli("import", path, "--store", store).exit_code == 0
    (row,) = store_rows(store)
    assert (row["input_tokens"], row["cache_read_tokens"], row["cache_write_5m_tokens"]) == (
        100,
        600,
        300,
    )
    assert row["output_tokens"] == 50


def test_a_looping_agent_in_otel_spans_is_priced(cli, tmp_path):
    """Five calls in one conversation, each asking for `search` with the same arguments (in
    `gen_ai.output.messages`, argument order differing): the two calls after the third are the
    loop's waste, 2 x (5,000 x $3 + 100 x $15) per million on Claude Sonnet 4.6."""
    spans = []
    for i in range(5):
        arguments = {"q": "weather", "page": 1} if i % 2 else {"page": 1, "q": "weather"}
        output = [
            {
                "role": "assistant",
                "parts": [{"type": "tool_call", "name": "search", "arguments": arguments}],
            }
        ]
        attrs = _usage(
            5000,
            100,
            **{
                "gen_ai.conversation.id": {"stringValue": "conv-loop"},
                "gen_ai.output.messages": {"stringValue": json.dumps(output)},
            },
        )
        spans.append(_span(f"{i:016x}", i * 60, attrs))
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(_document(*spans)))
    store = tmp_path / "s.db"
    assert cli("import", path, "--store", store).exit_code == 0
    result = cli(
        "advise", "--store", store, "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json"
    )
    assert result.exit_code == 0, result.stderr
    (loop,) = [r for r in result.json()["recommendations"] if r["lever"] == "loop"]
    waste = 2 * (5000 * D(3) + 100 * D(15)) / 1_000_000
    assert loop["group"] == {"session": "conv-loop"}
    assert loop["details"]["repeats"] == 5
    assert D(loop["monthly_saving"]) == monthly(waste, 31)
    assert "weather" not in json.dumps(store_rows(store), default=str)


def test_malformed_attribute_values_are_passed_over_not_a_crash(cli, tmp_path):
    """An arrayValue that is no object, array items that are no objects, a parent id that
    points at the span itself, `attributes` that is no list: the call is still imported once,
    from its usage attributes, and the odd span is passed over."""
    attrs = _usage(
        300,
        30,
        **{
            "gen_ai.response.finish_reasons": {"arrayValue": 5},
            "gen_ai.output.messages": {"arrayValue": {"values": [1, "x", None]}},
        },
    )
    path = tmp_path / "odd.json"
    odd = {**_span("b" * 16, 1, {}), "attributes": 5}  # no list: no attributes, no usage
    path.write_text(json.dumps(_document(_span("a" * 16, 0, attrs, parent="a" * 16), odd)))
    store = tmp_path / "s.db"
    result = cli("import", path, "--store", store)
    assert result.exit_code == 0, result.stderr
    (row,) = store_rows(store)
    assert (row["input_tokens"], row["output_tokens"]) == (300, 30)
    assert store_rows_tags(store, row["id"])["session"] == "ab" * 16  # the trace id


def test_execute_tool_spans_with_arguments_fingerprint_the_call_before_them(cli, tmp_path):
    """Message content is opt-in, so a chat span often does not say which tools it asked for;
    the execute_tool spans that follow it do (`gen_ai.tool.name`, and the opt-in
    `gen_ai.tool.call.arguments`). Four rounds of chat -> search("x"): a loop of 4 calls, the
    last one priced (5,000 x $3 + 100 x $15 per million, Claude Sonnet 4.6). A tool span without
    arguments (as in the real Agent Framework and C# traces) adds nothing."""
    spans = []
    for i in range(4):
        chat = _usage(5000, 100, **{"gen_ai.conversation.id": {"stringValue": "conv-t"}})
        spans.append(_span(f"{2 * i:016x}", 10 * i, chat))
        tool = {
            "gen_ai.operation.name": {"stringValue": "execute_tool"},
            "gen_ai.tool.name": {"stringValue": "search"},
            "gen_ai.tool.call.arguments": {"stringValue": '{"q": "x"}'},
        }
        spans.append(_span(f"{2 * i + 1:016x}", 10 * i + 2, tool))
    no_arguments = {
        "gen_ai.operation.name": {"stringValue": "execute_tool"},
        "gen_ai.tool.name": {"stringValue": "get_weather"},
    }
    spans.append(_span("f" * 16, 100, no_arguments))
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(_document(*spans)))
    store = tmp_path / "s.db"
    assert cli("import", path, "--store", store).exit_code == 0
    digest = hashlib.sha256(json.dumps({"q": "x"}, sort_keys=True).encode()).hexdigest()[:12]
    tags = [store_rows_tags(store, r["id"]).get("tool_call") for r in store_rows(store)]
    assert tags == [f"search:{digest}"] * 4
    result = cli(
        "advise", "--store", store, "--since", "2026-10-01", "--until", "2026-10-31", "-f", "json"
    )
    (loop,) = [r for r in result.json()["recommendations"] if r["lever"] == "loop"]
    assert D(loop["monthly_saving"]) == monthly((5000 * D(3) + 100 * D(15)) / 1_000_000, 31)
