"""Test doubles for `metalab.testing.check_source`: sources that each break one law.

They live in their own module, importable by name, because `check_source` rebuilds a
source in a fresh interpreter by importing its class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

import attrs

from metalab import ParamCase, ParamSource

if TYPE_CHECKING:
    from collections.abc import Mapping

    from metalab._sources.base import Raw


@attrs.frozen
class Counting(ParamSource):
    """``n`` cases ``{"i": i}``: obeys every law (the baseline the broken doubles change)."""

    manifest_type: ClassVar[str] = "Counting"

    n: Any

    @property
    def size(self) -> int:
        """``n``."""
        return int(self.n)

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter."""
        return ("i",)

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        return {"i": i}, ()

    def to_manifest_dict(self) -> dict[str, Any]:
        """``{"type": ..., "n": n}``."""
        return {"type": self.manifest_type, "n": self.n}

    @classmethod
    def from_manifest_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `to_manifest_dict`."""
        return cls(data["n"])


@attrs.frozen
class BadIteration(Counting):
    """Iteration repeats the first case where the last should be."""

    def __iter__(self) -> Any:
        """Every case but the last, then the first again."""
        return (self._case(i if i < self.size - 1 else 0) for i in range(self.size))


@attrs.frozen
class BadNegative(Counting):
    """Every negative index gives the first case."""

    def __getitem__(self, index: Any) -> Any:
        """Case ``index``, except that negative indices all give case 0."""
        if isinstance(index, int) and index < 0:
            return self._case(0)
        return super().__getitem__(index)


@attrs.frozen
class Wrapping(Counting):
    """Indices wrap around instead of raising IndexError."""

    def __getitem__(self, index: Any) -> Any:
        """Case ``index % size``."""
        if isinstance(index, int):
            return self._case(index % self.size)
        return super().__getitem__(index)


@attrs.frozen
class BadPickle(Counting):
    """Unpickles as a source with one case more."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        """Rebuild with ``n + 1``."""
        return (type(self), (self.n + 1,))


@attrs.frozen
class BadManifest(Counting):
    """The manifest forgets the last case."""

    def to_manifest_dict(self) -> dict[str, Any]:
        """``n - 1`` where ``n`` belongs."""
        return {"type": self.manifest_type, "n": self.n - 1}


@attrs.frozen
class IntKeyManifest(Counting):
    """The manifest stores ``n`` as a dict key, which JSON turns into a str."""

    def to_manifest_dict(self) -> dict[str, Any]:
        """``{"sizes": {n: true}}``: fine in memory, not through JSON."""
        return {"type": self.manifest_type, "sizes": {self.n: True}}

    @classmethod
    def from_manifest_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read ``n`` back from the key."""
        return cls(next(iter(data["sizes"])))


@attrs.frozen
class HashSeeded(Counting):
    """Values from ``hash(str)``, which PYTHONHASHSEED changes from process to process."""

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        return {"i": hash(f"case {i}") % 1000}, ()


@attrs.frozen
class BadTags(Counting):
    """Indexing tags each case, iteration does not: the cases differ only in their tags."""

    def _case(self, i: int) -> ParamCase:
        return ParamCase({"i": i}, ("indexed",))

    def __iter__(self) -> Any:
        """Untagged cases."""
        return (ParamCase({"i": i}) for i in range(self.size))


@attrs.frozen
class FloatForInt(Counting):
    """Iteration gives ``float(i)`` where indexing gives ``i``: equal in Python, not in metalab."""

    def __iter__(self) -> Any:
        """Cases ``{"i": float(i)}``."""
        return (ParamCase({"i": float(i)}) for i in range(self.size))


@attrs.frozen
class NoManifest(Counting):
    """A source type that metalab's manifests do not know (the default manifest methods)."""

    def to_manifest_dict(self) -> dict[str, Any]:
        """What `ParamSource` does: ask metalab's converter, which refuses this type."""
        return ParamSource.to_manifest_dict(self)
