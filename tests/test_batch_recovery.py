"""Issue 15, point 1: the recovery identity. Every request goes out as `<job id>-<line>`, so a
batch in doubt is matched to its job by its content, never by its size or age."""

from __future__ import annotations

import json

from conftest import open_raw_store
from emulator import Fault, Outcome
from emulator.samples import anthropic_line, kill_when_hung, openai_line, write_jsonl
from emulator.samples import start_tokcli as start


def test_two_anthropic_jobs_cut_off_mid_create_each_gets_its_own_batch(
    tokcli_process, env, emu, tmp_path
):
    emu.outcome = Outcome(polls_in_progress=0)
    first = write_jsonl(tmp_path / "a.jsonl", [anthropic_line(i) for i in range(20)])
    second = write_jsonl(tmp_path / "b.jsonl", [anthropic_line(100 + i) for i in range(20)])
    route = r"/v1/messages/batches"
    # Job 1: the create never reaches the server; job 2: the server makes the batch, then the
    # client dies before the answer arrives.
    emu.faults.append(Fault("POST", route, status="hang-before"))
    kill_when_hung(start("batch", "submit", first, "-p", "anthropic"), emu, 1)
    emu.faults.append(Fault("POST", route, status="hang-after"))
    kill_when_hung(start("batch", "submit", second, "-p", "anthropic"), emu, 2)
    assert len(emu.anthropic.batches) == 1
    (theirs,) = emu.anthropic.batches

    listed = tokcli_process("batch", "list", "--format", "json").json()["jobs"]
    assert [j["state"] for j in listed] == ["submitting", "submitting"]
    job1, job2 = (j["id"] for j in listed)

    resumed = tokcli_process("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert "cancel" not in resumed.stderr
    by_id = {j["id"]: j for j in resumed.json()["jobs"]}
    assert by_id[job2]["parts"][0]["batch_id"] == theirs
    mine = by_id[job1]["parts"][0]["batch_id"]
    assert mine not in (None, theirs)
    assert len(emu.anthropic.batches) == 2
    # Job 1's own requests were sent, under its own identity; job 2's were not sent twice.
    sent = emu.anthropic.batches[mine]["requests"]
    assert [r["custom_id"] for r in sent] == [f"{job1}-{n}" for n in range(1, 21)]
    assert [r["params"]["messages"] for r in sent] == [
        anthropic_line(i)["params"]["messages"] for i in range(20)
    ]

    # Results map back to each job's own custom_ids, every line present.
    for job, source in ((job1, first), (job2, second)):
        out = tmp_path / f"{job}.out.jsonl"
        while tokcli_process("batch", "poll", job).exit_code == 3:
            pass
        run = tokcli_process("batch", "results", job, "-o", out, "--format", "json")
        assert run.exit_code == 0, run.stderr
        assert run.json()["statuses"]["succeeded"] == 20
        written = [json.loads(line)["custom_id"] for line in out.read_text().splitlines()]
        expected = [json.loads(line)["custom_id"] for line in source.read_text().splitlines()]
        assert written == expected
    # Each job's usage is recorded once, under its own job tag, for its own 20 requests.
    store = open_raw_store(env["TOKCLI_STORE"])
    tagged = store.execute(
        "SELECT t.value, SUM(u.requests) FROM usage u JOIN usage_tags t ON t.usage_id = u.id "
        "WHERE t.key = 'batch_job' GROUP BY t.value ORDER BY t.value"
    ).fetchall()
    assert tagged == sorted([(job1, 20), (job2, 20)])


def test_a_running_lookalike_is_neither_adopted_nor_duplicated(tokcli_process, env, emu, tmp_path):
    """A batch from another store, same size, created meanwhile and still running: tokcli
    cannot read its ids yet, so it sends nothing, says so (exit 3), and never advises a
    cancel; once the stranger ends, its ids show it is not ours and the job is sent."""
    emu.outcome = Outcome(polls_in_progress=3)
    ours = write_jsonl(tmp_path / "a.jsonl", [anthropic_line(i) for i in range(5)])
    emu.faults.append(Fault("POST", r"/v1/messages/batches", status="hang-before"))
    kill_when_hung(start("batch", "submit", ours, "-p", "anthropic"), emu, 1)
    # A colleague's batch of the same size, submitted from another store.
    other_store = {"TOKCLI_STORE": str(tmp_path / "colleague.db")}
    theirs_file = write_jsonl(tmp_path / "b.jsonl", [anthropic_line(50 + i) for i in range(5)])
    assert tokcli_process("batch", "submit", theirs_file, "-p", "anthropic",
                          env=other_store).exit_code == 0  # fmt: skip
    (theirs,) = emu.anthropic.batches

    first = tokcli_process("batch", "resume")
    assert first.exit_code == 3, first.stderr
    assert theirs in first.stderr and "cancel" not in first.stderr
    assert len(emu.anthropic.batches) == 1
    for _ in range(5):
        run = tokcli_process("batch", "resume", "--format", "json")
        if run.exit_code == 0:
            break
    assert run.exit_code == 0, run.stderr
    assert len(emu.anthropic.batches) == 2
    assert run.json()["jobs"][0]["parts"][0]["batch_id"] != theirs


def test_results_refuse_a_batch_holding_another_jobs_requests(cli, env, emu, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    job = cli("batch", "submit", source, "-p", "openai", "--format", "json").json()["job"]
    batch = next(iter(emu.openai.batches.values()))
    path = emu.openai.files[batch["object"]["input_file_id"]]["path"]
    path.write_text(path.read_text().replace(job["id"], "job_00000000000000ff"))
    while cli("batch", "poll", job["id"]).exit_code == 3:
        pass
    run = cli("batch", "results", job["id"], "-o", tmp_path / "out.jsonl")
    assert run.exit_code == 2
    assert "not one of this job's lines" in run.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_a_job_from_before_the_wire_ids_keeps_its_own_ids(tokcli_process, env, emu, tmp_path):
    """Jobs recorded before migration 0011 sent the user's ids; resuming one keeps doing so,
    and its results still map back."""
    source = write_jsonl(tmp_path / "in.jsonl", [openai_line(i) for i in range(3)])
    emu.faults.append(Fault("POST", r"/v1/files", status="hang-before"))
    kill_when_hung(start("batch", "submit", source, "-p", "openai"), emu, 1)
    store = open_raw_store(env["TOKCLI_STORE"])
    store.execute("UPDATE batch_jobs SET wire_ids = 0")
    store.commit()
    resumed = tokcli_process("batch", "resume", "--format", "json")
    assert resumed.exit_code == 0, resumed.stderr
    job = resumed.json()["jobs"][0]["id"]
    (batch,) = emu.openai.batches.values()
    path = emu.openai.files[batch["object"]["input_file_id"]]["path"]
    sent = [json.loads(line)["custom_id"] for line in path.read_text().splitlines()]
    assert sent == ["req-0", "req-1", "req-2"]
    while tokcli_process("batch", "poll", job).exit_code == 3:
        pass
    out = tmp_path / "out.jsonl"
    run = tokcli_process("batch", "results", job, "-o", out, "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert [json.loads(line)["custom_id"] for line in out.read_text().splitlines()] == sent
