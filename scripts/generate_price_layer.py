"""Regenerate pricing/generated/litellm.json from the pinned LiteLLM price file.

    python scripts/generate_price_layer.py            # write the layer
    python scripts/generate_price_layer.py --check    # exit 1 if the shipped layer differs

tests/test_price_layers.py runs the same function and compares with the shipped file.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUT = ROOT / "third_party" / "litellm" / "model_prices_and_context_window.json"
OUTPUT = ROOT / "pricing" / "generated" / "litellm.json"
PACKAGE = "litellm 1.110.2 (PyPI wheel, model_prices_and_context_window_backup.json)"
SOURCE = "LiteLLM 1.110.2 model_prices_and_context_window.json (MIT)"
LICENSE_NOTE = "MIT, Copyright (c) 2023 Berri AI; see third_party/litellm/LICENSE"


def generate() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from tokcli.pricing.generate import build_layer, dump_layer, read_litellm_text

    data = read_litellm_text(INPUT.read_text(encoding="utf-8"))
    layer = build_layer(data, source=SOURCE, package=PACKAGE, license_note=LICENSE_NOTE)
    return dump_layer(layer)


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        same = OUTPUT.is_file() and OUTPUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUTPUT} differs: run this script", file=sys.stderr)
        return 0 if same else 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
