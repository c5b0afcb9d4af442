"""`DeriveSource`: parameters computed from each case (``source.derive(**exprs)``)."""

# ruff: noqa: SLF001 - a composite drives its parts through the private source protocol

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, final, overload

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
from metalab._algebra.product import _block_digits, _blocks
from metalab._core.codegen import (
    CASE_NAMESPACE,
    case_source,
    compile_functions,
    name_literal,
    source_of,
)
from metalab._core.values import describe, normalize_key
from metalab._expr import Expr, Fmt, compile_case, evaluate_columns, expression_code, failure
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw
from metalab._sources.grid import GridSource, range_len
from metalab.errors import EvaluationError, ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import numpy.typing as npt

    from metalab._algebra.slicing import SliceSource
    from metalab._core.case import ParamCase
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


def _grid_body(source: DeriveSource, namespace: dict[str, Any]) -> str | None:
    """Over a grid, the case's values as locals: its digits, then each expression.

    One dict is built, in key order, instead of the grid's dict and then the merged one;
    a template (``fmt``) reads the whole params dict, so it takes the general way.
    """
    grid = source.source
    assert isinstance(grid, GridSource)
    if any(isinstance(node, Fmt) for expr in source.exprs for node in _nodes(expr)):
        return None
    axes = list(grid.spec.items())
    if not axes:
        return None
    local = {key: f"v{j}" for j, (key, _) in enumerate(axes)}
    sizes = [range_len(a) if isinstance(a, range) else len(a) for _, a in axes]
    lines = _block_digits(_blocks(sizes), namespace)
    for j, (key, axis) in enumerate(axes):
        namespace[f"a{j}"] = axis
        lines.append(f"{local[key]} = a{j}[d{j}]")
    for k, (name, expr) in enumerate(zip(source.names, source.exprs, strict=True)):
        code = expression_code(expr, "", namespace, local.__getitem__)
        local[name] = f"x{k}"
        lines.append(f"x{k} = {code}")
    ordered = ", ".join(f"{name_literal(key)}: {local[key]}" for key in source.keys)
    lines += ["t = ()", f"m = {{{ordered}}}"]
    return "".join(f"    {line}\n" for line in lines)


def _nodes(expr: Expr[Any]) -> Iterator[Expr[Any]]:
    yield expr
    for child in expr.children():
        yield from _nodes(child)


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
    _size: int = attrs.field(init=False, eq=False, repr=False)
    _compiled_cache: tuple[Callable[[int], Raw], Callable[[int], ParamCase]] | None = attrs.field(
        init=False, eq=False, repr=False
    )

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
        object.__setattr__(self, "_compiled_cache", None)
        object.__setattr__(self, "_size", self.source.size)
        for i in sample_indices(self.source.size):
            params, _ = self.source.raw(i)
            for name, expr, fn in zip(self.names, self.exprs, self._functions, strict=True):
                params[name] = check_expression(expr, fn, params, i, f"derive {name!r}:")

    @property
    def size(self) -> int:
        """The source's number of cases."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The source's names and the derived ones, sorted."""
        return self._keys

    def _compiled(self) -> tuple[Callable[[int], Raw], Callable[[int], ParamCase]]:
        """``raw(i)`` and ``case(i)`` written out: the parent's case, then each expression.

        For ``grid(...).derive(head_dim=col("width") // col("heads"))`` the case reads::

            p, t = r(i)
            p['head_dim'] = (p['width'] // p['heads'])
            m = {'head_dim': p['head_dim'], 'heads': p['heads'], 'width': p['width']} if ...

        so a lookup runs no generic loop (see `metalab._expr.expression_code`).
        """
        compiled = self._compiled_cache
        if compiled is not None:
            return compiled
        namespace: dict[str, Any] = {**CASE_NAMESPACE, "r": self.source._raw_function()}
        body = _grid_body(self, namespace) if isinstance(self.source, GridSource) else None
        if body is None:
            lines = ["    p, t = r(i)\n"]
            for name, expr in zip(self.names, self.exprs, strict=True):
                code = expression_code(expr, "p", namespace)
                lines.append(f"    p[{name_literal(name)}] = {code}\n")
            ordered = ", ".join(f"{name_literal(k)}: p[{name_literal(k)}]" for k in self._keys)
            merge = (
                f"    m = {{{ordered}}} if len(p) == {len(self._keys)} "
                "else dict(sorted(p.items()))\n"
            )
            body = "".join(lines) + merge
        text = (
            f"def raw(i):\n{body}    return m, t\n"
            f"def case(i):\n{body}{case_source('m', 't', 'None', '    ')}    return case\n"
        )
        compile_functions(text, namespace, "derive")
        compiled = (namespace["raw"], namespace["case"])
        object.__setattr__(self, "_compiled_cache", compiled)
        return compiled

    def _generated_code(self) -> str:
        return source_of(*self._compiled())

    def _explain(self, i: int) -> EvaluationError:
        """The error of the first expression that fails on case ``i``."""
        params, _ = self.source.raw(i)
        for expr, fn, name in zip(self.exprs, self._functions, self.names, strict=True):
            try:
                params[name] = fn(params)
            except ERRORS:
                return failure(expr, params, i)
        msg = f"case {i} of {self!r} failed, but not when computed again"  # pragma: no cover
        return EvaluationError(msg)  # pragma: no cover

    def raw(self, i: int) -> Raw:
        try:
            return (self._compiled_cache or self._compiled())[0](i)
        except ERRORS:
            raise self._explain(i) from None

    def _case(self, i: int) -> ParamCase:
        try:
            return (self._compiled_cache or self._compiled())[1](i)
        except ERRORS:
            raise self._explain(i) from None

    @overload
    def __getitem__(self, index: int) -> ParamCase: ...
    @overload
    def __getitem__(self, index: slice) -> SliceSource: ...
    def __getitem__(self, index: int | slice) -> ParamCase | SliceSource:
        """Case ``index`` (negative counts from the end), or a lazy slice of the source."""
        if type(index) is int and 0 <= index < self._size:  # `_case`, without its frame
            try:
                return (self._compiled_cache or self._compiled())[1](index)
            except ERRORS:
                raise self._explain(index) from None
        return super().__getitem__(index)

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
