"""Pricing registry: effective-dated, sourced prices for every model tokcli knows."""

from tokcli.pricing.model import (
    DIMENSIONS,
    SERVICE_TIERS,
    TIERS,
    Model,
    PriceEntry,
    as_moment,
)
from tokcli.pricing.registry import Registry, shipped_pricing_dir

__all__ = [
    "DIMENSIONS",
    "SERVICE_TIERS",
    "TIERS",
    "Model",
    "PriceEntry",
    "Registry",
    "as_moment",
    "shipped_pricing_dir",
]
