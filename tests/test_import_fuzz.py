"""Property tests of every importer's row parser (issue 13): a real file of each format with
some of its values replaced by hostile ones (NaN, 1e400, `€12`, huge integers, random text,
odd dates) never crashes the parser. Each row either yields records whose numbers a later read
can handle (finite, within 1e15), or a RowError naming the field, or the whole file is refused
with an InputError. Bounded: few examples, no deadline, so the suite stays fast.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLES
from tokcli.errors import InputError
from tokcli.importers import get_format
from tokcli.importers.fields import RowError
from tokcli.importers.format import Options
from tokcli.importers.input_files import Source

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
CSV_FILES = {
    "focus": SAMPLES / "focus-ai" / "ai_prompt_caching_a.csv",
    "azure-cost": FIXTURES / "azure_openai_ea_2025-09.csv",
    "aws-cur": FIXTURES / "cur2_bedrock_2025-09.csv",
    "gcp-billing": FIXTURES / "gcp_billing_export_vertex.csv",
    "openai-usage-csv": FIXTURES / "completions_usage_2025-10-27_2025-10-28.csv",
    "openai-costs-csv": FIXTURES / "cost_2025-10-27_2025-10-29.csv",
    "anthropic-usage-csv": FIXTURES / "claude_api_tokens_2026_03_22_to_2026_03_23.csv",
    "anthropic-costs-csv": FIXTURES / "claude_api_cost_2026_03_22_to_2026_03_23.csv",
    "litellm": FIXTURES / "litellm_spendlogs.csv",
}
JSON_FILES = {
    "openai-usage": FIXTURES / "openai_usage_completions_grouped.json",
    "openai-costs": FIXTURES / "openai_costs_by_line_item.json",
    "anthropic-usage": FIXTURES / "anthropic_usage_report_messages.json",
    "anthropic-costs": FIXTURES / "anthropic_cost_report.json",
    "otlp": FIXTURES / "otlp_genai_metrics.json",
}
JSONL_FILES = {
    "claude-code": SAMPLES / "claude-code-jsonl" / "short.jsonl",
    "gcp-billing": FIXTURES / "gcp_billing_export_vertex.jsonl",
    "otlp": FIXTURES / "otlp_genai_spans.jsonl",
}

HOSTILE = st.sampled_from(
    ["", "NULL", "NaN", "nan", "inf", "-Infinity", "-0", "1e400", "1e-400", "1e15", "1e16",
     "1,234.50", "1,23", "$12", "€12", "-5", "0.1", "3.0", "99999999999999999999",
     "2025-09-03T00:00:00Z", "2025-02-30", "09/31/2025", "2025-09-03T00:00:00 PST",
     "253402300800", "1e30", "{}", "[]", '{"a": 1}', "[[[[]]]]", "Input Tokens", "Output",
     "Tokens", "1K", "1M Tokens", "AI and Machine Learning", "Usage", "Credit", "Tax"]
)  # fmt: skip
VALUES = st.one_of(
    HOSTILE,
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
JSON_VALUES = st.one_of(
    VALUES,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIMIT = Decimal("1e15")


def parse_all(name: str, path: Path) -> None:
    """Parse a whole file; check every outcome against the invariants."""
    fmt = get_format(name)
    try:
        outcomes = list(fmt.parse(Source(path), Options(all_services=True)))
    except InputError:
        return  # the whole file refused with a located, one-line message
    for parsed in outcomes:
        if parsed.error is not None:
            assert isinstance(parsed.error, RowError)
            continue
        for record in parsed.records:
            for money in (record.billed_cost, record.list_cost):
                assert money is None or (money.is_finite() and abs(money) <= LIMIT)
            assert record.period_start.tzinfo is not None


def _write(text: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tokcli-fuzz-"))
    path = folder / "input"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return path


@pytest.mark.parametrize("name", sorted(CSV_FILES))
@FUZZ
@given(data=st.data())
def test_csv_row_parsers_take_any_cell_value(name, data):
    lines = list(csv.reader(io.StringIO(CSV_FILES[name].read_text(encoding="utf-8-sig"))))
    header, rows = lines[0], [r for r in lines[1:] if len(r) == len(lines[0])]
    row = list(data.draw(st.sampled_from(rows)))
    for index in data.draw(st.sets(st.integers(0, len(header) - 1), min_size=1, max_size=4)):
        row[index] = data.draw(VALUES)
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, row])
    parse_all(name, _write(buffer.getvalue()))


def _leaves(value, path=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path


def _replace(document, path, new):
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new


def _mutated(document, data):
    paths = list(_leaves(document))
    for path in data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4)):
        _replace(document, path, data.draw(JSON_VALUES))
    return document


@pytest.mark.parametrize("name", sorted(JSON_FILES))
@FUZZ
@given(data=st.data())
def test_json_row_parsers_take_any_leaf_value(name, data):
    document = _mutated(json.loads(JSON_FILES[name].read_text()), data)
    parse_all(name, _write(json.dumps(document)))


@pytest.mark.parametrize("name", sorted(JSONL_FILES))
@FUZZ
@given(data=st.data())
def test_json_lines_row_parsers_take_any_leaf_value(name, data):
    lines = [json.loads(x) for x in JSONL_FILES[name].read_text().splitlines() if x.strip()]
    index = data.draw(st.integers(0, len(lines) - 1))
    lines[index] = _mutated(lines[index], data)
    parse_all(name, _write("\n".join(json.dumps(x) for x in lines) + "\n"))
