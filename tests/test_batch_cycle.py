"""Full cycles against the emulator: submit, poll until done, results, usage in the store."""

from __future__ import annotations

import json
from decimal import Decimal

from conftest import open_raw_store
from emulator import Outcome
from emulator import anthropic as emu_anthropic
from emulator import openai as emu_openai
from emulator.samples import anthropic_line, openai_line, write_jsonl
from tokcli.cost import Usage, compute_cost
from tokcli.pricing import Registry


def poll_until_done(cli, job_id, limit=20):
    for _ in range(limit):
        run = cli("batch", "poll", job_id, "--format", "json")
        if run.exit_code != 3:
            return run
    raise AssertionError("job never finished")


def usage_rows(store):
    conn = open_raw_store(store, rows_by_name=True)
    rows = conn.execute("SELECT * FROM usage ORDER BY id").fetchall()
    tags = {(r["usage_id"], r["key"]): r["value"] for r in conn.execute("SELECT * FROM usage_tags")}
    return rows, tags


def test_openai_full_cycle(cli, env, emu, tmp_path):
    lines = [openai_line(i) for i in range(5)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    emu.outcome = Outcome(error_at={3})  # one line rejected by the model endpoint

    submitted = cli("batch", "submit", source, "-p", "openai", "--tag", "team=search",
                    "--tag", "feature=faq", "--format", "json")  # fmt: skip
    assert submitted.exit_code == 0, submitted.stderr
    job = submitted.json()["job"]
    assert job["state"] == "running" and job["parts"][0]["batch_id"].startswith("batch_")
    assert job["estimate"]["batch_cost"] != job["estimate"]["standard_cost"]

    polled = poll_until_done(cli, job["id"])
    assert polled.exit_code == 0, polled.stderr
    assert polled.json()["jobs"][0]["state"] == "completed"

    out = tmp_path / "out.jsonl"
    collected = cli("batch", "results", job["id"], "-o", out, "--format", "json")
    assert collected.exit_code == 0, collected.stderr
    summary = collected.json()
    assert summary["statuses"]["succeeded"] == 4 and summary["statuses"]["errored"] == 1

    # Input order is restored although the emulator shuffles the files.
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["custom_id"] for r in written] == [line["custom_id"] for line in lines]
    assert written[3]["status"] == "errored"

    # The usage recorded is what the results say, priced at the batch tier.
    succeeded = [line for line in lines if line["custom_id"] != "req-3"]
    usage = Usage(
        input_tokens=sum(emu_openai.prompt_tokens(line) for line in succeeded),
        output_tokens=sum(emu_openai.completion_tokens(line) for line in succeeded),
        requests=4,
    )
    model = Registry.load().get("gpt-5-mini")
    expected = compute_cost(usage, model, _created_day(emu), "batch").total
    standard = compute_cost(usage, model, _created_day(emu), "standard").total
    rows, tags = usage_rows(env["TOKCLI_STORE"])
    assert len(rows) == 1
    row = rows[0]
    assert (row["service_tier"], row["model"], row["requests"]) == ("batch", "gpt-5-mini", 4)
    assert (row["input_tokens"], row["output_tokens"]) == (usage.input_tokens, usage.output_tokens)
    assert Decimal(row["list_cost"]) == expected
    assert tags[(row["id"], "team")] == "search" and tags[(row["id"], "feature")] == "faq"
    assert Decimal(summary["batch_cost"]) == expected
    assert Decimal(summary["saving"]) == standard - expected > 0

    # `tokcli report` shows the spend under the job's tags, at the batch tier.
    report = cli("report", "--by", "team,feature,tier", "--format", "json")
    assert report.exit_code == 0, report.stderr
    (group,) = report.json()["rows"]
    assert (group["team"], group["feature"], group["tier"]) == ("search", "faq", "batch")
    assert Decimal(group["billed_cost"]) == expected and group["requests"] == 4

    # Collecting again adds nothing to the store.
    again = cli("batch", "results", job["id"], "-o", out, "--format", "json")
    assert again.exit_code == 0 and again.json()["usage_rows_recorded"] == 0
    assert len(usage_rows(env["TOKCLI_STORE"])[0]) == 1


def _created_day(emu):
    import datetime as dt

    batch = next(iter(emu.openai.batches.values()))["object"]
    return dt.datetime.fromtimestamp(batch["created_at"], dt.UTC).date()


def test_anthropic_full_cycle(cli, env, emu, tmp_path):
    lines = [anthropic_line(i) for i in range(4)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    submitted = cli("batch", "submit", source, "-p", "anthropic", "--tag", "team=ops",
                    "--format", "json")  # fmt: skip
    assert submitted.exit_code == 0, submitted.stderr
    job = submitted.json()["job"]
    assert job["parts"][0]["batch_id"].startswith("msgbatch_")

    assert poll_until_done(cli, job["id"]).exit_code == 0
    out = tmp_path / "out.jsonl"
    collected = cli("batch", "results", job["id"], "-o", out, "--format", "json")
    assert collected.exit_code == 0, collected.stderr
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["custom_id"] for r in written] == [f"req-{i}" for i in range(4)]
    assert {r["status"] for r in written} == {"succeeded"}

    rows, tags = usage_rows(env["TOKCLI_STORE"])
    assert len(rows) == 1
    assert rows[0]["input_tokens"] == sum(emu_anthropic.input_tokens(x) for x in lines)
    assert rows[0]["output_tokens"] == sum(emu_anthropic.output_tokens(x) for x in lines)
    assert rows[0]["service_tier"] == "batch" and rows[0]["model"] == "claude-haiku-4-5"
    assert tags[(rows[0]["id"], "team")] == "ops"
    report = cli("report", "--by", "team", "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert [(r["team"], r["requests"]) for r in report.json()["rows"]] == [("ops", 4)]
    assert Decimal(report.json()["rows"][0]["billed_cost"]) == Decimal(
        collected.json()["batch_cost"]
    )


def test_long_context_requests_are_priced_in_their_own_band(cli, env, emu, tmp_path):
    """A >272K-token request bills at long-context prices as a whole; the short one does not."""
    long_line = openai_line(0, model="gpt-5.4")
    long_line["body"]["messages"][1]["content"] = "word " * 240_000  # ~1.2 MB, >272K tokens
    lines = [long_line, openai_line(1, model="gpt-5.4")]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    job = cli("batch", "submit", source, "-p", "openai", "--format", "json").json()["job"]
    poll_until_done(cli, job["id"])
    summary = cli("batch", "results", job["id"], "-o", tmp_path / "o.jsonl", "--format", "json")
    assert summary.exit_code == 0, summary.stderr
    rows = {row["band"]: row for row in summary.json()["usage"]}
    assert set(rows) == {"standard", "long_context"}
    model = Registry.load().get("gpt-5.4")
    day = _created_day(emu)
    expected = Decimal(0)
    for band, line in (("long_context", long_line), ("standard", lines[1])):
        usage = Usage(input_tokens=emu_openai.prompt_tokens(line),
                      output_tokens=emu_openai.completion_tokens(line))  # fmt: skip
        cost = compute_cost(usage, model, day, "batch")
        assert cost.band == band
        assert Decimal(rows[band]["batch_cost"]) == cost.total
        expected += cost.total
    assert Decimal(summary.json()["batch_cost"]) == expected
    stored = (
        open_raw_store(env["TOKCLI_STORE"])
        .execute("SELECT record_key, list_cost FROM usage ORDER BY record_key")
        .fetchall()
    )
    assert [key.endswith(":long_context") for key, _ in stored] == [False, True]
    assert sum(Decimal(cost) for _, cost in stored) == expected


def test_the_whole_cycle_as_library_calls(env, emu, tmp_path):
    """The same cycle through tokcli.batch.session, with no command line: plan, submit once,
    poll with --wait's loop (an injected sleep, no real waiting), results and usage."""
    from tokcli.batch.documents import jobs_document
    from tokcli.batch.session import BatchSession, plan, poll_exit
    from tokcli.context import Context
    from tokcli.errors import ExitCode

    lines = [openai_line(i) for i in range(3)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    context = Context(store_flag=env["TOKCLI_STORE"])
    checked = plan(context, source, "openai")
    assert checked.scan.request_count == 3 and checked.estimate.batch_cost > 0
    sleeps: list[float] = []
    with BatchSession(context) as session:
        base_url = env["OPENAI_BASE_URL"]
        first = session.submit(checked, base_url=base_url, tags={"team": "search"}, force=False)
        again = session.submit(checked, base_url=base_url, tags={"team": "search"}, force=False)
        assert (first.existing, first.sent) == (False, True)
        assert (again.job.id, again.existing, again.sent) == (first.job.id, True, False)
        outcome = session.poll(first.job.id, wait=True, interval=5, sleep=sleeps.append)
        assert not outcome.skipped and outcome.errors == []
        assert [j.state for j in outcome.current] == ["completed"]
        assert poll_exit(outcome.current) == ExitCode.OK
        assert sleeps and all(pause == 5 for pause in sleeps)  # it waited, between polls
        job, summary = session.results(first.job.id, tmp_path / "out.jsonl")
    assert summary.statuses["succeeded"] == 3
    assert jobs_document([job], key="job")["job"]["state"] == "completed"
    rows, tags = usage_rows(env["TOKCLI_STORE"])
    assert sum(row["requests"] for row in rows) == 3
    assert {value for (_, key), value in tags.items() if key == "team"} == {"search"}
