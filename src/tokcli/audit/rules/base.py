"""What every rule receives (Context) and how a rule is declared (Rule)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from tokcli.audit.costing import Pricing, TokenCounter
from tokcli.audit.findings import Finding, RuleInfo
from tokcli.audit.scan import Layout
from tokcli.audit.settings import AuditSettings
from tokcli.audit.template import Template

if TYPE_CHECKING:
    from tokcli.pricing.registry import Registry


@dataclass
class Context:
    template: Template
    layout: Layout
    counter: TokenCounter
    settings: AuditSettings
    pricing: Pricing | None = None
    registry: Registry | None = None
    shared: dict = field(default_factory=dict)  # state across the templates of one run

    @property
    def prompt(self) -> str:
        return self.template.prompt

    def tokens(self, text: str) -> int:
        return self.counter.count(text)

    def stable_tokens(self, index: int) -> int:
        """Tokens of stable segment `index` (0: before the first volatile element)."""
        return self.counter.count(self.layout.stable[index])

    def stable_tokens_at_least(self, index: int, threshold: int) -> int | None:
        """The segment's tokens if they reach `threshold`, else None; a token is at least one
        byte, so short segments are never tokenised."""
        text = self.layout.stable[index]
        if len(text) < threshold and len(text.encode()) < threshold:
            return None
        tokens = self.stable_tokens(index)
        return tokens if tokens >= threshold else None

    @cached_property
    def total_stable_tokens(self) -> int:
        return sum(self.stable_tokens(i) for i in range(len(self.layout.stable)))

    @cached_property
    def example_blocks(self) -> list[tuple[int, int]]:
        from tokcli.audit.rules.examples import (
            chat_example_block,
            find_example_blocks,
            merged,
            role_turns,
        )

        blocks = find_example_blocks(self.prompt)
        turns = self.template.message_spans or role_turns(self.prompt)
        chat = chat_example_block(turns)
        return merged([*blocks, chat]) if chat else blocks

    def in_syntax(self, start: int, end: int) -> bool:
        """Does the span overlap template syntax (variables, tags, comments)?"""
        return any(e.start < end and start < e.end for e in self.layout.elements if not e.literal)

    def monthly_input_cost(self, tokens: int):
        return self.pricing.monthly_input_cost(tokens) if self.pricing else None

    def monthly_cache_saving(self, tokens: int):
        return self.pricing.monthly_cache_saving(tokens) if self.pricing else None


@dataclass(frozen=True)
class Rule:
    info: RuleInfo
    check: Callable[[Context], Iterable[Finding]]


def quote(text: str, limit: int = 40) -> str:
    """A span as a message shows it: one line, shortened."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
