"""The cache rules on the case the issue names: the current time, then 3,000 tokens of fixed
documentation; and the same template with the time moved to the end."""

from __future__ import annotations

from decimal import Decimal

from tokcli.tokens import count_tokens

CITIES = ["Lyon", "Porto", "Gdansk", "Leeds", "Graz", "Turin", "Ghent", "Malmo", "Cork", "Brno"]
ITEMS = ["desk lamp", "office chair", "monitor arm", "standing desk", "bookshelf", "filing box"]
FINISHES = ["oak", "walnut", "steel", "bamboo", "ash", "birch", "white lacquer"]


def documentation() -> str:
    """~3,000 tokens of fixed reference text; no two lines alike apart from their numbers."""
    lines = ["## Catalogue reference", ""]
    for n in range(110):
        lines.append(
            f"- SKU {n:05d}: {FINISHES[n % 7]} {ITEMS[n % 6]}, {300 + 17 * n} g, ships from "
            f"{CITIES[n % 10]} in {1 + n % 5} days, list price {19 + n}.50 EUR."
        )
    return "\n".join(lines) + "\n"


def test_documentation_is_about_3000_tokens():
    tokens = count_tokens(documentation(), "claude-sonnet-4-6", "anthropic").tokens
    assert 2_900 <= tokens <= 3_600


def test_time_first_costs_money_and_time_last_is_clean(cli, isolated_env):
    docs = documentation()
    first = isolated_env / "time_first.j2"
    first.write_text(f"Current time: {{{{ now }}}}\n{docs}\nAnswer in at most 3 sentences.\n")
    last = isolated_env / "time_last.j2"
    last.write_text(f"{docs}\nAnswer in at most 3 sentences.\nCurrent time: {{{{ now }}}}\n")
    options = ("-m", "claude-sonnet-4-6", "-n", "1000", "--per", "day", "--format", "json")

    run = cli("audit", first, *options)
    cache = [f for f in run.json()["findings"] if f["rule"] == "TC101"]
    assert len(cache) == 1
    (finding,) = cache
    assert (finding["line"], finding["column"], finding["name"]) == (1, 15, "cache-breaking-prefix")
    # Stable run after the time: everything after "{{ now }}" (the template tag is not sent).
    stable = f"\n{docs}\nAnswer in at most 3 sentences.\n"
    run_tokens = count_tokens(stable, "claude-sonnet-4-6", "anthropic").tokens
    prefix_tokens = count_tokens("Current time: ", "claude-sonnet-4-6", "anthropic").tokens
    assert finding["tokens"] == run_tokens
    # Sonnet 4.6: input $3.00, cache read $0.30 per MTok; 1,000 calls a day, 30-day month.
    # Moved, the whole stable text (prefix + run) becomes a cacheable prefix (> 1,024 min).
    expected = Decimal(prefix_tokens + run_tokens) * 30_000 * (Decimal("3.00") - Decimal("0.30"))
    assert Decimal(finding["monthly_cost"]) == expected / 10**6
    assert Decimal(finding["monthly_cost"]) > 200
    assert run.exit_code == 1  # an error-level finding, default --fail-on error

    clean = cli("audit", last, *options)
    assert clean.exit_code == 0, clean.stdout
    assert clean.json()["findings"] == []


def test_cost_needs_a_volume(cli, isolated_env):
    path = isolated_env / "t.j2"
    path.write_text(f"Now: {{{{ now }}}}\n{documentation()}\nBe concise.\n")
    run = cli("audit", path, "-m", "claude-sonnet-4-6", "--format", "json")
    findings = {f["rule"]: f for f in run.json()["findings"]}
    assert set(findings) == {"TC101", "TC102"}
    assert findings["TC101"]["tokens"] > 2_900
    assert all(f["monthly_cost"] is None for f in findings.values())


def test_below_minimum_says_reordering_crosses_it(cli, isolated_env):
    path = isolated_env / "t.j2"
    path.write_text(f"Hello {{{{ name }}}}.\n{documentation()}\nBe concise.\n")
    run = cli("audit", path, "-m", "claude-sonnet-4-6", "--format", "json", "--fail-on", "never")
    rules = {f["rule"]: f for f in run.json()["findings"]}
    assert set(rules) == {"TC101", "TC102"}
    assert "crosses it" in rules["TC102"]["message"]
    assert "1,024" in rules["TC102"]["message"]  # Sonnet 4.6 minimum, from the registry
    assert rules["TC102"]["overlaps"] == "cache-breaking-prefix"


def test_below_minimum_never_when_the_whole_template_is_too_short(cli, isolated_env):
    path = isolated_env / "t.j2"
    path.write_text(documentation() + "Be concise.\n{{ q }}\n")
    # ~3,000 stable tokens in all, under Opus 4.6's 4,096 but over half of it.
    run = cli("audit", path, "-m", "claude-opus-4-6", "--format", "json")
    (finding,) = run.json()["findings"]
    assert finding["rule"] == "TC102" and finding["severity"] == "info"
    assert "no reordering can make it cacheable" in finding["message"]
    # Sonnet 4.6's minimum is 1,024: the same template is cacheable as it stands.
    assert (
        cli("audit", path, "-m", "claude-sonnet-4-6", "--format", "json").json()["findings"] == []
    )


def spread(clauses: int) -> str:
    """Stable text cut into short runs (under the 64-token TC101 threshold each) by variables,
    like the promptflow evaluation templates: "question: {{q}} context: {{c}} ..."."""
    block = "Rate the answer from one to five against the rubric below and the sample given. " * 3
    return f"{{{{ q }}}}\n{block}\n" + "".join(
        f"field {n}: {{{{ v{n} }}}}\n{block}\n" for n in range(clauses)
    )


def test_without_a_model_short_runs_that_add_up_past_1024_are_reported(cli, isolated_env):
    # Old code: TC102 needed -m; with no model, nothing was reported on such a template.
    (isolated_env / "t.j2").write_text(spread(26))
    run = cli("audit", "t.j2", "--format", "json", "--fail-on", "never", "--select", "TC1")
    (finding,) = run.json()["findings"]
    assert finding["rule"] == "TC102" and finding["severity"] == "warning"
    assert finding["line"] == 1 and finding["monthly_cost"] is None
    assert "below 1,024" in finding["message"] and "crosses it" in finding["message"]
    assert finding["tokens"] >= 1024


def test_without_a_model_a_short_template_is_not_reported(cli, isolated_env):
    (isolated_env / "t.j2").write_text(spread(3))  # a few hundred stable tokens in all
    run = cli("audit", "t.j2", "--format", "json", "--fail-on", "never", "--select", "TC1")
    assert run.json()["findings"] == []


def test_without_a_model_tc101_alone_reports_a_long_hidden_run(cli, isolated_env):
    (isolated_env / "t.j2").write_text(f"Hello {{{{ name }}}}.\n{documentation()}\n")
    run = cli("audit", "t.j2", "--format", "json", "--fail-on", "never")
    assert [f["rule"] for f in run.json()["findings"]] == ["TC101"]  # one finding, not two
