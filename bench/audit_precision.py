"""Precision and recall of `tokcli audit` on the labelled real corpus (issue 16).

Standalone script, not a test (tests/test_audit_real_corpus.py holds the same figures to their
targets). Prints one JSON object per line per setting:
    {"setting": ..., "select": ..., "cost_findings": ..., "real": ..., "precision": ...,
     "recall": ..., "per_rule": {...}, "info": {...}}
and one line with the two readers' agreement (Cohen's kappa).

    .venv/bin/python bench/audit_precision.py

Cost findings are warning and error findings (info makes no cost claim); diagnostics (TC001,
TC002) are not counted. "real" means listed in tests/fixtures/audit/real/LABELS.yaml.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "tests" / "fixtures" / "audit"
LABELS = yaml.safe_load((AUDIT / "real" / "LABELS.yaml").read_text())["real"]
SECOND = yaml.safe_load((AUDIT / "LABELS-second-reader.yaml").read_text())["items"]
DIAGNOSTICS = {"TC001", "TC002"}
SETTINGS = {
    "default": [],
    "claude-sonnet-4-6, 10,000 a day": ["-m", "claude-sonnet-4-6", "-n", "10000", "--per", "day"],
    "gpt-5, 10,000 a day": ["-m", "gpt-5", "-n", "10000", "--per", "day"],
}


def audit(corpus: Path, args: list[str]) -> dict:
    command = [sys.executable, "-m", "tokcli", "audit", "real", "--exclude", "SOURCES.md"]
    command += ["-f", "json", "--fail-on", "never", *args]
    run = subprocess.run(command, cwd=corpus, capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


def measure(document: dict) -> dict:
    found, info = [], Counter()
    for f in document["findings"]:
        if f["rule"] in DIAGNOSTICS:
            continue
        if f["severity"] == "info":
            info[f["rule"]] += 1
            continue
        found.append((f["path"].removeprefix("real/"), f["rule"], f["line"]))
    labelled = {(p, rule, line) for p, pairs in LABELS.items() for rule, line in pairs}
    real = [f for f in found if f in labelled]
    by_rule, real_by_rule = Counter(f[1] for f in found), Counter(f[1] for f in real)
    return {
        "files": document["summary"]["files"],
        "cost_findings": len(found),
        "real": len(real),
        "precision": round(len(real) / len(found), 4) if found else None,
        "recall": round(len(labelled & set(found)) / len(labelled), 4),
        "per_rule": {r: round(real_by_rule[r] / n, 4) for r, n in sorted(by_rule.items())},
        "info": dict(sorted(info.items())),
    }


def kappa() -> dict:
    first = [[rule, line] in LABELS.get(path, []) for path, rule, line, _ in SECOND]
    second = [verdict == "real" for *_, verdict in SECOND]
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1, p2 = sum(first) / n, sum(second) / n
    chance = p1 * p2 + (1 - p1) * (1 - p2)
    return {
        "benchmark": "second reader",
        "items": n,
        "agreed": sum(a == b for a, b in zip(first, second, strict=True)),
        "kappa": round((observed - chance) / (1 - chance), 4),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder)
        shutil.copytree(AUDIT / "real", corpus / "real")
        for name, args in SETTINGS.items():
            for select in ([], ["--select", "ALL"]):
                figures = measure(audit(corpus, args + select))
                line = {"setting": name, "select": "ALL" if select else "default", **figures}
                print(json.dumps(line), flush=True)
    print(json.dumps(kappa()))


if __name__ == "__main__":
    main()
