"""Unit checks of the audit building blocks: scanning, rule logic, suppression, positions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tokcli.audit.engine import audit_template
from tokcli.audit.rules import BY_CODE, RULES
from tokcli.audit.scan import classify_name, scan
from tokcli.audit.settings import build_settings
from tokcli.audit.suppression import parse_suppressions
from tokcli.audit.template import load_template

REPO = Path(__file__).resolve().parents[1]
NEAR = (
    "Cite the contract clause for every factual claim in the summary.\n"
    "Always cite the contract clause for every factual claim in your summary.\n"
)


def findings(text: str, name: str = "t.j2", codes=None, **config):
    template = load_template(Path(name), text=text)
    settings = build_settings(config, {})
    rules = [BY_CODE[c] for c in codes] if codes else list(RULES)
    found, _ = audit_template(template, rules, settings, None, None, {})
    return found


def test_volatile_names_are_classified():
    assert classify_name("now") == "time"
    assert classify_name("current_time") == "time"
    assert classify_name("todayDate") == "date"
    assert classify_name("sessionId") == "id"
    assert classify_name("request_id") == "id"
    assert classify_name("random.choice(x)") == "random"
    assert classify_name("retry_count") == "counter"
    assert classify_name("question") == "variable"


def test_format_fields_but_not_json_braces():
    layout = scan('Return {{"label": "spam"}} for {email!r:>10} and {items[0]} and {0}.')
    assert [e.text for e in layout.volatile] == ["{email!r:>10}", "{items[0]}", "{0}"]


def test_jinja_syntax_kinds():
    layout = scan('{# note #}{% if x %}A{% endif %}{{role "user"}}{{ q }}{% raw %}')
    kinds = [(e.text, e.volatile, e.category) for e in layout.elements]
    assert kinds == [
        ("{# note #}", False, ""),
        ("{% if x %}", True, "logic"),
        ("{% endif %}", False, ""),
        ('{{role "user"}}', False, ""),
        ("{{ q }}", True, "variable"),
        ("{% raw %}", False, ""),
    ]
    assert layout.stable == ["", "A", ""]


def test_literals_in_the_prefix():
    layout = scan(
        "Today is 2026-11-24. Built 2026-11-24T08:00:00Z. Req req_8f7a6b5c4d3e. "
        "Id 123e4567-e89b-12d3-a456-426614174000. Knowledge cutoff 2024-06."
    )
    assert [(e.category, e.text) for e in layout.volatile] == [
        ("date", "Today is 2026-11-24"),
        ("timestamp", "2026-11-24T08:00:00Z"),
        ("request id", "req_8f7a6b5c4d3e"),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000"),
    ]  # a bare date such as a knowledge cutoff is not volatile


def test_each_run_is_reported_at_the_variable_that_hides_it():
    stable = " ".join(
        f"Clause {n} of the agreement applies to orders of type {n}." for n in range(100)
    )
    text = "{a} and {b}: " + stable + " {c} Be brief."
    found = findings(text, "t.txt", codes=["TC101"])
    # {a} hides only " and " (too short); {b} hides the clauses; {c} hides " Be brief.".
    assert [(f.rule.code, f.line, f.column) for f in found] == [("TC101", 1, 9)]


def test_a_plain_variable_before_text_too_short_to_cache_is_not_reported():
    # Without a model, a generic variable (maybe fixed per deployment) is reported only when
    # the stable text could be cached at all (1,024 tokens, OpenAI's and Anthropic's minimum);
    # a time value changes on every call: reported from `stable-tokens` (64) on, as info
    # while the template is too short to be cached, as a warning once it is long enough.
    stable = " ".join(f"Clause {n} applies to orders of type {n}." for n in range(12))
    assert findings("{{ topic }} " + stable, codes=["TC101"]) == []
    (found,) = findings("{{ now }} " + stable, codes=["TC101"])
    assert found.severity.name == "info" and "below 1,024" in found.message
    long = " ".join(f"Clause {n} applies to orders of type {n}." for n in range(100))
    (found,) = findings("{{ now }} " + long, codes=["TC101"])
    assert found.severity.name == "warning"
    assert [f.rule.code for f in findings("{{ topic }} " + long, codes=["TC101"])] == ["TC101"]


def test_stable_tokens_threshold_is_configurable():
    text = "{{ now }} Summarise the ticket in two sentences for the on-call engineer.\n"
    assert findings(text, codes=["TC101"]) == []
    found = findings(text, codes=["TC101"], **{"stable-tokens": 5})
    assert [f.tokens for f in found] == [14]  # o200k count of the sentence after the variable


def test_duplicates_need_the_same_numbers():
    text = "Answer in 3 bullets about the refunds.\nAnswer in 5 bullets about the refunds.\n"
    assert findings(text, "t.txt", codes=["TC202"]) == []
    text = NEAR
    (found,) = findings(text, "t.txt", codes=["TC202"])
    assert (found.line, found.column) == (2, 1)
    # Content words {cite contract clause for every factual claim in summary} and the same plus
    # "your": Jaccard 9/10 ("the" and "always" are soft words).
    assert "nearly (90% similar)" in found.message


def test_duplicate_similarity_threshold_from_config():
    text = NEAR
    assert findings(text, "t.txt", codes=["TC202"], **{"duplicate-similarity": 0.95}) == []


def test_filler_overlapping_phrases_count_once():
    (found,) = findings("Please make sure to cite sources. Be brief.\n", "t.txt", codes=["TC201"])
    assert (found.column, found.tokens) == (1, 5)
    assert found.suggestion.startswith("Replace it with nothing")


def test_role_line_rewrite_keeps_the_noun():
    text = "You are an experienced, helpful and friendly tutor. Be brief.\n"
    (found,) = findings(text, "t.txt", codes=["TC201"])
    assert "3 stacked adjectives" in found.message
    assert "`You are a tutor`" in found.suggestion
    assert findings("You are a helpful and friendly tutor.\n", "t.txt", codes=["TC201"]) == []


def test_unstable_serialization_is_quiet_when_sorted_or_last():
    stable = " ".join(f"Rule {n}: ship order class {n} within {n + 1} days." for n in range(90))
    assert findings("{{ json.dumps(d, sort_keys=True) }} " + stable, codes=["TC103"]) == []
    assert (
        findings("{% for k, v in d|dictsort %}{{k}}{% endfor %} " + stable, codes=["TC103"]) == []
    )
    assert findings(stable + " {{ json.dumps(d) }}", codes=["TC103"]) == []
    (found,) = findings("{% for k, v in d.items() %}{{k}}{% endfor %} " + stable, codes=["TC103"])
    assert "iteration over a dict" in found.message


def test_suppression_parsing():
    parsed = parse_suppressions(
        "a {# tokcli: ignore[TC101, filler] #}\n"
        "<!-- tokcli: ignore -->\n"
        "c\n"
        "{# tokcli: ignore-file[unbounded-output] #}\n"
        "x tokcli: ignore[bogus]\n"
    )
    assert parsed.covers(1, "TC101", "cache-breaking-prefix")
    assert parsed.covers(1, "TC201", "filler")
    assert not parsed.covers(1, "TC202", "duplicate-instruction")
    assert parsed.covers(2, "TC202", "duplicate-instruction")
    assert parsed.covers(3, "TC202", "duplicate-instruction")  # comment-only line covers next
    assert parsed.covers(9, "TC301", "unbounded-output")  # whole file
    assert parsed.unknown == [(5, "bogus")]


def test_yaml_chat_positions_point_into_the_file():
    text = (
        "messages:\n"
        "  - role: system\n"
        "    content: |\n"
        "      You route tickets.\n"
        "      Kindly answer with one word.\n"
        "  - role: user\n"
        '    content: "{{ ticket }}"\n'
    )
    template = load_template(Path("c.yaml"), text=text)
    assert template.kind == "chat"
    offset = template.prompt.index("Kindly")
    assert template.position(offset) == (5, 7)
    assert template.position(template.prompt.index("{{ ticket }}")) == (7, 15)


def test_examples_detected_by_tag_heading_and_label():
    from tokcli.audit.rules.examples import find_example_blocks

    prompt = "Intro.\n<examples>\nA\n</examples>\nMiddle.\n## Examples\nB\n## Next\nC\n"
    blocks = [prompt[a:b] for a, b in find_example_blocks(prompt)]
    assert blocks == ["<examples>\nA\n</examples>", "## Examples\nB\n"]
    prompt = "Rules.\nExamples:\nInput: x\nOutput: y\n\nInput: z\nOutput: w\n\nNow answer.\n"
    (block,) = [prompt[a:b] for a, b in find_example_blocks(prompt)]
    assert block == "Examples:\nInput: x\nOutput: y\n\nInput: z\nOutput: w\n"


def test_every_rule_module_has_a_unique_code_and_kebab_name():
    codes = [r.info.code for r in RULES]
    names = [r.info.name for r in RULES]
    assert len(set(codes)) == len(codes) == 11 and len(set(names)) == 11
    assert all(re.fullmatch(r"TC\d{3}", c) for c in codes)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", n) for n in names)


def test_pre_commit_hook_definition():
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "tokcli-audit"
    assert hook["entry"] == "tokcli audit"
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("prompts/support.j2") and files.search("app/x.prompty")
    assert not files.search("config/settings.yaml")


def test_str_format_files_treat_double_braces_as_literal():
    text = "Dear {name},\nLiteral braces: {{ and }}.\n"
    template = load_template(Path("letter.tmpl"), text=text)
    layout = scan(template.prompt, template.syntax)
    assert [e.text for e in layout.volatile] == ["{name}"]
    jinja = load_template(Path("letter.j2"), text=text)
    assert [e.text for e in scan(jinja.prompt, jinja.syntax).volatile] == ["{{ and }}"]


def test_few_shot_chat_turns_are_an_example_block():
    turns = [{"role": "system", "content": "Label the sentiment. Answer with one word."}]
    for n in range(12):
        turns.append({"role": "user", "content": f"Review {n}: the blender number {n} works."})
        turns.append({"role": "assistant", "content": "positive"})
    turns.append({"role": "user", "content": "{{ review }}"})
    import json

    text = json.dumps({"messages": turns}, indent=1)
    template = load_template(Path("fewshot.json"), text=text)
    settings = build_settings({"example-tokens": 100}, {})
    found, _ = audit_template(template, [BY_CODE["TC104"]], settings, None, None, {})
    # Examples before the variable are fine; only a candidate for "repeated in another
    # template" is left, which run_audit drops when no other template has the block.
    assert [f.extra.get("repeat_of") is not None for f in found] == [True]
    turns[0]["content"] = "Today is {{ today }}. Label the sentiment. Answer with one word."
    template = load_template(Path("fewshot.json"), text=json.dumps({"messages": turns}, indent=1))
    (finding,) = audit_template(template, [BY_CODE["TC104"]], settings, None, None, {})[0]
    assert finding.line == 9  # the first example turn's content line in the JSON file
    assert "come after volatile content (line 5)" in finding.message


def test_text_with_a_json_object_is_not_a_str_format_template():
    # str.format would raise on {"id": ...}, so "{id}" in the API path is literal text.
    text = 'GET /v1/orders/{id} returns {"id": 1, "status": "paid"}.'
    assert scan(text).volatile == []
    assert [e.text for e in scan("GET /v1/orders/{id} returns the order.").volatile] == ["{id}"]


def test_shown_code_and_documentation_placeholders_are_text():
    # Old code: every {{...}} and {x} here was a variable, so TC101 fired on docs and code.
    stable = " ".join(f"Clause {n} applies to orders of type {n}." for n in range(100))
    fenced = "Call the API like this:\n```\nGET /orders/{order_id}\n{{ .Status }}\n```\n"
    inline = "Use `{{ user_id }}` in URLs. Go docs write {{.Model}} and {{Model: gpt-4o}}.\n"
    assert findings(fenced + inline + stable, "t.md", codes=["TC101"]) == []
    # Prose placeholders are documentation in plain text, expressions in declared templates.
    assert findings("Dear {{your name here}},\n" + stable, "t.md", codes=["TC101"]) == []
    (found,) = findings("{{ now }} " + stable, "t.md", codes=["TC101"])
    assert found.column == 1


def test_template_syntax_follows_the_declaration():
    stable = " ".join(f"Clause {n} applies to orders of type {n}." for n in range(100))
    # Declared f-string: {{ is an escaped brace, {now} a variable.
    text = "---\ntemplate_format: f-string\n---\n{now} {{literal}} " + stable
    (found,) = findings(text, "t.md", codes=["TC101"])
    assert found.message.startswith("the current time `{now}`")
    # Semantic Kernel {{$var}} in a plain text file is a variable.
    (found,) = findings("{{$input}} " + stable, "skprompt.txt", codes=["TC101"])
    assert "`{{$input}}`" in found.message


def test_unbounded_output_sees_length_words_and_models_without_text_output():
    # Old code: "concisely", "succinctly", "keep it to two sentences" were not bounds, and
    # embedding-model files were flagged.
    for bounded in (
        "Answer concisely.",
        "Respond succinctly.",
        "Keep your answer to two sentences.",
        "Answer in 3 bullet points.",
        "Reply in 50 words.",
    ):
        assert findings(bounded, "t.txt", codes=["TC301"]) == [], bounded
    assert [f.rule.code for f in findings("Write an essay.", "t.txt", codes=["TC301"])] == ["TC301"]


def test_unbounded_output_reads_semantic_kernel_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "skprompt.txt").write_text("Write an essay about {{$input}}.")
    (tmp_path / "config.json").write_text(
        '{"execution_settings": {"default": {"max_tokens": 256}}}'
    )
    template = load_template(Path("skprompt.txt"))
    settings = build_settings({}, {"select": ["TC301"]})
    found, _ = audit_template(template, [BY_CODE["TC301"]], settings, None, None, {})
    assert found == []


def test_unbounded_output_skips_embedding_models(cli, isolated_env):
    (isolated_env / "e.prompty").write_text(
        "---\nmodel:\n  api: embedding\n  configuration:\n"
        "    name: text-embedding-3-small\n---\n{{text}}\n"
    )
    (isolated_env / "w.prompty").write_text("---\nmodel: gpt-5\n---\nWrite an essay.\n")
    run = cli("audit", ".", "--select", "TC301", "-f", "json", "--fail-on", "never")
    assert [f["path"] for f in run.json()["findings"] if f["rule"] == "TC301"] == ["w.prompty"]


def test_semantic_kernel_yaml_prompt_files_are_read(cli, isolated_env):
    # Old code: a Semantic Kernel YAML prompt (template: + template_format:) was skipped.
    stable = " ".join(f"Clause {n} applies to orders of type {n}." for n in range(100))
    (isolated_env / "story.yaml").write_text(
        "name: Story\ntemplate: |\n  Tell a story about {{$topic}} that is {{$length}} sentences"
        " long.\n  " + stable + "\ntemplate_format: semantic-kernel\ninput_variables:\n"
        "  - name: topic\n"
    )
    run = cli("audit", ".", "--select", "ALL", "-f", "json", "--fail-on", "never")
    assert run.json()["summary"]["files"] == 1
    found = [(f["rule"], f["line"], f["column"]) for f in run.json()["findings"]]
    # {{$length}} hides the clauses ({{$topic}} only " that is "); the length bounds the output.
    assert found == [("TC101", 3, 41)]


def test_unbounded_output_sees_answer_only_instructions_from_the_real_corpus():
    # Phrases from promptflow's evaluation and classification templates (real corpus).
    for bounded in (
        "Directly give the answer, no more explanation is needed.",
        "Evaluation Form (scores ONLY):",
        "Only the above three situations can be returned.",
    ):
        assert findings(bounded, "t.txt", codes=["TC301"]) == [], bounded
