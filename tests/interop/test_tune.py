"""Ray Tune: param_space both ways, tested with the real ray[tune] domain objects."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from ray import tune
from ray.tune.search.variant_generator import generate_variants

import metalab
from metalab import (
    Distribution,
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.rng import Stream
from metalab.errors import CaseIndexError, ParamError, UnsupportedOperationError
from metalab.interop import INDEX_KEY, case_of, from_tune, to_tune


def _ray_draws(domain: Any, n: int = 2000) -> list[Any]:
    drawn = domain.sample(size=n, random_state=np.random.default_rng(0))
    return list(drawn)


def _metalab_draws(dist: Distribution, n: int = 2000) -> list[Any]:
    out: list[Any] = dist.sample_array(Stream(0, "x"), np.arange(n, dtype=np.uint64)).tolist()
    return out


def _law(domain: Any) -> Distribution:
    sweep = from_tune({"x": domain}, 1, seed=0)
    assert isinstance(sweep, metalab.RandomSource)
    return sweep.space["x"]


class TestFromTune:
    """Each Ray domain becomes the metalab law of its values and probabilities."""

    @pytest.mark.parametrize(
        ("domain", "law"),
        [
            (tune.uniform(-1.0, 2.0), uniform(-1.0, 2.0)),
            (tune.loguniform(1e-4, 1e-1), loguniform(1e-4, 1e-1)),
            (tune.randint(1, 10), randint(1, 9)),
            (tune.lograndint(1, 100), loguniform_int(1, 99)),
            (tune.choice(["a", "b", 3]), choice(["a", "b", 3])),
            (tune.qrandint(0, 10, 5), randint(0, 10, step=5)),
            (tune.qrandint(1, 10, 3), randint(3, 9, step=3)),
            (tune.qrandint(1, 10), randint(1, 9)),
            (tune.qlograndint(2, 64, 2), loguniform_int(2, 64, step=2)),
            (tune.randn(1.0, 2.0), normal(1.0, 2.0)),
            (
                tune.quniform(0.0, 1.0, 0.25),
                choice([0.0, 0.25, 0.5, 0.75, 1.0], weights=[1, 2, 2, 2, 1]),
            ),
        ],
        ids=repr,
    )
    def test_each_domain(self, domain: Any, law: Distribution) -> None:
        """The law is the expected one, and every value Ray draws is contained in it."""
        converted = _law(domain)
        assert converted == law
        assert all(converted.contains(v) for v in _ray_draws(domain))  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        "domain",
        [
            tune.randint(1, 10),
            tune.lograndint(1, 100),
            tune.qrandint(0, 10, 5),
            tune.qrandint(1, 10, 3),
            tune.qlograndint(2, 64, 2),
            tune.quniform(0.0, 1.0, 0.25),
            tune.qloguniform(1.0, 8.0, 1.0),
            tune.choice([1, 2, 3]),
        ],
        ids=repr,
    )
    def test_discrete_domains_have_the_same_values(self, domain: Any) -> None:
        """For discrete domains, Ray's draws and metalab's draws hit the same set of values."""
        converted = _law(domain)
        assert set(_ray_draws(domain)) == set(_metalab_draws(converted))
        assert all(domain.is_valid(v) for v in _metalab_draws(converted))

    def test_quantized_ends_weigh_half_as_ray_draws_them(self) -> None:
        """Ray draws quniform's end points half as often as the inner ones, as the weights say."""
        converted = _law(tune.quniform(0.0, 1.0, 0.5))
        assert converted == choice([0.0, 0.5, 1.0], weights=[1, 2, 1])
        drawn = _ray_draws(tune.quniform(0.0, 1.0, 0.5), 20000)
        share = drawn.count(0.5) / len(drawn)
        assert 0.48 < share < 0.52

    def test_qloguniform_weights_are_log_lengths(self) -> None:
        """Multiple k of qloguniform weighs log((k + 0.5) / (k - 0.5)), clipped to the bounds."""
        converted = _law(tune.qloguniform(1.0, 4.0, 1.0))
        assert isinstance(converted, metalab.Choice)
        assert converted.options == (1.0, 2.0, 3.0, 4.0)
        expected = [np.log(1.5), np.log(2.5 / 1.5), np.log(3.5 / 2.5), np.log(4 / 3.5)]
        assert converted.weights == pytest.approx(expected, rel=1e-12)

    def test_grid_search_constants_and_nesting(self) -> None:
        """grid_search and constants give a grid, nested dicts dotted keys."""
        sweep = from_tune(
            {
                "model": {"depth": tune.grid_search([2, 4]), "act": "relu"},
                "lr": tune.grid_search([0.1]),
            },
            1,
            seed=0,
        )
        assert sweep == metalab.grid({"model.act": ["relu"], "model.depth": [2, 4], "lr": [0.1]})

    def test_random_and_grid_give_n_rounds_of_the_grid(self) -> None:
        """With both, there are n_trials rounds of the grid, as Ray's num_samples repeats it."""
        sweep = from_tune({"lr": tune.uniform(0, 1), "n": tune.grid_search([1, 2, 3])}, 4, seed=1)
        assert sweep.size == 12
        assert [c.params["n"] for c in sweep][:6] == [1, 2, 3, 1, 2, 3]
        assert sweep == metalab.random({"lr": uniform(0, 1)}, 4, seed=1) * metalab.grid(n=[1, 2, 3])

    def test_a_grid_alone_runs_once(self) -> None:
        """Without random domains, n_trials must be 1 (Ray would repeat identical configs)."""
        with pytest.raises(ParamError, match="repeats the same configs"):
            from_tune({"n": tune.grid_search([1, 2])}, 3, seed=0)

    @pytest.mark.parametrize("q", [0.5, 0.25, 2.0])
    def test_qrandn_of_an_exact_q_is_a_stepped_normal(self, q: float) -> None:
        """Ray's qrandn with a whole or power-of-two q is normal(mean, sd, step=q), both ways."""
        sweep = from_tune({"x": tune.qrandn(1.0, 2.0, q)}, 500, seed=0)
        assert isinstance(sweep, metalab.RandomSource)
        assert sweep.space["x"] == normal(1.0, 2.0, step=q)
        domain = to_tune(sweep)["x"]
        assert (domain.sampler.q, domain.sampler.sampler.mean, domain.sampler.sampler.sd) == (
            q,
            1.0,
            2.0,
        )
        for case in sweep:
            x = case.params["x"]
            assert isinstance(x, float)
            assert domain.is_valid(x)
            assert x == round(x / q) * q  # Ray's own rounding gives the same float

    def test_a_stepped_normal_with_a_decimal_step_is_refused(self) -> None:
        """normal(step=0.1) has no qrandn: Ray's 0.30000000000000004 is not metalab's 0.3."""
        with pytest.raises(UnsupportedOperationError, match="float products"):
            to_tune(metalab.random({"x": normal(0, 1, step=0.1)}, 3, seed=0))

    @pytest.mark.parametrize(
        ("space", "match"),
        [
            ({"x": tune.qrandn(0.0, 1.0, 0.1)}, r"qrandn rounds to the float products"),
            ({"x": tune.sample_from(lambda _: 1)}, r"sample_from\) or a custom domain"),
            ({"x": tune.randint(3, 3)}, r"'x' ~ Integer\(3, 3\): randint"),
            ({"x": tune.qrandint(1, 4, 5)}, "no multiple of q=5"),
            ({"x": tune.quniform(0.0, 1e6, 1.0)}, "more than 10000 are not listed"),
            ({"x": tune.choice([object()])}, r"'x' ~ Categorical"),
            ({}, "expected a non-empty dict"),
            ({1: tune.uniform(0, 1)}, "keys must be strings"),
            ({"a.b": 1, "a": {"b": tune.uniform(0, 1)}}, "the key 'a.b' is given twice"),
        ],
    )
    def test_what_has_no_metalab_law_is_refused(self, space: Any, match: str) -> None:
        """A decimal q for qrandn, functions, empty ranges, huge grids: refused, named."""
        with pytest.raises(ParamError, match=match):
            from_tune(space, 2, seed=0)


class TestToTune:
    """metalab sources become param_spaces Ray runs with the same values."""

    @pytest.mark.parametrize(
        "dist",
        [
            uniform(0.0, 2.0),
            loguniform(1e-4, 1e-1),
            randint(1, 9),
            randint(0, 100, step=25),
            randint(1, 21, step=5),
            loguniform_int(1, 99),
            loguniform_int(2, 64, step=2),
            choice(["a", "b"]),
            choice(range(3, 30, 3)),
            uniform(0.1, 0.7, step=0.1),
            normal(0.0, 1.0),
        ],
        ids=repr,
    )
    def test_each_law_round_trips_and_matches_draws(self, dist: Distribution) -> None:
        """Ray's domain accepts every metalab draw, and every Ray draw is in the law."""
        domain = to_tune(metalab.random({"x": dist}, 5, seed=0))["x"]
        assert all(domain.is_valid(v) for v in _metalab_draws(dist))
        assert all(dist.contains(v) for v in _ray_draws(domain))  # type: ignore[attr-defined]

    def test_integer_bounds_become_exclusive(self) -> None:
        """randint(1, 9) is tune.randint(1, 10): Ray's upper bound is exclusive."""
        domain = to_tune(metalab.random({"x": randint(1, 9)}, 5, seed=0))["x"]
        assert (domain.lower, domain.upper) == (1, 10)
        assert _law(domain) == randint(1, 9)

    def test_a_pinned_law_is_a_constant(self) -> None:
        """uniform(2.0, 2.0) has one value, written as a constant."""
        assert to_tune(metalab.random({"x": uniform(2.0, 2.0)}, 5, seed=0)) == {"x": 2.0}

    @pytest.mark.parametrize(
        ("dist", "match"),
        [
            (lognormal(0, 1), "no native domain"),
            (choice(["a", "b"], weights=[1, 2]), "choice has no weights"),
            (loguniform(1.0, 10.0, step=1.5), "no log-uniform law over a grid"),
            (loguniform_int(3, 33, step=6), "multiples of q, and low is not"),
            (uniform(0.0, 1.0, step=1e-5), "more than 10000 points"),
        ],
    )
    def test_what_ray_cannot_express_is_refused(self, dist: Distribution, match: str) -> None:
        """Laws without a Ray domain are refused, pointing to indices=True."""
        with pytest.raises(UnsupportedOperationError, match=match):
            to_tune(metalab.random({"x": dist}, 5, seed=0))

    def test_a_grid_gives_the_same_configs(self) -> None:
        """Ray's variants of a grid are exactly the grid's cases (in Ray's own order)."""
        g = metalab.grid(a=[1, 2], b=["x", "y", "z"])
        configs = [config for _, config in generate_variants(to_tune(g))]
        assert sorted(configs, key=repr) == sorted((dict(c.params) for c in g), key=repr)

    def test_any_source_runs_by_index(self) -> None:
        """A concatenation runs as a grid over indices, and case_of gives back each case."""
        sweep = metalab.grid(lr=[0.1, 0.01]) + metalab.manual([{"lr": 1.0, "wd": 0.1}])
        space = to_tune(sweep)
        configs = [config for _, config in generate_variants(space)]
        assert [case_of(sweep, config) for config in configs] == list(sweep)

    def test_a_random_source_by_index(self) -> None:
        """indices=True runs metalab's own draws of a random source."""
        src = metalab.random({"x": uniform(0, 1)}, 3, seed=5)
        configs = [config for _, config in generate_variants(to_tune(src, indices=True))]
        assert [case_of(src, config) for config in configs] == list(src)

    def test_case_of_refuses_other_configs(self) -> None:
        """A config without the index key, or with an index outside, is an error."""
        sweep = metalab.grid(lr=[0.1])
        with pytest.raises(ParamError, match=f"expected a trial config with the key '{INDEX_KEY}'"):
            case_of(sweep, {"lr": 0.1})
        with pytest.raises(CaseIndexError):
            case_of(sweep, {INDEX_KEY: 5})
