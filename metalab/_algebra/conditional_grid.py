"""Grids with conditional axes: `ConditionalGridSource`, a concatenation of products.

The unconditional axes form the grid in the usual order (sorted keys, the last fastest);
at each of their combinations, the conditional axes active there vary fastest, sorted
among themselves. ``grid(opt=["adam", "sgd"], momentum=when(col("opt") == "sgd", [0.9,
0.99]))`` is ``grid(opt=["adam"]) + grid(opt=["sgd"], momentum=[0.9, 0.99])``: 3 cases.

The sweep is built, when it is defined, as that sum of products of plain grids, walking
the axes in order: a run of axes no condition reads is one grid factor, an axis that a
condition reads is split into its values (a concatenation), and a conditional axis is
a factor of the values its switch selects there. Only the axes that conditions read are
enumerated, never the rest of the grid; their combinations may number at most
`SCAN_LIMIT` (the limit of ``where``), else the grid is refused when it is defined.
Consecutive values that lead to the same sub-sweep share one factor, so the sum has as
few parts as the conditions allow. Size and indexing are those of the sum: exact, and
O(log parts) per case.

A conditional axis may read unconditional axes and conditional axes that sort before it
(those are already fixed when it varies); it is absent where its switch selects no
branch, or where it reads an absent axis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar, final

import attrs
import numpy as np

from metalab._algebra._expressions import check_expression
from metalab._algebra.concat import ConcatSource
from metalab._algebra.product import ProductSource
from metalab._algebra.where import SCAN_LIMIT
from metalab._core.case import ParamCase, encode_value
from metalab._core.intstr import format_count
from metalab._core.values import FrozenDict, ParamValue, column_array, named_items, show
from metalab._expr import Col, compile_case
from metalab._sources.base import (
    Description,
    Indices,
    KeyScan,
    KeySets,
    ParamSource,
    Raw,
    checked_list,
)
from metalab._sources.distributions import Distribution
from metalab._sources.grid import Axis, GridSource, range_len
from metalab._sources.switch import Switch
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    import numpy.typing as npt

__all__ = ["ConditionalGridSource", "conditional_grid"]


def _to_spec(values: Mapping[Any, Any]) -> FrozenDict[str, Axis | Switch]:
    items: list[tuple[str, Axis | Switch]] = []
    for name, entry in named_items(values, "grid"):
        if isinstance(entry, Switch):
            for key, payload in entry.branches:
                if isinstance(payload, Distribution):
                    msg = (
                        f"grid {name!r}: switch branch {show(key)} must be a list of values, "
                        f"got {payload!r} (distributions are for random spaces)"
                    )
                    raise ParamError(msg)
            items.append((name, entry))
        else:
            items.append((name, GridSource({name: entry}).spec[name]))
    return FrozenDict(items)


def _spec_key(spec: Mapping[str, Axis | Switch]) -> object:
    # Values compare by their type-tagged encoding (1, 1.0 and True differ), as in a grid.
    def key(entry: Axis | Switch) -> object:
        if isinstance(entry, range):
            return ("range", entry.start, entry.stop, entry.step)
        return entry if isinstance(entry, Switch) else encode_value(entry)

    return tuple((name, key(entry)) for name, entry in spec.items())


def _size(axis: Axis) -> int:
    return range_len(axis) if isinstance(axis, range) else len(axis)


@final
@attrs.frozen(init=False, repr=False)
class ConditionalGridSource(ParamSource):
    """A grid some of whose axes exist only where a condition holds (see the module).

    Built by `metalab.grid` when an axis is a `Switch`.

    >>> from metalab import col, grid, when
    >>> g = grid(opt=["adam", "sgd"], momentum=when(col("opt") == "sgd", [0.9, 0.99]))
    >>> [dict(c.params) for c in g]
    [{'opt': 'adam'}, {'momentum': 0.9, 'opt': 'sgd'}, {'momentum': 0.99, 'opt': 'sgd'}]
    """

    manifest_type: ClassVar[str] = "ConditionalGridSource"

    spec: Mapping[str, tuple[ParamValue, ...] | range | Switch] = attrs.field(eq=_spec_key)
    """The values or the switch of each parameter, keys sorted."""

    _tree: ParamSource = attrs.field(init=False, eq=False, repr=False)
    _conditional: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _nullable: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, spec: Mapping[str, Any]) -> None:
        """Validate the axes and the conditions, and build the sum of products."""
        self.__attrs_init__(_to_spec(spec))

    def __attrs_post_init__(self) -> None:
        """Check what the conditions read and build the sum of products."""
        spec = self.spec
        plain = [k for k, v in spec.items() if not isinstance(v, Switch)]
        conditional = [k for k, v in spec.items() if isinstance(v, Switch)]
        if not plain:
            msg = "grid: a grid with conditional axes needs at least one unconditional axis"
            raise ParamError(msg)
        order = plain + conditional
        position = {name: j for j, name in enumerate(order)}
        read: set[str] = set()
        for name in conditional:
            entry = spec[name]
            assert isinstance(entry, Switch)
            for other in entry.names():
                if other not in spec:
                    listed = ", ".join(map(repr, spec))
                    msg = (
                        f"grid {name!r}: its condition {entry.expr!r} reads {other!r}, which "
                        f"is no axis of the grid (it has: {listed})"
                    )
                    raise ParamError(msg)
                if position[other] > position[name]:
                    msg = (
                        f"grid {name!r}: its condition reads the conditional axis {other!r}, "
                        "which varies faster (conditional axes vary in sorted order); a "
                        "conditional axis may read unconditional axes and conditional axes "
                        "that sort before it"
                    )
                    raise ParamError(msg)
                read.add(other)
            _check_branches(name, entry, spec)
        scanned = math.prod(
            _size(a) if isinstance(a := spec[k], range | tuple) else 1 for k in plain if k in read
        )
        if scanned > SCAN_LIMIT:
            sizes = ", ".join(
                f"{k!r} ({format_count(_size(a))} values)"
                for k in plain
                if k in read and isinstance(a := spec[k], range | tuple)
            )
            msg = (
                f"grid: the conditions read the axes {sizes}, whose {format_count(scanned)} "
                f"combinations exceed the scan limit of {format_count(SCAN_LIMIT)}; make the "
                "conditions read fewer or shorter axes"
            )
            raise ParamError(msg)
        nullable = frozenset(
            name
            for name in conditional
            if any(
                isinstance(p, tuple) and any(v is None for v in p)
                for _, p in _switch(spec, name).branches
            )
        )
        object.__setattr__(self, "_conditional", tuple(sorted(conditional)))
        object.__setattr__(self, "_nullable", nullable)
        object.__setattr__(self, "_tree", _Builder(spec, order, read).build())

    # -- the protocol, answered by the sum of products ----------------------------------
    @property
    def size(self) -> int:
        """The exact number of cases."""
        return self._tree.size

    @property
    def keys(self) -> tuple[str, ...]:
        """Every parameter a case can have, sorted."""
        return tuple(self.spec)

    @property
    def conditional_keys(self) -> tuple[str, ...]:
        """The axes that some cases lack, sorted."""
        return self._conditional

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict, sorted) and tags of case ``i``, ``0 <= i < size``."""
        params, tags = self._tree.raw(i)
        return dict(sorted(params.items())), tags

    def _case(self, i: int) -> ParamCase:
        return self._tree[i]

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order."""
        return iter(self._tree)

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict."""
        return (dict(sorted(d.items())) for d in self._tree.dicts())

    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at many indices (same as indexing)."""
        return self._tree.take(indices)

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter; a conditional axis gives a masked array (mask: absent).

        >>> from metalab import col, grid, when
        >>> g = grid(opt=["adam", "sgd"], momentum=when(col("opt") == "sgd", [0.9, 0.99]))
        >>> g.columns()["momentum"].mask.tolist()
        [True, False, False]
        """
        columns = self._tree.columns(indices)
        out: dict[str, npt.NDArray[Any]] = {}
        for key in self.spec:
            column = columns[key]
            if key not in self._conditional:
                out[key] = column
            elif key in self._nullable:  # None is a value here: ask each case
                present = _presence(self, key, indices)
                out[key] = _masked(column, present)
            else:
                present = np.fromiter(
                    (v is not None for v in column.tolist()), dtype=np.bool_, count=len(column)
                )
                out[key] = _masked(column, present)
        return out

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        return self._tree._indices_of(params)  # noqa: SLF001 - the sum of products answers

    # -- what the layers above ask ------------------------------------------------------
    def describe(self) -> Description:
        """A ``grid`` node: one line per axis, and one per branch of a conditional axis."""
        lines: list[tuple[str, str, object]] = []
        for key, entry in self.spec.items():
            if isinstance(entry, Switch):
                lines.extend((key, ":", text) for text in entry.branch_texts())
            else:
                lines.append((key, ":", entry))
        return Description("grid", ("conditional",), tuple(lines))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """Every value of every unconditional axis (the conditional ones may be absent)."""
        for key, entry in self.spec.items():
            if not isinstance(entry, Switch):
                for value in (entry.start,) if isinstance(entry, range) else entry:
                    yield key, value, f"grid values for {key!r}"

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of the parts of the sum that ``indices`` reach."""
        return scan.sets(self._tree, indices)

    def __reduce__(self) -> tuple[Callable[..., ConditionalGridSource], tuple[Any, ...]]:
        """Pickle the axes; the sum of products is built again."""
        return ConditionalGridSource, (dict(self.spec),)

    def __repr__(self) -> str:
        """The factory call that builds this grid."""
        shown = {k: v if isinstance(v, range | Switch) else list(v) for k, v in self.spec.items()}
        if all(k.isidentifier() for k in shown):
            return "grid(" + ", ".join(f"{k}={_show(v)}" for k, v in shown.items()) + ")"
        return "grid({" + ", ".join(f"{k!r}: {_show(v)}" for k, v in shown.items()) + "})"


def _show(value: object) -> str:
    return repr(value) if isinstance(value, Switch) else show(value)


def _check_branches(name: str, entry: Switch, spec: Mapping[str, Axis | Switch]) -> None:
    """A branch keyed by a value the read axis never has is a mistake."""
    if not isinstance(entry.expr, Col):
        return
    axis = spec[entry.expr.name]
    if isinstance(axis, tuple):
        values = {(type(v), v) for v in axis if isinstance(v, str | int | float)}
        for key, _ in entry.branches:
            if (type(key), key) not in values:
                msg = (
                    f"grid {name!r}: switch branch {show(key)} is never taken: "
                    f"{entry.expr.name!r} has the values {show(list(axis))}"
                )
                raise ParamError(msg)


def _masked(column: npt.NDArray[Any], present: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    if column.dtype != np.dtype(object):
        return np.ma.MaskedArray(column, mask=~present)
    values = column[present].tolist()
    typed = column_array(values) if values else np.empty(0, dtype=object)
    if typed.dtype.kind == "O":
        data = column
    else:
        data = np.zeros(len(column), dtype=typed.dtype)
        data[present] = typed
    return np.ma.MaskedArray(data, mask=~present)


def _presence(
    source: ConditionalGridSource, key: str, indices: Indices | None
) -> npt.NDArray[np.bool_]:
    idx = range(source.size) if indices is None else checked_list(indices, source.size)
    return np.fromiter((key in source.raw(i)[0] for i in idx), dtype=np.bool_, count=len(idx))


class _Builder:
    """Builds the sum of products, axis by axis (see the module)."""

    def __init__(
        self, spec: Mapping[str, Axis | Switch], order: Sequence[str], read: set[str]
    ) -> None:
        self.spec = spec
        self.order = order
        self.read = read
        # The names that the axes from position j on read: what a sub-sweep depends on.
        self.reads_from = [
            frozenset(
                n for name in order[j:] if isinstance(e := spec[name], Switch) for n in e.names()
            )
            for j in range(len(order) + 1)
        ]
        self.memo: dict[tuple[int, bytes], ParamSource | None] = {}
        self.functions = {
            name: compile_case(e.expr) for name, e in spec.items() if isinstance(e, Switch)
        }

    def build(self) -> ParamSource:
        tree = self._build(0, {})
        assert tree is not None
        return tree

    def _build(self, k: int, env: dict[str, ParamValue]) -> ParamSource | None:
        memo_key = (
            k,
            encode_value(tuple((n, env[n]) for n in sorted(self.reads_from[k]) if n in env)),
        )
        if memo_key in self.memo:
            return self.memo[memo_key]
        order, spec = self.order, self.spec
        j = k
        while (
            j < len(order) and not isinstance(spec[order[j]], Switch) and order[j] not in self.read
        ):
            j += 1
        prefix = GridSource({name: _axis(spec, name) for name in order[k:j]}) if j > k else None
        rest: ParamSource | None = None
        if j < len(order):
            name = order[j]
            values = self._values(name, env)
            if values is None:
                rest = self._build(j + 1, env)
            elif name in self.read:
                rest = self._split(name, values, j, env)
            else:
                rest = _cross(GridSource({name: values}), self._build(j + 1, env))
        out = _join(prefix, rest)
        self.memo[memo_key] = out
        return out

    def _values(self, name: str, env: dict[str, ParamValue]) -> Axis | None:
        entry = self.spec[name]
        if not isinstance(entry, Switch):
            return entry
        if any(n not in env for n in entry.names()):
            return None  # it reads an absent axis
        value = check_expression(entry.expr, self.functions[name], env, 0, f"grid {name!r}:")
        payload = entry.branch(value)
        assert not isinstance(payload, Distribution)
        return payload

    def _split(self, name: str, values: Axis, j: int, env: dict[str, ParamValue]) -> ParamSource:
        """One part per run of values that lead to the same sub-sweep."""
        runs: list[tuple[list[ParamValue], ParamSource | None]] = []
        for value in values:
            sub = self._build(j + 1, {**env, name: value})
            if runs and (runs[-1][1] is sub or runs[-1][1] == sub):
                runs[-1][0].append(value)
            else:
                runs.append(([value], sub))
        parts = [_cross(GridSource({name: run}), sub) for run, sub in runs]
        return parts[0] if len(parts) == 1 else ConcatSource.of(*parts)


def _join(a: ParamSource | None, b: ParamSource | None) -> ParamSource | None:
    return b if a is None else _cross(a, b)


def _cross(a: ParamSource, b: ParamSource | None) -> ParamSource:
    return a if b is None else ProductSource.of(a, b)


def _axis(spec: Mapping[str, Axis | Switch], name: str) -> Axis:
    entry = spec[name]
    assert not isinstance(entry, Switch)  # called for unconditional axes only
    return entry


def _switch(spec: Mapping[str, Axis | Switch], name: str) -> Switch:
    entry = spec[name]
    assert isinstance(entry, Switch)  # called for conditional axes only
    return entry


def conditional_grid(spec: Mapping[str, Any]) -> ConditionalGridSource:
    """A grid with conditional axes (what `metalab.grid` builds when an axis is a switch)."""
    return ConditionalGridSource(spec)
