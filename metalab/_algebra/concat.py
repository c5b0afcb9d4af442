"""`ConcatSource`: the cases of several sources, one after the other (``a + b``)."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate, chain
from typing import TYPE_CHECKING, Any, ClassVar, final

import attrs
import numpy as np

from metalab._algebra._common import (
    INT64_MAX,
    Indices,
    checked_array,
    checked_list,
    combine_columns,
    flatten_parts,
    parts_listed_values,
)
from metalab._core.values import check_added_key_paths, check_key_paths
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw, bulk

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    import numpy.typing as npt

    from metalab._core.case import ParamCase
    from metalab._core.values import ParamValue

__all__ = ["ConcatSource"]


def _flatten(parts: object) -> tuple[ParamSource, ...]:
    out = flatten_parts(parts, ConcatSource, "concatenation")
    return tuple(out)


@final
@attrs.frozen(init=False, repr=False)
class ConcatSource(ParamSource):
    """The cases of each part in turn: ``a + b`` is every case of ``a``, then of ``b``.

    Parts may have different keys. Nested concatenations are flattened, so
    ``(a + b) + c == a + (b + c)``. Case ``i`` is found by bisecting the cumulative
    sizes of the parts: O(log k) for k parts.

    >>> from metalab import grid, manual
    >>> s = grid(x=[1, 2]) + manual([{"y": 0}])
    >>> s.size, [c.params for c in s]
    (3, [{'x': 1}, {'x': 2}, {'y': 0}])
    """

    manifest_type: ClassVar[str] = "ConcatSource"
    repr_operator: ClassVar[str] = "+"

    parts: tuple[ParamSource, ...]
    """The concatenated sources, none of them itself a concatenation."""

    _offsets: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _keyset: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, parts: Iterable[ParamSource]) -> None:
        """Concatenate ``parts`` (at least one), flattening nested concatenations."""
        self.__attrs_init__(_flatten(parts))

    def __attrs_post_init__(self) -> None:
        """Precompute the offset of each part and the union of the keys."""
        offsets = (0, *accumulate(part.size for part in self.parts))
        keys = frozenset(key for part in self.parts for key in part.keys)
        check_key_paths(keys, "cannot concatenate these sources")
        object.__setattr__(self, "_offsets", offsets)
        object.__setattr__(self, "_keys", tuple(sorted(keys)))
        object.__setattr__(self, "_keyset", keys)

    @classmethod
    def of(cls, *sources: ParamSource) -> ConcatSource:
        """Concatenate sources given as arguments (what ``a + b + c`` builds).

        >>> from metalab import grid
        >>> ConcatSource.of(grid(x=[1]), grid(x=[2])) == grid(x=[1]) + grid(x=[2])
        True
        """
        head, *rest = sources or (None,)
        if isinstance(head, ConcatSource) and len(rest) == 1 and isinstance(rest[0], ParamSource):
            tail = rest[0]
            return head._extended(tail.parts if isinstance(tail, ConcatSource) else (tail,))
        return cls(sources)

    def _extended(self, tail: tuple[ParamSource, ...]) -> ConcatSource:
        """``self`` followed by ``tail``, reusing what ``self`` has worked out.

        ``s = s + part`` in a loop rebuilt the offsets and keys of every part each time,
        in Python: 27 s for 8,000 parts. Here only the new parts are looked at; what is
        left per step is copying two tuples, which is C-speed.
        """
        extra = frozenset(key for part in tail for key in part.keys)
        keyset = self._keyset | extra if extra - self._keyset else self._keyset
        if keyset is not self._keyset:
            check_added_key_paths(
                self._keys, self._keyset, extra, "cannot concatenate these sources"
            )
        out: ConcatSource = object.__new__(ConcatSource)
        object.__setattr__(out, "parts", self.parts + tail)
        offsets = accumulate((part.size for part in tail), initial=self.size)
        object.__setattr__(out, "_offsets", self._offsets + tuple(offsets)[1:])
        keys = self._keys if keyset is self._keyset else tuple(sorted(keyset))
        object.__setattr__(out, "_keys", keys)
        object.__setattr__(out, "_keyset", keyset)
        return out

    @property
    def size(self) -> int:
        """The sum of the sizes of the parts."""
        return self._offsets[-1]

    @property
    def keys(self) -> tuple[str, ...]:
        """Every name any part can produce, sorted."""
        return self._keys

    def _locate(self, i: int) -> tuple[ParamSource, int]:
        j = bisect_right(self._offsets, i) - 1
        return self.parts[j], i - self._offsets[j]

    def describe(self) -> Description:
        """A ``concat (+)`` node; its parts are its children."""
        return attrs.evolve(super().describe(), kind="concat (+)")

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The listed values of every part (each part is reached by some case)."""
        return parts_listed_values(self, self.parts)

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of only the parts that ``indices`` reach."""
        sets: KeySets = set()
        offset = 0
        for part in self.parts:
            end = offset + part.size
            sub = _within(indices, offset, end)
            if sub:
                local = range(sub.start - offset, sub.stop - offset, sub.step)
                sets = scan.limited(sets | scan.sets(part, local))
            offset = end
        return sets

    def raw(self, i: int) -> Raw:
        part, local = self._locate(i)
        return part.raw(local)

    def _raw_function(self) -> Callable[[int], Raw]:
        """``raw`` as one closure over the parts' own raw functions: two frames, not four."""
        offsets, raws = self._offsets, tuple(part._raw_function() for part in self.parts)

        def raw(i: int) -> Raw:
            j = bisect_right(offsets, i) - 1
            return raws[j](i - offsets[j])

        return raw

    def _case(self, i: int) -> ParamCase:
        part, local = self._locate(i)
        return part._case(local)

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case of each part in turn, streamed by the parts themselves."""
        return chain.from_iterable(self.parts)

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict, streamed by the parts themselves."""
        return chain.from_iterable(part.dicts() for part in self.parts)

    def _groups(
        self, indices: Indices
    ) -> tuple[int, list[tuple[ParamSource, npt.NDArray[np.intp], Any]]]:
        """Split checked indices by part: ``(count, [(part, row positions, local indices)])``."""
        offsets = self._offsets
        if self.size <= INT64_MAX:
            idx = checked_array(indices, self.size)
            owner = np.searchsorted(np.array(offsets, dtype=np.int64), idx, side="right") - 1
            order = np.argsort(owner, kind="stable")
            bounds = np.searchsorted(owner[order], np.arange(len(self.parts) + 1))
            groups = []
            for j, part in enumerate(self.parts):
                rows = order[bounds[j] : bounds[j + 1]]
                if rows.size:
                    groups.append((part, rows, idx[rows] - offsets[j]))
            return len(idx), groups
        values = checked_list(indices, self.size)
        by_part: dict[int, tuple[list[int], list[int]]] = {}
        for row, i in enumerate(values):
            j = bisect_right(offsets, i) - 1
            rows_, local = by_part.setdefault(j, ([], []))
            rows_.append(row)
            local.append(i - offsets[j])
        return len(values), [
            (self.parts[j], np.array(rows_, dtype=np.intp), local)
            for j, (rows_, local) in sorted(by_part.items())
        ]

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at ``indices``: each part takes its own share in one batch."""
        count, groups = self._groups(indices)
        out: list[Any] = [None] * count
        for part, rows, local in groups:
            for row, case in zip(rows.tolist(), part.take(local), strict=True):
                out[row] = case
        return out

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter, assembled from the parts' own columns."""
        if indices is None:
            pieces = [
                (np.arange(start, stop, dtype=np.intp), part.columns())
                for part, start, stop in zip(
                    self.parts, self._offsets, self._offsets[1:], strict=False
                )
                if stop > start
            ]
            return combine_columns(self._keys, self.size, pieces)
        count, groups = self._groups(indices)
        return combine_columns(
            self._keys, count, [(rows, part.columns(local)) for part, rows, local in groups]
        )

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        # Every part is asked now, so a random part raises even if an earlier part matches.
        found = [part._indices_of(params) for part in self.parts]
        return _shifted(found, self._offsets)

    def __repr__(self) -> str:
        """The parts joined by ``+``."""
        return " + ".join(map(repr, self.parts))


def _shifted(found: list[Iterator[int]], offsets: tuple[int, ...]) -> Iterator[int]:
    for indices, offset in zip(found, offsets, strict=False):
        for i in indices:
            yield offset + i


def _within(indices: range, start: int, stop: int) -> range:
    """The indices (an increasing range) that lie in ``[start, stop)``."""
    first = max(0, -((indices.start - start) // indices.step))
    last = max(0, -((indices.start - stop) // indices.step))
    return indices[first:last]
