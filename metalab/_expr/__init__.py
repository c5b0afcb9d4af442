"""Expressions: derived parameters and constraints over the params of a case.

`metalab._expr.nodes` holds the expression trees (`col`, `lit`, operators, methods,
functions), `metalab._expr.evaluate` computes them per case and over NumPy columns.
This layer sits below the sources, so that random spaces and distributions can hold
expressions too.
"""

from metalab._expr.evaluate import (
    compile_case,
    evaluate,
    evaluate_columns,
    expression_code,
    failure,
)
from metalab._expr.nodes import (
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
    as_expr,
    col,
    fmt,
    if_else,
    lit,
    maximum,
    minimum,
    same,
)

EXPRESSION_TYPES = (Col, Lit, Unary, Binary, Call, IsIn, Round, Cast, Fmt)
"""Every expression node class, each with its stable ``manifest_type``."""

__all__ = [
    "EXPRESSION_TYPES",
    "Binary",
    "Call",
    "Cast",
    "Col",
    "Expr",
    "Fmt",
    "IsIn",
    "Lit",
    "Round",
    "Unary",
    "as_expr",
    "col",
    "compile_case",
    "evaluate",
    "evaluate_columns",
    "expression_code",
    "failure",
    "fmt",
    "if_else",
    "lit",
    "maximum",
    "minimum",
    "same",
]
