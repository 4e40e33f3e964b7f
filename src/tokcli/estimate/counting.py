"""Token counting for estimates: each text encoded once per tokenizer, not once per model.

`tokcli.tokens.count_tokens` decides, per model, the encoding, whether the count is exact and
how the method is described; this wrapper asks it once per model (on the empty string) for
that description, and encodes each text once per encoding with a cached tiktoken Encoding.
Models with a scaling factor (APPROXIMATION_FACTORS) always go through count_tokens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktoken import Encoding

    from tokcli.tokens import TokenCount


class TokenCounter:
    """`counter(text, model)` -> TokenCount, as `count_tokens(text, model.id, provider)`."""

    def __init__(self, max_texts: int = 64):
        self._profiles: dict[str, TokenCount] = {}
        self._encodings: dict[str, Encoding] = {}
        self._counts: dict[tuple[str, str], int] = {}
        self._max_texts = max_texts

    def __call__(self, text: str, model) -> TokenCount:
        # tokcli.tokens is imported by the first count: `estimate --input-tokens` counts nothing.
        from tokcli.tokens import APPROXIMATION_FACTORS, TokenCount, count_tokens, encoding_for

        if model.id in APPROXIMATION_FACTORS:
            return count_tokens(text, model.id, model.provider)
        profile = self._profiles.get(model.id)
        if profile is None:
            profile = self._profiles[model.id] = count_tokens("", model.id, model.provider)
        encoding_name, _ = encoding_for(model.id, model.provider)
        return TokenCount(self._count(text, encoding_name), profile.exact, profile.method, model.id)

    def _count(self, text: str, encoding_name: str) -> int:
        key = (text, encoding_name)
        count = self._counts.get(key)
        if count is None:
            if len(self._counts) >= self._max_texts:
                self._counts.clear()  # bounded: memory stays flat over thousands of files
            encoding = self._encodings.get(encoding_name)
            if encoding is None:
                from tokcli.tokens import get_encoding

                encoding = self._encodings[encoding_name] = get_encoding(encoding_name)
            count = self._counts[key] = len(encoding.encode_ordinary(text))
        return count
