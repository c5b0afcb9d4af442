"""`ParamSource`, the base every source derives from: indexing, iteration and the algebra.

A concrete source is a frozen attrs class that implements three things:

- ``size``: its exact number of cases (a Python int of any magnitude);
- ``keys``: the sorted names of the parameters its cases can have;
- ``raw(i)``: for ``0 <= i < size``, a fresh params dict (sorted by key) and the tags
  of case ``i``, computed without enumerating other cases.

Everything else (negative indices, bounds checks, slices, ``+``/``*``, shards, shuffles,
batched access, manifests) is built on those here, once.

What the layers above need to know about a kind of source is asked of the source, never
found by testing its class: each of these methods has a generic default that is right
for any source, and a built-in source overrides it in its own module where it knows
better.

- `ParamSource.children`: the sources a node is built from (default: its attrs fields
  that hold sources);
- `ParamSource.describe`: how ``metalab show`` describes the node (default: its class
  name and its scalar attrs fields);
- `ParamSource.listed_values`: values its cases certainly hold, which typed views check
  when they are defined (default: none);
- `ParamSource.key_sets`: the distinct key sets of some of its cases, for typed views
  (default: its ``keys``, marked as an approximation);
- `ParamSource.product_factors`: the digits it contributes to a product's mixed radix
  (default: one digit of ``size`` values, itself).
"""

from __future__ import annotations

import functools
import gc
import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    ParamSpec,
    Protocol,
    Self,
    TypeAlias,
    TypeVar,
    overload,
)

import attrs
import numpy as np

from metalab._core.case import ParamCase, make_case
from metalab._core.intstr import counted, format_count, int_to_str
from metalab._core.values import (
    INT64_MAX,
    ParamValue,
    check_int,
    column_array,
    describe,
)
from metalab.errors import (
    CaseIndexError,
    CaseNotFoundError,
    IndexTypeError,
    ParamError,
    SizeOverflowError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

    from metalab._algebra import (
        ConcatSource,
        DeriveSource,
        ProductSource,
        SelectSource,
        ShuffledSource,
        SliceSource,
    )
    from metalab._expr import Expr
    from metalab._io.structured import SchemaT, Structured

__all__ = [
    "Description",
    "Factor",
    "Indices",
    "KeyScan",
    "KeySets",
    "Line",
    "ParamSource",
    "Raw",
    "as_index",
    "bulk",
    "check_index",
    "check_seed",
    "checked_array",
    "checked_list",
    "paused",
]

Raw: TypeAlias = tuple[dict[str, ParamValue], tuple[str, ...]]
"""What `ParamSource.raw` returns: a fresh params dict the caller owns, and the tags."""

Indices = Iterable[int] | np.ndarray[Any, np.dtype[np.integer[Any]]]
"""What ``take`` and ``columns`` accept: an iterable of ints or a 1-d integer NumPy array."""

Line: TypeAlias = tuple[str, str, object]
"""One parameter line of a `Description`: ``(key, relation, shown)``.

``relation`` is ``":"`` when ``shown`` lists the values (a sequence, or a str shown as
it is) and ``"~"`` when ``shown`` is the `Distribution` the values are drawn from.
"""

Factor: TypeAlias = tuple[int, "str | None", Any]
"""One digit of a product's mixed radix: ``(size, key, payload)``.

With a key, the digit is a grid axis and ``payload`` its values (a tuple or a range);
without, ``payload`` is a source whose case ``d`` the digit selects.
"""

KeySets: TypeAlias = set[frozenset[str]]
"""Distinct key sets of cases."""


class KeyScan(Protocol):
    """What a typed view's scan of key sets offers to `ParamSource.key_sets`."""

    exact: bool
    """Whether every set found so far is exact; a source that approximates clears it."""

    def sets(self, source: ParamSource, indices: range) -> KeySets:
        """The key sets of ``source``'s cases at ``indices`` (an increasing range)."""
        ...

    def limited(self, sets: KeySets) -> KeySets:
        """``sets``, unless they are too many to list (then the scan gives up)."""
        ...

    def check_count(self, count: int) -> None:
        """Give up before building ``count`` key sets if they are too many to list."""
        ...


@attrs.frozen
class Description:
    """How ``metalab show`` describes one node of a sweep (see `ParamSource.describe`)."""

    kind: str
    """What the node is: ``grid``, ``random``, ``product (*)``, ... or a class name."""
    details: tuple[str, ...] = ()
    """Short facts beside the kind, e.g. ``seed 0``."""
    lines: tuple[Line, ...] = ()
    """One `Line` per parameter of a leaf."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def paused(build: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """``build(*args, **kwargs)`` with the cyclic garbage collector paused while it runs.

    Each case is an object the collector tracks, and a list of 100,000 cases makes
    it run a full collection (a scan of every object in the process) several times
    while the list grows, although cases never form reference cycles: that was most
    of the time of building many cases in a process with a large heap. Paused, the
    collector scans the new objects once, in a young-generation collection run before
    this returns (so the cost is paid here, not at the caller's next allocation).
    Nothing is paused when the caller has disabled the collector, and it is on again
    however ``build`` exits. ``build`` must run no code of the caller's.
    """
    if not gc.isenabled():
        return build(*args, **kwargs)
    gc.disable()
    try:
        return build(*args, **kwargs)
    finally:
        gc.enable()
        gc.collect(0)


def bulk(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``method``, which builds many cases at once, with the collector `paused`."""

    @functools.wraps(method)
    def bulk_method(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return paused(method, *args, **kwargs)

    return bulk_method


def as_index(value: object, what: str) -> int:
    """``value`` as a Python int if it is one to Python's sequences (has ``__index__``).

    Bools are refused although lists take them: metalab refuses a bool wherever it
    takes an int, and ``source[True]`` is far more likely a bug than a wish for case 1.

    Raises:
        IndexTypeError: ``value`` is a bool or has no ``__index__`` (a float, str, ...);
            the message starts with ``what``.
    """
    if isinstance(value, bool | np.bool_) or not hasattr(type(value), "__index__"):
        msg = f"{what} must be int, got {describe(value)}"
        raise IndexTypeError(msg)
    return operator.index(value)  # type: ignore[arg-type]


_EXACT_INDEX_BITS: Final = 200
"""Out-of-range indices below ``2**200`` (60 digits) are written out in full in errors."""


def check_index(index: object, size: int) -> int:
    """Turn a user's index into ``0 <= i < size``, or raise (negative indices count back).

    Raises:
        IndexTypeError: ``index`` is not an int (see `as_index`).
        CaseIndexError: ``index`` lies outside the source.
    """
    given = as_index(index, "source indices")
    i = given + size if given < 0 else given
    if not 0 <= i < size:
        # Exact, unless the index is too long to read (or for str to write) at all.
        shown = int_to_str(given) if given.bit_length() < _EXACT_INDEX_BITS else format_count(given)
        msg = f"index {shown} is out of range for a source of {counted(size, 'case')}"
        raise CaseIndexError(msg)
    return i


def checked_list(indices: object, size: int) -> list[int]:
    """The indices as Python ints in ``[0, size)``, each checked like ``source[i]``.

    The one validation of an index list: every source's ``take`` and ``columns`` (and
    the typed views') go through it or `checked_array`, so the same bad input gives the
    same error everywhere.

    >>> checked_list([0, -1], 3)
    [0, 2]

    Raises:
        IndexTypeError: ``indices`` is not an iterable of ints (a str, a mapping, a
            number, ``None``), is an array of another dtype or of more dimensions, or
            holds a non-int (see `check_index`).
        CaseIndexError: an index lies outside the source.
    """
    if isinstance(indices, np.ndarray):
        if indices.dtype.kind not in "iu":
            msg = f"indices must be integers, got an array of dtype {indices.dtype}"
            raise IndexTypeError(msg)
        if indices.ndim != 1:
            msg = f"indices must be a 1-d array, got an array of shape {indices.shape}"
            raise IndexTypeError(msg)
        values: list[Any] = indices.tolist()
    else:
        # A str or a mapping iterates, but as characters or keys: never what was meant.
        if not isinstance(indices, Iterable) or isinstance(indices, str | bytes | Mapping):
            msg = f"indices must be an iterable of ints, got {describe(indices)}"
            raise IndexTypeError(msg)
        values = list(indices)
    if values and set(map(type, values)) == {int} and min(values) >= 0 and max(values) < size:
        return values  # the common case, checked in bulk
    return [check_index(i, size) for i in values]


def checked_array(indices: object, size: int) -> npt.NDArray[np.int64]:
    """The checked indices as an ``int64`` array; the source must have ``size <= INT64_MAX``.

    Integer arrays are checked in one vectorized pass; anything else, or an array with
    an index out of range, goes through `checked_list` (which raises the precise error).
    """
    if isinstance(indices, np.ndarray) and indices.dtype.kind in "iu" and indices.ndim == 1:
        if indices.dtype.kind == "u" and indices.size and int(indices.max()) > INT64_MAX:
            return np.array(checked_list(indices, size), dtype=np.int64)
        out = indices.astype(np.int64)
        out[out < 0] += size
        if out.size == 0 or (int(out.min()) >= 0 and int(out.max()) < size):
            return out
    return np.array(checked_list(indices, size), dtype=np.int64)


def check_seed(seed: object, where: str) -> int:
    """A seed: an int (not a bool) in ``[0, 2**64)``, or `ParamError`; the one seed check.

    ``where`` names the seed for the message, e.g. ``"shuffled seed"``.

    >>> check_seed(2**64, "shuffled seed")
    Traceback (most recent call last):
    ...
    metalab.errors.ParamError: shuffled seed must be an int in [0, 2**64), got 18446744073709551616
    """
    value = check_int(seed, where)
    if not 0 <= value < 2**64:
        msg = f"{where} must be an int in [0, 2**64), got {value}"
        raise ParamError(msg)
    return value


class ParamSource:
    """The protocol every source satisfies: an immutable, exactly sized, indexable sweep.

    Sources compose: ``a + b`` concatenates, ``a * b`` crosses (every case of ``a``
    merged with every case of ``b``). ``source[i]`` costs the same whatever ``i`` is,
    and every source round-trips through a JSON manifest.
    """

    __slots__ = ()

    manifest_type: ClassVar[str]
    """The stable ``"type"`` tag of this source in manifests."""

    repr_operator: ClassVar[str] = ""
    """The operator whose expression this source's repr is (``"+"``, ``"*"``), or ``""``.

    Reprs of other expressions put such an operand in parentheses where they must.
    """

    # -- what each source implements ---------------------------------------------------
    @property
    def size(self) -> int:
        """The exact number of cases, a Python int of any magnitude."""
        raise NotImplementedError

    @property
    def keys(self) -> tuple[str, ...]:
        """The sorted names of every parameter a case of this source can have."""
        raise NotImplementedError

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict, sorted by key) and tags of case ``i``, ``0 <= i < size``."""
        raise NotImplementedError

    def _case(self, i: int) -> ParamCase:
        """Case ``i`` for ``0 <= i < size`` (sources override this to skip the dict copy)."""
        params, tags = self.raw(i)
        # A copy the case owns: a source defined outside metalab may hand out a dict it keeps.
        return make_case(dict(params), tags)

    def _case_function(self) -> Callable[[int], ParamCase]:
        """The function behind `_case`, for a composite to call once per lookup.

        A source whose cases come from a written-out function (a grid) returns that
        function, so a composite over it skips a frame; the default is `_case` itself.
        """
        return self._case

    def _raw_function(self) -> Callable[[int], Raw]:
        """The function behind `raw`, for a composite to call once per lookup (as above)."""
        return self.raw

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        """Every index whose case has exactly ``params``, in increasing order."""
        del params
        msg = f"index_of is not defined for a {type(self).__name__}"
        raise UnsupportedOperationError(msg)

    # -- what the layers above ask (generic defaults) -------------------------------
    def children(self) -> tuple[tuple[str, ParamSource], ...]:
        """The sources this one is built from, each with a label (empty, or a name).

        The default finds them in the public attrs fields: a field holding a source, a
        tuple or list of sources, or a mapping of labels to sources.
        """
        found: list[tuple[str, ParamSource]] = []
        cls: type[object] = type(self)
        if attrs.has(cls):
            for field in attrs.fields(cls):
                if not field.name.startswith("_"):
                    found.extend(_sources_in(getattr(self, field.name)))
        return tuple(found)

    def describe(self) -> Description:
        """How ``metalab show`` describes this node (its children are shown below it).

        The default is the class name, with the public scalar attrs fields that do not
        hold sources as details (e.g. ``seed 3``).
        """
        details: list[str] = []
        cls: type[object] = type(self)
        if attrs.has(cls):
            for field in attrs.fields(cls):
                value = getattr(self, field.name)
                if not field.name.startswith("_") and (
                    value is None or isinstance(value, bool | int | float | str)
                ):
                    details.append(f"{field.name} {value!r}")
        return Description(type(self).__name__, tuple(details))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """``(key, value, where)`` for values some case certainly holds (default: none).

        Typed views check these against the schema when they are defined, so yield only
        values that occur in a case, cheaply; ``where`` names them for the message,
        e.g. ``"grid values for 'lr'"``.
        """
        return iter(())

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The distinct key sets of the cases at ``indices`` (an increasing, non-empty range).

        The default, ``{keys}``, is right for a source whose cases all have every key;
        as it cannot know that, it clears ``scan.exact`` (a typed view then checks the
        cases themselves before it reports a problem). Composites ask ``scan.sets`` of
        their parts.
        """
        del indices
        scan.exact = False
        return {frozenset(self.keys)}

    def product_factors(self) -> tuple[Factor, ...]:
        """The digits this source contributes to a product's mixed radix (see `Factor`).

        The default is one digit: case ``d`` of this source. A grid gives one digit per
        axis, so a product of grids is written out as one flat loop.
        """
        return ((self.size, None, self),)

    def _generated_code(self) -> str:
        """The code written out for this source (see `metalab.generated_code`); '' for none."""
        return ""

    # -- sequence protocol -------------------------------------------------------------
    def __len__(self) -> int:
        """The number of cases; see `size` for sources larger than ``sys.maxsize``."""
        size = self.size
        if size > sys.maxsize:
            msg = (
                f"this source has {counted(size, 'case')}, more than len() can return "
                f"({sys.maxsize}); use source.size"
            )
            raise SizeOverflowError(msg)
        return size

    def __bool__(self) -> bool:
        """A source is truthy when it has at least one case (also beyond ``sys.maxsize``)."""
        return self.size > 0

    @overload
    def __getitem__(self, index: int) -> ParamCase: ...
    @overload
    def __getitem__(self, index: slice) -> SliceSource: ...
    def __getitem__(self, index: int | slice) -> ParamCase | SliceSource:
        """Case ``index`` (negative counts from the end), or a lazy slice of the source."""
        if type(index) is int:  # the hot path: a plain int within bounds
            size = self.size
            if 0 <= index < size:
                return self._case(index)
            if -size <= index < 0:
                return self._case(index + size)
        if isinstance(index, slice):
            from metalab._algebra import SliceSource

            return SliceSource.of(self, index)
        return self._case(check_index(index, self.size))

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order, computed one at a time."""
        return map(self._case, range(self.size))

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict the caller owns (the fastest stream)."""
        raw = self.raw
        return (raw(i)[0] for i in range(self.size))

    # -- algebra -----------------------------------------------------------------------
    def __add__(self, other: ParamSource) -> ConcatSource:
        """The cases of ``self``, then those of ``other``."""
        if not isinstance(other, ParamSource):
            return NotImplemented
        from metalab._algebra import ConcatSource

        return ConcatSource.of(self, other)

    def __mul__(self, other: ParamSource) -> ProductSource:
        """Every case of ``self`` merged with every case of ``other`` (``self`` slowest)."""
        if not isinstance(other, ParamSource):
            return NotImplemented
        from metalab._algebra import ProductSource

        return ProductSource.of(self, other)

    def shard(self, k: int, n: int) -> SliceSource:
        """Shard ``k`` of ``n``: contiguous, sizes differ by at most one, in order.

        >>> from metalab import grid
        >>> [len(grid(x=range(10)).shard(k, 3)) for k in range(3)]
        [4, 3, 3]
        """
        from metalab._algebra import shard

        return shard(self, k, n)

    def select(self, indices: Iterable[int | range] | Indices) -> SelectSource:
        """The cases at ``indices``, in that order: a lazy source, each index at most once.

        ``indices`` are ints (negative ones count back) and ranges of step 1 or -1, or
        a 1-d integer array; they are kept as runs of ranges, so a contiguous selection
        costs the same at any size. The cases keep their ``case_id`` values.

        >>> from metalab import grid
        >>> [c.params["x"] for c in grid(x=range(10)).select([8, 9, range(0, 3)])]
        [8, 9, 0, 1, 2]

        Raises:
            ParamError: an index is given twice, or a range has a step other than 1 or -1.
            CaseIndexError: an index lies outside the source.
        """
        from metalab._algebra import SelectSource

        return SelectSource(self, indices)

    def shuffled(self, seed: int) -> ShuffledSource:
        """The same cases in a seeded pseudo-random order, with O(1) indexing."""
        from metalab._algebra import ShuffledSource

        return ShuffledSource(self, seed)

    def derive(self, **exprs: Expr[Any]) -> DeriveSource:
        """The same cases with parameters computed from each, in the order given.

        A later expression may read an earlier one. ``size``, order and tags are this
        source's; ``case_id`` is over the final params.

        >>> from metalab import col, grid
        >>> grid(width=[64], heads=[4]).derive(head_dim=col("width") // col("heads"))[0]
        ParamCase(params={'head_dim': 16, 'heads': 4, 'width': 64}, tags=())

        Raises:
            ParamError: a name is already a parameter.
            ExpressionError: an expression reads a name the source lacks, or does not
                fit its values.
        """
        from metalab._algebra import DeriveSource
        from metalab._expr import Expr
        from metalab.errors import ExpressionError

        given: dict[str, object] = dict(exprs)  # checked at run time for untyped callers
        for name, value in given.items():  # checked here, where the names are known
            if not isinstance(value, Expr):
                msg = (
                    f"derive({name}=...) must be an expression built from col(...), got "
                    f"{describe(value)} (a constant is lit(value))"
                )
                raise ExpressionError(msg)
        return DeriveSource(self, tuple(exprs), tuple(exprs.values()))

    def where(self, *predicates: Expr[bool]) -> ParamSource:
        """The cases for which every predicate is true, in order, with an exact size.

        Predicates are pushed down into the factors of a product and the parts of a
        concatenation, so only what they read is scanned (see `metalab._algebra.where`).

        >>> from metalab import col, grid
        >>> (grid(a=range(1000)) * grid(b=range(10**30))).where(col("a") % 7 == 0).size
        143000000000000000000000000000000

        Raises:
            ExpressionError: a predicate is no expression, reads a name the source
                lacks, or does not fit its values.
            ParamError: a predicate needs a scan of more than about 10**9 cases.
        """
        from metalab._algebra import WhereSource

        return WhereSource.of(self, *predicates)

    # -- batches -----------------------------------------------------------------------
    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at many indices at once (same as indexing one by one)."""
        return list(map(self._case, checked_list(indices, self.size)))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One NumPy array per parameter over the cases at ``indices`` (default: all).

        Cases that lack a parameter hold ``None`` there (the column is then of dtype
        object). Integer, float, bool and str columns get the matching dtype.
        """
        size = self.size
        idx = range(size) if indices is None else checked_list(indices, size)
        raws = [self.raw(i)[0] for i in idx]
        return {key: column_array([p.get(key) for p in raws]) for key in self.keys}

    # -- lookup --------------------------------------------------------------------------
    def index_of(self, params: Mapping[str, ParamValue]) -> int:
        """The first index whose case has exactly ``params``.

        Exactly: the same names, and values of the same types (``{"x": 1}`` does not
        find a case of ``{"x": 1.0}``). When several cases have these params (a sweep
        with duplicates), the smallest index is returned, for every kind of source;
        finding it never needs a list of all the duplicates.

        >>> from metalab import grid
        >>> (grid(x=[1, 2]) + grid(x=[2])).index_of({"x": 2})
        1

        Raises:
            ParamError: ``params`` is not a mapping of parameter values.
            CaseNotFoundError: no case has these params.
            UnsupportedOperationError: the source draws random values, so the question
                has no useful answer.
        """
        raw: object = params  # checked at run time, as `in` takes a case too
        if isinstance(raw, ParamCase):
            msg = (
                "index_of takes a mapping of params, got a ParamCase: pass case.params "
                "(or ask `case in source`, which also compares the tags)"
            )
            raise ParamError(msg)
        for i in self._indices_of(_lookup_params(params, "index_of takes a mapping of params")):
            return i
        msg = f"no case of this source has params {dict(params)!r}"
        raise CaseNotFoundError(msg)

    def __contains__(self, item: object) -> bool:
        """Whether ``item``, a params mapping or a `ParamCase`, is a case of this source.

        ``{"x": 5} in grid(x=range(10))`` is ``source.index_of(item)`` finding an index,
        answered without enumerating the source; a `ParamCase` must also have the tags
        of a case with its params (``source[i] in source`` always holds). Random sources
        cannot answer (see `index_of`) and raise rather than enumerate.

        >>> from metalab import grid
        >>> {"x": 5} in grid(x=range(10)), {"x": 5.0} in grid(x=range(10))
        (True, False)
        >>> grid(x=[1, 2])[1] in grid(x=[1, 2])
        True

        Raises:
            ParamError: ``item`` is neither a mapping nor a `ParamCase`.
            UnsupportedOperationError: the source draws random values.
        """
        if isinstance(item, ParamCase):
            # Cases that share the params may differ in tags: each is compared in turn.
            found = self._indices_of(item.params)
            return any(self._case(i) == item for i in found)
        params = _lookup_params(item, "x in source takes a mapping of params or a ParamCase")
        return next(iter(self._indices_of(params)), None) is not None

    # -- manifests and views -----------------------------------------------------------
    def to_manifest_dict(self) -> dict[str, Any]:
        """The JSON-ready manifest of this source (see `metalab._io.manifest.to_manifest`)."""
        from metalab._io.manifest import to_manifest

        out: dict[str, Any] = to_manifest(self)
        return out

    @classmethod
    def from_manifest_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a source from its manifest; refuses a manifest of another type."""
        from metalab._io.manifest import from_manifest_of

        source: Self = from_manifest_of(cls, data)
        return source

    def structured(self, schema: type[SchemaT]) -> Structured[SchemaT]:
        """A view whose cases are ``schema`` instances (attrs class, dataclass, TypedDict)."""
        from metalab._io.structured import Structured

        return Structured(self, schema)

    def to_frame(self) -> pd.DataFrame:
        """All cases as a pandas DataFrame: one row per case, one column per parameter."""
        from metalab._io.frame import to_frame

        return to_frame(self)


def _sources_in(value: object) -> Iterator[tuple[str, ParamSource]]:
    """The sources held by one field's value, labelled (mappings give their keys)."""
    if isinstance(value, ParamSource):
        yield "", value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, ParamSource):
                yield str(key), item
    elif isinstance(value, tuple | list):
        for item in value:
            if isinstance(item, ParamSource):
                yield "", item


def _lookup_params(params: object, expected: str) -> Mapping[str, ParamValue]:
    """``params`` if it is a mapping, as `index_of` and ``in`` take, else `ParamError`."""
    if not isinstance(params, Mapping):
        msg = f"{expected}, got {describe(params)}"
        raise ParamError(msg)
    return params
