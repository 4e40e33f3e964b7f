"""The rule registry: every audit rule, in code order. One module per rule."""

from __future__ import annotations

from tokcli.audit.rules import (
    below_cache_minimum,
    cache_breaking_prefix,
    code_prompt,
    diagnostics,
    duplicate_instruction,
    filler,
    large_inline_examples,
    reasoning_model,
    unbounded_output,
    unstable_serialization,
)
from tokcli.audit.rules.base import Context, Rule

RULES: tuple[Rule, ...] = (
    diagnostics.UNREADABLE_RULE,
    diagnostics.UNKNOWN_MODEL_RULE,
    cache_breaking_prefix.RULE,
    below_cache_minimum.RULE,
    unstable_serialization.RULE,
    large_inline_examples.RULE,
    code_prompt.RULE,
    filler.RULE,
    duplicate_instruction.RULE,
    unbounded_output.RULE,
    reasoning_model.RULE,
)
BY_CODE = {rule.info.code: rule for rule in RULES}
BY_NAME = {rule.info.name: rule for rule in RULES}

__all__ = ["BY_CODE", "BY_NAME", "RULES", "Context", "Rule"]
