"""Compare two price entries field by field: every price-changing field, tiers, long-context
bands and removals included. Used by `pricing import-litellm` and `pricing update`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tokcli.errors import PriceNotAvailableError
from tokcli.pricing.model import DIMENSIONS, SERVICE_TIERS, PriceEntry


@dataclass(frozen=True)
class FieldChange:
    model: str
    field: str  # input, batch.output, long_context.cache_read, long_context.above_input_tokens
    old: Decimal | int | None
    new: Decimal | int | None

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


def effective_fields(entry: PriceEntry | None) -> dict[str, Decimal | int]:
    """Every price the entry charges, as the cost code resolves it (multipliers applied)."""
    if entry is None:
        return {}
    fields: dict[str, Decimal | int] = {}
    bands = [("standard", "")]
    if entry.long_context is not None:
        bands.append(("long_context", "long_context."))
        fields["long_context.above_input_tokens"] = entry.long_context_above  # type: ignore[assignment]
    for band, prefix in bands:
        for tier in SERVICE_TIERS:
            if not entry.offers(tier):
                continue
            tier_prefix = "" if tier == "standard" else f"{tier}."
            for dim in DIMENSIONS:
                try:
                    price = entry.price(dim, tier, band)
                except PriceNotAvailableError:
                    price = None
                if price is not None:
                    fields[f"{prefix}{tier_prefix}{dim}"] = price
    return fields


def entry_from_dict(spec: dict[str, Any], where: str = "entry") -> PriceEntry:
    """A price entry written as the YAML/JSON schema fields, validated by the YAML loader."""
    from tokcli.pricing.loader import _entry, _Reader

    return _entry(_Reader(Path(where)), spec, where, origin=None)


def diff_entries(model: str, old: PriceEntry | None, new: PriceEntry | None) -> list[FieldChange]:
    before, after = effective_fields(old), effective_fields(new)
    changes = []
    for key in sorted(set(before) | set(after), key=_field_order):
        if before.get(key) != after.get(key):
            changes.append(FieldChange(model, key, before.get(key), after.get(key)))
    return changes


def _field_order(key: str) -> tuple[bool, int, str]:
    parts = key.split(".")
    return (parts[0] == "long_context", len(parts), key)
