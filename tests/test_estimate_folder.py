"""`estimate` over a folder never stops on one prompt (issue 16, "keep going").

A template with no sample values, a template error or front matter that does not parse is
reported on stderr (one line, file and line) and left out; the others are priced; exit 0.
Only when no prompt at all could be priced does the run exit 2. A CI gate fails (exit 1) when
a prompt the base priced can no longer be rendered: a broken template is no cost decrease.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import FIXTURES

ACME = FIXTURES / "prompts" / "acme.pricing"
REAL = FIXTURES / "audit" / "real"
GOOD = "---\nvars:\n  name: Ada\n---\nHello {{ name }}, how are you today?\n"
NO_SAMPLES = "Summarise this for {{ customer }}:\n{{ ticket }}\n"
BROKEN = "Hello {% if name %}\n"


def estimate(cli, *args):
    return cli("estimate", *args, "-m", "acme-large", "--pricing", ACME, "-f", "json")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a_good.j2").write_text(GOOD)
    (tmp_path / "b_no_samples.j2").write_text(NO_SAMPLES)
    (tmp_path / "c_broken.j2").write_text(BROKEN)
    (tmp_path / "d_good.j2").write_text(GOOD.replace("Ada", "Grace"))
    return tmp_path


def test_a_file_without_sample_values_is_reported_and_the_run_goes_on(cli, folder):
    run = estimate(cli, folder)
    assert run.exit_code == 0, run.stderr
    priced = sorted(Path(r["path"]).name for r in run.json()["results"])
    assert priced == ["a_good.j2", "d_good.j2"]  # the files after the bad ones too
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 2  # one line per left-out file, no traceback
    assert "b_no_samples.j2:1" in lines[0] and "'customer' is undefined" in lines[0]
    assert "c_broken.j2:1" in lines[1] and "left out" in lines[1]
    left_out = run.json()["left_out"]
    assert [Path(e["path"]).name for e in left_out] == ["b_no_samples.j2", "c_broken.j2"]
    assert all(e["line"] == 1 and e["error"] for e in left_out)


def test_the_priced_files_cost_what_they_cost_alone(cli, folder):
    together = estimate(cli, folder).json()["results"]
    alone = estimate(cli, folder / "a_good.j2").json()["results"][0]
    first = next(r for r in together if r["path"].endswith("a_good.j2"))
    assert Decimal(first["cost_per_call"]) == Decimal(alone["cost_per_call"]) > 0


def test_a_single_bad_file_named_alone_still_exits_2(cli, folder):
    run = estimate(cli, folder / "b_no_samples.j2")
    assert run.exit_code == 2
    assert run.stdout == "" and "b_no_samples.j2:1" in run.stderr


def test_a_folder_where_nothing_can_be_priced_exits_2(cli, tmp_path):
    (tmp_path / "x.j2").write_text(NO_SAMPLES)
    (tmp_path / "y.j2").write_text(BROKEN)
    run = estimate(cli, tmp_path)
    assert run.exit_code == 2 and run.stdout == ""
    assert "no prompt could be priced (2 left out)" in run.stderr


def test_the_gate_fails_when_a_prompt_the_baseline_priced_breaks(cli, folder, tmp_path_factory):
    (folder / "c_broken.j2").unlink()
    (folder / "b_no_samples.j2").write_text(
        "---\nvars: {customer: A, ticket: B}\n---\n" + NO_SAMPLES
    )
    before = estimate(cli, folder)
    assert before.exit_code == 0 and "left_out" not in before.json()
    baseline = tmp_path_factory.mktemp("base") / "baseline.json"
    baseline.write_text(before.stdout)
    (folder / "b_no_samples.j2").write_text(NO_SAMPLES)  # the samples are gone: cannot render
    after = estimate(cli, folder, "--baseline", baseline, "--fail-on-increase", "5")
    assert after.exit_code == 1
    failures = json.loads(after.stdout)["gate"]["failures"]
    assert any("b_no_samples.j2 could not be priced" in f for f in failures)


@pytest.mark.parametrize("source", ["promptflow", "prompty", "dotprompt", "semantic-kernel"])
def test_each_real_source_folder_runs_to_the_end(cli, tmp_path, monkeypatch, source):
    # Real public templates (tests/fixtures/audit/real, SOURCES.md): many carry no sample
    # values. Every file is either priced or reported; none stops the run.
    shutil.copytree(REAL / source, tmp_path / source)
    monkeypatch.chdir(tmp_path)  # ${file:} and include stay inside the project root
    run = estimate(cli, source, "--exclude", "SOURCES.md")
    assert run.exit_code == 0, run.stderr
    document = run.json()
    priced = {r["path"] for r in document["results"]}
    left_out = {e["path"] for e in document.get("left_out", [])}
    not_prompts = set(document.get("not_prompts", []))  # config.json and the like
    walked = {
        p.relative_to(tmp_path).as_posix()
        for p in (tmp_path / source).rglob("*")
        if p.is_file() and p.name != "SOURCES.md" and p.suffix in SUFFIXES and not hidden(p)
    }
    assert priced and not priced & left_out and not (priced | left_out) & not_prompts
    assert priced | left_out | not_prompts == walked
    assert all(Path(p).suffix in (".json", ".yaml", ".yml") for p in not_prompts)
    assert len(run.stderr.strip().splitlines()) == len(left_out) + bool(not_prompts)


def hidden(path: Path) -> bool:
    return any(part.startswith(".") for part in path.parts[-6:-1])  # .promptflow: not walked


SUFFIXES = {".txt", ".md", ".json", ".yaml", ".yml", ".prompty", ".prompt", ".j2", ".jinja",
            ".jinja2", ".tmpl"}  # fmt: skip


def test_a_settings_json_found_by_the_walk_is_skipped_not_left_out(cli, folder):
    (folder / "config.json").write_text('{"schema": 1, "description": "settings"}')
    run = estimate(cli, folder)
    assert run.exit_code == 0
    assert [Path(p).name for p in run.json()["not_prompts"]] == ["config.json"]
    assert "1 JSON/YAML file holds no prompt" in run.stderr
    (folder / "tools.json").write_text('[{"type": "function", "name": "get_weather"}]')
    assert [Path(p).name for p in estimate(cli, folder).json()["not_prompts"]] == [
        "config.json",
        "tools.json",
    ]  # a list with no role anywhere is a tool list, not a broken chat
    named = estimate(cli, folder / "config.json")  # named alone: an error, as before
    assert named.exit_code == 2 and "config.json:1" in named.stderr


def test_semantic_kernel_prompt_yaml_renders_with_its_input_variable_defaults(cli, tmp_path):
    # Real file: semantic-kernel dotnet/src/IntegrationTests/CrossLanguage/Data/
    # PromptWithSimpleVariableTest.yaml (template_format: semantic-kernel, default Seattle).
    # Old code: rendered as Jinja, "template syntax error: unexpected char '$'".
    real = REAL / "semantic-kernel/dotnet/src/IntegrationTests/CrossLanguage/Data"
    run = cli("estimate", real / "PromptWithSimpleVariableTest.yaml", "-m", "gpt-5", "-f", "json")
    assert run.exit_code == 0, run.stderr
    alone = cli(
        "estimate", "--text",
        '<message role="user">Can you help me tell the time in Seattle right now?</message>\n',
        "-m", "gpt-5", "-f", "json",
    )  # fmt: skip
    assert run.json()["results"][0]["input_tokens"] == alone.json()["results"][0]["input_tokens"]


def test_semantic_kernel_handlebars_function_calls_render_as_nothing(cli, tmp_path):
    (tmp_path / "rag.yaml").write_text(
        "name: rag\ntemplate_format: handlebars\ntemplate: |\n"
        "  {{#with (SearchPlugin-GetTextSearchResults question)}}{{this}}{{/with}}\n"
        "  Answer {{question}} from the results.\n"
        "input_variables:\n  - name: question\n    default: Why?\n"
    )
    run = cli("estimate", tmp_path / "rag.yaml", "-m", "gpt-5", "-f", "json")
    assert run.exit_code == 0, run.stderr
    text = cli(
        "estimate", "--text", "\nAnswer Why? from the results.\n", "-m", "gpt-5", "-f", "json"
    )
    assert run.json()["results"][0]["input_tokens"] == text.json()["results"][0]["input_tokens"]
