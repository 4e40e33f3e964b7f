"""Unknown model ids in a run over many inputs: one warning per id, never a silent $0.

Used by `estimate` over a folder; importers and audit can use it the same way:

    unknown = UnknownModels()
    model = registry.find(name)          # None when unknown
    if model is None:
        unknown.add(name, registry.suggest(name), where="file.jsonl:12")
        continue                          # the rest of the run goes on
    ...
    for line in unknown.warnings():
        rt.warn(line)
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UnknownModel:
    name: str
    closest: list[str]
    first_seen: str | None
    count: int = 0


@dataclass
class UnknownModels:
    seen: dict[str, UnknownModel] = field(default_factory=dict)

    def add(self, name: str, closest: list[str], where: str | None = None) -> None:
        key = name.strip().lower()
        entry = self.seen.setdefault(key, UnknownModel(name, list(closest), where))
        entry.count += 1

    def __bool__(self) -> bool:
        return bool(self.seen)

    def warnings(self) -> list[str]:
        lines = []
        for entry in self.seen.values():
            where = f", first at {entry.first_seen}" if entry.first_seen else ""
            closest = f"; closest known: {', '.join(entry.closest)}" if entry.closest else ""
            plural = "s" if entry.count != 1 else ""
            lines.append(
                f"unknown model {entry.name!r} in {entry.count} input{plural}{where}: "
                f"not priced, left out{closest}"
            )
        return lines
