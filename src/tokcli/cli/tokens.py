"""`tokcli tokens`: count the tokens of a file or stdin."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, PricingOpt, command_app, complete_model, runtime
from tokcli.errors import InputError
from tokcli.render import Column, Output

app = command_app(no_args_is_help=False)


def count_source(source: str, model_id: str | None, provider: str | None):
    """Count a path or `-` (stdin) chunk by chunk, so memory stays flat in the file's size."""
    from tokcli.tokens import count_tokens_in_chunks, read_text_chunks

    if source == "-":
        return count_tokens_in_chunks(
            read_text_chunks(sys.stdin.buffer, "<stdin>"), model_id, provider
        )
    try:
        with open(source, "rb") as stream:
            return count_tokens_in_chunks(read_text_chunks(stream, source), model_id, provider)
    except FileNotFoundError:
        raise InputError("no such file", path=source) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=source) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=source) from None


@app.command()
def tokens(
    source: Annotated[str, typer.Argument(help="File to count, or - for stdin.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Count as this model would (default: OpenAI o200k_base).",
            autocompletion=complete_model,
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
    rt = runtime(pricing=pricing)
    model_id = provider = None
    if model is not None:
        found = rt.registry.get(model)
        model_id, provider = found.id, found.provider
    count = count_source(source, model_id, provider)
    label = "<stdin>" if source == "-" else source
    data = {"version": 1, **count.to_dict()}
    row = {"source": label, **data}
    columns = [
        Column("source", "source"),
        Column("model", "model"),
        Column("tokens", "tokens", "int"),
        Column("exact", "exact", "bool"),
        Column("method", "method"),
    ]
    rt.emit(Output(data=data, rows=[row], columns=columns), rt.format(fmt))
