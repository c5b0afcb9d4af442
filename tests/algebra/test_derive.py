"""`source.derive(**exprs)` and `with_resolver`: parameters computed from each case."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from metalab import DeriveSource, col, fmt, grid, if_else, manual, random, uniform, with_resolver
from metalab._core.case import encode_value
from metalab.errors import EvaluationError, ExpressionError, ParamError, UnsupportedOperationError
from metalab.manifest import dumps, loads
from metalab.testing import check_source, derived_sources

BASE = grid(width=[64, 128, 256], heads=[4, 8])


class TestDerive:
    """Derived parameters are computed per case, in order, keeping size, order and tags."""

    def test_adds_keys_in_order_a_later_one_reading_an_earlier(self) -> None:
        """``head_dim`` then a name that reads it."""
        s = BASE.derive(head_dim=col("width") // col("heads"), name=fmt("w{width}-d{head_dim}"))
        assert s.keys == ("head_dim", "heads", "name", "width")
        assert s.size == BASE.size
        assert dict(s[1].params) == {"head_dim": 32, "heads": 4, "name": "w128-d32", "width": 128}

    def test_tags_are_the_parents_and_ids_cover_the_final_params(self) -> None:
        """Tags carry over; changing a formula changes the case ids."""
        r = random({"x": uniform(0, 1)}, 3, seed=0)
        a, b = r.derive(y=col("x") * 2), r.derive(y=col("x") * 3)
        assert a[2].tags == r[2].tags
        assert a[2].case_id != b[2].case_id
        assert a[2].case_id != r[2].case_id

    def test_columns_are_vectorized_and_equal_the_cases(self) -> None:
        """``columns()`` holds the per-case values with the matching dtypes."""
        s = BASE.derive(ratio=col("width") / col("heads"), big=col("width") > 100)
        columns = s.columns()
        assert columns["ratio"].dtype == np.float64
        assert columns["big"].dtype == np.bool_
        for i, case in enumerate(s):
            assert columns["ratio"][i] == case.params["ratio"]
        assert s.columns([5, 0])["ratio"].tolist() == [s[5].params["ratio"], s[0].params["ratio"]]

    def test_index_of_works_through_the_parent(self) -> None:
        """``index_of`` finds a case by all its params, derived ones included."""
        s = BASE.derive(head_dim=col("width") // col("heads"))
        assert s.index_of({"width": 256, "heads": 8, "head_dim": 32}) == 5
        assert {"width": 256, "heads": 8, "head_dim": 31} not in s

    def test_indexing_is_constant_time_on_a_huge_source(self) -> None:
        """A derive over 10**30 cases indexes any case."""
        s = grid(a=range(10**30)).derive(b=col("a") % 7)
        assert s[-1].params["b"] == (10**30 - 1) % 7

    def test_equality_and_hash_are_structural(self) -> None:
        """Two derives of the same trees are equal; 1 and 1.0 tell them apart."""
        assert BASE.derive(x=col("width") + 1) == BASE.derive(x=col("width") + 1)
        assert BASE.derive(x=col("width") + 1) != BASE.derive(x=col("width") + 1.0)
        assert hash(BASE.derive(x=col("width") + 1)) == hash(BASE.derive(x=col("width") + 1))

    def test_pickles(self) -> None:
        """A pickled derive comes back equal, with the same cases."""
        s = BASE.derive(x=col("width") * 2)
        back = pickle.loads(pickle.dumps(s))  # noqa: S301 - our own object
        assert back == s
        assert list(back) == list(s)

    def test_round_trips_through_a_manifest(self) -> None:
        """The expressions are JSON data that rebuild the same source."""
        s = BASE.derive(x=if_else(col("heads") > 4, col("width"), -1).cast(float))
        assert loads(dumps(s)) == s


class TestDeriveErrors:
    """Mistakes are found when the derive is defined, naming the expression."""

    def test_an_existing_name_is_refused(self) -> None:
        """A derived name that is already a parameter is a ParamError."""
        with pytest.raises(ParamError, match="'width' is already a parameter"):
            BASE.derive(width=col("width") * 2)

    def test_an_unknown_column_is_named(self) -> None:
        """A column the source lacks is named with the keys it has."""
        with pytest.raises(ExpressionError, match=r"reads 'depth'.*it has: 'heads', 'width'"):
            BASE.derive(x=col("depth") + 1)

    def test_a_type_clash_is_found_at_definition(self) -> None:
        """``col('model') + 1`` where model is a str choice fails when defined."""
        sweep = random({"lr": uniform(0, 1)}, 5, seed=0) * grid(model=["a", "b"])
        with pytest.raises(ExpressionError, match=r"derive 'x': col\('model'\) \+ 1 does not fit"):
            sweep.derive(x=col("model") + 1)

    def test_a_math_error_on_a_sampled_case_is_found_at_definition(self) -> None:
        """A division by zero on the first cases fails when defined, naming the case."""
        with pytest.raises(EvaluationError, match=r"1 / col\('a'\) failed on case 3"):
            grid(a=range(-3, 3)).derive(x=1 / col("a"))

    def test_a_math_error_elsewhere_names_the_case_index(self) -> None:
        """A failing case that the sample missed raises when it is computed, naming it."""
        s = grid(a=range(1000)).derive(x=1 / (col("a") - 500))
        with pytest.raises(EvaluationError, match="failed on case 500"):
            s[500]
        with pytest.raises(EvaluationError, match="failed on case 500"):
            s[-500]
        with pytest.raises(EvaluationError, match="failed on case 500"):
            s.columns()

    def test_a_non_expression_is_refused(self) -> None:
        """A plain value is no expression."""
        with pytest.raises(ExpressionError, match="must be an expression"):
            BASE.derive(x=3)  # type: ignore[arg-type]

    def test_no_expression_is_refused(self) -> None:
        """``derive()`` needs at least one."""
        with pytest.raises(ParamError, match="at least one"):
            BASE.derive()


class TestMessagesNameTheFix:
    """Common mistakes get a message that names the parameter and the way out."""

    def test_a_plain_value_names_the_parameter_and_lit(self) -> None:
        """derive(x=3) names x and says a constant is lit(3)."""
        with pytest.raises(ExpressionError, match=r"^derive\(x=\.\.\.\) .*a constant is lit"):
            grid(a=[1]).derive(x=3)  # type: ignore[arg-type]

    def test_a_missing_parenthesis_is_named(self) -> None:
        """`a > 1 & b > 2` (& binds first) gets the parentheses hint, not only '&'."""
        g = grid(width=[64, 128], heads=[4, 8])
        with pytest.raises(ExpressionError, match=r"each comparison in parentheses"):
            g.where(col("width") > 64 & col("heads") > 4)  # type: ignore[operator]

    def test_index_of_a_case_says_to_pass_its_params(self) -> None:
        """index_of(case) says to pass case.params; `case in source` works as before."""
        g = grid(a=[1, 2])
        with pytest.raises(ParamError, match=r"pass case\.params"):
            g.index_of(g[1])  # type: ignore[arg-type]
        assert g[1] in g
        assert g.index_of(g[1].params) == 1


class TestWithResolver:
    """The callable form of derive: O(1) indexing, no manifest."""

    def test_resolves_each_case(self) -> None:
        """``resolver(context_meta, params)`` gives each case's params."""
        s = with_resolver(BASE, lambda meta, p: {**p, "d": p["width"] // p["heads"] + meta}, 1)
        assert s.size == BASE.size
        assert s[-1].params["d"] == 33
        assert s.keys == ("d", "heads", "width")

    def test_dumps_names_derive(self) -> None:
        """It has no manifest form, and the error names ``derive``."""
        s = with_resolver(manual([{"a": 1}]), lambda _, p: p)
        with pytest.raises(UnsupportedOperationError, match=r"source\.derive\(name=expr"):
            dumps(s)

    def test_a_resolver_returning_no_mapping_is_named(self) -> None:
        """A resolver that returns a list raises naming the case."""
        with pytest.raises(EvaluationError, match="mapping of params, got list"):
            with_resolver(manual([{"a": 1}]), lambda _, p: [p])  # type: ignore[arg-type, return-value]


class TestLaws:
    """Derive nodes keep the laws of every source."""

    def test_check_source(self) -> None:
        """``check_source`` holds for a derive alone and composed."""
        s = BASE.derive(head_dim=col("width") // col("heads"))
        check_source(s)
        check_source((s + BASE.derive(head_dim=col("heads"))).shuffled(1)[1:], fresh_process=False)

    @given(derived_sources())
    def test_indexing_iteration_columns_and_manifest(self, source: Any) -> None:
        """``s[i]`` is the i-th case, columns equal the cases, and manifests round-trip."""
        assert isinstance(source, DeriveSource)
        cases = list(source)
        assert [source[i] for i in range(source.size)] == cases
        columns = source.columns()
        for key in source.keys:
            got = columns[key].tolist()
            assert [encode_value(v) for v in got] == [encode_value(c.params[key]) for c in cases]
        assert loads(dumps(source)) == source
