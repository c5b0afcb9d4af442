"""`DeriveSource`: parameters computed from each case (``source.derive(**exprs)``)."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, final

import attrs
import numpy as np

from metalab._algebra._common import INT64_MAX, Indices, checked_array, checked_list, matcher
from metalab._algebra._expressions import (
    ERRORS,
    check_expression,
    check_names,
    expression,
    sample_indices,
)
from metalab._core.values import describe, normalize_key
from metalab._expr import Expr, compile_case, evaluate_columns, failure
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import numpy.typing as npt

    from metalab._core.values import ParamValue

__all__ = ["DeriveSource"]


def _names(value: object) -> tuple[str, ...]:
    return tuple(normalize_key(name, "derive") for name in value)  # type: ignore[attr-defined]


def _exprs(value: object) -> tuple[Expr[Any], ...]:
    return tuple(expression(e, "derive") for e in value)  # type: ignore[attr-defined]


def _key(source: DeriveSource) -> bytes:
    return b"".join(
        name.encode() + b"\0" + e.key() for name, e in zip(source.names, source.exprs, strict=True)
    )


@final
@attrs.frozen(repr=False)
class DeriveSource(ParamSource):
    """The cases of ``source``, each with parameters computed from its others.

    The expressions are computed in order, so a later one may read an earlier one;
    ``size``, tags and the order are the source's, ``case_id`` is over the final
    params. Built by ``source.derive(name=expr, ...)``.

    >>> from metalab import col, grid
    >>> s = grid(width=[64, 128], heads=[4, 8]).derive(head_dim=col("width") // col("heads"))
    >>> s[1].params
    {'head_dim': 32, 'heads': 4, 'width': 128}
    """

    manifest_type: ClassVar[str] = "DeriveSource"

    source: ParamSource
    """The source whose cases gain the derived parameters."""
    names: tuple[str, ...] = attrs.field(converter=_names)
    """The names of the derived parameters, in the order they are computed."""
    exprs: tuple[Expr[Any], ...] = attrs.field(converter=_exprs, eq=False)
    """The expression of each name (compared through `_structure`: ``==`` builds one)."""

    _structure: bytes = attrs.field(init=False, repr=False)
    _functions: tuple[Callable[[Mapping[str, ParamValue]], Any], ...] = attrs.field(
        init=False, eq=False, repr=False
    )
    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Check every name and expression against the source, on a sample of its cases."""
        source: object = self.source
        if not isinstance(source, ParamSource):
            msg = f"derive takes a source, got {describe(source)}"
            raise ParamError(msg)
        if len(self.names) != len(self.exprs):
            msg = f"derive: {len(self.names)} names for {len(self.exprs)} expressions"
            raise ParamError(msg)
        if not self.names:
            msg = "derive needs at least one name=expression"
            raise ParamError(msg)
        known = list(self.source.keys)
        for name, expr in zip(self.names, self.exprs, strict=True):
            if name in known:
                msg = f"derive: {name!r} is already a parameter; a derived one needs a new name"
                raise ParamError(msg)
            check_names(expr, known, f"derive {name!r}:")
            known.append(name)
        object.__setattr__(self, "_structure", _key(self))
        object.__setattr__(self, "_functions", tuple(map(compile_case, self.exprs)))
        object.__setattr__(self, "_keys", tuple(sorted(known)))
        for i in sample_indices(self.source.size):
            params, _ = self.source.raw(i)
            for name, expr, fn in zip(self.names, self.exprs, self._functions, strict=True):
                params[name] = check_expression(expr, fn, params, i, f"derive {name!r}:")

    @property
    def size(self) -> int:
        """The source's number of cases."""
        return self.source.size

    @property
    def keys(self) -> tuple[str, ...]:
        """The source's names and the derived ones, sorted."""
        return self._keys

    def raw(self, i: int) -> Raw:
        params, tags = self.source.raw(i)
        step = 0
        functions = self._functions
        try:
            while step < len(functions):
                params[self.names[step]] = functions[step](params)
                step += 1
        except ERRORS:
            raise failure(self.exprs[step], params, i) from None
        return dict(sorted(params.items())), tags

    def describe(self) -> Description:
        """A ``derive`` node: one line per derived parameter, with its expression."""
        lines = tuple(
            (name, ":", f"= {e!r}") for name, e in zip(self.names, self.exprs, strict=True)
        )
        return Description("derive", (), lines)

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The source's key sets, each with the derived names."""
        extra = frozenset(self.names)
        return {keys | extra for keys in scan.sets(self.source, indices)}

    def _positions(self, indices: Indices | None) -> tuple[Indices | None, npt.NDArray[Any] | None]:
        size = self.size
        if indices is None:
            return None, (np.arange(size, dtype=np.int64) if size <= INT64_MAX else None)
        if size <= INT64_MAX:
            checked = checked_array(indices, size)
            return checked, checked
        values = checked_list(indices, size)
        return values, np.array(values, dtype=object)

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """The source's columns, then each derived one computed over them at once."""
        checked, positions = self._positions(indices)
        columns = self.source.columns(checked)
        for name, expr in zip(self.names, self.exprs, strict=True):
            columns[name] = evaluate_columns(expr, columns, positions)
        return {key: columns[key] for key in self._keys}

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        if not all(name in params for name in self.names):
            return iter(())
        sub = {k: v for k, v in params.items() if k not in self.names}
        matches = matcher(self, params)
        return (i for i in self.source._indices_of(sub) if matches(i))

    def __reduce__(self) -> tuple[type[DeriveSource], tuple[Any, ...]]:
        """Pickle the fields; the compiled functions are built again."""
        return DeriveSource, (self.source, self.names, self.exprs)

    def __repr__(self) -> str:
        """``source.derive(name=expr, ...)``."""
        inner = repr(self.source)
        if self.source.repr_operator:
            inner = f"({inner})"
        args = ", ".join(f"{name}={e!r}" for name, e in zip(self.names, self.exprs, strict=True))
        return f"{inner}.derive({args})"
