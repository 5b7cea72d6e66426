"""An instruction's kwargs, checked once against what its id takes, then read with their types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RELATIONS = ("less than", "at least")


@dataclass(frozen=True)
class Args:
    values: Mapping[str, object]

    def count(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int)
        return value

    def text(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def texts(self, name: str) -> list[str]:
        value = self.values[name]
        assert isinstance(value, list)
        return [str(v) for v in value]

    def less_than(self, name: str = "relation") -> bool:
        return self.text(name) == RELATIONS[0]


def compare(count: int, limit: int, less_than: bool) -> bool:
    """IFEval's two relations: "less than" is strict, "at least" includes the limit."""
    return count < limit if less_than else count >= limit
