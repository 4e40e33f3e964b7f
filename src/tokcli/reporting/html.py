"""`tokcli report --format html`: one self-contained page (inline CSS and SVG, no scripts, no
network) that can be mailed or attached to a ticket.

One section per currency. Each has: a chart with one bar per day of the range, stacked by the
first --by key (its biggest values, the rest as "(other)"), a y-axis labelled in that currency,
anomaly markers above the days that spiked; a cumulative chart with the budget and forecast
lines when they are configured; the top groups; and every row."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal
from html import escape

from tokcli.money import MONEY_CONTEXT, ZERO
from tokcli.reporting.valuation import money_text

CHART_WIDTH = 900
CHART_HEIGHT = 260
LEFT = 78  # room for the y-axis labels
BOTTOM = 24
TOP = 12
STACKED_SERIES = 7  # the biggest values of the first --by key get a colour; the rest: (other)
TOP_ROWS = 10
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#94a3b8")

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933;
max-width:1100px}
h1{font-size:1.4rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:2px solid #e4e7eb}
h3{font-size:1rem;margin-top:1.4rem}
table{border-collapse:collapse;font-size:.85rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.facts{color:#52606d}svg text{font-size:11px;fill:#52606d}
.grid{stroke:#e4e7eb}.axis{stroke:#9aa5b1}.zero{fill:#cbd2d9}
.budget{stroke:#dc2626;stroke-width:2;stroke-dasharray:6 4}
.forecast{stroke:#7c3aed;stroke-width:2;stroke-dasharray:3 3;fill:none}
.cumulative{stroke:#2563eb;stroke-width:2;fill:none}
.anomaly{fill:#dc2626}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px}
"""


def render_page(doc: dict, title: str, extras: dict | None = None) -> str:
    """`extras`: {"series": [...], "budgets": [...]} from report/document.py `page_extras`."""
    extras = extras or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="facts">{escape(_facts(doc))}</p>',
    ]
    if doc.get("fx"):
        fx = doc["fx"]
        pairs = ", ".join(f"1 {c} = {r} {fx['target']}" for c, r in fx["rates"].items())
        parts.append(f'<p class="facts">Converted with the rates given: {escape(pairs)}.</p>')
    several = len(doc.get("currencies", [])) > 1
    if several:
        parts.append(
            '<p class="facts">Spend is in several currencies; each has its own section and '
            "they are never added together.</p>"
        )
    for currency in doc.get("currencies", []):
        parts.append(f'<section class="currency" data-currency="{escape(currency)}">')
        if several:
            parts.append(f"<h2>Spend in {escape(currency)}</h2>")
        parts += _currency_section(doc, currency, extras)
        parts.append("</section>")
    if extras.get("advice"):
        parts.append(_advice(extras["advice"]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _advice(recommendations: list[dict]) -> str:
    """`tokcli advise`'s top recommendations: monthly saving at list prices, what, how sure."""
    rows = []
    for r in recommendations:
        group = ", ".join(
            f"{k}={v if v is not None else '(untagged)'}" for k, v in r["group"].items()
        )
        saving = r["monthly_saving"]
        amount = money_text(Decimal(saving), "USD") if saving is not None else "-"
        rows.append(
            "<tr>"
            f'<td class="n">{escape(amount)}</td>'
            f"<td>{escape(r['lever'])}</td><td>{escape(group or '(all)')}</td>"
            f"<td>{escape(r['model'] or '')}</td><td>{escape(r['title'])}</td>"
            f"<td>{escape(r['confidence'])}</td></tr>"
        )
    return (
        '<section class="advice"><h2>Savings to act on (tokcli advise)</h2>'
        '<p class="facts">Monthly savings at list prices (USD), each computed alone; '
        "<code>tokcli advise</code> shows the arithmetic and the combined figure.</p>"
        '<table class="rows"><thead><tr><th class="n">saving/month</th><th>lever</th>'
        "<th>group</th><th>model</th><th>what to change</th><th>confidence</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _currency_section(doc: dict, currency: str, extras: dict) -> list[str]:
    parts = []
    daily = [p for p in doc.get("daily", []) if p["currency"] == currency]
    series = [s for s in extras.get("series", []) if s["currency"] == currency]
    anomalies = [
        a for a in (doc.get("anomalies") or {}).get("items", [])
        if a["currency"] == currency and a["kind"] == "spike"
    ]  # fmt: skip
    if daily:
        key = _first_attribute_key(doc)
        heading = f"Spend per day, by {key}" if key and series else "Spend per day"
        parts += [f"<h3>{escape(heading)}</h3>", daily_chart(daily, series, anomalies, currency)]
        if key and series:
            parts.append(_legend(series))
    forecast = _forecast_for(doc, currency)
    budgets = [b for b in extras.get("budgets", []) if b["currency"] == currency]
    if daily and (forecast or budgets):
        parts += ["<h3>Cumulative spend, budget and forecast</h3>",
                  cumulative_chart(daily, forecast, budgets, currency)]  # fmt: skip
    rows = [r for r in doc.get("rows", []) if r["currency"] == currency]
    attribute_keys = [k for k in doc.get("group_by", []) if k not in ("day", "week", "month")]
    if attribute_keys and len(rows) > TOP_ROWS:
        ranked = sorted(rows, key=lambda r: -Decimal(r["spend"]))[:TOP_ROWS]
        parts += [f"<h3>Top {len(ranked)} by spend</h3>",
                  _rows_table(doc, ranked, currency, "top")]  # fmt: skip
    if forecast:
        parts += ["<h3>Forecast</h3>", _forecast(forecast, currency)]
    if doc.get("anomalies") is not None:
        items = [a for a in doc["anomalies"]["items"] if a["currency"] == currency]
        parts += ["<h3>Anomalies</h3>", _anomalies(doc, items, currency)]
    heading = "All rows" if len(rows) > TOP_ROWS or not attribute_keys else "By spend"
    parts += [f"<h3>{heading}</h3>", _rows_table(doc, rows, currency, "rows")]
    return parts


def _first_attribute_key(doc: dict) -> str | None:
    keys = [k for k in doc.get("group_by", []) if k not in ("day", "week", "month")]
    return keys[0] if keys else None


def _forecast_for(doc: dict, currency: str) -> dict | None:
    for item in (doc.get("forecast") or {}).get("by_currency", []):
        if item["currency"] == currency:
            return item
    return None


def _facts(doc: dict) -> str:
    daily = doc.get("daily") or [{"day": "-"}]
    span = f"{doc.get('since') or daily[0]['day']} to {doc.get('until') or daily[-1]['day']}"
    totals = "; ".join(
        money_text(Decimal(t["spend"]), t["currency"]) for t in doc.get("totals", [])
    )
    basis = {"auto": "billed cost, else list cost", "billed": "billed cost", "list": "list cost"}
    return (
        f"{span} · {basis.get(doc.get('cost_basis', 'auto'), '')} · total {totals} · "
        f"{doc.get('usage_rows', 0):,} usage rows"
    )


def _nice_step(largest: Decimal) -> Decimal:
    """A round axis step (1, 2 or 5 times a power of ten) giving about four gridlines."""
    if largest <= 0:
        return Decimal(1)
    raw = largest / 4
    power = Decimal(10) ** raw.adjusted()
    for factor in (1, 2, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10


def y_axis(largest: Decimal, currency: str, plot_height: float) -> tuple[Decimal, str]:
    """Gridlines and labels from 0 to the axis top; returns (axis top, svg)."""
    step = _nice_step(largest)
    ticks = int((largest / step).to_integral_value(rounding=ROUND_CEILING)) if largest > 0 else 1
    top = step * max(ticks, 1)
    items = []
    for index in range(max(ticks, 1) + 1):
        amount = step * index
        y = TOP + plot_height - float(amount / top) * plot_height
        items.append(
            f'<line class="grid" x1="{LEFT}" x2="{CHART_WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="y-label" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(money_text(amount, currency))}</text>"
        )
    axis = f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{TOP + plot_height:.1f}"/>'
    return top, axis + "".join(items)


def _group_label(value) -> str:
    return "(untagged)" if value is None else str(value)


def _series_order(series: list[dict]) -> list[str]:
    totals: dict[str, Decimal] = {}
    for point in series:
        label = _group_label(point["group"])
        totals[label] = MONEY_CONTEXT.add(totals.get(label, ZERO), Decimal(point["spend"]))
    return sorted(totals, key=lambda g: (g == "(other)", -totals[g], g))


def _colour(index: int) -> str:
    return PALETTE[min(index, len(PALETTE) - 1)]


def daily_chart(daily: list[dict], series: list[dict], anomalies: list[dict], currency) -> str:
    """One bar per day of the range, stacked by group when `series` is given."""
    plot_height = CHART_HEIGHT - TOP - BOTTOM
    largest = max((Decimal(d["spend"]) for d in daily), default=Decimal(0))
    top, axis = y_axis(largest, currency, plot_height)
    slot = (CHART_WIDTH - LEFT) / len(daily)
    order = _series_order(series)
    by_day: dict[str, dict[str, Decimal]] = {}
    for point in series:
        groups = by_day.setdefault(str(point["day"]), {})
        label = _group_label(point["group"])
        # Shown exactly (data-spend): summed in MONEY_CONTEXT, not the caller's 28 digits.
        groups[label] = MONEY_CONTEXT.add(groups.get(label, ZERO), Decimal(point["spend"]))
    spikes = {str(a["period"]) for a in anomalies}
    bars = []
    for index, point in enumerate(daily):
        day = _day_text(point["day"])
        spend = Decimal(point["spend"])
        x = LEFT + index * slot
        width = max(slot - 2, 1)
        parts = by_day.get(day) or ({"total": spend} if spend else {})
        pieces: list[str] = []
        base: float = TOP + plot_height
        for position, label in enumerate(order or ["total"]):
            amount = parts.get(label, Decimal(0))
            if amount <= 0:
                continue
            height = float(amount / top) * plot_height
            base -= height
            pieces.append(
                f'<rect class="series" data-group="{escape(label)}" '
                f'data-spend="{escape(str(amount))}" x="{x + 1:.1f}" '
                f'y="{base:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{_colour(position)}"><title>{escape(day)} {escape(label)}: '
                f"{escape(money_text(amount, currency))}</title></rect>"
            )
        if not pieces:
            pieces.append(
                f'<rect class="zero" x="{x + 1:.1f}" y="{TOP + plot_height - 1:.1f}" '
                f'width="{width:.1f}" height="1"/>'
            )
        marker = ""
        if day in spikes:
            y = max(base - 10, TOP)
            cx = x + slot / 2
            marker = (
                f'<path class="anomaly" d="M{cx:.1f} {y + 6:.1f} l-5 -9 h10 z">'
                f"<title>anomaly: spike on {escape(day)}</title></path>"
            )
        bars.append(
            f'<g class="day-bar" data-day="{escape(day)}" '
            f'data-spend="{escape(str(spend))}"><title>{escape(day)}: '
            f"{escape(money_text(spend, currency))}</title>{''.join(pieces)}{marker}</g>"
        )
    labels = _x_labels(daily, slot)
    return _svg(CHART_HEIGHT, axis + "".join(bars) + labels, f"spend per day in {currency}")


def _day_text(day) -> str:
    return day.isoformat() if isinstance(day, dt.date) else str(day)


def _x_labels(daily: list[dict], slot: float) -> str:
    """A date label on the first day, the last, and about every week between."""
    every = max(1, round(len(daily) / 8))
    items = []
    for index, point in enumerate(daily):
        if index % every and index != len(daily) - 1:
            continue
        if index != len(daily) - 1 and len(daily) - 1 - index < every / 2:
            continue
        x = LEFT + index * slot + slot / 2
        items.append(
            f'<text class="x-label" x="{x:.1f}" y="{CHART_HEIGHT - 6}" text-anchor="middle">'
            f"{escape(_day_text(point['day'])[5:])}</text>"
        )
    return "".join(items)


def cumulative_chart(daily: list[dict], forecast: dict | None, budgets: list[dict], currency):
    """Spend to date as a line, the period-end forecast as a dashed line, budgets as lines."""
    plot_height = CHART_HEIGHT - TOP - BOTTOM
    days = [_day_text(p["day"]) for p in daily]
    running, cumulative = Decimal(0), []
    for point in daily:
        running += Decimal(point["spend"])
        cumulative.append(running)
    end_day = days[-1]
    forecast_value = None
    if forecast:
        forecast_value = Decimal(forecast["forecast_weighted"])
        end_day = max(end_day, _day_text(forecast["period_end"]))
    first = dt.date.fromisoformat(days[0])
    span = (dt.date.fromisoformat(end_day) - first).days + 1
    amounts = [*cumulative, *(Decimal(b["amount"]) for b in budgets)]
    if forecast_value is not None:
        amounts.append(forecast_value)
    top, axis = y_axis(max(amounts), currency, plot_height)
    slot = (CHART_WIDTH - LEFT) / span

    def xy(day: str, amount: Decimal) -> str:
        x = LEFT + ((dt.date.fromisoformat(day) - first).days + 0.5) * slot
        y = TOP + plot_height - float(amount / top) * plot_height
        return f"{x:.1f},{y:.1f}"

    as_of_day = _day_text(forecast["as_of"]) if forecast else days[-1]
    actual = " ".join(xy(d, a) for d, a in zip(days, cumulative, strict=True) if d <= as_of_day)
    items = [f'<polyline class="cumulative" points="{actual}"><title>spend to date</title>'
             "</polyline>"]  # fmt: skip
    if forecast_value is not None and forecast:
        as_of = min(_day_text(forecast["as_of"]), days[-1])
        start_amount = cumulative[days.index(as_of)] if as_of in days else cumulative[-1]
        items.append(
            f'<polyline class="forecast" points="{xy(as_of, start_amount)} '
            f'{xy(_day_text(forecast["period_end"]), forecast_value)}"><title>forecast '
            f"(recent days weighted): {escape(money_text(forecast_value, currency))}</title>"
            "</polyline>"
        )
    for budget in budgets:
        amount = Decimal(budget["amount"])
        y = TOP + plot_height - float(amount / top) * plot_height
        label = f"budget {budget['name']}: {money_text(amount, currency)}"
        items.append(
            f'<line class="budget" data-budget="{escape(budget["name"])}" x1="{LEFT}" '
            f'x2="{CHART_WIDTH}" y1="{y:.1f}" y2="{y:.1f}"><title>{escape(label)}</title></line>'
            f'<text x="{CHART_WIDTH - 4}" y="{y - 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    every_day = [{"day": first + dt.timedelta(days=i)} for i in range(span)]
    labels = _x_labels(every_day, slot)
    return _svg(CHART_HEIGHT, axis + "".join(items) + labels, f"cumulative spend in {currency}")


def _svg(height: int, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{CHART_WIDTH}" '
        f'height="{height}" viewBox="0 0 {CHART_WIDTH} {height}" aria-label="{escape(label)}">'
        f"{body}</svg>"
    )


def _legend(series: list[dict]) -> str:
    items = "".join(
        f'<span><i style="background:{_colour(i)}"></i>{escape(label)}</span>'
        for i, label in enumerate(_series_order(series))
    )
    return f'<p class="legend">{items}</p>'


_ROW_COLUMNS = (  # (key, header, kind)
    ("basis", "basis", "text"),
    ("spend", "spend", "money"),
    ("share", "share", "percent"),
    ("billed_cost", "billed", "money"),
    ("list_cost", "list", "money"),
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


def _cell(value, kind: str, currency: str) -> str:
    if value is None:
        return "-"
    if kind == "money":
        return money_text(Decimal(value), currency)
    if kind == "percent":
        return f"{Decimal(value) * 100:.1f}%"
    if kind == "int":
        return f"{value:,}"
    return str(value)


def _rows_table(doc: dict, rows: list[dict], currency: str, css: str) -> str:
    keys = doc.get("group_by", [])
    columns = [c for c in _ROW_COLUMNS if any(c[0] in row for row in rows)]
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    head += "".join(f'<th class="n">{escape(header)}</th>' for _, header, _ in columns)
    body = []
    for row in rows:
        cells = "".join(f"<td>{escape(_group_label(row.get(k)))}</td>" for k in keys)
        cells += "".join(
            f'<td class="n">{escape(_cell(row.get(key), kind, currency))}</td>'
            for key, _, kind in columns
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _forecast(forecast: dict, currency: str) -> str:
    def money(key):
        return escape(money_text(Decimal(forecast[key]), currency))

    return (
        f"<p>{escape(str(forecast['period_start']))} to {escape(str(forecast['period_end']))}: "
        f"actual {money('actual')}, forecast {money('forecast_weighted')} (recent days "
        f"weighted), {money('forecast_linear')} (linear), from {forecast['complete_days']} "
        f"complete days of {forecast['days']}.</p>"
    )


def _anomalies(doc: dict, items: list[dict], currency: str) -> str:
    if not items:
        return "<p>No anomalies.</p>"
    keys = [k for k in doc.get("group_by", []) if k not in ("day", "week", "month")]
    head = "".join(f"<th>{escape(k)}</th>" for k in keys) + (
        "<th>kind</th><th>period</th><th class='n'>spend</th><th class='n'>baseline</th>"
        "<th class='n'>ratio</th>"
    )
    body = []
    for item in items:
        cells = "".join(f"<td>{escape(_group_label(item.get(k)))}</td>" for k in keys)
        cells += (
            f"<td>{escape(item['kind'])}</td><td>{escape(item['period'])}</td>"
            f'<td class="n">{escape(money_text(Decimal(item["spend"]), currency))}</td>'
            f'<td class="n">{escape(money_text(Decimal(item["baseline"]), currency))}</td>'
            f'<td class="n">{escape(str(item["ratio"]))}x</td>'
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
