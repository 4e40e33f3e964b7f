"""Every key tokcli.toml may hold, in one place, and the check that runs when a file is loaded:
an unknown key or a bad value is an error naming the file, the line and the nearest valid key.

Adding a key is one line in SCHEMA. `Value` checks a leaf, `Table` a table with known keys,
`Tables` an array of tables ([[prompts]]), `Either` a key that may be a value or a table.
Tables whose keys are the user's own (tag spellings, aliases, per-rule severities) use
`Table(free=...)`. Sections with a validator of their own (budgets, the tco inputs) are checked
for their key names here and for their values where they are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

Check = Callable[[Any], str | None]  # None when the value is fine, else what is wrong


def _text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "expected a non-empty string"


def _texts(value: Any) -> str | None:
    if isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return None
    return "expected a string or a list of strings"


def _text_list(value: Any) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return "expected a list of strings"


def _choice(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return f"expected one of {', '.join(choices)}, got {value!r}"

    return check


def _whole(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"expected a whole number >= 0, got {value!r}"


def _amount(value: Any) -> str | None:
    """Money: an integer or a decimal string (a TOML float is already inexact)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            if Decimal(value.strip()).is_finite():
                return None
        except InvalidOperation:
            pass
    return f'expected an amount as an integer or a decimal string such as "12.50", got {value!r}'


def _share(value: Any) -> str | None:
    """A share: "80%", "0.8" or 0.8 (at most 100%)."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    try:
        share = Decimal(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except InvalidOperation:
        share = Decimal(-1)
    if isinstance(value, bool) or not share.is_finite() or not 0 <= share <= 1:
        return f'expected a share such as "80%" or 0.8, got {value!r}'
    return None


def _positive_number(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return None
    return f"expected a number > 0, got {value!r}"


def _positive_whole(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return None
    return f"expected a whole number > 0, got {value!r}"


def _anything(value: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Value:
    check: Check = _anything


@dataclass(frozen=True)
class Table:
    keys: dict[str, Spec] = field(default_factory=dict)
    free: Spec | None = None  # the spec of keys the user names; None: no other keys allowed
    # Keys also accepted with '_' for '-' (tco: key = the flag's name).
    dashes_or_underscores: bool = False


@dataclass(frozen=True)
class Tables:
    table: Table


@dataclass(frozen=True)
class Either:
    value: Value
    table: Table


@dataclass(frozen=True)
class Lazy:
    """A spec built only when a config has the key (its declarations live in a heavy module)."""

    build: Callable[[], Table | Tables]


Spec = Value | Table | Tables | Either | Lazy
Resolved = Value | Table | Tables | Either  # a Spec once its Lazy part is built

FORMATS = ("table", "json", "csv", "markdown")
ANY = Value()


def _tco_table() -> Table:
    # Imported only when a config has a [tco] table: tco.inputs is not needed at start-up.
    from tokcli.tco.inputs import COMMIT_SETTINGS, PAYBACK_SETTINGS, TCO_SETTINGS

    def names(settings) -> dict[str, Spec]:
        return {setting.key: ANY for setting in settings}  # values: checked where they are read

    return Table(
        {
            **names(TCO_SETTINGS),
            "commit": Table(names(COMMIT_SETTINGS), dashes_or_underscores=True),
            "payback": Table(names(PAYBACK_SETTINGS), dashes_or_underscores=True),
        },
        dashes_or_underscores=True,
    )


def _audit_table() -> Table:
    from tokcli.audit.settings import KNOWN_KEYS  # values: checked by audit's settings

    return Table({key: ANY for key in sorted(KNOWN_KEYS)}, dashes_or_underscores=True)


def _budgets_tables() -> Tables:
    from tokcli.reporting.budgets import BUDGET_FIELDS  # values: checked by parse_budgets

    return Tables(Table({key: ANY for key in sorted(BUDGET_FIELDS)}))


SCHEMA = Table(
    {
        "format": Value(_choice(*FORMATS)),
        "store": Value(_text),
        "pricing": Either(
            Value(_texts),  # override files
            Table({"overrides": Value(_texts), "aliases": Table(free=Value(_text))}),
        ),
        "prompts": Tables(
            Table(
                {
                    "path": Value(_text),
                    "model": Value(_text),
                    "requests": Value(_whole),
                    "per": Value(_choice("day", "month")),
                }
            )
        ),
        "budgets": Lazy(_budgets_tables),
        "tags": Table(free=Value(_texts)),
        "import": Table({"maps": Table(free=ANY), "limits": Table(free=ANY)}),
        "audit": Lazy(_audit_table),
        # Render budgets for templates (estimate); a flag or TOKCLI_MAX_* env var wins.
        "templates": Table(
            {
                "max_rendered_chars": Value(_positive_whole),  # characters a render may produce
                "max_render_seconds": Value(_positive_number),  # seconds a render may take
            }
        ),
        "advise": Table(
            {
                "target_hit_rate": Value(_share),
                "batchable_features": Value(_text_list),
                "commit_discount": Value(_share),
            }
        ),
        "tco": Lazy(_tco_table),
    }
)


@dataclass(frozen=True)
class Problem:
    keys: tuple[str, ...]  # where, from the file's root
    message: str


def _spec_of(spec: Spec) -> Resolved:
    return spec.build() if isinstance(spec, Lazy) else spec


def problems(data: Any, spec: Spec = SCHEMA, keys: tuple[str, ...] = ()) -> Iterator[Problem]:
    """Every key or value of `data` that `spec` does not allow, in file order."""
    spec = _spec_of(spec)
    if isinstance(spec, Either):
        spec = spec.table if isinstance(data, dict) else spec.value
    if isinstance(spec, Value):
        message = spec.check(data)
        if message:
            yield Problem(keys, message)
        return
    if isinstance(spec, Tables):
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            yield Problem(keys, f"expected an array of tables ([[{'.'.join(keys)}]])")
            return
        for item in data:
            yield from problems(item, spec.table, keys)
        return
    if not isinstance(data, dict):
        yield Problem(keys, "expected a table")
        return
    for key, value in data.items():
        name = key.replace("-", "_") if spec.dashes_or_underscores else key
        known = {k.replace("-", "_") if spec.dashes_or_underscores else k: s
                 for k, s in spec.keys.items()}  # fmt: skip
        if name in known:
            yield from problems(value, known[name], (*keys, key))
        elif spec.free is not None:
            yield from problems(value, spec.free, (*keys, key))
        else:
            from tokcli.suggest import did_you_mean

            hint = did_you_mean(key, spec.keys)
            yield Problem((*keys, key), f"unknown key{hint}")


def all_keys(spec: Spec = SCHEMA, prefix: str = "") -> Iterator[str]:
    """Every declared key, dotted, for the documentation page."""
    spec = _spec_of(spec)
    if isinstance(spec, Either):
        yield prefix
        spec = spec.table
    if isinstance(spec, Tables):
        spec = spec.table
    if isinstance(spec, Table):
        for key, child in spec.keys.items():
            yield from all_keys(child, f"{prefix}.{key}" if prefix else key)
        if spec.free is not None:
            yield f"{prefix}.<name>"
    elif prefix:
        yield prefix
