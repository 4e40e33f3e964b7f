"""Money is exact whatever the caller's decimal context (issue 17's review; money.MONEY_CONTEXT).

Python's default decimal context keeps 28 significant digits and rounds silently; exports carry
costs with up to 30 decimals (Azure, the OpenAI dashboard) and price files may too. Every
figure tokcli computes from money must therefore be summed, subtracted, multiplied and divided
in MONEY_CONTEXT (60 digits). The check: each command below runs twice on the same inputs,
once as a user runs it (the default 28-digit context around it) and once inside a 200-digit
context. Arithmetic left in the caller's context gives a different figure in the two runs
(rounded at the 28th digit in the first); arithmetic done in MONEY_CONTEXT gives the same.
The inputs are synthetic on purpose: costs and prices of 31 to 37 significant digits."""

from __future__ import annotations

import decimal
import json

import pytest

# Three rows of one day: two teams and one untagged row, every cost with 30 decimals.
USAGE_CSV = """day,llm,prompt,cached,completion,usd,squad,env
2026-11-02,gpt-5,1000,0,100,1234567.123456789012345678901234567891,search,prod
2026-11-02,gpt-5,1000,0,100,7654321.987654321098765432109876543219,ml,prod
2026-11-02,gpt-5,1000,0,100,0.111111111111111111111111111111,,prod
2026-11-03,acme-llm,1000000,0,1000000,,search,prod
"""
MAPPING = (
    "period_start=day,model=llm,input_tokens=prompt,cache_read_tokens=cached,"
    "output_tokens=completion,billed_cost=usd,tag.team=squad,tag.env=env"
)
# Prices of 31 digits; a batch tier priced by a multiplier (PriceEntry.price multiplies).
PRICES = """models:
  - id: acme-llm
    provider: acme
    tier: cheap
    min_cacheable_tokens: 1024
    prices:
      - effective_from: 2026-01-01
        source: "test prices"
        input: "1.123456789012345678901234567891"
        output: "3.987654321098765432109876543219"
        cache_read: "0.111111111111111111111111111111"
        tiers:
          batch: {multiplier: "0.5"}
  - id: gpt-5
    prices:
      - source: "test prices"
        input: "1.123456789012345678901234567891"
        output: "9.987654321098765432109876543219"
        cache_read: "0.111111111111111111111111111111"
"""
THIRTY = "0.123456789012345678901234567891"


@pytest.fixture
def inputs(cli, isolated_env):
    (isolated_env / "usage.csv").write_text(USAGE_CSV, encoding="utf-8")
    (isolated_env / "prices.yaml").write_text(PRICES, encoding="utf-8")
    store = isolated_env / "s.db"
    result = cli("import", "usage.csv", "--map", MAPPING, "--store", store,
                 "--pricing", "prices.yaml", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return store


def outputs_in_both_contexts(cli, args, output_file=None):
    """What the command prints, and the file it writes if any, in the default context and in a
    200-digit one."""
    seen = []
    for context in (decimal.Context(), decimal.Context(prec=200)):
        with decimal.localcontext(context):
            result = cli(*args)
        assert result.exit_code == 0, result.stderr
        seen.append((result.stdout, output_file.read_text() if output_file else None))
    return seen


PRICES_ARG = ["--pricing", "prices.yaml"]
STORE = object()  # stands for the store the `inputs` fixture imported into
COMMANDS = {
    "report summary (untagged top team)": ["report", "--format", "json", "--store", STORE],
    "report summary filtered by a tag": ["report", "--where", "env=prod", "--format", "json",
                                         "--store", STORE],
    "report by team": ["report", "--by", "team", "--format", "json", "--store", STORE],
    "export summary": ["export", "-o", "out.csv", "--summary", "json", "--store", STORE],
    "advise": ["advise", "--month", "2026-11", "--format", "json", "--store", STORE,
               *PRICES_ARG],
    "estimate, batch tier by multiplier": [
        "estimate", "-m", "acme-llm", "--input-tokens", "1000000", "--output-tokens", "1000000",
        "--batch", "--format", "json", *PRICES_ARG,
    ],
    "pricing show, tier by multiplier": ["pricing", "show", "acme-llm", "--format", "json",
                                         *PRICES_ARG],
    "tco horizon and sensitivity": ["tco", "--api-model", "gpt-5", "--volume", "1.234B",
                                    "--format", "json", *PRICES_ARG],
    "tco self-hosted overhead": ["tco", "--api-model", "gpt-5", "--volume", "1.234B",
                                 "--self-overhead", THIRTY, "--format", "json", *PRICES_ARG],
    "tco commit": ["tco", "commit", "--commit", "10000" + THIRTY[1:], "--discount", THIRTY,
                   "--usage", "9000" + THIRTY[1:], "--format", "json"],
}  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_figures_do_not_depend_on_the_callers_decimal_context(cli, inputs, name):
    args = [inputs if arg is STORE else arg for arg in COMMANDS[name]]
    output_file = inputs.parent / "out.csv" if args[0] == "export" else None
    (as_run, file_as_run), (exact, exact_file) = outputs_in_both_contexts(cli, args, output_file)
    assert json.loads(as_run) == json.loads(exact)  # the export's is its --summary
    assert file_as_run == exact_file


def test_the_html_chart_keeps_exact_spend(cli, inputs):
    page = inputs.parent / "r.html"
    args = ["report", "--by", "team", "--format", "html", "-o", page, "--store", inputs,
            "--pricing", "prices.yaml"]  # fmt: skip
    (_, as_run), (_, exact) = outputs_in_both_contexts(cli, args, output_file=page)
    assert 'data-spend="7654321.987654321098765432109876543219"' in exact
    assert as_run == exact


def test_the_import_summary_keeps_exact_totals(cli, isolated_env):
    (isolated_env / "usage.csv").write_text(USAGE_CSV, encoding="utf-8")
    (isolated_env / "prices.yaml").write_text(PRICES, encoding="utf-8")
    runs = []
    for n, context in enumerate((decimal.Context(), decimal.Context(prec=200))):
        with decimal.localcontext(context):
            result = cli("import", "usage.csv", "--map", MAPPING, "--store", f"s{n}.db",
                         "--pricing", "prices.yaml", "--format", "json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        document = result.json()
        for file in document["files"]:
            file.pop("import_id", None)
        runs.append(document)
    assert runs[0] == runs[1]
    billed = [totals["billed"] for totals in runs[0]["files"][0]["by_source"]]
    assert "8888889.222222221222222222122222222221" in billed  # the three costs' sum


SAMPLE_INPUTS = {  # real exports and logs (tests/fixtures/samples, SOURCES.md in each folder)
    "azure amortized (30-decimal costs)": ["azure-cost-export/EA_AmortizedCost_Small.csv"],
    "azure actual, every service": ["azure-cost-export/EA_ActualCost_Small.csv", "--all-services"],
    "focus sample": ["focus/focus_sample.csv", "--all-services"],
    "focus ai, several models": ["focus-ai/multi_model_usage.csv"],
    "focus ai, prompt caching": ["focus-ai/ai_prompt_caching_a.csv"],
    "openai usage api": ["openai-usage-api/completions_usage_api.ipynb.usage_data.json"],
    "claude code transcripts (list cost priced)": ["claude-code-jsonl"],
    "otel genai agents": ["otel-genai-agents/google-adk-2025-08-28.json"],
}


@pytest.mark.parametrize("name", SAMPLE_INPUTS)
def test_real_inputs_import_and_report_the_same_in_any_context(cli, isolated_env, name):
    from conftest import SAMPLES
    from test_import_support import store_dump

    path, *extra = SAMPLE_INPUTS[name]
    seen = []
    for n, context in enumerate((decimal.Context(), decimal.Context(prec=200))):
        store = isolated_env / f"s{n}.db"
        with decimal.localcontext(context):
            result = cli("import", SAMPLES / path, *extra, "--store", store, "--format", "json")
            assert result.exit_code == 0, result.stderr
            summary = result.json()
            reports = [
                cli("report", *by, "--store", store, "--format", "json").json()
                for by in ([], ["--by", "model"], ["--by", "day"])
            ]
        for file in summary["files"]:
            file.pop("import_id", None)
        usage = [table for table in store_dump(store) if table[0].startswith("usage")]
        seen.append((summary, reports, usage))
    assert seen[0][0]["totals"]["inserted"] > 0
    assert seen[0] == seen[1]
