"""`Frozen`: the methods of @dataclass(frozen=True), written once for the value classes that
every quick command imports.

A frozen dataclass compiles five methods (__init__, __repr__, __eq__, __hash__, __setattr__ and
__delattr__) from source at import: about 3.6M instructions a class, a tenth of the start-up
budget of `tokcli pricing show` for a handful of classes (issue 17). These classes stay
dataclasses (`dataclasses.fields`, `replace` and `asdict` work) declared with
`@dataclass(init=False, repr=False, eq=False)` over this base, and write their own __init__:

    @dataclass(init=False, repr=False, eq=False)
    class Line(Frozen):
        name: str
        cost: Decimal = ZERO

        def __init__(self, name: str, cost: Decimal = ZERO) -> None:
            self.__dict__.update(name=name, cost=cost)

`Record` is the same for the mutable ones (@dataclass() with its default eq: equal by fields,
unhashable, fields assignable); their __init__ assigns the fields as usual.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any


class Frozen:
    """Immutable value object: equal and hashed by its fields, as dataclass(frozen=True)."""

    __slots__ = ()

    def _values(self) -> tuple[object, ...]:
        state = self.__dict__
        return tuple(state[name] for name in self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frozen) and other.__class__ is self.__class__:
            return self._values() == other._values()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


class Record:
    """Mutable value object: equal by its fields and unhashable, as @dataclass() (eq=True)."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # as a dataclass with eq and not frozen

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __repr__(self) -> str:
        names = self.__dataclass_fields__  # type: ignore[attr-defined]
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__qualname__}({fields})"
