"""Validation before anything leaves the machine, conversion, estimates and splitting."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from emulator.samples import anthropic_line, openai_line, write_jsonl
from tokcli.batch.limits import LIMITS, Limits
from tokcli.batch.scan import scan_file
from tokcli.cost import Usage, compute_cost
from tokcli.pricing import Registry


def _mixed_models():
    return [openai_line(0), openai_line(1, model="gpt-4.1")]


def _url_mismatch():
    line = openai_line(1)
    line["url"] = "/v1/embeddings"
    return [openai_line(0), line]


def _stream():
    line = openai_line(0)
    line["body"]["stream"] = True
    return [line]


BAD_OPENAI = [
    (["{not json"], 1, "not valid JSON"),
    ([{"method": "POST"}], 1, "custom_id: missing"),
    ([openai_line(0), openai_line(0)], 2, "duplicate custom_id 'req-0' (first on line 1)"),
    (_mixed_models(), 2, "one model per OpenAI batch file"),
    (_url_mismatch(), 2, "differs from the batch endpoint"),
    ([openai_line(0), "", openai_line(1)], 2, "blank line"),
    ([{"custom_id": "a", "method": "GET", "url": "/v1/chat/completions", "body": {}}], 1,
     "method"),
    ([{"custom_id": "a", "model": "x", "messages": []}], 1, "batch convert --to openai"),
    (_stream(), 1, "body.stream"),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "line_no", "message"), BAD_OPENAI)
def test_bad_openai_input_names_file_and_line_and_sends_nothing(
    cli, env, emu, tmp_path, lines, line_no, message
):
    source = write_jsonl(tmp_path / "bad.jsonl", lines)
    run = cli("batch", "submit", source, "-p", "openai")
    assert run.exit_code == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert f"{source}:{line_no}" in run.stderr and message in run.stderr
    assert emu.log == []


def _anthropic_bad_id():
    line = anthropic_line(0)
    line["custom_id"] = "has spaces and is fine for openai"
    return [line]


def _anthropic_no_max_tokens():
    line = anthropic_line(0)
    del line["params"]["max_tokens"]
    return [line]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (_anthropic_bad_id(), "custom_id"),
        ([{**anthropic_line(0), "custom_id": "x" * 65}], "1-64 characters"),
        (_anthropic_no_max_tokens(), "params.max_tokens"),
        ([openai_line(0)], "custom_id and params"),
    ],
)
def test_bad_anthropic_input(cli, env, emu, tmp_path, lines, message):
    source = write_jsonl(tmp_path / "bad.jsonl", lines)
    run = cli("batch", "submit", source, "-p", "anthropic")
    assert run.exit_code == 2 and message in run.stderr and f"{source}:1" in run.stderr
    assert emu.log == []


def test_unknown_model_is_refused_before_sending(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(0, model="gpt-9-imaginary")])
    run = cli("batch", "submit", source, "-p", "openai")
    assert run.exit_code == 2 and "unknown model" in run.stderr
    assert emu.log == []


def test_model_of_the_other_provider_is_refused(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [anthropic_line(0, model="gpt-5-mini")])
    run = cli("batch", "submit", source, "-p", "anthropic")
    assert run.exit_code == 2 and "is a openai model" in run.stderr


def test_dry_run_estimates_batch_against_synchronous_and_sends_nothing(cli, env, emu, tmp_path):
    lines = [openai_line(i, max_tokens=100) for i in range(3)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    run = cli("batch", "submit", source, "-p", "openai", "--dry-run", "--format", "json")
    assert run.exit_code == 0, run.stderr
    plan = run.json()
    estimate = plan["estimate"]
    row = estimate["models"][0]
    assert row["model"] == "gpt-5-mini" and row["output_tokens_max"] == 300
    model = Registry.load().get("gpt-5-mini")
    usage = Usage(input_tokens=row["input_tokens"], output_tokens=300, requests=3)
    at = "2026-11-24"
    import datetime as dt

    day = dt.date.fromisoformat(at)
    assert Decimal(estimate["batch_cost"]) == compute_cost(usage, model, day, "batch").total
    assert Decimal(estimate["standard_cost"]) == compute_cost(usage, model, day).total
    assert Decimal(estimate["saving"]) > 0
    assert estimate["exact_tokens"] is True and estimate["is_ceiling"] is True
    # Bytes as sent: each line compact, its custom_id replaced by `job_<16 hex>-<line>`.
    sent = sum(
        len(json.dumps({**line, "custom_id": f"job_{'0' * 16}-{n}"}, separators=(",", ":"))) + 1
        for n, line in enumerate(lines, start=1)
    )
    assert plan["parts"] == [{"part": 0, "first_line": 1, "requests": 3, "bytes": sent}]
    assert emu.log == []
    table = cli("batch", "submit", source, "-p", "openai", "--dry-run")
    assert "saving" in table.stdout and "nothing was sent" in table.stdout


def test_max_cost_refuses_to_submit(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    run = cli("batch", "submit", source, "-p", "openai", "--max-cost", "0.000001")
    assert run.exit_code == 1 and "above --max-cost" in run.stderr
    assert emu.log == []
    ok = cli("batch", "submit", source, "-p", "openai", "--max-cost", "5")
    assert ok.exit_code == 0


def test_split_by_count_and_size():
    """Limits are checked as the file streams: count, then bytes, of each part."""
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = write_jsonl(pathlib.Path(folder) / "in.jsonl", [openai_line(i) for i in range(7)])
        by_count = scan_file(path, "openai", limits=Limits(3, 10**9))
        assert [p.request_count for p in by_count.parts] == [3, 3, 1]
        assert [p.first_line for p in by_count.parts] == [1, 4, 7]
        assert by_count.parts[-1].end_offset == path.stat().st_size
        line_size = len(path.read_bytes().splitlines(keepends=True)[0])
        by_size = scan_file(path, "openai", limits=Limits(100, line_size * 2 + 2))
        assert all(p.payload_bytes <= line_size * 2 + 2 for p in by_size.parts)
        assert sum(p.request_count for p in by_size.parts) == 7
        with pytest.raises(Exception, match="over the provider's batch size limit"):
            scan_file(path, "openai", limits=Limits(100, 10))
    assert LIMITS["openai"] == Limits(50_000, 200_000_000)
    assert LIMITS["anthropic"] == Limits(100_000, 256_000_000)


def test_split_job_is_tracked_as_one(cli, env, emu, tmp_path):
    lines = [anthropic_line(i) for i in range(5)]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    run = cli("batch", "submit", source, "-p", "anthropic", "--max-requests", "2",
              "--format", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    job = run.json()["job"]
    assert [p["requests"] for p in job["parts"]] == [2, 2, 1]
    assert len(emu.anthropic.batches) == 3
    for _ in range(5):
        if cli("batch", "poll", job["id"]).exit_code == 0:
            break
    out = tmp_path / "out.jsonl"
    done = cli("batch", "results", job["id"], "-o", out, "--format", "json")
    assert done.exit_code == 0, done.stderr
    written = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["custom_id"] for r in written] == [f"req-{i}" for i in range(5)]
    assert len({r["batch_id"] for r in written}) == 3
    assert done.json()["usage_rows_recorded"] == 3
    listed = cli("batch", "list", "--format", "json").json()["jobs"]
    assert len(listed) == 1 and listed[0]["counts"]["succeeded"] == 5


# -- convert ---------------------------------------------------------------------------------


NEUTRAL = {
    "custom_id": "q1",
    "model": "claude-haiku-4-5",
    "system": "Be brief.",
    "messages": [{"role": "user", "content": "Hi"}],
    "max_tokens": 20,
}


def test_convert_neutral_to_both_and_back(cli, tmp_path):
    source = write_jsonl(tmp_path / "n.jsonl", [NEUTRAL])
    to_anthropic = cli("batch", "convert", source, "--to", "anthropic")
    assert to_anthropic.exit_code == 0
    anthropic = json.loads(to_anthropic.stdout)
    assert anthropic == {
        "custom_id": "q1",
        "params": {"model": "claude-haiku-4-5", "max_tokens": 20, "system": "Be brief.",
                   "messages": [{"role": "user", "content": "Hi"}]},
    }  # fmt: skip
    out = tmp_path / "o.jsonl"
    to_openai = cli("batch", "convert", source, "--to", "openai", "-m", "gpt-5-mini", "-o", out)
    assert to_openai.exit_code == 0 and to_openai.stdout == ""
    openai = json.loads(out.read_text())
    assert openai["url"] == "/v1/chat/completions" and openai["method"] == "POST"
    assert openai["body"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert openai["body"]["max_completion_tokens"] == 20
    # OpenAI -> Anthropic -> neutral gives the neutral line back.
    a_path = write_jsonl(tmp_path / "a.jsonl", [openai])
    back = cli("batch", "convert", a_path, "--to", "anthropic", "-m", "claude-haiku-4-5")
    n_path = write_jsonl(tmp_path / "b.jsonl", [json.loads(back.stdout)])
    assert json.loads(cli("batch", "convert", n_path, "--to", "neutral").stdout) == NEUTRAL


def test_converted_files_pass_validation(cli, tmp_path):
    source = write_jsonl(tmp_path / "n.jsonl", [{**NEUTRAL, "custom_id": f"q{i}"}
                                               for i in range(3)])  # fmt: skip
    for target, model in (("openai", "gpt-5-mini"), ("anthropic", None)):
        out = tmp_path / f"{target}.jsonl"
        args = ["batch", "convert", source, "--to", target, "-o", out]
        assert cli(*args, *(["-m", model] if model else [])).exit_code == 0
        scan_file(out, target)


@pytest.mark.parametrize(
    ("line", "target", "message"),
    [
        ({**NEUTRAL, "custom_id": "has space"}, "anthropic", "custom_id"),
        ({k: v for k, v in NEUTRAL.items() if k != "max_tokens"}, "anthropic", "max_tokens"),
        ({**NEUTRAL, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
         "openai", "image_url"),
        ({**NEUTRAL, "extra": 1}, "openai", "unexpected key"),
    ],
)  # fmt: skip
def test_convert_errors_name_the_line(cli, tmp_path, line, target, message):
    source = write_jsonl(tmp_path / "n.jsonl", [NEUTRAL | {"custom_id": "ok"}, line])
    out = tmp_path / "out.jsonl"
    run = cli("batch", "convert", source, "--to", target, "-o", out)
    assert run.exit_code == 2 and f"{source}:2" in run.stderr and message in run.stderr
    assert not out.exists() and not (tmp_path / "out.jsonl.tmp").exists()
