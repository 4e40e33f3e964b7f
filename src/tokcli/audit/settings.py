"""Audit settings: `[audit]` in tokcli.toml (or `[tool.tokcli.audit]`), overridden by options."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tokcli.audit.findings import Severity
from tokcli.errors import OptionError, TokcliError

KNOWN_KEYS = {
    "select",
    "ignore",
    "per-file-ignores",
    "severity",
    "fail-on",
    "exclude",
    "model",
    "requests",
    "per",
    "max-tokens",
    "stable-tokens",
    "example-tokens",
    "duplicate-similarity",
    "error-saving",  # USD a month a fix must save for its finding to be an error
    "format",  # read by the command (default output format for audit)
}


@dataclass
class AuditSettings:
    enabled: set[str]  # rule codes
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: list[tuple[str, set[str]]] = field(default_factory=list)
    fail_on: Severity | None = Severity.error  # None: never fail
    exclude: list[str] = field(default_factory=list)
    # Model and volume: the command line wins over a template's front matter, which wins over
    # the config ("default_" values).
    model: str | None = None
    requests: int | None = None
    per: str = "month"
    default_model: str | None = None
    default_requests: int | None = None
    default_per: str = "month"
    max_tokens: int | None = None
    stable_tokens: int = 64  # smallest stable run worth a cache-breaking-prefix finding
    example_tokens: int = 300  # few-shot blocks above this are "large"
    duplicate_similarity: float = 0.8
    # A finding is an `error` only when its fix saves at least this much a month (USD).
    error_saving: Decimal = Decimal("10")

    def enabled_for(self, path: str) -> set[str]:
        ignored: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if path_matches(path, pattern):
                ignored |= codes
        return self.enabled - ignored


def path_matches(path: str, pattern: str) -> bool:
    path = path.replace("\\", "/").removeprefix("./")
    pattern = pattern.replace("\\", "/").removeprefix("./")
    if fnmatch.fnmatch(path, pattern):
        return True
    if "/" not in pattern:  # a bare name or glob matches in any folder
        return fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatch(path, pattern.rstrip("/") + "/*")


def resolve_selectors(items, *, field: str) -> set[str]:
    """Rule codes for selectors: "ALL", a code ("TC101"), a code prefix ("TC1"), or a name.
    `field` is a config key (`audit.select`) or an option as `{option}` (the CLI shows its flag)."""
    from tokcli.audit.rules import RULES

    if isinstance(items, str):
        items = [i for i in items.split(",")]
    if not isinstance(items, list):
        raise OptionError.at(field, "expected a list of rule codes or names")
    codes: set[str] = set()
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        matched = {
            r.info.code
            for r in RULES
            if item.upper() == "ALL"
            or r.info.name == item.lower()
            or r.info.code.startswith(item.upper())
        }
        if not matched:
            raise OptionError.at(field, f"unknown rule {item!r} (see `tokcli audit --list-rules`)")
        codes |= matched
    return codes


def _normalised(section: dict) -> dict:
    out = {}
    for key, value in section.items():
        name = str(key).replace("_", "-")
        if name not in KNOWN_KEYS:
            raise TokcliError(
                f"config: audit.{key}: unknown key; known: {', '.join(sorted(KNOWN_KEYS))}"
            )
        out[name] = value
    return out


def _positive_int(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TokcliError(f"{field}: expected a whole number >= 0, got {value!r}")
    return value


def build_settings(section: dict, options: dict) -> AuditSettings:
    """Config section + command-line options (None = not given) -> settings."""
    from tokcli.audit.rules import RULES
    from tokcli.audit.rules.diagnostics import DIAGNOSTIC_CODES

    config = _normalised(section)
    select = options.get("select") or config.get("select")
    defaults = {r.info.code for r in RULES if r.info.default_enabled}
    enabled = resolve_selectors(select, field="audit.select") if select else defaults
    enabled |= DIAGNOSTIC_CODES  # what could not be checked is always said, unless ignored
    enabled -= resolve_selectors(config.get("ignore", []), field="audit.ignore")
    enabled -= resolve_selectors(options.get("ignore") or [], field="{ignore}")
    settings = AuditSettings(enabled=enabled)
    severity = config.get("severity", {})
    if not isinstance(severity, dict):
        raise TokcliError("config: audit.severity: expected a table of rule = severity")
    for selector, level in severity.items():
        for code in resolve_selectors([selector], field="audit.severity"):
            settings.severity[code] = Severity.parse(level, field=f"audit.severity.{selector}")
    per_file = config.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise TokcliError("config: audit.per-file-ignores: expected a table of glob = [rules]")
    for pattern, selectors in per_file.items():
        codes = resolve_selectors(selectors, field=f"audit.per-file-ignores.{pattern!r}")
        settings.per_file_ignores.append((str(pattern), codes))
    fail_on = options.get("fail_on") or config.get("fail-on")
    if fail_on is not None:
        settings.fail_on = None if fail_on == "never" else Severity.parse(fail_on, field="fail-on")
    settings.exclude = list(config.get("exclude", [])) + list(options.get("exclude") or [])
    settings.model = options.get("model")
    settings.default_model = config.get("model")
    _volume(settings, config, options)
    if config.get("max-tokens") is not None:
        settings.max_tokens = _positive_int(config["max-tokens"], "config: audit.max-tokens")
    for key in ("stable-tokens", "example-tokens"):
        if key in config:
            value = _positive_int(config[key], f"config: audit.{key}")
            setattr(settings, key.replace("-", "_"), value)
    if "error-saving" in config:
        settings.error_saving = _money(config["error-saving"], "config: audit.error-saving")
    if "duplicate-similarity" in config:
        settings.duplicate_similarity = _similarity(config["duplicate-similarity"])
    return settings


def _volume(settings: AuditSettings, config: dict, options: dict) -> None:
    if options.get("requests") is not None:
        settings.requests = options["requests"]
        settings.per = options.get("per") or "month"
    if config.get("requests") is not None:
        settings.default_requests = _positive_int(config["requests"], "config: audit.requests")
        settings.default_per = config.get("per", "month")
    if settings.default_per not in ("day", "month"):
        raise TokcliError(f"config: audit.per: expected day or month, got {settings.default_per!r}")


def _similarity(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if not 0 < number <= 1:
        raise TokcliError(f"config: audit.duplicate-similarity: expected 0 < x <= 1, got {value!r}")
    return number


def _money(value, field: str) -> Decimal:
    """A dollar amount from TOML: an integer or a decimal string (floats are not exact)."""
    if isinstance(value, bool | float):
        raise TokcliError(f'{field}: give dollars as an integer or a string such as "2.50"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        raise TokcliError(f"{field}: expected an amount of dollars >= 0, got {value!r}")
    return amount
