"""W&B sweep configs: `from_wandb` reads them exactly or refuses, `to_wandb` writes them."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import yaml

import metalab
from metalab import (
    Choice,
    GridSource,
    RandomSource,
    choice,
    grid,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    random,
    uniform,
)
from metalab.errors import MissingExtraError, ParamError, UnsupportedOperationError
from metalab.interop import from_wandb, to_wandb

if TYPE_CHECKING:
    from pathlib import Path

GRID: dict[str, Any] = {
    "program": "train.py",
    "method": "grid",
    "metric": {"name": "val_loss", "goal": "minimize"},
    "parameters": {
        "optimizer": {"values": ["adam", "sgd"]},
        "epochs": {"value": 10},
        "layers": {"distribution": "int_uniform", "min": 1, "max": 3},
        "model": {"parameters": {"dropout": {"values": [0.0, 0.5]}}},
    },
}

YAML_GRID = """\
program: train.py
method: grid
metric:
  name: val_loss
  goal: minimize
parameters:
  optimizer:
    values: [adam, sgd]
  epochs:
    value: 10
  layers:
    distribution: int_uniform
    min: 1
    max: 3
  model:
    parameters:
      dropout:
        values: [0.0, 0.5]
"""


def _random(parameters: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"method": "random", "parameters": parameters, **top}


class TestGridFromWandb:
    """A W&B grid becomes a metalab grid with the same cases in the same order."""

    def test_cases_are_wandbs_product_of_sorted_names(self) -> None:
        """Names sorted, the last varying fastest: itertools.product over them, as W&B's grid."""
        sweep = from_wandb(GRID)
        names = ["epochs", "layers", "model.dropout", "optimizer"]
        values: list[list[Any]] = [[10], [1, 2, 3], [0.0, 0.5], ["adam", "sgd"]]
        expected = [dict(zip(names, row, strict=True)) for row in itertools.product(*values)]
        assert [dict(case.params) for case in sweep] == expected
        assert isinstance(sweep, GridSource)

    def test_nested_parameters_become_dotted_keys(self) -> None:
        """model.parameters.dropout is the key "model.dropout"; nested() gives W&B's config."""
        case = from_wandb(GRID)[0]
        assert "model.dropout" in case.params
        assert case.nested()["model"] == {"dropout": 0.0}

    def test_a_yaml_file_reads_as_the_dict(self, tmp_path: Path) -> None:
        """The sweep YAML of `wandb sweep` gives the same sweep as the dict."""
        path = tmp_path / "sweep.yaml"
        path.write_text(YAML_GRID, encoding="utf-8")
        assert from_wandb(path) == from_wandb(GRID)
        assert from_wandb(str(path)) == from_wandb(GRID)

    def test_q_uniform_lists_numpys_arange_as_wandbs_grid_does(self) -> None:
        """A q_uniform grid axis is numpy.arange(min, max, q): from min, below max."""
        config = {
            "method": "grid",
            "parameters": {"x": {"distribution": "q_uniform", "min": 0.1, "max": 1, "q": 0.3}},
        }
        assert [c.params["x"] for c in from_wandb(config)] == np.arange(0.1, 1, 0.3).tolist()
        ints = {
            "method": "grid",
            "parameters": {"n": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 4}},
        }
        assert [c.params["n"] for c in from_wandb(ints)] == [0, 4, 8]

    def test_run_cap_cuts_the_grid(self) -> None:
        """run_cap keeps the first cases, the ones W&B runs before it stops."""
        capped = from_wandb({**GRID, "run_cap": 5})
        assert capped.size == 5
        assert list(capped) == list(from_wandb(GRID))[:5]
        assert from_wandb({**GRID, "run_cap": 100}) == from_wandb(GRID)

    @pytest.mark.parametrize(
        ("parameters", "message"),
        [
            (
                {"lr": {"min": 0.0, "max": 1.0}},
                "a grid takes value, values, int_uniform and q_uniform",
            ),
            (
                {"o": {"values": [1, 2], "probabilities": [0.5, 0.5]}},
                "got categorical_w_probabilities",
            ),
            ({"q": {"distribution": "q_uniform", "min": 1, "max": 1}}, "no grid point"),
            ({"n": {"distribution": "int_uniform", "min": 3, "max": 1}}, "min <= max"),
        ],
    )
    def test_what_wandbs_grid_refuses_is_refused(
        self, parameters: dict[str, Any], message: str
    ) -> None:
        """Continuous laws and probabilities have no grid, in W&B and here."""
        with pytest.raises(ParamError, match=message):
            from_wandb({"method": "grid", "parameters": parameters})

    def test_n_trials_and_seed_are_refused_for_a_grid(self) -> None:
        """A grid has exactly its cases: n_trials and seed are a mistake, not ignored."""
        with pytest.raises(ParamError, match="n_trials and seed are for random sweeps"):
            from_wandb(GRID, n_trials=3)


class TestRandomFromWandb:
    """A W&B random sweep becomes replayable draws from the same laws."""

    @pytest.mark.parametrize(
        ("parameter", "law"),
        [
            ({"value": "adam"}, choice(["adam"])),
            ({"values": [16, 32]}, choice([16, 32])),
            (
                {"values": ["a", "b"], "probabilities": [0.25, 0.75]},
                choice(["a", "b"], weights=[0.25, 0.75]),
            ),
            ({"min": 1, "max": 8}, randint(1, 8)),
            ({"distribution": "int_uniform", "min": -2, "max": 2}, randint(-2, 2)),
            ({"min": 0.0, "max": 1}, uniform(0.0, 1)),
            ({"distribution": "uniform", "min": 1, "max": 2}, uniform(1, 2)),
            (
                {"distribution": "log_uniform_values", "min": 1e-5, "max": 0.1},
                loguniform(1e-5, 0.1),
            ),
            ({"distribution": "normal"}, normal(0.0, 1.0)),
            ({"distribution": "normal", "mu": 3, "sigma": 0.5}, normal(3, 0.5)),
            ({"distribution": "q_normal", "mu": 0, "sigma": 2, "q": 0.5}, normal(0, 2, step=0.5)),
            ({"distribution": "log_normal", "mu": -2, "sigma": 1}, lognormal(-2, 1)),
            ({"distribution": "q_log_normal", "q": 0.1}, lognormal(0.0, 1.0, step=0.1)),
        ],
        ids=repr,
    )
    def test_each_distribution_maps_to_its_law(self, parameter: dict[str, Any], law: Any) -> None:
        """Each W&B parameter gives the metalab law with the same meaning (defaults included)."""
        sweep = from_wandb(_random({"p": parameter}), n_trials=7, seed=3)
        assert sweep == random({"p": law}, 7, seed=3)

    def test_log_uniform_bounds_are_logarithms(self) -> None:
        """log_uniform's bounds are exponents; inv_log_uniform's give exp(-U), log-uniform too."""
        sweep = from_wandb(
            _random({"a": {"distribution": "log_uniform", "min": -3, "max": 0}}), 4, 0
        )
        assert isinstance(sweep, RandomSource)
        assert sweep.space["a"] == loguniform(math.exp(-3), 1.0)
        inverse = from_wandb(
            _random({"a": {"distribution": "inv_log_uniform", "min": 0, "max": 3}}), 4, 0
        )
        assert isinstance(inverse, RandomSource)
        assert inverse.space["a"] == loguniform(math.exp(-3), 1.0)

    def test_q_uniform_is_the_exact_law_of_rounding_to_multiples_of_q(self) -> None:
        """Each multiple k*q weighs the length of its rounding cell inside [min, max]."""
        sweep = from_wandb(
            _random({"x": {"distribution": "q_uniform", "min": 0.3, "max": 2.2, "q": 0.5}}), 1, 0
        )
        assert isinstance(sweep, RandomSource)
        law = sweep.space["x"]
        assert isinstance(law, Choice)
        assert law.weights is not None
        assert law == choice([0.5, 1.0, 1.5, 2.0], weights=law.weights)
        # round(u / q) * q over a fine, even spread of u in [min, max): the shares converge
        # to the weights, deterministically.
        n = 190_000
        u = 0.3 + (np.arange(n) + 0.5) / n * 1.9
        rounded = np.round(u / 0.5) * 0.5
        shares = [np.mean(rounded == v) for v in (0.5, 1.0, 1.5, 2.0)]
        assert np.allclose(shares, law.weights, atol=1e-4)
        assert math.isclose(math.fsum(law.weights), 1.0)

    def test_q_uniform_weights_are_exact_fractions(self) -> None:
        """The weights of a q_uniform choice are the exact cell lengths over the range."""
        sweep = from_wandb(
            _random({"x": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.4}}), 1, 0
        )
        assert isinstance(sweep, RandomSource)
        low, high, q = Fraction(0), Fraction(1), Fraction(0.4)
        cells = [
            (max(low, (k - Fraction(1, 2)) * q), min(high, (k + Fraction(1, 2)) * q))
            for k in range(3)
        ]
        law = sweep.space["x"]
        assert isinstance(law, Choice)
        assert law.weights == tuple(float((b - a) / (high - low)) for a, b in cells)

    def test_q_uniform_with_an_int_q_draws_ints(self) -> None:
        """As W&B does for an int q, the multiples are ints."""
        sweep = from_wandb(
            _random({"n": {"distribution": "q_uniform", "min": 0, "max": 10, "q": 5}}), 20, 1
        )
        assert {type(c.params["n"]) for c in sweep} == {int}
        assert {c.params["n"] for c in sweep} <= {0, 5, 10}

    def test_n_trials_defaults_to_run_cap(self) -> None:
        """Without n_trials, run_cap is the number of draws."""
        sweep = from_wandb(_random({"x": {"values": [1, 2]}}, run_cap=9), seed=0)
        assert sweep.size == 9

    def test_the_same_seed_gives_the_same_draws(self) -> None:
        """Replayable: the same config and seed give the same cases; another seed others."""
        config = _random({"lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1}})
        first, again, other = (from_wandb(config, 50, s) for s in (1, 1, 2))
        assert list(first) == list(again)
        assert list(first) != list(other)

    @pytest.mark.parametrize(
        ("config", "message"),
        [
            (
                {"method": "bayes", "parameters": {"x": {"values": [1]}}},
                "method 'bayes' cannot be converted",
            ),
            (
                {"method": "hyperband", "parameters": {"x": {"values": [1]}}},
                "method must be 'grid' or 'random'",
            ),
            ({"parameters": {"x": {"values": [1]}}}, "method must be 'grid' or 'random'"),
            (_random({"x": {"distribution": "beta"}}), "metalab has no beta law"),
            (
                _random({"x": {"distribution": "q_log_uniform_values", "min": 1, "max": 9}}),
                "rounds down to the grid",
            ),
            (
                _random({"x": {"distribution": "inv_log_uniform_values", "min": 1, "max": 9}}),
                "cannot be converted",
            ),
            (_random({"x": {"distribution": "laplace"}}), "unknown distribution 'laplace'"),
            (
                _random({"x": {"min": 0, "maxx": 1}}),
                "unknown key 'maxx' for distribution uniform",
            ),
            (_random({"x": {"min": "1e-5", "max": 1.0}}), r"write 1\.0e-5"),
            (_random({"x": {"distribution": "q_normal", "q": 1}}), "q is the int 1"),
            (_random({"x": {"distribution": "q_normal", "q": -0.5}}), "q must be positive"),
            (_random({"x": {"values": [1, 2], "probabilities": [0.5, 0.6]}}), "must sum to 1"),
            (
                _random({"x": {"values": [1, 2], "probabilities": [1.0]}}),
                "1 probabilities for 2 values",
            ),
            (_random({"x": {"values": []}}), "values must be a non-empty list"),
            (
                _random({"x": {"distribution": "q_uniform", "min": 1, "max": 1}}),
                "q_uniform needs min < max",
            ),
            (_random({"x": {}}), "needs value, values, min/max"),
            (_random({"x": 3}), "expected a mapping"),
            (_random({"1x": {"value": 1}}), "is not a W&B parameter name"),
            (
                _random({"m": {"parameters": {}, "values": [1]}}),
                "nested parameters take no other keys",
            ),
            (_random({}), "non-empty mapping of parameters"),
            (
                {**_random({"x": {"value": 1}}), "paramters": {}},
                "unknown top-level key 'paramters'",
            ),
        ],
    )
    def test_what_metalab_cannot_reproduce_is_refused_with_the_reason(
        self, config: dict[str, Any], message: str
    ) -> None:
        """Every refusal is a ParamError that names the parameter and why."""
        with pytest.raises(ParamError, match=message):
            from_wandb(config, n_trials=3, seed=0)

    def test_a_random_sweep_needs_a_count_and_a_seed(self) -> None:
        """W&B draws until stopped and from fresh randomness: metalab needs both up front."""
        config = _random({"x": {"values": [1]}})
        with pytest.raises(ParamError, match="needs n_trials"):
            from_wandb(config, seed=0)
        with pytest.raises(ParamError, match="needs seed"):
            from_wandb(config, n_trials=3)

    def test_bad_files_are_refused(self, tmp_path: Path) -> None:
        """A missing file, a YAML error or a YAML list are ParamErrors naming the file."""
        with pytest.raises(ParamError, match="cannot read the sweep config"):
            from_wandb(tmp_path / "missing.yaml")
        bad = tmp_path / "bad.yaml"
        bad.write_text("method: [grid\n", encoding="utf-8")
        with pytest.raises(ParamError, match="is not valid YAML"):
            from_wandb(bad)
        bad.write_text("- method\n", encoding="utf-8")
        with pytest.raises(ParamError, match="must hold a mapping"):
            from_wandb(bad)
        with pytest.raises(ParamError, match="a dict or the path of a YAML file"):
            from_wandb(3)  # type: ignore[arg-type]

    def test_a_file_without_pyyaml_names_the_extra(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Reading YAML without PyYAML installed is a MissingExtraError naming metalab[wandb]."""
        path = tmp_path / "sweep.yaml"
        path.write_text(YAML_GRID, encoding="utf-8")
        monkeypatch.setitem(sys.modules, "yaml", None)
        with pytest.raises(MissingExtraError, match=r"pip install '\.\[wandb\]'"):
            from_wandb(path)
        assert from_wandb(GRID).size == 12


class TestToWandb:
    """to_wandb writes a config W&B runs as the same sweep, and from_wandb reads it back."""

    def test_a_grid_round_trips(self) -> None:
        """from_wandb(to_wandb(g)) is g: same axes, same order, dotted keys nested."""
        g = grid(
            {"model.depth": range(2, 5), "opt": ["adam", "sgd"], "lr": [0.1, 0.01], "t": [(1, 2)]}
        )
        config = to_wandb(g)
        assert config["method"] == "grid"
        assert config["parameters"]["model"] == {
            "parameters": {"depth": {"distribution": "int_uniform", "min": 2, "max": 4}}
        }
        assert from_wandb(config) == g

    def test_a_random_space_round_trips(self) -> None:
        """Each law goes to its W&B distribution and back; run_cap is the number of trials."""
        space = {
            "a": uniform(0, 1),
            "b": loguniform(1e-4, 1e-1),
            "c": randint(1, 6),
            "d": normal(0, 1, step=0.5),
            "e": lognormal(-1, 0.5),
            "f": choice(["x", "y"], weights=[0.25, 0.75]),
            "g.h": choice([1, 2]),
        }
        source = random(space, 12, seed=4)
        config = to_wandb(source)
        assert config["run_cap"] == 12
        assert config["parameters"]["d"] == {
            "distribution": "q_normal",
            "mu": 0,
            "sigma": 1,
            "q": 0.5,
        }
        assert from_wandb(config, seed=4) == source

    def test_a_product_of_grids_in_sorted_order_is_a_grid(self) -> None:
        """grid(a=...) * grid(b=...) runs as W&B's grid; an unsorted product is refused."""
        product = grid(a=[1, 2]) * grid(b=["x", "y"])
        assert list(from_wandb(to_wandb(product))) == list(product)
        with pytest.raises(UnsupportedOperationError, match="runs them sorted by name"):
            to_wandb(grid(b=["x", "y"]) * grid(a=[1, 2]))

    def test_weights_become_probabilities_that_sum_to_one(self) -> None:
        """Weights in any proportion are written as W&B's probabilities, shares of the total."""
        config = to_wandb(random({"o": choice(["a", "b", "c"], weights=[1, 1, 2])}, 3, seed=0))
        assert config["parameters"]["o"]["probabilities"] == [0.25, 0.25, 0.5]

    def test_the_config_is_yaml(self) -> None:
        """yaml.safe_dump writes the config for `wandb sweep`; reading it back gives the sweep."""
        g = grid(lr=[0.1, 0.01], cfg=[{"a": [1, 2]}])
        text = yaml.safe_dump(to_wandb(g))
        assert from_wandb(yaml.safe_load(text)) == g

    @pytest.mark.parametrize(
        ("source", "message"),
        [
            (random({"n": loguniform_int(1, 64)}, 3, 0), "has no W&B equivalent"),
            (random({"x": uniform(0, 1, step=0.25)}, 3, 0), "step grid starts at low"),
            (random({"n": randint(0, 10, step=5)}, 3, 0), "int_uniform has no q"),
            (
                grid(x=[1]) + grid(x=[2]),
                r"writes grids \(and products of grids\) and random sources",
            ),
            (grid({"x y": [1]}), "is not a W&B parameter name"),
            (grid(n=range(0, 10**9, 2)), "too many values to list"),
        ],
    )
    def test_what_wandb_cannot_run_is_refused(self, source: Any, message: str) -> None:
        """Laws and sources W&B has no equivalent for raise UnsupportedOperationError."""
        with pytest.raises(UnsupportedOperationError, match=message):
            to_wandb(source)


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
            UnsupportedOperationError, match=r"conditional parameters.*a W&B sweep has none"
        ):
            to_wandb(source)


class TestLazyImports:
    """The converters load PyYAML only to read a file."""

    def test_importing_the_converters_loads_no_yaml(self) -> None:
        """Importing metalab.interop, and from_wandb of a dict, leave PyYAML unimported."""
        code = (
            "import sys\n"
            "import metalab.interop\n"
            "assert 'yaml' not in sys.modules\n"
            "metalab.interop.from_wandb({'method': 'grid', 'parameters': {'x': {'value': 1}}})\n"
            "assert 'yaml' not in sys.modules\n"
            "print('ok')\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "ok"
