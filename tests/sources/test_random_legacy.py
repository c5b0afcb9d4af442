"""Replay of metalab's earlier random format, value for value.

The expected values are computed here from the format's definition, with
``random.Random`` directly and nothing from metalab: trial ``i`` seeds
``random.Random(seed * 1_000_000_007 + i)`` and draws one value per parameter in
sorted name order.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import random as stdlib_random
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from metalab._core.case import encode_value
from metalab._sources import random_legacy as _random_legacy
from metalab.errors import ParamError
from metalab.manifest import dumps, from_manifest, loads

LEGACY = "python-random-v0"

# The module, not the function `metalab.params.random` that shadows it as an attribute.
random_module = importlib.import_module("metalab.params.random")
random_code = importlib.import_module("metalab._sources.random")

SPEC: dict[str, tuple[str, tuple[Any, ...]]] = {
    "b_lr": ("loguniform", (1e-5, 1e-1)),
    "a_dropout": ("uniform", (0.0, 0.5)),
    "B_width": ("loguniform_int", (16, 1024)),
    "é_layers": ("randint", (1, 8)),
    "aa_opt": ("choice", (("adam", "sgd", 3, 2.5, None),)),
    "c_int_uniform": ("uniform", (-3, 7)),
}
"""Names whose sorted order differs from the order written here."""

FACTORIES: dict[str, Any] = {
    "uniform": uniform,
    "loguniform": loguniform,
    "loguniform_int": loguniform_int,
    "randint": randint,
    "choice": choice,
}


def expected_trial(
    spec: dict[str, tuple[str, tuple[Any, ...]]], seed: int, i: int
) -> dict[str, Any]:
    """Trial ``i`` of the earlier format, straight from its definition."""
    rng = stdlib_random.Random(seed * 1_000_000_007 + i)
    out: dict[str, Any] = {}
    for name in sorted(spec):
        kind, args = spec[name]
        if kind == "uniform":
            out[name] = rng.uniform(args[0], args[1])
        elif kind == "loguniform":
            out[name] = math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))
        elif kind == "loguniform_int":
            out[name] = int(round(math.exp(rng.uniform(math.log(args[0]), math.log(args[1])))))  # noqa: RUF046 - the format's formula
        elif kind == "randint":
            out[name] = rng.randint(args[0], args[1])
        else:
            out[name] = rng.choice(list(args[0]))
    return out


def legacy_source(spec: dict[str, tuple[str, tuple[Any, ...]]], n_trials: int, seed: int) -> Any:
    """The metalab source for ``spec`` under the legacy algorithm."""
    space = {name: FACTORIES[kind](*args) for name, (kind, args) in spec.items()}
    return random(space, n_trials, seed, algorithm=LEGACY)


class TestReplay:
    """Legacy sources reproduce the earlier format exactly."""

    @pytest.mark.parametrize("seed", [0, 1, 123_456_789, 2**64 + 5, 10**40])
    def test_values_match_the_format_definition(self, seed: int) -> None:
        """Every value, of every law, equals the definition's, bit for bit and type for type."""
        source = legacy_source(SPEC, 60, seed)
        for i in range(60):
            case = source[i]
            expected = expected_trial(SPEC, seed, i)
            assert list(case.params) == sorted(SPEC)
            assert all(
                encode_value(case.params[k]) == encode_value(expected[k]) for k in expected
            ), (i, case)
            assert case.tags == (f"trial_{i}",)

    @given(
        seed=st.integers(0, 2**80),
        names=st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=4, unique=True),
        kinds=st.lists(st.sampled_from(sorted(FACTORIES)), min_size=4, max_size=4),
        index=st.integers(0, 10**6),
    )
    def test_any_names_and_seeds_replay(
        self, seed: int, names: list[str], kinds: list[str], index: int
    ) -> None:
        """Draws follow sorted name order for any names and any non-negative seed."""
        args = {
            "uniform": (-1.5, 2.5),
            "loguniform": (1e-3, 10.0),
            "loguniform_int": (1, 500),
            "randint": (-10, 10),
            "choice": (("x", 1, 2.0),),
        }
        spec = {name: (kind, args[kind]) for name, kind in zip(names, kinds, strict=False)}
        case = legacy_source(spec, index + 1, seed)[index]
        expected = expected_trial(spec, seed, index)
        assert all(encode_value(case.params[k]) == encode_value(expected[k]) for k in expected)

    def test_batched_paths_fall_back_to_the_same_values(self) -> None:
        """take, columns, iteration and dicts of a legacy source agree with indexing."""
        source = legacy_source(SPEC, 30, seed=7)
        indexed = [source[i] for i in range(30)]
        assert list(source) == indexed
        assert source.take([3, -1, 3]) == [indexed[3], indexed[29], indexed[3]]
        assert source.take(np.arange(30)) == indexed
        assert list(source.dicts()) == [case.params for case in indexed]
        columns = source.columns()
        for name, column in columns.items():
            assert all(
                encode_value(v) == encode_value(case.params[name])
                for v, case in zip(column.tolist(), indexed, strict=True)
            )

    def test_current_algorithm_gives_other_values(self) -> None:
        """The two algorithms are different functions of the same definition."""
        legacy = legacy_source(SPEC, 5, seed=1)
        space = {name: FACTORIES[kind](*args) for name, (kind, args) in SPEC.items()}
        current = random(space, 5, seed=1)
        assert [c.params for c in legacy] != [c.params for c in current]


class TestLegacyLimits:
    """The earlier format knew five laws, no options, and any int seed."""

    @pytest.mark.parametrize(
        "dist",
        [
            normal(0, 1),
            lognormal(0, 1),
            uniform(0, 1, step=0.5),
            loguniform(1, 10, step=1),
            randint(0, 4, step=2),
            loguniform_int(1, 9, step=2),
            choice([1, 2], weights=[1, 1]),
        ],
        ids=repr,
    )
    def test_new_laws_and_options_are_refused(self, dist: Any) -> None:
        """A legacy source with a law or option the earlier format lacked is a ParamError."""
        with pytest.raises(ParamError, match="python-random-v0"):
            random({"x": dist}, 3, seed=0, algorithm=LEGACY)

    @pytest.mark.parametrize("seed", [-1, -7, -(2**70)])
    def test_negative_seeds_replay(self, seed: int) -> None:
        """The earlier format's random.Random(seed * 1_000_000_007 + i) is defined for them."""
        source = legacy_source(SPEC, 20, seed)
        for i in range(20):
            expected = expected_trial(SPEC, seed, i)
            assert all(
                encode_value(source[i].params[k]) == encode_value(expected[k]) for k in expected
            )

    def test_the_current_algorithm_refuses_negative_seeds(self) -> None:
        """Only the legacy algorithm takes a negative seed."""
        with pytest.raises(ParamError, match=r"seed must be an int in \[0, 2\*\*64\)"):
            random({"x": uniform(0, 1)}, 3, seed=-1)

    def test_pinned_laws_replay(self) -> None:
        """uniform(a, a) and loguniform(a, a) draw as the earlier format's formulas do."""
        spec: dict[str, tuple[str, tuple[Any, ...]]] = {
            "u": ("uniform", (2.0, 2.0)),
            "v": ("uniform", (-3, -3)),
            "w": ("loguniform", (1.0, 1.0)),
            "z": ("loguniform", (0.1, 0.1)),  # exp(log(0.1)) is 0.1 plus one ulp
            "y": ("uniform", (0.0, 1.0)),
        }
        source = legacy_source(spec, 30, seed=5)
        for i in range(30):
            expected = expected_trial(spec, 5, i)
            assert all(
                encode_value(source[i].params[k]) == encode_value(expected[k]) for k in expected
            )

    def test_repr_names_the_algorithm(self) -> None:
        """A legacy source says so when printed."""
        source = random({"x": uniform(0, 1)}, 3, seed=2**70, algorithm=LEGACY)
        assert repr(source).endswith(f"seed={2**70}, algorithm='python-random-v0')")


class TestLegacyManifests:
    """Manifests without an algorithm field replay the legacy values, and name it on the way out."""

    def test_manifest_without_algorithm_replays_the_earlier_format(self) -> None:
        """Reading a manifest that names no algorithm gives the legacy values."""
        source = legacy_source(SPEC, 10, seed=99)
        data = source.to_manifest_dict()
        assert data["algorithm"] == LEGACY
        del data["algorithm"], data["format_version"]  # as the earlier format wrote it
        replayed = from_manifest(data)
        for i in range(10):
            expected = expected_trial(SPEC, 99, i)
            params = replayed[i].params
            assert all(encode_value(params[k]) == encode_value(expected[k]) for k in expected)
        assert replayed.to_manifest_dict()["algorithm"] == LEGACY

    def test_pinned_laws_and_negative_seeds_load_from_the_earlier_format(self) -> None:
        """An earlier-format manifest with pinned bounds and a negative seed replays exactly."""
        text = json.dumps(
            {
                "type": "RandomSource",
                "space": {
                    "a": {"type": "Uniform", "low": 2.0, "high": 2.0},
                    "b": {"type": "LogUniform", "low": 1.0, "high": 1.0},
                    "c": {"type": "Uniform", "low": 0.0, "high": 1.0},
                },
                "n_trials": 25,
                "seed": -3,
            }
        )
        source = loads(text)
        assert source.algorithm == LEGACY  # type: ignore[attr-defined]
        for i in range(25):
            rng = stdlib_random.Random(-3 * 1_000_000_007 + i)
            expected = {
                "a": rng.uniform(2.0, 2.0),
                "b": math.exp(rng.uniform(math.log(1.0), math.log(1.0))),
                "c": rng.uniform(0.0, 1.0),
            }
            assert source[i].params == expected
            assert (source[i].params["a"], source[i].params["b"]) == (2.0, 1.0)
        assert loads(dumps(source)) == source
        assert [c.params for c in loads(dumps(source))] == [c.params for c in source]


class TestEngines:
    """Each algorithm draws through its own engine, chosen once when the source is built."""

    @staticmethod
    def _every_path(source: Any) -> None:
        """Index, iterate, stream dicts, take and fill columns of ``source``."""
        assert source[3] == source[-2]
        assert len(list(source)) == len(list(source.dicts())) == len(source)
        assert len(source.take([1, 2])) == 2
        assert all(len(column) == len(source) for column in source.columns().values())

    def test_only_the_earlier_format_seeds_random_random(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A legacy source seeds one random.Random per trial drawn; a current source none."""
        seeds: list[int] = []

        def recording(seed: int) -> stdlib_random.Random:
            seeds.append(seed)
            return stdlib_random.Random(seed)

        monkeypatch.setattr(_random_legacy, "_mersenne_twister", recording)
        space = {"x": uniform(0, 1), "n": randint(1, 8)}
        self._every_path(random(space, 5, seed=7))
        assert seeds == []
        self._every_path(random(space, 5, seed=7, algorithm=LEGACY))
        # Indexing draws trial 3 twice, iteration and dicts draw all five, take trials 1
        # and 2, and columns all five again.
        trials = [3, 3, *range(5), *range(5), 1, 2, *range(5)]
        assert seeds == [7 * 1_000_000_007 + i for i in trials]

    def test_the_current_algorithm_never_tests_for_the_earlier_one(self) -> None:
        """RandomSource and the current engine hold no branch on the legacy algorithm."""
        for cls in (random_code.RandomSource, random_code._SplitMixEngine):
            text = inspect.getsource(cls)
            assert "legacy" not in text.lower(), cls.__name__

    def test_the_earlier_format_names_stay_importable_from_random(self) -> None:
        """metalab.params.random re-exports the legacy module's public names, as is."""
        for name in ("LEGACY_ALGORITHM", "LEGACY_DISTRIBUTIONS", "LEGACY_SEED_MULTIPLIER"):
            assert getattr(random_module, name) is getattr(_random_legacy, name)
            assert name in random_module.__all__
