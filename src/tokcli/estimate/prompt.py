"""Prompt mode: a prompt file (or text) rendered, measured in tokens per model, and priced.

The stable prefix -- what prompt caching can serve -- is the prompt up to its first template
expression: everything before it is the same on every call. A prompt without any template
expression is stable as a whole.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tokcli.estimate.call import DEFAULT_OUTPUT_TOKENS, CallCost, CallShape, price_call
from tokcli.frozen import Frozen, Record
from tokcli.money import MONEY_CONTEXT, plain
from tokcli.pricing.model import Model
from tokcli.prompts.settings import PromptSettings

if TYPE_CHECKING:  # rendering (templating, YAML) is imported when a prompt is read: start-up
    from tokcli.prompts import PromptSource, RenderedPrompt

# ChatML framing that OpenAI documents for chat requests: each message costs a few tokens
# beyond its content, and the reply is primed with a few more. Other providers frame messages
# similarly; tokcli states the figure rather than hiding it.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3
MESSAGE_KINDS = ("chat", "prompty", "dotprompt")
_NO_NOTES: tuple[str, ...] = ()  # shared by every result without notes


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class MeasuredPrompt(Record):
    """A prompt ready to price: its rendered text and stable prefix, independent of model."""

    path: str | None  # None for --text / --input-tokens
    rendered: RenderedPrompt | None
    prefix_text: str
    settings: PromptSettings
    source: PromptSource | None = None
    framed_messages: int = 0  # messages that carry per-message framing tokens
    fixed_input_tokens: int | None = None  # --input-tokens: no text to count

    def __init__(
        self,
        path: str | None,
        rendered: RenderedPrompt | None,
        prefix_text: str,
        settings: PromptSettings,
        source: PromptSource | None = None,
        framed_messages: int = 0,
        fixed_input_tokens: int | None = None,
    ) -> None:
        self.path, self.rendered, self.prefix_text = path, rendered, prefix_text
        self.settings, self.source, self.framed_messages = settings, source, framed_messages
        self.fixed_input_tokens = fixed_input_tokens


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class CallOptions(Frozen):
    """What the command line says about every call (None: take it from the prompt)."""

    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    reasoning_multiplier: Decimal | None = None
    cache_hit_rate: Decimal | None = None
    cached_tokens: int | None = None
    cache_ttl: str = "5m"
    service_tier: str = "standard"

    def __init__(
        self,
        output_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        reasoning_multiplier: Decimal | None = None,
        cache_hit_rate: Decimal | None = None,
        cached_tokens: int | None = None,
        cache_ttl: str = "5m",
        service_tier: str = "standard",
    ) -> None:
        self.__dict__.update(
            output_tokens=output_tokens,
            reasoning_tokens=reasoning_tokens,
            reasoning_multiplier=reasoning_multiplier,
            cache_hit_rate=cache_hit_rate,
            cached_tokens=cached_tokens,
            cache_ttl=cache_ttl,
            service_tier=service_tier,
        )


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class PromptEstimate(Record):
    """One measured prompt priced on one model: tokens, where the output size came from, the
    cost per call and, with a volume, the calls per month."""

    prompt: MeasuredPrompt
    model: Model
    input_tokens: int
    exact: bool
    method: str
    output_tokens: int
    output_source: str
    call: CallCost
    monthly_requests: int | None = None
    notes: list[str] = field(default_factory=list)

    def __init__(
        self,
        prompt: MeasuredPrompt,
        model: Model,
        input_tokens: int,
        exact: bool,
        method: str,
        output_tokens: int,
        output_source: str,
        call: CallCost,
        monthly_requests: int | None = None,
        notes: list[str] | None = None,
    ) -> None:
        self.prompt, self.model, self.input_tokens, self.exact = prompt, model, input_tokens, exact
        self.method, self.output_tokens, self.output_source = method, output_tokens, output_source
        self.call, self.monthly_requests = call, monthly_requests
        self.notes = [] if notes is None else notes

    @property
    def monthly_cost(self) -> Decimal | None:
        if self.monthly_requests is None:
            return None
        with decimal.localcontext(MONEY_CONTEXT):
            return self.call.cost_per_call * self.monthly_requests


def measure_source(source: PromptSource, variables: dict, limits=None) -> MeasuredPrompt:
    """`limits`: a RenderLimits (None: the environment's or the default)."""
    from tokcli.prompts import prompt_settings, render_prompt

    rendered = render_prompt(source, variables, limits=limits)
    framed = len(rendered.messages) if source.kind in MESSAGE_KINDS else 0
    return MeasuredPrompt(
        path=str(source.path),
        rendered=rendered,
        prefix_text=stable_prefix(source),
        settings=prompt_settings(source),
        source=source,
        framed_messages=framed,
    )


def measure_tokens(input_tokens: int) -> MeasuredPrompt:
    """A call described only by its input size (`--input-tokens`)."""
    return MeasuredPrompt(None, None, "", PromptSettings(), fixed_input_tokens=input_tokens)


def stable_prefix(source: PromptSource) -> str:
    """The literal text before the prompt's first template expression, joined like the
    rendered messages are."""
    from tokcli.prompts.templating import FORMAT_FIELD, JINJA_SYNTAX

    if source.messages is not None:
        contents = [m.content for m in source.messages]
    else:
        contents = [source.body]
    syntax = [FORMAT_FIELD] if source.kind == "format" else [JINJA_SYNTAX]
    parts = []
    for content in contents:
        starts = [m.start() for pattern in syntax if (m := pattern.search(content))]
        if starts:
            parts.append(content[: min(starts)])
            break
        parts.append(content)
    return "\n".join(parts)


def estimate_prompt(
    prompt: MeasuredPrompt,
    model: Model,
    at: dt.date,
    options: CallOptions,
    monthly_requests: int | None,
    counter,
) -> PromptEstimate:
    """Price one measured prompt on one model. `counter(text, model)` returns a TokenCount."""
    notes: list[str] = []
    if prompt.fixed_input_tokens is not None:
        input_tokens, exact, method, prefix = prompt.fixed_input_tokens, True, "given", 0
    elif prompt.rendered is None:  # a MeasuredPrompt carries a rendered text or a token count
        raise ValueError(f"{prompt.path}: neither a rendered prompt nor fixed input tokens")
    else:
        count = counter(prompt.rendered.text, model)
        input_tokens, exact, method = count.tokens, count.exact, count.method
        if prompt.framed_messages:
            input_tokens += TOKENS_PER_MESSAGE * prompt.framed_messages + TOKENS_PER_REPLY
            method += (
                f" + {TOKENS_PER_MESSAGE} per message and {TOKENS_PER_REPLY} per reply (framing)"
            )
        prefix = counter(prompt.prefix_text, model).tokens if prompt.prefix_text else 0
    if options.cached_tokens is not None:
        prefix = options.cached_tokens
    hit_rate = options.cache_hit_rate
    if hit_rate is None:
        hit_rate = Decimal(1) if options.cached_tokens is not None else Decimal(0)
    output_tokens, output_source = _output_tokens(prompt, options)
    reasoning = _reasoning_tokens(options, output_tokens)
    shape = CallShape(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning,
        prefix_tokens=min(prefix, input_tokens),
        cache_hit_rate=hit_rate,
        cache_ttl=options.cache_ttl,
        caching=options.cache_hit_rate is not None or options.cached_tokens is not None,
    )
    if prefix > input_tokens:
        notes.append(f"cached tokens ({prefix:,}) exceed the input ({input_tokens:,}): capped")
    call = price_call(model, at, shape, options.service_tier)
    notes.extend(call.notes)
    return PromptEstimate(
        prompt,
        model,
        input_tokens,
        exact,
        method,
        output_tokens,
        output_source,
        call,
        monthly_requests,
        notes,
    )


def _output_tokens(prompt: MeasuredPrompt, options: CallOptions) -> tuple[int, str]:
    if options.output_tokens is not None:
        return options.output_tokens, "--output-tokens"
    if prompt.settings.max_tokens is not None:
        return prompt.settings.max_tokens, "front matter max_tokens"
    return DEFAULT_OUTPUT_TOKENS, f"default ({DEFAULT_OUTPUT_TOKENS})"


def _reasoning_tokens(options: CallOptions, output_tokens: int) -> int:
    if options.reasoning_tokens is not None:
        return options.reasoning_tokens
    if options.reasoning_multiplier is not None:
        # Whole tokens: a fraction of a token is never billed.
        value = (options.reasoning_multiplier * output_tokens).to_integral_value(
            rounding=decimal.ROUND_HALF_EVEN
        )
        return int(value)
    return 0


def result_dict(estimate: PromptEstimate) -> dict:
    """One entry of the JSON `results` list: the contract scripts and the CI gate read."""
    call = estimate.call
    data: dict[str, Any] = {
        "path": estimate.prompt.path,
        "model": estimate.model.id,
        "provider": estimate.model.provider,
        "input_tokens": estimate.input_tokens,
        "exact": estimate.exact,
        "token_method": estimate.method,
        "output_tokens": estimate.output_tokens,
        "output_tokens_from": estimate.output_source,
        "reasoning_tokens": call.shape.reasoning_tokens,
        "cached_prefix_tokens": call.cached_prefix_tokens,
        "cache_hit_rate": plain(call.shape.cache_hit_rate) if call.cached_prefix_tokens else None,
        "service_tier": call.service_tier,
        "currency": "USD",
        "cost_per_call": plain(call.cost_per_call),
        "cost_items": [item.to_dict() for item in call.items],
        "price_effective_from": call.effective_from.date().isoformat(),
        "price_source": call.source,
        "price_layer": estimate.model.layer,
    }
    if estimate.monthly_requests is not None:
        data["monthly_requests"] = estimate.monthly_requests
        data["monthly_cost"] = plain(estimate.monthly_cost)
    data["notes"] = estimate.notes or _NO_NOTES
    return data
