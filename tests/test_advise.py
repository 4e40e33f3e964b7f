"""`tokcli advise` on generated stores with known answers.

Expected savings are computed here by hand from the providers' list prices (per million tokens,
as published on their pricing pages and recorded in pricing/*.yaml):
claude-sonnet-4-6 $3 input, $0.30 cache read, $15 output; claude-opus-4-6 $5 / $25;
claude-sonnet-5 $2 / $10; gpt-5-mini $0.25 input, $2 output, batch 50% off.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal as D

import pytest

from tokcli.money import MONEY_CONTEXT
from tokcli.store import connect, transaction
from tokcli.store.usage import UsageRecord, insert_usage

OCTOBER = [dt.date(2026, 10, day) for day in range(1, 32)]


def record(key, start, model, *, hours=24, tags=None, tier="standard", list_cost=None, **tokens):
    return UsageRecord(
        record_key=key,
        source="test",
        period_start=start,
        period_end=start + dt.timedelta(hours=hours),
        provider="anthropic" if model.startswith("claude") else "openai",
        model=model,
        model_raw=model,
        service_tier=tier,
        list_cost=list_cost,
        tags=tags or {},
        **tokens,
    )


def at(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=dt.UTC)


def write(path, records):
    conn = connect(path)
    with transaction(conn):
        insert_usage(conn, records)
    conn.close()


def support_rows():
    rows = []
    for i, day in enumerate(OCTOBER):
        calls = 1000 // 31 + (1 if i < 1000 % 31 else 0)  # 1,000 calls in the month
        rows.append(
            record(
                f"support-{day}",
                at(day),
                "claude-sonnet-4-6",
                tags={"team": "cx", "feature": "support"},
                requests=calls,
                input_tokens=calls * 4500,
                cache_read_tokens=calls * 500,
                output_tokens=calls * 200,
            )
        )
    return rows


def nightly_rows():
    """nightly-summary: 50 calls at 01:00 and at 02:00 UTC every day, standard tier."""
    return [
        record(
            f"nightly-{day}-{hour}",
            at(day, hour),
            "gpt-5-mini",
            hours=1,
            tags={"team": "data", "feature": "nightly-summary"},
            requests=50,
            input_tokens=50 * 1000,
            output_tokens=50 * 100,
        )
        for day in OCTOBER
        for hour in (1, 2)
    ]


def classifier_rows():
    """classifier: 10,000 short calls (400 in, 5 out) on a flagship model."""
    return [
        record(
            f"cls-{i}",
            at(day),
            "claude-opus-4-6",
            tags={"team": "risk", "feature": "classifier"},
            requests=10_000 // 31 + (1 if i < 10_000 % 31 else 0),
            input_tokens=400 * (10_000 // 31 + (1 if i < 10_000 % 31 else 0)),
            output_tokens=5 * (10_000 // 31 + (1 if i < 10_000 % 31 else 0)),
        )
        for i, day in enumerate(OCTOBER)
    ]


def looping_session():
    """One agent session: 8 calls a minute apart; the same Bash call repeats 6 times."""
    rows = []
    for i in range(8):
        tool = "Bash:9f1c2e" if 1 <= i <= 6 else f"Read:{i}"
        rows.append(
            record(
                f"s1-{i}",
                at(OCTOBER[9], 14, i),
                "claude-sonnet-4-6",
                hours=0,
                tags={"session": "s1", "tool_call": tool},
                requests=1,
                input_tokens=100,
                cache_read_tokens=1900,
                output_tokens=50,
                list_cost=D("0.01"),
            )
        )
    return rows


def advise_json(cli, store, *args):
    result = cli("advise", "--store", store, "--month", "2026-10", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def monthly(amount: D, days: int) -> D:
    """`amount` over `days` days as an average month's (30.4375 days): times 30.4375, then
    divided by the days, at 60 digits."""
    with decimal.localcontext(MONEY_CONTEXT):
        return amount * D("30.4375") / days


def find(doc, lever, **group):
    found = [
        r
        for r in doc["recommendations"]
        if r["lever"] == lever and all(r["group"].get(k) == v for k, v in group.items())
    ]
    assert len(found) == 1, [(r["lever"], r["group"]) for r in doc["recommendations"]]
    return found[0]


def test_each_lever_is_priced_exactly_and_ranked(cli, tmp_path):
    store = tmp_path / "s.db"
    write(store, support_rows() + nightly_rows() + classifier_rows() + looping_session())
    doc = advise_json(cli, store)

    # Cache: 80% of 5,000,000 prompt tokens should be reads; 500,000 are: 3,500,000 move from
    # $3.00 input to $0.30 cache reads.
    cache = find(doc, "cache", feature="support")
    assert D(cache["monthly_saving"]) == D(3_500_000) * (D("3.00") - D("0.30")) / 1_000_000
    assert cache["model"] == "claude-sonnet-4-6" and cache["confidence"] == "medium"
    assert D(cache["details"]["hit_rate"]) == D("0.1")

    # Batch: the nightly job's standard cost, halved.
    standard = (D(3_100_000) * D("0.25") + D(310_000) * D("2.00")) / 1_000_000
    batch = find(doc, "batch", feature="nightly-summary")
    assert D(batch["monthly_saving"]) == standard / 2
    assert "00:00-06:00" in batch["arithmetic"]

    # Routing: the classifier on claude-opus-4-6, priced on the cheapest Anthropic "mid" model.
    on_opus = (D(4_000_000) * 5 + D(50_000) * 25) / 1_000_000
    on_sonnet5 = (D(4_000_000) * 2 + D(50_000) * 10) / 1_000_000
    routing = find(doc, "routing", feature="classifier")
    assert routing["details"]["to_model"] == "claude-sonnet-5"
    assert D(routing["monthly_saving"]) == on_opus - on_sonnet5
    assert "check quality first" in routing["title"]

    # Loop: the session's 3 calls after the third repeat of the same Bash call, at $0.01 each.
    loop = find(doc, "loop", session="s1")
    assert D(loop["monthly_saving"]) == 3 * D("0.01")

    ranked = [(r["lever"], D(r["monthly_saving"])) for r in doc["recommendations"]]
    # routing $12.75 > cache $9.45 > batch $0.6975 > loop $0.03, from the figures above
    assert [lever for lever, _ in ranked] == ["routing", "cache", "batch", "loop"]
    savings = [saving for _, saving in ranked]
    assert savings == sorted(savings, reverse=True)
    assert [r["rank"] for r in doc["recommendations"]] == list(range(1, len(savings) + 1))
    # Three levers on three different cells: applied one after another, they add up here; the
    # loop is listed and ranked but stays out (its calls are also usage the levers price).
    assert D(doc["combined_monthly_saving"]) == sum(savings[:3])


def test_levers_on_the_same_usage_combine_one_after_another(cli, tmp_path):
    """Nightly traffic that also misses the cache: the batch saving is taken on the cost left
    after caching, so the combined figure is less than the two savings added."""
    rows = [
        record(
            f"n-{day}-{hour}",
            at(day, hour),
            "claude-sonnet-4-6",
            hours=1,
            tags={"team": "data", "feature": "digest"},
            requests=10,
            input_tokens=10 * 3000,
            output_tokens=10 * 100,
        )
        for day in OCTOBER
        for hour in (2, 3)
    ]
    write(tmp_path / "s.db", rows)
    doc = advise_json(cli, tmp_path / "s.db")
    cache, batch = find(doc, "cache"), find(doc, "batch")
    input_tokens, output_tokens = D(620 * 3000), D(620 * 100)
    moved = D("0.8") * input_tokens
    cache_saving = moved * (D("3.00") - D("0.30")) / 1_000_000
    assert D(cache["monthly_saving"]) == cache_saving
    after_cache = ((input_tokens - moved) * 3 + moved * D("0.30") + output_tokens * 15) / 1_000_000
    assert D(batch["monthly_saving"]) == after_cache / 2  # Sonnet batch: 50% of every price
    assert D(doc["combined_monthly_saving"]) == cache_saving + after_cache / 2
    batch_alone = (input_tokens * 3 + output_tokens * 15) / 1_000_000 / 2
    assert D(doc["combined_monthly_saving"]) < cache_saving + batch_alone  # never simply added


def test_a_looping_session_is_priced(cli, tmp_path):
    write(tmp_path / "s.db", looping_session())
    doc = advise_json(cli, tmp_path / "s.db")
    loop = find(doc, "loop", session="s1")
    assert D(loop["monthly_saving"]) == 3 * D("0.01")  # the 3 calls after the third
    assert loop["details"]["repeats"] == 6
    assert doc["sessions"]["sessions"] == 1
    assert D(doc["sessions"]["max"]) == 8 * D("0.01")


def test_nothing_is_recommended_for_an_optimal_store(cli, tmp_path):
    rows = [
        # 85% cache hits, already on the batch tier, a mid-tier model on long calls.
        record(
            f"ok-{day}",
            at(day),
            "claude-sonnet-4-6",
            tier="batch",
            tags={"team": "cx", "feature": "support"},
            requests=100,
            input_tokens=100 * 750,
            cache_read_tokens=100 * 4250,
            output_tokens=100 * 400,
        )
        for day in OCTOBER
    ]
    write(tmp_path / "s.db", rows)
    doc = advise_json(cli, tmp_path / "s.db")
    assert doc["recommendations"] == []
    assert D(doc["combined_monthly_saving"]) == 0
    table = cli("advise", "--store", tmp_path / "s.db", "--month", "2026-10")
    assert "nothing to recommend" in table.stdout + table.stderr


def test_fail_over_exits_1_when_the_saving_passes_the_amount(cli, tmp_path):
    store = tmp_path / "s.db"
    write(store, support_rows())
    over = cli("advise", "--store", store, "--month", "2026-10", "--fail-over", "5")
    assert over.exit_code == 1, over.stderr
    under = cli("advise", "--store", store, "--month", "2026-10", "--fail-over", "100")
    assert under.exit_code == 0, under.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--target-hit-rate", "80", "at most 100%"),
        ("--target-hit-rate", "abc", "expected a share"),
        ("--fail-over", "-3", "amount >= 0"),
        ("--month", "2026-13", "expected YYYY-MM"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli, tmp_path, option, value, message):
    result = cli("advise", "--store", tmp_path / "s.db", option, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_target_hit_rate_accepts_percent_or_fraction(cli, tmp_path):
    store = tmp_path / "s.db"
    write(store, support_rows())
    half = advise_json(cli, store, "--target-hit-rate", "50%")
    same = advise_json(cli, store, "--target-hit-rate", "0.5")
    assert find(half, "cache")["monthly_saving"] == find(same, "cache")["monthly_saving"]
    moved = D(2_000_000)  # 50% of 5,000,000 minus the 500,000 already read
    assert D(find(half, "cache")["monthly_saving"]) == moved * (D("3.00") - D("0.30")) / 1_000_000


def test_markdown_is_a_review_a_lead_can_paste(cli, tmp_path):
    store = tmp_path / "s.db"
    write(store, support_rows() + classifier_rows())
    result = cli("advise", "--store", store, "--month", "2026-10", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("#")
    assert "| # |" in result.stdout and "How each saving was computed" in result.stdout


def test_real_claude_code_sessions_are_priced(cli, tmp_path):
    """The real transcripts in tests/fixtures/samples/claude-code-jsonl, priced per session and
    checked against a computation from the raw lines: one API response per (message id,
    request id), its last copy kept; Claude Opus 4.6 list prices per million tokens: $5 input,
    $0.50 cache read, $6.25 5-minute write, $10 1-hour write, $25 output."""
    import json

    from conftest import SAMPLES

    folder = SAMPLES / "claude-code-jsonl"
    responses: dict[tuple, dict] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for raw in path.read_text().splitlines():
            line = json.loads(raw)
            message = line.get("message")
            if not isinstance(message, dict) or "usage" not in message:
                continue
            if message.get("model") in (None, "<synthetic>"):
                continue
            responses[(message["id"], line.get("requestId"))] = line
    per_session: dict[str, D] = {}
    for line in responses.values():
        usage = line["message"]["usage"]
        split = usage.get("cache_creation") or {}
        cost = (
            D(usage["input_tokens"]) * 5
            + D(usage.get("cache_read_input_tokens", 0)) * D("0.50")
            + D(split.get("ephemeral_5m_input_tokens", 0)) * D("6.25")
            + D(split.get("ephemeral_1h_input_tokens", 0)) * 10
            + D(usage["output_tokens"]) * 25
        ) / 1_000_000
        session = line["sessionId"]
        per_session[session] = per_session.get(session, D(0)) + cost
    costs = sorted(per_session.values())

    store = tmp_path / "s.db"
    imported = cli("import", folder, "--store", store)
    assert imported.exit_code == 0, imported.stderr
    doc = advise_json_period(cli, store, "2020-01-01", "2030-12-31")
    sessions = doc["sessions"]
    assert sessions["sessions"] == len(costs) == 4
    assert D(sessions["max"]) == costs[-1]
    assert D(sessions["p50"]) == costs[1]  # nearest rank: the 2nd of 4
    assert D(sessions["p95"]) == costs[-1]


def advise_json_period(cli, store, since, until):
    result = cli("advise", "--store", store, "--since", since, "--until", until, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def _transcript_line(i: int, tool_input: dict, prompt: int) -> str:
    import json

    return json.dumps({
        "type": "assistant", "sessionId": "loop-session", "requestId": f"req_{i}",
        "timestamp": f"2026-10-10T10:{i:02d}:00Z",
        "message": {
            "id": f"msg_{i}", "model": "claude-sonnet-4-6", "role": "assistant",
            "content": [{"type": "tool_use", "id": f"tu_{i}", "name": "Bash", "input": tool_input}],
            "usage": {"input_tokens": 10, "cache_read_input_tokens": prompt - 10,
                      "output_tokens": 20},
        },
    })  # fmt: skip


def test_a_transcript_loop_is_found_through_the_importers_tool_fingerprints(cli, tmp_path):
    """Edge case, synthetic: one transcript whose agent runs `make test` five times in a row.
    The importer keeps a hash of each tool call (never its arguments); advise sees the repeat."""
    lines = [_transcript_line(i, {"command": "make test"}, 3000) for i in range(5)]
    lines.append(_transcript_line(5, {"command": "git status"}, 3000))
    transcript = tmp_path / "session.jsonl"
    transcript.write_text("\n".join(lines) + "\n")
    store = tmp_path / "s.db"
    assert cli("import", transcript, "--store", store).exit_code == 0
    doc = advise_json_period(cli, store, "2026-10-01", "2026-10-31")
    loop = find(doc, "loop", session="loop-session")
    assert loop["details"]["repeats"] == 5
    # Each call: 10 input at $3, 2,990 cache reads at $0.30, 20 output at $15 (per million).
    call = (D(10) * 3 + D(2990) * D("0.30") + D(20) * 15) / 1_000_000
    assert D(loop["monthly_saving"]) == monthly(2 * call, 31)  # the calls after the third
    dump = "\n".join(cli("export", "--store", store).stdout.splitlines())
    assert "make test" not in dump


def test_cache_reads_can_replace_cache_writes():
    """A prompt mostly written to the cache and rarely read back: reaching the target hit rate
    turns writes (not only uncached input) into reads."""
    from tokcli.advise.levers import _more_reads
    from tokcli.cost import Usage

    usage = Usage(input_tokens=100, cache_read_tokens=1000, cache_write_5m_tokens=8900)
    after = _more_reads(usage, 7000)
    assert (after.input_tokens, after.cache_write_5m_tokens, after.cache_read_tokens) == (
        0,
        2000,
        8000,
    )
    assert after.total_input == usage.total_input


def test_committed_use_is_priced_from_the_monthly_trend(cli, tmp_path):
    """Three full months of list spend on one provider (August $400, September $500, October
    $600): commit the lowest month less 20% ($320); October bills max($320, $600 x 0.8)."""
    rows = []
    for month, spend in ((8, "400"), (9, "500"), (10, "600")):
        rows.append(
            record(f"m{month}", at(dt.date(2026, month, 1)), "gpt-5", tags={"team": "core"},
                   requests=1, output_tokens=1, list_cost=D(spend))
        )  # fmt: skip
    write(tmp_path / "s.db", rows)
    doc = advise_json(cli, tmp_path / "s.db", "--commit-discount", "20%")
    commit = find(doc, "commit", provider="openai")
    assert D(commit["details"]["commitment"]) == D("320.00")
    assert D(commit["monthly_saving"]) == D(600) - D(600) * D("0.8")
    assert commit["confidence"] == "medium"  # rising spend
    plain = advise_json(cli, tmp_path / "s.db")
    assert not [r for r in plain["recommendations"] if r["lever"] == "commit"]


def test_retry_storms_and_context_bloat_are_priced(cli, tmp_path):
    """Edge cases, synthetic. Session r: three identical requests 3 s apart. Session b: six
    turns whose prompt grows by 1,000 tokens a turn with no cache reads."""
    rows = [
        record(f"r{i}", at(OCTOBER[4], 9, 0, 3 * i), "claude-sonnet-4-6", hours=0,
               tags={"session": "r"}, requests=1, input_tokens=800, output_tokens=10,
               list_cost=D("0.0025"))
        for i in range(3)
    ] + [
        record(f"b{i}", at(OCTOBER[5], 9, i), "claude-sonnet-4-6", hours=0,
               tags={"session": "b"}, requests=1, input_tokens=2000 + 1000 * i,
               output_tokens=50)
        for i in range(6)
    ]  # fmt: skip
    write(tmp_path / "s.db", rows)
    doc = advise_json_period(cli, tmp_path / "s.db", "2026-10-01", "2026-10-31")
    retry = find(doc, "retry", session="r")
    assert D(retry["monthly_saving"]) == monthly(2 * D("0.0025"), 31)
    bloat = find(doc, "bloat", session="b")
    # Each turn re-sends the previous turn's whole prompt: 2,000 + 3,000 + ... + 6,000 tokens
    # that could have been cache reads ($3.00 - $0.30 per million).
    resent = sum(2000 + 1000 * i for i in range(5))
    assert D(bloat["monthly_saving"]) == monthly(
        D(resent) * (D("3.00") - D("0.30")) / 1_000_000, 31
    )


def test_the_html_report_has_the_advice_section(cli, tmp_path):
    from html.parser import HTMLParser

    store = tmp_path / "s.db"
    write(store, support_rows() + classifier_rows())
    page = tmp_path / "r.html"
    result = cli("report", "--store", store, "--month", "2026-10", "--by", "team",
                 "--format", "html", "-o", page)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    cells: list[str] = []

    class Cells(HTMLParser):
        inside = False

        def handle_starttag(self, tag, attrs):
            self.inside = self.inside or ("class", "advice") in attrs

        def handle_data(self, data):
            if self.inside and data.strip():
                cells.append(data.strip())

    Cells().feed(page.read_text())
    routing_saving = (
        D(4_000_000) * 5 + D(50_000) * 25 - D(4_000_000) * 2 - D(50_000) * 10
    ) / 1_000_000
    assert "Savings to act on (tokcli advise)" in cells
    assert f"${routing_saving:,.2f}" in cells and "routing" in cells
