"""Evaluating expressions: per case with Python's semantics, and over NumPy columns.

Per case (`compile_case`), an expression becomes a tree of closures over the operator
functions below: int arithmetic is exact at any size, ``//`` and ``%`` floor, ``/``
gives a float, comparisons of ints with floats are exact, as in Python. ``&``, ``|``,
``~`` and the condition of ``if_else`` take bools only (a number there is far more
likely a mistake than a wish for its truthiness).

Over columns (`evaluate_columns`), each node is computed by one NumPy operation where
that gives bit-identical values to the per-case result, which is checked on the data
first: ints stay within int64 (bounds are checked before ``+ - *``), a true division
or a comparison of an int with a float only where both are exact in a float, no
division by zero. Anything else (``**``, str formatting, object columns, a possible
overflow) is computed by the per-case functions, element by element, so the result is
always the per-case result; ``exp`` and the logarithms use NumPy's, within one ulp of
``math``'s. A failing case raises `EvaluationError` naming the expression and the
index of the case.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from metalab._core.intstr import int_to_str
from metalab._core.values import INT64_MAX, INT64_MIN, ParamValue, column_array, describe
from metalab._expr.nodes import (
    CASTS,
    Binary,
    Call,
    Cast,
    Col,
    Expr,
    Fmt,
    IsIn,
    Lit,
    Round,
    Unary,
)
from metalab.errors import EvaluationError, ExpressionError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import numpy.typing as npt

__all__ = ["compile_case", "evaluate", "evaluate_columns", "expression_code", "failure"]

_POW_BITS: Final = 1 << 20
"""An int power whose result would exceed about this many bits is refused (a manifest
holding ``2 ** (10 ** 10)`` must not stall a job computing it)."""

_EXACT_FLOAT_INT: Final = 2**53
_ERRORS: Final = (ArithmeticError, ValueError, TypeError, KeyError, IndexError)
"""What an operation on a case's values may raise (turned into `EvaluationError`)."""


# -- the operations, on one case's values --------------------------------------------------
def _bool(value: object, what: str) -> bool:
    if type(value) is not bool:
        msg = f"{what} takes bools, got {describe(value)}"
        raise TypeError(msg)
    return value


def _pow(a: Any, b: Any) -> Any:
    ints = type(a) in (int, bool) and type(b) in (int, bool)
    if ints and b > 0 and abs(a) > 1 and (abs(a).bit_length() - 1) * b > _POW_BITS:
        msg = f"{int_to_str(a)} ** {int_to_str(b)} is too large an int to compute"
        raise OverflowError(msg)
    return a**b


def _and(a: Any, b: Any) -> bool:
    return _bool(a, "&") & _bool(b, "&")


def _or(a: Any, b: Any) -> bool:
    return _bool(a, "|") | _bool(b, "|")


_BINARY: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": _pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "and": _and,
    "or": _or,
}


def _not(a: Any) -> bool:
    return not _bool(a, "~")


_UNARY: Final[dict[str, Callable[[Any], Any]]] = {
    "neg": operator.neg,
    "not": _not,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
}


def _clip(x: Any, low: Any, high: Any) -> Any:
    return min(max(x, low), high)


def _cast(to: str) -> Callable[[Any], Any]:
    cls = CASTS[to]

    def cast(value: Any) -> Any:
        if value is None:
            msg = f"cannot cast None to {to}"
            raise TypeError(msg)
        return cls(value)

    return cast


def _template(node: Fmt) -> Callable[..., str]:
    template = node.template
    names = node.fields()

    def format_values(*values: Any) -> str:
        return template.format_map(dict(zip(names, values, strict=True)))

    return format_values


# -- per case --------------------------------------------------------------------------------
def compile_case(expr: Expr[Any]) -> Callable[[Mapping[str, ParamValue]], Any]:  # noqa: C901, PLR0911
    """A function of a case's params computing ``expr`` (raising Python's own errors)."""
    if isinstance(expr, Col):
        return operator.itemgetter(expr.name)
    if isinstance(expr, Lit):
        value = expr.value
        return lambda _: value
    if isinstance(expr, Binary):
        fn = _BINARY[expr.op]
        left, right = compile_case(expr.left), compile_case(expr.right)
        return lambda p: fn(left(p), right(p))
    if isinstance(expr, Unary):
        fn1 = _UNARY[expr.op]
        arg = compile_case(expr.arg)
        return lambda p: fn1(arg(p))
    if isinstance(expr, Call):
        args = [compile_case(a) for a in expr.args]
        if expr.op == "if_else":
            cond, then, otherwise = args
            return lambda p: then(p) if _bool(cond(p), "if_else's condition") else otherwise(p)
        if expr.op == "clip":
            x, low, high = args
            return lambda p: _clip(x(p), low(p), high(p))
        pick = min if expr.op == "min" else max
        return lambda p: pick([a(p) for a in args])
    if isinstance(expr, IsIn):
        values = expr.values
        arg = compile_case(expr.arg)
        return lambda p: arg(p) in values
    if isinstance(expr, Round):
        ndigits = expr.ndigits
        arg = compile_case(expr.arg)
        return lambda p: round(arg(p), ndigits)
    if isinstance(expr, Cast):
        cast = _cast(expr.to)
        arg = compile_case(expr.arg)
        return lambda p: cast(arg(p))
    if isinstance(expr, Fmt):
        return expr.template.format_map
    msg = f"{type(expr).__name__} is not an expression metalab knows"
    raise ExpressionError(msg)


_CODE_FUNCTIONS: Final[dict[str, Any]] = {
    "_pow": _pow,
    "_and": _and,
    "_or": _or,
    "_not": _not,
    "_bool": _bool,
    "_clip": _clip,
    "_round": round,
    "_min": min,
    "_max": max,
    **{f"_{op}": fn for op, fn in _UNARY.items() if op not in ("neg", "not")},
    **{f"_cast_{to}": _cast(to) for to in CASTS},
}
"""The functions `expression_code` text calls, bound in the generated namespace."""

_INLINE: Final = frozenset(
    {"add", "sub", "mul", "truediv", "floordiv", "mod", "eq", "ne", "lt", "le", "gt", "ge"}
)


def expression_code(  # noqa: C901
    expr: Expr[Any],
    params: str,
    namespace: dict[str, Any],
    column: Callable[[str], str] | None = None,
) -> str:
    """Python text computing ``expr`` from the dict named ``params``, as `compile_case` does.

    Generated code writes the operators inline (``p['width'] // p['heads']``) and calls
    the same functions as `compile_case` for the rest, so the values are the same; names
    enter the text only through `name_literal`, constants are bound in ``namespace``.
    ``column`` gives the text reading a parameter (default: ``params[name]``).
    """
    from metalab._core.codegen import name_literal

    namespace.update(_CODE_FUNCTIONS)

    def text(node: Expr[Any]) -> str:  # noqa: C901, PLR0911
        if isinstance(node, Col):
            return column(node.name) if column else f"{params}[{name_literal(node.name)}]"
        if isinstance(node, Lit | IsIn | Fmt):
            constant = f"_c{len(namespace)}"
            namespace[constant] = (
                node.value
                if isinstance(node, Lit)
                else node.values
                if isinstance(node, IsIn)
                else node.template
            )
            if isinstance(node, IsIn):
                return f"({text(node.arg)} in {constant})"
            if isinstance(node, Fmt):
                return f"{constant}.format_map({params})"
            return constant
        if isinstance(node, Binary):
            if node.op in _INLINE:
                symbol = {
                    "add": "+",
                    "sub": "-",
                    "mul": "*",
                    "truediv": "/",
                    "floordiv": "//",
                    "mod": "%",
                    "eq": "==",
                    "ne": "!=",
                    "lt": "<",
                    "le": "<=",
                    "gt": ">",
                    "ge": ">=",
                }[node.op]
                return f"({text(node.left)} {symbol} {text(node.right)})"
            return f"_{node.op}({text(node.left)}, {text(node.right)})"
        if isinstance(node, Unary):
            if node.op == "neg":
                return f"(-{text(node.arg)})"
            return f"_{node.op}({text(node.arg)})"
        if isinstance(node, Call):
            args = [text(a) for a in node.args]
            if node.op == "if_else":
                return f'({args[1]} if _bool({args[0]}, "if_else\'s condition") else {args[2]})'
            return f"_{node.op}({', '.join(args)})"
        if isinstance(node, Round):
            return f"_round({text(node.arg)}, {int(node.ndigits)})"
        if isinstance(node, Cast):
            return f"_cast_{node.to}({text(node.arg)})"
        msg = f"{type(node).__name__} is not an expression metalab knows"
        raise ExpressionError(msg)

    return text(expr)


def failure(expr: Expr[Any], params: Mapping[str, ParamValue], index: int) -> EvaluationError:
    """The error for ``expr`` failing on case ``index``, naming the part that failed."""
    part, error = _failing_part(expr, params)
    where = "" if part is expr else f" (at {part!r})"
    detail = (
        f"the case has no parameter {error.args[0]!r}"
        if isinstance(error, KeyError) and isinstance(part, Col | Fmt)
        else f"{type(error).__name__}: {error}"
    )
    msg = f"{expr!r} failed on case {int_to_str(index)}{where}: {detail}"
    return EvaluationError(msg)


def _failing_part(
    expr: Expr[Any], params: Mapping[str, ParamValue]
) -> tuple[Expr[Any], BaseException]:
    """The innermost part of ``expr`` that raises on ``params``, and what it raises."""
    if isinstance(expr, Call) and expr.op == "if_else":
        cond, then, otherwise = expr.args
        try:
            taken = _bool(compile_case(cond)(params), "if_else's condition")
        except _ERRORS:
            return _failing_part(cond, params) if cond.children() else (cond, _raised(cond, params))
        return _failing_part(then if taken else otherwise, params)
    for child in expr.children():
        try:
            compile_case(child)(params)
        except _ERRORS:
            return _failing_part(child, params)
    return expr, _raised(expr, params)


def _raised(expr: Expr[Any], params: Mapping[str, ParamValue]) -> BaseException:
    try:
        compile_case(expr)(params)
    except _ERRORS as error:
        return error
    return ValueError("no error")  # pragma: no cover - called only for a failing part


def evaluate(expr: Expr[Any], params: Mapping[str, ParamValue], index: int = 0) -> Any:
    """``expr`` on one case's params; `EvaluationError` naming case ``index`` if it fails.

    >>> from metalab._expr.nodes import col
    >>> evaluate(col("width") // col("heads"), {"width": 2**70, "heads": 3})
    393530540239137101141
    """
    try:
        return compile_case(expr)(params)
    except _ERRORS:
        raise failure(expr, params, index) from None


# -- over columns ------------------------------------------------------------------------------


class _Columns:
    """The rows an expression is evaluated on: columns, their case indices, the top node."""

    __slots__ = ("columns", "count", "positions", "top")

    def __init__(
        self,
        columns: Mapping[str, npt.NDArray[Any]],
        count: int,
        positions: npt.NDArray[Any],
        top: Expr[Any],
    ) -> None:
        self.columns = columns
        self.count = count
        self.positions = positions
        self.top = top

    def subset(self, mask: npt.NDArray[np.bool_], names: Sequence[str]) -> _Columns:
        cols = {name: self.columns[name][mask] for name in names if name in self.columns}
        return _Columns(cols, int(mask.sum()), self.positions[mask], self.top)


def evaluate_columns(
    expr: Expr[Any],
    columns: Mapping[str, npt.NDArray[Any]],
    positions: npt.NDArray[Any] | None = None,
) -> npt.NDArray[Any]:
    """``expr`` on every row of ``columns``, as the column ``column_array`` gives.

    ``positions`` are the case indices of the rows, for error messages (default: the
    row numbers). The values are those `evaluate` gives on each row (see the module).

    >>> import numpy as np
    >>> from metalab._expr.nodes import col
    >>> evaluate_columns(col("a") % 3 == 0, {"a": np.arange(5)}).tolist()
    [True, False, False, True, False]
    """
    names = expr.names()
    missing = [name for name in names if name not in columns]
    if missing:
        msg = f"{expr!r}: no column {missing[0]!r}"
        raise ExpressionError(msg)
    count = len(next(iter(columns.values()))) if columns else 0
    if names:
        count = len(columns[names[0]])
    if positions is None:
        positions = np.arange(count, dtype=np.int64)
    masked = [n for n in names if isinstance(columns[n], np.ma.MaskedArray)]
    if masked:
        # A conditional parameter's column: the data under its mask is no value of any
        # case, so rows that lack a parameter are computed per case, where reading it
        # fails as it does on that case (and an untaken if_else branch never reads it).
        if any(np.ma.getmaskarray(columns[n]).any() for n in masked):
            return _per_case(expr, columns, names, count, positions)
        columns = {**columns, **{n: np.ma.getdata(columns[n]) for n in masked}}
    # NumPy's warnings (a float overflow to inf) are Python's silent results; the fast
    # paths are taken only where the values are Python's, checked on the data.
    with np.errstate(all="ignore"):
        return _vec(expr, _Columns(columns, count, positions, expr))


def _per_case(
    expr: Expr[Any],
    columns: Mapping[str, npt.NDArray[Any]],
    names: Sequence[str],
    count: int,
    positions: npt.NDArray[Any],
) -> npt.NDArray[Any]:
    """``expr`` row by row, each row's params leaving out its masked entries."""
    fn = compile_case(expr)
    data = {n: np.ma.getdata(columns[n]).tolist() for n in names}
    masks = {n: np.ma.getmaskarray(columns[n]).tolist() for n in names}
    values = []
    for row in range(count):
        params = {n: data[n][row] for n in names if not masks[n][row]}
        try:
            values.append(fn(params))
        except _ERRORS:
            raise failure(expr, params, int(positions[row])) from None
    return column_array(values)


def _kind(a: npt.NDArray[Any]) -> str:
    return a.dtype.kind


def _bound(a: npt.NDArray[Any]) -> int:
    """The largest magnitude in an int64 array, as a Python int."""
    if a.size == 0:
        return 0
    return max(abs(int(a.min())), abs(int(a.max())))


def _numeric(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Bools as ints, as Python's arithmetic treats them."""
    return a.astype(np.int64) if a.dtype.kind == "b" else a


def _elementwise(
    fn: Callable[..., Any], arrays: Sequence[npt.NDArray[Any]], rows: _Columns, node: Expr[Any]
) -> npt.NDArray[Any]:
    """``fn`` on each row's values, with Python's semantics: the exact fallback."""
    del node
    lists = [a.tolist() for a in arrays]
    out: list[Any] = []
    append = out.append
    try:
        for values in zip(*lists, strict=True):
            append(fn(*values))
    except _ERRORS:
        row = len(out)
        params = _row_params(rows, row)
        position = rows.positions[row]
        raise failure(rows.top, params, int(position)) from None
    return column_array(out)


def _row_params(rows: _Columns, row: int) -> dict[str, Any]:
    """The params of one row, as Python values, to name what failed on it."""
    return {name: column[row : row + 1].tolist()[0] for name, column in rows.columns.items()}


_PLAIN_DTYPES: Final = (np.dtype(np.int64), np.dtype(np.float64), np.dtype(np.bool_))


def _constant(value: ParamValue, n: int) -> npt.NDArray[Any]:
    """``n`` rows of one constant, with the dtype `column_array` would give them."""
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return np.full(n, value, dtype=np.int64)
    if type(value) in (float, bool):
        return np.full(n, value)
    if type(value) is str and not value.endswith("\0"):
        return np.full(n, value, dtype=f"<U{max(len(value), 1)}")
    out = np.empty(n, dtype=object)
    out[:] = [value] * n
    return out


def _vec(node: Expr[Any], rows: _Columns) -> npt.NDArray[Any]:  # noqa: C901, PLR0911, PLR0912
    n = rows.count
    if isinstance(node, Col):
        column = rows.columns[node.name]
        if column.dtype in _PLAIN_DTYPES or column.dtype.kind in "UO":
            return column
        return column_array(column.tolist())  # another width: as the values' own column
    if isinstance(node, Lit):
        return _constant(node.value, n)
    if isinstance(node, Binary):
        return _binary(node, _vec(node.left, rows), _vec(node.right, rows), rows)
    if isinstance(node, Unary):
        return _unary(node, _vec(node.arg, rows), rows)
    if isinstance(node, Call):
        if node.op == "if_else":
            return _if_else(node, rows)
        args = [_vec(a, rows) for a in node.args]
        return _min_max(node, args, rows)
    if isinstance(node, IsIn):
        return _isin(node, _vec(node.arg, rows), rows)
    if isinstance(node, Round):
        a = _vec(node.arg, rows)
        if node.ndigits == 0 and _kind(a) == "f":
            return np.round(a)
        if node.ndigits >= 0 and _kind(a) == "i":
            return a
        ndigits = node.ndigits
        return _elementwise(lambda x: round(x, ndigits), [a], rows, node)
    if isinstance(node, Cast):
        return _cast_vec(node, _vec(node.arg, rows), rows)
    if isinstance(node, Fmt):
        names = node.fields()
        return _elementwise(_template(node), [rows.columns[name] for name in names], rows, node)
    msg = f"{type(node).__name__} is not an expression metalab knows"
    raise ExpressionError(msg)


_COMPARE: Final = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_NUMPY_BINARY: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "floordiv": np.floor_divide,
    "mod": np.remainder,
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "and": np.logical_and,
    "or": np.logical_or,
}


def _binary_fast(op: str, a: npt.NDArray[Any], b: npt.NDArray[Any]) -> bool:  # noqa: C901, PLR0911
    """Whether NumPy's operation gives exactly Python's values on these arrays."""
    ka, kb = _kind(a), _kind(b)
    if op in ("and", "or"):
        return ka == kb == "b"
    if op == "pow" or "O" in (ka, kb):
        return False
    if "U" in (ka, kb):
        return ka == kb == "U" and op in _COMPARE
    a, b = _numeric(a), _numeric(b)
    ka, kb = _kind(a), _kind(b)
    if op in _COMPARE:
        if ka == kb:
            return True
        ints = a if ka == "i" else b
        return _bound(ints) <= _EXACT_FLOAT_INT
    if op == "truediv":
        if not np.all(b != 0):
            return False
        return all(_bound(x) <= _EXACT_FLOAT_INT for x in (a, b) if _kind(x) == "i")
    if ka == kb == "i":
        bound_a, bound_b = _bound(a), _bound(b)
        if op in ("add", "sub"):
            return bound_a + bound_b <= INT64_MAX
        if op == "mul":
            return bound_a * bound_b <= INT64_MAX
        # floordiv, mod: no zero divisor, and no INT64_MIN // -1
        return bool(np.all(b != 0)) and (a.size == 0 or int(a.min()) != INT64_MIN)
    # Float // and % go through the per-case functions, exactly.
    return op in ("add", "sub", "mul")


def _binary(
    node: Binary, a: npt.NDArray[Any], b: npt.NDArray[Any], rows: _Columns
) -> npt.NDArray[Any]:
    op = node.op
    if _binary_fast(op, a, b):
        if op in ("and", "or"):
            return _NUMPY_BINARY[op](a, b)  # type: ignore[no-any-return]
        return _NUMPY_BINARY[op](_numeric(a), _numeric(b))  # type: ignore[no-any-return]
    kinds = {_kind(a), _kind(b)}
    if op in ("eq", "ne") and "U" in kinds and kinds <= {"U", "i", "f", "b"}:
        # A str never equals a number.
        return np.full(rows.count, op == "ne", dtype=np.bool_)
    return _elementwise(_BINARY[op], [a, b], rows, node)


def _unary(node: Unary, a: npt.NDArray[Any], rows: _Columns) -> npt.NDArray[Any]:  # noqa: C901, PLR0911
    op, kind = node.op, _kind(a)
    if op == "not":
        return ~a if kind == "b" else _elementwise(_not, [a], rows, node)
    if kind in "ib" and op in ("neg", "abs"):
        a = _numeric(a)
        if a.size == 0 or int(a.min()) != INT64_MIN:
            return np.negative(a) if op == "neg" else np.abs(a)  # type: ignore[no-any-return]
    elif kind == "f" and op in ("neg", "abs"):
        return np.negative(a) if op == "neg" else np.abs(a)  # type: ignore[no-any-return]
    elif kind in "ib" and op in ("floor", "ceil"):
        return _numeric(a)
    elif kind == "f" and op in ("floor", "ceil"):
        r = np.floor(a) if op == "floor" else np.ceil(a)
        if np.all(np.abs(r) < 2.0**63):
            return r.astype(np.int64)  # type: ignore[no-any-return]
    elif kind in "ifb" and op in ("sqrt", "exp", "log", "log2", "log10"):
        x = a.astype(np.float64)
        if op == "sqrt" and np.all(x >= 0):
            return np.sqrt(x)
        if op == "exp":
            r = np.exp(x)
            if np.all(np.isfinite(r)):
                return r
        elif op != "sqrt" and np.all(x > 0):
            return {"log": np.log, "log2": np.log2, "log10": np.log10}[op](x)
    return _elementwise(_UNARY[op], [a], rows, node)


def _if_else(node: Call, rows: _Columns) -> npt.NDArray[Any]:
    cond_node, then_node, other_node = node.args
    cond = _vec(cond_node, rows)
    if _kind(cond) != "b":
        # Not all bools: the per-case function raises on the first that is not.
        _elementwise(lambda c: _bool(c, "if_else's condition"), [cond], rows, node)
    mask = cond.astype(np.bool_)
    then = _vec(then_node, rows.subset(mask, then_node.names()))
    other = _vec(other_node, rows.subset(~mask, other_node.names()))
    if other.size == 0:
        return then
    if then.size == 0:
        return other
    kt, ko = _kind(then), _kind(other)
    if kt == ko and kt in "ifbU":
        out = np.empty(rows.count, dtype=np.result_type(then, other))
        out[mask] = then
        out[~mask] = other
        return out
    values: list[Any] = [None] * rows.count
    for row, value in zip(np.flatnonzero(mask).tolist(), then.tolist(), strict=True):
        values[row] = value
    for row, value in zip(np.flatnonzero(~mask).tolist(), other.tolist(), strict=True):
        values[row] = value
    return column_array(values)


def _min_max(node: Call, args: list[npt.NDArray[Any]], rows: _Columns) -> npt.NDArray[Any]:
    kinds = {_kind(a) for a in args}
    # Equal values of one int dtype are identical; floats could be 0.0 and -0.0 (min and
    # max keep the first) or NaN, which NumPy propagates and Python does not.
    plain = len(kinds) == 1 and (
        kinds == {"i"}
        or (kinds == {"f"} and all(np.all(a != 0) and not np.any(np.isnan(a)) for a in args))
    )
    if plain and len({a.dtype for a in args}) == 1:
        if node.op == "clip":
            x, low, high = args
            return np.minimum(np.maximum(x, low), high)  # type: ignore[no-any-return]
        ufunc = np.minimum if node.op == "min" else np.maximum
        return ufunc.reduce(np.stack(args), axis=0)  # type: ignore[no-any-return]
    if node.op == "clip":
        return _elementwise(_clip, args, rows, node)
    pick = min if node.op == "min" else max
    return _elementwise(lambda *v: pick(v), args, rows, node)


def _isin(node: IsIn, a: npt.NDArray[Any], rows: _Columns) -> npt.NDArray[Any]:
    values = node.values
    kind = _kind(a)
    types = {type(v) for v in values}
    exact = (
        (kind == "U" and types == {str})
        or (kind == "i" and types == {int} and all(INT64_MIN <= v <= INT64_MAX for v in values))  # type: ignore[operator]
        or (kind == "f" and types == {float})
    )
    if exact:
        return np.isin(a, np.array(values))
    return _elementwise(lambda x: x in values, [a], rows, node)


def _cast_vec(node: Cast, a: npt.NDArray[Any], rows: _Columns) -> npt.NDArray[Any]:  # noqa: C901, PLR0911
    kind, to = _kind(a), node.to
    if to == "int":
        if kind == "i":
            return a
        if kind == "b":
            return a.astype(np.int64)
        if kind == "f":
            r = np.trunc(a)
            if np.all(np.abs(r) < 2.0**63):
                return r.astype(np.int64)  # type: ignore[no-any-return]
    elif to == "float":
        if kind == "f":
            return a
        if kind in "ib":
            return a.astype(np.float64)
    elif to == "bool":
        if kind == "b":
            return a
        if kind in "if":
            return a != 0  # type: ignore[no-any-return]
    elif to == "str" and kind == "U":
        return a
    return _elementwise(_cast(to), [a], rows, node)
