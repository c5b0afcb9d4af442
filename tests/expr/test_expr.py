"""Expressions: building them, Python's semantics per case, and exact vectorized evaluation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import Expr, col, fmt, grid, if_else, lit, maximum, minimum
from metalab._core.case import encode_value
from metalab._expr import evaluate, evaluate_columns, same
from metalab.errors import EvaluationError, ExpressionError, ParamError
from metalab.testing import expression_grids, numeric_expressions, predicates, str_expressions

_APPROXIMATE = ("exp", "log")
"""Methods whose vectorized values are within one ulp of ``math``'s, not bit-identical."""


def _per_case(expr: Expr[Any], columns: dict[str, np.ndarray[Any, Any]]) -> list[Any] | None:
    """Each row's value by per-case evaluation, or None if some row fails."""
    rows = [
        dict(zip(columns, values, strict=True))
        for values in zip(*(c.tolist() for c in columns.values()), strict=True)
    ]
    try:
        return [evaluate(expr, row, i) for i, row in enumerate(rows)]
    except EvaluationError:
        return None


def _close(a: Any, b: Any) -> bool:
    """Equal by type-tagged encoding, or floats within one ulp."""
    if type(a) is float and type(b) is float:
        return a == b or abs(a - b) <= math.ulp(max(abs(a), abs(b)))
    return encode_value(a) == encode_value(b)


class TestBuilding:
    """Operators, methods and functions build frozen trees with Python-like text."""

    def test_operators_build_text_with_python_precedence(self) -> None:
        """The text is what one would write: parentheses only where Python needs them."""
        assert repr((col("a") + 1) * 2 > col("b")) == "(col('a') + 1) * 2 > col('b')"
        assert repr((col("a") > 1) & (col("b") < 2)) == "(col('a') > 1) & (col('b') < 2)"
        assert repr(col("a") - (col("b") - 1)) == "col('a') - (col('b') - 1)"
        assert repr(-(col("x") ** 2)) == "-col('x') ** 2"
        assert repr((-col("x")) ** 2) == "(-col('x')) ** 2"
        assert repr(lit(-2) ** col("x")) == "(-2) ** col('x')"
        assert repr(~(col("a") == 1)) == "~(col('a') == 1)"

    def test_reflected_operators_keep_the_operand_order(self) -> None:
        """``1 - col('a')`` subtracts the column from one."""
        assert repr(1 - col("a")) == "1 - col('a')"
        assert evaluate(1 - col("a"), {"a": 3}) == -2
        assert evaluate(2 ** col("a"), {"a": 3}) == 8
        assert evaluate(7 // col("a"), {"a": 2}) == 3

    def test_methods_and_functions(self) -> None:
        """Each method and function appears in the text by its own name."""
        e = if_else(col("opt").isin(["sgd"]), minimum(col("lr"), 0.1), maximum(col("lr"), 1))
        assert repr(e) == (
            "if_else(col('opt').isin(['sgd']), minimum(col('lr'), 0.1), maximum(col('lr'), 1))"
        )
        assert repr(col("x").abs().round(2).clip(0, 1)) == "col('x').abs().round(2).clip(0, 1)"
        assert repr((col("x") + 1).cast(int)) == "(col('x') + 1).cast(int)"
        assert repr(fmt("{model}-{width}")) == "fmt('{model}-{width}')"

    def test_bool_is_refused_with_the_operators_to_use(self) -> None:
        """``and``/``or``/``not`` on expressions raise, naming ``&``, ``|`` and ``~``."""
        with pytest.raises(
            ExpressionError, match=r"combine conditions with &, \| and ~ instead of and, or and not"
        ):
            bool(col("a") > 1)
        with pytest.raises(ExpressionError, match="no truth value"):
            _ = (col("a") > 1) and (col("b") > 1)

    def test_structural_equality_is_type_tagged(self) -> None:
        """``same`` tells 1, 1.0 and True apart; ``==`` builds an expression instead."""
        assert same(col("x") + 1, col("x") + 1)
        assert (col("x") + 1).same(col("x") + 1)
        assert not same(col("x") + 1, col("x") + 1.0)
        assert not same(col("x") + 1, col("x") + True)
        assert isinstance(col("x") == 1, Expr)
        assert hash(col("x") + 1) == hash(col("x") + 1)

    def test_expressions_are_frozen(self) -> None:
        """A node cannot be changed after it is built."""
        e = col("x")
        with pytest.raises(AttributeError):
            e.name = "y"  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        ("build", "pattern"),
        [
            (lambda: lit([1, 2]), "constants are None, bool, int, float or str"),
            (lambda: lit(float("nan")), "NaN"),
            (lambda: col("x").isin("abc"), "isin takes a sequence of values, got str"),
            (lambda: col("x").isin([]), "at least one value"),
            (
                lambda: col("x").cast(list),  # type: ignore[arg-type]
                "cast takes int, float, str or bool",
            ),
            (
                lambda: col("x").round(1.5),  # type: ignore[call-overload]
                "round takes an int number of digits",
            ),
            (lambda: fmt("{x.__class__}"), "each field names a parameter"),
            (lambda: fmt("{0}"), r"got \{0\}"),
            (lambda: fmt("{x"), "malformed"),
            (minimum, "at least 1"),
            (lambda: col(""), "col"),
        ],
    )
    def test_bad_input_is_refused(self, build: Any, pattern: str) -> None:
        """Bad arguments raise a ParamError saying what was wrong."""
        with pytest.raises(ParamError, match=pattern):
            build()

    def test_names_in_order_of_first_appearance(self) -> None:
        """``names`` lists the columns read, templates included."""
        assert (col("b") + col("a") * col("b")).names() == ("b", "a")
        assert (fmt("{x}-{y}") + col("z")).names() == ("x", "y", "z")


class TestPerCase:
    """Per-case evaluation has Python's semantics exactly."""

    def test_int_arithmetic_is_exact_at_any_size(self) -> None:
        """``2**70 // 3`` and friends are Python's ints."""
        assert evaluate(col("x") // 3, {"x": 2**70}) == 2**70 // 3
        assert evaluate(col("x") * col("x"), {"x": 2**63}) == 2**126

    def test_floor_division_and_modulo_floor(self) -> None:
        """``//`` floors and ``%`` takes the divisor's sign."""
        assert evaluate(col("a") // col("b"), {"a": -7, "b": 2}) == -4
        assert evaluate(col("a") % col("b"), {"a": -7, "b": 2}) == 1
        assert evaluate(col("a") % col("b"), {"a": 7.5, "b": -2}) == -0.5

    def test_true_division_gives_a_float(self) -> None:
        """``/`` of ints is a correctly rounded float."""
        value = evaluate(col("a") / col("b"), {"a": 2**60 + 1, "b": 3})
        assert type(value) is float
        assert value == (2**60 + 1) / 3

    def test_mixed_comparisons_are_exact(self) -> None:
        """An int and a float compare by their exact values, as in Python."""
        assert evaluate(col("a") > col("b"), {"a": 2**53 + 1, "b": float(2**53)}) is True

    def test_boolean_operators_take_bools_only(self) -> None:
        """``&`` on an int is an evaluation error naming the expression and the case."""
        with pytest.raises(
            EvaluationError, match=r"col\('a'\) & True failed on case 4: TypeError: & takes bools"
        ):
            evaluate(col("a") & True, {"a": 1}, 4)

    def test_if_else_computes_only_the_branch_taken(self) -> None:
        """The other branch may fail: it is not computed."""
        e = if_else(col("b") != 0, col("a") // col("b"), 0)
        assert evaluate(e, {"a": 1, "b": 0}) == 0

    def test_a_math_error_names_expression_part_and_case(self) -> None:
        """A division by zero names the whole expression, the failing part and the case."""
        e = col("a") + 1 / col("b")
        with pytest.raises(
            EvaluationError,
            match=(
                r"col\('a'\) \+ 1 / col\('b'\) failed on case 7 "
                r"\(at 1 / col\('b'\)\): ZeroDivisionError"
            ),
        ):
            evaluate(e, {"a": 1, "b": 0}, 7)

    def test_a_missing_parameter_is_named(self) -> None:
        """A case without the column says so."""
        with pytest.raises(EvaluationError, match="the case has no parameter 'b'"):
            evaluate(col("b") + 1, {"a": 1})

    def test_a_huge_power_is_refused_rather_than_computed(self) -> None:
        """``2 ** (10 ** 10)`` is an error, not a stalled job."""
        with pytest.raises(EvaluationError, match="too large an int"):
            evaluate(lit(2) ** col("n"), {"n": 10**10})

    def test_fmt_formats_the_params(self) -> None:
        """``fmt`` is ``str.format`` over the case's params."""
        assert evaluate(fmt("{model}-w{width:04d}"), {"model": "gpt", "width": 64}) == "gpt-w0064"

    def test_methods(self) -> None:
        """Each method is its Python function."""
        p = {"x": -2.5}
        assert evaluate(col("x").abs(), p) == 2.5
        assert evaluate(col("x").round(), p) == -2.0
        assert evaluate(col("x").floor(), p) == -3
        assert type(evaluate(col("x").floor(), p)) is int
        assert evaluate(col("x").ceil(), p) == -2
        assert evaluate(col("x").abs().sqrt(), p) == math.sqrt(2.5)
        assert evaluate(col("x").exp(), p) == math.exp(-2.5)
        assert evaluate(col("x").abs().log2(), p) == math.log2(2.5)
        assert evaluate(col("x").clip(-1, 1), p) == -1
        assert evaluate(col("x").cast(int), p) == -2
        assert evaluate(col("x").cast(str), p) == "-2.5"
        assert evaluate(col("x").isin([-2.5, 3]), p) is True


class TestVectorized:
    """Evaluation over columns gives the per-case values (bit-identical where promised)."""

    @given(expression_grids(), st.one_of(numeric_expressions(3), predicates(2), str_expressions()))
    def test_vectorized_equals_per_case(self, source: Any, expr: Expr[Any]) -> None:
        """Every row's vectorized value is the per-case value, or both fail."""
        columns = source.columns()
        expected = _per_case(expr, columns)
        if expected is None:
            with pytest.raises(EvaluationError):
                evaluate_columns(expr, columns)
            return
        got = evaluate_columns(expr, columns).tolist()
        approximate = any(op in repr(expr) for op in _APPROXIMATE)
        for a, b in zip(got, expected, strict=True):
            assert _close(a, b) if approximate else encode_value(a) == encode_value(b)

    def test_int64_overflow_falls_back_to_exact_ints(self) -> None:
        """Products beyond int64 are Python's exact ints, in an object column."""
        out = evaluate_columns(col("a") * col("a"), {"a": np.array([2**40, 2**62], dtype=np.int64)})
        assert out.tolist() == [2**80, 2**124]

    def test_division_by_zero_names_the_case_index(self) -> None:
        """A failing row is reported with its case index."""
        with pytest.raises(EvaluationError, match="failed on case 12"):
            evaluate_columns(
                col("a") // col("b"),
                {"a": np.arange(5), "b": np.array([1, 2, 0, 4, 5])},
                np.arange(10, 15),
            )

    def test_if_else_branches_see_only_their_rows(self) -> None:
        """A branch that would fail on the other rows does not."""
        out = evaluate_columns(if_else(col("a") > 0, 10 // col("a"), -1), {"a": np.arange(3)})
        assert out.tolist() == [-1, 10, 5]

    def test_an_unknown_column_is_named(self) -> None:
        """A column the data lacks is an ExpressionError naming it."""
        with pytest.raises(ExpressionError, match="no column 'b'"):
            evaluate_columns(col("b") + 1, {"a": np.arange(3)})

    def test_str_and_number_are_never_equal(self) -> None:
        """``==`` of a str column with a number is False on every row, as in Python."""
        out = evaluate_columns(col("s") == 1, {"s": np.array(["a", "1"])})
        assert out.tolist() == [False, False]

    def test_grid_columns_stay_vectorized(self) -> None:
        """A predicate over int64 columns gives a bool column of the grid's size."""
        columns = grid(a=range(1000), b=range(7)).columns()
        out = evaluate_columns((col("a") % 7 == 0) & (col("b") < 3), columns)
        assert out.dtype == np.bool_
        assert int(out.sum()) == 143 * 3
