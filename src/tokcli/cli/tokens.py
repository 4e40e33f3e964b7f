"""`tokcli tokens`: count the tokens of a file or stdin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, PricingOpt, command_app, runtime
from tokcli.render import Column, Output
from tokcli.textio import decode_text, read_text_file

app = command_app(no_args_is_help=False)


def read_text(source: str) -> tuple[str, str]:
    """(text, label) from a path or `-` for stdin."""
    if source == "-":
        return decode_text(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    return read_text_file(Path(source)), source


@app.command()
def tokens(
    source: Annotated[str, typer.Argument(help="File to count, or - for stdin.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Count as this model would (default: OpenAI o200k_base)."
        ),
    ] = None,
    fmt: FormatOpt = None,
    pricing: PricingOpt = None,
):
    """Count tokens: exact for OpenAI models (tiktoken, offline), approximate otherwise.

    Special-token strings such as <|endoftext|> are counted as ordinary text.

    \b
    Example:
        tokcli tokens prompt.txt -m gpt-5
        cat prompt.txt | tokcli tokens - -m claude-sonnet-4-6 --format json
    """
    from tokcli.tokens import count_tokens

    rt = runtime(pricing=pricing)
    model_id = provider = None
    if model is not None:
        found = rt.registry.get(model)
        model_id, provider = found.id, found.provider
    text, label = read_text(source)
    count = count_tokens(text, model_id, provider)
    data = count.to_dict()
    row = {"source": label, **data}
    columns = [
        Column("source", "source"),
        Column("model", "model"),
        Column("tokens", "tokens", "int"),
        Column("exact", "exact", "bool"),
        Column("method", "method"),
    ]
    rt.emit(Output(data=data, rows=[row], columns=columns), rt.format(fmt))
