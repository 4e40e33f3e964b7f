"""Tokens and dollars for findings. Every figure goes through tokcli.cost.compute_cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tiktoken and the pricing model load only when a template is priced
    from tiktoken import Encoding

    from tokcli.pricing.model import Model

DAYS_PER_MONTH = 30


def requests_per_month(requests: int | None, per: str) -> int | None:
    if requests is None:
        return None
    return requests * DAYS_PER_MONTH if per == "day" else requests


# (model id, provider) -> (tiktoken Encoding, method, exact) where tokcli.tokens.count_tokens
# proved to count with the plain encoding (no approximation factor).
_PLAIN_COUNTS: dict[tuple[str | None, str | None], tuple[Encoding, str, bool]] = {}


@dataclass
class TokenCounter:
    """Counts tokens of text spans as the template's model would, remembering what it counted."""

    model_id: str | None = None
    provider: str | None = None
    method: str | None = None
    exact: bool = True
    _cache: dict[str, int] = field(default_factory=dict)

    def count(self, text: str) -> int:
        if not text.strip():
            return 0
        cached = self._cache.get(text)
        if cached is None:
            cached = self._cache[text] = self._count(text)
        return cached

    def _count(self, text: str) -> int:
        known = _PLAIN_COUNTS.get((self.model_id, self.provider))
        if known is not None:
            encoding, self.method, self.exact = known
            return len(encoding.encode_ordinary(text))
        from tokcli.tokens import count_tokens, encoding_for, get_encoding

        result = count_tokens(text, self.model_id, self.provider)
        self.method, self.exact = result.method, result.exact
        # tokcli.tokens.count_tokens looks the encoding up on every call (~1 ms); when its count
        # is the plain encoding's (no approximation factor), use the encoding from now on.
        encoding = get_encoding(encoding_for(self.model_id, self.provider)[0])
        if len(encoding.encode_ordinary(text)) == result.tokens:
            _PLAIN_COUNTS[(self.model_id, self.provider)] = (encoding, result.method, result.exact)
        return result.tokens


@dataclass
class Pricing:
    """The model and monthly volume of one template. `monthly_*` return None without a volume."""

    model: Model
    at: dt.date
    monthly_requests: int | None

    def _total(self, **buckets) -> Decimal:
        from tokcli.cost import Usage, compute_cost

        requests = self.monthly_requests or 1
        usage = Usage(requests=requests, **{k: v * requests for k, v in buckets.items()})
        return compute_cost(usage, self.model, self.at).total

    def monthly_cache_saving(self, tokens: int) -> Decimal | None:
        """Paying cache-read instead of input for `tokens` on every call (hits assumed; cache
        write premiums not included)."""
        if self.monthly_requests is None or tokens <= 0:
            return None
        return self._total(input_tokens=tokens) - self._total(cache_read_tokens=tokens)

    def monthly_input_cost(self, tokens: int) -> Decimal | None:
        if self.monthly_requests is None or tokens <= 0:
            return None
        return self._total(input_tokens=tokens)

    def output_cost_per_call(self, tokens: int) -> Decimal:
        from tokcli.cost import Usage, compute_cost

        return compute_cost(Usage(output_tokens=tokens), self.model, self.at).total

    def monthly_input_cost_on(self, other_model, tokens: int) -> Decimal | None:
        if self.monthly_requests is None or tokens <= 0:
            return None
        return Pricing(other_model, self.at, self.monthly_requests).monthly_input_cost(tokens)

    @property
    def min_cacheable(self) -> int | None:
        from tokcli.pricing.model import as_moment

        try:
            entry = self.model.entry_at(as_moment(self.at))
        except Exception:  # no price in force: the registry's model-level figure
            return self.model.min_cacheable_tokens
        return self.model.min_cacheable_at(entry)
