"""`tokcli tokens`: exact offline counts for OpenAI models, stated approximations otherwise."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest
import tiktoken

from tokcli.tokens import ENCODING_FILES, count_tokens


def _text(size: int, seed: int = 7) -> str:
    """Deterministic mixed text: words, digits, punctuation, accents, CJK, emoji, code."""
    rng = random.Random(seed)
    pieces = ["the", "Tokenizer", "ünïcödé", "数据", "🙂", "if (x) { return y; }", "\n", "  ",
              "1234567", "'s", "HTTP/1.1", "naïve", "—", "\t", "über", "<b>", "x=1"]  # fmt: skip
    out, length = [], 0
    while length < size:
        word = rng.choice(pieces)
        out.append(word + (" " if rng.random() < 0.7 else ""))
        length += len(out[-1])
    return "".join(out)


@pytest.fixture(scope="module")
def o200k():
    from tokcli.tokens import get_encoding

    return get_encoding("o200k_base")


def test_equals_tiktoken_on_a_multi_megabyte_text(tokcli_process, tmp_path, o200k):
    text = _text(3_000_000)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    result = tokcli_process("tokens", path, "-m", "gpt-5", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json() == {"version": 1, "tokens": len(o200k.encode_ordinary(text)),
                             "exact": True, "method": "tiktoken o200k_base",
                             "model": "gpt-5"}  # fmt: skip
    assert result.json()["tokens"] > 500_000


def test_special_token_strings_count_as_ordinary_text(cli, tmp_path, o200k):
    text = "<|endoftext|>" * 500 + " hello <|endofprompt|> <|fim_prefix|>" * 200
    path = tmp_path / "special.txt"
    path.write_text(text)
    result = cli("tokens", path, "-m", "gpt-5.5", "-f", "json")
    assert result.exit_code == 0
    assert result.json()["tokens"] == len(o200k.encode(text, disallowed_special=()))
    # Not the special-token reading: that would be one token per <|endoftext|>.
    assert result.json()["tokens"] > 500 * 2


def test_cl100k_models_use_cl100k(cli, tmp_path):
    from tokcli.tokens import get_encoding

    text = _text(20_000, seed=3)
    (tmp_path / "t.txt").write_text(text)
    data = cli("tokens", tmp_path / "t.txt", "-m", "gpt-4.1", "-f", "json").json()
    assert data["method"] == "tiktoken o200k_base"
    path = tmp_path / "t.txt"
    assert count_tokens(text, "gpt-4", "openai").tokens == len(
        get_encoding("cl100k_base").encode_ordinary(text)
    )
    assert path.exists()


def test_other_providers_are_approximate_and_say_so(cli, tmp_path):
    (tmp_path / "p.txt").write_text("Summarise the following report in three bullets.")
    data = cli("tokens", tmp_path / "p.txt", "-m", "claude-sonnet-4-6", "-f", "json").json()
    assert data["exact"] is False
    assert data["method"].startswith("approximation")
    assert data["model"] == "claude-sonnet-4-6"
    table = cli("tokens", tmp_path / "p.txt", "-m", "claude-sonnet-4-6").stdout
    assert "approximation" in table and "no" in table


def test_opus_4_7_approximation_is_scaled_and_stated(tmp_path):
    text = _text(10_000, seed=5)
    base = count_tokens(text, None).tokens
    scaled = count_tokens(text, "claude-opus-4-7", "anthropic")
    assert scaled.tokens == -(-base * 130 // 100)  # ceil(base x 1.30)
    assert "x 1.30" in scaled.method and scaled.exact is False


def test_stdin(cli):
    result = cli("tokens", "-", "-f", "json", input="hello world")
    assert result.json() == {"version": 1, "tokens": 2, "exact": True,
                             "method": "tiktoken o200k_base",
                             "model": None}  # fmt: skip


def test_missing_file_and_unknown_model_exit_2(cli, tmp_path):
    missing = cli("tokens", tmp_path / "nope.txt")
    assert missing.exit_code == 2 and "nope.txt: no such file" in missing.stderr
    (tmp_path / "p.txt").write_text("x")
    unknown = cli("tokens", tmp_path / "p.txt", "-m", "gpt-99")
    assert unknown.exit_code == 2 and "unknown model 'gpt-99'" in unknown.stderr


def test_binary_input_exit_2_with_line(cli, tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"line one\nline two \xff\xfe\n")
    result = cli("tokens", path)
    assert result.exit_code == 2
    assert f"{path}:2: not UTF-8" in result.stderr


def test_works_offline_from_an_empty_tiktoken_cache(tokcli_process, tmp_path):
    cache = tmp_path / "tiktoken-cache"
    (tmp_path / "p.txt").write_text("offline counting works")
    env = {"TIKTOKEN_CACHE_DIR": str(cache),
           # Any download attempt would fail: nothing listens on port 9.
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}  # fmt: skip
    result = tokcli_process("tokens", tmp_path / "p.txt", "-f", "json", env=env)
    assert result.exit_code == 0, result.stderr
    assert result.json()["tokens"] == 3  # "offline", " counting", " works"
    url, expected = ENCODING_FILES["o200k_base"]
    cached = cache / hashlib.sha1(url.encode()).hexdigest()
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == expected


def test_bundled_encodings_match_tiktoken_expected_hashes():
    import tiktoken_ext.openai_public as public

    from tokcli.tokens import _bundled_encoding

    source = Path(public.__file__).read_text()
    for name, (url, expected) in ENCODING_FILES.items():
        assert url in source and expected in source  # the same file tiktoken would download
        assert hashlib.sha256(_bundled_encoding(name)).hexdigest() == expected
    assert tiktoken.get_encoding("o200k_base").name == "o200k_base"
