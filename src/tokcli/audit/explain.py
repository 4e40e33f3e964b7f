"""Rule documentation, the way ruff documents its rules: what the rule flags, why it costs
money, an example, the fix. One text, two outlets: `tokcli audit --explain TC101` prints it,
and docs/rules/TCxxx.md are generated from it (`python -m tokcli.audit.explain docs/rules`;
a test keeps them in step). SARIF `helpUri` points at those pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

CACHE_RULE = (
    "Providers cache the longest unchanged *prefix* of a prompt: Anthropic from 1,024 tokens "
    "(Sonnet; 4,096 on Opus 4.5-4.7 and Haiku 4.5), reading it back at 0.1x the input price "
    "(writes cost 1.25x for 5 minutes); OpenAI automatically from 1,024 tokens, at 0.1x on "
    "GPT-5.x (0.25x GPT-4.1, 0.5x GPT-4o); Gemini implicitly from 1,024-4,096 tokens at 0.1x; "
    "DeepSeek from 64 tokens. One changed token ends the prefix: everything after it is billed "
    "at the full input price on every call. `tokcli pricing show MODEL` gives each model's "
    "prices and minimum."
)

DOCS: dict[str, dict[str, str]] = {
    "TC001": {
        "flags": "A file audit could not read or parse: not UTF-8, invalid YAML front matter or "
        "JSON, a chat file named on the command line that holds no messages, 100,000-deep "
        "nesting.",
        "why": "It costs nothing by itself, but nothing in the file was checked. Audit reports "
        "it and goes on with the other files; the exit code follows `--fail-on` (the finding "
        "is an `error`).",
        "example": "---\nmodel: [gpt-5\n---\nHi {{ name }}",
        "fix": "Fix the file, or leave it out with `--exclude` / `exclude` in `[audit]`.",
    },
    "TC002": {
        "flags": "A template names a model that is not in the pricing registry (one warning per "
        "model id in a run, with the closest known ids).",
        "why": "Without a price, the template's findings carry tokens but no dollars, and "
        "severity cannot follow money. The run goes on.",
        "example": "---\nmodel: gpt-5-mimi\n---\n...",
        "fix": "Use an id from `tokcli pricing list`, or add the model with `--pricing FILE`.",
    },
    "TC101": {
        "flags": "A value that changes between calls (time, date, request or session id, user "
        "name, random value, counter, any template variable or template logic) placed before "
        "stable text; or a literal timestamp, uuid or request id inside the stable prefix. "
        "Without a model, a plain variable is reported only when the template has at least "
        "1,024 stable tokens (it may be fixed per deployment); a per-call value is reported "
        "from 64 tokens on, as `info` while the template is too short to be cached anywhere.",
        "why": CACHE_RULE + " The finding's money is the tokens that become cacheable when the "
        "value moves to the end, times (input price - cache read price), times calls a month.",
        "example": "Current time: {{ now }}\nYou are the support agent of Acme ... (3,000 "
        "tokens of policy)",
        "fix": "Move the value after the stable text, for example into the last user message: "
        "`... (policy)\\nCurrent time: {{ now }}`.",
    },
    "TC102": {
        "flags": "The stable prefix is shorter than the model's minimum cacheable length. Says "
        "whether moving the variables to the end would cross the minimum (a warning with the "
        "saving) or whether no order can (info: it saves nothing). Without a model the "
        "minimum is 1,024 tokens, the smallest prompt OpenAI and Anthropic cache: a template "
        "whose stable text crosses it only once every variable moves to the end is a warning, "
        "unpriced (when TC101 already reports a long stable run behind a variable, TC102 "
        "stays silent: one finding for one problem).",
        "why": CACHE_RULE,
        "example": "{{ customer_name }}: ... 1,019 tokens of fixed instructions ...",
        "fix": "Put every fixed instruction, document and tool definition first and every "
        "variable after them; or share one longer fixed prefix across prompts.",
    },
    "TC103": {
        "flags": "Template code whose output order can change between calls, in front of "
        "stable text: `json.dumps(...)` without `sort_keys=True`, `.items()` / `.keys()` / "
        "`set(...)` iteration, a `tools` list in caller order.",
        "why": CACHE_RULE + " A dict rendered in another order is a different prefix.",
        "example": "{{ json.dumps(profile) }}\nYou are ...",
        "fix": "Render in a fixed order: `json.dumps(x, sort_keys=True)`, `|dictsort`, tools "
        "sorted by name, and put it after the stable text when it changes per call.",
    },
    "TC104": {
        "flags": "Few-shot examples over `example-tokens` (300) placed after volatile content "
        "(warning: they are never cached), or the same block repeated across templates "
        "(info: each call pays for its own prompt either way).",
        "why": CACHE_RULE + " Examples are usually the largest fixed part of a prompt.",
        "example": "User: {{ user_profile }}\n<examples>... 800 tokens ...</examples>",
        "fix": "Move the examples before every variable, right after the fixed instructions.",
    },
    "TC105": {
        "flags": "Python code (read with `ast`, never run) that puts `datetime.now()`, "
        "`time.time()`, `uuid4()`, `random`, `secrets` or a request field into `system=`, "
        "`instructions=`, a system/developer message or a first message followed by others, "
        "in OpenAI, Anthropic, LiteLLM or LangChain calls. Values are followed through "
        "assignments, f-strings, `+`, `%` and `.format()`.",
        "why": CACHE_RULE + " Priced like TC101 from the fixed text after the value.",
        "example": 'client.messages.create(system=f"Time: {datetime.now()}\\n" + POLICY, ...)',
        "fix": "Keep the system prompt fixed (`system=POLICY`) and send the time in the last "
        "user message.",
    },
    "TC201": {
        "flags": "Filler: stacked adjectives in the role line, pleasantries ('please make sure "
        "to', 'it is very important that', 'I want you to'), doubled intensifiers, shouted "
        "markers repeated three times or more. Reported as `info`: on real templates these "
        "are a few tokens a call.",
        "why": "Every input token is billed on every call: tokens x input price x calls.",
        "example": "You are a helpful, knowledgeable, friendly, professional assistant.",
        "fix": "Say it plainly: `You are an assistant for ...`.",
    },
    "TC202": {
        "flags": "The same instruction twice, exactly or nearly (content-word similarity >= "
        "`duplicate-similarity`, 0.8, in the same order; numbers must match, so 'section 1.2' "
        "and 'section 2.1' differ). Sentences are segmented properly (4.5, e.g., os.path do "
        "not split); table rows, markup, headings, labels, questions, code, data and few-shot "
        "examples are not instructions.",
        "why": "The repeat is billed on every call: its tokens x input price x calls.",
        "example": "Never mention ticket numbers.\n...\nPlease never mention ticket numbers.",
        "fix": "Keep one of the two, where it belongs.",
    },
    "TC301": {
        "flags": "No `max_tokens` (front matter, Prompty/Dotprompt/SK config, `[audit] "
        "max-tokens`) and no length or format instruction ('be concise', 'in 50 words', "
        "'answer in 3 bullet points', a JSON schema). Not on embedding or image models. "
        "**Off by default** (no finding on the labelled real corpus named a saving): turn it "
        "on with `--select TC301`.",
        "why": "Output tokens cost 4-8x input tokens; the worst case per call is the model's "
        "maximum output x the output price.",
        "example": "Write about the sea.",
        "fix": "Set `max_tokens`, or ask for a bounded answer: 'in 3 bullet points'.",
    },
    "TC302": {
        "flags": "A reasoning-tier model on a template that classifies or extracts into fixed "
        "labels.",
        "why": "Reasoning models cost many times a cheap model's input price and add "
        "reasoning tokens billed as output; a label needs neither.",
        "example": "---\nmodel: o1\n---\nClassify the ticket as billing, bug or other.",
        "fix": "Try the provider's cheapest current model on a sample of inputs.",
    },
}


def explain(code: str) -> str:
    """The rule's page as markdown."""
    from tokcli.audit.rules import BY_CODE

    rule = BY_CODE[code].info
    doc = DOCS[code]
    state = "on" if rule.default_enabled else "off (enable with `--select`)"
    money = ""
    if rule.severity.name == "error" and code not in ("TC001",):
        money = (
            " It is an `error` only when the fix saves at least `error-saving` dollars a month "
            "(default 10) at the stated model and volume; otherwise a warning."
        )
    return (
        f"# {rule.code} {rule.name}\n\n"
        f"Default severity: `{rule.severity.name}`; default: {state}.{money}\n\n"
        f"{rule.summary}\n\n"
        f"## What it flags\n\n{doc['flags']}\n\n"
        f"## Why it costs money\n\n{doc['why']}\n\n"
        f"## Example\n\n```text\n{doc['example']}\n```\n\n"
        f"## Fix\n\n{doc['fix']}\n\n"
        f"Suppress one finding with `tokcli: ignore[{rule.name}]` in a comment on its line; "
        f"see `tokcli audit --explain {rule.code}`.\n"
    )


def resolve(selector: str) -> str | None:
    """A rule code for a code or a name, else None."""
    from tokcli.audit.rules import BY_CODE, BY_NAME

    key = selector.strip()
    if key.upper() in BY_CODE:
        return key.upper()
    rule = BY_NAME.get(key.lower())
    return rule.info.code if rule else None


def write_pages(folder: Path) -> list[Path]:
    from tokcli.audit.rules import RULES

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in RULES:
        path = folder / f"{rule.info.code}.md"
        path.write_text(explain(rule.info.code), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m tokcli.audit.explain docs/rules
    for page in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules")):
        print(page)
