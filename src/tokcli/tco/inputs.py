"""The inputs of `tokcli tco`: each a flag and a config key, each default with its source.

Precedence: flag > config (`[tco]` in tokcli.toml, key = the flag's name with `_` for `-`) >
default. Every resolved value is recorded as an `Assumption`, which the output prints, so a
reader can see what the answer rests on and where each number came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tokcli.errors import OptionError
from tokcli.money import plain
from tokcli.tco import units
from tokcli.tco.defaults import (
    ENGINEER_RATE,
    FACTS,
    GPUS,
    RESERVED_FACTOR,
    RESERVED_SOURCE,
    WORK_HOURS_PER_YEAR,
    gpu_profile,
)

Parser = Callable[[object, str], Any]
# resolved-so-far -> (raw default or None, source)
DefaultRule = Callable[[dict[str, Any]], tuple[Any, str]]


@dataclass(frozen=True)
class Setting:
    key: str  # config key in the section; the flag is --key with '-' for '_'
    parse: Parser
    default: DefaultRule
    many: bool = False  # a repeatable flag / a config list
    unit: str = ""  # "percent" (typed as 50, held as 0.5) or "tokens": how a person reads it

    @property
    def flag(self) -> str:
        """The flag of the setting, shown in the assumptions table (a key of the JSON output)."""
        return "--" + self.key.replace("_", "-")

    @property
    def option(self) -> str:
        """The setting as an OptionError names it: the CLI prints its flag."""
        return "{" + self.key + "}"


@dataclass(frozen=True)
class Assumption:
    key: str
    flag: str
    value: Any
    origin: str  # "flag", "config" or "default"
    source: str
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "flag": self.flag,
            "value": _json_value(self.value),
            "origin": self.origin,
            "source": self.source,
        }


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return value


def shown(value: Any, unit: str = "") -> str:
    """A resolved value as a person reads it: 50%, 10M..100B, 1:1 ratios stay as typed."""
    from tokcli.tco.units import short_tokens

    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(shown(v, unit) for v in value)
    if unit == "percent":
        return f"{plain(value * 100)}%"
    if unit == "tokens" and isinstance(value, tuple):
        return "..".join(short_tokens(v) for v in value if v is not None)
    if unit == "tokens":
        return short_tokens(value)
    if unit == "output share":
        return f"{plain(value)} output share"
    return plain(value) if isinstance(value, Decimal) else str(value)


def fixed(raw: Any, source: str) -> DefaultRule:
    return lambda _resolved: (raw, source)


def resolve(
    settings: list[Setting], flags: Mapping[str, Any], config: Mapping[str, Any], section: str
) -> tuple[dict[str, Any], list[Assumption]]:
    """Each setting from its flag, else the config, else its default; in the settings' order,
    so later defaults can depend on earlier values (the GPU type sets its throughput)."""
    values: dict[str, Any] = {}
    assumptions: list[Assumption] = []
    for setting in settings:
        # Errors name the option as {key} (the CLI shows the flag) or the config key.
        raw, origin, where = flags.get(setting.key), "flag", setting.option
        if raw in (None, []) and setting.key in config:
            raw, origin, where = config[setting.key], "config", f"config {section}.{setting.key}"
        source = "given"
        if raw in (None, []):
            raw, source = setting.default(values)
            origin, where = "default", setting.option
        if raw is None:
            values[setting.key] = None
        elif setting.many:
            items = raw if isinstance(raw, list | tuple) else [raw]
            values[setting.key] = [setting.parse(item, where) for item in items]
        else:
            values[setting.key] = setting.parse(raw, where)
        assumptions.append(
            Assumption(setting.key, setting.flag, values[setting.key], origin, source, setting.unit)
        )
    return values, assumptions


def unknown_keys(settings: list[Setting], config: Mapping[str, Any], nested=()) -> list[str]:
    known = {s.key for s in settings} | set(nested)
    return sorted(k for k in config if k not in known)


# -- parsers with the shapes the settings need ----------------------------------------------


def _text(value: object, option: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OptionError.at(option, f"expected text, got {value!r}")
    return value.strip()


def _gpu(value: object, option: str) -> str:
    profile = gpu_profile(str(value))
    if profile is None:
        raise OptionError.at(option, f"unknown GPU {value!r}; known: {', '.join(GPUS)}")
    return profile.name


def _choice(*choices: str) -> Parser:
    def parse(value: object, option: str) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise OptionError.at(option, f"expected one of {', '.join(choices)}, got {value!r}")
        return text

    return parse


def _steps(value: object, option: str) -> int | str:
    if str(value).strip() == "1-2-5":
        return "1-2-5"
    steps = units.parse_whole(value, option, minimum=2)
    if steps > 100_000:
        raise OptionError.at(option, f"at most 100000 steps, got {value!r}")
    return steps


def _sweep(value: object, option: str) -> tuple[int, int]:
    low, high = units.parse_volume_range(value, option)
    if high is None:
        raise OptionError.at(option, f"expected a range such as 10M..100B, got {value!r}")
    return low, high


def _positive(value, option):
    return units.parse_positive(value, option)


def _zero_or_more(value, option):
    return units.parse_positive(value, option, allow_zero=True)


def _share(value, option):
    return units.parse_fraction(value, option)


def _utilisation(value, option):
    return units.parse_fraction(value, option, allow_zero=False)


def _open_percent(value, option):
    return units.parse_percent(value, option, maximum=None)


def _growth(value, option):
    return units.parse_percent(value, option, maximum=None, minimum=Decimal(-99))


def _whole(value, option):
    return units.parse_whole(value, option)


def _profile_default(attribute: str, source_attribute: str) -> DefaultRule:
    def rule(values: dict[str, Any]) -> tuple[Any, str]:
        profile = GPUS[values["gpu"]]
        return getattr(profile, attribute), getattr(profile, source_attribute)

    return rule


def _reserved_default(values: dict[str, Any]) -> tuple[Any, str]:
    return values["neocloud_gpu_hour"] * RESERVED_FACTOR, RESERVED_SOURCE


_S003_ENGINEERS = "S003: '1-2 dedicated engineers per significant deployment' (§4.3), lower end"
_NO_SOURCE = f"tokcli assumption: {FACTS} gives no figure; set your own"

TCO_SETTINGS: list[Setting] = [
    Setting(
        "volume",
        lambda v, o: units.parse_volume_range(v, o),
        fixed("500M", "S003 ch.9: the 500M tokens/month crossover (PRICING-FACTS C25)"),
        unit="tokens",
    ),
    Setting(
        "sweep", _sweep, fixed("10M..100B", "issue 8: 10M to 100B tokens a month"), unit="tokens"
    ),
    Setting("steps", _steps, fixed("1-2-5", "tokcli: 1-2-5 per decade, round volumes")),
    Setting(
        "mix",
        lambda v, o: units.parse_mix(v, o),
        fixed("1:1", "§4.1 TRT ISL/OSL 1000/1000, the workload behind the throughput default"),
        unit="output share",
    ),
    Setting(
        "api_model",
        _text,
        fixed(["claude-sonnet-4-6"], "S003 ch.9: Sonnet 4.6 against Llama 3.3 70B (C25)"),
        many=True,
    ),
    Setting("api_blended_price", _zero_or_more, fixed(None, "not set: registry prices")),
    Setting("cache_hit_rate", _share, fixed("0", "tokcli: no prompt caching assumed")),
    Setting("batch_share", _share, fixed("0", "tokcli: no batch traffic assumed")),
    Setting(
        "open_model",
        _text,
        fixed("llama-3.3-70b", "the model the throughput default measures; registry host price"),
    ),
    Setting("gpu", _gpu, fixed("H100", "§4.3")),
    Setting(
        "gpus_per_replica", _whole, _profile_default("gpus_per_replica", "gpus_per_replica_source")
    ),
    Setting("throughput", _positive, _profile_default("throughput", "throughput_source")),
    Setting(
        "input_weight",
        _share,
        fixed("0.1", "§4.1 note: count input at a 5-20x discount to output; 10x taken"),
    ),
    Setting("utilisation", _utilisation, fixed("0.5", "§4.3 (range 0.1-0.8)")),
    Setting(
        "headroom",
        _open_percent,
        fixed("0", "tokcli: utilisation 0.5 already provisions 2x the average load"),
        unit="percent",
    ),
    Setting("min_replicas", _whole, fixed("1", "tokcli: one replica, no failover spare")),
    Setting(
        "neocloud_plan",
        _choice("on-demand", "reserved"),
        fixed("on-demand", "§4.3: neocloud on-demand"),
    ),
    Setting("neocloud_gpu_hour", _positive, _profile_default("neocloud_hour", "neocloud_source")),
    Setting("neocloud_reserved_gpu_hour", _positive, _reserved_default),
    Setting("self_gpu_hour", _positive, _profile_default("owned_hour", "owned_source")),
    Setting("capex_per_gpu", _positive, fixed(None, "not set: self_gpu_hour is used")),
    Setting("amortise_years", _positive, fixed("3", "tokcli: the 3-year horizon of issue 8")),
    Setting("self_overhead", _open_percent, fixed("0", _NO_SOURCE), unit="percent"),
    Setting("self_fixed_monthly", _zero_or_more, fixed("0", _NO_SOURCE)),
    Setting("neocloud_overhead", _open_percent, fixed("0", _NO_SOURCE), unit="percent"),
    Setting("neocloud_fixed_monthly", _zero_or_more, fixed("0", _NO_SOURCE)),
    Setting("self_fte", _zero_or_more, fixed("1", _S003_ENGINEERS)),
    Setting("neocloud_fte", _zero_or_more, fixed("1", _S003_ENGINEERS)),
    Setting(
        "fte_cost",
        _zero_or_more,
        fixed(
            ENGINEER_RATE * WORK_HOURS_PER_YEAR,
            "$200/h (the guides' engineer rate, issue 8 payback example) x 2,080 h a year",
        ),
    ),
    Setting("months", _whole, fixed("36", "issue 8: 3-year cost")),
    Setting("growth", _growth, fixed("0", "tokcli: flat volume"), unit="percent"),
    Setting(
        "sensitivity",
        lambda v, o: units.parse_percent(v, o),
        fixed("25%", "tokcli: +/-25%"),
        unit="percent",
    ),
    Setting(
        "target_breakeven",
        lambda v, o: units.parse_volume(v, o),
        fixed(None, "not set"),
        unit="tokens",
    ),
]

_GUIDE_PAYBACK = "the guides' one-week sprint example (issue 8): 40 h x $200/h, $10,000/month, 50%"

PAYBACK_SETTINGS: list[Setting] = [
    Setting("hours", _positive, fixed("40", _GUIDE_PAYBACK)),
    Setting("rate", _zero_or_more, fixed("200", _GUIDE_PAYBACK)),
    Setting("monthly_spend", _zero_or_more, fixed("10000", _GUIDE_PAYBACK)),
    Setting(
        "saving",
        lambda v, o: units.parse_percent(v, o),
        fixed("50%", _GUIDE_PAYBACK),
        unit="percent",
    ),
]


def _required(values: dict[str, Any]) -> tuple[Any, str]:
    return None, "required"


COMMIT_SETTINGS: list[Setting] = [
    Setting("commit", _zero_or_more, _required),
    Setting("discount", lambda v, o: units.parse_percent(v, o), _required, unit="percent"),
    Setting("usage", _zero_or_more, _required, many=True),
    Setting(
        "discount_on",
        _choice("all", "above-floor"),
        fixed("all", "tokcli: the discount applies to all usage (the common commitment deal)"),
    ),
]
