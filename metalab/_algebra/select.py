"""`SelectSource`: the cases of a source at chosen indices, kept as runs of ranges."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar, Final, final

import attrs
import numpy as np

from metalab._algebra._common import (
    INT64_MAX,
    checked_array,
    checked_list,
    increasing_matches,
    matcher,
)
from metalab._algebra.slicing import operand_repr
from metalab._core.intstr import counted, int_to_str
from metalab._core.values import ParamValue, describe
from metalab._sources.base import (
    Description,
    Indices,
    KeyScan,
    KeySets,
    ParamSource,
    Raw,
    as_index,
    bulk,
    check_index,
)
from metalab._sources.grid import range_len
from metalab.errors import IndexTypeError, ParamError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy.typing as npt

    from metalab._core.case import ParamCase

__all__ = ["SelectSource"]

_Piece = tuple[int, int]
"""Indices ``first`` to ``last`` (inclusive) of the selected source, walked by steps of 1 or -1."""

_SHOWN_RUNS: Final = 3


def _pieces(item: object, size: int) -> Iterator[_Piece]:
    """The checked pieces of one item of ``indices``: an int or a range of step 1 or -1.

    Negative indices count back from the end, as in ``source[i]``; a range is read as
    the ints it holds, so one that crosses zero is split there.
    """
    if not isinstance(item, range):
        i = check_index(as_index(item, "select indices"), size)
        yield i, i
        return
    count = range_len(item)
    if count == 0:
        return
    if count > 1 and item.step not in (1, -1):
        msg = (
            f"select takes ranges of step 1 or -1, got {item!r}; for a step of "
            f"{item.step}, slice first (source[a:b:{item.step}])"
        )
        raise ParamError(msg)
    step = 1 if count == 1 else item.step
    first, last = item.start, item.start + (count - 1) * step
    low, high = min(first, last), max(first, last)
    parts: tuple[_Piece, ...]
    if low < 0 <= high:  # the negative part counts from the end: two pieces
        negative, positive = (first, -1), (0, last)
        if step < 0:
            negative, positive = (-1, last), (first, 0)
        parts = (negative, positive) if first < 0 else (positive, negative)
    else:
        parts = ((first, last),)
    for a, b in parts:
        yield check_index(a, size), check_index(b, size)


def _merged(pieces: Iterable[_Piece]) -> Iterator[range]:
    """Maximal runs (ranges of step 1 or -1; step 1 for a single index) of the pieces."""
    current: list[int] | None = None  # first, last, step (0 for a single index)
    for first, last in pieces:
        direction = (last > first) - (last < first)
        if current is not None:
            end, step = current[1], current[2]
            joined = first - end
            if joined in (1, -1) and (step in (0, joined)) and direction in (0, joined):
                current[1], current[2] = last, joined
                continue
            yield _run(*current)
        current = [first, last, direction]
    if current is not None:
        yield _run(*current)


def _run(first: int, last: int, step: int) -> range:
    step = step or 1
    return range(first, last + step, step)


def _bounds(run: range) -> tuple[int, int]:
    """The lowest and highest index of a non-empty run of step 1 or -1."""
    last = run.stop - run.step
    return min(run.start, last), max(run.start, last)


@final
@attrs.frozen(init=False, repr=False)
class SelectSource(ParamSource):
    """The cases of ``source`` at chosen indices, in the order given, each at most once.

    The indices are kept as runs: ranges of step 1 or -1, so a contiguous selection of
    any size is one range (in memory and in its manifest). Case ``i`` is found by a
    binary search over the runs. Its cases are those of ``source``, so they keep their
    ``case_id`` values. ``source.select(indices)`` builds one; a selection from a
    selection is one selection of the underlying source.

    >>> from metalab import grid
    >>> s = grid(x=range(10)).select([7, 8, 9, 0, 1])
    >>> s.runs, [c.params["x"] for c in s]
    ((range(7, 10), range(0, 2)), [7, 8, 9, 0, 1])
    >>> s.select([4, 0]) == grid(x=range(10)).select([1, 7])
    True
    """

    manifest_type: ClassVar[str] = "SelectSource"

    source: ParamSource
    """The source the cases are selected from (never itself a `SelectSource`)."""
    runs: tuple[range, ...]
    """The selected indices of ``source`` in order, as maximal non-empty ranges of step 1
    or -1 (a single index as a range of step 1)."""

    _size: int = attrs.field(init=False, eq=False, repr=False)
    _offsets: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    """Where each run starts among the selected cases."""
    _lows: tuple[tuple[int, int], ...] = attrs.field(init=False, eq=False, repr=False)
    """``(lowest index, run)`` of every run, sorted: which run holds an index of ``source``."""

    def __init__(self, source: ParamSource, runs: Iterable[int | range] | Indices) -> None:
        """Select the cases of ``source`` at ``runs``: ints and ranges, in this order.

        Args:
            source: the source to select from.
            runs: the indices, in the order the cases are wanted: an iterable of ints
                (negative ones count back from the end) and ranges of step 1 or -1 (each
                standing for the ints it holds, never listed), a single range, or a
                1-d integer NumPy array.

        Raises:
            ParamError: ``source`` is not a source, a range has another step, or an
                index is given twice.
            IndexTypeError: ``runs`` is not such an iterable, or holds something else.
            CaseIndexError: an index lies outside ``source``.
        """
        checked: object = source  # checked at run time for untyped callers
        if not isinstance(checked, ParamSource):
            msg = f"select takes a source, got {describe(source)}"
            raise ParamError(msg)
        size = source.size
        given: object = runs  # checked at run time for untyped callers
        items: Iterable[object]
        if isinstance(given, range):
            items = (given,)
        elif isinstance(given, np.ndarray):
            items = checked_list(given, size)
        elif isinstance(given, Iterable) and not isinstance(given, str | bytes | Mapping):
            items = given
        else:
            msg = f"select takes an iterable of ints and ranges, got {describe(runs)}"
            raise IndexTypeError(msg)
        pieces: Iterable[_Piece] = chain.from_iterable(_pieces(item, size) for item in items)
        if isinstance(source, SelectSource):
            pieces = chain.from_iterable(map(source._through, pieces))
            source = source.source
        merged = tuple(_merged(pieces))
        lows = sorted((_bounds(run)[0], k) for k, run in enumerate(merged))
        _check_distinct(merged, lows)
        offsets = [0]
        for run in merged:
            offsets.append(offsets[-1] + range_len(run))
        self.__attrs_init__(source, merged)
        object.__setattr__(self, "_size", offsets.pop())
        object.__setattr__(self, "_offsets", tuple(offsets))
        object.__setattr__(self, "_lows", tuple(lows))

    @property
    def size(self) -> int:
        """The number of selected cases."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the source selected from."""
        return self.source.keys

    def describe(self) -> Description:
        """A ``select`` node with its number of runs; the source is its child."""
        return Description("select", (counted(len(self.runs), "run"),))

    def position(self, i: int) -> int:
        """The index in ``source`` of selected case ``i`` (negative counts back).

        >>> from metalab import grid
        >>> grid(x=range(10)).select([7, 8, 2]).position(2)
        2

        Raises:
            CaseIndexError: ``i`` lies outside the selection.
        """
        return self._locate(check_index(i, self._size))

    def _locate(self, i: int) -> int:
        offsets = self._offsets
        k = 0 if len(offsets) == 1 else bisect_right(offsets, i) - 1
        run = self.runs[k]
        return run.start + (i - offsets[k]) * run.step

    def _through(self, piece: _Piece) -> Iterator[_Piece]:
        """The pieces of ``source`` that selected cases ``piece[0]`` to ``piece[1]`` are."""
        first, last = piece
        low, high = min(first, last), max(first, last)
        offsets, runs = self._offsets, self.runs
        found: list[_Piece] = []
        for k in range(bisect_right(offsets, low) - 1, bisect_right(offsets, high)):
            start, run = offsets[k], runs[k]
            a = max(low, start) - start
            b = min(high, start + range_len(run) - 1) - start
            found.append((run.start + a * run.step, run.start + b * run.step))
        if last < first:  # walked backwards: the runs in reverse, each reversed
            found = [(b, a) for a, b in reversed(found)]
        return iter(found)

    def raw(self, i: int) -> Raw:
        return self.source.raw(self._locate(i))

    def _case(self, i: int) -> ParamCase:
        return self.source._case(self._locate(i))

    def _positions(self) -> Iterator[int]:
        return chain.from_iterable(self.runs)

    def __iter__(self) -> Iterator[ParamCase]:
        """The selected cases in order."""
        return map(self.source._case, self._positions())

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """The selected cases' params as fresh plain dicts."""
        raw = self.source.raw
        return (raw(i)[0] for i in self._positions())

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of the source's cases that the selected ``indices`` are."""
        sets: KeySets = set()
        offsets, runs = self._offsets, self.runs
        low, high = indices.start, indices[-1]
        for k in range(bisect_right(offsets, low) - 1, bisect_right(offsets, high)):
            start, run = offsets[k], runs[k]
            end = start + range_len(run)
            first = low if low >= start else low + -((low - start) // indices.step) * indices.step
            if first >= end:
                continue
            count = range_len(range(first, min(end, high + 1), indices.step))
            origin = run.start + (first - start) * run.step
            step = indices.step * run.step
            mapped = range(origin, origin + count * step, step)
            sets = scan.limited(sets | scan.sets(self.source, mapped if step > 0 else mapped[::-1]))
        return sets

    def _mapped(self, indices: Indices | None) -> Any:
        """Positions in ``source`` of the checked ``indices`` (all when None)."""
        if self.source.size <= INT64_MAX:
            chosen = (
                np.arange(self._size, dtype=np.int64)
                if indices is None
                else checked_array(indices, self._size)
            )
            offsets = np.array(self._offsets, dtype=np.int64)
            k = np.searchsorted(offsets, chosen, side="right") - 1
            starts = np.array([run.start for run in self.runs], dtype=np.int64)
            steps = np.array([run.step for run in self.runs], dtype=np.int64)
            return starts[k] + (chosen - offsets[k]) * steps[k]
        if indices is None:
            return list(self._positions())
        return [self._locate(i) for i in checked_list(indices, self._size)]

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at ``indices``, taken from ``source`` in one batch."""
        given: object = indices  # None means "all" to _mapped, so untyped callers are checked
        if given is None:
            checked_list(given, 0)  # raises, as take(None) does for every source
        return self.source.take(self._mapped(indices))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter, from ``source``'s own columns."""
        return self.source.columns(self._mapped(indices))

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        found = self.source._indices_of(params)  # a random source raises here
        candidates = map(self._position_of, found)
        return increasing_matches(candidates, matcher(self, params), self._size)

    def _position_of(self, j: int) -> int | None:
        """The selected position of index ``j`` of ``source``, or None if not selected."""
        lows = self._lows
        k = bisect_right(lows, (j, len(lows))) - 1
        if k < 0:
            return None
        run_index = lows[k][1]
        run = self.runs[run_index]
        if j > _bounds(run)[1]:
            return None
        return self._offsets[run_index] + (j - run.start) * run.step

    def __reduce__(self) -> tuple[type[SelectSource], tuple[ParamSource, tuple[range, ...]]]:
        """Pickle the fields only; the offsets are derived again (any protocol)."""
        return SelectSource, (self.source, self.runs)

    def __repr__(self) -> str:
        """The source, then ``.select(...)`` with the runs (a single index as an int)."""
        shown = [int_to_str(run.start) if range_len(run) == 1 else repr(run) for run in self.runs]
        if len(shown) == 1 and range_len(self.runs[0]) > 1:
            return f"{operand_repr(self.source)}.select({shown[0]})"
        return f"{operand_repr(self.source)}.select([{', '.join(shown)}])"


def _check_distinct(runs: tuple[range, ...], lows: list[tuple[int, int]]) -> None:
    """Refuse an index selected twice: sorted by their lowest index, runs must not overlap."""
    twice: list[int] = []
    high = -1
    for low, k in lows:
        if low <= high:
            twice.append(low)
            if len(twice) == _SHOWN_RUNS:
                break
        high = max(high, _bounds(runs[k])[1])
    if twice:
        shown = ", ".join(map(int_to_str, sorted(twice)))
        msg = f"select takes each index at most once, got {shown} more than once"
        raise ParamError(msg)
