"""What usage costs, in which currency: the cost basis and exchange rates a report values rows by.

Money in different currencies is never added together. Each sum of usage rows is valued into
one `Part` per currency; with exchange rates the user gave (`--fx`, `--fx-file`) every part is
converted into the one target currency first, exactly (Decimal), and the rates are recorded.

Cost bases (docs/concepts/cost-basis.md):
- auto (the default): a row's billed cost when it has one, else its list cost;
- billed: billed cost only (rows without one count as no cost);
- list: the registry's list cost, always USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tokcli.errors import OptionError, TokcliError
from tokcli.frozen import Frozen, Record
from tokcli.lazyre import lazy
from tokcli.money import display
from tokcli.reporting.totals import Totals

BASES = ("auto", "billed", "list")
LIST_CURRENCY = "USD"  # the pricing registry's prices are USD
# A billed cost whose source states no currency is taken as USD, as the importers default
# to; the report says how many rows that is (docs/concepts/currencies.md).
UNSTATED_CURRENCY = "USD"
_CODE = lazy(r"^[A-Z]{3}$")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "CN¥", "INR": "₹"}
# Currencies without minor units are shown whole (¥5,000, not ¥5,000.00).
_NO_MINOR_UNITS = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}


def money_text(amount: Decimal | None, currency: str | None) -> str:
    """An amount for people, with its own currency's symbol (or ISO code): never a "$" on a
    non-USD amount."""
    if amount is None:
        return "-"
    code = currency or UNSTATED_CURRENCY
    places = 0 if code in _NO_MINOR_UNITS else 2
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return display(amount, places, symbol=symbol)
    text = display(amount, places, symbol="")
    return f"-{code} {text[1:]}" if text.startswith("-") else f"{code} {text}"


def currency_code(text: str, *, where: str) -> str:
    code = text.strip().upper()
    if not _CODE.match(code):
        raise OptionError.at(where, f"expected a 3-letter ISO 4217 currency code, got {text!r}")
    return code


# As @dataclass(frozen=True), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Fx(Frozen):
    """Exchange rates into one target currency: 1 unit of `currency` = rates[currency] target."""

    target: str
    rates: dict[str, Decimal] = field(default_factory=dict)
    source: str = "--fx"

    def __init__(
        self, target: str, rates: dict[str, Decimal] | None = None, source: str = "--fx"
    ) -> None:
        self.__dict__.update(target=target, rates={} if rates is None else rates, source=source)

    def rate(self, currency: str) -> Decimal:
        if currency == self.target:
            return Decimal(1)
        try:
            return self.rates[currency]
        except KeyError:
            raise TokcliError(
                f"{self.source}: no rate for {currency} (spend in {currency} cannot be "
                f"converted to {self.target}); add {currency}=<{self.target} per {currency}>"
            ) from None

    def as_dict(self) -> dict:
        return {
            "target": self.target,
            "rates": dict(sorted(self.rates.items())),
            "meaning": f"1 unit of each currency = rate units of {self.target}",
            "source": self.source,
        }

    def note(self) -> str:
        pairs = ", ".join(f"1 {c} = {r} {self.target}" for c, r in sorted(self.rates.items()))
        return f"converted to {self.target} with the rates given ({self.source}): {pairs}"


def parse_fx(text: str | None, file: Path | None, target: str | None) -> Fx | None:
    """`--fx EUR=1.08,JPY=0.0066` and/or `--fx-file rates.toml|rates.csv`; None when neither."""
    if text is None and file is None:
        if target is not None:
            raise OptionError("{fx_to}: give the rates too ({fx} EUR=1.08 or {fx_file})")
        return None
    rates: dict[str, Decimal] = {}
    sources = []
    file_target = None
    if file is not None:
        file_target, from_file = _rates_file(file)
        rates.update(from_file)
        sources.append(str(file))
    if text is not None:
        rates.update(_rates_text(text))
        sources.append("--fx")
    chosen = target or file_target or LIST_CURRENCY
    chosen = currency_code(chosen, where="{fx_to}")
    rates.pop(chosen, None)
    return Fx(chosen, rates, " and ".join(sources))


def _rate(code: str, value: str, where: str) -> tuple[str, Decimal]:
    from tokcli.money import to_decimal

    currency = currency_code(code, where=where)
    try:
        rate = to_decimal(value.strip() if isinstance(value, str) else value, field="rate")
    except ValueError as exc:  # "rate is not a decimal number: ..." -> "WHERE is not ..."
        problem = str(exc).removeprefix("rate ")
        raise OptionError.at(where, problem, sep=" ") from None
    if rate <= 0:
        raise OptionError.at(where, f"the rate for {currency} must be greater than 0, got {value}")
    return currency, rate


def _rates_text(text: str) -> dict[str, Decimal]:
    rates = {}
    for item in text.split(","):
        code, sep, value = item.partition("=")
        if not sep or not value.strip():
            raise OptionError(
                "{fx}: expected CODE=RATE pairs such as EUR=1.08, got {item!r}", item=item
            )
        currency, rate = _rate(code, value, "{fx}")
        rates[currency] = rate
    return rates


def _rates_file(path: Path) -> tuple[str | None, dict[str, Decimal]]:
    """TOML: `target = "USD"` and a `[rates]` table of strings (EUR = "1.08");
    CSV: a header `currency,rate` and one row per currency."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TokcliError(f"{path}: cannot read the rates file: {exc}") from None
    if path.suffix.lower() == ".csv":
        return None, _rates_csv(path, text)
    import tomllib  # here, with csv below: only a rates file needs them (start-up)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TokcliError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("rates")
    if not isinstance(table, dict) or not table:
        raise TokcliError(f'{path}: rates: expected a [rates] table such as EUR = "1.08"')
    rates = {}
    for code, value in table.items():
        if isinstance(value, float):
            value = repr(value)  # TOML floats are decimal literals; repr gives back the text
        currency, rate = _rate(code, value, f"{path}: rates.{code}")
        rates[currency] = rate
    target = data.get("target")
    if target is not None and not isinstance(target, str):
        raise TokcliError(f'{path}: target: expected a currency code such as "USD"')
    return target, rates


def _rates_csv(path: Path, text: str) -> dict[str, Decimal]:
    import csv
    import io

    reader = csv.DictReader(io.StringIO(text))
    if [c.strip().lower() for c in reader.fieldnames or []] != ["currency", "rate"]:
        raise TokcliError(f"{path}:1: header: expected currency,rate")
    rates = {}
    for line, row in enumerate(reader, start=2):
        currency, rate = _rate(row.get("currency") or "", row.get("rate") or "", f"{path}:{line}")
        rates[currency] = rate
    return rates


# As @dataclass(), with __init__ written out: see tokcli.frozen (start-up).
@dataclass(init=False, repr=False, eq=False)
class Part(Record):
    """The money of some usage rows in one currency.

    `spend` is valued by the cost basis. `billed` and `listed` are (currency, amount, rows) of
    the rows' billed and list costs; a report shows each only in a row of its own currency (a
    EUR row has no USD list cost unless --fx converted it)."""

    currency: str | None  # None: no cost at all under the basis; the report places it
    spend: Decimal
    bases: frozenset[str]  # which costs made the spend: {"billed"}, {"list"}, both, or none
    totals: Totals | None  # the counts (tokens, requests, rows) travel with one part only
    billed: tuple[str, Decimal, int] | None = None
    listed: tuple[str, Decimal, int] | None = None
    list_rate: Decimal = Decimal(1)  # converts list-price figures (USD) into `listed`'s currency

    def __init__(
        self,
        currency: str | None,
        spend: Decimal,
        bases: frozenset[str],
        totals: Totals | None,
        billed: tuple[str, Decimal, int] | None = None,
        listed: tuple[str, Decimal, int] | None = None,
        list_rate: Decimal = Decimal(1),
    ) -> None:
        self.currency, self.spend, self.bases, self.totals = currency, spend, bases, totals
        self.billed, self.listed, self.list_rate = billed, listed, list_rate


def value(totals: Totals, currency: str | None, basis: str, fx: Fx | None) -> list[Part]:
    """The parts (one per currency, one in all with `fx`) of a sum of usage rows."""
    billed_currency = currency or UNSTATED_CURRENCY
    money: list[tuple[str, Decimal, str]] = []
    if basis in ("billed", "auto") and totals.billed_rows:
        money.append((billed_currency, totals.billed_cost, "billed"))
    if basis == "list" and totals.list_rows:
        money.append((LIST_CURRENCY, totals.list_cost, "list"))
    if basis == "auto" and totals.unbilled_list_rows:
        money.append((LIST_CURRENCY, totals.unbilled_list_cost, "list"))
    billed = (
        (billed_currency, totals.billed_cost, totals.billed_rows) if totals.billed_rows else None
    )
    listed = (LIST_CURRENCY, totals.list_cost, totals.list_rows) if totals.list_rows else None
    if fx is not None:
        target = fx.target
        spend = sum((amount * fx.rate(c) for c, amount, _ in money), Decimal(0))
        part = Part(target if money else None, spend, frozenset(b for _, _, b in money), totals)
        if billed is not None:
            part.billed = (target, billed[1] * fx.rate(billed[0]), billed[2])
        if listed is not None:
            part.list_rate = fx.rate(LIST_CURRENCY)
            part.listed = (target, listed[1] * part.list_rate, listed[2])
        return [part]
    by_currency: dict[str | None, Part] = {}
    for code, amount, basis_used in money:
        existing = by_currency.get(code)
        if existing is None:
            by_currency[code] = Part(code, amount, frozenset({basis_used}), None)
        else:
            existing.spend += amount
            existing.bases = existing.bases | {basis_used}
    if not by_currency:
        by_currency[None] = Part(None, Decimal(0), frozenset(), None)
    parts = list(by_currency.values())
    parts[0].totals = totals
    for part in parts:
        if billed is not None and part.currency in (billed[0], None):
            part.billed = billed
        if listed is not None and part.currency in (listed[0], None):
            part.listed = listed
    return parts


def basis_label(bases: frozenset[str] | set[str]) -> str:
    """billed, list, mixed, or none (no row of the group carries a cost under the basis)."""
    if not bases:
        return "none"
    return "mixed" if len(bases) > 1 else next(iter(bases))


def money_note(totals: list[tuple[str, Decimal]]) -> str:
    return "; ".join(money_text(amount, currency) for currency, amount in totals)
