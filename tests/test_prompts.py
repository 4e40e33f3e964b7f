"""tokcli.prompts: finding, reading, rendering prompt files of every kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tokcli.errors import InputError
from tokcli.prompts import (
    iter_prompt_files,
    load_prompt,
    prompt_settings,
    render_prompt,
    template_variables,
)

PROMPTS = Path(__file__).resolve().parent / "fixtures" / "prompts"


def test_directory_walk_is_sorted_filtered_and_excludes(tmp_path):
    shutil.copytree(PROMPTS, tmp_path / "p")
    (tmp_path / "p" / "notes.csv").write_text("a,b\n")  # not a prompt suffix
    (tmp_path / "p" / ".hidden").mkdir()
    (tmp_path / "p" / ".hidden" / "x.txt").write_text("secret")
    names = [p.name for p in iter_prompt_files([str(tmp_path / "p")], exclude=["bad"])]
    assert names == [
        "chat.json",
        "chat.yaml",
        "greeting.j2",
        "letter.tmpl",
        "plain.txt",
        "recipe.prompt",
        "support.prompty",
    ]


def test_globs_explicit_files_and_duplicates(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.md").write_text("b")
    (tmp_path / "c.data").write_text("c")
    found = list(
        iter_prompt_files(
            [str(tmp_path / "*.txt"), str(tmp_path / "a.txt"), str(tmp_path / "c.data")]
        )
    )
    assert [p.name for p in found] == ["a.txt", "c.data"]  # explicit file kept whatever its suffix
    with pytest.raises(InputError, match="no such file"):
        list(iter_prompt_files([str(tmp_path / "missing.txt")]))
    with pytest.raises(InputError, match="no file matches"):
        list(iter_prompt_files([str(tmp_path / "*.nothing")]))


def test_plain_text_is_not_templated():
    source = load_prompt(PROMPTS / "plain.txt")
    assert (source.kind, source.front_matter, source.body_line, source.messages) == (
        "text",
        {},
        1,
        None,
    )
    assert render_prompt(source).text == source.body


def test_jinja_with_front_matter_sample_values_and_overrides():
    source = load_prompt(PROMPTS / "greeting.j2")
    assert source.kind == "jinja"
    assert source.front_matter["model"] == "gpt-5"
    assert source.body_line == 8
    assert source.body.startswith("Hello {{ name }}!")
    assert render_prompt(source).text == "Hello Ada!\n- tea\n- cake\n\n"
    assert render_prompt(source, {"name": "Bo", "items": []}).text == "Hello Bo!\n\n"
    settings = prompt_settings(source)
    assert (settings.model, settings.max_tokens) == ("gpt-5", 300)


def test_chat_json_with_content_parts_and_positions():
    source = load_prompt(PROMPTS / "chat.json")
    assert source.kind == "chat"
    assert [(m.role, m.line) for m in source.messages] == [("system", 5), ("user", 6)]
    assert source.skipped_parts == 1  # the image part carries no text tokens
    rendered = render_prompt(source)
    assert rendered.messages == [("system", "You are terse."), ("user", "Describe the sea.")]
    assert rendered.text == "You are terse.\nDescribe the sea."
    assert prompt_settings(source).max_tokens == 200
    assert template_variables(source) == [("thing", 7, 45)]


def test_chat_yaml_list_and_missing_variable():
    source = load_prompt(PROMPTS / "chat.yaml")
    assert [m.role for m in source.messages] == ["system", "user"]
    assert render_prompt(source, {"topic": "rain"}).messages[1] == ("user", "Write about rain.\n")
    with pytest.raises(InputError) as caught:
        render_prompt(source)
    assert caught.value.line == 3 and "'topic' is undefined" in str(caught.value)


def test_prompty_sections_inputs_and_model():
    source = load_prompt(PROMPTS / "support.prompty")
    assert source.kind == "prompty"
    assert [(m.role, m.line) for m in source.messages] == [("system", 18), ("user", 21)]
    rendered = render_prompt(source)
    assert rendered.messages == [
        ("system", "You are a support agent. The customer is Grace.\n\n"),
        ("user", "Where is my parcel?\n"),
    ]
    settings = prompt_settings(source)
    assert (settings.model, settings.max_tokens) == ("gpt-5-mini", 150)
    assert template_variables(source) == [("customer", 18, 45), ("question", 21, 4)]


def test_dotprompt_roles_defaults_and_missing_if_is_false():
    source = load_prompt(PROMPTS / "recipe.prompt")
    assert source.kind == "dotprompt"
    assert [m.role for m in source.messages] == ["system", "user"]
    rendered = render_prompt(source)
    assert rendered.messages == [
        ("system", "\nYou are a chef.\n"),
        ("user", "\nGive me a recipe for soup.\n"),
    ]
    spicy = render_prompt(source, {"spicy": True}).messages[1][1]
    assert spicy == "\nGive me a recipe for soup. Make it spicy.\n"
    settings = prompt_settings(source)
    assert (settings.model, settings.max_tokens) == ("googleai/gemini-2.5-flash", 400)


def test_format_template_substitutes_names_only():
    source = load_prompt(PROMPTS / "letter.tmpl")
    assert source.kind == "format"
    assert render_prompt(source).text == "Dear Ada,\nLiteral braces: { and }.\n"
    assert template_variables(source) == [("name", 5, 7)]


def test_format_template_cannot_reach_attributes(tmp_path):
    path = tmp_path / "evil.tmpl"
    path.write_text("{name.__class__}\n")
    # The attribute path is never evaluated: the field is replaced by the value's text alone.
    assert render_prompt(load_prompt(path), {"name": "x"}).text == "x\n"


def test_sandbox_refuses_python_internals(tmp_path):
    path = tmp_path / "evil.j2"
    path.write_text("line one\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(InputError) as caught:
        render_prompt(load_prompt(path))
    assert caught.value.line == 2


def test_undefined_variable_names_file_and_line():
    with pytest.raises(InputError) as caught:
        render_prompt(load_prompt(PROMPTS / "bad" / "undefined.j2"))
    assert caught.value.line == 6
    assert str(caught.value).startswith(str(PROMPTS / "bad" / "undefined.j2") + ":6:")
    assert "order_id" in str(caught.value)


def test_template_syntax_error_line(tmp_path):
    path = tmp_path / "broken.j2"
    path.write_text("---\nvars: {a: 1}\n---\nok\n{% if a %}never closed\n")
    with pytest.raises(InputError) as caught:
        render_prompt(load_prompt(path))
    assert caught.value.line == 5
    assert "syntax error" in str(caught.value)


def test_malformed_front_matter_names_line():
    with pytest.raises(InputError) as caught:
        load_prompt(PROMPTS / "bad" / "bad_front_matter.md")
    assert caught.value.line == 3
    assert "front matter" in str(caught.value)


def test_unclosed_front_matter_and_non_mapping(tmp_path):
    unclosed = tmp_path / "a.md"
    unclosed.write_text("---\nmodel: x\nbody\n")
    with pytest.raises(InputError, match="never closed") as caught:
        load_prompt(unclosed)
    assert caught.value.line == 1
    listing = tmp_path / "b.md"
    listing.write_text("---\n- a\n---\nbody\n")
    with pytest.raises(InputError, match="must be a mapping"):
        load_prompt(listing)


def test_malformed_json_and_bad_messages(tmp_path):
    with pytest.raises(InputError) as caught:
        load_prompt(PROMPTS / "bad" / "broken.json")
    assert (caught.value.line, caught.value.column) == (3, 3)
    no_role = tmp_path / "x.yaml"
    no_role.write_text("- role: user\n  content: hi\n- content: where is my role\n")
    with pytest.raises(InputError) as caught:
        load_prompt(no_role)
    assert caught.value.line == 3 and caught.value.field == "messages[1].role"
    not_chat = tmp_path / "y.yaml"
    not_chat.write_text("just: config\n")
    with pytest.raises(InputError, match="chat messages"):
        load_prompt(not_chat)


def test_text_given_instead_of_reading(tmp_path):
    source = load_prompt(Path("<stdin>"), "Hi {{ who }}")
    assert source.kind == "text"
    assert render_prompt(source, {"who": "you"}).text == "Hi you"


def test_bad_volume_in_front_matter_names_field(tmp_path):
    path = tmp_path / "v.md"
    path.write_text("---\nmodel: gpt-5\nrequests: lots\n---\nbody\n")
    with pytest.raises(InputError) as caught:
        prompt_settings(load_prompt(path))
    assert (caught.value.line, caught.value.field) == (3, "requests")


def test_anthropic_request_shape_with_system_key(tmp_path):
    path = tmp_path / "req.json"
    path.write_text(
        '{"model": "claude-sonnet-4-6",\n "system": "Be kind.",\n'
        ' "messages": [{"role": "user", "content": "Hi"}]}\n'
    )
    source = load_prompt(path)
    assert [(m.role, m.content, m.line) for m in source.messages] == [
        ("system", "Be kind.", 2),
        ("user", "Hi", 3),
    ]


@pytest.mark.parametrize("value", ["Ada", 3, None, True, [1, "a"], {"k": 1}, 2.5])
def test_plain_substitution_renders_exactly_as_jinja(tmp_path, value):
    fast = tmp_path / "fast.j2"
    fast.write_text("Hi {{ name }}!\r\nBye {{name}}\n")
    slow = tmp_path / "slow.j2"  # a statement forces the full Jinja path
    slow.write_text("Hi {{ name }}!\r\nBye {{name}}\n{% if true %}{% endif %}")
    expected = render_prompt(load_prompt(slow), {"name": value}).text
    assert render_prompt(load_prompt(fast), {"name": value}).text == expected


def test_plain_substitution_reports_undefined_line(tmp_path):
    path = tmp_path / "fast.j2"
    path.write_text("---\nvars: {a: 1}\n---\n{{ a }}\n\n{{ b }}\n")
    with pytest.raises(InputError) as caught:
        render_prompt(load_prompt(path))
    assert caught.value.line == 6 and "'b' is undefined" in str(caught.value)
