"""`ZipSource` and `zip`: linked parameters that take their values together."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, ClassVar, final

import attrs

from metalab._algebra._common import Indices, checked_list
from metalab._core.case import ParamCase, encode_item, encode_value, make_case
from metalab._core.values import (
    FrozenDict,
    ParamValue,
    check_key_paths,
    column_array,
    merge_named,
    named_items,
    normalize_value,
    show,
)
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw
from metalab._sources.grid import value_list
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import numpy.typing as npt

    from metalab._sources.grid import AxisInput

__all__ = ["ZipSource", "zip"]

_zip = builtins.zip


def _values(name: str, values: object) -> tuple[ParamValue, ...]:
    return value_list(values, f"zip values for {name!r}")


def _to_spec(values: Mapping[Any, Any]) -> FrozenDict[str, tuple[ParamValue, ...]]:
    items = named_items(values, "zip")
    check_key_paths((k for k, _ in items), "zip")
    if not items:
        msg = "zip needs at least one parameter, e.g. zip(lr=[0.1, 0.01], warmup=[100, 1000])"
        raise ParamError(msg)
    spec = FrozenDict((k, _values(k, v)) for k, v in items)
    lengths = {len(v) for v in spec.values()}
    if len(lengths) > 1:
        shown = ", ".join(f"{k!r}: {len(v)}" for k, v in spec.items())
        msg = f"zip values must all have the same length, got lengths {shown}"
        raise ParamError(msg)
    return spec


def _spec_key(spec: Mapping[str, tuple[ParamValue, ...]]) -> tuple[tuple[str, bytes], ...]:
    # Equality and hashing must tell 1, 1.0 and True apart: compare encodings.
    return tuple((k, encode_value(v)) for k, v in spec.items())


@final
@attrs.frozen(init=False, repr=False)
class ZipSource(ParamSource):
    """Linked parameters: case ``i`` takes the ``i``-th value of every parameter.

    Like Python's ``zip``, but strict: every parameter needs the same number of values.

    >>> s = ZipSource(lr=[0.1, 0.01], warmup=[100, 1000])
    >>> [c.params for c in s]
    [{'lr': 0.1, 'warmup': 100}, {'lr': 0.01, 'warmup': 1000}]
    """

    manifest_type: ClassVar[str] = "ZipSource"

    spec: Mapping[str, tuple[ParamValue, ...]] = attrs.field(eq=_spec_key)
    """The values of each parameter, keys sorted, all of the same length."""

    _size: int = attrs.field(init=False, eq=False, repr=False)
    _encoded: tuple[tuple[bytes, ...], ...] = attrs.field(init=False, eq=False, repr=False)
    _lookup: dict[bytes, list[int]] = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, spec: Mapping[str, AxisInput] | None = None, /, **values: AxisInput) -> None:
        """Link parameters given as a mapping and/or keyword arguments of value lists.

        Raises:
            ParamError: no parameter, a value list that is empty, a string or not a
                sequence, or lists of different lengths.
        """
        self.__attrs_init__(_to_spec(merge_named("zip", spec, values)))

    def __attrs_post_init__(self) -> None:
        """Precompute the id encodings of every value and an index of whole cases."""
        encoded = tuple(tuple(encode_item(k, v) for v in vs) for k, vs in self.spec.items())
        lookup: dict[bytes, list[int]] = {}
        for i, row in enumerate(_zip(*encoded)):
            lookup.setdefault(b"".join(row), []).append(i)
        object.__setattr__(self, "_size", len(next(iter(self.spec.values()))))
        object.__setattr__(self, "_encoded", encoded)
        object.__setattr__(self, "_lookup", lookup)

    @property
    def size(self) -> int:
        """The common length of the value lists."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameter names, sorted."""
        return tuple(self.spec)

    def describe(self) -> Description:
        """A ``zip`` node: one line per key, with its values."""
        return Description("zip", (), tuple((str(k), ":", v) for k, v in self.spec.items()))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """Every value of every key."""
        if self.size == 0:
            return
        for key, values in self.spec.items():
            for value in values:
                yield key, value, f"zip values for {key!r}"

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """Every case has every key."""
        del indices, scan
        return {frozenset(self.keys)}

    def raw(self, i: int) -> Raw:
        return {k: vs[i] for k, vs in self.spec.items()}, ()

    def _case(self, i: int) -> ParamCase:
        params = {k: vs[i] for k, vs in self.spec.items()}
        return make_case(params, (), tuple(e[i] for e in self._encoded))

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order."""
        return map(self._case, range(self._size))

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter over the cases at ``indices`` (default: all)."""
        if indices is None:
            return {k: column_array(vs) for k, vs in self.spec.items()}
        idx = checked_list(indices, self._size)
        return {k: column_array([vs[i] for i in idx]) for k, vs in self.spec.items()}

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        if set(params) != set(self.spec):
            return iter(())
        target = b"".join(encode_item(k, normalize_value(params[k], "index_of")) for k in self.spec)
        return iter(self._lookup.get(target, ()))

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        shown = {k: list(v) for k, v in self.spec.items()}
        if all(k.isidentifier() for k in shown):
            return "zip(" + ", ".join(f"{k}={show(v)}" for k, v in shown.items()) + ")"
        return f"zip({show(shown)})"


def zip(  # noqa: A001
    spec: Mapping[str, AxisInput] | None = None, /, **values: AxisInput
) -> ZipSource:
    """Linked parameters that vary together, like Python's ``zip`` but strict.

    Every parameter gets a list of values of the same length; case ``i`` takes the
    ``i``-th value of each. Names that are not identifiers go in a mapping as the first
    argument.

    >>> from metalab import grid
    >>> sweep = zip(lr=[0.1, 0.01], warmup=[100, 1000]) * grid(seed=[0, 1, 2])
    >>> sweep.size, sweep[3].params
    (6, {'lr': 0.01, 'seed': 0, 'warmup': 1000})
    >>> zip(lr=[0.1, 0.01], warmup=[100])
    Traceback (most recent call last):
    ...
    metalab.errors.ParamError: zip values must all have the same length, got lengths 'lr': 2, ...
    """
    return ZipSource(spec, **values)
