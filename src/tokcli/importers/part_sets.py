"""Which inputs are imported together: the parts of one multi-part billing export.

Large CUR 2.0, FOCUS and partitioned Azure exports arrive as several files for one billing
period (`part-00001.csv`, `part_0_0001.csv`, `my-export-00001.csv.gz`), sometimes with a
manifest naming them all. The parts are one export: imported as one set, they replace a period
together, and a set that is not known to be complete never replaces anything
(docs/concepts/billing-periods.md). This module only plans; `write.import_set` writes.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.errors import InputError

# Files a folder walk imports; anything else in the folder (README, scripts) is passed over.
DATA_SUFFIXES = frozenset({".csv", ".json", ".jsonl", ".ndjson", ".gz", ".zip"})
# `part-00001`, `part_0_0001` (Azure), `part00001`: a part counter anywhere in the name; or a
# CUR-style five-digit counter at the end of the name (`export-00001.csv.gz`).
_PART = re.compile(r"(?i)(?<![a-z])part[-_.]?((?:\d+[-_])*\d+)|-(\d{5})(?=\.)")
_MANIFEST = re.compile(r"(?i)manifest.*\.json$")


@dataclass
class PlannedSet:
    paths: list[Path]
    label: str
    complete: bool = True
    why_incomplete: str | None = None
    key: str | None = None  # --part-of KEY
    errors: list[InputError] = field(default_factory=list)


def part_stem(path: Path) -> tuple[str, int] | None:
    """(the name without its part counter, the counter) for a part file, else None. Of
    `part_0_0001` (Azure: partition, then file) the first number counts the parts."""
    match = _PART.search(path.name)
    if match is None:
        return None
    digits = match.group(1) or match.group(2)
    number = int(re.split(r"[-_]", digits)[0])
    return path.name[: match.start()] + "#" + path.name[match.end() :], number


def is_manifest(path: Path) -> bool:
    return bool(_MANIFEST.search(path.name))


def walk(folder: Path, seen: set[Path] | None = None) -> list[Path]:
    """The data files under `folder`, in name order; a symlink that leads back to a folder
    already walked is an error (a loop), not a silent nothing."""
    seen = set() if seen is None else seen
    real = _real(folder)
    if real in seen:
        raise InputError(
            "a symlink loop: this folder leads back to one already read", path=str(folder)
        )
    seen.add(real)
    found: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_symlink() and not child.exists():
            _real(child)  # raises for a loop; a dangling link is passed over below
            continue
        if child.is_dir():
            # A folder of Claude Code transcripts is one input, read by that format.
            found += [child] if transcript_folder(child) else walk(child, seen)
        elif child.suffix.lower() in DATA_SUFFIXES and not is_manifest(child):
            found.append(child)
    return found


def transcript_folder(folder: Path) -> bool:
    """A folder whose data files are all .jsonl: Claude Code transcripts (`~/.claude/projects`)."""
    data = [
        p
        for p in folder.rglob("*")
        if not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES and p.is_file()
    ]
    return bool(data) and all(p.suffix.lower() == ".jsonl" for p in data)


def _real(path: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except RuntimeError:  # Python < 3.13 reports a loop this way
        raise InputError("a symlink loop", path=str(path)) from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise InputError("a symlink loop", path=str(path)) from None
        return path


def check_exists(path: Path) -> None:
    if path.is_symlink():
        _real(path)
    if not path.exists():
        raise InputError("no such file or folder", path=str(path))


def group_parts(files: list[Path], part_of: str | None) -> list[PlannedSet]:
    """Files (one format) in sets: with `--part-of` all of them; otherwise the part files of one
    folder that share a name stem. Other files stay alone."""
    if part_of is not None and files:
        return [PlannedSet(files, _label(files), key=part_of)]
    _manifests_in.cache_clear()  # read manifests afresh on every run
    sets, files = _manifest_sets(files)
    groups: dict[tuple[Path, str], list[tuple[int, Path]]] = {}
    for path in files:
        part = part_stem(path)
        if part is None:
            sets.append(PlannedSet([path], str(path)))
        else:
            groups.setdefault((path.parent, part[0]), []).append((part[1], path))
    for (folder, stem), numbered in groups.items():
        numbered.sort()
        paths = [p for _, p in numbered]
        planned = PlannedSet(paths, _label(paths))
        planned.why_incomplete = _missing_parts(folder, stem, numbered)
        planned.complete = planned.why_incomplete is None
        sets.append(planned)
    return sets


def _manifest_sets(files: list[Path]) -> tuple[list[PlannedSet], list[Path]]:
    """The files a manifest names, as one set per manifest (complete when every file it names
    is there), and the files no manifest names. A manifest may sit beside its parts, in the
    folder above them (legacy CUR: `PERIOD/name-Manifest.json`, parts in `PERIOD/ASSEMBLY/`), or
    in the `metadata/` twin of their `data/` folder (CUR 2.0)."""
    members: dict[Path, list[Path]] = {}
    listed: dict[Path, list[str]] = {}
    alone: list[Path] = []
    for path in files:
        found = next(
            (
                (manifest, entries)
                for manifest, entries in _nearby_manifests(path.parent)
                if any(_names(entry, path, manifest.parent) for entry in entries)
            ),
            None,
        )
        if found is None:
            alone.append(path)
            continue
        members.setdefault(found[0], []).append(path)
        listed[found[0]] = found[1]
    sets = []
    for manifest, paths in members.items():
        paths.sort()
        missing = [
            entry.rsplit("/", 1)[-1]
            for entry in listed[manifest]
            if not any(_names(entry, path, manifest.parent) for path in paths)
        ]
        planned = PlannedSet(paths, _label(paths))
        if missing:
            planned.complete = False
            planned.why_incomplete = (
                f"{manifest.name} names parts not imported: {', '.join(missing[:3])}"
            )
        sets.append(planned)
    return sets, alone


def _names(entry: str, path: Path, manifest_folder: Path) -> bool:
    """Whether a manifest entry (a file name or an S3 key) is this file."""
    parts = entry.rstrip("/").split("/")
    if parts[-1] != path.name:
        return False
    return path.parent == manifest_folder or (len(parts) >= 2 and parts[-2] == path.parent.name)


def _nearby_manifests(folder: Path) -> list[tuple[Path, list[str]]]:
    places = [folder, folder.parent]
    if "data" in folder.parts:  # CUR 2.0: export/data/PERIOD/ and export/metadata/PERIOD/
        index = len(folder.parts) - 1 - folder.parts[::-1].index("data")
        places.append(Path(*folder.parts[:index], "metadata", *folder.parts[index + 1 :]))
    return [found for place in places for found in _manifests_in(place)]


@functools.lru_cache(maxsize=256)
def _manifests_in(folder: Path) -> list[tuple[Path, list[str]]]:
    """(manifest, the entries it lists) for the manifests in one folder: CUR 2.0 `dataFiles`,
    legacy CUR `reportKeys`, Azure exports `blobs[].blobName`."""
    found = []
    try:
        # The name first: the folder (or the one above it, a Downloads folder) may hold
        # thousands of entries, and is_file is a stat of each.
        candidates = sorted(p for p in folder.iterdir() if is_manifest(p) and p.is_file())
    except OSError:
        return []
    for manifest in candidates:
        try:
            document = json.loads(manifest.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(document, dict):
            continue
        entries = list(document.get("dataFiles") or []) + list(document.get("reportKeys") or [])
        entries += [b.get("blobName") for b in document.get("blobs") or [] if isinstance(b, dict)]
        entries = [str(e) for e in entries if isinstance(e, str) and e]
        if entries:
            found.append((manifest, entries))
    return found


def _label(paths: list[Path]) -> str:
    if len(paths) == 1:
        return str(paths[0])
    return f"{paths[0]} (+{len(paths) - 1} parts)"


def _missing_parts(folder: Path, stem: str, numbered: list[tuple[int, Path]]) -> str | None:
    """Why the parts may not be the whole export, or None when they are."""
    given = {p.name for _, p in numbered}
    on_disk = {
        p.name
        for p in folder.iterdir()
        if (s := part_stem(p)) is not None and s[0] == stem and p.is_file()
    }
    left_out = sorted(on_disk - given)
    if left_out:
        return f"other parts of this export are in the folder: {', '.join(left_out[:3])}"
    numbers = sorted({n for n, _ in numbered})
    first = numbers[0]
    if first not in (0, 1) or numbers != list(range(first, first + len(numbers))):
        return f"part numbers {numbers[:5]} do not run from 0 or 1 without a gap"
    return None
