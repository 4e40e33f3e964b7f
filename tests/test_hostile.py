"""Hostile input and hostile surroundings, across commands: one line on stderr, the right exit
code, no traceback, bounded memory, outputs that carry data and never formulas, markup or
terminal commands, and `-o` files that are whole or untouched.

(Import-side damage — truncated files, bombs, NaN, 1e400 — is in test_import_hardening.py;
batch-side in test_batch_hostile.py; prompt templates in test_prompts_render.py.)
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import os
import resource
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tokcli.errors import TokcliError
from tokcli.outputs import atomic_output
from tokcli.store import connect, transaction
from tokcli.store.usage import UsageRecord, insert_usage

REPO_DEMO = Path(__file__).resolve().parents[1] / "examples" / "billing" / "demo_focus_2026-10.csv"
HOSTILE_TEAM = '<img src=x onerror="alert(1)"> <!-- hidden'
FORMULAS = ('=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "@SUM(1,2)", "-2+3")


def hostile_store(path: Path) -> Path:
    conn = connect(path)
    start = dt.datetime(2026, 10, 5, tzinfo=dt.UTC)
    records = [
        UsageRecord(
            record_key=f"r{i}",
            source="test",
            period_start=start,
            period_end=start,
            provider="openai",
            model="gpt-5",
            model_raw=formula,
            requests=1,
            input_tokens=1000,
            output_tokens=100,
            billed_cost=None,
            currency="USD",
            tags={"team": team, "feature": formula},
        )
        for i, (formula, team) in enumerate(
            [
                (f, HOSTILE_TEAM if i == 0 else f"\x1b[31mred\x1b]0;pwned\x07{i}")
                for i, f in enumerate(FORMULAS)
            ]
        )
    ]
    with transaction(conn):
        insert_usage(conn, records)
    conn.close()
    return path


def one_error_line(stderr: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith("tokcli: error: "), stderr
    assert "Traceback" not in stderr


def test_export_csv_prefixes_every_formula_cell(cli, tmp_path):
    store = hostile_store(tmp_path / "s.db")
    result = cli("export", "--store", store)
    assert result.exit_code == 0, result.stderr
    cells = [cell for row in csv.reader(io.StringIO(result.stdout)) for cell in row]
    for formula in FORMULAS[:3]:
        assert formula not in cells and "'" + formula in cells
    risky = [c for c in cells if c[:1] in ("=", "+", "@") or (c[:1] == "-" and not _number(c))]
    assert risky == []


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize(
    "command", [["report", "--by", "team,feature"], ["advise", "--by", "team"]]
)
def test_markdown_escapes_html_from_tags(cli, tmp_path, command):
    store = hostile_store(tmp_path / "s.db")
    result = cli(
        *command,
        "--store",
        store,
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-31",
        "--format",
        "markdown",
    )
    assert result.exit_code == 0, result.stderr
    if "team" in command[-1] and command[0] == "report":
        assert "&lt;img" in result.stdout
    assert "<img" not in result.stdout and "<!--" not in result.stdout


def test_terminal_tables_carry_no_control_characters(cli, tmp_path):
    store = hostile_store(tmp_path / "s.db")
    result = cli("report", "--by", "team", "--store", store)
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "red" in result.stdout  # the text stays, the escape sequences go


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    """A full disk, simulated: the write raises ENOSPC half-way."""
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "report.html"
    target.write_text("OLD")
    with pytest.raises(TokcliError, match="No space left"), atomic_output(target) as stream:
        stream.write("<html> half a page")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "OLD"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html"]


def test_a_fifo_target_is_written_in_place_not_replaced(cli, tmp_path):
    store = hostile_store(tmp_path / "s.db")
    fifo = tmp_path / "out.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = cli("report", "--by", "team", "--store", store, "-f", "csv", "-o", fifo)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert received and received[0].startswith(b"team")


def test_an_internal_bug_is_one_line_exit_1_with_a_hint(cli, tmp_path, monkeypatch):
    import tokcli.reporting.rollups

    def broken(conn):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(tokcli.reporting.rollups, "refresh", broken)
    result = cli("report", "--store", hostile_store(tmp_path / "s.db"))
    assert result.exit_code == 1
    one_error_line(result.stderr)
    assert "internal error: ZeroDivisionError" in result.stderr and "TOKCLI_DEBUG" in result.stderr


def test_a_damaged_store_is_named(cli, tmp_path):
    store = tmp_path / "s.db"
    store.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    for command in (["report"], ["export"], ["store", "info"], ["advise"]):
        result = cli(*command, "--store", store)
        assert result.exit_code == 2, (command, result.stderr)
        one_error_line(result.stderr)


def test_workload_numbers_beyond_any_real_volume_are_refused(cli, tmp_path):
    from conftest import REPO

    workload = tmp_path / "w.yaml"
    example = (REPO / "examples" / "workloads" / "chatbot.yaml").read_text()
    workload.write_text(example.replace("users: 10000", "users: 1e400"))
    assert "users: 1e400" in workload.read_text()
    result = cli("estimate", "--workload", workload)
    assert result.exit_code == 2
    one_error_line(result.stderr)
    assert "w.yaml:7: users: must be between 0 and" in result.stderr


def _limited(args: list[str], cwd: Path, memory: int = 1 << 30) -> subprocess.CompletedProcess:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "tokcli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        preexec_fn=limit,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "content", "args"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, ["estimate", "deep.json", "-m", "gpt-5"]),
        (
            "deep.jsonl",
            "[" * 100_000 + "]" * 100_000 + "\n",
            ["batch", "submit", "deep.jsonl", "-p", "openai", "--dry-run"],
        ),
        ("bomb.j2", "{{ 'a' * 10**10 }}\n", ["estimate", "bomb.j2", "-m", "gpt-5"]),
        ("garbage.yaml", "\x00\xff" * 1000, ["tco", "--config", "garbage.yaml"]),
    ],
)
def test_hostile_files_stay_within_memory_and_end_in_one_line(tmp_path, name, content, args):
    (tmp_path / name).write_text(content, encoding="latin-1")
    run = _limited(args, tmp_path)
    assert run.returncode == 2, run.stderr
    one_error_line(run.stderr)


def test_a_closed_pipe_is_a_quiet_exit_0(tmp_path):
    store = hostile_store(tmp_path / "s.db")
    for args in (["export"], ["report", "--by", "team", "-f", "csv"]):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tokcli", *args, "--store", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert writer.stdout is not None and writer.stderr is not None
        writer.stdout.readline()
        writer.stdout.close()
        stderr = writer.stderr.read().decode()
        assert writer.wait(timeout=60) == 0, stderr
        assert stderr == ""


def test_a_file_name_cannot_inject_markup_into_the_pr_comment(cli, isolated_env):
    name = "<img src=x onerror=alert(1)><!--.txt"
    (isolated_env / name).write_text("Summarise the ticket in three bullets.\n")
    result = cli(
        "estimate", name, "-m", "gpt-5", "--requests", "1000", "--per", "day", "-f", "markdown"
    )
    assert result.exit_code == 0, result.stderr
    assert "&lt;img" in result.stdout
    assert "<img" not in result.stdout and "<!--" not in result.stdout


def test_github_annotations_escape_what_would_end_the_command(cli, isolated_env):
    name = "a,b:c%.txt"
    (isolated_env / name).write_text("Today is {{ now }}.\n" + "Stable instructions. " * 400)
    result = cli("audit", name, "-m", "claude-sonnet-4-6", "--format", "github")
    line = next(line for line in result.stdout.splitlines() if line.startswith("::"))
    assert "file=a%2Cb%3Ac%25.txt," in line


def test_a_read_only_store_can_still_be_read(cli, tmp_path, monkeypatch):
    """The read-only decision is simulated (tests run as root, whom permissions do not stop):
    os.access reports the store and its folder not writable, as on a read-only mount. The
    open itself is SQLite's real read-only mode, so any write would fail."""
    store = hostile_store(tmp_path / "s.db")
    assert cli("report", "--store", store).exit_code == 0  # rollups built, schema current
    before = store.read_bytes()
    real_access = os.access

    def no_write(path, mode, *args, **kwargs):
        if mode & os.W_OK and str(path).startswith(str(tmp_path)):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", no_write)
    for command in (["report", "--by", "team"], ["export"], ["store", "info"], ["advise"]):
        result = cli(*command, "--store", store)
        assert result.exit_code == 0, (command, result.stderr)
    written = cli("import", REPO_DEMO, "--store", store)
    assert written.exit_code == 2
    one_error_line(written.stderr)
    assert "cannot be written" in written.stderr, written.stderr
    assert store.read_bytes() == before


def test_a_full_disk_during_import_is_one_line_and_the_store_is_unchanged(
    cli, tmp_path, monkeypatch
):
    """A full disk, simulated the way SQLite meets it: `max_page_count` caps the file just above
    its size, so the import's writes fail with SQLITE_FULL half-way through the file."""
    import sqlite3

    import tokcli.store as store_module
    from conftest import SAMPLES

    store = tmp_path / "s.db"
    assert cli("import", REPO_DEMO, "--store", store).exit_code == 0
    before = "\n".join(sqlite3.connect(store).iterdump())
    real_connect = store_module.connect

    def nearly_full(path, **kwargs):
        conn = real_connect(path, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        return conn

    monkeypatch.setattr(store_module, "connect", nearly_full)
    result = cli(
        "import", SAMPLES / "focus" / "focus_sample.csv", "--all-services", "--store", store
    )
    assert result.exit_code == 2
    one_error_line(result.stderr)
    assert "full" in result.stderr
    monkeypatch.undo()
    assert "\n".join(sqlite3.connect(store).iterdump()) == before


def test_ctrl_c_prints_one_line_and_exits_130():
    """A real SIGINT to a real process, sent once it is reading its (endless) standard input."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", "tokens", "-", "--model", "gpt-4o"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # As at a terminal: a suite started in the background of a non-interactive shell
        # inherits SIGINT ignored, and Python then installs no handler for it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None
    proc.stdin.write(b"hello " * 1000)
    proc.stdin.flush()
    _wait_until_reading_stdin(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.decode() == "tokcli: error: interrupted\n"


def _wait_until_reading_stdin(pid: int) -> None:
    """Block until the process sits in read(0, ...) (Linux: /proc/PID/syscall starts "0 0x0"),
    i.e. tokcli is running the command, so the SIGINT lands where a user's Ctrl-C would."""
    import time

    syscall = Path(f"/proc/{pid}/syscall")
    for _ in range(6000):
        try:
            if syscall.read_text().startswith("0 0x0 "):
                return
        except OSError:
            pass
        time.sleep(0.01)
    raise AssertionError("tokcli never started reading its standard input")
