"""Fourteen templates written to break prompt caching (tests/fixtures/audit/breaking/flagged)
are all flagged by a cache rule at warning or above, and the same prompts with the volatile
value moved after the stable text (breaking/clean) are not. Synthetic on purpose: each one is
the smallest realistic case of one way to break the cache, in front of a ~2,200-token policy.
"""

from __future__ import annotations

import shutil
from decimal import Decimal

import pytest

from conftest import FIXTURES

BREAKING = FIXTURES / "audit" / "breaking"
CACHE_RULES = ("TC101", "TC103", "TC105")
# file -> (line, rule) of the finding that names the volatile value.
FLAGGED = {
    "01_timestamp_first.j2": (1, "TC101"),
    "02_date_first.txt": (1, "TC101"),
    "03_request_id_first.md": (1, "TC101"),
    "04_user_name_first.j2": (1, "TC101"),
    "05_literal_timestamp.txt": (1, "TC101"),
    "06_tools_caller_order.j2": (2, "TC101"),
    "07_json_unsorted.j2": (1, "TC101"),
    "08_examples_first.j2": (2, "TC101"),
    "09_profile_items_first.j2": (1, "TC101"),
    "10_uuid_literal.md": (1, "TC101"),
    "11_random_greeting.j2": (1, "TC101"),
    "12_chat_volatile_first.json": (5, "TC101"),
    "13_anthropic_system_now.py": (142, "TC105"),
    "14_openai_instructions_request.py": (139, "TC105"),
}


@pytest.fixture
def breaking(isolated_env):
    shutil.copytree(BREAKING, isolated_env / "breaking")
    return "breaking"


def cache_findings(run):
    return [
        (f["path"].rsplit("/", 1)[1], f["line"], f["rule"], f["severity"])
        for f in run.json()["findings"]
        if f["rule"] in CACHE_RULES
    ]


def test_all_fourteen_are_flagged(cli, breaking):
    assert len(FLAGGED) == 14
    assert sorted(p.name for p in (BREAKING / "flagged").iterdir()) == sorted(FLAGGED)
    run = cli("audit", f"{breaking}/flagged", "-f", "json", "--fail-on", "never")
    found = cache_findings(run)
    for name, (line, rule) in FLAGGED.items():
        assert (name, line, rule, "warning") in found, name
    # The extra findings are the order rule beside TC101 for the unsorted kinds.
    extra = [f for f in found if (f[0], (f[1], f[2])) not in FLAGGED.items()]
    assert {(name, rule) for name, _, rule, _ in extra} == {
        ("06_tools_caller_order.j2", "TC103"),
        ("07_json_unsorted.j2", "TC103"),
        ("09_profile_items_first.j2", "TC103"),
    }


def test_clean_controls_are_not_flagged(cli, breaking):
    run = cli("audit", f"{breaking}/clean", "-f", "json", "--fail-on", "never")
    assert run.json()["summary"]["files"] == 9
    assert cache_findings(run) == []


def test_python_system_now_is_priced_like_tc101(cli, breaking):
    run = cli(
        "audit",
        f"{breaking}/flagged/13_anthropic_system_now.py",
        *("-m", "claude-sonnet-4-6", "-n", "10000", "--per", "day", "-f", "json"),
    )
    (finding,) = run.json()["findings"]
    assert finding["rule"] == "TC105" and finding["severity"] == "error"
    assert "datetime.now()" in finding["message"] and "`system=`" in finding["message"]
    # Sonnet 4.6: input $3.00, cache read $0.30 per MTok (registry); 300,000 calls a month.
    saving = Decimal(finding["tokens"]) * 300_000 * (Decimal("3.00") - Decimal("0.30")) / 10**6
    assert Decimal(finding["monthly_cost"]) == saving
    assert run.exit_code == 1


def test_python_without_an_llm_client_is_not_read(cli, isolated_env):
    (isolated_env / "util.py").write_text("import datetime\nnow = datetime.datetime.now()\n")
    run = cli("audit", ".", "-f", "json")
    assert run.json()["summary"]["files"] == 0 and run.exit_code == 0
    named = cli("audit", "util.py", "-f", "json")  # named explicitly: still nothing to say
    assert named.json()["findings"] == [] and named.exit_code == 0


CODE_CASES = {
    "langchain_system": (
        "from langchain_core.messages import SystemMessage\nimport uuid\n"
        "m = SystemMessage(content=f'Trace {uuid.uuid4()}. You answer billing questions.')\n",
        3,
    ),
    "langchain_template": (
        "from langchain_core.prompts import ChatPromptTemplate\nimport time\n"
        "t = ChatPromptTemplate.from_messages([('system', f'{time.time()} Be exact.'), "
        "('user', '{q}')])\n",
        3,
    ),
    "litellm_first_message": (
        "import litellm, random\n"
        "seed = random.randint(0, 9)\n"
        "litellm.completion(model='gpt-5', messages=[\n"
        "    {'role': 'user', 'content': f'Seed {seed}. Policy text.'},\n"
        "    {'role': 'assistant', 'content': 'ok'},\n"
        "    {'role': 'user', 'content': 'q'},\n"
        "])\n",
        4,
    ),
    "request_item": (
        "from openai import OpenAI\n"
        "def f(request):\n"
        "    OpenAI().responses.create(model='gpt-5', instructions='Hi ' + request['user_id'])\n",
        3,
    ),
}


@pytest.mark.parametrize("case", CODE_CASES)
def test_code_prompt_sources_and_sinks(cli, isolated_env, case):
    text, line = CODE_CASES[case]
    (isolated_env / "app.py").write_text(text)
    run = cli("audit", "app.py", "-f", "json", "--fail-on", "never")
    assert [(f["rule"], f["line"]) for f in run.json()["findings"]] == [("TC105", line)]


def test_code_prompt_quiet_when_values_stay_out_of_the_prefix(cli, isolated_env):
    (isolated_env / "app.py").write_text(
        "import datetime\nfrom anthropic import Anthropic\n"
        "SYSTEM = 'You answer billing questions.'\n"
        "stamp = datetime.datetime.now()\n"
        "Anthropic().messages.create(model='x', system=SYSTEM, messages=[\n"
        "    {'role': 'user', 'content': f'{stamp}: question'}])\n"
    )
    run = cli("audit", "app.py", "-f", "json", "--fail-on", "never")
    assert run.json()["findings"] == []
