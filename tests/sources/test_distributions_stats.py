"""Statistical soundness: goodness of fit, independence, unrelated seeds.

Every test draws from fixed seeds, so it is deterministic and never flaky; the
thresholds are strict enough that a wrong law, a biased integer draw or correlated
streams fail. Goodness of fit: 100,000 draws per law must reach a p-value of at least
``P_MIN`` (Kolmogorov-Smirnov for continuous laws, in the log domain for log laws;
chi-square for integer and categorical laws). Independence: Pearson's ``|r|`` stays
below ``R_MAX`` (about 4.7 standard errors at n = 100,000) between the parameters of a
trial, between adjacent trials and between seeds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from scipy import stats

from metalab import (
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    random,
    uniform,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from metalab.params.distributions import Distribution

N = 100_000
P_MIN = 1e-3
R_MAX = 0.015
SEEDS = (0, 2**64 - 1)


def draws(dist: Distribution, seed: int, name: str = "x") -> npt.NDArray[Any]:
    """100,000 draws of one law."""
    return random({name: dist}, N, seed).columns()[name]


def chi_square_p(values: npt.NDArray[Any], support: list[Any], weights: list[float]) -> float:
    """The chi-square p-value of the counts of ``support`` against ``weights``."""
    assert set(np.unique(values).tolist()) <= set(support)
    counts = np.array([np.count_nonzero(values == v) for v in support])
    expected = np.array(weights) / math.fsum(weights) * len(values)
    assert expected.min() >= 5
    return float(stats.chisquare(counts, expected).pvalue)


class TestContinuousLaws:
    """Kolmogorov-Smirnov against the law's CDF."""

    @pytest.mark.parametrize("seed", SEEDS)
    def test_uniform(self, seed: int) -> None:
        """A uniform(-2, 3) sample fits U[-2, 3)."""
        x = draws(uniform(-2, 3), seed)
        assert stats.kstest(x, stats.uniform(-2, 5).cdf).pvalue >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_loguniform_in_the_log_domain(self, seed: int) -> None:
        """The log of a loguniform(1e-4, 10) sample fits U[log 1e-4, log 10)."""
        low, high = math.log(1e-4), math.log(10)
        x = np.log(draws(loguniform(1e-4, 10), seed))
        assert stats.kstest(x, stats.uniform(low, high - low).cdf).pvalue >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_normal(self, seed: int) -> None:
        """A normal(1.5, 2) sample fits N(1.5, 2**2), tails included."""
        x = draws(normal(1.5, 2), seed)
        assert stats.kstest(x, stats.norm(1.5, 2).cdf).pvalue >= P_MIN
        tails = np.count_nonzero(np.abs(x - 1.5) > 3 * 2)
        assert stats.binomtest(tails, N, 2 * stats.norm.sf(3)).pvalue >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_lognormal_in_the_log_domain(self, seed: int) -> None:
        """The log of a lognormal(-1, 0.5) sample fits N(-1, 0.5**2)."""
        x = np.log(draws(lognormal(-1, 0.5), seed))
        assert stats.kstest(x, stats.norm(-1, 0.5).cdf).pvalue >= P_MIN


class TestDiscreteLaws:
    """Chi-square of the counts of each value against the law's probabilities."""

    @pytest.mark.parametrize("seed", SEEDS)
    def test_randint(self, seed: int) -> None:
        """A randint(-3, 7) sample has its 11 values equally often."""
        support = list(range(-3, 8))
        assert chi_square_p(draws(randint(-3, 7), seed), support, [1.0] * 11) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_randint_with_step(self, seed: int) -> None:
        """A randint(0, 100, step=10) sample has 0, 10, ..., 100 equally often."""
        support = list(range(0, 101, 10))
        assert chi_square_p(draws(randint(0, 100, step=10), seed), support, [1.0] * 11) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_randint_over_the_whole_int64_range(self, seed: int) -> None:
        """The top and bottom four bits of a full-range randint are uniform."""
        x = draws(randint(-(2**63), 2**63 - 1), seed).view(np.uint64)
        top = (x >> np.uint64(60)).astype(np.int64)
        bottom = (x & np.uint64(15)).astype(np.int64)
        assert chi_square_p(top, list(range(16)), [1.0] * 16) >= P_MIN
        assert chi_square_p(bottom, list(range(16)), [1.0] * 16) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_randint_where_rejection_is_frequent(self, seed: int) -> None:
        """A range of 2**63 + 1 values (half the raw draws rejected) stays uniform."""
        x = draws(randint(-(2**63), 0), seed)
        sixteenths = (x.view(np.uint64) - np.uint64(2**63)) >> np.uint64(59)
        assert chi_square_p(sixteenths.astype(np.int64), list(range(16)), [1.0] * 16) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_loguniform_int(self, seed: int) -> None:
        """A loguniform_int(1, 100) sample has k with probability log((k+1)/k) / log(101)."""
        support = list(range(1, 101))
        weights = [math.log((k + 1) / k) for k in support]
        assert chi_square_p(draws(loguniform_int(1, 100), seed), support, weights) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_loguniform_int_with_step(self, seed: int) -> None:
        """With step=111, grid point p gets the log-mass of [p, p + 111)."""
        support = list(range(1, 1001, 111))
        weights = [math.log((p + 111) / p) for p in support]
        x = draws(loguniform_int(1, 1000, step=111), seed)
        assert chi_square_p(x, support, weights) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_uniform_with_step(self, seed: int) -> None:
        """A uniform(0, 1, step=0.1) sample has its ten grid points equally often."""
        support = [k / 10 for k in range(10)]
        assert chi_square_p(draws(uniform(0, 1, step=0.1), seed), support, [1.0] * 10) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_loguniform_with_step(self, seed: int) -> None:
        """With step=1, loguniform(1, 100) gives point k the log-mass of [k, k + 1)."""
        support = [float(k) for k in range(1, 100)]
        weights = [math.log((k + 1) / k) for k in support]
        x = draws(loguniform(1, 100, step=1), seed)
        assert chi_square_p(x, support, weights) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_choice(self, seed: int) -> None:
        """A choice of five options draws each equally often."""
        options = ["a", "b", "c", "d", "e"]
        assert chi_square_p(draws(choice(options), seed), options, [1.0] * 5) >= P_MIN

    @pytest.mark.parametrize("seed", SEEDS)
    def test_weighted_choice(self, seed: int) -> None:
        """Each option comes up in proportion to its weight; weight zero never."""
        options, weights = ["a", "b", "c", "d", "e"], [1, 2.5, 0, 0.5, 6]
        x = draws(choice(options, weights=weights), seed)
        assert np.count_nonzero(x == "c") == 0
        kept = [(o, w) for o, w in zip(options, weights, strict=True) if w]
        p = chi_square_p(x, [o for o, _ in kept], [float(w) for _, w in kept])
        assert p >= P_MIN
        for option, weight in kept:
            share = weight / sum(weights)
            assert stats.binomtest(np.count_nonzero(x == option), N, share).pvalue >= P_MIN


def _columns_as_numbers(seed: int) -> dict[str, npt.NDArray[np.float64]]:
    space: dict[str, Distribution] = {
        "u": uniform(0, 1),
        "v": uniform(0, 1),
        "lu": loguniform(1e-3, 1e3),
        "n": normal(0, 1),
        "ln": lognormal(0, 1),
        "k": randint(0, 99),
        "li": loguniform_int(1, 10_000),
        "c": choice(list(range(7))),
        "w": choice(list(range(5)), weights=[1, 2, 3, 4, 5]),
        "s": uniform(0, 1, step=0.01),
    }
    columns = random(space, N, seed).columns()
    for name in ("lu", "ln", "li"):
        columns[name] = np.log(columns[name])
    return {k: v.astype(np.float64) for k, v in columns.items()}


def _r(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return float(np.corrcoef(a, b)[0, 1])


class TestIndependence:
    """Parameters, trials and seeds give unrelated numbers."""

    @pytest.mark.parametrize("seed", SEEDS)
    def test_parameters_of_a_trial_are_uncorrelated(self, seed: int) -> None:
        """Every pair of parameters of the same trials has |r| < R_MAX."""
        columns = _columns_as_numbers(seed)
        names = sorted(columns)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                assert abs(_r(columns[a], columns[b])) < R_MAX, (a, b)

    @pytest.mark.parametrize("seed", SEEDS)
    def test_adjacent_trials_are_uncorrelated(self, seed: int) -> None:
        """Each parameter, and each pair, has |r| < R_MAX between trial i and trial i + 1."""
        columns = _columns_as_numbers(seed)
        for a, x in columns.items():
            for b, y in columns.items():
                assert abs(_r(x[:-1], y[1:])) < R_MAX, (a, b)

    @pytest.mark.parametrize("seed", SEEDS)
    def test_pairs_of_draws_fill_the_unit_square_evenly(self, seed: int) -> None:
        """A 10 x 10 contingency table of (u, v) and of (u_i, u_i+1) shows no dependence."""
        columns = _columns_as_numbers(seed)
        u, v = (np.floor(columns[k] * 10).astype(np.int64) for k in ("u", "v"))
        for x, y in ((u, v), (u[:-1], u[1:])):
            table = np.zeros((10, 10))
            np.add.at(table, (x, y), 1)
            assert stats.chi2_contingency(table).pvalue >= P_MIN

    @pytest.mark.parametrize(
        ("seed_a", "seed_b"),
        [(0, 1), (41, 42), (0, 2**64 - 1), (2**63, 2**63 + 1)],
    )
    def test_different_seeds_give_unrelated_streams(self, seed_a: int, seed_b: int) -> None:
        """Same parameter, nearby seeds: no shared values, |r| < R_MAX at lags -2..2."""
        a = draws(uniform(0, 1), seed_a)
        b = draws(uniform(0, 1), seed_b)
        assert len(np.intersect1d(a, b)) == 0
        for lag in range(-2, 3):
            x, y = (a[lag:], b[: N - lag]) if lag >= 0 else (a[: N + lag], b[-lag:])
            assert abs(_r(x, y)) < R_MAX, lag

    def test_different_names_give_unrelated_streams(self) -> None:
        """Parameters named alike (x1, x2) share no values and are uncorrelated."""
        columns = random({"x1": uniform(0, 1), "x2": uniform(0, 1)}, N, seed=5).columns()
        assert len(np.intersect1d(columns["x1"], columns["x2"])) == 0
        assert abs(_r(columns["x1"], columns["x2"])) < R_MAX
