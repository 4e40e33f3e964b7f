"""Parsing the values billing exports contain: numbers, money, times and keys.

Every importer goes through these helpers, so the traps of BILLING-FORMATS.md (literal `NULL`,
thousands separators, `3.0` in integer columns, 30-digit decimals, five timestamp spellings)
are handled once. Each raises `RowError` naming the field, which write.py turns into a
file:line:column message or a rejected row.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokcli.errors import OptionError
    from tokcli.store.scratch import KeyCounts

NULLS = frozenset({"", "null", "NULL", "Null", "None", "none", "nan", "NaN", "N/A"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
# "$10,100.00" in spreadsheet-made files (the FOCUS spec's own SaaS examples): the symbol goes,
# the currency is the file's currency column.
_CURRENCY_SYMBOL = re.compile(r"^([+-]?)\s*([$€£¥])\s*")
# Which ISO 4217 codes each symbol can stand for: a symbol that names another currency than the
# file's (`€12` in a USD file) is an error, never a silent 12 USD.
_SYMBOL_CURRENCIES = {
    "$": frozenset({"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD", "CLP", "COP", "ARS"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY"}),
}
# A per-row cost or quantity beyond this is not a bill but a damaged file (issue 13): refused
# before it can reach the store, where a later read would choke on it.
MAX_MAGNITUDE = Decimal("1e15")
# More decimal places than any export writes (Azure: 30) means a damaged value such as 1e-400.
MIN_EXPONENT = -40
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_UNIX_NANOS = Decimal("253402300799e9")  # 9999-12-31T23:59:59Z


class RowError(ValueError):
    """A value that cannot be read. `field` names the column (or JSON path) at fault; `hint`,
    if any, the option that gets past it (see InputError)."""

    def __init__(self, message: str, field: str | None = None, *, hint: OptionError | None = None):
        super().__init__(message)
        self.field, self.hint = field, hint


def is_null(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and value.strip() in NULLS


def decimal_or_none(value: object, field: str) -> Decimal | None:
    """An exact Decimal from text or int. JSON numbers arrive as text (parse_float=Decimal).
    Quantities carry no currency symbol: `money()` reads amounts."""
    return _number(value, field, currency=None, money=False)


def money(value: object, field: str, currency: str | None) -> Decimal | None:
    """An amount of money. A leading currency symbol (`$10,100.00` in spreadsheet-made files,
    the FOCUS spec's own SaaS examples) is accepted when it agrees with the file's `currency`
    (or the file names none) and refused when it contradicts it."""
    return _number(value, field, currency=currency, money=True)


def _number(
    value: object, field: str, *, currency: str | None, money: bool, bounded: bool = True
) -> Decimal | None:
    if isinstance(value, str) and value.strip().lower() == "nan":
        # NaN is a damaged number, not an empty cell (pandas writes missing values as "").
        raise RowError(f"not a finite number: {value!r}", field)
    if is_null(value):
        return None
    if isinstance(value, bool):
        raise RowError(f"expected a number, got {value!r}", field)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # Only reachable for callers that parsed JSON without parse_float=Decimal: go through
        # repr, which is the shortest text that round-trips, never the binary expansion.
        number = Decimal(repr(value))
    else:
        number = _number_text(str(value).strip(), value, field, currency, money)
    return _checked(number, value, field, bounded)


def _number_text(
    text: str, value: object, field: str, currency: str | None, money: bool
) -> Decimal:
    symbol = _CURRENCY_SYMBOL.match(text)
    if symbol:
        if not money:
            raise RowError(f"a currency symbol in a quantity: {value!r}", field)
        allowed = _SYMBOL_CURRENCIES[symbol.group(2)]
        if currency and currency.strip().upper() not in allowed:
            raise RowError(
                f"currency symbol {symbol.group(2)!r} contradicts the file's currency "
                f"{currency.strip().upper()}: {value!r}",
                field,
            )
        text = symbol.group(1) + text[symbol.end() :]
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        return Decimal(text)
    except decimal.InvalidOperation:
        raise RowError(f"not a number: {value!r}", field) from None


def _checked(number: Decimal, value: object, field: str, bounded: bool) -> Decimal:
    if not number.is_finite():
        raise RowError(f"not a finite number: {value!r}", field)
    if bounded and abs(number) > MAX_MAGNITUDE:
        raise RowError(f"out of range (beyond 1e15): {value!r}", field)
    if number and number.as_tuple().exponent < MIN_EXPONENT:  # type: ignore[operator]
        raise RowError(f"more than {-MIN_EXPONENT} decimal places: {value!r}", field)
    if number.is_zero() and number.is_signed():
        return Decimal(0).quantize(number)  # -0 is 0: never a "negative" zero in the store
    return number


def count(value: object, field: str) -> int:
    """A whole count (tokens, requests). Accepts `3.0` and `1,234`; refuses `2.5` and negatives
    only when they are not whole numbers (negative usage rows are refunds, kept as such)."""
    number = decimal_or_none(value, field)
    if number is None:
        return 0
    if number != number.to_integral_value():
        raise RowError(f"expected a whole number, got {value!r}", field)
    return int(number)


def tokens(value: object, field: str) -> int:
    number = count(value, field)
    if number < 0:
        raise RowError(f"token count is negative: {value!r}", field)
    return number


def text_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else str(value).strip()
    return None if text in NULLS else text


def column_tags(row: dict[str, Any], columns: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{tag: value} for each (column, tag) whose column holds a non-null value."""
    tags = {}
    for column, tag in columns:
        value = text_or_none(row.get(column))
        if value is not None:
            tags[tag] = value
    return tags


def utc_from_unix(seconds: object, field: str) -> dt.datetime:
    number = decimal_or_none(seconds, field)
    if number is None:
        raise RowError("missing timestamp", field)
    if number < 0 or number * 1_000_000_000 > _MAX_UNIX_NANOS:
        raise RowError(f"not a time in Unix seconds: {seconds!r}", field)
    return _EPOCH + dt.timedelta(seconds=int(number))


def utc_from_unix_nano(nanos: object, field: str) -> dt.datetime:
    # Nanoseconds since 1970 are ~1.8e18: beyond the 1e15 bound of costs and counts.
    number = _number(nanos, field, currency=None, money=False, bounded=False) or Decimal(0)
    if number != number.to_integral_value() or number < 0 or number > _MAX_UNIX_NANOS:
        raise RowError(f"not a time in Unix nanoseconds: {nanos!r}", field)
    return _EPOCH + dt.timedelta(microseconds=int(number) // 1000)


def utc_time(value: object, field: str) -> dt.datetime:
    """Any timestamp spelling seen in exports, as an aware UTC datetime.

    RFC 3339 (`2025-08-01T00:00:00Z`, `+00:00`), `YYYY-MM-DD HH:MM:SS` without a zone (taken as
    UTC, as FOCUS requires), dates alone, US `MM/DD/YYYY` (Azure EA) and `M/D/YY` (FOCUS spec
    examples), and Unix seconds.
    """
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if is_null(value):
        raise RowError("missing timestamp", field)
    return _utc_text(value if isinstance(value, str) else str(value), field)


@functools.lru_cache(maxsize=8192)
def _utc_text(value: str, field: str) -> dt.datetime:
    # Billing files repeat the same period strings on every row: parse each once.
    text = value.strip()
    if text.isdigit():
        return utc_from_unix(text, field)
    us_date = _US_DATE.match(text)
    if us_date:
        return _us_date(us_date, value, field)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", ""))
    except ValueError:
        raise RowError(f"not a date or time: {value!r}", field) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _us_date(match: re.Match[str], value: object, field: str) -> dt.datetime:
    month, day, year, hour, minute, second = match.groups()
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    try:
        return dt.datetime(
            full_year, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            tzinfo=dt.UTC,
        )  # fmt: skip
    except ValueError:
        raise RowError(f"not a date: {value!r}", field) from None


def next_day(moment: dt.datetime) -> dt.datetime:
    return moment + dt.timedelta(days=1)


def stable_key(*parts: object) -> str:
    """A short, stable hash of the parts: the record_key that makes re-imports add nothing."""
    return _text_hash("\x1f".join(map(str, parts)))


def stable_key_of_texts(*texts: str) -> str:
    """`stable_key` of parts that are all `str` (a CSV row's cells), without a `str()` call
    for each: half the time of a bill's row key (issue 17). A part that is no `str` is a
    TypeError, never another key."""
    return _text_hash("\x1f".join(texts))


def _text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


# Occurrences keeps this many keys in a dict before it moves them to disk (about 15 MB).
SPILL_AT = 100_000
# The Bloom filter of the keys on disk: 32 MB, three bits a key (`_bloom_bits`). A "maybe"
# that is false costs a look-up in every run on disk (store.scratch): about 2 in a million
# keys at 1M rows, 0.13% at 10M (100 runs).
BLOOM_BITS = 1 << 28


class Occurrences:
    """Numbers identical rows within one file (`#0`, `#1`, ...), so that two genuinely equal
    line items both survive while re-importing the same file still matches key for key.

    Every key of the file must be remembered, yet memory stays flat (issue 17): past SPILL_AT
    keys the counts move to disk (store.scratch: sorted runs in a private temporary file), and
    a fixed-size Bloom filter of what moved there spares the disk look-up for a key never seen
    before (nearly every key of a bill). The numbering is exactly that of one dict of every
    key."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._disk: KeyCounts | None = None  # once keys have moved to disk
        self._bloom = bytearray()

    def key(self, base: str) -> str:
        n = self._seen.get(base)
        if n is None:
            n = self._on_disk(base) if self._disk is not None else 0
        self._seen[base] = n + 1
        if len(self._seen) >= SPILL_AT:
            self._spill()
        return base if n == 0 else f"{base}#{n}"

    def _on_disk(self, base: str) -> int:
        bloom, (one, two, three) = self._bloom, _bloom_bits(base)
        if (
            not (bloom[one >> 3] >> (one & 7)) & 1
            or not (bloom[two >> 3] >> (two & 7)) & 1
            or not (bloom[three >> 3] >> (three & 7)) & 1
        ):
            return 0  # never moved to disk: the Bloom filter has no false negatives
        assert self._disk is not None  # key() asks only once keys have moved
        return self._disk.get(base)

    def _spill(self) -> None:
        if self._disk is None:
            from tokcli.store.scratch import KeyCounts

            self._disk = KeyCounts()
            self._bloom = bytearray(BLOOM_BITS // 8)
        self._disk.add_run(self._seen.items())
        bloom = self._bloom
        for base in self._seen:
            one, two, three = _bloom_bits(base)
            bloom[one >> 3] |= 1 << (one & 7)
            bloom[two >> 3] |= 1 << (two & 7)
            bloom[three >> 3] |= 1 << (three & 7)
        self._seen.clear()

    def __getstate__(self) -> dict[str, Any]:
        # Sent to a parse worker before any row (importers/parse_worker.py): nothing on disk.
        if self._disk is not None:
            raise TypeError("Occurrences with keys on disk cannot be copied")
        return self.__dict__


def _bloom_bits(base: str) -> tuple[int, int, int]:
    """Three bit positions of a key, by double hashing of hash() (stable within the process
    holding the filter; BLOOM_BITS is a power of two)."""
    code, mask = hash(base), BLOOM_BITS - 1
    one, step = code & mask, ((code >> 32) & mask) | 1
    two = (one + step) & mask
    return one, two, (two + step) & mask
