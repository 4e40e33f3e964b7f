"""Token counting for estimates, with each text encoded once per tokenizer, not per model."""

from __future__ import annotations

from tokcli.tokens import APPROXIMATION_FACTORS, TokenCount, count_tokens, encoding_for


class TokenCounter:
    """`counter(text, model)` -> TokenCount. Models sharing a tokenizer share one count: three
    OpenAI models on o200k_base encode a prompt once."""

    def __init__(self, max_entries: int = 64):
        self._cache: dict[tuple, TokenCount] = {}
        self._max_entries = max_entries

    def __call__(self, text: str, model) -> TokenCount:
        encoding, exact = encoding_for(model.id, model.provider)
        provider = None if exact else model.provider  # approximations name the provider
        key = (text, encoding, exact, APPROXIMATION_FACTORS.get(model.id), provider)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()  # bounded: memory stays flat over thousands of files
            cached = count_tokens(text, model.id, model.provider)
            self._cache[key] = cached
        if cached.model != model.id:  # same count, reported under this model's name
            cached = TokenCount(cached.tokens, cached.exact, cached.method, model.id)
        return cached
