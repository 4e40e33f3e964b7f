"""ruff runs with the suite: lint and format must be clean."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    return subprocess.run([ruff, *args], cwd=REPO, capture_output=True, text=True)


def test_ruff_check():
    result = _ruff("check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = _ruff("format", "--check", "src", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
