"""The starter config that `tokcli init` writes: live settings via tomli-w, examples as comments."""

from __future__ import annotations

import tomli_w

HEADER = """\
# tokcli configuration. Precedence: command-line flags > this file (tokcli.toml) >
# [tool.tokcli] in pyproject.toml > the user config (~/.config/tokcli/config.toml).
# Paths are relative to this file.
"""

SETTINGS = {
    "format": "table",
    "pricing": [],
}

SETTING_COMMENTS = {
    "format": "# Default output format: table | json | csv | markdown.",
    "pricing": "# Pricing override files merged over the shipped registry (negotiated prices,\n"
    "# private models). Same schema as the registry: see `tokcli pricing validate FILE`.",
}

EXAMPLES = """
# Where the usage store lives (default: $XDG_DATA_HOME/tokcli/usage.db). Env: TOKCLI_STORE.
# store = "tokcli-usage.db"

# What `tokcli advise` aims for and may recommend.
# [advise]
# target_hit_rate = "80%"
# batchable_features = ["nightly-summary"]

# Per-prompt volumes for the CI gate (`tokcli estimate --baseline`).
# [[prompts]]
# path = "prompts/support.j2"
# model = "claude-sonnet-4-6"
# requests = 50000
# per = "month"

# Rules for `tokcli audit`.
# [audit]
# select = ["cache-breaking-prefix", "filler"]
# ignore = []

# Tag keys from billing exports folded into one name (`user:Team` and `team` -> team).
# [tags]
# team = ["team", "user:Team", "Team"]

# Budgets for `tokcli report budgets` and `tokcli budget check`.
# [[budgets]]
# scope = { team = "search" }
# amount = "5000"
# period = "month"
# alerts = [50, 75, 90, 100]
"""


def starter_config() -> str:
    parts = [HEADER]
    for key, value in SETTINGS.items():
        parts.append("\n" + SETTING_COMMENTS[key] + "\n" + tomli_w.dumps({key: value}))
    parts.append(EXAMPLES)
    return "".join(parts)
