"""`ShuffledSource`: a source's cases in a seeded pseudo-random order, O(1) per index."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, final

import attrs
import numpy as np

from metalab._algebra._common import (
    Indices,
    check_seed,
    checked_array,
    checked_list,
    increasing_matches,
    matcher,
)
from metalab._algebra.slicing import operand_repr
from metalab._core.values import ParamValue, describe
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw, bulk
from metalab._sources.permutation import Permutation
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import numpy.typing as npt

    from metalab._core.case import ParamCase

__all__ = ["ShuffledSource"]

_VECTOR_LIMIT: Final = 1 << 64
"""Up to this size the permutation runs vectorized over ``uint64`` arrays."""

_CHUNK: Final = 1 << 12
"""Indices permuted per vectorized batch while iterating."""


@final
@attrs.frozen(init=False, repr=False)
class ShuffledSource(ParamSource):
    """The cases of ``source`` in a seeded pseudo-random order, without building a list.

    Case ``i`` is case ``perm(i)`` of ``source``, where ``perm`` is a Feistel-network
    bijection of ``[0, size)`` (see `metalab._sources.permutation`): a pure function of
    ``(seed, size, i)``, the same on every platform, for sources of any size.

    >>> from metalab import grid
    >>> s = grid(x=range(6)).shuffled(seed=3)
    >>> sorted(c.params["x"] for c in s)
    [0, 1, 2, 3, 4, 5]
    >>> s[0] == grid(x=range(6)).shuffled(seed=3)[0]
    True
    """

    manifest_type: ClassVar[str] = "ShuffledSource"

    source: ParamSource
    """The shuffled source."""
    seed: int
    """The seed of the permutation, an int in ``[0, 2**64)``."""

    _perm: Permutation = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, source: ParamSource, seed: int) -> None:
        """Shuffle ``source`` under ``seed``.

        Raises:
            ParamError: ``source`` is not a source, or ``seed`` is not an int in
                ``[0, 2**64)`` (bools are refused).
        """
        checked: object = source  # checked at run time for untyped callers
        if not isinstance(checked, ParamSource):
            msg = f"shuffled takes a source, got {describe(source)}"
            raise ParamError(msg)
        seed_ = check_seed(seed, "shuffled seed")
        self.__attrs_init__(source, seed_)
        object.__setattr__(self, "_perm", Permutation(seed_, source.size))

    @property
    def size(self) -> int:
        """The size of the shuffled source."""
        return self.source.size

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the shuffled source."""
        return self.source.keys

    def describe(self) -> Description:
        """A ``shuffled`` node with its seed; the shuffled source is its child."""
        return attrs.evolve(super().describe(), kind="shuffled")

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The listed values of the shuffled source (the same cases)."""
        return self.source.listed_values()

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """Those of the whole shuffled source (exact only when ``indices`` are all)."""
        if indices != range(self.size):
            scan.exact = False
        return scan.sets(self.source, range(self.source.size))

    def raw(self, i: int) -> Raw:
        return self.source.raw(self._perm(i))

    def _case(self, i: int) -> ParamCase:
        return self.source._case(self._perm(i))

    def _positions(self) -> Iterator[int]:
        size = self.size
        if size > _VECTOR_LIMIT:
            yield from map(self._perm, range(size))
            return
        for begin in range(0, size, _CHUNK):
            chunk = np.arange(begin, min(begin + _CHUNK, size), dtype=np.uint64)
            yield from self._perm.array(chunk).tolist()

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in the shuffled order."""
        return map(self.source._case, self._positions())

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params, in the shuffled order, as fresh plain dicts."""
        raw = self.source.raw
        return (raw(i)[0] for i in self._positions())

    def _mapped(self, indices: Indices | None) -> Any:
        """Positions in ``source`` of the checked ``indices`` (all when None)."""
        size = self.size
        if size > _VECTOR_LIMIT:
            idx = range(size) if indices is None else checked_list(indices, size)
            return [self._perm(i) for i in idx]
        if indices is None:
            return self._perm.array(np.arange(size, dtype=np.uint64))
        if size - 1 > np.iinfo(np.int64).max:
            chosen = np.array(checked_list(indices, size), dtype=np.uint64)
        else:
            chosen = checked_array(indices, size).astype(np.uint64)
        return self._perm.array(chosen)

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at ``indices``: permuted in one vectorized pass, then taken in a batch."""
        given: object = indices  # None means "all" to _mapped, so untyped callers are checked
        if given is None:
            checked_list(given, 0)  # raises, as take(None) does for every source
        return self.source.take(self._mapped(indices))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter, from ``source``'s own columns."""
        return self.source.columns(self._mapped(indices))

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        found = self.source._indices_of(params)  # a random source raises here
        candidates = map(self._perm.inverse, found)
        return increasing_matches(candidates, matcher(self, params), self.size)

    def __reduce__(self) -> tuple[type[ShuffledSource], tuple[ParamSource, int]]:
        """Pickle the fields only; the permutation is derived again (any protocol)."""
        return ShuffledSource, (self.source, self.seed)

    def __repr__(self) -> str:
        """The source, then ``.shuffled(seed=...)``."""
        return f"{operand_repr(self.source)}.shuffled(seed={self.seed})"
