"""Precision and recall of `tokcli audit` on real public templates (tests/fixtures/audit/real,
five sources, SOURCES.md beside each), against hand-made labels (real/LABELS.yaml).

Precision = reported cost findings (warning or error) that the labels call real / all
reported cost findings; per rule and for the whole corpus. A rule that cannot reach 80% on
this corpus is off by default or reports at `info` (info findings make no cost claim).
Recall = labelled real findings reported at warning or error / all labelled real findings:
every setting, the default included, must find them all (a precision met by finding nothing
proves nothing).

The labels have a second reader (audit/LABELS-second-reader.yaml, a sample of 56 findings);
Cohen's kappa between the two readers is computed here. Both readers are AI agent sessions and
the second was not blind (see that file's header).
"""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import yaml

from conftest import FIXTURES

REAL = FIXTURES / "audit" / "real"
LABELS = yaml.safe_load((REAL / "LABELS.yaml").read_text())["real"]
SECOND_READER = yaml.safe_load((FIXTURES / "audit" / "LABELS-second-reader.yaml").read_text())
PRECISION_TARGET = 0.8  # issue 16: at least 80% real findings, per rule and in all
RECALL_TARGET = 1.0  # every labelled real finding, at every setting
KAPPA_TARGET = 0.6  # "substantial" agreement (Landis & Koch) between the two readers
SOURCES = ("promptflow", "prompty", "dotprompt", "genkit", "semantic-kernel")
DIAGNOSTICS = {"TC001", "TC002"}
# The settings precision is held to: no model (the defaults), and two common models at a stated
# volume, where findings carry money and severity follows it.
SETTINGS = {
    "default": [],
    "claude-sonnet-4-6, 10,000 a day": ["-m", "claude-sonnet-4-6", "-n", "10000", "--per", "day"],
    "gpt-5, 10,000 a day": ["-m", "gpt-5", "-n", "10000", "--per", "day"],
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real") / "real"
    shutil.copytree(REAL, folder)
    return folder


def cost_findings(cli, corpus, args):
    run = cli(
        "audit", str(corpus), "--exclude", "SOURCES.md", "-f", "json", "--fail-on", "never", *args
    )
    assert run.exit_code == 0, run.stderr
    prefix = str(corpus) + "/"
    found = []
    for f in run.json()["findings"]:
        if f["rule"] in DIAGNOSTICS or f["severity"] == "info":
            continue
        found.append((f["path"].removeprefix(prefix), f["rule"], f["line"]))
    return found, run.json()


def precision(found):
    real = [f for f in found if [f[1], f[2]] in LABELS.get(f[0], [])]
    by_rule = Counter(rule for _, rule, _ in found)
    real_by_rule = Counter(rule for _, rule, _ in real)
    per_rule = {rule: real_by_rule[rule] / count for rule, count in by_rule.items()}
    whole = len(real) / len(found) if found else 1.0
    return whole, per_rule, len(real)


def labelled():
    return {(path, rule, line) for path, pairs in LABELS.items() for rule, line in pairs}


def recall(found) -> float:
    expected = labelled()
    return len(expected & set(found)) / len(expected)


def cohens_kappa(first: list[bool], second: list[bool]) -> float:
    """Agreement of two readers on the same yes/no items, corrected for chance."""
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    yes_first, yes_second = sum(first) / n, sum(second) / n
    chance = yes_first * yes_second + (1 - yes_first) * (1 - yes_second)
    return (observed - chance) / (1 - chance) if chance < 1 else 1.0


def readers() -> tuple[list[bool], list[bool]]:
    """(first reader, second reader) verdicts on the second reader's items."""
    first, second = [], []
    for path, rule, line, verdict in SECOND_READER["items"]:
        first.append([rule, line] in LABELS.get(path, []))
        second.append(verdict == "real")
    return first, second


def test_corpus_has_300_templates_from_five_sources_with_licences():
    templates = [
        p
        for p in REAL.rglob("*")
        if p.is_file() and p.name not in ("SOURCES.md", "LABELS.yaml", "config.json")
    ]
    assert len(templates) >= 300
    for source in SOURCES:
        notes = (REAL / source / "SOURCES.md").read_text()
        assert "Commit: " in notes and ("MIT" in notes or "Apache-2.0" in notes)
        listed = {line.split(" | ")[0].strip("| ") for line in notes.splitlines()[1:]}
        assert len(listed) > 30
        for path in (REAL / source).rglob("*"):
            if path.is_file() and path.name != "SOURCES.md":
                assert path.relative_to(REAL / source).as_posix() in listed


def test_labels_name_files_in_the_corpus():
    for path, expected in LABELS.items():
        assert (REAL / path).is_file(), path
        assert all(rule.startswith("TC") and line >= 1 for rule, line in expected)


@pytest.mark.parametrize("setting", SETTINGS)
def test_precision_at_least_80_percent(cli, corpus, setting, capsys):
    found, document = cost_findings(cli, corpus, SETTINGS[setting])
    whole, per_rule, real = precision(found)
    with capsys.disabled():
        rules = ", ".join(f"{rule} {value:.0%}" for rule, value in sorted(per_rule.items()))
        info = Counter(
            f["rule"]
            for f in document["findings"]
            if f["severity"] == "info" and f["rule"] not in DIAGNOSTICS
        )
        print(
            f"\n[{setting}] {document['summary']['files']} files, {len(found)} cost findings, "
            f"{real} real: precision {whole:.0%} ({rules or 'no cost finding'}); info, no cost "
            f"claim: {dict(sorted(info.items()))}"
        )
    assert document["summary"]["files"] >= 300  # every file read: none stops the run
    assert whole >= PRECISION_TARGET
    assert all(value >= PRECISION_TARGET for value in per_rule.values()), per_rule


@pytest.mark.parametrize("setting", SETTINGS)
def test_recall_every_labelled_problem_is_found(cli, corpus, setting, capsys):
    # Old code: with no model (the default), TC102 said nothing, so 0 of the 2 labelled
    # findings were reported and the 100% precision above was measured on no finding at all.
    found, _ = cost_findings(cli, corpus, SETTINGS[setting])
    with capsys.disabled():
        print(f"\n[{setting}] recall {recall(found):.0%} of {len(labelled())} labelled findings")
    assert found  # not vacuous
    assert recall(found) >= RECALL_TARGET, sorted(labelled() - set(found))


def test_a_priced_run_finds_the_labelled_problems(cli, corpus):
    # Not vacuous: with a model and a volume the real findings are reported, priced.
    found, document = cost_findings(cli, corpus, SETTINGS["claude-sonnet-4-6, 10,000 a day"])
    assert labelled() <= set(found)
    priced = [f for f in document["findings"] if f["rule"] == "TC102" and f["severity"] != "info"]
    assert priced and all(f["monthly_cost"] is not None for f in priced)


def test_precision_counts_false_positives():
    # The measure can fail: an unlabelled finding lowers precision.
    path, pairs = next(iter(LABELS.items()))
    rule, line = pairs[0]
    whole, per_rule, _ = precision([(path, rule, line), (path, "TC201", 1), ("x.j2", rule, 2)])
    assert round(whole, 3) == round(1 / 3, 3)
    assert per_rule == {rule: 0.5, "TC201": 0.0}


def test_recall_counts_missed_findings():
    path, pairs = next(iter(LABELS.items()))
    rule, line = pairs[0]
    assert recall([]) == 0
    assert recall([(path, rule, line)]) == 1 / len(labelled())


def test_a_second_reader_agrees_with_the_labels(capsys):
    items = SECOND_READER["items"]
    for path, rule, line, verdict in items:
        assert (REAL / path).is_file(), path
        assert rule.startswith("TC") and line >= 1 and verdict in ("real", "not")
    first, second = readers()
    kappa = cohens_kappa(first, second)
    with capsys.disabled():
        agreed = sum(a == b for a, b in zip(first, second, strict=True))
        print(
            f"\nsecond reader: {len(items)} findings, {agreed} agreed, "
            f"real {sum(first)} (first) / {sum(second)} (second), Cohen's kappa {kappa:.2f}"
        )
    assert sum(first) >= 2  # the sample holds the labelled findings, not only negatives
    assert kappa >= KAPPA_TARGET


def test_kappa_is_corrected_for_chance():
    assert cohens_kappa([True, False, True, False], [True, False, True, False]) == 1
    # 90% raw agreement, but both readers say "no" almost always: little real agreement
    first = [True] + [False] * 9
    second = [False] * 9 + [True]
    assert cohens_kappa(first, second) < 0
