"""Every default the TCO model uses, each with the source it comes from (PRICING-FACTS.md keys).

The project's pricing research notes (compiled 2026-11-24, section 4) are the basis; where they give
no figure, the default is marked as a tokcli assumption so the output never hides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# 8,760 hours a year / 12: GPUs are rented or owned around the clock, busy or not.
HOURS_PER_MONTH = Decimal(730)
SECONDS_PER_HOUR = Decimal(3600)
MILLION = Decimal(1_000_000)
# The guides' engineer rate ($200/h, the payback example of issue 8) times a 2,080-hour year.
ENGINEER_RATE = Decimal(200)
WORK_HOURS_PER_YEAR = Decimal(2080)

FACTS = "PRICING-FACTS.md (2026-11-24)"


@dataclass(frozen=True)
class GpuProfile:
    """What one GPU type means for a Llama 3.x 70B class model."""

    name: str
    throughput: Decimal  # output tokens/s per GPU
    throughput_source: str
    gpus_per_replica: int
    gpus_per_replica_source: str
    neocloud_hour: Decimal  # $/GPU-hour, on demand
    neocloud_source: str
    owned_hour: Decimal  # $/GPU-hour, owned and amortised
    owned_source: str


# H100's owned/neocloud ratio (1.50 / 2.75, §4.3) is the only owned figure the facts give;
# the other GPUs' owned prices apply that ratio, rounded to cents, and say so.
_OWNED_RATIO = "derived: neocloud price x 1.50/2.75 (the H100 owned/neocloud ratio, §4.3)"

GPUS: dict[str, GpuProfile] = {
    "H100": GpuProfile(
        "H100",
        Decimal(2000),
        f"§4.3 Llama 3.x 70B FP8 on H100, ISL/OSL ~1k/1k (TRT perf-overview 2,103/GPU; {FACTS})",
        2,
        "§4.3: 70B FP8 on H100 is TP2, as in the TRT tables",
        Decimal("2.75"),
        "§4.3/§4.2 neocloud on-demand (digiterialabs Q1 2026: $2.49-2.85)",
        Decimal("1.50"),
        "§4.3 owned/amortised (S000 May 2026: 'AI factory ~$1-2 amortised')",
    ),
    "H200": GpuProfile(
        "H200",
        Decimal(2900),
        "§4.3 Llama 3.x 70B FP8 on H200 (TRT 1000/1000: 2,909)",
        1,
        "§4.3: 70B FP8 fits one H200",
        Decimal("3.30"),
        "§4.3 (Lambda on-demand $3.29, alpha-one-index)",
        Decimal("1.80"),
        _OWNED_RATIO,
    ),
    "A100-80GB": GpuProfile(
        "A100-80GB",
        Decimal(1200),
        "§4.1 note: H100 x 0.6 by memory bandwidth, BF16 (weakly sourced)",
        2,
        "§4.1 note: no FP8 on A100, 70B BF16 needs 2 GPUs",
        Decimal("1.50"),
        "§4.3 (RunPod $1.19, Lambda $1.79; deploybase 2025-02-07)",
        Decimal("0.82"),
        _OWNED_RATIO,
    ),
    "L40S": GpuProfile(
        "L40S",
        Decimal(520),
        "§4.1 note: H100 x 0.26 by memory bandwidth, FP8 (weakly sourced)",
        2,
        "§4.1 note: 70B FP8 needs 2 L40S (Spheron 2026-05-04)",
        Decimal("0.80"),
        "§4.3 (Spheron $0.72, RunPod $0.79; llm-academy 2026 $0.80-1.20)",
        Decimal("0.44"),
        _OWNED_RATIO,
    ),
}

RESERVED_FACTOR = Decimal("0.6")
RESERVED_SOURCE = "§4.3: reserved 1-yr at 0.6x on-demand (disintermediate Q1 2026)"


def gpu_profile(name: str) -> GpuProfile | None:
    for key, profile in GPUS.items():
        if key.lower() == name.strip().lower().replace("_", "-"):
            return profile
    if name.strip().lower() in ("a100", "a100-80g", "a10080gb"):
        return GPUS["A100-80GB"]
    return None
