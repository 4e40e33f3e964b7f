"""Tag keys whose values are nearly unique per row stay out of the rollups (issue 17, m0018).

A request id as a tag made the tag rollups as large as the usage table and the pair rollups
several times larger. The upkeep now names such a key (`report_unrolled_tag_keys`) and leaves it
out; a report by it, or filtered by it, reads the usage rows. Each test checks what a report
gives against sums the test computes from its own records, and against the same report read
from the usage rows only.
"""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal as D

import pytest

import tokcli.store.rollups as store_rollups
from test_rollup_upkeep import conn as conn  # an open store, on SQLite and on PostgreSQL
from tokcli.reporting.query import Selection, fetch, totals_by
from tokcli.reporting.rollups import refresh
from tokcli.store import connect, transaction
from tokcli.store.copy import copy_store
from tokcli.store.usage import UsageRecord, insert_usage, keeping_rollups

EXACT = decimal.Context(prec=100, traps=[decimal.Inexact])
TEAMS = ("search", "support", "growth")
ENVS = ("prod", "dev")


@pytest.fixture
def low_threshold(monkeypatch):
    """A flush of 40 rows is enough to judge a key (the real threshold wants 10,000)."""
    monkeypatch.setattr(store_rollups, "UNROLL_FROM_ROWS", 40)


def records(first: int, count: int) -> list[UsageRecord]:
    """Rows over three days, each with a team, most with an env, and its own request id."""
    made = []
    for n in range(first, first + count):
        start = dt.datetime(2026, 3, 1 + n % 3, n % 24, tzinfo=dt.UTC)
        tags = {"team": TEAMS[n % 3], "request": f"req-{n:05d}"}
        if n % 4:
            tags["env"] = ENVS[n % 2]
        made.append(UsageRecord(
            record_key=f"row-{n}", source="test", period_start=start,
            period_end=start + dt.timedelta(hours=1), provider="openai",
            model="gpt-5" if n % 2 else "gpt-5-mini", input_tokens=1_000 + n,
            output_tokens=n, requests=1, billed_cost=D(f"0.{n:04d}01"), currency="USD",
            tags=tags,
        ))  # fmt: skip
    return made


def write(conn, rows: list[UsageRecord]) -> None:
    with transaction(conn), keeping_rollups(conn) as upkeep:
        insert_usage(conn, rows, upkeep=upkeep)


def canonical(rows) -> list[tuple]:
    # An untagged group holds None, which does not compare with text: sorted by repr.
    made = [(f.group, f.day, f.model, f.tier, f.currency, f.totals.rollup_values()) for f in rows]
    return sorted(made, key=repr)


SELECTIONS = [
    Selection(group_by=("team",)),
    Selection(group_by=("request",)),
    Selection(group_by=("team", "env")),
    Selection(group_by=("team", "request")),
    Selection(group_by=("model",), where=(("request", "req-00007"),)),
    Selection(group_by=("env",), where=(("team", "support"),)),
    Selection(group_by=("day",)),
]


def rollup_rows_of(conn, key: str) -> tuple[int, int]:
    tag = conn.execute("SELECT COUNT(*) FROM report_tag_rollup WHERE key = ?", (key,))
    pair = conn.execute(
        "SELECT COUNT(*) FROM report_tag_pair_rollup WHERE key = ? OR other_key = ?", (key, key)
    )
    return tag.fetchone()[0], pair.fetchone()[0]


def test_a_request_id_tag_is_left_out_and_reports_stay_exact(conn, low_threshold):
    written = records(0, 120)
    write(conn, written[:60])
    write(conn, written[60:])  # the second import knows the key: its signatures skip it

    assert store_rollups.unrolled_tag_keys(conn) == {"request"}
    assert rollup_rows_of(conn, "request") == (0, 0)
    assert rollup_rows_of(conn, "team")[0] > 0 and rollup_rows_of(conn, "env")[1] > 0
    assert store_rollups.dirty_days(conn) == []  # nothing left for the first report to rebuild

    for selection in SELECTIONS:
        from_rollups = canonical(fetch(conn, selection))
        assert from_rollups == canonical(fetch(conn, selection, use_rollups=False)), selection

    # One request's cost and one team's, summed here from the records.
    (only,) = fetch(conn, Selection(group_by=("request",), where=(("request", "req-00007"),)))
    assert only.group == ("req-00007",) and only.totals.billed_cost == D("0.000701")
    support = [r for r in written if r.tags["team"] == "support"]
    expected = sum((r.billed_cost for r in support), D(0))
    by_team = totals_by(conn, Selection(group_by=("team",)))
    assert by_team[("support", "USD")].billed_cost == EXACT.plus(expected)
    by_request = totals_by(conn, Selection(group_by=("request",)))
    assert len(by_request) == 120
    assert by_request[("req-00119", "USD")].billed_cost == D("0.011901")


def test_an_import_too_small_to_judge_leaves_an_unrolled_key_out(conn, low_threshold):
    """Once a key is unrolled, the next import's rows carry it only in the usage rows, however
    few they are (too few for the upkeep to judge the key again): store.usage builds their
    upkeep rows without it."""
    write(conn, records(0, 60))
    assert store_rollups.unrolled_tag_keys(conn) == {"request"}
    write(conn, records(60, 9))
    assert rollup_rows_of(conn, "request") == (0, 0)
    by_team = Selection(group_by=("team", "request"))
    assert canonical(fetch(conn, by_team)) == canonical(fetch(conn, by_team, use_rollups=False))


def test_a_rebuild_leaves_the_key_out_too(conn, low_threshold):
    write(conn, records(0, 90))
    before = canonical(fetch(conn, Selection(group_by=("team", "env"))))
    conn.execute("INSERT INTO report_dirty_days (day) SELECT DISTINCT day FROM report_rollup")
    conn.commit()
    assert refresh(conn) == 3
    assert rollup_rows_of(conn, "request") == (0, 0)
    assert canonical(fetch(conn, Selection(group_by=("team", "env")))) == before
    by_request = Selection(group_by=("request",))
    assert canonical(fetch(conn, by_request)) == canonical(
        fetch(conn, by_request, use_rollups=False)
    )


def test_a_key_with_few_values_stays_rolled_up(conn, low_threshold):
    write(conn, [r for r in records(0, 90) if r.tags.pop("request")])
    assert store_rollups.unrolled_tag_keys(conn) == set()
    assert rollup_rows_of(conn, "team")[0] > 0


def test_below_the_threshold_nothing_is_unrolled(conn):
    write(conn, records(0, 200))  # 200 request ids: far under 10,000 rollup rows
    assert store_rollups.unrolled_tag_keys(conn) == set()
    assert rollup_rows_of(conn, "request")[0] == 200


def test_the_upgrade_unrolls_what_the_stored_rollups_show(tmp_path):
    path = tmp_path / "old.db"
    old = connect(path, migrate_to=17)
    write(old, records(0, 10_050))  # at schema 17 every key is rolled up
    assert rollup_rows_of(old, "request") == (10_050, 10_050 + 7_537)
    before = canonical(fetch(old, Selection(group_by=("team", "env"))))
    old.close()

    upgraded = connect(path)
    assert store_rollups.unrolled_tag_keys(upgraded) == {"request"}
    assert rollup_rows_of(upgraded, "request") == (0, 0)
    assert canonical(fetch(upgraded, Selection(group_by=("team", "env")))) == before
    upgraded.close()


def test_a_copy_keeps_the_key_out(tmp_path, low_threshold):
    source = connect(tmp_path / "a.db")
    write(source, records(0, 90))
    target = connect(tmp_path / "b.db")
    copy_store(source, target)
    refresh(target)
    assert store_rollups.unrolled_tag_keys(target) == {"request"}
    assert rollup_rows_of(target, "request") == (0, 0)
    selection = Selection(group_by=("team", "request"))
    assert canonical(fetch(target, selection)) == canonical(fetch(source, selection))
    source.close()
    target.close()


def test_the_upkeep_drops_the_key_from_its_signatures_before_the_flush(conn, low_threshold):
    """Judged as soon as the signatures held reach the threshold: the rest of the import holds
    a few signatures, not one per row; the store learns the key at the flush."""
    from tokcli.store.usage import _upkeep

    with transaction(conn):
        upkeep = _upkeep(conn)
        insert_usage(conn, records(0, 120), upkeep=upkeep)
        assert "request" in upkeep.unrolled
        # 3 days x 2 models x 3 teams x (2 envs or none), at most: far fewer than 120 rows
        assert upkeep.pending_keys() <= 36
        assert store_rollups.unrolled_tag_keys(conn) == set()  # not yet written
        upkeep.flush(conn)
    assert store_rollups.unrolled_tag_keys(conn) == {"request"}
    assert rollup_rows_of(conn, "request") == (0, 0)
    selection = Selection(group_by=("team", "env"))
    assert canonical(fetch(conn, selection)) == canonical(fetch(conn, selection, use_rollups=False))


def test_store_info_names_the_unrolled_keys(cli, tmp_path, low_threshold):
    path = tmp_path / "usage.db"
    before = cli("store", "info", "--store", path, "-f", "json")
    assert before.exit_code == 0 and before.json()["unrolled_tag_keys"] == []
    conn = connect(path)
    write(conn, records(0, 90))
    conn.close()
    after = cli("store", "info", "--store", path, "-f", "json")
    assert after.json()["unrolled_tag_keys"] == ["request"]
    text = cli("store", "info", "--store", path)
    assert "tag keys left out of the report rollups" in text.stdout + text.stderr
    assert "request" in text.stdout + text.stderr


def test_the_judgement_counts_every_flush_of_the_import(conn, low_threshold):
    """A key judged on each flush alone would stay rolled up when its rows come in parts each
    under the threshold; which of its rows a flush holds depends on the order of the input, so
    the judgement counts what the earlier flushes of the same import held too."""
    from tokcli.store.usage import _upkeep

    with transaction(conn):
        upkeep = _upkeep(conn)
        insert_usage(conn, records(0, 30), upkeep=upkeep)  # 30 request ids: under 40
        upkeep.flush(conn)
        assert store_rollups.unrolled_tag_keys(conn) == set()
        assert rollup_rows_of(conn, "request")[0] == 30
        insert_usage(conn, records(30, 30), upkeep=upkeep)  # 30 more: 60 over the import
        upkeep.flush(conn)
    assert store_rollups.unrolled_tag_keys(conn) == {"request"}
    assert rollup_rows_of(conn, "request") == (0, 0)  # the first flush's rows dropped too
    assert rollup_rows_of(conn, "team")[0] > 0  # 3 values: not scattered, however counted
    for selection in SELECTIONS:
        from_rollups = canonical(fetch(conn, selection))
        assert from_rollups == canonical(fetch(conn, selection, use_rollups=False)), selection
