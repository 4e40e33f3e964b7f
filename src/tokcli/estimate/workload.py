"""Workload mode: traffic x tokens per call x models, priced per month, and the levers.

A workload file (YAML) says how many calls are made (users x turns, requests, or tasks x calls
per task), what each call sends (system prompt, history growing per turn, retrieved context,
user message) and receives (output, hidden reasoning), and on which model or routing mix.

Levers change that picture. Each lever's saving is shown on its own (lever alone on the
baseline) and in sequence (on what the levers before it left); the sequence savings add up to
the combined saving, and the alone savings are never added up.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import NoReturn

from tokcli.cost import Usage, compute_cost
from tokcli.errors import InputError, PriceNotAvailableError, UnknownModelError
from tokcli.money import MONEY_CONTEXT, ZERO, plain
from tokcli.pricing.model import SERVICE_TIERS, as_moment

ONE, HUNDRED = Decimal(1), Decimal(100)
TRAFFIC_KEYS = (
    "users", "turns_per_user_per_day", "requests_per_day", "requests_per_month",
    "tasks_per_day", "tasks_per_month", "calls_per_task",
)  # fmt: skip
PER_CALL_KEYS = (
    "system_prompt", "history_per_turn", "turns_per_conversation", "retrieved_context",
    "user_message", "output", "reasoning",
)  # fmt: skip
TIGHTENABLE = ("system_prompt", "retrieved_context", "user_message", "history_per_turn")
LEVERS = (
    "semantic_cache", "prompt_tightening", "history_truncation", "history_summarisation",
    "output_cap", "routing", "prompt_caching", "batch",
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """Everything that sets the monthly bill. Levers return a changed copy."""

    monthly_calls: Decimal
    system_prompt: Decimal
    history_per_turn: Decimal
    turns: int  # turns (or agent steps) per conversation: history grows over them
    retrieved_context: Decimal
    user_message: Decimal
    output: Decimal
    reasoning: Decimal
    routes: tuple[tuple[str, Decimal], ...]  # (model id, share of calls), shares sum to 1
    service_tier: str = "standard"
    history_keep: int | None = None  # keep only the last N turns of history
    summary_tokens: Decimal = ZERO  # a summary standing in for the dropped turns
    cache_hit_rate: Decimal = ZERO  # share of calls reading the system prompt from cache
    batch_share: Decimal = ZERO  # share of calls sent through the batch tier
    off_peak_share: Decimal = ZERO  # share of calls run in the provider's off-peak hours

    def average_history(self) -> Decimal:
        """History tokens per call, averaged over the turns of a conversation: turn t carries
        the t - 1 turns before it (or the last `history_keep` of them, plus a summary)."""
        total = ZERO
        for earlier in range(self.turns):
            kept = earlier if self.history_keep is None else min(earlier, self.history_keep)
            total += self.history_per_turn * kept
            if self.history_keep is not None and earlier > self.history_keep:
                total += self.summary_tokens
        with decimal.localcontext(MONEY_CONTEXT):
            return total / self.turns

    def input_per_call(self) -> Decimal:
        return (
            self.system_prompt
            + self.average_history()
            + self.retrieved_context
            + (self.user_message)
        )


@dataclass(frozen=True)
class Lever:
    kind: str
    settings: dict
    line: int | None  # None: the workload is not a YAML file that knows its lines

    def describe(self) -> str:
        if self.kind == "routing":
            mix = "/".join(f"{plain(share * HUNDRED)}% {m}" for m, share in self.settings["routes"])
            return f"routing {mix}"
        values = ", ".join(
            f"{k} {'+'.join(v) if isinstance(v, list) else plain(Decimal(v))}"
            for k, v in sorted(self.settings.items())
        )
        return f"{self.kind.replace('_', ' ')} ({values})"


@dataclass(frozen=True)
class Workload:
    path: Path
    name: str
    scenario: Scenario
    days_per_month: int
    levers: tuple[Lever, ...]
    calls_per_task: int | None = None
    model_line: int | None = None  # where `model:` or `routing:` is, for unknown-model errors


@dataclass
class ScenarioCost:
    monthly_calls: Decimal
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    input_cost: Decimal
    output_cost: Decimal
    per_model: list[dict]
    notes: list[str]

    @property
    def total(self) -> Decimal:
        with decimal.localcontext(MONEY_CONTEXT):
            return self.input_cost + self.output_cost


# -- reading the file ------------------------------------------------------------------------


def load_workload(path: Path) -> Workload:
    from tokcli.pricing.yamlfile import load_yaml

    document = load_yaml(path)
    reader = _Reader(path)
    root = reader.mapping(document, None, "(top level)")
    reader.only(
        root,
        {
            "name",
            "description",
            "model",
            "routing",
            "service_tier",
            "days_per_month",
            "traffic",
            "per_call",
            "levers",
            "off_peak_share",
        },
        "",
    )
    days = reader.whole(root, "days_per_month", default=30, minimum=1)
    traffic = reader.mapping(root.get("traffic"), root, "traffic")
    per_call = reader.mapping(root.get("per_call"), root, "per_call")
    reader.only(traffic, set(TRAFFIC_KEYS), "traffic.")
    reader.only(per_call, set(PER_CALL_KEYS), "per_call.")
    monthly_calls, turns_default, calls_per_task = _traffic(reader, traffic, days)
    tier = root.get("service_tier", "standard")
    if tier not in SERVICE_TIERS:
        reader.fail(f"must be one of {', '.join(SERVICE_TIERS)}", root, "service_tier")
    scenario = Scenario(
        monthly_calls=monthly_calls,
        system_prompt=reader.amount(per_call, "system_prompt"),
        history_per_turn=reader.amount(per_call, "history_per_turn"),
        turns=reader.whole(per_call, "turns_per_conversation", default=turns_default, minimum=1),
        retrieved_context=reader.amount(per_call, "retrieved_context"),
        user_message=reader.amount(per_call, "user_message"),
        output=reader.amount(per_call, "output"),
        reasoning=reader.amount(per_call, "reasoning"),
        routes=_routes(reader, root),
        service_tier=tier,
        off_peak_share=(
            reader.fraction(root, "off_peak_share", "off_peak_share")
            if root.get("off_peak_share") is not None
            else ZERO
        ),
    )
    levers = tuple(_levers(reader, root))
    name = str(root.get("name") or path.stem)
    model_line = reader.line(root, "model" if "model" in root else "routing")
    return Workload(path, name, scenario, days, levers, calls_per_task, model_line)


def _traffic(reader: _Reader, traffic: dict, days: int) -> tuple[Decimal, int, int | None]:
    """(calls per month, default turns per conversation, calls per task)."""
    given = [
        k
        for k in (
            "users",
            "requests_per_day",
            "requests_per_month",
            "tasks_per_day",
            "tasks_per_month",
        )
        if k in traffic
    ]
    if len(given) != 1:
        reader.fail(
            "give exactly one of users (with turns_per_user_per_day), requests_per_day, "
            "requests_per_month, tasks_per_day or tasks_per_month (with calls_per_task)",
            traffic,
            given[1] if len(given) > 1 else None,
        )
    kind = given[0]
    count = reader.amount(traffic, kind, required=True)
    if kind == "users":
        turns = reader.whole(traffic, "turns_per_user_per_day", required=True, minimum=1)
        return count * turns * days, turns, None
    if kind.startswith("tasks"):
        calls = reader.whole(traffic, "calls_per_task", required=True, minimum=1)
        per_month = count * calls * (days if kind == "tasks_per_day" else 1)
        return per_month, calls, calls
    return (count * days if kind == "requests_per_day" else count), 1, None


def _routes(reader: _Reader, root: dict) -> tuple[tuple[str, Decimal], ...]:
    if ("model" in root) == ("routing" in root):
        reader.fail("give either model (one model) or routing (a mix)", root, "model")
    if "model" in root:
        return ((reader.text(root, "model"), ONE),)
    return reader.shares(root, "routing")


def _levers(reader: _Reader, root: dict):
    items = root.get("levers") or []
    if not isinstance(items, list):
        reader.fail("must be a list of levers, each `- name: {settings}`", root, "levers")
    for index, item in enumerate(items):
        where = f"levers[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            reader.fail("each lever is one `name: {settings}` mapping", root, "levers", where)
        kind, settings = next(iter(item.items()))
        kind = "history_summarisation" if kind == "history_summarization" else kind
        line = getattr(item, "line", None) or reader.line(root, "levers")
        if kind not in LEVERS:
            raise InputError(
                f"unknown lever {kind!r}; levers: {', '.join(LEVERS)}",
                path=str(reader.path),
                line=line,
                field=where,
            )
        reader.mapping(settings, item, f"{where}.{kind}")
        settings = _lever_settings(reader, kind, item, f"{where}.{kind}")
        yield Lever(kind, settings, line)


def _lever_settings(reader: _Reader, kind: str, item: dict, where: str) -> dict:
    """Validate one lever's settings up front, so a bad lever fails before any output.
    `item` is the one-key mapping `kind: {settings}` from the levers list."""
    key = next(iter(item))
    settings = item[key]
    if kind == "routing":  # model -> percent
        return {"routes": reader.shares(item, key, where=where)}
    expected = {
        "semantic_cache": {"hit_rate"},
        "prompt_tightening": {"percent", "applies_to"},
        "history_truncation": {"turns"},
        "history_summarisation": {"turns", "summary_tokens"},
        "output_cap": {"tokens"},
        "prompt_caching": {"hit_rate"},
        "batch": {"share"},
    }[kind]
    reader.only(settings, expected, f"{where}.")
    result: dict = {}
    for key in expected - {"applies_to"}:
        if key in ("hit_rate", "share"):
            result[key] = reader.fraction(settings, key, where)
        elif key == "percent":
            result[key] = reader.amount(settings, key, required=True, high=HUNDRED)
        else:
            result[key] = reader.whole(settings, key, required=True)
    if kind == "prompt_tightening":
        applies = settings.get("applies_to", ["system_prompt"])
        if not isinstance(applies, list) or not set(applies) <= set(TIGHTENABLE) or not applies:
            reader.fail(f"must be a list of {', '.join(TIGHTENABLE)}", settings, "applies_to")
        result["applies_to"] = applies
    return result


# -- levers ------------------------------------------------------------------------------------


def apply_lever(scenario: Scenario, lever: Lever) -> Scenario:
    s = lever.settings
    if lever.kind == "semantic_cache":  # answered from the cache: the call is never made
        with decimal.localcontext(MONEY_CONTEXT):
            return replace(scenario, monthly_calls=scenario.monthly_calls * (ONE - s["hit_rate"]))
    if lever.kind == "prompt_tightening":
        keep = ONE - s["percent"] / HUNDRED
        return replace(scenario, **{k: getattr(scenario, k) * keep for k in s["applies_to"]})
    if lever.kind == "history_truncation":
        return replace(scenario, history_keep=s["turns"], summary_tokens=ZERO)
    if lever.kind == "history_summarisation":
        return replace(
            scenario, history_keep=s["turns"], summary_tokens=Decimal(s["summary_tokens"])
        )
    if lever.kind == "output_cap":
        return replace(scenario, output=min(scenario.output, Decimal(s["tokens"])))
    if lever.kind == "routing":
        return replace(scenario, routes=s["routes"])
    if lever.kind == "prompt_caching":
        return replace(scenario, cache_hit_rate=s["hit_rate"])
    if lever.kind == "batch":
        return replace(scenario, batch_share=s["share"])
    raise ValueError(lever.kind)  # load_workload accepts only known levers


# -- pricing -----------------------------------------------------------------------------------


def price_scenario(scenario: Scenario, registry, at: dt.date, lever: Lever | None = None):
    """The monthly bill of a scenario. Expected token counts are rounded to whole tokens per
    bucket (a fraction of a token is never billed); money is exact from there."""
    cost = ScenarioCost(scenario.monthly_calls, 0, 0, 0, ZERO, ZERO, [], [])
    tiers = [(scenario.service_tier, ONE - scenario.batch_share)]
    if scenario.batch_share > 0:
        tiers = [
            (scenario.service_tier, ONE - scenario.batch_share),
            ("batch", scenario.batch_share),
        ]
    for model_name, share in scenario.routes:
        model = registry.get(model_name)
        prefix = _cached_prefix(scenario, model, at, cost.notes)
        model_cost = ZERO
        for tier, tier_share in tiers:
            if tier_share == 0:
                continue
            for moment, time_share in _times_of_day(scenario, model, at, cost.notes):
                with decimal.localcontext(MONEY_CONTEXT):
                    calls = scenario.monthly_calls * share * tier_share * time_share
                usage = _usage(scenario, calls, prefix)
                try:
                    breakdown = compute_cost(usage, model, moment, tier)
                except PriceNotAvailableError as exc:
                    where = f" (lever {lever.kind}, line {lever.line})" if lever else ""
                    raise PriceNotAvailableError(f"{exc}{where}") from None
                _add(cost, usage, breakdown)
                model_cost += breakdown.total
        cost.per_model.append({"model": model.id, "share": share, "monthly_cost": model_cost})
    return cost


def _times_of_day(scenario: Scenario, model, at: dt.date, notes: list[str]):
    """(moment, share of calls): peak/list prices for a date, plus an off-peak moment of that day
    for `off_peak_share` of the calls when the model has time-of-day prices."""
    share = scenario.off_peak_share
    if share == 0:
        return [(at, ONE)]
    entry = model.entry_at(as_moment(at))
    if entry.time_of_day is None:
        note = f"{model.id}: no off-peak prices; off_peak_share priced at the list price"
        if note not in notes:
            notes.append(note)
        return [(at, ONE)]
    for hour in range(24):
        moment = dt.datetime(at.year, at.month, at.day, hour, 30, tzinfo=dt.UTC)
        if entry.time_of_day.is_off_peak(moment):
            note = f"{model.id}: {plain(share * HUNDRED)}% of calls at off-peak prices"
            if note not in notes:
                notes.append(note)
            return [(at, ONE - share), (moment, share)]
    return [(at, ONE)]


def _cached_prefix(scenario: Scenario, model, at: dt.date, notes: list[str]) -> Decimal:
    """The system prompt is the stable prefix; caching needs it at the model's minimum."""
    if scenario.cache_hit_rate == 0 or scenario.system_prompt == 0:
        return ZERO
    minimum = model.min_cacheable_at(model.entry_at(as_moment(at)))
    if minimum is not None and scenario.system_prompt < minimum:
        note = (
            f"{model.id}: system prompt of {plain(scenario.system_prompt)} tokens is below "
            f"the minimum cacheable {minimum:,}: not cached"
        )
        if note not in notes:
            notes.append(note)
        return ZERO
    return scenario.system_prompt


def _usage(scenario: Scenario, calls: Decimal, prefix: Decimal) -> Usage:
    hit = scenario.cache_hit_rate if prefix else ZERO
    with decimal.localcontext(MONEY_CONTEXT):
        uncached = calls * (scenario.input_per_call() - prefix)
        return Usage(
            input_tokens=_whole(uncached),
            cache_read_tokens=_whole(calls * prefix * hit),
            cache_write_5m_tokens=_whole(calls * prefix * (ONE - hit)),
            output_tokens=_whole(calls * scenario.output),
            reasoning_tokens=_whole(calls * scenario.reasoning),
            requests=max(_whole(calls), 1),
        )


def _add(cost: ScenarioCost, usage: Usage, breakdown) -> None:
    cost.input_tokens += usage.total_input
    cost.output_tokens += usage.output_tokens
    cost.reasoning_tokens += usage.reasoning_tokens
    with decimal.localcontext(MONEY_CONTEXT):
        for line in breakdown.lines:
            if line.bucket in ("output", "reasoning"):
                cost.output_cost += line.cost
            else:
                cost.input_cost += line.cost
    for note in breakdown.notes:
        if note not in cost.notes:
            cost.notes.append(note)


MAX_AMOUNT = Decimal(10) ** 15


def _whole(tokens: Decimal) -> int:
    return int(tokens.to_integral_value(rounding=ROUND_HALF_EVEN))


# -- the whole analysis ------------------------------------------------------------------------


@dataclass
class LeverResult:
    lever: Lever
    alone: ScenarioCost
    after: ScenarioCost  # cost once this lever and all before it are applied
    saving_alone: Decimal
    saving_in_sequence: Decimal


@dataclass
class Analysis:
    workload: Workload
    at: dt.date
    baseline: ScenarioCost
    levers: list[LeverResult]
    combined: ScenarioCost

    @property
    def saving(self) -> Decimal:
        return self.baseline.total - self.combined.total


def analyse(workload: Workload, registry, at: dt.date) -> Analysis:
    base = workload.scenario
    baseline = price_scenario(base, registry, at)
    results = []
    current, current_cost = base, baseline
    for lever in workload.levers:
        alone = price_scenario(apply_lever(base, lever), registry, at, lever)
        current = apply_lever(current, lever)
        after = price_scenario(current, registry, at, lever)
        with decimal.localcontext(MONEY_CONTEXT):
            results.append(
                LeverResult(
                    lever,
                    alone,
                    after,
                    baseline.total - alone.total,
                    current_cost.total - after.total,
                )
            )
        current_cost = after
    return Analysis(workload, at, baseline, results, current_cost)


def check_models(workload: Workload, registry) -> None:
    """Unknown models fail before anything is priced, naming the file and line."""
    for lever in workload.levers:
        for name, _ in lever.settings.get("routes", ()):
            _known(registry, name, workload.path, lever.line)
    for name, _ in workload.scenario.routes:
        _known(registry, name, workload.path, workload.model_line)


def _known(registry, name: str, path: Path, line: int | None) -> None:
    try:
        registry.get(name)
    except UnknownModelError as exc:
        raise InputError(str(exc), path=str(path), line=line, field="model") from None


# -- YAML reading with file:line errors --------------------------------------------------------


class _Reader:
    def __init__(self, path: Path):
        self.path = path

    def line(self, node, key: str | None) -> int | None:
        if node is None:
            return None
        if key is not None and hasattr(node, "line_of"):
            return node.line_of(key)
        return getattr(node, "line", None)

    def fail(self, message: str, node, key: str | None, field: str | None = None) -> NoReturn:
        raise InputError(
            message, path=str(self.path), line=self.line(node, key), field=field or key
        )

    def mapping(self, value, parent, key: str) -> dict:
        if value is None and parent is not None:
            self.fail("is required", parent, key.rsplit(".", 1)[-1], key)
        if not isinstance(value, dict):
            self.fail(
                "must be a mapping (key: value)",
                parent if parent is not None else value,
                key.rsplit(".", 1)[-1] if parent is not None else None,
                key,
            )
        return value

    def only(self, node: dict, allowed: set, prefix: str) -> None:
        for key in node:
            if key not in allowed:
                self.fail(
                    f"unknown key; expected one of {', '.join(sorted(allowed))}",
                    node,
                    key,
                    f"{prefix}{key}",
                )

    def amount(self, node: dict, key: str, *, required=False, high: Decimal | None = None):
        value = node.get(key)
        if value is None:
            if required:
                self.fail("is required", node, key)
            return ZERO
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail("must be a number", node, key)
        try:
            number = Decimal(str(value))  # YAML numbers as written, never via binary floats
        except decimal.InvalidOperation:
            self.fail("must be a number", node, key)
        # No workload needs more than 10^15 of anything; beyond that a typo (1e400) would
        # overflow the money arithmetic rather than mean something.
        high = MAX_AMOUNT if high is None else high
        if not number.is_finite() or number < 0 or number > high:
            self.fail(f"must be between 0 and {high:,}", node, key)
        return number

    def whole(self, node: dict, key: str, *, required=False, default=None, minimum=0):
        value = node.get(key, default)
        if value is None:
            if required:
                self.fail("is required", node, key)
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(f"must be a whole number >= {minimum}", node, key)
        return value

    def fraction(self, node: dict, key: str, where: str) -> Decimal:
        return self.amount(node, key, required=True, high=ONE)

    def text(self, node: dict, key: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail("must be a model id", node, key)
        return value

    def shares(self, node: dict, key: str, where: str | None = None):
        """`model: percent` pairs summing to 100 -> ((model, share 0..1), ...)."""
        mix = node.get(key)
        if not isinstance(mix, dict) or not mix:
            self.fail(
                "must map model ids to percentages, e.g. {gpt-5-mini: 70, gpt-5: 30}",
                node,
                key,
                where,
            )
        routes = []
        for model in mix:
            routes.append((str(model), self.amount(mix, model, required=True, high=HUNDRED)))
        total = sum((p for _, p in routes), ZERO)
        if total != HUNDRED:
            self.fail(f"percentages must add up to 100, not {plain(total)}", node, key, where)
        return tuple((model, percent / HUNDRED) for model, percent in routes)
