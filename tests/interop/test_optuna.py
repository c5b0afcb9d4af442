"""Optuna: spaces both ways, enqueued cases in order, and a GridSampler over a grid."""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
import pytest
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

import metalab
from metalab import (
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.rng import Stream
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.interop import INDEX_ATTR, enqueue, from_optuna, grid_sampler, to_optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(sampler: optuna.samplers.BaseSampler | None = None) -> optuna.Study:
    return optuna.create_study(sampler=sampler or optuna.samplers.RandomSampler(seed=0))


class TestToOptuna:
    """Each metalab law becomes the Optuna distribution of the same values."""

    def test_each_law(self) -> None:
        """Bounds, steps and log scales carry over exactly."""
        space = {
            "a": uniform(0.0, 2.0),
            "b": loguniform(1e-4, 1e-1),
            "c": randint(-3, 9, step=4),
            "d": loguniform_int(1, 64),
            "e": choice(["x", None, 2.5]),
            "f": uniform(0.0, 1.0, step=0.25),
            "g": choice(range(3)),
            "h": randint(0, 4),
        }
        assert to_optuna(space) == {
            "a": FloatDistribution(0.0, 2.0),
            "b": FloatDistribution(1e-4, 1e-1, log=True),
            "c": IntDistribution(-3, 9, step=4),
            "d": IntDistribution(1, 64, log=True),
            "e": CategoricalDistribution(["x", None, 2.5]),
            "f": FloatDistribution(0.0, 0.75, step=0.25),
            "g": CategoricalDistribution([0, 1, 2]),
            "h": IntDistribution(0, 4),
        }

    def test_a_random_source_and_a_grid(self) -> None:
        """A random source gives its space; a grid gives a categorical per axis."""
        src = metalab.random({"x": uniform(0, 1)}, 3, seed=0)
        assert to_optuna(src) == {"x": FloatDistribution(0.0, 1.0)}
        assert to_optuna(metalab.grid(n=[1, 2], s=["a"])) == {
            "n": CategoricalDistribution([1, 2]),
            "s": CategoricalDistribution(["a"]),
        }

    @pytest.mark.parametrize(
        ("dist", "match"),
        [
            (normal(0, 1), "uniform, log-uniform and categorical spaces only"),
            (lognormal(0, 1), "uniform, log-uniform and categorical spaces only"),
            (loguniform(1.0, 10.0, step=1.5), "no log scale with a step"),
            (loguniform_int(2, 32, step=6), "no log scale with a step"),
            (choice(["a", "b"], weights=[1, 2]), "have no weights"),
            (choice([1, True]), "options 1 and True are different values but equal to Optuna"),
            (choice([[1, 2], [3]]), "Optuna's choices are None, bools, ints, floats and strings"),
            (choice(range(10**6)), "more than 10000 options"),
        ],
    )
    def test_what_optuna_cannot_express_is_refused(self, dist: Any, match: str) -> None:
        """Normal laws, log steps, weights, confusable and non-scalar options are refused."""
        with pytest.raises(UnsupportedOperationError, match=match):
            to_optuna({"x": dist})

    def test_every_draw_is_in_the_optuna_space(self) -> None:
        """Each metalab draw is a value Optuna's distribution holds (its ``_contains``)."""
        space = {"f": uniform(0.1, 0.7, step=0.1), "c": randint(-3, 9, step=4)}
        converted = to_optuna(space)
        for key, dist in space.items():
            draws = dist.sample_array(Stream(0, key), np.arange(200, dtype=np.uint64)).tolist()
            optuna_dist = converted[key]
            assert all(optuna_dist._contains(optuna_dist.to_internal_repr(v)) for v in draws)


class TestConditionalSources:
    """A sweep with conditional parameters has no static form in the tool: refused, saying why."""

    @pytest.mark.parametrize(
        "source",
        [
            metalab.random(
                {"opt": choice(["a", "b"]), "m": uniform(0, 1).when(metalab.col("opt") == "b")},
                4,
                seed=0,
            ),
            metalab.grid(opt=["a", "b"], m=metalab.when(metalab.col("opt") == "b", [0.9])),
        ],
        ids=["random", "grid"],
    )
    def test_refused_naming_the_conditional_parameters(self, source: Any) -> None:
        """The error says the sweep has conditional parameters, which the tool cannot hold."""
        with pytest.raises(
            UnsupportedOperationError, match=r"conditional parameters.*an Optuna space cannot hold"
        ):
            to_optuna(source)


class TestFromOptuna:
    """Each Optuna distribution becomes the metalab law of the same values."""

    def test_each_distribution(self) -> None:
        """Float, log float, int, stepped int, log int and categorical map exactly."""
        space = from_optuna(
            {
                "a": FloatDistribution(0.0, 2.0),
                "b": FloatDistribution(1e-4, 1e-1, log=True),
                "c": IntDistribution(-3, 9, step=4),
                "d": IntDistribution(1, 64, log=True),
                "e": CategoricalDistribution(["x", None, 2.5]),
                "f": IntDistribution(0, 4),
            }
        )
        assert space == {
            "a": uniform(0.0, 2.0),
            "b": loguniform(1e-4, 1e-1),
            "c": randint(-3, 9, step=4),
            "d": loguniform_int(1, 64),
            "e": choice(["x", None, 2.5]),
            "f": randint(0, 4),
        }

    @pytest.mark.parametrize(
        ("low", "high", "step"), [(0.0, 1.0, 0.25), (0.1, 0.9, 0.1), (-1.0, 2.0, 0.3), (0, 5, 1)]
    )
    def test_a_step_grid_includes_high_as_optuna_does(
        self, low: float, high: float, step: float
    ) -> None:
        """Optuna's ``low + k * step`` up to ``high`` included are exactly the law's points."""
        dist = FloatDistribution(low, high, step=step)
        law = from_optuna({"x": dist})["x"]
        points = [
            float(v)
            for v in np.unique(law.sample_array(Stream(1, "x"), np.arange(4000, dtype=np.uint64)))
        ]
        count = round((high - low) / step) + 1
        assert len(points) == count
        assert law.contains(float(high))  # type: ignore[attr-defined]
        assert all(dist._contains(p) for p in points)

    def test_round_trip(self) -> None:
        """to_optuna(from_optuna(d)) is d again."""
        dists: dict[str, Any] = {
            "a": FloatDistribution(0.0, 2.0),
            "b": FloatDistribution(1e-4, 1e-1, log=True),
            "c": IntDistribution(-3, 9, step=4),
            "e": CategoricalDistribution(["x", None]),
            "f": FloatDistribution(0.0, 1.0, step=0.25),
        }
        assert to_optuna(from_optuna(dists)) == dists

    def test_bad_input_is_refused(self) -> None:
        """A non-distribution and a non-mapping are refused, named."""
        with pytest.raises(ParamError, match=r"'x' ~ 3: expected a Float-, Int- or Categorical"):
            from_optuna({"x": 3})  # type: ignore[dict-item]
        with pytest.raises(ParamError, match="parameter names must be strings, got int 1"):
            from_optuna({1: FloatDistribution(0, 1)})  # type: ignore[dict-item]
        with pytest.raises(ParamError, match="expected a dict of Optuna distributions"):
            from_optuna([FloatDistribution(0, 1)])  # type: ignore[arg-type]


class TestEnqueue:
    """Enqueued cases come back from study.ask() in order."""

    def test_random_cases_in_order(self) -> None:
        """Each ask() with the converted space returns the next case of the source."""
        src = metalab.random(
            {"lr": loguniform(1e-4, 1e-1), "n": randint(1, 8), "opt": choice(["adam", "sgd"])},
            6,
            seed=4,
        )
        study = _study()
        enqueue(study, src)
        space = to_optuna(src)
        for index, case in enumerate(src):
            trial = study.ask(space)
            assert trial.params == case.params
            assert trial.user_attrs == {INDEX_ATTR: index}
            study.tell(trial, 0.0)

    def test_any_source_with_an_objective(self) -> None:
        """study.optimize over a concatenation evaluates exactly its cases, in order."""
        src = metalab.grid(x=[1, 2]) + metalab.manual([{"x": 7}])
        study = _study()
        enqueue(study, src)
        seen: list[int] = []

        def objective(trial: optuna.Trial) -> float:
            seen.append(trial.suggest_int("x", 0, 10))
            return 0.0

        study.optimize(objective, n_trials=src.size)
        assert seen == [1, 2, 7]

    def test_values_optuna_cannot_store_are_refused_before_enqueueing(self) -> None:
        """A tuple value is refused, and no trial of the source is enqueued."""
        study = _study()
        with pytest.raises(UnsupportedOperationError, match=r"case 1 has shape=\(1, 2\)"):
            enqueue(study, metalab.manual([{"shape": 1}, {"shape": [1, 2]}]))
        assert study.trials == []


class TestGridSampler:
    """A GridSampler over a grid evaluates every case exactly once."""

    def test_every_case_once(self) -> None:
        """The study stops after the grid's size, having seen each case once."""
        g = metalab.grid(lr=[0.1, 0.01], n=[1, 2, 3], opt=["adam"])
        study = optuna.create_study(sampler=grid_sampler(g, seed=0))
        seen: list[dict[str, Any]] = []

        def objective(trial: optuna.Trial) -> float:
            seen.append(
                {
                    "lr": trial.suggest_categorical("lr", [0.1, 0.01]),
                    "n": trial.suggest_int("n", 1, 3),
                    "opt": trial.suggest_categorical("opt", ["adam"]),
                }
            )
            return 0.0

        study.optimize(objective, n_trials=100)
        assert len(seen) == g.size
        assert sorted(seen, key=repr) == sorted((dict(c.params) for c in g), key=repr)

    def test_other_sources_are_refused(self) -> None:
        """Only a grid has a GridSampler; the message points to enqueue."""
        with pytest.raises(UnsupportedOperationError, match="enqueue"):
            grid_sampler(metalab.manual([{"x": 1}]))  # type: ignore[arg-type]

    def test_confusable_values_are_refused(self) -> None:
        """An axis holding 1 and 1.0 is refused: Optuna's grid would merge them."""
        with pytest.raises(UnsupportedOperationError, match="equal to Optuna"):
            grid_sampler(metalab.grid(x=[1, 1.0]))
