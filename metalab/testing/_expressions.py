"""Hypothesis strategies for expressions and the derive and where nodes built from them.

The expressions are typed by construction over a grid of int (``i``, ``j``), float
(``f``) and str (``s``) columns, so most of them evaluate; the rest fail on some case
the way Python would (a division by zero, an int too large for a float), which is part
of what the properties check. ``derived_sources`` and ``filtered_sources`` keep only
nodes whose every case evaluates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from hypothesis import strategies as st

from metalab._expr import Expr, col, fmt, if_else, lit, maximum, minimum
from metalab._sources.grid import grid
from metalab.errors import MetalabError

if TYPE_CHECKING:
    from metalab._sources.base import ParamSource

__all__ = [
    "derived_sources",
    "expression_grids",
    "filtered_sources",
    "numeric_expressions",
    "predicates",
    "str_expressions",
]

INT_NAMES: Final = ("i", "j")
FLOAT_NAMES: Final = ("f",)
STR_NAMES: Final = ("s",)

_INTS: Final = st.one_of(
    st.integers(-12, 12),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**62, -(2**63), 2**53 + 1, 2**63 - 1]),
)
_FLOATS: Final = st.one_of(
    st.floats(-100, 100, allow_nan=False, width=64),
    st.sampled_from([0.0, -0.0, 0.5, 2.5, -2.5, 1e300, 2.0**53]),
)
_STRS: Final = st.text("ab-_é", max_size=3)


@st.composite
def expression_grids(draw: st.DrawFn, max_size: int = 24) -> ParamSource:
    """A grid of int columns ``i``, ``j``, float ``f`` and str ``s``, up to ``max_size`` cases."""
    sizes = [draw(st.integers(1, 3)) for _ in range(4)]
    while sizes[0] * sizes[1] * sizes[2] * sizes[3] > max_size:
        sizes[sizes.index(max(sizes))] -= 1
    i, j, f, s = sizes
    return grid(
        i=draw(st.lists(_INTS, min_size=i, max_size=i)),
        j=draw(st.lists(_INTS, min_size=j, max_size=j)),
        f=draw(st.lists(_FLOATS, min_size=f, max_size=f)),
        s=draw(st.lists(_STRS, min_size=s, max_size=s)),
    )


def _numeric_leaves() -> st.SearchStrategy[Expr[Any]]:
    return st.one_of(
        st.sampled_from([col(n) for n in (*INT_NAMES, *FLOAT_NAMES)]),
        _INTS.map(lit),
        _FLOATS.map(lit),
        st.booleans().map(lit),
    )


def numeric_expressions(max_depth: int = 3) -> st.SearchStrategy[Expr[Any]]:
    """Int and float expressions over the columns of `expression_grids`."""
    if max_depth <= 0:
        return _numeric_leaves()
    sub = numeric_expressions(max_depth - 1)
    arithmetic = st.sampled_from(["+", "-", "*", "/", "//", "%"])
    return st.one_of(
        _numeric_leaves(),
        st.tuples(arithmetic, sub, sub).map(lambda t: _arith(*t)),
        st.tuples(sub, st.integers(0, 3)).map(lambda t: t[0] ** t[1]),
        sub.map(lambda e: -e),
        st.tuples(
            sub, st.sampled_from(["abs", "floor", "ceil", "round", "sqrt", "exp", "log"])
        ).map(lambda t: getattr(t[0], t[1])()),
        st.tuples(sub, st.integers(-2, 2)).map(lambda t: t[0].round(t[1])),
        st.lists(sub, min_size=1, max_size=3).map(lambda es: minimum(*es)),
        st.lists(sub, min_size=1, max_size=3).map(lambda es: maximum(*es)),
        st.tuples(sub, _INTS, _INTS).map(lambda t: t[0].clip(*sorted(t[1:]))),
        st.tuples(predicates(max_depth - 1), sub, sub).map(lambda t: if_else(*t)),
        st.tuples(sub, st.sampled_from([int, float, bool])).map(lambda t: t[0].cast(t[1])),
    )


def _arith(op: str, a: Expr[Any], b: Expr[Any]) -> Expr[Any]:
    out: Expr[Any] = {
        "+": a + b,
        "-": a - b,
        "*": a * b,
        "/": a / b,
        "//": a // b,
        "%": a % b,
    }[op]
    return out


def str_expressions(max_depth: int = 2) -> st.SearchStrategy[Expr[Any]]:
    """Str expressions: the ``s`` column, constants, templates and casts of numbers."""
    return st.one_of(
        st.just(col("s")),
        _STRS.map(lit),
        st.sampled_from(["{s}-{i}", "{f:.3g}/{j}", "run {s!r}"]).map(fmt),
        numeric_expressions(max(0, max_depth - 1)).map(lambda e: e.cast(str)),
    )


def predicates(max_depth: int = 2) -> st.SearchStrategy[Expr[bool]]:
    """Bool expressions: comparisons, ``isin``, and ``& | ~`` of those."""
    numbers = numeric_expressions(max(0, max_depth - 1))
    comparison = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    leaves: st.SearchStrategy[Expr[bool]] = st.one_of(
        st.tuples(comparison, numbers, numbers).map(lambda t: _compare(*t)),
        st.tuples(comparison, str_expressions(0), str_expressions(0)).map(lambda t: _compare(*t)),
        st.tuples(numbers, st.lists(_INTS, min_size=1, max_size=3)).map(lambda t: t[0].isin(t[1])),
        st.tuples(str_expressions(0), st.lists(_STRS, min_size=1, max_size=3)).map(
            lambda t: t[0].isin(t[1])
        ),
    )
    if max_depth <= 0:
        return leaves
    sub = predicates(max_depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, sub).map(lambda t: t[0] & t[1]),
        st.tuples(sub, sub).map(lambda t: t[0] | t[1]),
        sub.map(lambda p: ~p),
    )


def _compare(op: str, a: Expr[Any], b: Expr[Any]) -> Expr[bool]:
    out: Expr[bool] = {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]
    return out


def _evaluates(source: ParamSource) -> bool:
    """Whether every case of a node evaluates (its definition checked only a sample)."""
    try:
        source.columns()
        for i in range(source.size):
            source.raw(i)
    except MetalabError:
        return False
    return True


@st.composite
def derived_sources(draw: st.DrawFn, max_size: int = 24) -> ParamSource:
    """A derive node over `expression_grids`, with one to three derived parameters."""
    base = draw(expression_grids(max_size))
    exprs = draw(
        st.lists(
            st.one_of(numeric_expressions(2), str_expressions(), predicates(1)),
            min_size=1,
            max_size=3,
        )
    )
    try:
        source = base.derive(**{f"d{k}": e for k, e in enumerate(exprs)})
    except MetalabError:
        source = base.derive(d0=col("i") + 1)
    return source if _evaluates(source) else base.derive(d0=col("i") + 1)


@st.composite
def filtered_sources(draw: st.DrawFn, max_size: int = 24) -> ParamSource:
    """A where node (or its pushed-down form) over `expression_grids`, perhaps crossed."""
    base: ParamSource = draw(expression_grids(max_size))
    if draw(st.booleans()):
        base = base * grid(k=draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3)))
    found = draw(st.lists(predicates(2), min_size=1, max_size=2))
    if draw(st.booleans()):
        found.append(col("k") > 0 if "k" in base.keys else col("i") >= 0)
    try:
        source = base.where(*found)
    except MetalabError:
        source = base.where(col("i") >= 0)
    return source if _evaluates(source) else base.where(col("i") >= 0)
