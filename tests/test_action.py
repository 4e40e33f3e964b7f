"""The GitHub Action: action.yml's steps call action/run.sh, run here as GitHub would run it
(GITHUB_* variables, a pull request's base branch) against the installed tokcli."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, REPO

SCRIPT = REPO / "action" / "run.sh"
ACME = FIXTURES / "prompts" / "acme.pricing"
TP = FIXTURES / "audit" / "corpus" / "tp"
CLEAN = FIXTURES / "audit" / "corpus" / "clean"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}  # fmt: skip
PROMPT = (
    "---\nmodel: acme-large\nmax_tokens: 100\nrequests: 1000\nper: month\n"
    "vars: {topic: tea}\n---\nYou answer questions about {{ topic }}.\n"
)


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, **GIT_ENV})  # fmt: skip


@pytest.fixture
def workspace(tmp_path) -> Path:
    """A checked-out pull request: `main` is the base (as origin/main), HEAD grew a template."""
    root = tmp_path / "workspace"
    (root / "prompts").mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=root)
    (root / "tokcli.toml").write_text(f'pricing = ["{ACME}"]\n')
    (root / "prompts" / "support.j2").write_text(PROMPT)
    (root / "prompts" / "faq.j2").write_text(PROMPT)
    git("add", ".", cwd=root)
    git("commit", "-q", "-m", "base", cwd=root)
    git("update-ref", "refs/remotes/origin/main", "HEAD", cwd=root)
    git("checkout", "-q", "-b", "feature", cwd=root)
    (root / "prompts" / "support.j2").write_text(PROMPT + "Always cite the policy. " * 40)
    git("commit", "-q", "-am", "grow the support template", cwd=root)
    return root


def run_action(workspace: Path, tmp_path: Path, **inputs: str):
    """action/run.sh with what GitHub sets for a pull_request job and the inputs action.yml maps."""
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir(exist_ok=True)
    github = {
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(REPO),
        "GITHUB_BASE_REF": "main",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_OUTPUT": str(runner_temp / "output"),
        "GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        "CI": "true",
        # Use the tokcli this test suite runs (no network: nothing is installed).
        "TOKCLI_BIN": shutil.which("tokcli", path=str(Path(sys.executable).parent)) or "",
    }
    env = {
        **os.environ,
        **GIT_ENV,
        **github,
        **{f"TOKCLI_{k.upper()}": v for k, v in inputs.items()},
    }
    proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)  # fmt: skip
    outputs = {}
    if (runner_temp / "output").exists():
        outputs = dict(
            line.split("=", 1) for line in (runner_temp / "output").read_text().splitlines()
        )
    summary = runner_temp / "summary.md"
    return proc, outputs, summary.read_text() if summary.exists() else ""


def test_estimate_gate_fails_when_the_pull_request_raises_the_cost(workspace, tmp_path):
    proc, outputs, summary = run_action(workspace, tmp_path, command="estimate", paths="prompts",
                                        fail_on_increase="10")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert outputs["exit-code"] == "1"
    report = Path(outputs["report"]).read_text()
    assert report.startswith("### tokcli estimate: monthly cost vs origin/main: +$")
    assert "gate FAILED" in report and "| prompts/support.j2 |" in report
    assert summary == report  # the job summary shows the same markdown
    assert "cost gate failed" in proc.stderr


def test_estimate_gate_passes_under_the_threshold(workspace, tmp_path):
    proc, outputs, summary = run_action(
        workspace, tmp_path, command="estimate", paths="prompts",
        fail_on_increase="100000", max_monthly_cost="1000",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert outputs["exit-code"] == "0"
    assert "gate" in summary and "FAILED" not in summary


def test_estimate_with_models_prices_each(workspace, tmp_path):
    proc, outputs, _ = run_action(workspace, tmp_path, command="estimate", paths="prompts/faq.j2",
                                  models="acme-large, acme-small", base_ref="HEAD")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = Path(outputs["report"]).read_text()
    assert "acme-large" in report and "acme-small" in report


def test_audit_writes_sarif_and_fails_on_findings(workspace, tmp_path):
    shutil.copytree(TP, workspace / "templates")
    proc, outputs, summary = run_action(workspace, tmp_path, command="audit", paths="templates",
                                        fail_on="warning")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    sarif = json.loads(Path(outputs["report"]).read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                           .startswith("templates/") for r in results)  # fmt: skip
    assert outputs["summary"].endswith(".md") and summary.strip()
    for result in results:  # every SARIF finding is in the markdown summary too
        assert result["ruleId"] in summary


def test_audit_passes_on_clean_templates(workspace, tmp_path):
    shutil.copytree(CLEAN, workspace / "templates")
    proc, outputs, _ = run_action(workspace, tmp_path, command="audit", paths="templates")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(Path(outputs["report"]).read_text())["runs"][0]["results"] == []


def test_bad_input_exits_2_with_a_workflow_error(workspace, tmp_path):
    proc, outputs, _ = run_action(workspace, tmp_path, command="deploy")
    assert proc.returncode == 2
    assert proc.stderr.startswith("::error title=tokcli::command must be estimate or audit")
    proc, outputs, _ = run_action(workspace, tmp_path, command="estimate", paths="prompts",
                                  models="no-such-model")  # fmt: skip
    assert proc.returncode == 2 and outputs["exit-code"] == "2"


def test_action_passes_every_input_to_the_script():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    step = action["runs"]["steps"][0]
    assert action["runs"]["using"] == "composite"
    assert step["run"] == 'bash "$GITHUB_ACTION_PATH/action/run.sh"'
    script = SCRIPT.read_text()
    passed = {name: value for name, value in step["env"].items()}
    for name in action["inputs"]:
        if name == "upload-sarif":
            continue  # used by the upload step itself
        variable = "TOKCLI_" + name.upper().replace("-", "_")
        assert passed.get(variable) == f"${{{{ inputs.{name} }}}}", name
        assert variable in script, variable
    upload = action["runs"]["steps"][1]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "always()" in upload["if"]


def test_docs_list_every_action_input():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    page = (REPO / "docs" / "recipes" / "ci-gate.md").read_text()
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", page, re.MULTILINE)) - {"input"}
    assert documented == set(action["inputs"])
