"""Run the rules over files: discover, read, scan, check, locate, suppress, apply config."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.audit.costing import Pricing, TokenCounter, requests_per_month
from tokcli.audit.findings import Finding, Severity
from tokcli.audit.scan import scan
from tokcli.audit.settings import AuditSettings, path_matches
from tokcli.audit.suppression import parse_suppressions
from tokcli.audit.template import NotAPrompt, Template, load_template
from tokcli.errors import InputError, TokcliError


@dataclass
class FileReport:
    path: str
    model: str | None
    monthly_requests: int | None
    token_method: str | None
    exact: bool


@dataclass
class AuditResult:
    findings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    suppressed: int = 0
    warnings: list[str] = field(default_factory=list)


def display_path(path: Path, cwd: Path) -> str:
    """The path as findings show it: relative to the working folder where it is inside it."""
    if not path.is_absolute() and ".." not in path.parts:
        return path.as_posix()  # already relative to cwd (Path drops "./")
    try:
        return path.resolve().relative_to(_resolved(cwd)).as_posix()
    except ValueError:
        return path.as_posix()


@functools.lru_cache(maxsize=8)
def _resolved(folder: Path) -> Path:
    return folder.resolve()


def discover(paths: Iterable[str], exclude: list[str], cwd: Path) -> list[tuple[Path, bool]]:
    """(file, named explicitly?) for files, folders and globs, in the order `estimate` uses
    (tokcli.prompts.iter_prompt_files), then audit's own excludes (per-file-ignores syntax)."""
    from tokcli.prompts import PROMPT_SUFFIXES, iter_prompt_files

    named = {Path(p) for p in paths}
    suffixes = PROMPT_SUFFIXES | {".py"}  # Python that builds prompts: code-prompt rule
    return [
        (path, path in named)
        for path in iter_prompt_files(paths, suffixes=suffixes)
        if not any(path_matches(display_path(path, cwd), pattern) for pattern in exclude)
    ]


PARALLEL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves
MAX_WORKERS = 4


@dataclass
class _FileOutcome:
    findings: list[Finding]
    report: FileReport
    suppressed: list[Finding]
    warnings: list[str]
    blocks: list[tuple[str, str, int]]  # large example blocks, for repeats across files


# What the worker processes need; set before they fork, so nothing large is pickled.
_JOB: dict = {}


def run_audit(
    paths: Iterable[str],
    settings: AuditSettings,
    *,
    registry,
    today: dt.date,
    cwd: Path,
    jobs: int | None = None,
) -> AuditResult:
    """Audit every file. `jobs`: worker processes (None: one per CPU, up to 4, for large runs;
    1: in this process). Results are the same either way, in file order."""
    from tokcli.audit.rules.large_inline_examples import resolve_repeats

    files = discover(paths, settings.exclude, cwd)
    _JOB.update(settings=settings, registry=registry, today=today, cwd=cwd)
    outcomes = _run_chunks(files, _workers(jobs, len(files)))
    result = AuditResult()
    blocks = [block for outcome in outcomes for block in outcome.blocks]
    candidates = [f for outcome in outcomes for f in outcome.findings + outcome.suppressed]
    kept = {id(f) for f in resolve_repeats(candidates, blocks)}
    seen_models: set[str] = set()
    for outcome in outcomes:
        outcome.findings = [f for f in outcome.findings if _first_of_model(f, seen_models)]
        result.files.append(outcome.report)
        result.findings += [f for f in outcome.findings if id(f) in kept]
        result.suppressed += sum(1 for f in outcome.suppressed if id(f) in kept)
        result.warnings += outcome.warnings
    return result


def _first_of_model(finding: Finding, seen: set[str]) -> bool:
    """One unknown-model warning per model id in a run, at its first file."""
    model = finding.extra.get("model")
    if finding.rule.code != "TC002" or model is None:
        return True
    if model in seen:
        return False
    seen.add(model)
    return True


def _workers(jobs: int | None, files: int) -> int:
    import multiprocessing

    if jobs is not None:
        return max(1, jobs)
    if files < PARALLEL_MIN_FILES or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def _run_chunks(files: list[tuple[Path, bool]], workers: int) -> list[_FileOutcome]:
    if workers <= 1 or len(files) < 2:
        return _audit_chunk(files)
    import multiprocessing

    from tokcli.tokens import get_encoding

    get_encoding("o200k_base")  # load the BPE once, before forking, not once per worker
    size = max(20, len(files) // (workers * 8))
    chunks = [files[i : i + size] for i in range(0, len(files), size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [outcome for chunk in pool.map(_audit_chunk, chunks) for outcome in chunk]


def _audit_chunk(files: list[tuple[Path, bool]]) -> list[_FileOutcome]:
    settings, cwd = _JOB["settings"], _JOB["cwd"]
    outcomes = []
    for path, explicit in files:
        label = display_path(path, cwd)
        try:
            outcome = _audit_file(path, label)
        except NotAPrompt:
            if not explicit or path.suffix.lower() == ".py":
                continue  # data files found by a walk, Python that calls no LLM client
            error = InputError("holds no chat messages (role/content)", path=label)
            outcome = _unreadable_outcome(path, label, error)
        except TokcliError as exc:  # one bad file is reported, the run goes on
            outcome = _unreadable_outcome(path, label, exc)
        except RecursionError:
            error = InputError("nested too deeply to read", path=label)
            outcome = _unreadable_outcome(path, label, error)
        enabled = settings.enabled_for(label)
        outcome.findings = [f for f in outcome.findings if f.rule.code in enabled]
        outcomes.append(outcome)
    return outcomes


def _audit_file(path: Path, label: str) -> _FileOutcome:
    from tokcli.audit.rules import RULES

    settings, registry, today = (_JOB[k] for k in ("settings", "registry", "today"))
    template = load_template(path, label)
    enabled = settings.enabled_for(label)
    rules = [rule for rule in RULES if rule.info.code in enabled]
    shared: dict = {}
    findings, report = audit_template(template, rules, settings, registry, today, shared)
    kept, suppressed, warnings = _split_suppressed(template, findings)
    blocks = shared.get("large-inline-examples.blocks", [])
    return _FileOutcome(kept, report, suppressed, warnings, blocks)


def _unreadable_outcome(path: Path, label: str, error: TokcliError) -> _FileOutcome:
    from tokcli.audit.rules.diagnostics import unreadable

    message = str(error)
    line = column = None
    if isinstance(error, InputError):
        line, column = error.line, error.column
        prefix = f"{label}:"  # the finding carries the path and line itself
        if message.startswith(prefix):
            message = message[len(prefix) :].lstrip("0123456789:").strip()
    finding = unreadable(message, line, column)
    _place(finding, label, _line_of(path, finding.extra.get("at", (1, 1))[0]))
    report = FileReport(label, None, None, None, True)
    return _FileOutcome([finding], report, [], [], [])


def _line_of(path: Path, number: int) -> str:
    """The file's line for the excerpt, best effort (the file may be unreadable)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for index, text in enumerate(handle, start=1):
                if index == number:
                    return text.rstrip("\r\n")
                if index > number:
                    break
    except OSError:
        pass
    return ""


def _place(finding: Finding, path: str, source_line: str) -> None:
    """Position a diagnostic (it points at a file line, not at prompt text)."""
    finding.path = path
    finding.line, finding.column = finding.extra.pop("at", (1, 1))
    finding.end_line, finding.end_column = finding.line, finding.column + 1
    finding.source_line = source_line


def audit_template(template, rules, settings, registry, today, shared):
    from tokcli.audit.rules import Context

    diagnostics: list[Finding] = []
    pricing = _pricing(template, settings, registry, today, diagnostics)
    model = pricing.model if pricing else None
    counter = TokenCounter(model.id if model else None, model.provider if model else None)
    layout = scan(template.prompt, template.syntax)
    ctx = Context(template, layout, counter, settings, pricing, registry, shared)
    from tokcli.audit.rules.code_prompt import INFO as CODE_PROMPT

    if template.kind == "python":  # only the rule that reads code looks at Python files
        rules = [rule for rule in rules if rule.info.code == CODE_PROMPT.code]
    else:
        rules = [rule for rule in rules if rule.info.code != CODE_PROMPT.code]
    findings = []
    for diagnostic in diagnostics:
        line = diagnostic.extra.get("at", (1, 1))[0]
        lines = template.raw_lines
        _place(diagnostic, template.path, lines[line - 1] if 0 < line <= len(lines) else "")
        findings.append(diagnostic)
    if not template.prompt.strip():
        rules = []  # an empty template sends nothing: nothing to lint
    for rule in rules:
        for finding in rule.check(ctx):
            _locate(template, finding)
            findings.append(finding)
    for finding in findings:
        if finding.rule.code in settings.severity:
            finding.severity = settings.severity[finding.rule.code]
        elif finding.severity is None:
            finding.severity = finding.rule.severity
        finding.severity = _severity_by_money(finding, settings)
    findings.sort(key=lambda f: (f.line, f.column, f.rule.code))
    report = FileReport(
        template.path,
        model.id if model else None,
        pricing.monthly_requests if pricing else None,
        counter.method,
        counter.exact,
    )
    return findings, report


def _split_suppressed(template: Template, findings: list[Finding]):
    """(kept, suppressed, warnings) by the template's `tokcli: ignore` comments."""
    suppressions = parse_suppressions(template.raw)
    warnings = [
        f"{template.path}:{line}: tokcli: ignore names unknown rule {selector!r}"
        for line, selector in suppressions.unknown
    ]
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    for finding in findings:
        covered = suppressions.covers(finding.line, finding.rule.code, finding.rule.name)
        (suppressed if covered else kept).append(finding)
    return kept, suppressed, warnings


def _locate(template: Template, finding: Finding) -> None:
    finding.path = template.path
    finding.line, finding.column = template.position(finding.start)
    end = finding.end if finding.end > finding.start else finding.start
    finding.end_line, finding.end_column = template.position(end)
    lines = template.raw_lines
    finding.source_line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    if finding.end <= finding.start or finding.end_line != finding.line:
        # Mark to the end of the first line (SARIF end column is exclusive).
        finding.end_line = finding.line
        finding.end_column = max(len(finding.source_line) + 1, finding.column + 1)


def front_matter_settings(template: Template):
    """Model, max_tokens and volume from the front matter, read the way `estimate` reads them
    (tokcli.prompts.prompt_settings knows the Prompty, Dotprompt and tokcli layouts)."""
    from tokcli.prompts import PromptSettings, PromptSource, prompt_settings

    if not template.front_matter:
        return PromptSettings()
    source = PromptSource(
        path=Path(template.path),
        kind=template.kind,
        front_matter=template.front_matter,
        body=template.prompt,
        body_line=1,
        key_lines=template.front_matter_lines,
    )
    return prompt_settings(source)


def _severity_by_money(finding: Finding, settings: AuditSettings) -> Severity:
    """`error` only when fixing the finding saves at least `error-saving` dollars a month at the
    stated volume; a finding that saves nothing (or cannot be priced) is at most a warning.
    Diagnostics and severities set in [audit.severity] are left as they are."""
    from tokcli.audit.rules.diagnostics import DIAGNOSTIC_CODES

    if finding.level is not Severity.error or finding.rule.code in DIAGNOSTIC_CODES:
        return finding.level
    if finding.rule.code in settings.severity:
        return finding.level
    saving = finding.monthly_cost
    if saving is None or finding.overlaps or saving < settings.error_saving:
        return Severity.warning
    return Severity.error


def _pricing(template: Template, settings: AuditSettings, registry, today, diagnostics):
    front = front_matter_settings(template)
    if front.max_tokens is not None:
        template.max_tokens = front.max_tokens
    name, source_line = settings.model, None
    if name is None and front.model is not None:
        name, source_line = front.model, template.front_matter_lines.get("model", 1)
    name = name or settings.default_model
    if name is None:
        return None
    model = _find_model(registry, name)
    if model is None and _unresolved_reference(name):
        return None  # `${env:DEPLOYMENT}`, `<your-deployment>`: no model to name, nothing to say
    if model is None:  # a model named in the file: say so once, audit the file unpriced
        from tokcli.audit.rules.diagnostics import unknown_model

        diagnostics.append(unknown_model(name, registry.suggest(name), source_line))
        return None
    requests, per = settings.requests, settings.per
    if requests is None and front.requests is not None:
        requests, per = front.requests, front.per or "month"
    if requests is None:
        requests, per = settings.default_requests, settings.default_per
    return Pricing(model, today, requests_per_month(requests, per))


def _unresolved_reference(name: str) -> bool:
    return "${" in name or (name.startswith("<") and name.endswith(">"))


def _find_model(registry, name: str):
    found = registry.find(name)
    if found is None and "/" in name:  # Dotprompt style: googleai/gemini-2.5-flash
        found = registry.find(name.split("/", 1)[1])
    return found


def failed(findings: list[Finding], fail_on: Severity | None) -> list[Finding]:
    if fail_on is None:
        return []
    return [f for f in findings if f.level >= fail_on]
