"""`WhereSource`: the cases of a source for which predicates hold (``source.where(...)``).

The accepted positions are found on first need, by one vectorized pass over the
source's ``columns()`` in blocks of `BLOCK` cases, and kept compactly (`_Accepted`):
as a bitmap with block ranks and the exact position of every few accepted cases (at
most 2 bits per source case), or as the sorted positions themselves (8 bytes per
accepted case), whichever is smaller. Case ``i`` is the ``i``-th accepted position: one
read from the positions, or a sample and the bitmap word after it (two reads on most
data, O(log n) at worst; see `_Accepted`).

`where` pushes predicates down before any scan: a conjunct that reads the keys of one
factor of a product filters that factor alone, one that spans factors filters only the
span of factors between them, and a filter over a concatenation filters each part. A
grid is the product of its axes, so a conjunct that reads some of its axes filters
those alone. A scan of more than `SCAN_LIMIT` cases is refused when the sweep is
defined.
"""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

import functools
from bisect import bisect_right
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar, final, overload

import attrs
import numpy as np

from metalab._algebra._common import Indices, checked_array
from metalab._algebra._expressions import (
    check_expression,
    check_names,
    expression,
    sample_indices,
)
from metalab._algebra.concat import ConcatSource
from metalab._algebra.product import ProductSource
from metalab._algebra.slicing import SliceSource
from metalab._core.hashing import blake2b
from metalab._core.intstr import counted, format_count, int_to_str
from metalab._core.values import describe
from metalab._expr import Expr, compile_case, evaluate, evaluate_columns
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw, bulk
from metalab._sources.grid import GridSource
from metalab.errors import ExpressionError, ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    import numpy.typing as npt

    from metalab._core.case import ParamCase
    from metalab._core.values import ParamValue

__all__ = ["BLOCK", "SCAN_LIMIT", "WhereSource"]

T = TypeVar("T")

SCAN_LIMIT: Final = 10**9
"""The most source cases a `WhereSource` scans; a larger scan is refused when defined."""

BLOCK: Final = 1 << 18
"""Source cases per block of the scan: columns of this many cases at a time."""

_DIGEST_PERSON: Final = b"metalab.where.v1"


def _select_table(width: int) -> npt.NDArray[np.uint8]:
    """For each ``width``-bit value (a row): the positions of its set bits, lowest first."""
    values = np.arange(1 << width, dtype=np.uint32)
    set_bits = (values[:, None] >> np.arange(width, dtype=np.uint32) & 1).astype(np.uint8)
    rows, bits = np.nonzero(set_bits)
    nth = (np.cumsum(set_bits, axis=1) - 1)[rows, bits]
    table = np.zeros((1 << width, width), np.uint8)
    table[rows, nth] = bits
    return table


@functools.cache
def _select16() -> bytes:
    """`_select_table` of 16 bits, flat (value << 4 | r): 1 MiB, made on first need."""
    return _select_table(16).tobytes()


_BYTE_POPCOUNT: Final = np.array([b.bit_count() for b in range(256)], dtype=np.uint8)
_BYTE_SELECT: Final = _select_table(8)

_SUPER: Final = 512
"""Bitmap bits per rank entry: eight 64-bit words, one cache line."""

_SCAN_WORDS: Final = 4
"""Words walked past a sample's word before a select bisects the ranks instead."""


def _sample_step(count: int, size: int) -> int:
    """Accepted cases per sample: a power of two, the smallest that fits the budget.

    The samples then take at most 15/16 bit per source case, so bitmap, ranks and
    samples stay within 2 bits per case, and a sample group spans about 34 to 68 source
    positions on any density: one word, or two.
    """
    step = 1
    while 512 * count > 15 * size * step:
        step *= 2
    return step


def _bitmap_select(
    words: memoryview, ranks: memoryview, samples: memoryview, shift: int, then: Callable[[int], T]
) -> Callable[[int], T]:
    """``then(select(k))`` over a bitmap, its ranks and its samples (see `_Accepted`).

    ``then`` is applied inside, so a lookup (``then`` a source's case function) is one
    call, not two.
    """
    low_bits = (1 << shift) - 1
    select16 = _select16()

    def select(k: int) -> T:
        p: int = samples[k >> shift]
        r = k & low_bits
        w = p >> 6
        x: int = words[w] >> (p & 63)  # bit 0 is accepted case k - r itself
        c = x.bit_count()
        if r >= c:
            r -= c
            w += 1
            x = words[w]
            c = x.bit_count()
            if r >= c:  # past the next word too (rare)
                w, x, r = _far_select(words, ranks, k, w, r - c)
            p = w << 6
        # The r-th set bit of x: halve to 32 bits, then 16, then the table.
        half = x & 0xFFFFFFFF
        c = half.bit_count()
        if r >= c:
            r -= c
            x >>= 32
            p += 32
        else:
            x = half
        half = x & 0xFFFF
        c = half.bit_count()
        if r >= c:
            return then(p + 16 + select16[x >> 12 & 0xFFFF0 | r - c])
        return then(p + select16[half << 4 | r])

    return select


def _far_select(
    words: memoryview, ranks: memoryview, k: int, w: int, r: int
) -> tuple[int, int, int]:
    """Accepted case ``k``, ``r`` set bits past word ``w``: its word, the word, and ``r``.

    Walks a few words; past those, a long run of rejected cases follows, so it bisects
    the rank blocks from word ``w``'s on and walks the one ``k`` is in.
    """
    for _ in range(_SCAN_WORDS):
        w += 1
        x: int = words[w]
        c = x.bit_count()
        if r < c:
            return w, x, r
        r -= c
    block = bisect_right(ranks, k, (w >> 3) + 1) - 1
    r = k - ranks[block]
    w = block << 3
    x = words[w]
    c = x.bit_count()
    while r >= c:
        r -= c
        w += 1
        x = words[w]
        c = x.bit_count()
    return w, x, r


def _packed(masks: Sequence[npt.NDArray[np.bool_]], nbytes: int) -> npt.NDArray[np.uint8]:
    """The masks as one little-endian bitmap of ``nbytes`` bytes, packed a mask at a time."""
    bits = np.zeros(nbytes, np.uint8)
    at = 0  # in bits; every mask but the last is whole bytes (`BLOCK` is)
    for mask in masks:
        if at % 8:
            msg = "the scan's blocks are not whole bytes"  # pragma: no cover
            raise AssertionError(msg)  # pragma: no cover
        packed = np.packbits(mask, bitorder="little")
        bits[at // 8 : at // 8 + len(packed)] = packed
        at += len(mask)
    return bits


_SAMPLE_CHUNK: Final = 1 << 16
"""Accepted cases located per vectorized step (bounds its scratch memory)."""


def _samples(
    bits: npt.NDArray[np.uint8],
    within: npt.NDArray[np.uint16],
    ranks: npt.NDArray[np.uint32],
    count: int,
    step: int,
) -> npt.NDArray[np.uint32]:
    """The exact positions of accepted cases 0, step, 2 * step, ...."""
    out = np.zeros(-(-count // step), np.uint32)
    for lo in range(0, len(out), _SAMPLE_CHUNK):
        targets = np.arange(lo, min(len(out), lo + _SAMPLE_CHUNK), dtype=np.int64) * step
        out[lo : lo + len(targets)] = _vector_select(bits, ranks, targets, within)
    return out


def _vector_select(
    bits: npt.NDArray[np.uint8],
    ranks: npt.NDArray[np.uint32],
    ks: npt.NDArray[np.int64],
    within: npt.NDArray[np.uint16] | None = None,
) -> npt.NDArray[np.int64]:
    """The positions of accepted cases ``ks`` at once: rank block, then byte, then bit.

    ``within`` holds the accepted cases up to each byte of each block; without it, the
    rows of the blocks ``ks`` fall in are counted here.
    """
    block = np.searchsorted(ranks, ks, side="right") - 1
    rest = ks - ranks[block]
    if within is None:
        per_block = bits.reshape(-1, _SUPER // 8)[block]
        rows = np.cumsum(_BYTE_POPCOUNT[per_block], axis=1, dtype=np.uint16)
    else:
        rows = within[block]
    byte = (rows <= rest[:, None]).sum(axis=1)
    before = np.where(byte > 0, rows[np.arange(len(byte)), np.maximum(byte - 1, 0)], 0)
    flat = block * (_SUPER // 8) + byte
    out: npt.NDArray[np.int64] = flat * 8 + _BYTE_SELECT[bits[flat], rest - before]
    return out


class _Accepted:
    """The accepted positions of a scan, as a bitmap with ranks or as a sorted array.

    The bitmap (1 bit per source case, in 64-bit words) comes with the number of accepted
    cases before each block of 512 bits (uint32: the scan limit keeps counts below 2**32;
    1/16 bit per case) and the exact position of every ``step``-th accepted case (uint32;
    `_sample_step` keeps them within 15/16 bit per case). ``select(k)`` reads the sample
    before ``k`` and the word that holds it, and finds ``k`` in that word or the next: two
    memory reads on most data, in plain Python (a NumPy call per lookup costs more than
    the rest of it). A long run of rejected cases after a sample is crossed by bisecting
    the ranks, so a lookup is O(log n) at worst.
    """

    __slots__ = ("bits", "count", "positions", "ranks", "samples", "select", "shift", "words")

    select: Callable[[int], int]
    """The source position of accepted case ``k`` (``0 <= k < count``)."""

    def __init__(self, masks: Sequence[npt.NDArray[np.bool_]], size: int) -> None:
        count = int(sum(int(m.sum()) for m in masks))
        self.count = count
        step = _sample_step(count, size)
        blocks = -(-size // _SUPER)
        bitmap_bytes = blocks * _SUPER // 8 + 4 * (blocks + 1) + 4 * -(-count // step)
        self.bits: npt.NDArray[np.uint8] | None = None
        self.words: npt.NDArray[np.uint64] | None = None
        self.ranks: npt.NDArray[np.uint32] | None = None
        self.samples: npt.NDArray[np.uint32] | None = None
        self.positions: npt.NDArray[np.int64] | None = None
        if 8 * count <= bitmap_bytes:
            offsets = np.cumsum([0, *(len(m) for m in masks)])[:-1]
            found = [np.flatnonzero(m) + int(o) for m, o in zip(masks, offsets, strict=True)]
            positions = np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)
            self.positions = positions
            self.select = positions.data.__getitem__
            self.shift = 0
            return
        bits = _packed(masks, blocks * _SUPER // 8)
        # Accepted cases before each byte of a block, then before each block.
        within = np.cumsum(
            _BYTE_POPCOUNT[bits].reshape(blocks, _SUPER // 8), axis=1, dtype=np.uint16
        )
        ranks = np.zeros(blocks + 1, np.uint32)
        np.cumsum(within[:, -1], out=ranks[1:])
        samples = _samples(bits, within, ranks, count, step)
        # Little-endian words on every platform (a copy only where that is not native).
        words = bits.view("<u8").astype(np.uint64, copy=False)
        self.bits, self.words, self.ranks, self.samples = bits, words, ranks, samples
        self.shift = step.bit_length() - 1
        self.select = self.then(int)

    def then(self, fn: Callable[[int], T]) -> Callable[[int], T]:
        """``k -> fn(select(k))`` as one function: a lookup's select and case in one call."""
        if self.positions is not None:
            at = self.positions.data

            def select(k: int) -> T:
                return fn(at[k])

            return select
        assert self.words is not None
        assert self.ranks is not None
        assert self.samples is not None
        return _bitmap_select(self.words.data, self.ranks.data, self.samples.data, self.shift, fn)

    @property
    def nbytes(self) -> int:
        """The bytes the accepted positions take."""
        if self.positions is not None:
            return self.positions.nbytes
        assert self.bits is not None
        assert self.ranks is not None
        assert self.samples is not None
        return self.bits.nbytes + self.ranks.nbytes + self.samples.nbytes

    def select_many(self, ks: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The source positions of many accepted cases at once."""
        if self.positions is not None:
            return self.positions[ks]
        assert self.bits is not None
        assert self.ranks is not None
        out = np.empty(len(ks), np.int64)
        for lo in range(0, len(ks), _SAMPLE_CHUNK):
            out[lo : lo + _SAMPLE_CHUNK] = _vector_select(
                self.bits, self.ranks, ks[lo : lo + _SAMPLE_CHUNK]
            )
        return out

    def rank(self, position: int) -> int | None:
        """The accepted index of source ``position``, or None if it is not accepted."""
        if self.positions is not None:
            k = int(np.searchsorted(self.positions, position))
            hit = k < len(self.positions) and int(self.positions[k]) == position
            return k if hit else None
        assert self.words is not None
        assert self.ranks is not None
        word, bit = divmod(position, 64)
        chunk = int(self.words[word])
        if not chunk >> bit & 1:
            return None
        block = position // _SUPER
        before = self.words[block * (_SUPER // 64) : word]
        whole = sum(int(w).bit_count() for w in before.tolist())
        return int(self.ranks[block]) + whole + (chunk & ((1 << bit) - 1)).bit_count()

    def blocks(self, start: int = 0) -> Iterator[npt.NDArray[np.int64]]:
        """The accepted source positions from accepted index ``start`` on, in blocks."""
        if self.positions is not None:
            for lo in range(start, self.count, BLOCK):
                yield self.positions[lo : lo + BLOCK]
            return
        assert self.bits is not None
        assert self.ranks is not None
        step = max(_SUPER, BLOCK // _SUPER * _SUPER) // 8  # whole rank blocks, in bytes
        for lo in range(0, len(self.bits), step):
            flags = np.unpackbits(self.bits[lo : lo + step], bitorder="little")
            found = np.flatnonzero(flags).astype(np.int64) + lo * 8
            first = int(self.ranks[lo * 8 // _SUPER])
            if first + len(found) > start:
                yield found[max(0, start - first) :]

    def digest(self) -> str:
        """A digest of the accepted positions (8-byte little-endian each), in hex."""
        h = blake2b(digest_size=16, person=_DIGEST_PERSON)
        for block in self.blocks():
            h.update(block.astype("<i8").tobytes())
        return h.hexdigest()


def _key(predicates: Sequence[Expr[Any]]) -> bytes:
    return b"%d:" % len(predicates) + b"".join(p.key() for p in predicates)


def _predicates(value: object) -> tuple[Expr[bool], ...]:
    return tuple(expression(p, "where predicate") for p in value)  # type: ignore[attr-defined]


@final
@attrs.frozen(repr=False)
class WhereSource(ParamSource):
    """The cases of ``source`` for which every predicate is true, in order.

    Built by ``source.where(...)`` (`WhereSource.of`), which pushes predicates down
    into the factors of products and the parts of concatenations first.

    >>> from metalab import col, grid
    >>> s = grid(a=range(10)).where(col("a") % 3 == 0)
    >>> s.size, [c.params["a"] for c in s]
    (4, [0, 3, 6, 9])
    """

    manifest_type: ClassVar[str] = "WhereSource"

    source: ParamSource
    """The source whose cases are filtered."""
    predicates: tuple[Expr[bool], ...] = attrs.field(converter=_predicates, eq=False)
    """The conditions every kept case meets (compared through `_structure`)."""

    _structure: bytes = attrs.field(init=False, repr=False)
    _accepted_cache: _Accepted | None = attrs.field(init=False, eq=False, repr=False)
    # Once scanned: the count, and case i / raw(i) as one call each (`_Accepted.then`).
    _count: int = attrs.field(init=False, eq=False, repr=False)
    _case_at: Callable[[int], ParamCase] | None = attrs.field(init=False, eq=False, repr=False)
    _raw_at: Callable[[int], Raw] | None = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Check the predicates against the source and the scan against the limit."""
        source: object = self.source
        if not isinstance(source, ParamSource):
            msg = f"where takes a source, got {describe(source)}"
            raise ParamError(msg)
        if not self.predicates:
            msg = "where needs at least one predicate"
            raise ParamError(msg)
        for predicate in self.predicates:
            check_names(predicate, self.source.keys, "where:")
        object.__setattr__(self, "_structure", _key(self.predicates))
        object.__setattr__(self, "_accepted_cache", None)
        object.__setattr__(self, "_count", -1)
        object.__setattr__(self, "_case_at", None)
        object.__setattr__(self, "_raw_at", None)
        _check_scan(self.source, self.predicates)
        functions = [compile_case(p) for p in self.predicates]
        for i in sample_indices(self.source.size):
            params, _ = self.source.raw(i)
            for predicate, fn in zip(self.predicates, functions, strict=True):
                value = check_expression(predicate, fn, params, i, "where:")
                if type(value) is not bool:
                    msg = (
                        f"where: {predicate!r} gives {describe(value)} on case "
                        f"{int_to_str(i)}; a predicate must give a bool"
                    )
                    raise ExpressionError(msg)

    @classmethod
    def of(cls, source: ParamSource, *predicates: object) -> ParamSource:
        """The cases of ``source`` for which every predicate holds, predicates pushed down.

        Each predicate must be a bool expression (`Expr`); a chain of ``&`` is split into
        its conjuncts, each pushed down as far as it goes (see the module): the result is
        a `WhereSource`, or a product or concatenation of filtered factors or parts.

        Raises:
            ExpressionError: a predicate is no expression, reads a name the source lacks,
                or does not fit its values.
            ParamError: a predicate needs a scan of more than `SCAN_LIMIT` cases.
        """
        return _where(source, *predicates)

    # -- the scan --------------------------------------------------------------------
    @property
    def _accepted(self) -> _Accepted:
        accepted = self._accepted_cache
        if accepted is None:
            self._scan_once()
            accepted = self._accepted_cache
            assert accepted is not None
        return accepted

    def _scan_once(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        """Scan; keep the positions, and case ``i`` and ``raw(i)`` built on them.

        Two threads may both scan: they find the same positions. The count is set last,
        so a lookup that sees it sees the rest.
        """
        accepted = self._scan()
        case_at = accepted.then(self.source._case_function())
        raw_at = accepted.then(self.source.raw)
        object.__setattr__(self, "_case_at", case_at)
        object.__setattr__(self, "_raw_at", raw_at)
        object.__setattr__(self, "_accepted_cache", accepted)
        object.__setattr__(self, "_count", accepted.count)
        return case_at, raw_at

    def _scan(self) -> _Accepted:
        size = self.source.size
        masks: list[npt.NDArray[np.bool_]] = []
        for lo in range(0, size, BLOCK):
            positions = np.arange(lo, min(size, lo + BLOCK), dtype=np.int64)
            columns = self.source.columns(positions)
            mask: npt.NDArray[np.bool_] | None = None
            for predicate in self.predicates:
                result = evaluate_columns(predicate, columns, positions)
                if result.dtype.kind != "b":
                    _not_bool(predicate, result, positions)
                mask = result if mask is None else mask & result
            assert mask is not None
            masks.append(mask)
        return _Accepted(masks, size)

    def accepted_digest(self) -> str:
        """A digest of the accepted source positions, which manifests record."""
        return self._accepted.digest()

    # -- the source protocol -----------------------------------------------------------
    @property
    def size(self) -> int:
        """The number of accepted cases (the source is scanned on first need)."""
        count = self._count
        return count if count >= 0 else self._accepted.count

    @property
    def keys(self) -> tuple[str, ...]:
        """The source's names."""
        return self.source.keys

    def raw(self, i: int) -> Raw:
        return (self._raw_at or self._scan_once()[1])(i)

    def _case(self, i: int) -> ParamCase:
        return (self._case_at or self._scan_once()[0])(i)

    def _case_function(self) -> Callable[[int], ParamCase]:
        return self._case_at or self._scan_once()[0]

    def _raw_function(self) -> Callable[[int], Raw]:
        return self._raw_at or self._scan_once()[1]

    @overload
    def __getitem__(self, index: int) -> ParamCase: ...
    @overload
    def __getitem__(self, index: slice) -> SliceSource: ...
    def __getitem__(self, index: int | slice) -> ParamCase | SliceSource:
        """Case ``index`` (negative counts from the end), or a lazy slice of the source."""
        if type(index) is int and 0 <= index < self._count:  # scanned: one call
            return self._case_at(index)  # type: ignore[misc]
        return super().__getitem__(index)

    def describe(self) -> Description:
        """A ``where`` node: one line per predicate."""
        lines = tuple(("where", ":", repr(p)) for p in self.predicates)
        return Description("where", (f"of {counted(self.source.size, 'case')}",), lines)

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The source's key sets between the first and last positions ``indices`` reach."""
        accepted = self._accepted
        lo, hi = accepted.select(indices[0]), accepted.select(indices[-1])
        if len(indices) > 1:
            scan.exact = False
        return scan.sets(self.source, range(lo, hi + 1))

    def __iter__(self) -> Iterator[ParamCase]:
        """Every accepted case in order, taken from the source a block at a time."""
        for block in self._accepted.blocks():
            yield from self.source.take(block)

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every accepted case's params, a block at a time."""
        raw = self.source.raw
        for block in self._accepted.blocks():
            for position in block.tolist():
                yield raw(position)[0]

    def _sources_at(self, indices: Indices) -> npt.NDArray[np.int64]:
        size = self.size
        return self._accepted.select_many(checked_array(indices, size))

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The accepted cases at ``indices``, taken from the source in one batch."""
        return self.source.take(self._sources_at(indices))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """The source's columns at the accepted positions."""
        if indices is None:
            blocks = list(self._accepted.blocks())
            positions = np.concatenate(blocks) if blocks else np.zeros(0, np.int64)
            return self.source.columns(positions)
        return self.source.columns(self._sources_at(indices))

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        accepted = self._accepted
        for position in self.source._indices_of(params):
            k = accepted.rank(position)
            if k is not None:
                yield k

    def __reduce__(self) -> tuple[type[WhereSource], tuple[Any, ...]]:
        """Pickle the fields; the accepted positions are found again on first need."""
        return WhereSource, (self.source, self.predicates)

    def __repr__(self) -> str:
        """``source.where(predicate, ...)``."""
        inner = repr(self.source)
        if self.source.repr_operator:
            inner = f"({inner})"
        return f"{inner}.where({', '.join(map(repr, self.predicates))})"


def _not_bool(predicate: Expr[Any], result: npt.NDArray[Any], positions: npt.NDArray[Any]) -> None:
    for row, value in enumerate(result.tolist()):
        if type(value) is not bool:
            msg = (
                f"where: {predicate!r} gives {describe(value)} on case "
                f"{int_to_str(int(positions[row]))}; a predicate must give a bool"
            )
            raise ExpressionError(msg)


def _check_scan(source: ParamSource, predicates: Sequence[Expr[Any]]) -> None:
    size = source.size
    if size <= SCAN_LIMIT:
        return
    shown = ", ".join(map(repr, predicates))
    if isinstance(source, ProductSource):
        factors = "; ".join(
            f"{describe(part, 60).split(' ', 1)[1]} ({format_count(part.size)} cases, "
            f"keys {', '.join(part.keys)})"
            for part in source.parts
        )
        msg = (
            f"where: {shown} would need a scan of {format_count(size)} cases, more than "
            f"the limit of {format_count(SCAN_LIMIT)}: it reads keys of several factors of "
            f"a product of {factors}; filter the factors instead (a predicate that reads "
            "one factor's keys filters that factor alone)"
        )
    elif isinstance(source, GridSource):
        # Push-down left only the axes the predicates read: name them with their sizes.
        axes = ", ".join(
            f"{key} ({format_count(n)} values)"
            for key, n in zip(source.keys, source._sizes, strict=True)
        )
        advice = (
            "give the axis fewer values (a range with a step, say)"
            if len(source.keys) == 1
            else "split it into conjuncts that each read fewer axes (a conjunct that reads "
            "one axis filters that axis alone), or give the axes fewer values"
        )
        msg = (
            f"where: {shown} would need a scan of {format_count(size)} cases, more than "
            f"the limit of {format_count(SCAN_LIMIT)}: it reads the grid "
            f"{'axis' if len(source.keys) == 1 else 'axes'} {axes}; {advice}"
        )
    else:
        msg = (
            f"where: {shown} would need a scan of {format_count(size)} cases of "
            f"{describe(source, 60)}, more than the limit of {format_count(SCAN_LIMIT)}; "
            "filter a smaller source, or the sources it is built from"
        )
    raise ParamError(msg)


# -- push-down ---------------------------------------------------------------------------
def _where(source: ParamSource, *predicates: object) -> ParamSource:
    if not predicates:
        msg = "where needs at least one predicate"
        raise ParamError(msg)
    conjuncts: list[Expr[Any]] = []
    for predicate in predicates:
        checked = expression(predicate, "where predicate")
        check_names(checked, source.keys, "where:")
        conjuncts.extend(checked.conjuncts())
    return _filtered(source, conjuncts)


def _reading(conjuncts: list[Expr[Any]]) -> list[Expr[Any]] | None:
    """The conjuncts that read parameters, or None if a constant one is false."""
    reading = []
    for conjunct in conjuncts:
        if conjunct.names():
            reading.append(conjunct)
            continue
        value = evaluate(conjunct, {})
        if type(value) is not bool:
            msg = f"where: {conjunct!r} gives {describe(value)}; a predicate must give a bool"
            raise ExpressionError(msg)
        if not value:
            return None
    return reading


def _filtered(source: ParamSource, conjuncts: list[Expr[Any]]) -> ParamSource:  # noqa: PLR0911 - one return per kind of source
    reading = _reading(conjuncts)
    if reading is None:
        return SliceSource.of(source, slice(0, 0))
    if not reading:
        return source
    if isinstance(source, ProductSource):
        return _product(source, reading)
    if isinstance(source, GridSource) and _splits(source, reading):
        # A grid is the product of its axes in the same order (sorted keys, last fastest).
        axes = [GridSource({key: axis}) for key, axis in source.spec.items()]
        return _product(ProductSource(axes), reading)
    if isinstance(source, ConcatSource):
        for part in source.parts:
            for conjunct in reading:
                check_names(conjunct, part.keys, "where: in a part of a concatenation,")
        return ConcatSource.of(*(_filtered(part, reading) for part in source.parts))
    if isinstance(source, WhereSource):
        return WhereSource(source.source, source.predicates + tuple(reading))
    return WhereSource(source, tuple(reading))


def _splits(source: GridSource, conjuncts: list[Expr[Any]]) -> bool:
    """Whether some conjunct reads fewer axes than the grid has (filtering them alone)."""
    return any(len(c.names()) < len(source.spec) for c in conjuncts)


def _product(source: ProductSource, conjuncts: list[Expr[Any]]) -> ParamSource:
    """Filter each factor by the conjuncts that read it alone, then spans of factors."""
    parts = list(source.parts)
    owner = {key: j for j, part in enumerate(parts) for key in part.keys}
    alone: dict[int, list[Expr[Any]]] = {}
    spans: list[tuple[int, int, Expr[Any]]] = []
    for conjunct in conjuncts:
        touched = {owner[name] for name in conjunct.names()}
        if len(touched) == 1:
            alone.setdefault(touched.pop(), []).append(conjunct)
        else:
            spans.append((min(touched), max(touched), conjunct))
    for j, own in alone.items():
        parts[j] = _filtered(parts[j], own)
    if not spans:
        return ProductSource.of(*parts) if len(parts) > 1 else parts[0]
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[int, int, list[Expr[Any]]]] = []
    for lo, hi, conjunct in spans:
        if merged and lo <= merged[-1][1]:
            last_lo, last_hi, members = merged[-1]
            merged[-1] = (last_lo, max(last_hi, hi), [*members, conjunct])
        else:
            merged.append((lo, hi, [conjunct]))
    out: list[ParamSource] = []
    j = 0
    for lo, hi, members in merged:
        out.extend(parts[j:lo])
        out.append(WhereSource(ProductSource(parts[lo : hi + 1]), tuple(members)))
        j = hi + 1
    out.extend(parts[j:])
    return ProductSource.of(*out) if len(out) > 1 else out[0]
