"""Conditional parameters: the laws over generated spaces and grids, and their statistics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats

from metalab import (
    ConditionalGridSource,
    ConditionalRandomSource,
    Distribution,
    Switch,
    col,
    loguniform,
    normal,
    one_of,
    randint,
    random,
    uniform,
)
from metalab.manifest import dumps, loads
from metalab.testing import check_source, conditional_grids, conditional_random_sources

N = 100_000
P_MIN = 1e-3


class TestLaws:
    """Indexing equals iteration, manifests round-trip, sizes equal brute force."""

    @settings(max_examples=30, deadline=None)
    @given(conditional_random_sources())
    def test_random_laws(self, source: ConditionalRandomSource) -> None:
        """Generated conditional random spaces satisfy every law of check_source."""
        check_source(source, fresh_process=False)
        assert loads(dumps(source)) == source

    @settings(max_examples=30, deadline=None)
    @given(conditional_grids())
    def test_grid_laws(self, source: ConditionalGridSource) -> None:
        """Generated conditional grids satisfy every law, and their size is a brute-force count."""
        check_source(source, fresh_process=False)
        assert loads(dumps(source)) == source
        plain = {k: v for k, v in source.spec.items() if k not in source.conditional_keys}
        names = sorted(plain)
        count = 0
        for combo in itertools.product(*(plain[n] for n in names)):  # type: ignore[arg-type]
            env = dict(zip(names, combo, strict=True))
            extra = 1
            for key in source.conditional_keys:
                entry = source.spec[key]
                if any(n not in env for n in entry.names()):  # type: ignore[union-attr]
                    continue
                from metalab._expr import evaluate

                branch = entry.branch(evaluate(entry.expr, env))  # type: ignore[union-attr]
                if branch is not None:
                    extra *= len(branch)  # type: ignore[arg-type]
            count += extra
        assert source.size == count

    def test_check_source_on_a_huge_conditional_grid(self) -> None:
        """The laws hold on a conditional grid of 3 * 10**30 cases."""
        from metalab import grid, when

        check_source(
            grid(seed=range(10**30), opt=["a", "b"], m=when(col("opt") == "b", [0.9, 0.99])),
            fresh_process=False,
        )

    def test_check_source_in_a_fresh_process(self) -> None:
        """A conditional random source is rebuilt identically in a fresh process."""
        check_source(random(one_of("k", {"a": {"x": uniform(0, 1)}, "b": {}}), 30, seed=3))


@pytest.mark.slow
class TestStatistics:
    """At 100,000 draws, branch frequencies match the weights and each branch's law is right."""

    def test_branch_frequencies_match_the_weights(self) -> None:
        """The share of trials on each branch matches the one_of weights (chi-square)."""
        weights = [1.0, 2.0, 5.0]
        space = one_of(
            "opt",
            {"a": {"x": uniform(0, 1)}, "b": {"x": normal(0, 1)}, "c": {"y": randint(1, 4)}},
            weights=weights,
        )
        cols = random(space, N, seed=11).columns()
        counts = [int(np.count_nonzero(cols["opt"] == k)) for k in ("a", "b", "c")]
        expected = np.array(weights) / math.fsum(weights) * N
        assert stats.chisquare(counts, expected).pvalue >= P_MIN
        present_x = ~np.ma.getmaskarray(cols["x"])
        assert present_x.tolist() == np.isin(cols["opt"], ["a", "b"]).tolist()

    def test_each_branch_draws_its_own_law(self) -> None:
        """Within each branch, the values follow that branch's law (Kolmogorov-Smirnov)."""
        space = one_of(
            "opt",
            {
                "a": {"x": uniform(-2, 3)},
                "b": {"x": normal(1.5, 2)},
                "c": {"x": loguniform(1e-3, 10)},
            },
        )
        cols = random(space, N, seed=5).columns()
        x = np.ma.getdata(cols["x"])
        on = {k: x[cols["opt"] == k] for k in ("a", "b", "c")}
        assert stats.kstest(on["a"], stats.uniform(-2, 5).cdf).pvalue >= P_MIN
        assert stats.kstest(on["b"], stats.norm(1.5, 2).cdf).pvalue >= P_MIN
        log_c = np.log(on["c"])
        lo, hi = math.log(1e-3), math.log(10)
        assert stats.kstest(log_c, stats.uniform(lo, hi - lo).cdf).pvalue >= P_MIN

    def test_when_keeps_the_law_of_the_active_trials(self) -> None:
        """A parameter active only where a predicate holds still follows its law there."""
        space: dict[str, Distribution | Switch] = {
            "u": uniform(0, 1),
            "m": uniform(0.8, 0.99).when(col("u") < 0.3),
        }
        cols = random(space, N, seed=2).columns()
        present = ~np.ma.getmaskarray(cols["m"])
        assert present.tolist() == (cols["u"] < 0.3).tolist()
        active = np.ma.getdata(cols["m"])[present]
        assert stats.kstest(active, stats.uniform(0.8, 0.19).cdf).pvalue >= P_MIN
        # Independent of u: within the active trials, m does not follow u.
        assert abs(stats.pearsonr(cols["u"][present], active).statistic) < 0.02
