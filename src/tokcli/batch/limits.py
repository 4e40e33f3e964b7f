"""What each provider accepts in one batch (from the providers' published batch API limits)."""

from __future__ import annotations

import re
from dataclasses import dataclass

PROVIDERS = ("openai", "anthropic", "gemini")
# The field of a batch line that names the request (Gemini: `key`, per the Batch API guide).
ID_FIELD = {"openai": "custom_id", "anthropic": "custom_id", "gemini": "key"}

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

# The recovery identity (issue 15): every request goes out with the custom_id
# `<job id>-<input line>`, so a remote batch's own content says which job and lines it holds
# (Anthropic batches carry no metadata; counts and times cannot tell two jobs apart). The
# user's custom_id is restored from the input file when results are written. The form fits
# every provider's rule: Anthropic `^[a-zA-Z0-9_-]{1,64}$` (20 + 1 + at most 7 digits);
# OpenAI documents no rule beyond uniqueness within a batch; Gemini's `key` is a free string.
JOB_ID_WIDTH = len("job_") + 16
WIRE_ID = re.compile(r"^(job_[0-9a-f]{16})-([1-9][0-9]{0,8})$")


def wire_id(job_id: str, line_no: int) -> str:
    return f"{job_id}-{line_no}"


def parse_wire_id(custom_id: str) -> tuple[str, int] | None:
    """(job id, input line) of a custom_id tokcli sent, or None for anything else."""
    match = WIRE_ID.match(custom_id or "")
    return (match.group(1), int(match.group(2))) if match else None


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
    # Gemini: input files up to 2 GB (BATCH-APIS C, S10b); the reference states no request
    # count, so tokcli's own choice is Anthropic's 100,000 (documented in batch-recovery.md).
    "gemini": Limits(max_requests=100_000, max_bytes=2_000_000_000),
}
