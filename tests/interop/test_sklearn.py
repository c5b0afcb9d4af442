"""scikit-learn: the same cases as ParameterGrid, and a real GridSearchCV over a sweep."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, ParameterGrid, ParameterSampler
from sklearn.neighbors import KNeighborsClassifier

import metalab
from metalab import ConcatSource, GridSource, choice, loguniform, randint, uniform
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.interop import from_sklearn, from_sklearn_distributions, to_sklearn
from metalab.interop._common import plain


def _tagged(rows: Any) -> list[list[tuple[str, str, Any]]]:
    """Each case as its sorted (key, type, value) items, so 1, 1.0 and True differ.

    Read-only dicts count as dicts: a case's values as scikit-learn receives them.
    """
    return [
        sorted((k, type(plain(v)).__name__, plain(v)) for k, v in dict(row).items()) for row in rows
    ]


_values = st.one_of(
    st.integers(-5, 5),
    st.floats(-1, 1, allow_nan=False),
    st.sampled_from(["a", "b", None, True]),
)
_param_grids = st.dictionaries(
    st.sampled_from(["C", "alpha", "kernel", "n", "tol"]),
    st.lists(_values, min_size=1, max_size=3),
    max_size=3,
)


class TestFromSklearn:
    """A param_grid becomes the sweep of the same cases in the same order."""

    @given(st.one_of(_param_grids, st.lists(_param_grids, min_size=1, max_size=3)))
    def test_same_cases_in_the_same_order_as_parameter_grid(self, param_grid: Any) -> None:
        """Whatever the dict or list of dicts, the cases are ParameterGrid's, in its order."""
        sweep = from_sklearn(param_grid)
        assert _tagged(case.params for case in sweep) == _tagged(ParameterGrid(param_grid))

    def test_a_dict_is_a_grid_and_a_list_a_concatenation(self) -> None:
        """A dict gives a GridSource, a list of two dicts a ConcatSource of two grids."""
        assert isinstance(from_sklearn({"C": [1, 10]}), GridSource)
        both = from_sklearn([{"C": [1, 10]}, {"kernel": ["rbf"]}])
        assert isinstance(both, ConcatSource)
        assert both.parts == (metalab.grid(C=[1, 10]), metalab.grid(kernel=["rbf"]))

    def test_numpy_arrays_are_value_lists(self) -> None:
        """An array of values is a grid axis, its NumPy floats held as Python floats."""
        sweep = from_sklearn({"alpha": np.logspace(-2, 0, 3)})
        assert [type(c.params["alpha"]) for c in sweep] == [float] * 3
        expected = [
            {"alpha": p["alpha"].item()} for p in ParameterGrid({"alpha": np.logspace(-2, 0, 3)})
        ]
        assert _tagged(c.params for c in sweep) == _tagged(expected)

    @pytest.mark.parametrize(
        ("param_grid", "match"),
        [
            ({"C": []}, r"param_grid\): grid values for 'C' must be a non-empty"),
            ([{"C": [1]}, {"C": "abc"}], r"param_grid\[1\]\): grid values for 'C'"),
            ([{"C": [1]}, 3], r"param_grid\[1\]\): expected a dict of value lists, got int"),
            ([], "an empty list of grids defines no cases"),
            ("C", "expected a dict or a list of dicts, got str"),
            ({"clf": [LogisticRegression()]}, r"grid values for 'clf'"),
        ],
    )
    def test_bad_grids_are_refused(self, param_grid: Any, match: str) -> None:
        """Empty lists, strings, non-dicts and estimator objects are refused, named."""
        with pytest.raises(ParamError, match=match):
            from_sklearn(param_grid)


class TestFromSklearnDistributions:
    """scipy.stats laws become the metalab laws of the same support."""

    def test_each_supported_law(self) -> None:
        """uniform(loc, scale), loguniform(a, b), randint(low, high) and lists map exactly."""
        sweep = from_sklearn_distributions(
            {
                "a": scipy.stats.uniform(1, 2),
                "b": scipy.stats.loguniform(1e-3, 1.0),
                "c": scipy.stats.randint(1, 5),
                "d": ["x", "y"],
                "e": scipy.stats.randint(low=2, high=4, loc=10),
                "f": scipy.stats.reciprocal(2, 8),
                "g": scipy.stats.loguniform(1, 4, scale=0.5),
            },
            n_iter=4,
            seed=3,
        )
        assert isinstance(sweep, metalab.RandomSource)
        assert dict(sweep.space) == {
            "a": uniform(1, 3),
            "b": loguniform(1e-3, 1.0),
            "c": randint(1, 4),
            "d": choice(["x", "y"]),
            "e": randint(12, 13),
            "f": loguniform(2, 8),
            "g": loguniform(0.5, 2.0),
        }
        assert (sweep.n_trials, sweep.seed) == (4, 3)

    def test_randint_excludes_high_as_scipy_does(self) -> None:
        """Every value scipy's randint(0, 3) draws is contained, and 3 is not."""
        sweep = from_sklearn_distributions({"k": scipy.stats.randint(0, 3)}, 1, seed=0)
        assert isinstance(sweep, metalab.RandomSource)
        law = sweep.space["k"]
        drawn = set(scipy.stats.randint(0, 3).rvs(size=200, random_state=0).tolist())
        assert drawn == {0, 1, 2}
        assert all(law.contains(k) for k in drawn)  # type: ignore[attr-defined]
        assert not law.contains(3)  # type: ignore[attr-defined]

    def test_all_lists_sample_without_replacement(self) -> None:
        """With lists only, the cases are distinct combinations, as ParameterSampler's are."""
        space = {"a": [1, 2, 3], "b": ["x", "y"]}
        sweep = from_sklearn_distributions(space, 6, seed=1)
        cases = _tagged(c.params for c in sweep)
        assert sorted(cases) == sorted(_tagged(ParameterGrid(space)))
        assert len(_tagged(ParameterSampler(space, 6, random_state=1))) == len(cases)

    def test_too_many_draws_without_replacement_are_refused(self) -> None:
        """n_iter above the number of combinations is an error, not a silent cut."""
        with pytest.raises(ParamError, match="n_iter must be between 0 and 6"):
            from_sklearn_distributions({"a": [1, 2, 3], "b": ["x", "y"]}, 7, seed=1)

    @pytest.mark.parametrize(
        ("value", "match"),
        [
            (scipy.stats.norm(0, 1), r"scipy.stats.norm\(loc=0, scale=1\) has no metalab"),
            (scipy.stats.loguniform(1, 2, loc=1), "a shifted loguniform"),
            (scipy.stats.randint(3, 3), r"'k': scipy.stats.randint\(low=3, high=3\): randint"),
            (0.5, "expected a list or a frozen scipy.stats law"),
            (scipy.stats.uniform, "expected a list or a frozen scipy.stats law"),
        ],
    )
    def test_other_laws_are_refused(self, value: Any, match: str) -> None:
        """Laws without a metalab equivalent, empty ranges and non-laws are refused, named."""
        with pytest.raises(ParamError, match=match):
            from_sklearn_distributions({"k": value}, 3, seed=0)

    def test_keys_must_be_strings(self) -> None:
        """A key that is no string is refused, not turned into one."""
        with pytest.raises(ParamError, match="keys must be strings, got int 1"):
            from_sklearn_distributions({1: scipy.stats.uniform()}, 3, seed=0)  # type: ignore[dict-item]

    def test_a_list_of_dicts_is_refused_with_the_reason(self) -> None:
        """A list of dicts (a dict picked per draw) is refused and the reason given."""
        with pytest.raises(ParamError, match="picks a dict at random for each draw"):
            from_sklearn_distributions([{"a": [1]}], 3, seed=0)  # type: ignore[arg-type]


class TestToSklearn:
    """A real GridSearchCV evaluates exactly the sweep's cases."""

    X, y = make_classification(n_samples=40, n_features=4, random_state=0)

    def _evaluated(self, param_grid: Any, estimator: Any) -> list[dict[str, Any]]:
        search = GridSearchCV(estimator, param_grid, cv=2)
        search.fit(self.X, self.y)
        params: list[dict[str, Any]] = search.cv_results_["params"]
        return params

    def test_a_grid_in_order(self) -> None:
        """A grid is one dict, and GridSearchCV evaluates its cases in metalab's order."""
        sweep = metalab.grid(n_neighbors=[1, 3, 5], weights=["uniform", "distance"])
        param_grid = to_sklearn(sweep)
        assert param_grid == {"n_neighbors": [1, 3, 5], "weights": ["uniform", "distance"]}
        evaluated = self._evaluated(param_grid, KNeighborsClassifier())
        assert _tagged(evaluated) == _tagged(case.params for case in sweep)

    def test_a_concatenation_of_grids(self) -> None:
        """A sum of grids is a list of dicts, evaluated in order."""
        sweep = metalab.grid(n_neighbors=[1, 2]) + metalab.grid(
            n_neighbors=[4], weights=["distance"]
        )
        param_grid = to_sklearn(sweep)
        assert isinstance(param_grid, list)
        evaluated = self._evaluated(param_grid, KNeighborsClassifier())
        assert _tagged(evaluated) == _tagged(case.params for case in sweep)

    def test_a_random_sweep_is_listed_case_by_case(self) -> None:
        """Any other source lists each case, so its random draws are what is evaluated."""
        sweep = metalab.random({"C": loguniform(1e-2, 1e2), "tol": uniform(1e-4, 1e-3)}, 5, seed=2)
        evaluated = self._evaluated(to_sklearn(sweep), LogisticRegression())
        assert _tagged(evaluated) == _tagged(case.params for case in sweep)

    def test_a_product_with_nested_values(self) -> None:
        """Products list their cases; dict values become plain dicts, tuples stay tuples."""
        sweep = metalab.grid(n_neighbors=[1, 3]) * metalab.manual(
            [{"metric_params": {"w": [1.0, 2.0, 1.0, 1.0]}, "metric": "minkowski"}]
        )
        param_grid = to_sklearn(sweep)
        assert isinstance(param_grid, list)
        assert type(param_grid[0]["metric_params"][0]) is dict
        evaluated = self._evaluated(param_grid, KNeighborsClassifier())
        assert _tagged(evaluated) == _tagged(case.params for case in sweep)

    def test_round_trip(self) -> None:
        """from_sklearn(to_sklearn(grid)) is the grid again."""
        sweep = metalab.grid(C=[1, 10], kernel=["rbf", "linear"]) + metalab.grid(C=[0.5])
        assert from_sklearn(to_sklearn(sweep)) == sweep

    def test_range_axes_stay_ranges(self) -> None:
        """A range axis is handed over as the range, never listed, and means the same."""
        sweep = metalab.grid(seed=range(10**12), C=[1])
        param_grid = to_sklearn(sweep)
        assert param_grid == {"C": [1], "seed": range(10**12)}
        assert len(ParameterGrid(param_grid)) == sweep.size
        assert ParameterGrid(param_grid)[123456789] == sweep[123456789].params

    def test_an_empty_source_is_refused(self) -> None:
        """GridSearchCV needs a case: an empty sweep is refused."""
        with pytest.raises(UnsupportedOperationError, match="has no cases"):
            to_sklearn(metalab.grid(C=[1, 2])[2:])
