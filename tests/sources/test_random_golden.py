"""Golden vectors: values of the current random algorithm, recorded once, checked forever.

``tests/golden/splitmix64-v1.json`` holds draws of every distribution and option under
several seeds and names, at small and huge trial indices, floats written exactly with
``float.hex``. Draws made with integer arithmetic and + - * / only must match bit for
bit on every platform; draws through exp, log, sqrt or cos may differ by one ulp across
CPUs and libm builds, and no more. A change of algorithm needs a new name and a new file;
this one must keep passing.

Run ``python tests/sources/test_random_golden.py`` to add the entries of new specs to the
file: recorded entries are copied as they are, never recomputed (another machine's exp
may differ from the recording one's by an ulp), so recorded values never change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metalab import (
    Choice,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    RandInt,
    Uniform,
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    random,
    uniform,
)
from metalab._sources import distributions as dist_module
from metalab._sources.rng import ALGORITHM

GOLDEN = Path(__file__).parents[1] / "golden" / f"{ALGORITHM}.json"

FACTORIES: dict[str, Any] = {
    "uniform": uniform,
    "loguniform": loguniform,
    "loguniform_int": loguniform_int,
    "randint": randint,
    "choice": choice,
    "normal": normal,
    "lognormal": lognormal,
}

EXACT = "exact"
ULP = "ulp"

# (factory, args, kwargs, tolerance). "exact" for integer arithmetic and + - * /;
# "ulp" for draws through exp, log, sqrt or cos. The log-scale laws that round to a
# grid (loguniform with step, loguniform_int below 2**53, stepped Gaussians) are
# compared exactly: every
# recorded draw lies more than an ulp away from a grid boundary (checked when the file
# is written). Above 2**53 an integer draw is a float's value, so within its ulp.
SPECS: list[tuple[str, list[Any], dict[str, Any], str]] = [
    ("uniform", [0, 1], {}, EXACT),
    ("uniform", [-1e300, 1e300], {}, EXACT),
    ("uniform", [1e16, 1e16 + 4], {}, EXACT),
    ("uniform", [-2.5, 7.25], {}, EXACT),
    ("uniform", [-0.5, 0.5], {"step": 0.1}, EXACT),
    ("uniform", [0.0, 1.0], {"step": 0.3141592653589793}, EXACT),
    ("loguniform", [1e-5, 0.1], {}, ULP),
    ("loguniform", [1e-300, 1e300], {}, ULP),
    ("loguniform", [1, 100], {"step": 0.5}, EXACT),
    ("randint", [1, 8], {}, EXACT),
    ("randint", [-5, 5], {}, EXACT),
    ("randint", [-(2**63), 2**63 - 1], {}, EXACT),
    ("randint", [-(2**63), 0], {}, EXACT),
    ("randint", [0, 100], {"step": 25}, EXACT),
    ("loguniform_int", [1, 1024], {}, EXACT),
    ("loguniform_int", [16, 4096], {"step": 16}, EXACT),
    ("loguniform_int", [1, 2**62], {}, ULP),
    ("choice", [["adam", "sgd", "rmsprop"]], {}, EXACT),
    ("choice", [[1, 2.5, "x", None, [1, 2], {"k": True}]], {}, EXACT),
    ("choice", [["a", "b", "c", "d"]], {"weights": [0.1, 0, 2, 1]}, EXACT),
    ("choice", [[True, False]], {"weights": [3, 1]}, EXACT),
    ("normal", [0, 1], {}, ULP),
    ("normal", [-3.5, 0.001], {}, ULP),
    ("lognormal", [0, 1], {}, ULP),
    ("lognormal", [-2, 0.5], {}, ULP),
    # Gaussian steps round a draw through log, sqrt and cos (and exp) to a multiple of
    # step: exact as for the stepped log laws, since no recorded draw is within an ulp
    # of a rounding boundary (checked when the file is written).
    ("normal", [0, 1], {"step": 0.1}, EXACT),
    ("normal", [3.5, 2], {"step": 0.5}, EXACT),
    ("lognormal", [-2, 1], {"step": 0.01}, EXACT),
]
SEEDS = [0, 12345, 2**64 - 1]
NAMES = ["p", "learning_rate", "名前"]
INDICES = [0, 1, 2, 1000, 2**32 + 7, 2**63 + 5, 2**64 - 1]
N_TRIALS = 2**64


def encode(value: Any) -> Any:
    """A parameter value as JSON, floats exactly."""
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, tuple):
        return {"tuple": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"map": {k: encode(v) for k, v in value.items()}}
    return value


def decode(value: Any) -> Any:
    """The inverse of `encode`."""
    if isinstance(value, dict):
        if "float" in value:
            return float.fromhex(value["float"])
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        return {k: decode(v) for k, v in value["map"].items()}
    return value


def same(a: Any, b: Any) -> bool:
    """Equal, type for type, floats bit for bit."""
    if type(a) is not type(b) and not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        return False
    if isinstance(a, float):
        return bool(a.hex() == b.hex())
    if isinstance(a, tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def within_one_ulp(got: Any, expected: float) -> bool:
    """Of the recorded type, and no more than one ulp (of the recorded value) away from it."""
    return type(got) is type(expected) and abs(got - expected) <= math.ulp(float(expected))


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def _entry_id(entry: dict[str, Any]) -> str:
    kwargs = "".join(f", {k}={v!r}" for k, v in entry["kwargs"].items())
    args = ", ".join(map(repr, entry["args"]))
    return f"{entry['factory']}({args}{kwargs})-seed{entry['seed']}-{entry['name']}"


ENTRIES = _load()["entries"] if GOLDEN.exists() else []


class TestGoldenVectors:
    """The recorded draws come out again, on every access path."""

    def test_file_names_the_current_algorithm(self) -> None:
        """The golden file belongs to the algorithm sources use by default."""
        assert _load()["algorithm"] == ALGORITHM == "splitmix64-v1"

    def test_file_covers_every_law_option_seed_and_index_range(self) -> None:
        """Every distribution class, step and weights, seeds 0 and 2**64-1, indices past 2**63."""
        kinds = {e["factory"] for e in ENTRIES}
        assert kinds == set(FACTORIES)
        built = {type(FACTORIES[e["factory"]](*e["args"], **e["kwargs"])) for e in ENTRIES}
        assert built == {Uniform, LogUniform, LogUniformInt, RandInt, Choice, Normal, LogNormal}
        assert {k for e in ENTRIES for k in e["kwargs"]} == {"step", "weights"}
        assert {0, 2**64 - 1} <= {e["seed"] for e in ENTRIES}
        indices = {d[0] for e in ENTRIES for d in e["draws"]}
        assert {0, 2**63 + 5, 2**64 - 1} <= indices
        assert len(ENTRIES) == len(SPECS) * len(SEEDS)

    @pytest.mark.parametrize("entry", ENTRIES, ids=_entry_id)
    def test_draws_match_the_recorded_values(self, entry: dict[str, Any]) -> None:
        """Indexing, take and columns reproduce the file: exactly, or within one ulp."""
        dist = FACTORIES[entry["factory"]](*entry["args"], **entry["kwargs"])
        name = entry["name"]
        source = random({name: dist}, entry["n_trials"], entry["seed"])
        indices = [d[0] for d in entry["draws"]]
        expected = [decode(d[1]) for d in entry["draws"]]
        paths = {
            "index": [source[i].params[name] for i in indices],
            "take": [c.params[name] for c in source.take(indices)],
            "columns": source.columns(np.array(indices, dtype=np.uint64))[name].tolist(),
        }
        for path, values in paths.items():
            if entry["tolerance"] == EXACT:
                assert all(map(same, values, expected)), (path, values, expected)
            else:
                assert all(map(within_one_ulp, values, expected)), (path, values, expected)
        assert all(map(same, paths["take"], paths["index"]))
        assert all(map(same, paths["columns"], paths["index"]))


def _nudged(function: Any, direction: float) -> Any:
    def nudged(x: Any, *args: Any, **kwargs: Any) -> Any:
        out = function(x, *args, **kwargs)
        return np.nextafter(out, direction, *args[:1], **kwargs)

    return nudged


# The functions that are not correctly rounded, as the distributions module binds them.
_TRANSCENDENTAL = {"_exp": np.exp, "_log": np.log, "_cos": np.cos}


def _far_from_grid_boundaries(dist: Any, source: Any, name: str, index: int) -> bool:
    """Whether a one-ulp change of exp, log or cos leaves the draw unchanged (rounded laws)."""
    plain = source[index].params[name]
    try:
        for attribute, function in _TRANSCENDENTAL.items():
            for direction in (-math.inf, math.inf):
                setattr(dist_module, attribute, _nudged(function, direction))
                nudged = random({name: dist}, source.n_trials, source.seed)[index].params[name]
                setattr(dist_module, attribute, function)
                if not same(nudged, plain):
                    return False
    finally:
        for attribute, function in _TRANSCENDENTAL.items():
            setattr(dist_module, attribute, function)
    return True


def _entry_key(entry: dict[str, Any]) -> str:
    return json.dumps([entry["factory"], entry["args"], entry["kwargs"], entry["seed"]])


def regenerate() -> None:
    """Append the entries of new specs to the golden file; recorded entries stay as they are."""
    recorded = {_entry_key(e): e for e in (_load()["entries"] if GOLDEN.exists() else [])}
    entries = []
    for factory, args, kwargs, tolerance in SPECS:
        for n, seed in enumerate(SEEDS):
            key = _entry_key({"factory": factory, "args": args, "kwargs": kwargs, "seed": seed})
            if key in recorded:
                entries.append(recorded[key])
                continue
            name = NAMES[n % len(NAMES)]
            dist = FACTORIES[factory](*args, **kwargs)
            source = random({name: dist}, N_TRIALS, seed)
            rounded_log = tolerance == EXACT and (
                isinstance(dist, LogUniformInt)
                or (isinstance(dist, LogUniform | Normal | LogNormal) and dist.step is not None)
            )
            for index in INDICES:
                if rounded_log and not _far_from_grid_boundaries(dist, source, name, index):
                    msg = f"{factory}{args} seed {seed} index {index}: too close to a boundary"
                    raise AssertionError(msg)
            draws = [[i, encode(source[i].params[name])] for i in INDICES]
            entries.append(
                {
                    "factory": factory,
                    "args": args,
                    "kwargs": kwargs,
                    "seed": seed,
                    "name": name,
                    "n_trials": N_TRIALS,
                    "tolerance": tolerance,
                    "draws": draws,
                }
            )
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    text = f'{{"algorithm": {json.dumps(ALGORITHM)},\n"entries": [\n{lines}\n]}}\n'
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    regenerate()
