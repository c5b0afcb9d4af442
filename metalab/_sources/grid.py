"""Grid search: `GridSource`, the Cartesian product of per-parameter value lists."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import product, repeat
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, final, overload

import attrs
import numpy as np

from metalab._core.case import ParamCase, encode_item, encode_value, make_case
from metalab._core.codegen import (
    CACHE_SIZE,
    CASE_NAMESPACE,
    case_source,
    compile_functions,
    int_literal,
    name_literal,
    source_of,
)
from metalab._core.values import (
    INT64_MAX,
    FrozenDict,
    ParamInput,
    ParamValue,
    all_atomic,
    check_key_paths,
    column_array,
    describe,
    merge_named,
    named_items,
    normalize_value,
    show,
)
from metalab._sources.base import (
    Description,
    Factor,
    Indices,
    KeyScan,
    KeySets,
    ParamSource,
    Raw,
    bulk,
    checked_array,
    checked_list,
)
from metalab._sources.switch import Switch
from metalab.errors import ParamError

if TYPE_CHECKING:
    import numpy.typing as npt

    from metalab._algebra import SliceSource
    from metalab._algebra.conditional_grid import ConditionalGridSource

__all__ = ["Axis", "AxisInput", "GridSource", "grid"]

Axis: TypeAlias = "tuple[ParamValue, ...] | range"
"""The values of one grid parameter: a tuple of values, or a ``range`` kept lazy."""

AxisInput: TypeAlias = "Sequence[ParamInput] | npt.NDArray[Any]"
"""What the values of one grid parameter may be given as: a sequence, a range or a 1-d array."""

_Functions: TypeAlias = tuple[
    "Callable[[int], ParamCase]",
    "Callable[..., Iterator[ParamCase]]",
    "Callable[..., Iterator[dict[str, ParamValue]]]",
    "Callable[[int], Raw] | None",
]
"""A grid's lookup, streaming, dict-streaming and raw functions (see `_compile`)."""

_MATERIALIZE_LIMIT: Final = 1 << 16
"""Range axes up to this length are expanded (with precomputed id encodings) to iterate."""


def range_len(r: range) -> int:
    """``len(r)`` for ranges of any size (the builtin overflows beyond ``sys.maxsize``)."""
    if r.step > 0:
        return max(0, (r.stop - r.start + r.step - 1) // r.step)
    return max(0, (r.start - r.stop - r.step - 1) // -r.step)


def _normalize_axis(name: str, values: object) -> Axis:
    cls = type(values)
    if (cls is list or cls is tuple) and values and all_atomic(values):  # type: ignore[arg-type]
        return tuple(values)  # type: ignore[arg-type]  # the usual axis, already in normal form
    where = f"grid values for {name!r}"
    if isinstance(values, range):
        if range_len(values) == 0:
            msg = f"{where} must be non-empty, got an empty {show(values)}"
            raise ParamError(msg)
        return values
    return value_list(values, where)


def value_list(values: object, where: str) -> tuple[ParamValue, ...]:
    """Normalize a non-empty, ordered sequence of values (grid axes, zip columns).

    ``where`` names the parameter for the message, e.g. ``"zip values for 'lr'"``.

    >>> value_list(range(3), "grid values for 'x'")
    (0, 1, 2)
    """
    cls = type(values)
    if (cls is list or cls is tuple) and values and all_atomic(values):  # type: ignore[arg-type]
        return tuple(values)  # type: ignore[arg-type]  # the usual axis, already in normal form
    if isinstance(values, str | bytes):
        msg = (
            f"{where} must be a non-empty sequence, got {describe(values)}; "
            f"wrap a single value in a list: [{values!r}]"
        )
        raise ParamError(msg)
    if isinstance(values, np.ndarray):
        if values.ndim == 0:
            held = show(values.item())
            msg = f"{where} must be a non-empty sequence, got a 0-d NumPy array holding {held}"
            raise ParamError(msg)
        if values.ndim != 1:
            msg = (
                f"{where} must be a 1-d sequence of values, got an array of shape "
                f"{values.shape}; a grid axis lists one value per point (wrap each row "
                "in a list to use rows as tuple values)"
            )
            raise ParamError(msg)
        if values.size == 0:
            msg = f"{where} must be a non-empty sequence, got an empty array"
            raise ParamError(msg)
        values = list(values)
    if isinstance(values, set | frozenset):
        msg = (
            f"{where} must be an ordered sequence, got a {type(values).__name__} (no stable order)"
        )
        raise ParamError(msg)
    if not isinstance(values, Sequence):
        msg = (
            f"{where} must be a non-empty sequence (list, tuple, range or 1-d array), "
            f"got {describe(values)}"
        )
        raise ParamError(msg)
    axis = tuple(normalize_value(v, where) for v in values)
    if not axis:
        msg = f"{where} must be a non-empty sequence, got an empty {type(values).__name__}"
        raise ParamError(msg)
    return axis


def _axis_key(axis: Axis) -> object:
    # Equality and hashing must tell 1, 1.0 and True apart: compare encodings.
    if isinstance(axis, range):
        return ("range", axis.start, axis.stop, axis.step)
    return encode_value(axis)


def _spec_key(spec: Mapping[str, Axis]) -> tuple[tuple[str, object], ...]:
    return tuple((k, _axis_key(v)) for k, v in spec.items())


def _to_spec(values: Mapping[Any, Any]) -> FrozenDict[str, Axis]:
    items = named_items(values, "grid")
    check_key_paths((k for k, _ in items), "grid")
    return FrozenDict((k, _normalize_axis(k, v)) for k, v in items)


@final
@attrs.frozen(init=False, repr=False)
class GridSource(ParamSource):
    """The Cartesian product of per-parameter values, in ``itertools.product`` order.

    Keys are sorted; the last key varies fastest. Indexing is modular arithmetic, so
    ``source[i]`` never enumerates, and a ``range`` axis is never materialized.

    >>> g = GridSource(lr=[0.1, 0.01], seed=range(3))
    >>> len(g), g[4].params
    (6, {'lr': 0.01, 'seed': 1})
    """

    manifest_type: ClassVar[str] = "GridSource"

    spec: Mapping[str, Axis] = attrs.field(eq=_spec_key)
    """The values of each parameter, keys sorted."""

    _sizes: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    # The id encodings of every listed value, computed on first use (iteration, index_of):
    # building a grid stays cheap when only single cases are looked up.
    _encoded_cache: tuple[tuple[bytes, ...] | None, ...] | None = attrs.field(
        init=False, eq=False, repr=False
    )
    _size: int = attrs.field(init=False, eq=False, repr=False)
    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    # The lookup, streaming, dict-streaming and raw(i) functions written out for the
    # axes (see `_compile`), on first use: a grid that is only a factor of a product
    # (which writes out its own) or only defined never pays for them. raw(i) is None
    # for a grid too wide to write out; composites (a concatenation inside a product,
    # say) ask every case of a grid through it.
    _written: _Functions | None = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, spec: Mapping[str, AxisInput] | None = None, /, **values: AxisInput) -> None:
        """Build a grid from a mapping and/or keyword arguments of value sequences."""
        self.__attrs_init__(_to_spec(merge_named("grid", spec, values)))

    def __attrs_post_init__(self) -> None:
        """Precompute the sizes; the functions for the axes are written on first use."""
        sizes = tuple(range_len(a) if isinstance(a, range) else len(a) for a in self.spec.values())
        object.__setattr__(self, "_sizes", sizes)
        object.__setattr__(self, "_encoded_cache", None)
        object.__setattr__(self, "_size", math.prod(sizes))
        object.__setattr__(self, "_keys", tuple(self.spec))
        object.__setattr__(self, "_written", None)

    def _functions(self) -> _Functions:
        """The functions written out for the axes, written on the first call."""
        written = self._written
        if written is None:  # two threads may both write them: the same functions
            written = _compile(self._keys, tuple(self.spec.values()), self._sizes)
            object.__setattr__(self, "_written", written)
        return written

    @property
    def _encoded(self) -> tuple[tuple[bytes, ...] | None, ...]:
        """The id encodings of every listed value, axis by axis (None for a range)."""
        encoded = self._encoded_cache
        if encoded is None:
            encoded = tuple(
                None if isinstance(a, range) else tuple(encode_item(k, v) for v in a)
                for k, a in self.spec.items()
            )
            object.__setattr__(self, "_encoded_cache", encoded)
        return encoded

    @property
    def size(self) -> int:
        """The number of cases: the product of the axis lengths."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameter names, sorted."""
        return tuple(self.spec)

    def _digits(self, i: int) -> list[int]:
        digits = [0] * len(self._sizes)
        for axis in range(len(self._sizes) - 1, -1, -1):
            i, digits[axis] = divmod(i, self._sizes[axis])
        return digits

    def describe(self) -> Description:
        """A ``grid`` node: one line per axis, with its values."""
        return Description("grid", (), tuple((key, ":", axis) for key, axis in self.spec.items()))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """Every value of every axis (of a range axis, its first value stands for all)."""
        if self.size == 0:
            return
        for key, axis in self.spec.items():
            where = f"grid values for {key!r}"
            # A range holds ints only: its first value stands for all of them.
            for value in (axis.start,) if isinstance(axis, range) else axis:
                yield key, value, where

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """Every case has every axis."""
        del indices, scan
        return {frozenset(self.keys)}

    def product_factors(self) -> tuple[Factor, ...]:
        """One digit per axis, so a product of grids is one flat mixed radix."""
        return tuple(
            (range_len(axis) if isinstance(axis, range) else len(axis), key, axis)
            for key, axis in self.spec.items()
        )

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        written = (self._written or self._functions())[3]
        if written is not None:
            return written(i)
        digits = self._digits(i)
        return (
            {k: a[d] for (k, a), d in zip(self.spec.items(), digits, strict=True)},
            (),
        )

    def _case(self, i: int) -> ParamCase:
        return (self._written or self._functions())[0](i)

    def _case_function(self) -> Callable[[int], ParamCase]:
        return (self._written or self._functions())[0]

    def _raw_function(self) -> Callable[[int], Raw]:
        written = (self._written or self._functions())[3]
        return self.raw if written is None else written

    @overload
    def __getitem__(self, index: int) -> ParamCase: ...
    @overload
    def __getitem__(self, index: slice) -> SliceSource: ...
    def __getitem__(self, index: int | slice) -> ParamCase | SliceSource:
        """Case ``index`` (negative counts from the end), or a lazy slice of the grid."""
        if type(index) is int and 0 <= index < self._size:
            return (self._written or self._functions())[0](index)
        return super().__getitem__(index)

    def _iter_axes(self) -> tuple[list[Sequence[ParamValue]], list[Sequence[bytes]] | None] | None:
        """The axes as sequences to feed ``itertools.product``, or None if one is too large."""
        values: list[Sequence[ParamValue]] = []
        encoded: list[Sequence[bytes]] = []
        for (key, axis), enc, size in zip(
            self.spec.items(), self._encoded, self._sizes, strict=True
        ):
            if isinstance(axis, range):
                if size > _MATERIALIZE_LIMIT:
                    return None
                values.append(tuple(axis))
                encoded.append(tuple(encode_item(key, v) for v in axis))
            else:
                values.append(axis)
                encoded.append(enc)  # type: ignore[arg-type]
        return values, encoded

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order, streamed (memory does not grow with the grid)."""
        axes = self._iter_axes()
        if axes is None:
            return super().__iter__()
        values, encoded = axes
        return self._functions()[1](values, encoded)

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict, streamed at ``itertools.product`` speed."""
        axes = self._iter_axes()
        if axes is None:
            return super().dicts()
        return self._functions()[2](axes[0])

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        if set(params) != set(self.spec):
            return iter(())
        positions: list[list[int]] = []
        for (key, axis), enc in zip(self.spec.items(), self._encoded, strict=True):
            value = params[key]
            if isinstance(axis, range):
                if type(value) is not int or value not in axis:
                    return iter(())
                positions.append([axis.index(value)])
            else:
                target = encode_item(key, normalize_value(value, "index_of"))
                found = [j for j, e in enumerate(enc or ()) if e == target]
                if not found:
                    return iter(())
                positions.append(found)
        return (self._flat(d) for d in product(*positions))

    def _flat(self, digits: Sequence[int]) -> int:
        i = 0
        for d, n in zip(digits, self._sizes, strict=True):
            i = i * n + d
        return i

    def _generated_code(self) -> str:
        return source_of(self._functions()[0])

    # -- batches: vectorized digit arithmetic, beside the generated per-case functions --
    def _digit_arrays(self, indices: Indices) -> tuple[int, list[Any]]:
        """Checked ``indices`` split into one digit sequence per axis (the last fastest).

        ``np.divmod`` on ``int64`` arrays when the grid's size fits, else lists of exact
        Python ints (a grid may have more than ``2**63`` cases).
        """
        sizes = self._sizes
        digits: list[Any] = [None] * len(sizes)
        if self._size <= INT64_MAX:
            rest = checked_array(indices, self._size)
            for j in range(len(sizes) - 1, 0, -1):
                rest, digits[j] = np.divmod(rest, sizes[j])
            if sizes:
                digits[0] = rest
            return len(rest), digits
        values = checked_list(indices, self._size)
        exact = [[0] * len(values) for _ in sizes]
        for row, index in enumerate(values):
            rest_ = index
            for j in range(len(sizes) - 1, 0, -1):
                rest_, exact[j][row] = divmod(rest_, sizes[j])
            exact[0][row] = rest_
        return len(values), exact

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at ``indices``: digits for all at once, then one case per row.

        >>> g = grid(x=[1, 2], y=range(3))
        >>> g.take([5, 0]) == [g[5], g[0]]
        True
        """
        count, digits = self._digit_arrays(indices)
        keys = self._keys
        if not keys:
            return [make_case({}, ()) for _ in range(count)]
        values = [_axis_values(a, d) for a, d in zip(self.spec.values(), digits, strict=True)]
        # Loops in C: a Python frame per case only for make_case itself.
        rows = map(zip, repeat(keys), zip(*values, strict=True))
        return list(map(make_case, map(dict, rows), repeat(())))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One NumPy array per parameter over the cases at ``indices`` (default: all).

        Each axis's values become one array, spread by ``np.repeat`` and ``np.tile``
        (all cases) or picked by vectorized digits (``indices``): no case is built. The dtypes are
        those of ``column_array`` over the same values.

        >>> cols = grid(x=[1, 2], y=["a", "bc"]).columns()
        >>> cols["x"].tolist(), cols["y"].tolist(), cols["y"].dtype
        ([1, 1, 2, 2], ['a', 'bc', 'a', 'bc'], dtype('<U2'))
        """
        if indices is None:
            size = len(self)  # SizeOverflowError beyond sys.maxsize, as for random sources
            out: dict[str, npt.NDArray[Any]] = {}
            inner, outer = size, 1
            for (key, axis), n in zip(self.spec.items(), self._sizes, strict=True):
                inner //= n
                column = _axis_column(axis, np.arange(n, dtype=np.int64), every=True)
                out[key] = np.tile(np.repeat(column, inner), outer)
                outer *= n
            return out
        count, digits = self._digit_arrays(indices)
        if count == 0:
            return {key: column_array([]) for key in self._keys}
        return {
            key: _axis_column(axis, d, every=False)
            for (key, axis), d in zip(self.spec.items(), digits, strict=True)
        }

    def __reduce__(self) -> tuple[type[GridSource], tuple[dict[str, Axis]]]:
        """Pickle the spec; the generated lookup and stream functions are built again."""
        return GridSource, (dict(self.spec),)

    def __repr__(self) -> str:
        """The factory call that builds this grid."""
        return f"grid({_format_kwargs(self.spec)})"


def _int64_range(axis: range) -> bool:
    """Whether every value of ``axis``, and each step from its start, fits in ``int64``."""
    last = axis.start + (range_len(axis) - 1) * axis.step
    return max(abs(axis.start), abs(last), abs(last - axis.start)) <= INT64_MAX


def _axis_values(axis: Axis, digits: Any) -> list[ParamValue]:
    """The values of ``axis`` at ``digits`` (an ``int64`` array or a list of ints)."""
    if isinstance(digits, np.ndarray):
        if isinstance(axis, range):
            if _int64_range(axis):
                return (axis.start + digits * axis.step).tolist()  # type: ignore[no-any-return]
        else:
            column = column_array(axis)
            if column.dtype != object:  # plain int, float, bool or str: tolist gives them back
                return column[digits].tolist()  # type: ignore[no-any-return]
        digits = digits.tolist()
    return list(map(axis.__getitem__, digits))


def _axis_column(axis: Axis, digits: Any, *, every: bool) -> npt.NDArray[Any]:
    """``column_array`` of the values of ``axis`` at ``digits``, computed per axis value.

    ``every`` says the digits hold every position of the axis, so the column has the
    types of the whole axis and needs no second look.
    """
    if isinstance(axis, range):
        if _int64_range(axis):
            return axis.start + np.asarray(digits, dtype=np.int64) * axis.step
        return column_array(_axis_values(axis, digits))
    column = column_array(axis)[np.asarray(digits, dtype=np.intp)]
    if every:
        return column
    if column.dtype == object:
        # Mixed over the axis, perhaps not over the chosen cases: column_array decides.
        return column_array(column.tolist())
    if column.dtype.kind == "U":
        # A str array is as wide as its longest str: that of the chosen cases.
        width = max(1, int(np.char.str_len(column).max()))
        return column.astype(f"<U{width}")
    return column


def _compile(keys: tuple[str, ...], axes: tuple[Axis, ...], sizes: tuple[int, ...]) -> _Functions:
    """Case lookup, case streaming, dict streaming and raw(i) written out for a grid's axes.

    Like the ``__init__`` that attrs generates, each function is spelled out for the exact
    axes, so the per-case work is a few operations with no generic loop. For the axes
    ``lr`` (2 values) and ``seed`` (3 values) they read::

        def lookup(i):
            v1 = a1[i % 3]
            i //= 3
            v0 = a0[i]
            case = _new_case(_ParamCase)
            _set_params(case, {'lr': v0, 'seed': v1})
            _set_tags(case, ())
            _set_id(case, None)
            return case

        def stream(values, encoded):
            for (v0, v1, ), enc in zip(product(*values), product(*encoded)):
                ... (the same four lines, with enc as the pre-encoded items)
                yield case

        def stream_dicts(values):
            for (v0, v1, ) in product(*values):
                yield {'lr': v0, 'seed': v1}

        def raw(i):
            ... (the lines of lookup up to v0, then)
            return {'lr': v0, 'seed': v1}, ()

    Keys enter the source only as literals of exact ``str`` (`name_literal`), sizes as
    int literals (bound by name beyond 64 bits, see `int_literal`). A grid of more than
    `_GENERATED_AXES` axes gets the generic functions of `_generic` instead.
    """
    if len(keys) > _GENERATED_AXES:
        return _generic(keys, axes, sizes)
    text, bound, names = _text(keys, sizes)
    namespace: dict[str, Any] = {**CASE_NAMESPACE, "product": product, **bound}
    namespace.update(zip(names, axes, strict=True))
    compile_functions(text, namespace, "grid")
    return namespace["lookup"], namespace["stream"], namespace["stream_dicts"], namespace["raw"]


@functools.lru_cache(maxsize=CACHE_SIZE)
def _text(
    keys: tuple[str, ...], sizes: tuple[int, ...]
) -> tuple[str, dict[str, object], tuple[str, ...]]:
    """`_compile`'s text for a grid's shape, the ints it binds by name, its axes' names.

    Built once per shape; the caller must not change the dict.
    """
    bound: dict[str, object] = {}
    params = "{" + ", ".join(f"{name_literal(key)}: v{j}" for j, key in enumerate(keys)) + "}"
    lookup = ["def lookup(i):\n"]
    for j in range(len(keys) - 1, 0, -1):
        size = int_literal(sizes[j], f"n{j}", bound)
        lookup.append(f"    v{j} = a{j}[i % {size}]\n    i //= {size}\n")
    if keys:
        lookup.append("    v0 = a0[i]\n")
    digit_lines = lookup[1:]
    lookup += [case_source(params, "()", "None", "    "), "    return case\n"]
    lookup += ["def raw(i):\n", *digit_lines, f"    return {params}, ()\n"]
    targets = "".join(f"v{j}, " for j in range(len(keys)))
    stream = [
        "def stream(values, encoded):\n",
        f"    for ({targets}), enc in zip(product(*values), product(*encoded)):\n",
        case_source(params, "()", "enc", "        "),
        "        yield case\n",
        "def stream_dicts(values):\n",
        f"    for ({targets}) in product(*values):\n",
        f"        yield {params}\n",
    ]
    return "".join(lookup) + "".join(stream), bound, tuple(f"a{j}" for j in range(len(keys)))


_GENERATED_AXES: Final = 256
"""The most axes a grid writes its functions out for (see `_compile`).

Compiling written-out code costs more than linear time in its length (seconds and
gigabytes for 20,000 axes), while a case of a wide grid costs time linear in its axes
either way: wider grids use generic loops, which give the same cases.
"""


def _generic(
    keys: tuple[str, ...], axes: tuple[Axis, ...], sizes: tuple[int, ...]
) -> tuple[
    Callable[[int], ParamCase],
    Callable[..., Iterator[ParamCase]],
    Callable[..., Iterator[dict[str, ParamValue]]],
    None,
]:
    """`_compile`'s functions as loops over the axes, for grids of any width (raw: None)."""
    last = len(keys) - 1
    inner = tuple((j, axes[j], sizes[j]) for j in range(last, 0, -1))

    def lookup(i: int) -> ParamCase:
        values: list[ParamValue] = [None] * len(keys)
        for j, axis, size in inner:
            i, digit = divmod(i, size)
            values[j] = axis[digit]
        values[0] = axes[0][i]
        return make_case(dict(zip(keys, values, strict=True)), ())

    def stream(
        values: Sequence[Sequence[ParamValue]], encoded: Sequence[Sequence[bytes]]
    ) -> Iterator[ParamCase]:
        for case_values, enc in zip(product(*values), product(*encoded), strict=True):
            yield make_case(dict(zip(keys, case_values, strict=True)), (), enc)

    def stream_dicts(values: Sequence[Sequence[ParamValue]]) -> Iterator[dict[str, ParamValue]]:
        for case_values in product(*values):
            yield dict(zip(keys, case_values, strict=True))

    return lookup, stream, stream_dicts, None


def _has_switch(values: Mapping[Any, object]) -> bool:
    """Whether a grid's values hold a `Switch` (a conditional parameter)."""
    return any(map(isinstance, values.values(), repeat(Switch)))


def _format_kwargs(spec: Mapping[str, Axis]) -> str:
    shown = {k: v if isinstance(v, range) else list(v) for k, v in spec.items()}
    if all(k.isidentifier() for k in shown):
        return ", ".join(f"{k}={show(v)}" for k, v in shown.items())
    return show(shown)


@overload
def grid(  # type: ignore[overload-overlap] # a grid with no switch matches this first
    spec: Mapping[str, AxisInput] | None = None, /, **values: AxisInput
) -> GridSource: ...
@overload
def grid(
    spec: Mapping[str, AxisInput | Switch] | None = None, /, **values: AxisInput | Switch
) -> ConditionalGridSource: ...
def grid(
    spec: Mapping[str, AxisInput | Switch] | None = None, /, **values: AxisInput | Switch
) -> GridSource | ConditionalGridSource:
    """The Cartesian product of the given values, one parameter per keyword.

    Keys are iterated in sorted order and the last varies fastest. Values may be lists,
    tuples, 1-d NumPy arrays or ``range`` objects (never materialized); names that are
    not identifiers (``"model.lr"``) go in a mapping as the first argument.

    >>> [c.params for c in grid(opt=["adam", "sgd"], lr=[0.1, 0.01])][:2]
    [{'lr': 0.1, 'opt': 'adam'}, {'lr': 0.1, 'opt': 'sgd'}]
    >>> grid(x="abc")
    Traceback (most recent call last):
    ...
    metalab.errors.ParamError: grid values for 'x' must be a non-empty sequence, got str 'abc'; ...
    """
    given: object = spec
    if _has_switch(values) or (isinstance(given, Mapping) and _has_switch(given)):
        # Imported here: a conditional grid is a sum of products of grids, built above.
        from metalab._algebra.conditional_grid import ConditionalGridSource

        return ConditionalGridSource(merge_named("grid", spec, values))
    return GridSource(spec, **values)  # type: ignore[arg-type]
