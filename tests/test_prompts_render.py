"""Real renderers on the real corpus (tests/fixtures/audit/real): Handlebars for Dotprompt,
Semantic Kernel, Prompty v2 `example:` inputs, `${file:...}` / `${env:...}` references, Jinja
include/extends inside the template's folder, and the time and size budget."""

from __future__ import annotations

import shutil

import pytest

from conftest import FIXTURES
from tokcli.errors import InputError
from tokcli.prompts import (
    iter_prompt_files,
    load_prompt,
    render_prompt,
    sample_variables,
    template_variables,
)
from tokcli.prompts.renderers import RenderLimits

REAL = FIXTURES / "audit" / "real"
# Dotprompt's own test of a partial cycle: refused cleanly, not rendered.
CYCLES = {
    "examples/partials/circular-partial-a.prompt",
    "examples/partials/circular-partial-b.prompt",
}


@pytest.fixture
def real(isolated_env):
    shutil.copytree(REAL, isolated_env / "real")
    return isolated_env / "real"


def carrying_samples(folder):
    """Templates whose every variable has a sample value in the file (or beside it)."""
    for path in iter_prompt_files([str(folder)]):
        if path.suffix in (".json", ".yaml", ".yml", ".md"):
            continue
        try:
            source = load_prompt(path)
        except InputError:
            continue  # dotprompt's own invalid-YAML example
        names = {name.lower() for name, *_ in template_variables(source)}
        if names <= {str(key).lower() for key in sample_variables(source)}:
            yield path, source


@pytest.mark.parametrize(
    ("source", "at_least"),
    [
        ("dotprompt", 0),  # only its partial-cycle test carries values
        ("genkit", 20),
        ("semantic-kernel", 20),
        ("prompty", 60),
        ("promptflow", 10),
    ],
)
def test_samples_with_values_render(real, monkeypatch, source, at_least):
    monkeypatch.chdir(real / source)  # the project root: references resolve inside it
    rendered = 0
    for path, prompt in carrying_samples("."):
        if path.as_posix() in CYCLES:
            with pytest.raises(InputError, match="nests too deeply"):
                render_prompt(prompt)
            continue
        messages = render_prompt(prompt).messages  # an empty body renders to nothing
        assert "{{$" not in "".join(text for _, text in messages), path
        rendered += 1
    assert rendered >= at_least


def test_estimate_prices_each_kind(cli, real):
    cases = [
        "real/genkit/js/testapps/prompt-file/prompts/story.prompt",  # partials, Handlebars
        "real/semantic-kernel/prompt_template_samples/WriterPlugin/ShortPoem/skprompt.txt",
        "real/prompty/runtime/csharp/Prompty.Core.Tests/Prompts/basic.prompty",  # v2 example:
        "real/promptflow/examples/prompty/eval-apology/apology.prompty",  # ${file:sample.json}
    ]
    for case in cases:
        run = cli("estimate", case, "-m", "gpt-5", "--format", "json")
        assert run.exit_code == 0, (case, run.stderr)
        assert "Traceback" not in run.stderr


def test_dotprompt_handlebars_each_index_and_partial(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "_sign.prompt").write_text("-- {{who}}")
    (tmp_path / "p.prompt").write_text(
        "---\ninput:\n  default:\n    items: [a, b]\n    who: Ada\n---\n"
        '{{role "system"}}List:{{#each items}} {{@index}}={{this}}{{/each}}\n{{> sign}}\n'
        '{{role "user"}}{{json items}}'
    )
    rendered = render_prompt(load_prompt(tmp_path / "p.prompt"))
    # A partial alone on its line is "standalone" in Handlebars: it takes the line break.
    assert rendered.messages == [("system", "List: 0=a 1=b\n-- Ada"), ("user", '["a", "b"]')]


def test_semantic_kernel_variables_functions_and_config_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "Summarize"
    folder.mkdir()
    (folder / "skprompt.txt").write_text("{{recall $INPUT}}Summarize: {{$input}} for {{$Audience}}")
    (folder / "config.json").write_text(
        '{"input_variables": [{"name": "input", "default": "the text"},'
        ' {"name": "audience", "default": "kids"}]}'
    )
    source = load_prompt(folder / "skprompt.txt")
    assert render_prompt(source).text == "Summarize: the text for kids"
    assert [name for name, *_ in template_variables(source)] == ["INPUT", "input", "Audience"]


def test_prompty_v2_examples_and_env_references(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKCLI_TEST_UNSET", raising=False)
    (tmp_path / "p.prompty").write_text(
        "---\nmodel:\n  connection:\n    key: ${env:TOKCLI_TEST_UNSET}\n"
        "inputs:\n  - name: who\n    example: Jane\n"
        "  - name: tone\n    default: ${env:TOKCLI_TEST_UNSET}\n"
        "---\nsystem:\nHello {{who}}{{tone}}.\n"
    )
    assert render_prompt(load_prompt(tmp_path / "p.prompty")).messages == [
        ("system", "Hello Jane.\n")
    ]


def test_file_sample_reference_resolves_inside_the_project_only(tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    (project / "sample.json").write_text('{"q": "Where is my parcel?"}')
    (tmp_path / "outside.json").write_text('{"q": "secret"}')
    (project / "a.prompty").write_text("---\nsample: ${file:sample.json}\n---\nuser:\n{{q}}\n")
    (project / "b.prompty").write_text("---\nsample: ${file:../outside.json}\n---\nuser:\n{{q}}\n")
    assert render_prompt(load_prompt(project / "a.prompty")).text == "Where is my parcel?\n"
    with pytest.raises(InputError, match="undefined template variable"):
        render_prompt(load_prompt(project / "b.prompty"))


def test_jinja_include_and_extends_from_the_template_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.j2").write_text("BASE {% block body %}{% endblock %}")
    (tmp_path / "part.j2").write_text("part {{ x }}")
    (tmp_path / "child.j2").write_text(
        "{% extends 'base.j2' %}{% block body %}{% include 'part.j2' %}{% endblock %}"
    )
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "evil.j2").write_text("{% include '../secret.txt' %}")
    # Old code: a raw TypeError (no loader).
    assert render_prompt(load_prompt(tmp_path / "child.j2"), {"x": 1}).text == "BASE part 1"
    with pytest.raises(InputError, match="included template not found"):
        render_prompt(load_prompt(tmp_path / "sub" / "evil.j2"))


def test_render_budget_stops_huge_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bomb.j2").write_text("{{ 'a' * 10**10 }}")
    with pytest.raises(InputError, match="template rendering stopped") as caught:
        render_prompt(load_prompt(tmp_path / "bomb.j2"))
    assert "TOKCLI_MAX_RENDERED_CHARS" in str(caught.value)
    (tmp_path / "loop.j2").write_text(
        "{% for i in range(50000) %}{{ 'abcdefghij' * 10 }}{% endfor %}"
    )
    small = RenderLimits(max_chars=100_000, seconds=30)
    with pytest.raises(InputError, match="passed 100,000 characters"):
        render_prompt(load_prompt(tmp_path / "loop.j2"), limits=small)
    # 50,000 x 100 characters = 5,000,000: over the default 2,000,000 as well.
    with pytest.raises(InputError, match="passed 2,000,000 characters"):
        render_prompt(load_prompt(tmp_path / "loop.j2"))


def test_render_budget_is_raised_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.j2").write_text("{{ 'a' * 3000000 }}")
    with pytest.raises(InputError, match="template rendering stopped"):
        render_prompt(load_prompt(tmp_path / "big.j2"))
    monkeypatch.setenv("TOKCLI_MAX_RENDERED_CHARS", "5000000")
    assert len(render_prompt(load_prompt(tmp_path / "big.j2")).text) == 3_000_000


def test_estimate_on_a_bomb_is_one_error_line(cli, isolated_env):
    (isolated_env / "bomb.j2").write_text("{{ 'a' * 10**10 }}")
    run = cli("estimate", "bomb.j2", "-m", "gpt-5")
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("tokcli: error: bomb.j2: template rendering stopped")


def test_deep_json_in_estimate_is_a_clean_error(cli, isolated_env):
    (isolated_env / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    run = cli("estimate", "deep.json", "-m", "gpt-5")
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    assert run.stderr == "tokcli: error: deep.json: invalid JSON: nested too deeply\n"


def test_markdown_code_and_placeholders_are_not_variables(tmp_path, monkeypatch):
    # Old code: the fenced Go template and `{id}` were variables, so estimate failed on them.
    monkeypatch.chdir(tmp_path)
    text = (
        "Explain this Go template to the user:\n```\n{{ .Name }} {{ range .Items }}\n```\n"
        "Call `GET /orders/{id}` and fill {{Model: gpt-4o}} in your notes.\n"
    )
    (tmp_path / "doc.md").write_text(text)
    source = load_prompt(tmp_path / "doc.md")
    assert template_variables(source) == []
    assert render_prompt(source).text == text
