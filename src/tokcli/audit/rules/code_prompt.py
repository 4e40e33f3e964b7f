"""TC105 cache-breaking-code-prompt: Python that puts a per-call value (datetime.now(),
time.time(), uuid4(), random, request fields) into the system prompt, `instructions` or the
first message of an OpenAI, Anthropic, LiteLLM or LangChain call.

The file is parsed with `ast`, never imported or run. Values are followed through plain
assignments, f-strings, `+`, `%`, `.format()` and `.join()` inside one module; that is enough
for the common `system=f"Now: {datetime.now()} ..."` and `now = ...; prompt = f"...{now}"`.
Priced like TC101: the stable text after the value, in the same string, is what the cache
loses on every call.
"""

from __future__ import annotations

import ast

from tokcli.audit.findings import Finding, RuleInfo, Severity
from tokcli.audit.rules.base import Context, Rule

INFO = RuleInfo(
    "TC105",
    "cache-breaking-code-prompt",
    Severity.error,
    "Python code puts a per-call value (time, uuid, random, request field) into the system "
    "prompt, instructions or first message of an LLM call, so the prompt is never cached.",
)
# Calls whose result changes on every call: dotted-name suffixes.
VOLATILE_CALLS = {
    "datetime.now": "the current time",
    "datetime.utcnow": "the current time",
    "datetime.today": "the current date",
    "date.today": "the current date",
    "time.time": "the current time",
    "time.time_ns": "the current time",
    "time.ctime": "the current time",
    "time.strftime": "the current time",
    "time.monotonic": "a clock value",
    "time.perf_counter": "a clock value",
    "uuid.uuid1": "a uuid",
    "uuid.uuid4": "a uuid",
    "uuid1": "a uuid",
    "uuid4": "a uuid",
    "now": "the current time",
    "utcnow": "the current time",
    "pendulum.now": "the current time",
    "arrow.now": "the current time",
    "arrow.utcnow": "the current time",
    "secrets.token_hex": "a random value",
    "secrets.token_urlsafe": "a random value",
    "os.urandom": "a random value",
}
RANDOM_MODULES = ("random.", "np.random.", "numpy.random.")
# Request-scoped objects: a field of one is different on every call.
REQUEST_NAMES = {"request", "req", "session", "ctx", "context", "event", "payload", "body"}
REQUEST_FIELD_HINTS = ("id", "user", "time", "date", "now", "session", "trace", "nonce", "name")
# Client calls and where their cached prefix starts.
CREATE_SUFFIXES = (
    "chat.completions.create",
    "chat.completions.parse",
    "responses.create",
    "responses.parse",
    "messages.create",
    "messages.stream",
    "beta.messages.create",
    "litellm.completion",
    "litellm.acompletion",
    "completion",
    "acompletion",
)
SYSTEM_KEYWORDS = ("system", "instructions", "system_instruction", "system_prompt")
LANGCHAIN_SYSTEM = ("SystemMessage", "SystemMessagePromptTemplate.from_template")


def dotted(node: ast.AST) -> str:
    """`a.b.c` for Name/Attribute chains (calls in between are skipped: `a().b` -> `a.b`)."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            break
        else:
            break
    return ".".join(reversed(parts))


class _Taint:
    """Which names hold per-call values, and why (first cause wins)."""

    def __init__(self, tree: ast.Module):
        self.names: dict[str, tuple[str, ast.expr]] = {}
        self.values: dict[str, ast.expr] = {}  # name -> the expression assigned to it
        self.constants: dict[str, str] = {}  # name -> its text, for fixed strings
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value:
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        self.values.setdefault(target.id, node.value)
                        text = _constant_text(node.value, self.constants)
                        if text is not None:
                            self.constants.setdefault(target.id, text)
        for _ in range(3):  # a few passes: values flow through chains of assignments
            for name, value in self.values.items():
                if name not in self.names:
                    cause = self.cause(value)
                    if cause is not None:
                        self.names[name] = cause

    def hops(self, expression: ast.expr, node: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
        """Follow a tainted name back to the call that made it: the (expression, node) pairs
        from the call site's argument to the volatile call itself."""
        hops = [(expression, node)]
        seen = set()
        while isinstance(node, ast.Name) and node.id in self.values and node.id not in seen:
            seen.add(node.id)
            expression = self.values[node.id]
            found = self.cause(expression)
            if found is None:
                break
            node = found[1]
            hops.append((expression, node))
        return hops

    def cause(self, node: ast.AST | None) -> tuple[str, ast.expr] | None:
        """(what, the node) of the first per-call value inside an expression, in source order."""
        if node is None:
            return None
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            what = _volatile_call(name)
            if what is not None:
                return what, node
            if name.endswith(("sorted", "sort_keys")):
                pass
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id][0], node
        if isinstance(node, ast.Attribute) and _request_field(node):
            return f"the request field `{dotted(node)}`", node
        if isinstance(node, ast.Subscript) and _request_item(node):
            return f"the request field `{ast.unparse(node)}`", node
        if isinstance(node, ast.Lambda | ast.FunctionDef):
            return None
        children = list(ast.iter_child_nodes(node))
        children.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
        for child in children:
            found = self.cause(child)
            if found is not None:
                return found
        return None


def _volatile_call(name: str) -> str | None:
    if any(name.startswith(module) for module in RANDOM_MODULES) or name in (
        "randint",
        "random",
        "choice",
        "shuffle",
    ):
        return "a random value"
    for suffix, what in VOLATILE_CALLS.items():
        if name == suffix or name.endswith("." + suffix):
            return what
    return None


def _request_field(node: ast.Attribute) -> bool:
    root = dotted(node).split(".")
    return (
        len(root) >= 2
        and root[0] in REQUEST_NAMES
        and any(hint in root[-1].lower() for hint in REQUEST_FIELD_HINTS)
    )


def _request_item(node: ast.Subscript) -> bool:
    base = dotted(node.value).split(".")[0]
    key = node.slice
    return (
        base in REQUEST_NAMES
        and isinstance(key, ast.Constant)
        and isinstance(key.value, str)
        and any(hint in key.value.lower() for hint in REQUEST_FIELD_HINTS)
    )


def _prompt_parts(call: ast.Call) -> list[tuple[str, ast.expr]]:
    """(where, expression) of the cached-prefix parts of an LLM call."""
    name = dotted(call.func)
    parts: list[tuple[str, ast.expr]] = []
    if name.endswith(CREATE_SUFFIXES) or name in ("completion", "acompletion"):
        for keyword in call.keywords:
            if keyword.arg in SYSTEM_KEYWORDS:
                parts.append((f"`{keyword.arg}=` of `{name}`", keyword.value))
            elif keyword.arg in ("messages", "input") and isinstance(keyword.value, ast.List):
                parts += _message_parts(keyword.value, name)
    elif name.split(".")[-1] in ("SystemMessage",) or name.endswith(LANGCHAIN_SYSTEM[1]):
        value = call.args[0] if call.args else _keyword(call, "content")
        if value is not None:
            parts.append((f"the `{name.split('.')[-1]}`", value))
    elif name.endswith(("from_messages", "ChatPromptTemplate")) and call.args:
        messages = call.args[0]
        if isinstance(messages, ast.List):
            for item in messages.elts:
                if (
                    isinstance(item, ast.Tuple)
                    and len(item.elts) == 2
                    and isinstance(item.elts[0], ast.Constant)
                    and item.elts[0].value == "system"
                ):
                    parts.append(("the system message of `ChatPromptTemplate`", item.elts[1]))
    return parts


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _message_parts(messages: ast.List, name: str) -> list[tuple[str, ast.expr]]:
    """The first message, and any system/developer message, of a literal message list."""
    parts: list[tuple[str, ast.expr]] = []
    for index, item in enumerate(messages.elts):
        if not isinstance(item, ast.Dict):
            continue
        fields = {
            key.value: value
            for key, value in zip(item.keys, item.values, strict=True)
            if isinstance(key, ast.Constant)
        }
        role = fields.get("role")
        role_name = (
            role.value if isinstance(role, ast.Constant) and isinstance(role.value, str) else None
        )
        # The first message matters when later messages follow it (a lone user message is
        # the end of the prompt: nothing after it to cache).
        first = index == 0 and len(messages.elts) > 1
        if "content" in fields and (first or role_name in ("system", "developer")):
            where = f"the {role_name or 'first'} message of `{name}`"
            parts.append((where, fields["content"]))
    return parts


def _constant_text(node: ast.AST, constants: dict[str, str]) -> str | None:
    """The text of a fixed string expression: literals, `+`, `* n` and known constant names."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_text(node.left, constants), _constant_text(node.right, constants)
        return left + right if left is not None and right is not None else None
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mult)
        and isinstance(node.right, ast.Constant)
        and isinstance(node.right.value, int)
        and 0 <= node.right.value <= 100
    ):
        text = _constant_text(node.left, constants)
        return text * node.right.value if text is not None else None
    return None


def _stable_text_after(expression: ast.expr, cause: ast.expr, constants: dict[str, str]) -> str:
    """Fixed text that follows the volatile value in the same string expression."""
    after = []
    for node in ast.walk(expression):
        position = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if position <= (cause.lineno, cause.col_offset):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            after.append(node.value)
        elif isinstance(node, ast.Name) and node.id in constants:
            after.append(constants[node.id])
    return "".join(after)


def check(ctx: Context):
    try:
        tree = ast.parse(ctx.template.raw)
    except (SyntaxError, ValueError, RecursionError):
        return  # not Python audit can read: nothing to say about prompts in it
    taint = _Taint(tree)
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        for where, expression in _prompt_parts(call):
            cause = taint.cause(expression)
            if cause is None:
                continue
            what, node = cause
            hops = taint.hops(expression, node)
            after = "".join(_stable_text_after(e, n, taint.constants) for e, n in hops)
            yield _finding(ctx, what, node, hops[-1][1], where, after)


def _finding(ctx: Context, what, node: ast.expr, origin: ast.expr, where, after) -> Finding:
    start = _offset(ctx.template.raw, node.lineno, node.col_offset)
    end = _offset(ctx.template.raw, node.end_lineno or node.lineno, node.end_col_offset or 0)
    tokens = ctx.tokens(after) if after.strip() else 0
    shown = ast.unparse(origin)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    line = f" (line {origin.lineno})" if origin is not node else ""
    value = what if f"`{shown}`" in what else f"{what} `{shown}`"
    message = f"{value}{line} goes into {where}: the prompt changes on every call"
    if tokens:
        message += f", so the {tokens:,} tokens of fixed text after it are never cached"
    minimum = ctx.pricing.min_cacheable or 0 if ctx.pricing else 0
    saving = ctx.monthly_cache_saving(tokens) if tokens >= max(minimum, 1) else None
    return Finding(
        INFO,
        message,
        "Keep the system prompt and first messages fixed; pass per-call values (time, ids, "
        "user fields) in the last user message instead.",
        start,
        max(start + 1, end),
        tokens=tokens or None,
        monthly_cost=saving,
    )


def _offset(text: str, line: int, column: int) -> int:
    """ast positions (1-based line, UTF-8 byte column) as a character offset."""
    lines = text.split("\n")
    before = sum(len(each) + 1 for each in lines[: line - 1])
    current = lines[line - 1] if line - 1 < len(lines) else ""
    return before + len(current.encode()[:column].decode(errors="ignore"))


RULE = Rule(INFO, check)
