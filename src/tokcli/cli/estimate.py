"""`tokcli estimate`: price prompts or a workload, compare with a baseline, gate CI on cost.

The work happens in `tokcli.estimate` (core); this module parses options, picks the mode and
renders. Modes: prompt (PATHS, -, --text, --input-tokens), workload (--workload FILE), and the
CI gate on top of prompt mode (--baseline / --base-ref, --fail-on-increase, --max-monthly-cost).
"""

# No `from __future__ import annotations` here: Typer reads the command signatures and would
# evaluate each string annotation twice (inspect.signature, then get_type_hints), a fifth of
# `estimate`'s start-up (issue 17). Written annotations are evaluated once, at import.

import datetime as dt
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, PricingOpt, command_app, complete_model, runtime
from tokcli.cli.flags import error_text, flag_of
from tokcli.errors import CheckFailed, TokcliError

app = command_app(
    "Price a prompt, template or workload; show what each lever saves; gate CI on cost.",
    no_args_is_help=False,
)

SERVICE_TIER_NAMES = ("standard", "batch", "flex", "priority")


@app.command()
def estimate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Prompt files, directories (walked), globs, or - for stdin.", show_default=False
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="MODEL",
            help="Model to price (repeatable: ranked cheapest first).",
            autocompletion=complete_model,
        ),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", metavar="TEXT", help="Price this prompt text.")
    ] = None,
    input_tokens: Annotated[
        int | None,
        typer.Option("--input-tokens", min=0, metavar="N", help="Price a call of this input size."),
    ] = None,
    output_tokens: Annotated[
        int | None,
        typer.Option(
            "--output-tokens",
            metavar="N",
            min=0,
            help="Output tokens per call (default: front matter max_tokens, else 500).",
        ),
    ] = None,
    reasoning_tokens: Annotated[
        int | None,
        typer.Option(
            "--reasoning-tokens", min=0, metavar="N", help="Hidden reasoning tokens per call."
        ),
    ] = None,
    reasoning_multiplier: Annotated[
        str | None,
        typer.Option(
            "--reasoning-multiplier",
            metavar="X",
            help="Reasoning tokens as a multiple of the output.",
        ),
    ] = None,
    cache_hit_rate: Annotated[
        str | None,
        typer.Option(
            "--cache-hit-rate",
            metavar="RATE",
            help="Share of calls (0-1) that read the stable prefix (text before the first "
            "template variable) from the prompt cache.",
        ),
    ] = None,
    cached_tokens: Annotated[
        int | None,
        typer.Option(
            "--cached-tokens",
            metavar="N",
            min=0,
            help="Cached prefix size in tokens (hit rate 1 unless --cache-hit-rate).",
        ),
    ] = None,
    cache_ttl: Annotated[
        str,
        typer.Option(
            "--cache-ttl", metavar="5m|1h", help="Cache write TTL priced on misses: 5m or 1h."
        ),
    ] = "5m",
    batch: Annotated[bool, typer.Option("--batch", help="Price at the batch tier.")] = False,
    tier: Annotated[
        str | None,
        typer.Option(
            "--tier", metavar="TIER", help="Service tier: standard, batch, flex, priority."
        ),
    ] = None,
    requests: Annotated[
        int | None, typer.Option("--requests", min=0, metavar="N", help="Calls per --per period.")
    ] = None,
    per: Annotated[
        str | None, typer.Option("--per", metavar="day|month", help="day or month.")
    ] = None,
    days_per_month: Annotated[
        int,
        typer.Option("--days-per-month", min=1, metavar="N", help="Days in a month for --per day."),
    ] = 30,
    vars_file: Annotated[
        Path | None,
        typer.Option(
            "--vars",
            metavar="FILE",
            help="YAML/JSON file of template variables (wins over samples).",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", metavar="GLOB", help="Glob of files or folders to skip."),
    ] = None,
    workload: Annotated[
        Path | None,
        typer.Option(
            "--workload", metavar="FILE", help="Workload YAML: model it, with its levers."
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", metavar="FILE", help="Earlier `--format json` output to compare with."
        ),
    ] = None,
    base_ref: Annotated[
        str | None,
        typer.Option("--base-ref", metavar="REF", help="Git ref to read the same paths from."),
    ] = None,
    fail_on_increase: Annotated[
        str | None,
        typer.Option(
            "--fail-on-increase", metavar="PCT", help="Exit 1 if cost rises more than PCT percent."
        ),
    ] = None,
    max_monthly_cost: Annotated[
        str | None,
        typer.Option(
            "--max-monthly-cost", metavar="USD", help="Exit 1 if the monthly cost is above USD."
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Price as of this date (YYYY-MM-DD), moment ('YYYY-MM-DD HH:MM') or time of day "
            "today (HH:MM), UTC. A time applies off-peak prices (DeepSeek); a date alone is "
            "priced at peak rates.",
            show_default=False,
        ),
    ] = None,
    max_rendered_chars: Annotated[
        int | None,
        typer.Option(
            "--max-rendered-chars",
            metavar="N",
            help="Most characters a template may render to (over TOKCLI_MAX_RENDERED_CHARS and "
            "config templates.max_rendered_chars; default 2,000,000).",
        ),
    ] = None,
    max_render_seconds: Annotated[
        str | None,
        typer.Option(
            "--max-render-seconds",
            metavar="S",
            help="Longest a template may take to render (over TOKCLI_MAX_RENDER_SECONDS and "
            "config templates.max_render_seconds; default 10).",
        ),
    ] = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """Price prompts (cost per call, per month) on one or more models, or a whole workload.

    \b
    Examples:
        tokcli estimate prompt.txt -m claude-sonnet-4-6 -m gpt-5-mini
        tokcli estimate --input-tokens 8000 --output-tokens 800 -m gpt-5 \
            --requests 50000 --per month
        tokcli estimate prompts/ -m gpt-5 --cache-hit-rate 0.8 --requests 2000 --per day
        tokcli estimate --workload examples/workloads/chatbot.yaml
        tokcli estimate prompts/ --base-ref origin/main --fail-on-increase 10 --format markdown

    Exit codes: 0 ok (over a folder, a prompt that cannot be rendered is reported on stderr
    and left out); 1 a --fail-on-increase / --max-monthly-cost check failed; 2 bad input or
    options, or no prompt could be priced.
    """
    from tokcli.estimate.call import parse_at

    rt = runtime(pricing=pricing)
    day = parse_at(at, rt.today())
    if workload is not None:
        _refuse_with_workload(paths, text, input_tokens, baseline, base_ref, model)
        return _workload_mode(rt, workload, _date_of(day), fmt)
    from tokcli.estimate.prompt import CallOptions

    options = CallOptions(
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
        reasoning_multiplier=_decimal(reasoning_multiplier, "--reasoning-multiplier"),
        cache_hit_rate=_decimal(cache_hit_rate, "--cache-hit-rate", high=Decimal(1)),
        cached_tokens=cached_tokens,
        cache_ttl=_cache_ttl(cache_ttl),
        service_tier=_service_tier(batch, tier),
    )
    if reasoning_tokens is not None and reasoning_multiplier is not None:
        raise TokcliError("give --reasoning-tokens or --reasoning-multiplier, not both")
    checks = _Checks(baseline, base_ref, fail_on_increase, max_monthly_cost)
    request = _prompt_request(rt, day, options, model, requests, per, days_per_month, vars_file)
    if input_tokens is None:  # no template is rendered for --input-tokens (start-up: no renderers)
        request.limits = _render_limits(rt, max_rendered_chars, max_render_seconds)
    sources = _Sources(paths or [], list(exclude or []), text, input_tokens)
    _prompt_mode(rt, request, sources, checks, fmt)


class _Sources:
    """Where the prompts come from: files, stdin, --text or --input-tokens."""

    def __init__(self, paths: list[str], exclude: list[str], text, input_tokens):
        self.paths, self.exclude, self.text, self.input_tokens = paths, exclude, text, input_tokens
        given = sum([bool(paths), text is not None, input_tokens is not None])
        if given > 1:
            raise TokcliError("give prompt PATHS, --text or --input-tokens, one of them")

    @property
    def empty(self) -> bool:
        return not self.paths and self.text is None and self.input_tokens is None


class _Checks:
    """The CI gate options, validated before any prompt is read."""

    def __init__(self, baseline, base_ref, fail_on_increase, max_monthly_cost):
        self.baseline, self.base_ref = baseline, base_ref
        self.fail_pct = _decimal(fail_on_increase, "--fail-on-increase")
        self.limit = _decimal(max_monthly_cost, "--max-monthly-cost")
        if baseline is not None and base_ref is not None:
            raise TokcliError("give --baseline or --base-ref, not both")
        if self.fail_pct is not None and not self.compares:
            raise TokcliError("--fail-on-increase needs --baseline FILE or --base-ref REF")

    @property
    def compares(self) -> bool:
        return self.baseline is not None or self.base_ref is not None

    @property
    def wanted(self) -> bool:
        return self.compares or self.limit is not None


def _prompt_mode(rt, request, sources, checks: _Checks, fmt) -> None:
    from tokcli.estimate.counting import TokenCounter
    from tokcli.estimate.report import prompt_output

    if sources.empty:
        sources.paths = [
            e["path"]
            for e in request.config_prompts
            if isinstance(e, dict) and isinstance(e.get("path"), str)
        ]
        if not sources.paths:
            raise TokcliError(
                "nothing to estimate: give prompt PATHS, -, --text, --input-tokens or --workload"
            )
    counter = TokenCounter()
    left_out: list = []
    not_prompts: list[Path] = []
    results = _estimate_head(rt, request, sources, counter, left_out, not_prompts)
    output = prompt_output(results, _assumptions(request), _notes(request, results))
    if left_out:
        from tokcli.estimate.run import left_out_dict

        output.data["left_out"] = [left_out_dict(e, flag_of) for e in left_out]
    if not_prompts:
        output.data["not_prompts"] = [str(p) for p in not_prompts]
    if checks.wanted:
        _gate(rt, request, sources, counter, output, results, checks, left_out)
    rt.emit(output, rt.format(fmt))
    failures = output.data.get("gate", {}).get("failures")
    if failures:
        raise CheckFailed("cost gate failed: " + "; ".join(failures))


def _estimate_head(rt, request, sources, counter, left_out: list, not_prompts: list) -> list[dict]:
    from tokcli.estimate import run

    registry = rt.registry
    if sources.input_tokens is not None:
        return run.estimate_tokens(sources.input_tokens, request, registry, counter)
    if sources.text is not None:
        return run.estimate_text(sources.text, "<text>", request, registry, counter)
    if sources.paths == ["-"]:
        data = sys.stdin.read()
        return run.estimate_text(data, "<stdin>", request, registry, counter, path="-")
    if "-" in sources.paths:
        raise TokcliError("- (stdin) cannot be mixed with other paths")
    from tokcli.pricing.unknown import UnknownModels

    files = run.local_files(sources.paths, sources.exclude)
    many = len(sources.paths) > 1 or any(Path(p).is_dir() for p in sources.paths)
    unknown = UnknownModels() if many else None
    # Over many prompts, one that cannot be read, parsed or rendered is reported and left out.
    skipped = left_out if many else None
    named = frozenset(Path(p) for p in sources.paths)
    results = run.estimate_files(
        files, request, registry, counter, unknown, skipped, named, not_prompts
    )
    if not_prompts:
        plural = "s hold" if len(not_prompts) != 1 else " holds"
        rt.warn(
            f"{len(not_prompts)} JSON/YAML file{plural} no prompt (settings such as a Semantic "
            f"Kernel config.json), skipped; first: {not_prompts[0]}"
        )
    for error in left_out:
        rt.warn(f"{error_text(error)}: not priced, left out")
    for line in unknown.warnings() if unknown else []:
        rt.warn(line)
    if many and not results and (unknown or left_out):
        reasons = unknown.warnings() if unknown else []
        raise TokcliError(
            f"no prompt could be priced ({len(left_out)} left out"
            + (": " + "; ".join(reasons) if reasons else "")
            + ")"
        )
    return results


def _gate(rt, request, sources, counter, output, results, checks: _Checks, left_out) -> None:
    """Compare with the baseline or git ref, apply the thresholds, add both to `output`.
    A prompt left out (it could not be rendered) fails the gate when the base priced it: a
    broken template must not pass as a cost decrease."""
    from tokcli.estimate import gate, run
    from tokcli.estimate.report import add_gate

    if checks.limit is not None and any("monthly_cost" not in r for r in results):
        missing = next(r for r in results if "monthly_cost" not in r)
        raise TokcliError(
            f"--max-monthly-cost needs a volume for every prompt; {missing['path'] or 'the call'} "
            "has none (give --requests/--per, front matter requests/per, or [[prompts]])"
        )
    comparison, label = None, None
    if checks.baseline is not None:
        before = gate.load_baseline(checks.baseline)
        comparison, label = gate.compare(before, results), str(checks.baseline)
    elif checks.base_ref is not None:
        if not sources.paths or "-" in sources.paths:
            raise TokcliError("--base-ref needs prompt PATHS (files in the git work tree)")
        from tokcli.estimate.gitbase import base_files

        files = base_files(checks.base_ref, sources.paths, sources.exclude, rt.cwd)
        before = run.estimate_files(files, request, rt.registry, counter, left_out=[])
        comparison, label = gate.compare(before, results), checks.base_ref
    verdict = gate.check(comparison, results, checks.fail_pct, checks.limit)
    if comparison is not None:
        verdict.failures.extend(gate.lost_prompts(comparison, left_out, flag_of))
    add_gate(output, comparison, verdict, label)


def _prompt_request(rt, day, options, model, requests, per, days_per_month, vars_file):
    from tokcli.estimate.run import PromptRequest
    from tokcli.estimate.volume import Volume

    if (requests is None) != (per is None):
        raise TokcliError("--requests and --per go together (e.g. --requests 1000 --per day)")
    volume = Volume(requests, per, days_per_month) if requests is not None else None
    prompts = rt.config.get("prompts", [])
    if not isinstance(prompts, list):
        raise TokcliError("config: prompts must be an array of tables ([[prompts]])")
    return PromptRequest(
        at=day,
        options=options,
        model_names=list(model or []),
        volume=volume,
        days_per_month=days_per_month,
        variables=_load_vars(vars_file),
        config_prompts=prompts,
    )


def _render_limits(rt, chars: int | None, seconds: str | None):
    from tokcli.prompts.renderers import RenderLimits

    return RenderLimits.resolve(
        chars_flag=chars, seconds_flag=seconds, environ=rt.environ, config=rt.config
    )


def _load_vars(path: Path | None) -> dict:
    if path is None:
        return {}
    from tokcli.prompts.source import parse_yaml_mapping, read_prompt_text

    # YAML is a superset of JSON: one parser serves both.
    data, _ = parse_yaml_mapping(path, read_prompt_text(path), first_line=1, what="--vars file")
    return data


def _assumptions(request) -> dict:
    options = request.options
    return {
        "at": request.at.isoformat(),
        "service_tier": options.service_tier,
        "output_tokens": options.output_tokens,
        "reasoning_tokens": options.reasoning_tokens,
        "reasoning_multiplier": _plain(options.reasoning_multiplier),
        "cache_hit_rate": _plain(options.cache_hit_rate),
        "cached_tokens": options.cached_tokens,
        "cache_ttl": options.cache_ttl,
        "volume": request.volume.describe() if request.volume else None,
        "days_per_month": request.days_per_month,
    }


def _notes(request, results: list[dict]) -> list[str]:
    options = request.options
    notes = [f"prices in force on {request.at.isoformat()}, tier {options.service_tier}, USD"]
    sources = sorted({r["output_tokens_from"] for r in results})
    notes.append("output tokens per call from " + ", ".join(sources))
    volumes = sorted({r["volume"] for r in results if r.get("volume")})
    notes.extend(f"volume: {v}" for v in volumes)
    if options.cache_hit_rate is not None or options.cached_tokens is not None:
        prefix = "stable prefix (text before the first template variable)"
        if options.cached_tokens is not None:
            prefix = f"given {options.cached_tokens:,}-token prefix"
        rate = _plain(options.cache_hit_rate) or "1"
        notes.append(
            f"prompt cache: hit rate {rate} on the {prefix}; "
            f"misses pay the {options.cache_ttl} cache write price"
        )
    approximate = sorted({r["token_method"] for r in results if not r["exact"]})
    notes.extend(
        f"approximate token counts: {m.removeprefix('approximation: ')}" for m in approximate
    )
    for result in results:
        notes.extend(n for n in result["notes"] if n not in notes)
    return notes


def _date_of(moment: dt.date | dt.datetime) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def _workload_mode(rt, path: Path, day, fmt) -> None:
    from tokcli.estimate.report import workload_output
    from tokcli.estimate.workload import load_workload

    workload = load_workload(path)
    rt.emit(workload_output(workload, rt.registry, day), rt.format(fmt))


def _refuse_with_workload(paths, text, input_tokens, baseline, base_ref, model) -> None:
    if paths or text is not None or input_tokens is not None or baseline or base_ref or model:
        raise TokcliError(
            "--workload takes its models and volumes from the file: "
            "give no prompt, -m, --baseline or --base-ref with it"
        )


def _decimal(value: str | None, option: str, high: Decimal | None = None) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise TokcliError(f"{option}: expected a number, got {value!r}") from None
    if not number.is_finite() or number < 0 or (high is not None and number > high):
        bound = f"between 0 and {high}" if high is not None else ">= 0"
        raise TokcliError(f"{option}: must be {bound}, got {value!r}")
    return number


def _cache_ttl(value: str) -> str:
    if value not in ("5m", "1h"):
        raise TokcliError(f"--cache-ttl: expected 5m or 1h, got {value!r}")
    return value


def _service_tier(batch: bool, tier: str | None) -> str:
    if tier is not None and tier not in SERVICE_TIER_NAMES:
        raise TokcliError(f"--tier: expected one of {', '.join(SERVICE_TIER_NAMES)}, got {tier!r}")
    if batch and tier not in (None, "batch"):
        raise TokcliError(f"--batch contradicts --tier {tier}")
    return "batch" if batch else (tier or "standard")


def _plain(value: Decimal | None) -> str | None:
    from tokcli.money import plain

    return plain(value)
