"""Issue 14: `tokcli pricing update` reads genai-prices data (pydantic/genai-prices, MIT).

The inputs are real genai-prices files, trimmed (tests/fixtures/genai-prices/SOURCES.md). Every
expected price is computed here from the JSON itself with genai-prices' own rules, written out
independently of tokcli: a conditional price list uses the last set whose constraint holds (a
start date, or a daily UTC interval), else the first; a tiered price applies its tier price to
the whole request when the total input tokens are above the tier's start; prices are USD per
million tokens; a missing cache price bills those tokens as input.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import http.server
import json
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from tokcli.cost import Usage, compute_cost
from tokcli.pricing.layers import GeneratedLayer
from tokcli.pricing.update import plan_update, write_layer

FIXTURES = Path(__file__).parent / "fixtures" / "genai-prices"
FILES = ["data.json", "v2-data.json"]
ROOT_LAYER = Path(__file__).resolve().parents[1] / "pricing" / "generated" / "litellm.json"
TODAY = dt.date(2026, 11, 24)  # conftest pins TOKCLI_NOW to this day
EXACT = decimal.Context(prec=80)


def load(name: str) -> list:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


# -- genai-prices' rules, written out for the test --------------------------------------------


def prices_at(model: dict, moment: dt.datetime) -> dict:
    prices = model["prices"]
    if isinstance(prices, dict):
        return prices
    for conditional in reversed(prices):
        constraint = conditional.get("constraint")
        if constraint is None:
            return conditional["prices"]
        if "start_date" in constraint:
            if moment.date() >= dt.date.fromisoformat(constraint["start_date"]):
                return conditional["prices"]
        else:
            start = dt.time.fromisoformat(constraint["start_time"].rstrip("Z"))
            end = dt.time.fromisoformat(constraint["end_time"].rstrip("Z"))
            if start <= moment.time() < end:
                return conditional["prices"]
    return prices[0]["prices"]


def unit_price(value, total_input: int) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, dict):
        price = value["base"]
        for tier in reversed(value["tiers"]):
            if total_input > tier["start"]:
                price = tier["price"]
                break
        return Decimal(price)
    return Decimal(value)


def expected_cost(model: dict, moment: dt.datetime, uncached, cache_read, cache_write, output):
    prices = prices_at(model, moment)
    total_input = uncached + cache_read + cache_write
    input_price = unit_price(prices["input_mtok"], total_input)
    read = unit_price(prices.get("cache_read_mtok"), total_input)
    write = unit_price(prices.get("cache_write_mtok"), total_input)
    out = unit_price(prices["output_mtok"], total_input)
    with decimal.localcontext(EXACT):
        cost = (
            uncached * input_price
            + cache_read * (input_price if read is None else read)
            + cache_write * (input_price if write is None else write)
            + output * out
        )
        return cost / 1_000_000


def expected_unmapped(data: list) -> set[str]:
    """Models tokcli must not price, by the same reading of the file."""
    unmapped = set()
    for provider in data:
        for model in provider["models"]:
            name = f"{provider['id']}/{model['id']}"
            sets = model["prices"] if isinstance(model["prices"], list) else [model]
            sets = [s["prices"] for s in sets]
            if any("output_mtok" not in s or "input_mtok" not in s for s in sets):
                unmapped.add(name)  # embeddings: no output price
            elif any(s.get("requests_kcount") for s in sets):
                unmapped.add(name)  # a fee per request tokcli cannot bill
            elif len(sets) == 2 and "start_time" in (model["prices"][1].get("constraint") or {}):
                ratios = {Decimal(sets[0][k]) / Decimal(sets[1][k]) for k in sets[1]}
                if len(ratios) != 1:
                    unmapped.add(name)  # off-peak not one multiple of peak
    return unmapped


# -- fixtures ---------------------------------------------------------------------------------


@functools.cache
def converted(name: str, layer_dir: str) -> GeneratedLayer:
    plan = plan_update(GeneratedLayer(None, None), load(name), name, TODAY)
    path = Path(layer_dir) / f"{name}.layer.json"
    write_layer(plan, path)
    return GeneratedLayer(None, path)


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("genai-layers"))


def key_of(provider: str, model_id: str, layer: GeneratedLayer) -> str:
    bare = model_id.lower()
    prefixed = {
        "google": "vertex_ai",
        "groq": "groq",
        "openrouter": "openrouter",
    }.get(provider)
    first_party = provider in ("anthropic", "openai", "google", "aws", "deepseek", "perplexity")
    if first_party and bare in layer and layer.model(bare).provider == provider:
        return bare
    return f"{prefixed or provider}/{bare}"


def moments(model: dict) -> list[dt.datetime]:
    """Moments either side of every date and time the model's prices change at."""
    points = [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)]
    if isinstance(model["prices"], list):
        for conditional in model["prices"]:
            constraint = conditional.get("constraint") or {}
            if "start_date" in constraint:
                day = dt.date.fromisoformat(constraint["start_date"])
                for moment in (day - dt.timedelta(days=1), day):
                    points.append(dt.datetime.combine(moment, dt.time(12), tzinfo=dt.UTC))
            if "start_time" in constraint:
                points += [
                    dt.datetime(2026, 11, 24, 3, 0, tzinfo=dt.UTC),
                    dt.datetime(2026, 11, 24, 16, 29, tzinfo=dt.UTC),
                    dt.datetime(2026, 11, 24, 16, 30, tzinfo=dt.UTC),
                    dt.datetime(2026, 11, 24, 0, 29, tzinfo=dt.UTC),
                ]
    return points


def thresholds(model: dict) -> set[int]:
    sets = model["prices"] if isinstance(model["prices"], list) else [model]
    return {
        tier["start"]
        for s in sets
        for value in s["prices"].values()
        if isinstance(value, dict)
        for tier in value["tiers"]
    }


# -- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_every_mapped_model_costs_what_genai_prices_says(name, layer_dir):
    data = load(name)
    layer = converted(name, layer_dir)
    unmapped = expected_unmapped(data)
    checked = 0
    for provider in data:
        for model in provider["models"]:
            if f"{provider['id']}/{model['id']}" in unmapped:
                continue
            key = key_of(provider["id"], model["id"], layer)
            assert key in layer, f"{provider['id']}/{model['id']} not in the layer as {key}"
            mapped = layer.model(key)
            sizes = [(1_000, 200, 100, 500), (1, 0, 0, 1), (10**12, 0, 0, 10**12)]
            for start in thresholds(model):  # exactly at a tier's start and one above
                sizes += [(start - 300, 200, 100, 700), (start - 299, 200, 100, 700)]
            for moment in moments(model):
                for uncached, read, write, out in sizes:
                    usage = Usage(
                        input_tokens=uncached,
                        cache_read_tokens=read,
                        cache_write_5m_tokens=write,
                        output_tokens=out,
                    )
                    got = compute_cost(usage, mapped, moment).total
                    want = expected_cost(model, moment, uncached, read, write, out)
                    assert got == want, (key, moment, usage)
                    checked += 1
    assert checked > 100


@pytest.mark.parametrize("name", FILES)
def test_prices_are_copied_exactly_per_million(name, layer_dir):
    layer = converted(name, layer_dir)
    for provider in load(name):
        if provider["id"] != "openai":
            continue
        for model in provider["models"]:
            if "embedding" in model["id"]:
                continue
            first = model["prices"] if isinstance(model["prices"], dict) else None
            first = first or model["prices"][0]["prices"]
            entry = layer.spec(model["id"])["prices"][0]
            for theirs, ours in (("input_mtok", "input"), ("output_mtok", "output")):
                value = first[theirs]
                base = value["base"] if isinstance(value, dict) else value
                assert Decimal(entry[ours]) == Decimal(base)  # no float, no rescaling


def test_effective_dates_tiers_cache_writes_and_time_of_day_are_mapped(layer_dir):
    layer = converted("v2-data.json", layer_dir)
    opus = layer.model("claude-opus-4-6")
    before, after = opus.prices
    assert before.long_context_above == 200_000
    assert before.long_context.prices["cache_write_1h"] == Decimal("20")
    assert after.effective_from == dt.datetime(2026, 3, 13, tzinfo=dt.UTC)
    assert after.long_context is None and after.standard.prices["cache_write_1h"] == Decimal(10)
    chat = layer.model("deepseek-chat").prices[0]
    assert chat.time_of_day.off_peak_multiplier == Decimal("0.5")
    assert chat.time_of_day.peak_hours_utc == ((dt.time(0, 30), dt.time(16, 30)),)
    flash = layer.model("gemini-3.6-flash").prices
    assert [e.effective_from.date() for e in flash] == [dt.date(1970, 1, 1), dt.date(2027, 1, 1)]


def test_update_reports_what_it_cannot_map_one_line_each_and_goes_on(cli):
    path = FIXTURES / "v2-data.json"
    result = cli("pricing", "update", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    expected = expected_unmapped(load("v2-data.json"))
    assert {m["model"] for m in doc["not_mapped"]} == expected
    lines = [line for line in result.stderr.splitlines() if ": not mapped: " in line]
    assert len(lines) == len(expected)
    assert all(line.startswith("tokcli: warning: ") for line in lines)
    assert any("deepseek/deepseek-reasoner" in line and "off-peak" in line for line in lines)
    assert any("perplexity/sonar" in line and "requests_kcount" in line for line in lines)
    partly = {m["model"]: m["left_out"] for m in doc["partly_mapped"]}
    assert "input_audio_mtok" in partly["gemini-2.5-flash"]
    assert doc["written"] is True and doc["removed_models"] == []  # LiteLLM's models stay
    # A model no curated entry prices is served from the updated layer at genai-prices' price
    # in force today (its 2026-09-01 price).
    shown = cli("pricing", "show", "regional.anthropic.claude-sonnet-5-v1:0", "-f", "json")
    assert shown.exit_code == 0, shown.stderr
    assert shown.json()["layer"] == "updated"
    aws = next(p for p in load("v2-data.json") if p["id"] == "aws")
    regional = next(m for m in aws["models"] if m["id"].startswith("regional."))
    today = prices_at(regional, dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC))
    assert Decimal(shown.json()["prices"]["input"]) == today["input_mtok"]
    assert Decimal(shown.json()["prices"]["cache_write_5m"]) == today["cache_write_mtok"]
    again = cli("pricing", "update", str(path), "--format", "json")
    assert again.json()["changes"] == [] and again.json()["written"] is False


def test_a_changed_price_starts_on_the_update_date_and_history_stays(cli, tmp_path):
    data = load("v2-data.json")
    openai = next(p for p in data if p["id"] == "openai")
    gpt_4o = next(m for m in openai["models"] if m["id"] == "gpt-4o")
    old_input = gpt_4o["prices"]["input_mtok"]
    gpt_4o["prices"]["input_mtok"] = old_input + Decimal("0.5")
    newer = tmp_path / "data.json"
    text = json.dumps(data, default=lambda number: f"@@{number}@@")
    newer.write_text(text.replace('"@@', "").replace('@@"', ""), encoding="utf-8")

    dry = cli("pricing", "update", str(newer), "--dry-run", "--effective-from", "2026-12-01",
              "-f", "json")  # fmt: skip
    changes = {(c["model"], c["field"]): c for c in dry.json()["changes"]}
    assert Decimal(changes[("gpt-4o", "input")]["new"]) == old_input + Decimal("0.5")
    assert Decimal(changes[("gpt-4o", "input")]["old"]) == old_input
    assert ("gpt-4o", "output") not in changes  # unchanged fields are not listed
    assert dry.json()["written"] is False

    cli("pricing", "update", str(newer), "--effective-from", "2026-12-01")

    def shown(day: str) -> dict:
        result = cli("pricing", "show", "gpt-4o", "--at", day, "-f", "json")
        assert result.exit_code == 0, result.stderr
        return result.json()

    assert Decimal(shown("2026-11-30")["prices"]["input"]) == old_input  # old usage: old price
    assert Decimal(shown("2026-12-01")["prices"]["input"]) == old_input + Decimal("0.5")
    assert shown("2026-12-01")["layer"] == "updated"


def test_update_from_a_url(cli):
    body = (FIXTURES / "data.json").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/prices/data.json"
        result = cli("pricing", "update", url, "--dry-run", "-f", "json")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.stderr
    assert "groq/llama-3.3-70b-versatile" in result.json()["added_models"]


def test_a_bad_model_is_reported_and_the_others_are_mapped(cli, tmp_path):
    data = load("data.json")
    openai = next(p for p in data if p["id"] == "openai")
    next(m for m in openai["models"] if m["id"] == "gpt-4o")["prices"]["input_mtok"] = "2.5$"
    path = tmp_path / "data.json"
    text = json.dumps(data, default=lambda number: f"@@{number}@@")
    path.write_text(text.replace('"@@', "").replace('@@"', ""), encoding="utf-8")
    result = cli("pricing", "update", str(path), "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.stderr
    reasons = {m["model"]: m["reason"] for m in result.json()["not_mapped"]}
    assert "not a number" in reasons["openai/gpt-4o"]
    assert "groq/llama-3.3-70b-versatile" in result.json()["added_models"]


def test_a_file_of_neither_format_exits_2(cli, tmp_path):
    path = tmp_path / "prices.json"
    path.write_text('[{"name": "not a provider"}]\n', encoding="utf-8")
    result = cli("pricing", "update", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {path}: neither a LiteLLM price file")


def test_a_bad_price_in_the_updated_layer_names_file_line_and_field(cli):
    assert cli("pricing", "update", str(FIXTURES / "v2-data.json")).exit_code == 0
    layer = Path(os.environ["XDG_DATA_HOME"]) / "tokcli" / "pricing" / "generated.json"
    lines = layer.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, 1) if line.startswith('"openai.gpt-5.6-luna"'))
    lines[number - 1] = lines[number - 1].replace('"input":"0.22"', '"input":"-0.22"', 1)
    layer.write_text("".join(lines), encoding="utf-8")
    result = cli("pricing", "show", "openai.gpt-5.6-luna")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"tokcli: error: {layer}:{number}: models.openai.gpt-5.6-luna")
    assert "prices[1].input: must not be negative" in result.stderr


def test_what_genai_prices_cannot_state_is_kept_only_where_it_still_holds():
    """genai-prices lists no service tiers and (v1) no 1-hour cache write. Over the shipped
    layer's claude-sonnet-5 (LiteLLM), an update on 2026-08-01 keeps the old 1-hour write price
    while the input price it goes with is unchanged, keeps batch as the old ratio to standard,
    and drops the 1-hour price from the 2026-09-01 entry, whose input price changed."""
    from tokcli.pricing import Registry

    shipped = ROOT_LAYER.read_text(encoding="utf-8")
    line = next(x for x in shipped.splitlines() if x.startswith('"claude-sonnet-5":'))
    old = json.loads(line.split(":", 1)[1].rstrip(","))["prices"][-1]
    ratio = Decimal(old["tiers"]["batch"]["input"]) / Decimal(old["input"])

    layer = Registry.load(use_cache=False).generated()
    plan = plan_update(layer, load("data.json"), "data.json", dt.date(2026, 8, 1))
    history = plan.layer["models"]["claude-sonnet-5"]["prices"]
    now, later = history[-2], history[-1]
    assert now == {**old, "tiers": old["tiers"]}  # nothing changed in force on 2026-08-01
    assert later["effective_from"] == "2026-09-01"
    assert "cache_write_1h" not in later  # its input price changed: not carried
    assert Decimal(later["tiers"]["batch"]["multiplier"]) == ratio
    changes = {(c.field, c.kind) for c in plan.changes if c.model == "claude-sonnet-5"}
    assert ("cache_write_1h (from 2026-09-01)", "removed") in changes
    assert ("input (from 2026-09-01)", "changed") in changes
    assert not any(c.model == "claude-sonnet-5" and "(from" not in c.field for c in plan.changes)


def test_an_off_peak_ratio_that_is_not_exact_is_not_mapped():
    """Edge case (synthetic): off-peak at one third of peak is one ratio, but 1/3 as a decimal is
    rounded, so the off-peak prices would come out inexact: reported, not priced."""
    from tokcli.pricing.genai_prices import convert

    def provider(off: tuple[str, str], peak: tuple[str, str]) -> list:
        def prices(pair):
            return {"input_mtok": Decimal(pair[0]), "output_mtok": Decimal(pair[1])}

        peak_set = {"constraint": {"start_time": "00:30:00Z", "end_time": "16:30:00Z"},
                    "prices": prices(peak)}  # fmt: skip
        return [{"id": "acme", "models": [{"id": "m", "prices": [{"prices": prices(off)},
                                                                   peak_set]}]}]  # fmt: skip

    thirds = convert(provider(("0.1", "0.2"), ("0.3", "0.6")), "test")
    assert thirds.models == {} and "not one exact multiple" in thirds.unmapped[0][1]
    halves = convert(provider(("0.15", "0.3"), ("0.3", "0.6")), "test").models["acme/m"]
    assert halves["prices"][0]["time_of_day"]["off_peak_multiplier"] == "0.5"
    assert halves["prices"][0]["input"] == "0.3"  # the peak prices, exactly
