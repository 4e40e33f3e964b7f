"""`tokcli tokens` counts a file chunk by chunk: the counts equal whole-text encoding, and memory
stays flat in the file's size."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys

import pytest

from tokcli.errors import InputError
from tokcli.tokens import count_tokens_in_chunks, get_encoding, read_text_chunks, safe_cut

# Characters chosen to sit on every side of the pre-tokeniser's rules: letter runs of each case
# (and titlecase, combining marks), digits (runs of 1-3), contractions, punctuation runs that
# swallow newlines, CR/LF runs, spaces and tabs before newlines, CJK and emoji.
ALPHABET = ["a", "b", "Z", "é", "ǅ", "\u0301", "数", "🙂", " ", "  ", "\t", "\n", "\r\n", "\n\n",
            "1", "23", "4567", "'s", "'T", "!", "...", "/", "-", "x", "<|endoftext|>"]  # fmt: skip


def straddling_texts(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 300)))


@pytest.mark.parametrize(("model", "encoding"), [("gpt-5", "o200k_base"), ("gpt-4", "cl100k_base")])
def test_chunked_counts_equal_whole_text_encoding(model, encoding):
    whole = get_encoding(encoding)
    rng = random.Random(11)
    for text in straddling_texts(1500, seed=hash(encoding) & 0xFFFF):
        size = rng.randint(1, 17)  # tiny chunks: every boundary lands somewhere awkward
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        counted = count_tokens_in_chunks(chunks, model, "openai").tokens
        assert counted == len(whole.encode_ordinary(text)), repr(text)


def test_a_cut_is_only_made_where_the_pre_tokeniser_splits():
    assert safe_cut("hello world again") == 11  # before " again": a space between two letters
    assert safe_cut("line one\nline two") == 9  # after a newline followed by a letter
    assert safe_cut("x\n\n  1234") == 0  # newline followed by spaces, digits: no safe cut
    assert safe_cut("aaaaaaaaaa") == 0  # one letter run: it may still grow


def test_bytes_are_decoded_across_chunk_boundaries_and_a_bom_is_dropped():
    text = "naïve 数据 🙂 über\n" * 50
    data = b"\xef\xbb\xbf" + text.encode()
    chunks = list(read_text_chunks(io.BytesIO(data), "t.txt", chunk_bytes=3))
    assert "".join(chunks) == text


def test_a_byte_that_is_not_utf8_names_its_line():
    data = b"one\ntwo\nthr\xffee\n"
    with pytest.raises(InputError) as error:
        list(read_text_chunks(io.BytesIO(data), "t.txt", chunk_bytes=4))
    assert error.value.line == 3


def _peak_rss_mb_counting(path) -> tuple[int, float]:
    """(tokens, peak RSS in MB) of `tokcli tokens PATH` in a fresh process."""
    script = (
        "import resource, subprocess, sys, json;"
        "p = subprocess.run([sys.executable, '-m', 'tokcli', 'tokens', sys.argv[1], '-m', 'gpt-5',"
        " '-f', 'json'], capture_output=True, text=True, check=True);"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024;"
        "print(json.dumps([json.loads(p.stdout)['tokens'], peak]))"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    tokens, peak = json.loads(out.stdout)
    return tokens, peak


def test_memory_is_flat_in_file_size(tmp_path):
    line = "The cost of tokens, über 数据 🙂 return x; 1234 it's HTTP/1.1\n"
    small, large = tmp_path / "small.txt", tmp_path / "large.txt"
    small.write_text(line * 40_000)  # ~2.6 MB
    large.write_text(line * 240_000)  # ~16 MB
    small_tokens, small_peak = _peak_rss_mb_counting(small)
    large_tokens, large_peak = _peak_rss_mb_counting(large)
    assert large_tokens == 6 * small_tokens
    # Holding the text and its token list would add well over 100 MB for 13 MB more text.
    assert large_peak - small_peak < 25, (small_peak, large_peak)
