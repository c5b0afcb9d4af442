"""`ProductSource`: every case of one source merged with every case of another (``a * b``)."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

import math
from itertools import chain, product
from typing import TYPE_CHECKING, Any, ClassVar, Final, final

import attrs
import numpy as np

from metalab._algebra._common import (
    INT64_MAX,
    Indices,
    checked_array,
    checked_list,
    empty_columns,
    flatten_parts,
    parts_listed_values,
)
from metalab._core.case import make_case, params_of
from metalab._core.codegen import (
    CASE_NAMESPACE,
    case_source,
    compile_functions,
    int_literal,
    name_literal,
    source_of,
)
from metalab._core.values import (
    ParamValue,
    check_added_key_paths,
    check_key_paths,
    describe,
)
from metalab._sources.base import Description, Factor, KeyScan, KeySets, ParamSource, Raw, bulk
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    import numpy.typing as npt

    from metalab._core.case import ParamCase

__all__ = ["ProductSource"]

_TABLE_LIMIT: Final = 1 << 16
"""Inner factors up to this many cases are tabulated once to stream the product."""

_WORD: Final = 1 << 30
"""Digits are peeled off in blocks below this (one CPython digit), so that a huge index
costs one big-int division per block rather than one per factor."""


def _flatten(parts: object) -> tuple[ParamSource, ...]:
    out = flatten_parts(parts, ProductSource, "product")
    _check_disjoint(out)
    return tuple(out)


def _check_disjoint(parts: Sequence[ParamSource]) -> None:
    owner: dict[str, int] = {}
    for j, part in enumerate(parts):
        clash = sorted(key for key in part.keys if key in owner)
        if clash:
            other = parts[owner[clash[0]]]
            msg = (
                f"cannot cross sources that can both produce {clash}: "
                f"{describe(other, 80)} and {describe(part, 80)}; "
                "each parameter must come from one side of *"
            )
            raise ParamError(msg)
        owner.update(dict.fromkeys(part.keys, j))
    check_key_paths(owner, "cannot cross these sources")


def _factors(parts: Sequence[ParamSource]) -> tuple[Factor, ...]:
    """The digits of the product's mixed radix: each part's `ParamSource.product_factors`."""
    return tuple(chain.from_iterable(part.product_factors() for part in parts))


def _compile(
    factors: Sequence[Factor],
    keys: Sequence[str],
    blocks: Sequence[tuple[int, tuple[tuple[int, int], ...]]] | None,
    *,
    presorted: bool,
) -> tuple[Callable[[int], Raw], Callable[[int], ParamCase]]:
    """Case ``i`` of a product, written out for its factors.

    As for grids and random sources, the digits, the merge and the case are spelled out,
    so a lookup runs no generic loop. For ``(grid(b=[1, 2]) + manual(...)) * random(...)``
    of 50 trials of ``a`` and ``c``, the case function reads::

        def case(i):
            d1 = i % 50
            i //= 50
            d0 = i
            p0, t0 = r0(d0)
            p1, t1 = r1(d1)
            if len(p0) == 1 and len(p1) == 2:
                m = {'a': p1['a'], 'b': p0['b'], 'c': p1['c']}
            else:
                m = dict(sorted({**p0, **p1}.items()))
            case = _new_case(_ParamCase)
            ...  (the lines of `case_source`, with tags t0 + t1)
            return case

    The params are one dict display in key order when every part's dict holds all of
    its part's keys (the usual case), else the merged dicts sorted; when the parts'
    keys already come in order, they are merged as they are (``{**p0, **p1}``). Grid
    factors contribute ``a{j}[d{j}]`` values instead of a call. Keys enter the source
    only as literals of exact ``str`` (`name_literal`), sizes as int literals or bound
    names (`int_literal`).

    A product of grids only (``blocks`` given, see `_blocks`) peels its digits off in
    blocks, ``i, r = divmod(i, radix)`` once per block of digits whose radix stays
    below one machine word, so that a huge index costs one big-int division per block;
    its dict display lists the axes in key order directly.
    """
    if blocks is not None:
        namespace: dict[str, Any] = {**CASE_NAMESPACE}
        lines = _block_digits(blocks, namespace)
        by_key = {
            key: f"{name_literal(key)}: a{j}[d{j}]"
            for j, (_, key, _) in enumerate(factors)
            if key is not None  # always, in a product of grids only
        }
        params = "{" + ", ".join(by_key[key] for key in keys) + "}"
        namespace.update((f"a{j}", axis) for j, (_, _, axis) in enumerate(factors))
        return _exec_case(lines, namespace, params, "()")
    namespace = {**CASE_NAMESPACE}
    lines = []
    for j in range(len(factors) - 1, 0, -1):
        size = int_literal(factors[j][0], f"n{j}", namespace)
        lines += [f"d{j} = i % {size}", f"i //= {size}"]
    lines.append("d0 = i")
    items: list[str] = []
    tags: list[str] = []
    reads: dict[str, str] = {}  # each key's value, read from its factor
    complete: list[str] = []  # the tests that every factor's dict holds all its keys
    for j, (_, key, payload) in enumerate(factors):
        if key is None:
            namespace[f"r{j}"] = payload._raw_function()
            lines.append(f"p{j}, t{j} = r{j}(d{j})")
            items.append(f"**p{j}")
            tags.append(f"t{j}")
            reads.update((k, f"p{j}[{name_literal(k)}]") for k in payload.keys)
            complete.append(f"len(p{j}) == {len(payload.keys)}")
        else:
            namespace[f"a{j}"] = payload
            items.append(f"{name_literal(key)}: a{j}[d{j}]")
            reads[key] = f"a{j}[d{j}]"
    merged = "{" + ", ".join(items) + "}"
    if presorted or not complete:
        lines.append(f"m = {merged}")
    else:
        # A case's dict holds only keys of its source, so one of full length holds all.
        ordered = ", ".join(f"{name_literal(key)}: {reads[key]}" for key in keys)
        lines += [
            f"if {' and '.join(complete)}:",
            f"    m = {{{ordered}}}",
            "else:",
            f"    m = dict(sorted({merged}.items()))",
        ]
    return _exec_case(lines, namespace, "m", _balanced_sum(tags) or "()")


def _balanced_sum(terms: Sequence[str]) -> str:
    """``terms`` joined by ``+`` in a balanced tree of parentheses, e.g. ``(t0 + t1) + t2``.

    A flat ``t0 + t1 + ... + tn`` parses into a chain of n nested additions, which the
    compiler walks recursively: a product of a few thousand parts raised RecursionError
    on its first lookup. Balanced, the nesting is ``log2(n)`` deep, and concatenating
    the tags copies each of them ``log2(n)`` times rather than up to n times.

    >>> _balanced_sum(["t0", "t1", "t2", "t3", "t4"])
    '((t0 + t1) + (t2 + t3)) + t4'
    """
    if len(terms) <= 1:
        return "".join(terms)
    half = 1 << ((len(terms) - 1).bit_length() - 1)
    left, right = _balanced_sum(terms[:half]), _balanced_sum(terms[half:])
    return f"{_grouped(left)} + {_grouped(right)}"


def _grouped(expression: str) -> str:
    return f"({expression})" if " " in expression else expression


def _block_digits(
    blocks: Sequence[tuple[int, tuple[tuple[int, int], ...]]], namespace: dict[str, Any]
) -> list[str]:
    """Statements that set ``d{j}`` for every digit, a block at a time (last block: the rest)."""
    lines = []
    for number, (radix, members) in enumerate(blocks):
        last_block = number == len(blocks) - 1
        if last_block:
            lines.append("r = i")
        else:
            lines.append(f"i, r = divmod(i, {int_literal(radix, f'radix{number}', namespace)})")
        for k, (j, size) in enumerate(members):
            if k == len(members) - 1:
                lines.append(f"d{j} = r")
            else:
                n = int_literal(size, f"n{j}", namespace)
                lines += [f"d{j} = r % {n}", f"r //= {n}"]
    return lines


def _exec_case(
    lines: list[str], namespace: dict[str, Any], params: str, tags: str
) -> tuple[Callable[[int], Raw], Callable[[int], ParamCase]]:
    """Compile ``raw(i)`` and ``case(i)``: ``lines``, then the params and tags they set."""
    body = "".join(f"    {line}\n" for line in lines)
    source = (
        f"def raw(i):\n{body}    return {params}, {tags}\n"
        f"def case(i):\n{body}{case_source(params, tags, 'None', '    ')}    return case\n"
    )
    compile_functions(source, namespace, "product")
    return namespace["raw"], namespace["case"]


def _blocks(sizes: Sequence[int]) -> tuple[tuple[int, tuple[tuple[int, int], ...]], ...]:
    """Group the digits, last first, into blocks whose radix product stays below `_WORD`."""
    blocks: list[tuple[int, tuple[tuple[int, int], ...]]] = []
    members: list[tuple[int, int]] = []
    radix = 1
    for j in range(len(sizes) - 1, -1, -1):
        if members and radix * sizes[j] >= _WORD:
            blocks.append((radix, tuple(members)))
            members, radix = [], 1
        members.append((j, sizes[j]))
        radix *= sizes[j]
    blocks.append((radix, tuple(members)))
    return tuple(blocks)


def _key_order(factors: Sequence[Factor]) -> list[str]:
    keys: list[str] = []
    for _, key, payload in factors:
        keys.extend(payload.keys if key is None else (key,))
    for key in keys:
        # Built-in sources normalize their names; a source defined elsewhere must too,
        # since the names are written into the generated lookup (`name_literal`).
        if type(key) is not str:
            msg = f"product: parameter names must be exact str, got {describe(key)}"
            raise ParamError(msg)
    return keys


@final
@attrs.frozen(init=False, repr=False)
class ProductSource(ParamSource):
    """Every case of each part merged with every case of the others: ``a * b``.

    The first part varies slowest (``itertools.product`` order); params merge (the parts
    never share a name), tags concatenate, and the case id is that of the merged params.
    Nested products are flattened, so ``(a * b) * c == a * (b * c)``. Case ``i`` is
    found by mixed-radix arithmetic on the parts' sizes, never by enumerating.

    >>> from metalab import grid, manual
    >>> s = grid(x=[1, 2]) * manual([{"y": 0}, {"y": 1}])
    >>> s.size, s[1].params, s[1].tags
    (4, {'x': 1, 'y': 1}, ('manual_1',))
    """

    manifest_type: ClassVar[str] = "ProductSource"
    repr_operator: ClassVar[str] = "*"

    parts: tuple[ParamSource, ...]
    """The crossed sources, none of them itself a product, with disjoint keys."""

    _factors: tuple[Factor, ...] = attrs.field(init=False, eq=False, repr=False)
    # A product of grids only: `_compile` peels off its digits in blocks (`_blocks`).
    _grids_only: bool = attrs.field(init=False, eq=False, repr=False)
    # Case i otherwise: functions written out for the factors (`_compile`), on first use.
    _compiled: tuple[Callable[[int], Raw], Callable[[int], ParamCase]] | None = attrs.field(
        init=False, eq=False, repr=False
    )
    _sorted: bool = attrs.field(init=False, eq=False, repr=False)
    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _keyset: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _size: int = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, parts: Iterable[ParamSource]) -> None:
        """Cross ``parts`` (at least one, with disjoint keys), flattening nested products.

        Raises:
            ParamError: two parts can produce the same parameter name.
        """
        self.__attrs_init__(_flatten(parts))

    def __attrs_post_init__(self) -> None:
        """Lay out the mixed radix and check whether merged params come out sorted."""
        factors = _factors(self.parts)
        order = _key_order(factors)
        object.__setattr__(self, "_factors", factors)
        grids_only = all(key is not None for _, key, _ in factors)
        object.__setattr__(self, "_grids_only", grids_only)
        object.__setattr__(self, "_compiled", None)
        object.__setattr__(self, "_sorted", order == sorted(order))
        object.__setattr__(self, "_keys", tuple(sorted(order)))
        object.__setattr__(self, "_keyset", frozenset(order))
        object.__setattr__(self, "_size", math.prod(part.size for part in self.parts))

    @classmethod
    def of(cls, *sources: ParamSource) -> ProductSource:
        """Cross sources given as arguments (what ``a * b * c`` builds).

        >>> from metalab import grid
        >>> ProductSource.of(grid(x=[1]), grid(y=[2])) == grid(x=[1]) * grid(y=[2])
        True
        """
        head, *rest = sources or (None,)
        if isinstance(head, ProductSource) and len(rest) == 1 and isinstance(rest[0], ParamSource):
            tail = rest[0]
            return head._extended(tail.parts if isinstance(tail, ProductSource) else (tail,))
        return cls(sources)

    def _extended(self, tail: tuple[ParamSource, ...]) -> ProductSource:
        """``self`` crossed with ``tail``, reusing what ``self`` has worked out.

        ``s = s * part`` in a loop laid out the mixed radix and checked the keys of
        every part each time, in Python (250 s for 8,000 parts). Here only the new parts
        are looked at; what is left per step is copying tuples, which is C-speed.
        """
        factors = _factors(tail)
        order = _key_order(factors)
        if not self._keyset.isdisjoint(order) or len(set(order)) != len(order):
            _check_disjoint(self.parts + tail)  # raises, naming the two parts
        check_added_key_paths(self._keys, self._keyset, order, "cannot cross these sources")
        out: ProductSource = object.__new__(ProductSource)
        object.__setattr__(out, "parts", self.parts + tail)
        object.__setattr__(out, "_factors", self._factors + factors)
        grids_only = self._grids_only and all(key is not None for _, key, _ in factors)
        object.__setattr__(out, "_grids_only", grids_only)
        object.__setattr__(out, "_compiled", None)
        # The merged order is sorted when both are and self's largest key comes first.
        joined = not self._keys or not order or self._keys[-1] < order[0]
        presorted = self._sorted and joined and order == sorted(order)
        object.__setattr__(out, "_sorted", presorted)
        object.__setattr__(out, "_keys", tuple(sorted(self._keys + tuple(order))))
        object.__setattr__(out, "_keyset", self._keyset.union(order))
        object.__setattr__(out, "_size", self._size * math.prod(part.size for part in tail))
        return out

    @property
    def size(self) -> int:
        """The product of the sizes of the parts."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """Every name of every part, sorted."""
        return self._keys

    def describe(self) -> Description:
        """A ``product (*)`` node; its parts are its children."""
        return attrs.evolve(super().describe(), kind="product (*)")

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The listed values of every part (each part is reached by every row)."""
        return parts_listed_values(self, self.parts)

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of the rows ``indices`` reach (all between its ends, if stepped)."""
        if indices.step != 1 and indices[-1] != indices[0]:
            scan.exact = False
        return _key_sets(self.parts, indices[0], indices[-1] + 1, scan)

    def raw(self, i: int) -> Raw:
        compiled = self._compiled or self._compile()
        return compiled[0](i)

    def _case(self, i: int) -> ParamCase:
        compiled = self._compiled or self._compile()
        return compiled[1](i)

    def _compile(self) -> tuple[Callable[[int], Raw], Callable[[int], ParamCase]]:
        blocks = _blocks([size for size, _, _ in self._factors]) if self._grids_only else None
        compiled = _compile(self._factors, self._keys, blocks, presorted=self._sorted)
        object.__setattr__(self, "_compiled", compiled)
        return compiled

    def _generated_code(self) -> str:
        return source_of(*(self._compiled or self._compile()))

    def _tables(self) -> list[list[Raw]] | None:
        """Every factor but the first as a list of raw cases, or None if one is too large."""
        tables: list[list[Raw]] = []
        for size, key, payload in self._factors[1:]:
            if size > _TABLE_LIMIT:
                return None
            if key is None:
                tables.append([payload.raw(d) for d in range(size)])
            else:
                tables.append([({key: payload[d]}, ()) for d in range(size)])
        return tables

    def _stream(self, tables: list[list[Raw]]) -> Iterator[Raw]:
        if not self._factors:  # a product of empty grids: the one empty case
            yield {}, ()
            return
        size, key, payload = self._factors[0]
        first: Iterator[Raw]
        if key is None:
            first = map(payload.raw, range(size))
        else:
            first = (({key: payload[d]}, ()) for d in range(size))
        presorted = self._sorted
        inner = [tuple(table) for table in tables]
        # The first factor streams (itertools.product would hold all of it in memory);
        # the inner factors are small tables by construction.
        for head_params, head_tags in first:
            for combo in product(*inner):
                params = dict(head_params)
                tags = head_tags
                for part_params, part_tags in combo:
                    params.update(part_params)
                    if part_tags:
                        tags += part_tags
                yield (params if presorted else dict(sorted(params.items()))), tags

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order; inner parts are tabulated once when they are small."""
        tables = self._tables()
        if tables is None:
            return super().__iter__()
        return (make_case(p, t) for p, t in self._stream(tables))

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict."""
        tables = self._tables()
        if tables is None:
            return super().dicts()
        return (p for p, _ in self._stream(tables))

    def _digits(self, indices: Indices) -> tuple[int, list[Any]]:
        """Checked indices split into one digit sequence per part."""
        sizes = [part.size for part in self.parts]
        if self._size == 0:
            return len(checked_list(indices, 0)), [[] for _ in sizes]
        if self._size <= INT64_MAX:
            rest = checked_array(indices, self._size)
            digits_np: list[Any] = [None] * len(sizes)
            for j in range(len(sizes) - 1, -1, -1):
                rest, digits_np[j] = np.divmod(rest, sizes[j])
            return len(rest), digits_np
        values = checked_list(indices, self._size)
        digits: list[list[int]] = [[0] * len(values) for _ in sizes]
        for row, index in enumerate(values):
            rest_ = index
            for j in range(len(sizes) - 1, -1, -1):
                rest_, digits[j][row] = divmod(rest_, sizes[j])
        return len(values), digits

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at ``indices``: each part takes its digits in one batch, then merge."""
        count, digits = self._digits(indices)
        per_part = [part.take(d) for part, d in zip(self.parts, digits, strict=True)]
        presorted = self._sorted
        out: list[ParamCase] = []
        for row in range(count):
            params: dict[str, ParamValue] = {}
            tags: tuple[str, ...] = ()
            for cases in per_part:
                case = cases[row]
                params.update(params_of(case))
                if case.tags:
                    tags += case.tags
            if not presorted:
                params = dict(sorted(params.items()))
            out.append(make_case(params, tags))
        return out

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter: each part's own columns at its digits."""
        if self._size == 0:
            if indices is not None:
                checked_list(indices, 0)
            return empty_columns(self._keys)
        if indices is None:
            merged: dict[str, npt.NDArray[Any]] = {}
            inner = self._size
            outer = 1
            for part in self.parts:
                inner //= part.size
                for key, column in part.columns().items():
                    merged[key] = np.tile(np.repeat(column, inner), outer)
                outer *= part.size
            return {key: merged[key] for key in self._keys}
        _, digits = self._digits(indices)
        merged = {}
        for part, d in zip(self.parts, digits, strict=True):
            merged.update(part.columns(d))
        return {key: merged[key] for key in self._keys}

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        subs = [{k: v for k, v in params.items() if k in part.keys} for part in self.parts]
        # Every part is asked now, so a random part raises before any enumeration.
        firsts = [part._indices_of(sub) for part, sub in zip(self.parts, subs, strict=True)]
        if len(params) != sum(map(len, subs)):
            return iter(())
        return self._matches(subs, firsts)

    def _matches(
        self, subs: list[dict[str, ParamValue]], firsts: list[Iterator[int]]
    ) -> Iterator[int]:
        """The matches in increasing order: the parts' matches as the digits of an odometer.

        Every part's first match is read before anything is yielded, so a part without
        one ends the search at once instead of after every match of the parts before
        it; and the odometer is a loop, so thousands of parts need no deep recursion.
        """
        heads: list[int] = []
        for found in firsts:
            head = next(found, None)
            if head is None:
                return
            heads.append(head)
        parts = self.parts
        last = len(parts) - 1
        restored: list[Iterator[int]] = [
            chain((head,), found) for head, found in zip(heads, firsts, strict=True)
        ]
        # The first pass through part j reuses the iterator that found its head.
        fresh: list[Iterator[int] | None] = [None, *restored[1:]]
        # stack[j] runs through the matches of part j; prefixes[j] is the index so far.
        stack = [restored[0]]
        prefixes = [0]
        while stack:
            j = len(stack) - 1
            d = next(stack[j], None)
            if d is None:
                stack.pop()
                prefixes.pop()
                continue
            index = prefixes[j] * parts[j].size + d
            if j == last:
                yield index
                continue
            below = fresh[j + 1]
            fresh[j + 1] = None
            stack.append(below if below is not None else parts[j + 1]._indices_of(subs[j + 1]))
            prefixes.append(index)

    def __reduce__(self) -> tuple[type[ProductSource], tuple[tuple[ParamSource, ...]]]:
        """Pickle the parts; the written-out functions are built again on first use."""
        return ProductSource, (self.parts,)

    def __repr__(self) -> str:
        """The parts joined by ``*``, concatenations in parentheses."""
        return " * ".join(
            f"({part!r})" if part.repr_operator == "+" else repr(part) for part in self.parts
        )


def _key_sets(parts: Sequence[ParamSource], lo: int, hi: int, scan: KeyScan) -> KeySets:
    """The key sets of cases ``lo`` to ``hi - 1`` of the product of ``parts``."""
    if len(parts) == 1:
        return scan.sets(parts[0], range(lo, hi))
    first, rest = parts[0], parts[1:]
    row = math.prod(part.size for part in rest)
    a, b = lo // row, (hi - 1) // row
    if a == b:
        pieces = [(a, a + 1, lo - a * row, hi - a * row)]
    else:
        pieces = [
            (a, a + 1, lo - a * row, row),
            (a + 1, b, 0, row),
            (b, b + 1, 0, hi - b * row),
        ]
    sets: KeySets = set()
    for first_lo, first_hi, rest_lo, rest_hi in pieces:
        if first_lo < first_hi:
            heads = scan.sets(first, range(first_lo, first_hi))
            tails = _key_sets(rest, rest_lo, rest_hi, scan)
            scan.check_count(len(heads) * len(tails))
            sets = scan.limited(sets | {h | t for h in heads for t in tails})
    return sets
