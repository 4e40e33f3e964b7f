"""OpenTelemetry GenAI spans and metrics as OTLP/JSON: one document, or the file exporter's
JSON Lines (one TracesData / MetricsData object per line).

Spans carry `gen_ai.usage.*` attributes: `input_tokens` SHOULD include cached tokens and
`output_tokens` SHOULD include reasoning tokens, so the disjoint buckets are the differences
(an Anthropic instrumentation that does not follow the SHOULD gives a negative difference; its
input is then taken as uncached). Older and neighbouring names are read where the current ones
are absent: `gen_ai.usage.prompt_tokens` / `completion_tokens` (semconv before 1.27),
`gen_ai.usage.cache_read_input_tokens` / `cache_creation_input_tokens` (OpenLLMetry) and
OpenInference's `llm.token_count.*`, `llm.model_name`, `llm.provider`.

Agent frameworks also put the sum of a run's usage on the run's own span (pydantic-ai's
`agent run`, Microsoft.Extensions.AI's `orchestrate_tools`): a span with usage whose
descendants in the same file carry usage too is such a sum and is skipped, so each call is
counted once, on its own span.

The session `advise` prices as one task: the span's `gen_ai.conversation.id` or `session.id`,
else its nearest ancestor's, else the one such id its trace carries, else the trace id (a
trace is one task when nothing names a longer conversation). Tool calls the model asked for
(`gen_ai.output.messages` tool_call parts, OpenInference `llm.output_messages.*.tool_calls`)
are kept as `name:hash-of-arguments` in the `tool_call` tag, never the arguments themselves;
without message content (opt-in), `execute_tool` spans that record their arguments stand in.

Metrics: delta `gen_ai.client.token.usage` histograms, one row per data point and token type.
No cost attribute exists: only list cost is computed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tokcli.importers.fields import (
    RowError,
    count,
    stable_key,
    text_or_none,
    utc_from_unix_nano,
)
from tokcli.importers.format import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.input_files import (
    JSONSyntaxError,
    Source,
    check_row_count,
    load_json,
    read_text,
)
from tokcli.importers.normalise import service_tier
from tokcli.store.usage import UsageRecord

NAME = "otlp"
TOKEN_METRIC = "gen_ai.client.token.usage"
DELTA = 1  # AggregationTemporality: 1 delta, 2 cumulative
_RESOURCE_TAGS = {
    "service.name": "service",
    "deployment.environment": "environment",
    "deployment.environment.name": "environment",
}
_SPAN_TAGS = {"user.id": "user", "gen_ai.agent.name": "agent"}
# What names the conversation a span belongs to, in order of preference.
_SESSION_KEYS = ("gen_ai.conversation.id", "session.id")
_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.")
RUN_TOTAL = "sum of its child spans' usage (counted on those spans)"
# Token attributes: the current name first, then older or OpenInference names.
_INPUT = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt")
_OUTPUT = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
)
_CACHE_READ = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
_CACHE_WRITE = (
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
)
_REASONING = (
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
)
_OPENINFERENCE_TOOL_CALL = re.compile(
    r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\."
    r"(name|arguments)$"
)


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    spans: list[_Span] = []
    for line, document in _documents(source):
        if not isinstance(document, dict):
            yield Parsed(line, error=RowError("expected an OTLP JSON object"))
            continue
        spans += _collect_spans(document, line)
        yield from _metrics(document, line)
    # Spans are turned into rows once the whole file is read: the file exporter often writes a
    # parent span (and the session it names) on a later line than its children.
    yield from _span_rows(spans)


def _documents(source: Source) -> Iterator[tuple[int | None, Any]]:
    content = read_text(source)
    depth = source.limits.json_depth
    try:
        yield None, load_json(content, path=source.name, max_depth=depth)
        return
    except JSONSyntaxError:
        pass  # the file exporter's form: one object per line
    for number, raw in enumerate(content.splitlines(), start=1):
        if raw.strip():
            check_row_count(number, source, number)
            yield number, load_json(raw, path=source.name, line=number, max_depth=depth)


def attributes(items: object) -> dict[str, Any]:
    """OTLP's `[{key, value: {stringValue|intValue|...}}]` as a plain dict."""
    result = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = item.get("value")
            result[item["key"]] = _any_value(value if isinstance(value, dict) else {})
    return result


def _any_value(value: dict[str, Any]) -> Any:
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return value[kind]
    array = value.get("arrayValue")
    if isinstance(array, dict) and isinstance(array.get("values"), list):
        return [_any_value(v) for v in array["values"] if isinstance(v, dict)]
    return None


@dataclass(slots=True)
class _Span:
    """What the file's span tree needs of one span; a span with usage also has its row (its
    session filled in once the whole file is read) or its error."""

    line: int | None
    key: tuple[str | None, str | None]  # (trace id, span id)
    parent_key: tuple[str | None, str | None]
    own_session: str | None
    outcome: Parsed | None  # None: no usage
    start: int | None  # unix nanoseconds
    end: int | None
    tool_run: str | None  # an execute_tool span's `name:hash` of its arguments


# The spans of one file by (trace id, span id), to walk from a span to its ancestors.
SpansByKey = dict[tuple[str | None, str | None], _Span]


def _text(value: object) -> str | None:
    return text_or_none(value) if isinstance(value, str | int) else None


def _own_session(attrs: dict[str, Any]) -> str | None:
    for key in _SESSION_KEYS:
        if _text(attrs.get(key)):
            return _text(attrs.get(key))
    return None


def _collect_spans(document: dict[str, Any], line: int | None) -> list[_Span]:
    spans = []
    for r_index, resource_spans in _objects(document, "resourceSpans"):
        resource = attributes(_object(resource_spans.get("resource")).get("attributes"))
        for s_index, scope in _objects(resource_spans, "scopeSpans"):
            for index, raw in _objects(scope, "spans"):
                where = f"resourceSpans[{r_index}].scopeSpans[{s_index}].spans[{index}]"
                attrs = attributes(raw.get("attributes"))
                trace = _text(raw.get("traceId"))
                has_usage = any(key.startswith(_USAGE_PREFIXES) for key in attrs)
                spans.append(
                    _Span(
                        line,
                        (trace, _text(raw.get("spanId"))),
                        (trace, _text(raw.get("parentSpanId"))),
                        _own_session(attrs),
                        _span_row(raw, attrs, resource, where, line) if has_usage else None,
                        _nanos(raw.get("startTimeUnixNano")),
                        _nanos(raw.get("endTimeUnixNano")),
                        None if has_usage else _tool_run(attrs),
                    )
                )
    return spans


def _span_rows(spans: list[_Span]) -> Iterator[Parsed]:
    by_key = {span.key: span for span in spans if span.key[1]}
    sums = _usage_sums(spans, by_key)
    trace_sessions: dict[str | None, set[str]] = {}
    for span in spans:
        if span.own_session:
            trace_sessions.setdefault(span.key[0], set()).add(span.own_session)
    _attach_tool_runs(spans, sums)
    for span in spans:
        if span.outcome is None:
            yield Parsed(span.line, skipped="span without gen_ai usage")
        elif id(span) in sums:
            yield Parsed(span.line, skipped=RUN_TOTAL)
        else:
            session = _session(span, by_key, trace_sessions)
            for record in span.outcome.records:
                if session:
                    record.tags["session"] = session
            yield span.outcome


def _nanos(value: object) -> int | None:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    return None


def _tool_run(attrs: dict[str, Any]) -> str | None:
    """An execute_tool span with its arguments recorded (`gen_ai.tool.call.arguments` is
    opt-in): `name:hash`, as a fingerprint of the call the model asked for."""
    name = _text(attrs.get("gen_ai.tool.name"))
    if not name or attrs.get("gen_ai.tool.call.arguments") is None:
        return None
    if attrs.get("gen_ai.operation.name") not in (None, "execute_tool"):
        return None
    return _fingerprint(name, attrs["gen_ai.tool.call.arguments"])


def _attach_tool_runs(spans: list[_Span], sums: set[int]) -> None:
    """Without message content (opt-in) a model call's tool requests show only as the
    execute_tool spans that follow it: each is credited to the last call of its trace that
    ended before the tool started, unless that call's own output messages named its tools."""
    calls: dict[str | None, list[tuple[int, UsageRecord]]] = {}
    for span in spans:
        records = span.outcome.records if span.outcome is not None else []
        untagged = records and "tool_call" not in records[0].tags
        if untagged and span.end is not None and id(span) not in sums:
            calls.setdefault(span.key[0], []).append((span.end, records[0]))
    found: dict[int, tuple[UsageRecord, list[str]]] = {}
    for tool in spans:
        if tool.tool_run is None or tool.start is None:
            continue
        ended = [(end, record) for end, record in calls.get(tool.key[0], []) if end <= tool.start]
        if ended:
            _, record = max(ended, key=lambda pair: pair[0])
            found.setdefault(id(record), (record, []))[1].append(tool.tool_run)
    for record, runs in found.values():
        record.tags["tool_call"] = "+".join(sorted(runs))


def _span_row(
    raw: dict[str, Any],
    attrs: dict[str, Any],
    resource: dict[str, Any],
    where: str,
    line: int | None,
) -> Parsed:
    try:
        record = _span_record(raw, attrs, resource)
    except RowError as error:
        error.field = f"{where}.{error.field}" if error.field else where
        return Parsed(line, error=error, raw=raw)
    return Parsed(line, records=[record])


def _ancestors(span: _Span, by_key: SpansByKey) -> Iterator[_Span]:
    seen = {id(span)}
    parent = by_key.get(span.parent_key)
    while parent is not None and id(parent) not in seen:  # a cycle in bad input stops here
        seen.add(id(parent))
        yield parent
        parent = by_key.get(parent.parent_key)


def _usage_sums(spans: list[_Span], by_key: SpansByKey) -> set[int]:
    """The spans with usage that have a descendant with usage: run totals, not calls."""
    sums: set[int] = set()
    for span in spans:
        if span.outcome is not None:
            sums.update(id(a) for a in _ancestors(span, by_key) if a.outcome is not None)
    return sums


def _session(
    span: _Span, by_key: SpansByKey, trace_sessions: dict[str | None, set[str]]
) -> str | None:
    if span.own_session:
        return span.own_session
    for ancestor in _ancestors(span, by_key):
        if ancestor.own_session:
            return ancestor.own_session
    named = trace_sessions.get(span.key[0], set())
    if len(named) == 1:
        return next(iter(named))
    return span.key[0]


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _objects(parent: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, object) for the objects of a list member; anything else in it is passed over."""
    items = parent.get(key)
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield index, item


def _span_record(
    raw: dict[str, Any], attrs: dict[str, Any], resource: dict[str, Any]
) -> UsageRecord:
    total_input = _int(attrs, *_INPUT)
    cache_read = _int(attrs, *_CACHE_READ)
    cache_write = _int(attrs, *_CACHE_WRITE)
    output = _int(attrs, *_OUTPUT)
    reasoning = _int(attrs, *_REASONING)
    uncached = total_input - cache_read - cache_write
    tags = _tags(attrs, resource)
    tool_call = _tool_call_fingerprint(attrs)
    if tool_call:
        tags["tool_call"] = tool_call
    return UsageRecord(
        record_key=stable_key(NAME, raw.get("traceId"), raw.get("spanId")),
        source=NAME,
        period_start=utc_from_unix_nano(raw.get("startTimeUnixNano"), "startTimeUnixNano"),
        period_end=utc_from_unix_nano(
            raw.get("endTimeUnixNano") or raw.get("startTimeUnixNano"), "endTimeUnixNano"
        ),
        provider=_provider(attrs, resource),
        model_raw=_model(attrs),
        service_tier=service_tier(
            attrs.get("openai.response.service_tier") or attrs.get("openai.request.service_tier")
        ),
        requests=1,
        input_tokens=uncached if uncached >= 0 else total_input,
        cache_read_tokens=cache_read,
        cache_write_5m_tokens=cache_write,
        output_tokens=output - reasoning if output >= reasoning else output,
        reasoning_tokens=reasoning,
        tags=tags,
    )


def _tool_call_fingerprint(attrs: dict[str, Any]) -> str | None:
    """`name:hash` of each tool call the model asked for (sorted, `+`-joined), as the Claude Code
    importer writes it: enough to see the same call repeat, without keeping the arguments."""
    calls = [_fingerprint(name, arguments) for name, arguments in _tool_calls(attrs)]
    return "+".join(sorted(calls)) or None


def _fingerprint(name: object, arguments: object) -> str:
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # not JSON: hashed as the text it is
            arguments = json.loads(arguments)
    text = json.dumps(arguments, sort_keys=True, default=str)
    return f"{name}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _tool_calls(attrs: dict[str, Any]) -> Iterator[tuple[object, object]]:
    """(name, arguments) of each tool call in the span's output messages."""
    messages = attrs.get("gen_ai.output.messages")
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except ValueError:
            messages = None
    for message in messages if isinstance(messages, list) else []:
        parts = message.get("parts") if isinstance(message, dict) else None
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, dict) and part.get("type") == "tool_call" and part.get("name"):
                yield part["name"], part.get("arguments")
    flattened: dict[tuple[int, int], dict[str, object]] = {}
    for key, value in attrs.items():
        match = _OPENINFERENCE_TOOL_CALL.match(key)
        if match:
            flattened.setdefault((int(match[1]), int(match[2])), {})[match[3]] = value
    for _, call in sorted(flattened.items()):
        if call.get("name"):
            yield call["name"], call.get("arguments")


def _int(attrs: dict[str, Any], *names: str) -> int:
    for name in names:
        if attrs.get(name) is not None:
            value = count(attrs[name], name)
            if value < 0:
                raise RowError("negative token count", name)
            return value
    return 0


def _provider(attrs: dict[str, Any], resource: dict[str, Any]) -> str | None:
    name = (
        attrs.get("gen_ai.provider.name")
        or attrs.get("gen_ai.system")
        or attrs.get("llm.provider")
        or attrs.get("llm.system")
    )
    if not name:
        return None
    # Dotted names put the provider first (azure.ai.openai, aws.bedrock, gcp.vertex_ai,
    # gcp.vertex.agent, openai.responses); tokcli names Google's cloud `google`.
    first = str(name).split(".")[0]
    return {"gcp": "google"}.get(first, first)


def _model(attrs: dict[str, Any]) -> str | None:
    for key in ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name"):
        value = attrs.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise RowError(f"expected a model name, got {value!r}", key)
        if text_or_none(value):
            return text_or_none(value)
    return None


def _tags(attrs: dict[str, Any], resource: dict[str, Any]) -> dict[str, str]:
    tags = {}
    for key, tag in _RESOURCE_TAGS.items():
        if resource.get(key):
            tags[tag] = str(resource[key])
    for key, tag in _SPAN_TAGS.items():
        if attrs.get(key) and tag:
            tags[tag] = str(attrs[key])
    for key, value in attrs.items():
        if key.startswith("tag.") and value is not None:
            tags[key.removeprefix("tag.")] = str(value)
    return tags


def _metrics(document: dict[str, Any], line: int | None) -> Iterator[Parsed]:
    for _, resource_metrics in _objects(document, "resourceMetrics"):
        resource = attributes(_object(resource_metrics.get("resource")).get("attributes"))
        for _, scope in _objects(resource_metrics, "scopeMetrics"):
            for _, metric in _objects(scope, "metrics"):
                yield from _metric_points(metric, resource, line)


def _metric_points(
    metric: dict[str, Any], resource: dict[str, Any], line: int | None
) -> Iterator[Parsed]:
    histogram = metric.get("histogram")
    points = []
    for kind in ("histogram", "sum", "gauge", "exponentialHistogram", "summary"):
        if isinstance(metric.get(kind), dict):
            points = [point for _, point in _objects(metric[kind], "dataPoints")]
    if metric.get("name") != TOKEN_METRIC or not isinstance(histogram, dict):
        for point in points:
            yield Parsed(line, skipped="metric other than gen_ai.client.token.usage", raw=point)
        return
    if histogram.get("aggregationTemporality") != DELTA:
        for point in points:
            yield Parsed(line, skipped="cumulative token histogram (export delta)", raw=point)
        return
    for point in points:
        try:
            yield Parsed(line, records=[_point_record(point, resource)], raw=point)
        except RowError as error:
            yield Parsed(line, error=error, raw=point)


def _point_record(point: dict[str, Any], resource: dict[str, Any]) -> UsageRecord:
    attrs = attributes(point.get("attributes"))
    total = count(point.get("sum"), "sum")
    kind = attrs.get("gen_ai.token.type")
    if kind not in ("input", "output"):
        raise RowError(f"gen_ai.token.type must be input or output, not {kind!r}", "attributes")
    return UsageRecord(
        record_key=stable_key(NAME, "metric", json.dumps(point, sort_keys=True, default=str)),
        source=NAME,
        period_start=utc_from_unix_nano(point.get("startTimeUnixNano"), "startTimeUnixNano"),
        period_end=utc_from_unix_nano(point.get("timeUnixNano"), "timeUnixNano"),
        provider=_provider(attrs, resource),
        model_raw=_model(attrs),
        requests=count(point.get("count"), "count") if kind == "input" else 0,
        input_tokens=total if kind == "input" else 0,
        output_tokens=total if kind == "output" else 0,
        tags=_tags(attrs, resource),
    )


FORMAT = Format(NAME, "OpenTelemetry GenAI spans / metrics (OTLP JSON)", parse, APPEND_ONLY)
