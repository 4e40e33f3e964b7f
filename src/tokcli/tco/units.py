"""Parsing the numbers people type: token volumes with suffixes, ranges, fractions, percents.

Every parser raises an OptionError naming the option (the CLI shows its flag) or the config
key it came from, so the CLI prints one line and exits 2.
Numbers are parsed as Decimal from their text; floats from a TOML config go through `str()`,
whose shortest round-trip text is what the user wrote (0.1 stays exactly 0.1).
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

from tokcli.errors import OptionError
from tokcli.money import MONEY_CONTEXT

SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
# A volume per year is divided by 12 to give the monthly volume the model works in.
PERIODS = {"": 1, "mo": 1, "month": 1, "yr": 12, "y": 12, "year": 12}
_VOLUME = re.compile(
    r"^\s*(?P<number>[0-9][0-9_,]*(\.[0-9]+)?)\s*(?P<suffix>[kmbgt]?)\s*"
    r"(/\s*(?P<period>mo|month|yr|y|year))?\s*$",
    re.IGNORECASE,
)


def decimal_of(value: object, option: str) -> Decimal:
    """A finite Decimal from a string, int or (config) float, or an OptionError naming `option`."""
    if isinstance(value, bool):
        raise OptionError.at(option, f"expected a number, got {value!r}")
    text = str(value).strip().replace("_", "")
    try:
        number = Decimal(text)
    except decimal.InvalidOperation:
        raise OptionError.at(option, f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise OptionError.at(option, f"expected a finite number, got {value!r}")
    return number


def parse_volume(value: object, option: str = "{volume}") -> int:
    """Tokens per month from `1B`, `1.5B`, `500M`, `10k`, `49B/yr`, `1000000`. Whole tokens."""
    if isinstance(value, int) and not isinstance(value, bool):
        tokens = Decimal(value)
    else:
        match = _VOLUME.match(str(value))
        if match is None:
            raise OptionError.at(
                option, f"expected a token volume such as 500M, 1.5B or 49B/yr, got {value!r}"
            )
        number = Decimal(match["number"].replace(",", "").replace("_", ""))
        scale = SUFFIXES[match["suffix"].upper()]
        per = PERIODS[(match["period"] or "").lower()]
        tokens = number * scale / per
    if tokens <= 0:
        raise OptionError.at(option, f"the volume must be more than 0 tokens, got {value!r}")
    # A fraction of a token means nothing: round to whole tokens (49B/yr -> 4,083,333,333).
    return int(tokens.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def parse_volume_range(value: object, option: str = "{volume}") -> tuple[int, int | None]:
    """`1B` -> (1B, None); `10M..100B` -> (10M, 100B). The range must go upwards."""
    text = str(value)
    if ".." not in text:
        return parse_volume(text, option), None
    low_text, _, high_text = text.partition("..")
    low, high = parse_volume(low_text, option), parse_volume(high_text, option)
    if high <= low:
        raise OptionError.at(option, f"a range must go from low to high, got {value!r}")
    return low, high


def parse_fraction(value: object, option: str, *, allow_zero: bool = True) -> Decimal:
    """A share between 0 and 1: `0.5` or `50%`."""
    text = str(value).strip()
    fraction = (
        decimal_of(text[:-1], option) / 100 if text.endswith("%") else decimal_of(text, option)
    )
    low_ok = fraction >= 0 if allow_zero else fraction > 0
    if not low_ok or fraction > 1:
        bound = "0" if allow_zero else "more than 0"
        raise OptionError.at(
            option, f"expected a share from {bound} to 1 (or 0%-100%), got {value!r}"
        )
    return fraction


def parse_percent(
    value: object, option: str, *, maximum: Decimal | None = Decimal(100), minimum=Decimal(0)
) -> Decimal:
    """A percentage typed as `50%` or as a fraction `0.5` (both 50%), returned as 0.5.

    A bare number above 1 is refused: `0.5` and `50` used to mean 0.5% and 50%, while the JSON
    output writes fractions, so tokcli's own output fed back in was 100x off.
    """
    text = str(value).strip()
    if text.endswith("%"):
        percent = decimal_of(text.removesuffix("%").strip(), option)
    else:
        fraction = decimal_of(text, option)
        if fraction.copy_abs() > 1:
            raise OptionError.at(
                option,
                f"{value!r} is ambiguous: write a percentage with % ({text}%) or a "
                f"fraction ({fraction / 100} for {text}%)",
            )
        percent = MONEY_CONTEXT.multiply(fraction, 100)
    if percent < minimum or (maximum is not None and percent > maximum):
        top = f"{maximum}%" if maximum is not None else "any"
        raise OptionError.at(
            option, f"expected a percentage from {minimum}% to {top}, got {value!r}"
        )
    return MONEY_CONTEXT.divide(percent, 100)  # exact: 60 digits, not the caller's 28


def parse_positive(value: object, option: str, *, allow_zero: bool = False) -> Decimal:
    number = decimal_of(str(value).strip().lstrip("$"), option)
    if number < 0 or (number == 0 and not allow_zero):
        wanted = "0 or more" if allow_zero else "more than 0"
        raise OptionError.at(option, f"expected a number {wanted}, got {value!r}")
    return number


def parse_whole(value: object, option: str, *, minimum: int = 1) -> int:
    number = decimal_of(value, option)
    if number != number.to_integral_value() or number < minimum:
        raise OptionError.at(option, f"expected a whole number >= {minimum}, got {value!r}")
    return int(number)


def parse_mix(value: object, option: str = "{mix}") -> Decimal:
    """Input:output ratio `3:1` (or an output share `0.25`) -> the output share of all tokens."""
    text = str(value).strip()
    if ":" not in text:
        return parse_fraction(text, option)
    input_text, _, output_text = text.partition(":")
    input_part = parse_positive(input_text, option, allow_zero=True)
    output_part = parse_positive(output_text, option, allow_zero=True)
    if input_part + output_part == 0:
        raise OptionError.at(option, f"input and output cannot both be 0, got {value!r}")
    return output_part / (input_part + output_part)


def short_tokens(tokens: int | Decimal) -> str:
    """10_000_000 -> '10M', 1_500_000_000 -> '1.5B': compact labels for tables and charts."""
    amount = Decimal(tokens)
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("k", 10**3)):
        if abs(amount) >= scale:
            scaled = (amount / scale).quantize(Decimal("0.01"), rounding=decimal.ROUND_HALF_EVEN)
            text = format(scaled.normalize(), "f")
            return f"{text}{suffix}"
    return format(amount.quantize(Decimal(1)), "f")
