"""Where in the config files a pricing setting is written: one scanner for plain keys, tables
and model aliases (pricing/aliases.py; the two scanners it replaced are folded into one)."""

from pathlib import Path

from tokcli.pricing.aliases import _locate, _locate_key

CONFIG = """\
[pricing]
overrides = "mine.yaml"

[pricing.aliases]
Support-GPT = "gpt-4o"
"batch model" = "gpt-4o-mini"
"""


def test_each_setting_is_found_on_its_line(tmp_path: Path):
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text("[pricing]\noverrides = 'old.yaml'\n")
    second.write_text(CONFIG)
    files = [first, second]
    assert _locate_key(files, "pricing", "overrides") == (str(second), 2)  # the last file wins
    assert _locate(files, None) == (str(second), 4)  # the [pricing.aliases] header
    assert _locate(files, "support-gpt") == (str(second), 5)  # aliases compare without case
    assert _locate(files, "batch model") == (str(second), 6)
    assert _locate_key(files, "pricing", "support-gpt") == (str(second), None)  # not in [pricing]


def test_a_table_for_the_key_is_found_by_its_header(tmp_path: Path):
    path = tmp_path / "tokcli.toml"
    path.write_text("[pricing]\n\n[pricing.overrides]\nfile = 'x'\n")
    assert _locate_key([path], "pricing", "overrides") == (str(path), 3)
    assert _locate_key([], "pricing", "overrides") == (None, None)
