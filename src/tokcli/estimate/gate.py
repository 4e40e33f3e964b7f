"""The CI gate: compare an estimate with a baseline (an earlier JSON output or a git ref) and
decide whether the cost rose past the user's thresholds.

Results are matched by (path, model). The compared figure is the monthly cost when every
result on both sides has a volume, else the cost per call.
"""

from __future__ import annotations

import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tokcli.errors import InputError, OptionError
from tokcli.money import MONEY_CONTEXT, ZERO, plain

PERCENT_PLACES = Decimal("0.01")


@dataclass
class Change:
    path: str | None
    model: str
    before: Decimal | None  # None: the prompt is new
    after: Decimal | None  # None: the prompt is gone

    @property
    def diff(self) -> Decimal:
        with decimal.localcontext(MONEY_CONTEXT):
            return (self.after or ZERO) - (self.before or ZERO)

    @property
    def percent(self) -> Decimal | None:
        return percent_change(self.before, self.after)

    @property
    def status(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "removed"
        return "changed" if self.diff != 0 else "unchanged"

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "model": self.model,
            "before": plain(self.before),
            "after": plain(self.after),
            "diff": plain(self.diff),
            "percent": plain(self.percent),
            "status": self.status,
        }


@dataclass
class Comparison:
    metric: str  # "monthly_cost" | "cost_per_call"
    changes: list[Change]
    before_total: Decimal
    after_total: Decimal

    @property
    def diff_total(self) -> Decimal:
        with decimal.localcontext(MONEY_CONTEXT):
            return self.after_total - self.before_total

    @property
    def percent_total(self) -> Decimal | None:
        return percent_change(self.before_total, self.after_total)

    def to_dict(self) -> dict:
        return {
            "metric": self.metric,
            "currency": "USD",
            "before_total": plain(self.before_total),
            "after_total": plain(self.after_total),
            "diff_total": plain(self.diff_total),
            "percent_total": plain(self.percent_total),
            "prompts": [c.to_dict() for c in self.changes],
        }


@dataclass
class GateResult:
    checks: list[str] = field(default_factory=list)  # what was asked
    failures: list[str] = field(default_factory=list)  # what crossed a threshold

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": self.checks, "failures": self.failures}


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    if before is None or after is None or before == 0:
        return None
    with decimal.localcontext(MONEY_CONTEXT):
        return ((after - before) * 100 / before).quantize(PERCENT_PLACES)


def load_baseline(path: Path) -> list[dict]:
    """The `results` of an earlier `tokcli estimate --format json`."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise OptionError("{path}: {baseline}: no such file", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno, column=exc.colno
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("results"), list):
        raise InputError(
            "not a `tokcli estimate --format json` output (no results list)",
            path=str(path),
            line=1,
            field="results",
        )
    if document.get("version") != 1:
        raise InputError(
            f"unsupported version {document.get('version')!r} (expected 1)",
            path=str(path),
            line=1,
            field="version",
        )
    for index, result in enumerate(document["results"]):
        if not isinstance(result, dict) or "model" not in result or "cost_per_call" not in result:
            raise InputError(
                "each result needs model and cost_per_call",
                path=str(path),
                field=f"results[{index}]",
            )
        _amount(result, "cost_per_call", path, index)
        if "monthly_cost" in result:
            _amount(result, "monthly_cost", path, index)
    return document["results"]


def compare(before: list[dict], after: list[dict]) -> Comparison:
    both = before + after
    metric = "monthly_cost" if both and all("monthly_cost" in r for r in both) else "cost_per_call"
    old = {_key(r): Decimal(r[metric]) for r in before}
    new = {_key(r): Decimal(r[metric]) for r in after}
    changes = [Change(k[0], k[1], old.get(k), new[k]) for k in new]
    changes += [Change(k[0], k[1], old[k], None) for k in old if k not in new]
    with decimal.localcontext(MONEY_CONTEXT):
        before_total = sum(old.values(), ZERO)
        after_total = sum(new.values(), ZERO)
    return Comparison(metric, changes, before_total, after_total)


def check(
    comparison: Comparison | None,
    after: list[dict],
    fail_on_increase: Decimal | None,
    max_monthly_cost: Decimal | None,
) -> GateResult:
    """Which thresholds were crossed. A new prompt has no percentage, so only the total
    carries it."""
    gate = GateResult()
    if fail_on_increase is not None and comparison is not None:
        gate.checks.append(f"no increase above {plain(fail_on_increase)}%")
        total = comparison.percent_total
        if total is not None and total > fail_on_increase:
            gate.failures.append(
                f"total {comparison.metric.replace('_', ' ')} rose {plain(total)}% "
                f"(limit {plain(fail_on_increase)}%)"
            )
        elif total is None and comparison.before_total == 0 and comparison.after_total > 0:
            gate.failures.append("total cost rose from $0 (no baseline cost)")
        for change in comparison.changes:
            if change.percent is not None and change.percent > fail_on_increase:
                gate.failures.append(
                    f"{change.path or '(tokens given)'} on {change.model} rose "
                    f"{plain(change.percent)}% (limit {plain(fail_on_increase)}%)"
                )
    if max_monthly_cost is not None:
        # Per model: with several -m, each is an alternative, not an addition.
        gate.checks.append(f"monthly cost at most ${plain(max_monthly_cost)} per model")
        monthly: dict[str, Decimal] = {}
        with decimal.localcontext(MONEY_CONTEXT):
            for result in after:
                model = str(result["model"])
                monthly[model] = monthly.get(model, ZERO) + Decimal(result["monthly_cost"])
        for model, amount in monthly.items():
            if amount > max_monthly_cost:
                gate.failures.append(
                    f"{model}: monthly cost ${plain(amount)} is above the limit "
                    f"${plain(max_monthly_cost)}"
                )
    return gate


def lost_prompts(
    comparison: Comparison,
    left_out: list[InputError],
    name_of: Callable[[str], str] | None = None,
) -> list[str]:
    """Gate failures for prompts the base priced that this run could not render (options the
    errors name spelt by `name_of`: the command line gives its flags)."""
    broken = {Path(e.path).as_posix(): e for e in left_out if e.path}
    lost = []
    for change in comparison.changes:
        if change.status == "removed" and change.path in broken:
            error = broken.pop(change.path)
            text = error.render(name_of) if name_of else str(error)
            lost.append(f"{change.path} could not be priced: {text}")
    return lost


def _key(result: dict) -> tuple[str | None, str]:
    path = result.get("path")
    return (Path(path).as_posix() if path else None, str(result["model"]))


def _amount(result: dict, key: str, path: Path, index: int) -> None:
    try:
        value = Decimal(str(result[key]))
    except decimal.InvalidOperation:
        value = None
    if value is None or not value.is_finite() or isinstance(result[key], float):
        raise InputError(
            f"{key} must be a decimal string", path=str(path), field=f"results[{index}].{key}"
        )
