"""Write demo_focus_2026-10.csv: one month of made-up LLM spend for three teams, as FOCUS 1.2.

The rows are built with tokcli's own cost math (list cost from the registry) and written by
`tokcli export`, so the file is exactly what tokcli produces for a warehouse. Anthropic usage is
billed 10% under list (a negotiated discount), so reports show billed against list; the research
team has a spike on 2026-10-21, so the anomaly view has something to find.

Run from the repository root: .venv/bin/python examples/billing/make_demo.py
"""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from tokcli.cost import Usage, compute_cost
from tokcli.pricing import Registry
from tokcli.store import connect, transaction
from tokcli.store.usage import UsageRecord, insert_usage

OUT = Path(__file__).resolve().parent / "demo_focus_2026-10.csv"
DISCOUNT = {"anthropic": Decimal("0.90")}
# team, feature, model, tier, requests a weekday, input / cache read / output tokens a request
WORKLOADS = [
    ("search", "answers", "claude-sonnet-4-6", "standard", 9000, 1800, 6000, 350),
    ("search", "rerank", "gpt-5-mini", "standard", 30000, 900, 0, 40),
    ("support", "chat", "claude-haiku-4-5", "standard", 14000, 1200, 3000, 250),
    ("support", "summaries", "gpt-5-mini", "batch", 20000, 2500, 0, 200),
    ("research", "agents", "gpt-5.5", "standard", 1200, 12000, 20000, 900),
    ("research", "evals", "claude-opus-4-7", "batch", 800, 6000, 0, 1200),
]


def records(registry: Registry):
    rng = random.Random(2026)
    for day in range(1, 32):
        start = dt.datetime(2026, 10, day, tzinfo=dt.UTC)
        weekend = start.weekday() >= 5
        for team, feature, model_id, tier, requests, inp, cached, out in WORKLOADS:
            model = registry.get(model_id)
            count = int(requests * (0.35 if weekend else 1) * rng.uniform(0.85, 1.15))
            if team == "research" and day == 21:
                count *= 6  # a runaway evaluation job
            usage = Usage(input_tokens=count * inp, cache_read_tokens=count * cached,
                          output_tokens=count * out, requests=count)  # fmt: skip
            listed = compute_cost(usage, model, start, tier).total
            billed = (listed * DISCOUNT.get(model.provider, Decimal(1))).quantize(
                Decimal("0.000001")
            )
            yield UsageRecord(
                record_key=f"demo:{day}:{team}:{feature}:{model_id}", source="demo",
                period_start=start, period_end=start + dt.timedelta(days=1),
                provider=model.provider, model=model.id, model_raw=model.id, service_tier=tier,
                requests=count, input_tokens=usage.input_tokens,
                cache_read_tokens=usage.cache_read_tokens, output_tokens=usage.output_tokens,
                billed_cost=billed, currency="USD", list_cost=listed,
                tags={"team": team, "feature": feature, "environment": "production"},
            )  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "demo.db"
        conn = connect(store)
        with transaction(conn):
            insert_usage(conn, records(Registry.load()))
        conn.close()
        env = {**os.environ, "TOKCLI_STORE": str(store)}
        subprocess.run([sys.executable, "-m", "tokcli", "export", "--format", "focus", "-o",
                        str(OUT)], check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
