"""What a scanned batch file will cost: batch price against the synchronous price, and the saving.

Input tokens are counted from the request text (exact with tiktoken for OpenAI models, a stated
approximation for others). Output is bounded by each request's max_tokens, so the estimate is a
ceiling: the real cost is at most this unless some requests set no max_tokens (said in notes).
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from tokcli.batch.scan import ScanResult, TokenCounter
from tokcli.cost import Usage, compute_cost
from tokcli.errors import TokcliError
from tokcli.money import MONEY_CONTEXT, ZERO, plain


@dataclass
class ModelEstimate:
    model: str
    model_raw: str
    requests: int
    input_tokens: int
    output_ceiling: int
    unbounded_requests: int
    batch_cost: Decimal
    standard_cost: Decimal

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "model_raw": self.model_raw,
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens_max": self.output_ceiling,
            "requests_without_max_tokens": self.unbounded_requests,
            "batch_cost": plain(self.batch_cost),
            "standard_cost": plain(self.standard_cost),
            "saving": plain(self.standard_cost - self.batch_cost),
        }


@dataclass
class Estimate:
    models: list[ModelEstimate]
    batch_cost: Decimal
    standard_cost: Decimal
    exact_tokens: bool
    token_method: str
    notes: list[str] = field(default_factory=list)

    @property
    def saving(self) -> Decimal:
        return self.standard_cost - self.batch_cost

    def to_dict(self) -> dict:
        return {
            "currency": "USD",
            "batch_cost": plain(self.batch_cost),
            "standard_cost": plain(self.standard_cost),
            "saving": plain(self.saving),
            "is_ceiling": not any(m.unbounded_requests for m in self.models),
            "exact_tokens": self.exact_tokens,
            "token_method": self.token_method,
            "models": [m.to_dict() for m in self.models],
            "notes": list(self.notes),
        }


# tokcli's batch provider name -> the pricing registry's provider.
REGISTRY_PROVIDER = {"gemini": "google"}


def token_counter(provider: str) -> tuple[TokenCounter, bool, str]:
    """A fast per-line counter (encodings loaded once), whether it is exact, and its method."""
    from tokcli.tokens import APPROXIMATION_FACTORS, encoding_for, get_encoding

    encodings: dict[str, object] = {}
    exact_seen = {"all": True}

    def count(text: str, model: str) -> int:
        name, exact = encoding_for(model, provider)
        if name not in encodings:
            encodings[name] = get_encoding(name)
        tokens = len(encodings[name].encode_ordinary(text))  # type: ignore[attr-defined]
        if not exact:
            exact_seen["all"] = False
            factor = APPROXIMATION_FACTORS.get(model, ("1", ""))[0]
            tokens = int(Decimal(tokens) * Decimal(factor))
        return tokens

    method = (
        "tiktoken (exact)"
        if provider == "openai"
        else f"approximation: tiktoken o200k_base count ({provider} tokenizer not public)"
    )
    return count, provider == "openai", method


def estimate_scan(
    scan: ScanResult, registry, at: dt.datetime, exact: bool, method: str
) -> Estimate:
    """Price every model of the scan at the batch and the standard tier."""
    rows = []
    for raw, totals in sorted(scan.models.items()):
        model = registry.get(raw)
        if model.provider != REGISTRY_PROVIDER.get(scan.provider, scan.provider):
            raise TokcliError(
                f"{scan.path}: model {raw!r} is a {model.provider} model, "
                f"but the file is for {scan.provider}"
            )
        usage = Usage(
            input_tokens=totals.input_tokens,
            output_tokens=totals.output_ceiling,
            requests=max(totals.requests, 1),
        )
        rows.append(
            ModelEstimate(
                model=model.id,
                model_raw=raw,
                requests=totals.requests,
                input_tokens=totals.input_tokens,
                output_ceiling=totals.output_ceiling,
                unbounded_requests=totals.unbounded_requests,
                batch_cost=compute_cost(usage, model, at, "batch").total,
                standard_cost=compute_cost(usage, model, at, "standard").total,
            )
        )
    with decimal.localcontext(MONEY_CONTEXT):
        batch_total = sum((r.batch_cost for r in rows), ZERO)
        standard_total = sum((r.standard_cost for r in rows), ZERO)
    notes = ["output priced at each request's max_tokens: a ceiling, not a forecast"]
    unbounded = sum(r.unbounded_requests for r in rows)
    if unbounded:
        notes.append(
            f"{unbounded:,} request(s) set no max_tokens: their output is not in the estimate"
        )
    if not exact:
        notes.append(f"input tokens by {method}")
    return Estimate(rows, batch_total, standard_total, exact, method, notes)
