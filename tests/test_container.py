"""The Dockerfile, checked offline (the suite never needs Docker): the image installs the wheel
built from this checkout, not a package of the same name from PyPI; it runs as a non-root user;
its entry point is `tokcli`; and a wheel built from exactly what the build stage copies (after
.dockerignore) carries the pricing registry and the console script (issue 12)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass

import pytest

from conftest import REPO

DOCKERFILE = REPO / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    args: str


def instructions(text: str) -> list[Instruction]:
    """Dockerfile instructions with continuation lines joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "a continuation line ends the file"
    found = []
    for line in joined:
        keyword, _, args = line.partition(" ")
        found.append(Instruction(keyword.upper(), args.strip()))
    return found


def stages(text: str) -> tuple[dict[str, str], list[list[Instruction]]]:
    """(ARG defaults declared before the first FROM, the instructions of each stage)."""
    args: dict[str, str] = {}
    split: list[list[Instruction]] = []
    for ins in instructions(text):
        if ins.keyword == "FROM":
            split.append([ins])
        elif split:
            split[-1].append(ins)
        elif ins.keyword == "ARG":
            name, _, default = ins.args.partition("=")
            args[name] = default
    return args, split


def base_image(from_args: str, args: dict[str, str]) -> str:
    image = from_args.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)


@pytest.fixture(scope="module")
def dockerfile():
    return stages(DOCKERFILE.read_text())


def test_final_stage_is_slim_python_running_tokcli_as_non_root(dockerfile):
    args, split = dockerfile
    final = split[-1]
    image = base_image(final[0].args, args)
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", image), image
    users = [i for i in final if i.keyword == "USER"]
    assert users, "the final stage never leaves root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0"), user
    entrypoints = [i for i in final if i.keyword == "ENTRYPOINT"]
    assert len(entrypoints) == 1 and json.loads(entrypoints[0].args) == ["tokcli"]
    # Nothing runs after the switch to the user as root again, and the user is created.
    assert final.index(users[-1]) < final.index(entrypoints[0])
    created = " ".join(i.args for i in final if i.keyword == "RUN")
    assert re.search(rf"useradd\b[^&]*--uid {user}\b", created) or f"useradd {user}" in created


def pip_installs(stage: list[Instruction]) -> list[str]:
    """The targets of every `pip install` in a stage's RUN lines (options dropped)."""
    targets = []
    for ins in stage:
        if ins.keyword != "RUN":
            continue
        for command in re.split(r"&&|;", ins.args):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"] or words[1:4] == ["-m", "pip", "install"]:
                start = words.index("install") + 1
                targets += [w for w in words[start:] if not w.startswith("-")]
    return targets


def test_the_image_installs_the_wheel_built_from_this_checkout(dockerfile):
    _, split = dockerfile
    build, final = split[0], split[-1]
    stage_name = build[0].args.split()[-1]
    assert " AS " in build[0].args.upper()
    assert any(i.keyword == "RUN" and "python -m build --wheel" in i.args for i in build)
    # The final stage copies the built wheel from the build stage and installs only that file:
    # never `pip install tokcli` (a PyPI name someone else could own), never the sources.
    copies = [i.args for i in final if i.keyword == "COPY"]
    assert any(c.startswith(f"--from={stage_name} /dist/") for c in copies), copies
    assert pip_installs(final) == ["/tmp/dist/tokcli-*.whl"]


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule, enough for these patterns: a pattern anchored at the context
    root excludes a path or any folder above it; `**/` matches any depth; `*` stays in a folder."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        for part in re.split(r"(\*\*/|\*|\?)", pattern.strip("/")):
            out += {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        return re.compile(out)

    compiled = [regex(p) for p in patterns]
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    return any(r.fullmatch(prefix) for r in compiled for prefix in prefixes)


def _copied_sources(build: list[Instruction]) -> list[str]:
    sources = []
    for ins in build:
        if ins.keyword == "COPY" and not ins.args.startswith("--from"):
            sources += ins.args.split()[:-1]
    return sources


def test_the_ignore_rules_match_as_docker_would():
    patterns = ["dist", "**/__pycache__", "*.db"]
    assert _ignored("dist/x.whl", patterns) and _ignored("src/a/__pycache__/m.pyc", patterns)
    assert _ignored("s.db", patterns) and not _ignored("src/s.db", patterns)
    assert not _ignored("src/tokcli/dist.py", patterns)


def test_a_wheel_built_from_the_docker_context_carries_the_pricing_registry(dockerfile, tmp_path):
    _, split = dockerfile
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = _copied_sources(split[0])
    assert {"pyproject.toml", "src", "pricing"} <= set(sources)
    # Recreate the build stage's /src: the copied paths, minus what .dockerignore keeps out.
    context = tmp_path / "src"
    for source in sources:
        origin = REPO / source
        files = (
            [origin] if origin.is_file() else sorted(p for p in origin.rglob("*") if p.is_file())
        )
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            if _ignored(relative, patterns):
                continue
            (context / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, context / relative)
    yamls = {p.name for p in (REPO / "pricing").glob("*.yaml")}
    assert yamls and not any(_ignored(f"pricing/{name}", patterns) for name in yamls)
    out = tmp_path / "dist"
    run = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
         str(context)],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    (wheel,) = out.glob("tokcli-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "tokcli = tokcli.cli.entry:main" in archive.read(entry_points).decode()
    assert {f"tokcli/_pricing/{name}" for name in yamls} <= names
    assert "tokcli/cli/entry.py" in names and not [n for n in names if "__pycache__" in n]


def test_the_sdist_carries_the_dockerfile_this_test_reads():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    included = project["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    assert {"Dockerfile", ".dockerignore"} <= set(included)
