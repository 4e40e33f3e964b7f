"""OpenTelemetry GenAI spans and metrics as OTLP/JSON: one document, or the file exporter's
JSON Lines (one TracesData / MetricsData object per line).

Spans carry `gen_ai.usage.*` attributes: `input_tokens` SHOULD include cached tokens and
`output_tokens` SHOULD include reasoning tokens, so the disjoint buckets are the differences
(an Anthropic instrumentation that does not follow the SHOULD gives a negative difference; its
input is then taken as uncached). Metrics: delta `gen_ai.client.token.usage` histograms, one
row per data point and token type. No cost attribute exists: only list cost is computed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tokcli.importers.base import APPEND_ONLY, Format, Options, Parsed
from tokcli.importers.common import service_tier
from tokcli.importers.reading import (
    JSONSyntaxError,
    Source,
    check_row_count,
    load_json,
    read_text,
)
from tokcli.importers.values import (
    RowError,
    count,
    stable_key,
    text_or_none,
    utc_from_unix_nano,
)
from tokcli.store.usage import UsageRecord

NAME = "otlp"
TOKEN_METRIC = "gen_ai.client.token.usage"
DELTA = 1  # AggregationTemporality: 1 delta, 2 cumulative
_RESOURCE_TAGS = {
    "service.name": "service",
    "deployment.environment": "environment",
    "deployment.environment.name": "environment",
}
# A conversation is what `advise` prices as one agent session.
_SPAN_TAGS = {"user.id": "user", "gen_ai.agent.name": "agent", "gen_ai.conversation.id": "session"}


def parse(source: Source, options: Options) -> Iterator[Parsed]:
    for line, document in _documents(source):
        if not isinstance(document, dict):
            yield Parsed(line, error=RowError("expected an OTLP JSON object"))
            continue
        yield from _spans(document, line)
        yield from _metrics(document, line)


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
    for item in items or []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            value = item.get("value")
            result[item["key"]] = _any_value(value if isinstance(value, dict) else {})
    return result


def _any_value(value: dict) -> Any:
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return value[kind]
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _spans(document: dict, line: int | None) -> Iterator[Parsed]:
    for r_index, resource_spans in _objects(document, "resourceSpans"):
        resource = attributes(_object(resource_spans.get("resource")).get("attributes"))
        for s_index, scope in _objects(resource_spans, "scopeSpans"):
            for index, span in _objects(scope, "spans"):
                where = f"resourceSpans[{r_index}].scopeSpans[{s_index}].spans[{index}]"
                try:
                    outcome = _span_record(span, resource)
                except RowError as error:
                    error.field = f"{where}.{error.field}" if error.field else where
                    yield Parsed(line, error=error, raw=span)
                    continue
                if isinstance(outcome, str):
                    yield Parsed(line, skipped=outcome, raw=span)
                else:
                    yield Parsed(line, records=[outcome], raw=span)


def _object(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _objects(parent: dict, key: str) -> Iterator[tuple[int, dict]]:
    """(index, object) for the objects of a list member; anything else in it is passed over."""
    items = parent.get(key)
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            yield index, item


def _span_record(span: dict, resource: dict) -> UsageRecord | str:
    attrs = attributes(span.get("attributes"))
    if not any(key.startswith("gen_ai.usage.") for key in attrs):
        return "span without gen_ai usage"
    total_input = _int(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    cache_read = _int(attrs, "gen_ai.usage.cache_read.input_tokens")
    cache_write = _int(attrs, "gen_ai.usage.cache_creation.input_tokens")
    output = _int(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    reasoning = _int(attrs, "gen_ai.usage.reasoning.output_tokens")
    uncached = total_input - cache_read - cache_write
    record = UsageRecord(
        record_key=stable_key(NAME, span.get("traceId"), span.get("spanId")),
        source=NAME,
        period_start=utc_from_unix_nano(span.get("startTimeUnixNano"), "startTimeUnixNano"),
        period_end=utc_from_unix_nano(
            span.get("endTimeUnixNano") or span.get("startTimeUnixNano"), "endTimeUnixNano"
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
        tags=_tags(attrs, resource),
    )
    return record


def _int(attrs: dict, *names: str) -> int:
    for name in names:
        if attrs.get(name) is not None:
            value = count(attrs[name], name)
            if value < 0:
                raise RowError("negative token count", name)
            return value
    return 0


def _provider(attrs: dict, resource: dict) -> str | None:
    name = attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")
    if not name:
        return None
    name = str(name)
    return {"azure.ai.openai": "azure", "aws.bedrock": "aws", "gcp.vertex_ai": "google"}.get(
        name, str(name).split(".")[0]
    )


def _model(attrs: dict) -> str | None:
    for key in ("gen_ai.response.model", "gen_ai.request.model"):
        value = attrs.get(key)
        if value is not None and not isinstance(value, str | int | float):
            raise RowError(f"expected a model name, got {value!r}", key)
        if text_or_none(value):
            return text_or_none(value)
    return None


def _tags(attrs: dict, resource: dict) -> dict[str, str]:
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


def _metrics(document: dict, line: int | None) -> Iterator[Parsed]:
    for _, resource_metrics in _objects(document, "resourceMetrics"):
        resource = attributes(_object(resource_metrics.get("resource")).get("attributes"))
        for _, scope in _objects(resource_metrics, "scopeMetrics"):
            for _, metric in _objects(scope, "metrics"):
                yield from _metric_points(metric, resource, line)


def _metric_points(metric: dict, resource: dict, line: int | None) -> Iterator[Parsed]:
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


def _point_record(point: dict, resource: dict) -> UsageRecord:
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
