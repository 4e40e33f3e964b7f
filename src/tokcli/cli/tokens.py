"""`tokcli tokens`: count the tokens of a file or stdin."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tokcli.cli.common import FormatOpt, PricingOpt, command_app, runtime
from tokcli.errors import InputError
from tokcli.render import Column, Output

app = command_app(no_args_is_help=False)


def read_text(source: str) -> tuple[str, str]:
    """(text, label) from a path or `-` for stdin; UTF-8 with or without BOM."""
    if source == "-":
        data = sys.stdin.buffer.read()
        label = "<stdin>"
    else:
        path = Path(source)
        label = str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError("no such file", path=label) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", path=label) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=label) from None
    try:
        return data.decode("utf-8-sig"), label
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=label, line=line) from None


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
