"""`tokcli report --format html`: one self-contained page (inline CSS and SVG, no scripts, no
network) that can be mailed or attached to a ticket."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape

from tokcli.money import display

CHART_WIDTH = 760
CHART_HEIGHT = 220
MAX_BARS = 25

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.facts{color:#52606d}svg text{font-size:11px;fill:#52606d}
.bar{fill:#3b82f6}.zero{fill:#cbd2d9}
"""


def render_page(doc: dict, title: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="facts">{escape(_facts(doc))}</p>',
    ]
    if len(doc.get("daily", [])) > 1:
        parts += ["<h2>Spend per day</h2>", daily_chart(doc["daily"])]
    rows = doc.get("rows", [])
    if doc.get("group_by") and rows:
        parts += [f"<h2>Spend by {escape(', '.join(doc['group_by']))}</h2>", group_chart(doc)]
    parts += ["<h2>Rows</h2>", _rows_table(doc)]
    if doc.get("forecast"):
        parts += ["<h2>Forecast</h2>", _forecast(doc["forecast"])]
    if doc.get("anomalies") is not None:
        parts += ["<h2>Anomalies</h2>", _anomalies(doc)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _money(value) -> str:
    return "-" if value is None else display(Decimal(value))


def _facts(doc: dict) -> str:
    total = doc.get("total", {})
    daily = doc.get("daily") or [{"day": "-"}]
    span = f"{doc.get('since') or daily[0]['day']} to {doc.get('until') or daily[-1]['day']}"
    return (
        f"{span} · {doc.get('cost_basis', 'billed')} cost {_money(total.get('spend'))} · "
        f"{total.get('requests', 0):,} requests · {total.get('usage_rows', 0):,} usage rows"
    )


def daily_chart(daily: list[dict]) -> str:
    """Vertical bars, one per day, scaled to the largest day; labels on the first and last."""
    largest = max((Decimal(d["spend"]) for d in daily), default=Decimal(0))
    slot = CHART_WIDTH / len(daily)
    bars = []
    for index, point in enumerate(daily):
        spend = Decimal(point["spend"])
        height = float(spend / largest) * (CHART_HEIGHT - 30) if largest > 0 else 0
        height = max(height, 1.0)
        x = index * slot
        css = "bar" if spend > 0 else "zero"
        day = point["day"]
        label = day.isoformat() if isinstance(day, dt.date) else str(day)
        bars.append(
            f'<rect class="{css}" x="{x + 1:.1f}" y="{CHART_HEIGHT - 20 - height:.1f}" '
            f'width="{max(slot - 2, 1):.1f}" height="{height:.1f}">'
            f"<title>{escape(label)}: {escape(_money(spend))}</title></rect>"
        )
    first, last = daily[0]["day"], daily[-1]["day"]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" '
        f'height="{CHART_HEIGHT}" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}">'
        f"<title>spend per day, largest {escape(_money(largest))}</title>"
        + "".join(bars)
        + f'<text x="0" y="{CHART_HEIGHT - 4}">{escape(str(first))}</text>'
        f'<text x="{CHART_WIDTH}" y="{CHART_HEIGHT - 4}" text-anchor="end">{escape(str(last))}'
        f"</text></svg>"
    )


def group_chart(doc: dict) -> str:
    """Horizontal bars, one per row (the first MAX_BARS), labelled with the group and spend."""
    rows = doc["rows"][:MAX_BARS]
    keys = doc["group_by"]
    largest = max((Decimal(r["spend"]) for r in rows), default=Decimal(0))
    label_width, row_height = 220, 22
    bar_space = CHART_WIDTH - label_width - 90
    height = row_height * len(rows) + 4
    items = []
    for index, row in enumerate(rows):
        spend = Decimal(row["spend"])
        width = float(spend / largest) * bar_space if largest > 0 and spend > 0 else 0
        y = index * row_height + 2
        label = " · ".join(_label(row.get(k)) for k in keys)
        items.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{width:.1f}" height="16">'
            f"<title>{escape(label)}: {escape(_money(spend))}</title></rect>"
            f'<text x="{label_width + width + 6:.1f}" y="{y + 15}">{escape(_money(spend))}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">' + "".join(items) + "</svg>"
    )


def _label(value) -> str:
    return "(untagged)" if value is None else str(value)


_ROW_COLUMNS = (  # (key, header, kind)
    ("billed_cost", "billed", "money"),
    ("list_cost", "list", "money"),
    ("share", "share", "percent"),
    ("output_share", "output share", "percent"),
    ("requests", "requests", "int"),
    ("input_tokens", "input tok", "int"),
    ("cache_read_tokens", "cache read", "int"),
    ("cache_write_tokens", "cache write", "int"),
    ("output_tokens", "output tok", "int"),
    ("forecast_weighted", "forecast", "money"),
    ("shared_cost", "shared", "money"),
    ("spend_with_shared", "with shared", "money"),
)


def _cell(value, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "money":
        return _money(value)
    if kind == "percent":
        return f"{Decimal(value) * 100:.1f}%"
    return f"{value:,}"


def _rows_table(doc: dict) -> str:
    keys = doc.get("group_by", [])
    rows = doc.get("rows", [])
    columns = [c for c in _ROW_COLUMNS if any(c[0] in row for row in rows)]
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    head += "".join(f'<th class="n">{escape(header)}</th>' for _, header, _ in columns)
    body = []
    for row in rows:
        cells = "".join(f"<td>{escape(_label(row.get(k)))}</td>" for k in keys)
        cells += "".join(
            f'<td class="n">{escape(_cell(row.get(key), kind))}</td>' for key, _, kind in columns
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _forecast(forecast: dict) -> str:
    return (
        f"<p>{escape(str(forecast['period_start']))} to {escape(str(forecast['period_end']))}: "
        f"actual {escape(_money(forecast['actual']))}, forecast "
        f"{escape(_money(forecast['forecast_weighted']))} (recent days weighted), "
        f"{escape(_money(forecast['forecast_linear']))} (linear), from "
        f"{forecast['complete_days']} complete days of {forecast['days']}.</p>"
    )


def _anomalies(doc: dict) -> str:
    items = doc["anomalies"]["items"]
    if not items:
        return "<p>No anomalies.</p>"
    keys = [k for k in doc.get("group_by", []) if k not in ("day", "week", "month")]
    head = "".join(f"<th>{escape(k)}</th>" for k in keys) + (
        "<th>kind</th><th>period</th><th class='n'>spend</th><th class='n'>baseline</th>"
        "<th class='n'>ratio</th>"
    )
    body = []
    for item in items:
        cells = "".join(f"<td>{escape(_label(item.get(k)))}</td>" for k in keys)
        cells += (
            f"<td>{escape(item['kind'])}</td><td>{escape(item['period'])}</td>"
            f'<td class="n">{escape(_money(item["spend"]))}</td>'
            f'<td class="n">{escape(_money(item["baseline"]))}</td>'
            f'<td class="n">{escape(str(item["ratio"]))}x</td>'
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
