"""What `derive` and `where` share: checking expressions against a source when defined.

An expression is checked twice when a sweep is defined, so that a mistake never waits
for a cluster job: every name it reads must be a parameter of the source, and it is
evaluated on a few cases spread over the source (`sample_indices`), which finds a type
clash the source's values rule out (``col("model") + 1`` where ``model`` is a str)
and any failure on those cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from metalab._core.intstr import int_to_str
from metalab._core.values import describe
from metalab._expr import Expr, failure
from metalab.errors import ExpressionError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from metalab._core.values import ParamValue

__all__ = ["ERRORS", "check_expression", "check_names", "expression", "sample_indices"]

_SAMPLE_ENDS: Final = 8
_SAMPLE_SPREAD: Final = 16

ERRORS: Final = (ArithmeticError, ValueError, TypeError, KeyError, IndexError)
"""What evaluating an expression on a case may raise (turned into metalab's errors)."""


def sample_indices(size: int) -> list[int]:
    """The cases a definition-time check evaluates: both ends and some spread between."""
    ends = min(size, _SAMPLE_ENDS)
    chosen = {*range(ends), *range(size - ends, size)}
    if size > 2 * _SAMPLE_ENDS:
        chosen.update(size * k // (_SAMPLE_SPREAD + 1) for k in range(1, _SAMPLE_SPREAD + 1))
    return sorted(chosen)


def expression(value: object, where: str) -> Expr[Any]:
    """``value`` if it is an expression, else `ExpressionError` saying what was given."""
    if not isinstance(value, Expr):
        hint = (
            " (a comparison of plain values, not of col(...)?)"
            if isinstance(value, bool)
            else " (a constant is lit(value))"
        )
        msg = f"{where} must be an expression built from col(...), got {describe(value)}{hint}"
        raise ExpressionError(msg)
    return value


def check_names(expr: Expr[Any], known: Iterable[str], where: str) -> None:
    """Every name ``expr`` reads is in ``known``, else `ExpressionError` naming both."""
    keys = set(known)
    for name in expr.names():
        if name not in keys:
            listed = ", ".join(map(repr, sorted(keys))) or "none"
            msg = (
                f"{where} {expr!r} reads {name!r}, which is no parameter of the source "
                f"(it has: {listed})"
            )
            raise ExpressionError(msg)


def check_expression(
    expr: Expr[Any],
    fn: Callable[[Mapping[str, ParamValue]], Any],
    params: Mapping[str, ParamValue],
    index: int,
    where: str,
) -> Any:
    """``fn(params)`` on a sampled case; a type clash there is an `ExpressionError`."""
    try:
        return fn(params)
    except TypeError as error:
        types = ", ".join(
            f"{name!r} is {describe(params[name], 30)}" for name in expr.names() if name in params
        )
        msg = (
            f"{where} {expr!r} does not fit the source's values: {error} "
            f"(on case {int_to_str(index)}, where {types})"
        )
        raise ExpressionError(msg) from None
    except ERRORS:
        raise failure(expr, params, index) from None
