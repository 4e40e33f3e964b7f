"""Tag keys from every source's own encoding, normalised through the `[tags]` config table.

Each provider spells the same tag differently: FOCUS `team`, AWS `user:Team`, a LiteLLM request
tag `team:search`. The config maps aliases to one canonical key so that `report --by team`
sees them all:

    [tags]
    team = ["team", "user:Team", "resourceTags/user:team"]
    environment = ["env", "Environment"]

Alias matching ignores case and surrounding whitespace (the FOCUS sample has a key `" org"`).
Keys without an alias are kept as written, minus the whitespace. Empty values are dropped:
an Azure tag cell `"org": ""` says nothing about the row.
"""

from __future__ import annotations

from collections.abc import Mapping

from tokcli.errors import TokcliError


class TagMap:
    def __init__(self, aliases: Mapping[str, str] | None = None):
        self._aliases = {k.strip().lower(): v for k, v in (aliases or {}).items()}

    @classmethod
    def from_config(cls, section: Mapping[str, object]) -> TagMap:
        """Build from the `[tags]` table: canonical key -> list of aliases (or one string)."""
        aliases: dict[str, str] = {}
        for canonical, spellings in section.items():
            if isinstance(spellings, str):
                spellings = [spellings]
            if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
                raise TokcliError(
                    f"config [tags]: {canonical} must be a list of tag names, e.g. "
                    f'{canonical} = ["{canonical}", "user:{canonical.title()}"]'
                )
            aliases[canonical.strip().lower()] = canonical.strip()
            for spelling in spellings:
                aliases[spelling.strip().lower()] = canonical.strip()
        return cls(aliases)

    def key(self, raw: str) -> str:
        stripped = raw.strip()
        return self._aliases.get(stripped.lower(), stripped)

    def normalise(self, tags: Mapping[str, object]) -> dict[str, str]:
        result: dict[str, str] = {}
        for raw_key, value in tags.items():
            if value is None or raw_key is None or not str(raw_key).strip():
                continue
            text = _tag_text(value)
            if text == "":
                continue
            result[self.key(str(raw_key))] = text
        return result


def tag_texts(tags: Mapping[str, object]) -> dict[str, str]:
    """A source's tag object (JSON values) as text values, as the store keeps them; a key
    without a value (JSON null) is dropped."""
    return {str(key): _tag_text(value) for key, value in tags.items() if value is not None}


def _tag_text(value: object) -> str:
    if value is True:
        return "true"  # FOCUS: a valueless tag key is written as true
    if value is False:
        return "false"
    return str(value).strip()


def parse_key_value_list(items: object, separator: str = ":") -> dict[str, str]:
    """LiteLLM request tags and similar: `["team:search", "prod"]` -> {team: search, prod: true}."""
    tags: dict[str, str] = {}
    if not isinstance(items, list):
        return tags
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        key, found, value = item.partition(separator)
        tags[key.strip()] = value.strip() if found else "true"
    return tags
