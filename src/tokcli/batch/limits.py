"""What each provider accepts in one batch (../shared/specs/BATCH-APIS.md A.11, B.7)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVIDERS = ("openai", "anthropic")

OPENAI_ENDPOINTS = (
    "/v1/responses",
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/completions",
    "/v1/moderations",
    "/v1/images/generations",
    "/v1/images/edits",
    "/v1/videos",
)
DEFAULT_OPENAI_ENDPOINT = "/v1/chat/completions"

# Anthropic's rule; OpenAI documents none, so any non-empty string is accepted there.
ANTHROPIC_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

# Anthropic's CreateMessageBatchParams wraps the lines: {"requests":[line,line,...]}
ANTHROPIC_BODY_OVERHEAD = len(b'{"requests":[') + len(b"]}")


@dataclass(frozen=True)
class Limits:
    max_requests: int
    # Decimal megabytes (10**6): the providers say "MB" without saying which; the smaller
    # reading never produces a file they reject.
    max_bytes: int

    def tightened(self, max_requests: int | None, max_bytes: int | None) -> Limits:
        """Smaller parts on request (they finish sooner); never above the provider's limit."""
        return Limits(
            min(self.max_requests, max_requests or self.max_requests),
            min(self.max_bytes, max_bytes or self.max_bytes),
        )


LIMITS = {
    "openai": Limits(max_requests=50_000, max_bytes=200_000_000),
    "anthropic": Limits(max_requests=100_000, max_bytes=256_000_000),
}
