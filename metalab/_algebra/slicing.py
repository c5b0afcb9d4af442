"""`SliceSource` and `shard`: a lazy arithmetic progression of a source's indices."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, final

import attrs
import numpy as np

from metalab._algebra._common import (
    INT64_MAX,
    Indices,
    checked_array,
    checked_list,
    increasing_matches,
    matcher,
)
from metalab._core.intstr import counted
from metalab._core.values import ParamValue, check_int, describe
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw, as_index, bulk
from metalab._sources.grid import range_len
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import numpy.typing as npt

    from metalab._core.case import ParamCase

__all__ = ["SliceSource", "operand_repr", "shard"]


def operand_repr(source: ParamSource) -> str:
    """The repr of ``source``, parenthesized when it is a ``+`` or ``*`` expression."""
    if source.repr_operator:
        return f"({source!r})"
    return repr(source)


def _canonical(start: int, count: int, step: int) -> tuple[int, int, int]:
    """The one ``(start, stop, step)`` of ``count`` indices from ``start`` by ``step``."""
    if count == 0:
        return 0, 0, 1
    if count == 1:
        return start, start + 1, 1
    return start, start + count * step, step


@final
@attrs.frozen(init=False, repr=False)
class SliceSource(ParamSource):
    """The cases of ``source`` at ``range(start, stop, step)``, computed on demand.

    ``source[a:b:c]`` builds one with Python's slice rules (negative and missing bounds,
    clamping); the fields hold the normalized absolute positions, as ``slice.indices``
    returns them, and work for sources of any size. A slice of a slice is one slice of
    the underlying source.

    >>> from metalab import grid
    >>> s = grid(x=range(10))[2:8:2]
    >>> s, [c.params["x"] for c in s]
    (grid(x=range(0, 10))[2:8:2], [2, 4, 6])
    >>> s[1:] == grid(x=range(10))[4:8:2]
    True
    """

    manifest_type: ClassVar[str] = "SliceSource"

    source: ParamSource
    """The sliced source (never itself a `SliceSource`)."""
    start: int
    """The position in ``source`` of the first case."""
    stop: int
    """``start + size * step``: one step past the last case (negative when a backward slice
    reaches the first case)."""
    step: int
    """The distance between consecutive cases; negative walks backwards."""

    _size: int = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, source: ParamSource, start: int, stop: int, step: int = 1) -> None:
        """Select ``range(start, stop, step)`` of ``source`` (absolute positions).

        Raises:
            ParamError: a bound is not an int, ``step`` is 0, or a selected position
                lies outside ``source``.
        """
        checked: object = source  # checked at run time for untyped callers
        if not isinstance(checked, ParamSource):
            msg = f"a slice takes a source, got {describe(source)}"
            raise ParamError(msg)
        start_ = check_int(start, "slice start")
        stop_ = check_int(stop, "slice stop")
        step_ = check_int(step, "slice step")
        if step_ == 0:
            msg = "slice step cannot be zero"
            raise ParamError(msg)
        count = range_len(range(start_, stop_, step_))
        if count:
            last = start_ + (count - 1) * step_
            if min(start_, last) < 0 or max(start_, last) >= source.size:
                msg = (
                    f"slice range({start_}, {stop_}, {step_}) reaches outside a source of "
                    f"{counted(source.size, 'case')}; use source[a:b:c] for Python's slice rules"
                )
                raise ParamError(msg)
        if isinstance(source, SliceSource):
            start_ = source.start + start_ * source.step
            step_ *= source.step
            source = source.source
        self.__attrs_init__(source, *_canonical(start_, count, step_))
        object.__setattr__(self, "_size", count)

    @classmethod
    def of(cls, source: ParamSource, index: slice) -> SliceSource:
        """``source[index]`` with Python's slice rules, for sources of any size.

        >>> from metalab import grid
        >>> s = SliceSource.of(grid(x=range(5)), slice(None, None, -2))
        >>> s.start, s.stop, s.step, [c.params["x"] for c in s]
        (4, -2, -2, [4, 2, 0])

        Raises:
            IndexTypeError: a bound is neither None nor an int (``__index__``), or a bool.
            ParamError: the step is zero.
        """
        start, stop, step = (
            None if bound is None else as_index(bound, f"slice {name}")
            for name, bound in (("start", index.start), ("stop", index.stop), ("step", index.step))
        )
        if step == 0:
            msg = "slice step cannot be zero"
            raise ParamError(msg)
        return cls(source, *slice(start, stop, step).indices(source.size))

    @property
    def size(self) -> int:
        """The number of selected cases."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the sliced source."""
        return self.source.keys

    def describe(self) -> Description:
        """A ``slice`` node with its bounds; the sliced source is its child."""
        return Description("slice", (f"[{self.start}:{self.stop}:{self.step}]",))

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of the parent's cases that ``indices`` map to."""
        start, step = self.start, self.step
        mapped = range(
            start + indices.start * step, start + indices.stop * step, indices.step * step
        )
        return scan.sets(self.source, mapped if mapped.step > 0 else mapped[::-1])

    def raw(self, i: int) -> Raw:
        return self.source.raw(self.start + i * self.step)

    def _case(self, i: int) -> ParamCase:
        return self.source._case(self.start + i * self.step)

    def _positions(self) -> range:
        return range(self.start, self.stop, self.step)

    def __iter__(self) -> Iterator[ParamCase]:
        """The selected cases in order."""
        return map(self.source._case, self._positions())

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """The selected cases' params as fresh plain dicts."""
        raw = self.source.raw
        return (raw(i)[0] for i in self._positions())

    def _mapped(self, indices: Indices | None) -> Any:
        """Positions in ``source`` of the checked ``indices`` (all when None)."""
        if self.source.size <= INT64_MAX:
            if indices is None:
                return np.arange(self.start, self.stop, self.step, dtype=np.int64)
            return self.start + checked_array(indices, self._size) * self.step
        if indices is None:
            return list(self._positions())
        return [self.start + i * self.step for i in checked_list(indices, self._size)]

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
        candidates = _within(found, self.start, self._size, self.step)
        return increasing_matches(
            candidates, matcher(self, params), self._size, ordered=self.step > 0
        )

    def __repr__(self) -> str:
        """The source, then the slice in Python's notation."""
        return f"{operand_repr(self.source)}[{self._slice_text()}]"

    def _slice_text(self) -> str:
        if self._size == 0:
            return "0:0"
        start, step, total = self.start, self.step, self.source.size
        last = start + (self._size - 1) * step
        if step > 0:
            head = "" if start == 0 else str(start)
            tail = "" if last + step >= total else str(self.stop)
        else:
            head = "" if start == total - 1 else str(start)
            tail = "" if last + step < 0 else str(self.stop)
        return f"{head}:{tail}" + ("" if step == 1 else f":{step}")


def _within(found: Iterator[int], start: int, count: int, step: int) -> Iterator[int | None]:
    """The slice indices of increasing source indices, ``None`` for those outside the slice.

    Stops at the first source index past the slice's last position.
    """
    if count == 0:
        return
    last = start + (count - 1) * step
    low, high = min(start, last), max(start, last)
    for i in found:
        if i > high:
            return
        offset = i - start
        yield offset // step if i >= low and offset % step == 0 else None


def shard(source: ParamSource, k: int, n: int) -> SliceSource:
    """Shard ``k`` of ``n`` of ``source``: contiguous, sizes within one, larger first.

    The ``n`` shards concatenate back to ``source``; the first ``size % n`` shards have
    one case more than the others.

    >>> from metalab import grid
    >>> [s for s in (shard(grid(x=range(10)), k, 3) for k in range(3))]
    [grid(x=range(0, 10))[:4], grid(x=range(0, 10))[4:7], grid(x=range(0, 10))[7:]]

    Raises:
        ParamError: ``n < 1`` or ``k`` is not in ``[0, n)``.
    """
    k_ = check_int(k, "shard index k")
    n_ = check_int(n, "shard count n")
    if n_ < 1:
        msg = f"shard count n must be >= 1, got {n_}"
        raise ParamError(msg)
    if not 0 <= k_ < n_:
        msg = f"shard index k must be in [0, {n_}), got {k_}"
        raise ParamError(msg)
    quotient, remainder = divmod(source.size, n_)
    start = k_ * quotient + min(k_, remainder)
    return SliceSource(source, start, start + quotient + (k_ < remainder))
