"""Manifests: round trips, determinism, the seed format, versioning and error paths."""

from __future__ import annotations

import json
import os
import random as stdlib_random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metalab
import metalab._core.values
import metalab._io.manifest
from metalab import (
    Choice,
    GridSource,
    ManualSource,
    ParamSource,
    RandomSource,
    Uniform,
    choice,
    col,
    fmt,
    grid,
    lit,
    lognormal,
    loguniform,
    loguniform_int,
    manual,
    normal,
    randint,
    random,
    switch,
    uniform,
    when,
)
from metalab.errors import ManifestError, UnsupportedOperationError
from metalab.manifest import (
    FORMAT_VERSION,
    MAX_DEPTH,
    SOURCE_TYPES,
    converter,
    deserialize_param_source,
    dumps,
    from_manifest,
    from_manifest_of,
    loads,
    to_manifest,
)
from metalab.params.distributions import DISTRIBUTIONS, Distribution
from metalab.params.random import ALGORITHM, LEGACY_ALGORITHM
from metalab.testing import sources

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION: Any = Distribution  # a Protocol, which mypy refuses as a type argument


def _examples() -> list[ParamSource]:
    space: dict[str, Distribution] = {
        "lr": loguniform(1e-5, 1e-1),
        "opt": choice(["adam", "sgd", None, 3, [1, 2], {"beta": 0.9}]),
        "layers": randint(-3, 12),
        "width": loguniform_int(16, 1024),
        "dropout": uniform(0, 0.5),
    }
    g = grid(lr=[0.1, 0.01], opt=["adam", "sgd"])
    m = manual([{"x": 1}, {"x": 2, "y": [3]}], tags=["hand"])
    z = metalab.zip(w=[1, 2, 3], d=[0.1, 0.2, None])
    rep = metalab.replicates(4, seed=7)
    r = random({"u": uniform(0, 1)}, n_trials=5, seed=1)
    return [
        g,
        grid(x=range(3), y=range(10, -10, -7), z=[True, False, None]),
        grid({"model.lr": [1, 1.0, "1", -0.0, 2**70], "ünï": [[1, [2]], {"b": 1, "a": [None]}]}),
        grid(big=range(0, 10**30, 7)),
        manual([{"lr": 0.1}, {"lr": 0.3, "warmup": 10}, {}], tags=["baseline", "é"]),
        manual([{"nested": {"z": [1, {"y": 2.5}], "a": "x"}}]),
        manual([]),
        random(space, n_trials=17, seed=0),
        random({"x": uniform(-1, 1)}, n_trials=3, seed=2**64 - 1),
        random({"x": choice([1, 2])}, n_trials=0, seed=5),
        random(space, n_trials=9, seed=10**30, algorithm=LEGACY_ALGORITHM),
        z,
        metalab.zip({"a.b": [[1], {"k": "v"}]}),
        rep,
        metalab.replicates(0, seed=2**64 - 1, key="trial_seed"),
        g + m,
        g * z * rep,
        (g + m) * r,
        g[1:3],
        (g * z)[::-1],
        (g * z)[5:0:-2],
        g.shard(1, 3),
        g.shuffled(3),
        ((g + m) * rep).shuffled(2**64 - 1)[2:],
        grid(x=range(10**12)).shuffled(0)[10**11 : 10**11 + 5],
        g.derive(half=col("lr") / 2, name=fmt("{opt}-{half}"), big=lit(2**70) // col("lr")),
        grid(a=range(50), b=range(4)).where(col("a") % (col("b") + 1) == 0),
        random(space, n_trials=40, seed=3).where(col("dropout") < 0.25, col("layers") > 0),
        (g * z).derive(n=col("w") * 2).where(col("n") > 2).shuffled(5),
        random(
            {
                "o": choice(["a", "b"]),
                "x": uniform(0, 1).when(col("o") == "b"),
                "y": switch(col("o"), {"a": randint(1, 3), "b": loguniform(1e-3, 1)}),
            },
            n_trials=30,
            seed=7,
        ),
        grid(
            o=["a", "b"],
            n=range(3),
            m=when(col("o") == "b", [0.5, None]),
            k=switch(col("n"), {0: range(2), 2: ["x"]}),
        ),
    ]


EXAMPLES = _examples()
IDS = [f"{k}-{type(s).__name__}" for k, s in enumerate(EXAMPLES)]


def _cases(source: ParamSource) -> list[tuple[dict[str, Any], tuple[str, ...], str]]:
    """Params, tags and id of the first 50 cases and the last one."""
    picks = sorted({*range(min(source.size, 50)), *range(max(source.size - 1, 0), source.size)})
    return [(dict(c.params), c.tags, c.case_id) for c in map(source.__getitem__, picks)]


class TestRoundTrip:
    """Every source comes back equal, case for case."""

    @pytest.mark.parametrize("source", EXAMPLES, ids=IDS)
    def test_from_to_manifest_is_identity(self, source: ParamSource) -> None:
        """from_manifest(to_manifest(s)) == s for every source type."""
        assert from_manifest(to_manifest(source)) == source

    @pytest.mark.parametrize("source", EXAMPLES, ids=IDS)
    def test_loads_dumps_gives_the_same_cases(self, source: ParamSource) -> None:
        """loads(dumps(s))[i] == s[i] for every index, case ids and tags included."""
        back = loads(dumps(source))
        assert back == source
        assert back.size == source.size
        assert _cases(back) == _cases(source)

    @pytest.mark.parametrize("source", EXAMPLES, ids=IDS)
    def test_dumps_is_a_fixed_point(self, source: ParamSource) -> None:
        """Loading a manifest and writing it again gives the same bytes."""
        text = dumps(source)
        assert dumps(loads(text)) == text

    @pytest.mark.parametrize("source", EXAMPLES, ids=IDS)
    def test_manifest_is_plain_json_data(self, source: ParamSource) -> None:
        """to_manifest returns only dicts, lists, str, int, float, bool and None."""

        def check(node: object) -> None:
            if isinstance(node, dict):
                assert type(node) is dict
                assert all(type(k) is str for k in node)
                for v in node.values():
                    check(v)
            elif isinstance(node, list):
                assert type(node) is list
                for v in node:
                    check(v)
            else:
                assert node is None or type(node) in {str, int, float, bool}

        check(to_manifest(source))

    @pytest.mark.parametrize("source", EXAMPLES, ids=IDS)
    def test_methods_delegate_to_the_converter(self, source: ParamSource) -> None:
        """source.to_manifest_dict() and Cls.from_manifest_dict() go through the manifest module."""
        data = source.to_manifest_dict()
        assert data == to_manifest(source)
        assert type(source).from_manifest_dict(data) == source
        assert ParamSource.from_manifest_dict(data) == source

    def test_file_round_trip(self, tmp_path: Path) -> None:
        """A manifest written to a file and read back rebuilds every case."""
        for k, source in enumerate(EXAMPLES):
            path = tmp_path / f"m{k}.json"
            path.write_text(dumps(source), encoding="utf-8")
            assert _cases(loads(path.read_text(encoding="utf-8"))) == _cases(source)
            assert loads(path.read_bytes()) == source

    def test_every_source_type_has_an_example(self) -> None:
        """The examples above cover every registered source type."""
        assert {type(s) for s in EXAMPLES} == set(SOURCE_TYPES)

    def test_alias(self) -> None:
        """deserialize_param_source is from_manifest."""
        assert deserialize_param_source is from_manifest


class TestLaws:
    """The manifest laws, over generated expression trees of every kind of source."""

    @given(sources(max_depth=3))
    def test_manifest_laws(self, source: ParamSource) -> None:
        """from_manifest(to_manifest(s)) == s, loads(dumps(s))[i] == s[i], and dumps is stable.

        One test states the three laws so that each generated tree is built once.
        """
        assert from_manifest(to_manifest(source)) == source
        text = dumps(source)
        back = loads(text)
        assert back == source
        assert back.size == source.size
        for i in range(source.size):
            assert back[i] == source[i]
            assert back[i].case_id == source[i].case_id
        assert dumps(back) == text


_CHILD = textwrap.dedent(
    """
    import json, sys
    from metalab.manifest import dumps, loads
    from tests.io.test_manifest import EXAMPLES
    out = {"dumps": [dumps(s) for s in EXAMPLES]}
    if len(sys.argv) > 1:
        source = loads(open(sys.argv[1], encoding="utf-8").read())
        out["cases"] = [[dict(c.params), list(c.tags), c.case_id] for c in source]
    print(json.dumps(out))
    """
)


def _child(hash_seed: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    out: dict[str, Any] = json.loads(result.stdout)
    return out


@pytest.mark.subprocess
class TestAcrossProcesses:
    """Manifests mean the same in every process."""

    def test_dumps_is_byte_stable_and_files_rebuild_cases(self, tmp_path: Path) -> None:
        """Processes with different PYTHONHASHSEED write the same bytes and read the same cases.

        The first process also loads a manifest file written here, and must rebuild the
        same params, tags and case ids.
        """
        source = EXAMPLES[-4]
        path = tmp_path / "sweep.json"
        path.write_text(dumps(source), encoding="utf-8")
        first = _child("0", str(path))
        second = _child("12345")
        assert first["dumps"] == second["dumps"]
        assert first["dumps"] == [dumps(s) for s in EXAMPLES]
        expected = [[dict(c.params), list(c.tags), c.case_id] for c in source]
        assert first["cases"] == json.loads(json.dumps(expected))


class TestLayout:
    """The JSON layout is the documented one."""

    def test_grid_layout(self) -> None:
        """A grid writes spec, total_cases and its type; a range axis is an object."""
        assert to_manifest(grid(a=[1, "x"], b=range(2, 9, 3))) == {
            "format_version": FORMAT_VERSION,
            "type": "GridSource",
            "spec": {"a": [1, "x"], "b": {"type": "range", "start": 2, "stop": 9, "step": 3}},
            "total_cases": 6,
        }

    def test_manual_layout(self) -> None:
        """A manual source writes cases, tags and total_cases."""
        assert to_manifest(manual([{"x": (1, 2)}], tags=["t"])) == {
            "format_version": FORMAT_VERSION,
            "type": "ManualSource",
            "cases": [{"x": [1, 2]}],
            "tags": ["t"],
            "total_cases": 1,
        }

    def test_random_layout(self) -> None:
        """A random source writes its space, n_trials, seed and the algorithm's name."""
        source = random({"lr": uniform(0, 1), "o": choice(["a"])}, 5, seed=3)
        assert to_manifest(source) == {
            "format_version": FORMAT_VERSION,
            "type": "RandomSource",
            "space": {
                "lr": {"type": "Uniform", "low": 0, "high": 1},
                "o": {"type": "Choice", "options": ["a"]},
            },
            "n_trials": 5,
            "seed": 3,
            "algorithm": ALGORITHM,
        }

    def test_only_the_top_node_carries_the_version(self) -> None:
        """format_version appears once, at the top."""
        text = dumps(random({"x": uniform(0, 1)}, 2, seed=0))
        assert text.count("format_version") == 1
        assert json.loads(text)["format_version"] == FORMAT_VERSION

    def test_dumps_is_compact_sorted_ascii(self) -> None:
        """The text has sorted keys, fixed separators and non-ASCII escaped."""
        text = dumps(grid({"é": [1]}))
        assert text == (
            '{"format_version":"1.0","spec":{"\\u00e9":[1]},"total_cases":1,"type":"GridSource"}'
        )

    def test_int_float_bool_stay_apart(self) -> None:
        """1, 1.0 and true survive a JSON round trip as three different values."""
        back = loads(dumps(grid(x=[1, 1.0, True, -0.0])))
        assert [type(c.params["x"]) for c in back] == [int, float, bool, float]
        assert str(back[3].params["x"]) == "-0.0"


class TestSeedFormat:
    """Manifests of metalab's earlier format load unchanged."""

    def test_grid_without_version(self) -> None:
        """A grid manifest with no format_version and no total_cases loads."""
        source = loads('{"type": "GridSource", "spec": {"lr": [0.1, 0.01], "opt": ["a"]}}')
        assert source == grid(lr=[0.1, 0.01], opt=["a"])

    def test_grid_with_total_cases(self) -> None:
        """The earlier format's total_cases is accepted when it agrees."""
        text = '{"type": "GridSource", "spec": {"x": [1, 2, 3]}, "total_cases": 3}'
        assert loads(text) == grid(x=[1, 2, 3])

    def test_manual_without_tags(self) -> None:
        """A manual manifest may omit tags and total_cases."""
        assert loads('{"type": "ManualSource", "cases": [{"x": 1}]}') == manual([{"x": 1}])

    def test_manual_with_tags(self) -> None:
        """A manual manifest's tags apply to every case."""
        text = '{"type": "ManualSource", "cases": [{"x": 1}], "tags": ["a"], "total_cases": 1}'
        assert loads(text)[0].tags == ("a", "manual_0")

    def test_random_without_algorithm_replays_the_earlier_draws(self) -> None:
        """A random manifest with no algorithm draws exactly as the earlier format did."""
        text = json.dumps(
            {
                "type": "RandomSource",
                "space": {
                    "a": {"type": "Uniform", "low": 0.5, "high": 2.0},
                    "b": {"type": "Choice", "options": ["x", "y", "z"]},
                    "c": {"type": "RandInt", "low": 1, "high": 6},
                },
                "n_trials": 20,
                "seed": 123,
            }
        )
        source = loads(text)
        assert isinstance(source, RandomSource)
        assert source.algorithm == LEGACY_ALGORITHM
        for i in range(20):
            rng = stdlib_random.Random(123 * 1_000_000_007 + i)
            expected = {
                "a": rng.uniform(0.5, 2.0),
                "b": rng.choice(["x", "y", "z"]),
                "c": rng.randint(1, 6),
            }
            assert source[i].params == expected
            assert source[i].tags == (f"trial_{i}",)

    def test_legacy_source_names_its_algorithm_when_written(self) -> None:
        """Re-serializing an earlier-format random source names its algorithm."""
        old = {
            "type": "RandomSource",
            "space": {"a": {"type": "LogUniform", "low": 1e-3, "high": 1}},
            "n_trials": 4,
            "seed": 2**80,
        }
        data = to_manifest(from_manifest(old))
        assert data["algorithm"] == LEGACY_ALGORITHM
        assert from_manifest(data) == from_manifest(old)

    def test_legacy_knows_only_the_seed_distributions(self) -> None:
        """An earlier-format manifest with a distribution it never knew is refused."""
        extra = [cls for cls in DISTRIBUTIONS if cls.manifest_type not in _SEED_DISTRIBUTIONS]
        for cls in extra:
            node = _minimal(cls).to_manifest_dict()
            old = {"type": "RandomSource", "space": {"v": node}, "n_trials": 1, "seed": 0}
            with pytest.raises(ManifestError, match=r'^space\.v\.type: .* names its "algorithm"'):
                from_manifest(old)
            new = from_manifest_of(RandomSource, {**old, "algorithm": ALGORITHM})
            assert new.space["v"] == _minimal(cls)

    def test_versioned_random_without_algorithm_is_refused(self) -> None:
        """In a document with a format_version, a missing algorithm is a missing field."""
        data = to_manifest(random({"x": uniform(0, 1)}, 3, seed=0))
        del data["algorithm"]
        with pytest.raises(ManifestError, match=r"^algorithm: required field of a RandomSource"):
            from_manifest(data)
        with pytest.raises(ManifestError, match=r"^algorithm: required field of a RandomSource"):
            converter.structure(data, RandomSource)

    def test_the_top_level_version_decides_for_nested_random_sources(self) -> None:
        """Only the top-level node carries the version; a nested random source obeys it."""
        data = to_manifest(grid(y=[1]) * random({"x": uniform(0, 1)}, 3, seed=0))
        del data["parts"][1]["algorithm"]
        with pytest.raises(ManifestError, match=r"^parts\[1\]\.algorithm: required field"):
            from_manifest(data)
        del data["format_version"]
        old = from_manifest(data)
        assert old == grid(y=[1]) * random(
            {"x": uniform(0, 1)}, 3, seed=0, algorithm="python-random-v0"
        )


_SEED_DISTRIBUTIONS = {"Uniform", "LogUniform", "LogUniformInt", "RandInt", "Choice"}


class TestVersioning:
    """The format version: written at the top, checked on reading."""

    @pytest.mark.parametrize("version", ["1.0", "1.1", "1.99", "0.9"])
    def test_readable_versions(self, version: str) -> None:
        """The current major version, any minor version of it, and older majors load."""
        data = {**to_manifest(grid(x=[1])), "format_version": version}
        assert from_manifest(data) == grid(x=[1])

    @pytest.mark.parametrize("version", ["2.0", "10.3"])
    def test_newer_major_is_refused(self, version: str) -> None:
        """A newer major version is refused with a message that says to upgrade."""
        data = {**to_manifest(grid(x=[1])), "format_version": version}
        with pytest.raises(ManifestError, match=r"^format_version: .*newer.*upgrade metalab"):
            from_manifest(data)

    @pytest.mark.parametrize(
        "version", [1.0, 1, "1", "v1.0", "1.0.0", "", None, ["1.0"], "1.x"], ids=repr
    )
    def test_malformed_version_is_refused(self, version: object) -> None:
        """A version that is not a "MAJOR.MINOR" string is refused."""
        data = {**to_manifest(grid(x=[1])), "format_version": version}
        with pytest.raises(ManifestError, match=r"^format_version: expected"):
            from_manifest(data)


def _rand(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "RandomSource",
        "space": {"lr": {"type": "Uniform", "low": 0, "high": 1}},
        "n_trials": 3,
        "seed": 0,
        "algorithm": ALGORITHM,
    }
    return {**base, **changes}


def _dist(**node: Any) -> dict[str, Any]:
    return _rand(space={"lr": node})


_G = {"type": "GridSource", "spec": {"x": [1, 2]}}

BAD: list[tuple[object, str]] = [
    # shapes and tags
    ([1, 2], r"the manifest: expected an object, got an array"),
    ("GridSource", r"the manifest: expected an object"),
    ({"spec": {"x": [1]}}, r"type: required field is missing"),
    ({"type": 3, "spec": {"x": [1]}}, r"type: expected a string, got 3"),
    ({"type": "Gridsource", "spec": {}}, r'type: unknown source type "Gridsource"; known types'),
    ({"type": "Uniform", "low": 0, "high": 1}, r'type: unknown source type "Uniform" \("Uniform"'),
    ({"type": "os.system", "spec": {}}, r'type: unknown source type "os.system"'),
    # grid
    ({"type": "GridSource"}, r"spec: required field of a GridSource is missing"),
    ({"type": "GridSource", "spec": {"x": [1]}, "spce": 1}, r'the manifest: unknown field "spce"'),
    ({"type": "GridSource", "spec": [1]}, r"spec: expected an object, got an array"),
    ({"type": "GridSource", "spec": {"x": []}}, r"spec\.x: expected a non-empty array"),
    (
        {"type": "GridSource", "spec": {"x": "abc"}},
        r'spec\.x: expected an array of values or a range object, got "abc"',
    ),
    ({"type": "GridSource", "spec": {"x": [1, float("nan")]}}, r"spec\.x\[1\]: NaN and infinite"),
    ({"type": "GridSource", "spec": {"x": [[1, float("inf")]]}}, r"spec\.x\[0\]\[1\]: NaN"),
    (
        {"type": "GridSource", "spec": {"x": [{"": 1}]}},
        r'spec\.x\[0\]\[""\]: parameter names must be non-empty',
    ),
    ({"type": "GridSource", "spec": {"x": [{1: 1}]}}, r"spec\.x\[0\]: object keys must be strings"),
    ({"type": "GridSource", "spec": {"x": [{1, 2}]}}, r"spec\.x\[0\]: expected a JSON value"),
    ({"type": "GridSource", "spec": {"a.b": 3}}, r'spec\["a.b"\]: expected an array'),
    (
        {"type": "GridSource", "spec": {"x": [1]}, "total_cases": 2},
        r"total_cases: the manifest says 2 cases, but its definition gives 1",
    ),
    (
        {"type": "GridSource", "spec": {"x": [1]}, "total_cases": -1},
        r"total_cases: expected a non-negative int, got -1",
    ),
    (
        {"type": "GridSource", "spec": {"x": [1]}, "total_cases": 1.0},
        r"total_cases: expected an int, got 1.0",
    ),
    (
        {"type": "GridSource", "spec": {"x": [1]}, "total_cases": True},
        r"total_cases: expected an int, got true",
    ),
    ({"type": "GridSource", "spec": {"": [1]}}, r"the manifest: .*non-empty"),
    (
        {"type": "GridSource", "spec": {"x": {"type": "range", "start": 0, "stop": 3}}},
        r"spec\.x\.step: required field of a range is missing",
    ),
    (
        {"type": "GridSource", "spec": {"x": {"type": "range", "start": 0, "stop": 3, "step": 0}}},
        r"spec\.x\.step: a range step must not be zero",
    ),
    (
        {"type": "GridSource", "spec": {"x": {"type": "range", "start": 3, "stop": 0, "step": 1}}},
        r"spec\.x: the range is empty",
    ),
    (
        {
            "type": "GridSource",
            "spec": {"x": {"type": "range", "start": 0, "stop": 3, "step": 1.5}},
        },
        r"spec\.x\.step: expected an int, got 1.5",
    ),
    (
        {"type": "GridSource", "spec": {"x": {"type": "rng", "start": 0}}},
        r'spec\.x\.type: expected "range", got "rng"',
    ),
    (
        {"type": "GridSource", "spec": {"x": {"start": 0, "stop": 1, "step": 1}}},
        r'spec\.x\.type: expected "range", got null',
    ),
    (
        {
            "type": "GridSource",
            "spec": {"x": {"type": "range", "start": 0, "stop": 1, "step": 1, "by": 2}},
        },
        r'spec\.x: unknown field "by"',
    ),
    # manual
    ({"type": "ManualSource"}, r"cases: required field"),
    ({"type": "ManualSource", "cases": {"x": 1}}, r"cases: expected an array, got an object"),
    ({"type": "ManualSource", "cases": [{"x": 1}, 3]}, r"cases\[1\]: expected an object, got 3"),
    (
        {"type": "ManualSource", "cases": [{"x": 1}], "tags": "a"},
        r'tags: expected an array, got "a"',
    ),
    (
        {"type": "ManualSource", "cases": [{"x": 1}], "tags": ["a", 1]},
        r"tags\[1\]: expected a string, got 1",
    ),
    (
        {"type": "ManualSource", "cases": [{"x": 1}], "total_cases": 0},
        r"total_cases: the manifest says 0",
    ),
    ({"type": "ManualSource", "cases": [{"x": float("-inf")}]}, r"cases\[0\]\.x: NaN and infinite"),
    # random
    (_rand(space={}), r"space: a random space needs at least one parameter"),
    (_rand(space=[]), r"space: expected an object, got an array"),
    (_rand(n_trials=-3), r"n_trials: expected a non-negative int, got -3"),
    (_rand(n_trials="3"), r'n_trials: expected an int, got "3"'),
    (_rand(seed=1.5), r"seed: expected an int, got 1.5"),
    (_rand(seed=-1), r"seed: expected a non-negative int, got -1"),
    (_rand(seed=2**64), r"the manifest: random seed must be"),
    (_rand(algorithm="mt19937"), r'algorithm: unknown random algorithm "mt19937"'),
    (_rand(algorithm=None), r"algorithm: expected a string, got null"),
    (_rand(extra=1), r'the manifest: unknown field "extra" in a RandomSource'),
    (_dist(type="Uniform", low="abc", high=1), r'space\.lr\.low: expected a number, got "abc"'),
    (_dist(type="Uniform", low=True, high=1), r"space\.lr\.low: expected a number, got true"),
    (
        _dist(type="Uniform", low=float("nan"), high=1),
        r"space\.lr\.low: expected a finite number, got NaN",
    ),
    (_dist(type="Uniform", low=0), r"space\.lr\.high: required field of a Uniform is missing"),
    (_dist(type="Uniform", low=0, high=1, hi=2), r'space\.lr: unknown field "hi" in a Uniform'),
    (
        _dist(type="Uniform", low=1, high=0),
        r"space\.lr: uniform\(low=1, high=0\): low must be less than high",
    ),
    (_dist(type="LogUniform", low=-1, high=1), r"space\.lr: loguniform.*positive"),
    (_dist(type="RandInt", low=2.0, high=5), r"space\.lr\.low: expected an int, got 2.0"),
    (_dist(type="RandInt", low=0, high=False), r"space\.lr\.high: expected an int, got false"),
    (_dist(type="LogUniformInt", low=1, high="9"), r'space\.lr\.high: expected an int, got "9"'),
    (_dist(type="Choice", options="ab"), r'space\.lr\.options: expected an array, got "ab"'),
    (_dist(type="Choice", options=[]), r"space\.lr: choice\(options\)"),
    (_dist(type="Choice", options=[1, float("nan")]), r"space\.lr\.options\[1\]: NaN"),
    (_dist(type="Normal-ish", mu=0), r'space\.lr\.type: unknown distribution type "Normal-ish"'),
    (
        _dist(type="GridSource", spec={}),
        r"space\.lr\.type: unknown distribution type .*is a source",
    ),
    (_dist(low=0, high=1), r"space\.lr\.type: required field is missing"),
    (_rand(space={"model.lr": 3}), r'space\["model.lr"\]: expected an object, got 3'),
    (
        _rand(space={"lr": {"type": "Uniform", "low": 0, "high": 1, "format_version": "1.0"}}),
        r'space\.lr: unknown field "format_version"',
    ),
    (
        _dist(type="Uniform", low=0, high=1, step="x"),
        r'space\.lr\.step: expected a number, got "x"',
    ),
    (
        _dist(type="Normal", mu=0, sigma=1, step="x"),
        r'space\.lr\.step: expected a number, got "x"',
    ),
    (
        _dist(type="LogNormal", mu=0, sigma=1, step=-0.5),
        r"space\.lr: lognormal\(mu=0, sigma=1, step=\.\.\.\): step must be positive",
    ),
    # composites
    ({"type": "ConcatSource"}, r"parts: required field of a ConcatSource is missing"),
    ({"type": "ConcatSource", "parts": []}, r"parts: expected at least one source"),
    ({"type": "ConcatSource", "parts": {}}, r"parts: expected an array, got an object"),
    (
        {"type": "ConcatSource", "parts": [_G, {"type": "GridSource", "spec": {"x": "a"}}]},
        r"parts\[1\]\.spec\.x: expected an array",
    ),
    ({"type": "ConcatSource", "parts": [_G, 3]}, r"parts\[1\]: expected an object, got 3"),
    (
        {"type": "ConcatSource", "parts": [_G, {"type": "Choice", "options": [1]}]},
        r'parts\[1\]\.type: unknown source type "Choice"',
    ),
    ({"type": "ProductSource", "parts": [_G, _G]}, r"the manifest: .*x"),
    (
        {"type": "ProductSource", "parts": [_G, {"spec": {"y": [1]}}]},
        r"parts\[1\]\.type: required field is missing",
    ),
    ({"type": "ProductSource", "parts": [_G], "format_version": "3.1"}, r"format_version: .*newer"),
    (
        {"type": "ProductSource", "parts": [{**_G, "format_version": "3.1"}]},
        r"parts\[0\]\.format_version: .*newer",
    ),
    (
        {"type": "ZipSource", "spec": {"a": [1, 2], "b": [1]}},
        r"the manifest: zip values must all have the same length",
    ),
    ({"type": "ZipSource", "spec": {"a": []}}, r"spec\.a: expected a non-empty array"),
    ({"type": "ZipSource", "spec": {}}, r"the manifest: zip needs at least one parameter"),
    (
        {"type": "ZipSource", "spec": {"a": {"type": "range", "start": 0, "stop": 2, "step": 1}}},
        r"spec\.a: expected an array, got an object",
    ),
    ({"type": "ReplicateSource", "n": -1, "seed": 0}, r"n: expected a non-negative int, got -1"),
    ({"type": "ReplicateSource", "n": 2**40, "seed": 0}, r"the manifest: replicates n must be"),
    ({"type": "ReplicateSource", "n": 2, "seed": 0, "key": ""}, r"the manifest: .*non-empty"),
    ({"type": "ReplicateSource", "n": 2, "seed": 0, "key": 5}, r"key: expected a string, got 5"),
    ({"type": "ReplicateSource", "n": 2}, r"seed: required field of a ReplicateSource is missing"),
    (
        {"type": "SliceSource", "source": _G, "start": 0, "stop": 5, "step": 1},
        r"the manifest: slice range\(0, 5, 1\) reaches outside",
    ),
    (
        {"type": "SliceSource", "source": _G, "start": 0, "stop": 1, "step": 0},
        r"^step: expected a non-zero int, got 0$",
    ),
    (
        {"type": "SliceSource", "source": _G, "start": 0.0, "stop": 1, "step": 1},
        r"start: expected an int, got 0.0",
    ),
    (
        {"type": "SliceSource", "source": _G, "start": 0, "stop": 1},
        r"step: required field of a SliceSource is missing",
    ),
    (
        {"type": "SliceSource", "source": [_G], "start": 0, "stop": 1, "step": 1},
        r"source: expected an object, got an array",
    ),
    (
        {"type": "ShuffledSource", "source": _G, "seed": -2},
        r"seed: expected a non-negative int, got -2",
    ),
    (
        {"type": "ShuffledSource", "source": _G, "seed": 2**64},
        r"the manifest: shuffled seed must be",
    ),
    (
        {
            "type": "ShuffledSource",
            "source": {**_G, "spec": {"x": [True, 1.5, None, {"y": float("nan")}]}},
            "seed": 1,
        },
        r"source\.spec\.x\[3\]\.y: NaN",
    ),
    (
        {"type": "ShuffledSource", "source": _G, "seed": 1, "total_cases": 2},
        r'the manifest: unknown field "total_cases"',
    ),
    # text
    (
        {"type": "GridSource", "spec": {"x": ["a\ud800"]}},
        r"spec\.x\[0\]: a string with a lone surrogate at position 1",
    ),
    (
        {"type": "GridSource", "spec": {"\udc00": [1]}},
        r'spec\["\\udc00"\]: a string with a lone surrogate',
    ),
    (
        {"type": "ManualSource", "cases": [], "tags": ["\ud800"]},
        r"tags\[0\]: a string with a lone surrogate",
    ),
]


def _as_json(data: object) -> str | None:
    """``data`` as JSON text, or None where JSON cannot say the same thing (NaN, int keys)."""
    try:
        text = json.dumps(data, allow_nan=False)
    except (ValueError, TypeError):
        return None
    return text if json.loads(text) == data else None


BAD_TEXT = [(text, p) for data, p in BAD if (text := _as_json(data)) is not None]


class TestErrors:
    """Malformed manifests raise ManifestError starting with the JSON path of the problem."""

    @pytest.mark.parametrize(
        ("data", "pattern"), BAD, ids=[f"{k}-{p[:40]}" for k, (_, p) in enumerate(BAD)]
    )
    def test_bad_manifest(self, data: object, pattern: str) -> None:
        """The error is a ManifestError whose message starts with the expected path."""
        with pytest.raises(ManifestError, match="^" + pattern) as info:
            from_manifest(data)  # type: ignore[arg-type]
        assert type(info.value) is ManifestError

    @pytest.mark.parametrize(
        ("text", "pattern"), BAD_TEXT, ids=[f"{k}-{p[:40]}" for k, (_, p) in enumerate(BAD_TEXT)]
    )
    def test_bad_manifest_text(self, text: str, pattern: str) -> None:
        """The same problems written as JSON text give the same errors."""
        with pytest.raises(ManifestError, match="^" + pattern):
            loads(text)

    def test_the_root_is_called_the_manifest(self) -> None:
        """A problem with the whole document is reported as "the manifest: ...", never "$"."""
        with pytest.raises(ManifestError) as info:
            from_manifest([1])  # type: ignore[arg-type]
        assert str(info.value) == "the manifest: expected an object, got an array"

    def test_constructor_errors_keep_their_cause(self) -> None:
        """A constructor's ParamError becomes the cause of the ManifestError."""
        with pytest.raises(ManifestError) as info:
            from_manifest(_dist(type="Uniform", low=1, high=0))
        assert isinstance(info.value.__cause__, metalab.errors.ParamError)

    @pytest.mark.parametrize(
        ("text", "pattern"),
        [
            (
                '{"type": "GridSource", "spec": {"x": [NaN]}}',
                r"the manifest: NaN is not a JSON number",
            ),
            ('{"type": "GridSource", "spec": {"x": [Infinity]}}', r"the manifest: Infinity is not"),
            (
                '{"type": "GridSource", "spec": {"x": [-Infinity]}}',
                r"the manifest: -Infinity is not",
            ),
            (
                '{"type": "GridSource", "type": "GridSource", "spec": {}}',
                r'the manifest: the key "type" appears twice',
            ),
            ('{"type": "GridSource", "spec": {"x": [1]}', r"the manifest: not valid JSON"),
            ("", r"the manifest: not valid JSON"),
            ("[" * 100_000 + "]" * 100_000, r"the manifest: nests too deeply"),
            (
                "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5),
                r"(\[0\])+: the manifest nests more than",
            ),
            (
                '{"type": "GridSource", "spec": {"x": ['
                + "[" * MAX_DEPTH
                + "]" * MAX_DEPTH
                + "]}}",
                r"spec\.x(\[0\])+: the manifest nests more than",
            ),
            (
                '{"type": "GridSource", "spec": {"x": [1e400]}}',
                r"spec\.x\[0\]: .* got Infinity \(a number beyond the float range, such as 1e400",
            ),
        ],
    )
    def test_bad_text(self, text: str, pattern: str) -> None:
        """JSON that is invalid, non-finite, ambiguous or absurdly nested is refused."""
        with pytest.raises(ManifestError, match="^" + pattern):
            loads(text)

    def test_bad_bytes(self) -> None:
        """Bytes that are not UTF-8 JSON are refused."""
        with pytest.raises(ManifestError, match=r"^the manifest: not valid JSON"):
            loads(b"\xff\xfe\x00")

    def test_not_text(self) -> None:
        """Only text and bytes are read as manifests."""
        with pytest.raises(ManifestError, match=r"^the manifest: expected manifest JSON text"):
            loads({"type": "GridSource"})  # type: ignore[arg-type]

    def test_cyclic_data_is_refused(self) -> None:
        """A Python dict that contains itself is refused, not recursed into forever."""
        case: dict[str, Any] = {}
        case["self"] = case
        with pytest.raises(ManifestError, match="nests more than"):
            from_manifest({"type": "ManualSource", "cases": [case]})

    @staticmethod
    def _shared(depth: int) -> dict[str, Any]:
        """A manual manifest whose value holds one object twice, at every level."""
        value: Any = 1
        for _ in range(depth):
            value = {"a": value, "b": [value]}
        return {"type": "ManualSource", "cases": [{"x": value}]}

    def test_shared_objects_are_walked_once(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Sharing that expands past MAX_NODES is refused after work linear in distinct objects."""
        calls = 0
        real = metalab._io.manifest._is_container

        def counting(value: Any) -> bool:
            nonlocal calls
            calls += 1
            if calls > 10_000:  # stops a walk of every path, which would never end
                msg = "the walk looks at every path, not every object"
                raise AssertionError(msg)
            return real(value)

        monkeypatch.setattr(metalab._io.manifest, "_is_container", counting)
        with pytest.raises(ManifestError, match=r"^the manifest: objects reached from several"):
            from_manifest(self._shared(40))  # 2**40 paths, 80 distinct containers
        assert calls < 1000

    def test_moderate_sharing_loads_as_if_written_out(self) -> None:
        """Sharing within MAX_NODES loads exactly as the written-out manifest does."""
        data = self._shared(6)
        assert from_manifest(data) == loads(json.dumps(data))
        law = {"type": "Uniform", "low": 0, "high": 1}
        space = {f"p{j}": law for j in range(50)}
        node = {"type": "RandomSource", "space": space, "n_trials": 2, "seed": 0}
        assert from_manifest(node) == loads(json.dumps(node))

    def test_deep_nesting_through_a_shared_object_is_found(self) -> None:
        """A shared object that is shallow in one place and too deep in another is refused there."""
        value: Any = 1
        for _ in range(MAX_DEPTH - 5):
            value = [value]
        data = {"type": "ManualSource", "cases": [{"x": value, "y": [[[[[[[value]]]]]]]}]}
        with pytest.raises(ManifestError, match=r"^cases\[0\]\.y(\[0\]){97}: the manifest nests"):
            from_manifest(data)

    def test_nesting_up_to_the_limit_loads(self) -> None:
        """MAX_DEPTH nested arrays and objects load; one more is refused."""

        def manifest(levels: int) -> dict[str, Any]:
            value: Any = 1
            for _ in range(levels - 3):  # the manifest, its cases array, the case object
                value = [value]
            return {"type": "ManualSource", "cases": [{"x": value}]}

        source = from_manifest(manifest(MAX_DEPTH))
        expected = metalab._core.values.normalize_value(manifest(MAX_DEPTH)["cases"][0]["x"], "x")
        assert source[0].params["x"] == expected
        assert loads(json.dumps(manifest(MAX_DEPTH))) == source
        with pytest.raises(ManifestError, match=r"^cases\[0\]\.x(\[0\])+: the manifest nests"):
            from_manifest(manifest(MAX_DEPTH + 1))

    def test_deep_composites_within_the_limit_load(self) -> None:
        """Sources nested as deep as the limit allows load without a RecursionError."""
        node: dict[str, Any] = {"type": "GridSource", "spec": {"x": [1, 2]}}
        for k in range(MAX_DEPTH - 3):  # the grid's spec and its array are two levels
            node = {"type": "ShuffledSource", "source": node, "seed": k}
        source = from_manifest(node)
        assert [c.params["x"] for c in source] in ([1, 2], [2, 1])
        assert from_manifest(to_manifest(source)) == source

    def test_deep_source_nesting_near_the_recursion_limit(self) -> None:
        """Even with little stack left, deep input gives a ManifestError, not RecursionError."""
        value: Any = 1
        for _ in range(MAX_DEPTH - 4):
            value = [value]
        data = {"type": "ManualSource", "cases": [{"x": value}]}

        def descend(n: int) -> ParamSource:
            return descend(n - 1) if n else from_manifest(data)

        limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(400)
            with pytest.raises(ManifestError, match="nests too deeply"):
                descend(150)
        finally:
            sys.setrecursionlimit(limit)

    def test_loading_imports_nothing_named_in_the_data(self) -> None:
        """A type naming a module does not import it."""
        name = "metalab_manifest_test_never_imported"
        for tag in (name, f"{name}.Source", f"{name}:Source"):
            with pytest.raises(ManifestError, match="unknown source type"):
                from_manifest({"type": tag})
        assert name not in sys.modules

    def test_from_manifest_of_refuses_other_types(self) -> None:
        """Cls.from_manifest_dict refuses a manifest of another type."""
        data = to_manifest(grid(x=[1]))
        with pytest.raises(ManifestError, match=r'^type: expected a "ManualSource" manifest'):
            ManualSource.from_manifest_dict(data)
        with pytest.raises(ManifestError, match=r'^type: expected a "RandomSource" manifest'):
            from_manifest_of(RandomSource, data)
        assert from_manifest_of(GridSource, data) == grid(x=[1])

    def test_unregistered_source_has_no_manifest(self) -> None:
        """A ParamSource subclass not in SOURCE_TYPES cannot be written."""

        class Custom(ParamSource):
            __slots__ = ()

        with pytest.raises(UnsupportedOperationError, match="no manifest form"):
            to_manifest(Custom())
        with pytest.raises(UnsupportedOperationError, match="no manifest form"):
            from_manifest_of(Custom, to_manifest(grid(x=[1])))


class TestHugeIntegers:
    """Ints beyond Python's 4,300-digit str limit are written and read exactly."""

    BIG = 10**5000 + 17

    def _limited(self, digits: int) -> Any:
        """A context that sets the process's int str limit, restoring it after."""
        import contextlib

        @contextlib.contextmanager
        def limit() -> Any:
            old = sys.get_int_max_str_digits()
            sys.set_int_max_str_digits(digits)
            try:
                yield
            finally:
                sys.set_int_max_str_digits(old)

        return limit()

    def test_round_trip(self) -> None:
        """A grid over a huge range and a legacy seed of 5,000 digits survive dumps and loads."""
        sweep = grid(x=range(-self.BIG, self.BIG, 3)) * random(
            {"u": uniform(0, 1)}, 2, seed=self.BIG, algorithm=LEGACY_ALGORITHM
        )
        text = dumps(sweep)
        with self._limited(0):
            digits = str(self.BIG)
        assert f'"seed":{digits},' in text
        assert f'"start":-{digits},' in text
        back = loads(text)
        assert back == sweep
        # (params, not case_id: encoding such ints is the value layer's business)
        assert [back[i].params for i in range(4)] == [sweep[i].params for i in range(4)]

    @pytest.mark.parametrize("digits", [0, 640, 4300])
    def test_the_text_does_not_depend_on_the_str_limit(self, digits: int) -> None:
        """Dumps writes, and loads reads, the same exact text under any str limit."""
        sweep = grid(x=range(self.BIG))
        with self._limited(0):
            expected = json.dumps(to_manifest(sweep), sort_keys=True, separators=(",", ":"))
        with self._limited(digits):
            text = dumps(sweep)
            assert text == expected
            assert loads(text) == sweep
            assert loads(text.encode()) == sweep

    def test_json_with_a_huge_int_is_valid_json(self) -> None:
        """A 5,000-digit int in the text is read as that int, not called invalid JSON."""
        axis = '{"type": "range", "start": 0, "stop": ' + "9" * 5000 + ', "step": 1}'
        source = loads('{"type": "GridSource", "spec": {"x": ' + axis + "}}")
        assert source == grid(x=range(10**5000 - 1))

    def test_a_wrong_huge_total_is_a_manifest_error(self) -> None:
        """A total_cases mismatch between huge sizes is reported, not a raw ValueError."""
        data = {**to_manifest(grid(x=range(self.BIG))), "total_cases": self.BIG + 1}
        with pytest.raises(ManifestError, match=r"^total_cases: the manifest says an int of"):
            from_manifest(data)


class TestForeignDistributions:
    """A distribution defined outside metalab has no manifest form, and says so."""

    class Wrapped:
        """A distribution metalab knows only through the protocol."""

        def __init__(self, dist: Distribution) -> None:
            """Wrap ``dist``."""
            self._dist = dist

        def __getattr__(self, name: str) -> Any:
            """Everything the protocol asks for comes from the wrapped law."""
            return getattr(self._dist, name)

    def test_dumps_names_the_class_and_the_parameter(self) -> None:
        """Writing a random source that holds one is an UnsupportedOperationError, not KeyError."""
        law: Any = self.Wrapped(uniform(0, 1))
        source = random({"lr": law, "x": uniform(0, 1)}, 3, seed=0)
        pattern = r"^random space 'lr': .*Wrapped is a distribution defined outside metalab"
        with pytest.raises(UnsupportedOperationError, match=pattern) as info:
            dumps(source)
        assert "cannot go in a manifest" in str(info.value)
        with pytest.raises(UnsupportedOperationError, match=pattern):
            to_manifest(grid(y=[1]) * source)

    def test_the_converter_refuses_it_too(self) -> None:
        """Unstructuring the distribution alone gives the same error, without a parameter."""
        law: Any = self.Wrapped(uniform(0, 1))
        with pytest.raises(UnsupportedOperationError, match=r"^\S*Wrapped is a distribution"):
            converter.unstructure(law, DISTRIBUTION)


class TestConverter:
    """One converter, with a hook for every registered type."""

    def test_one_private_converter(self) -> None:
        """The converter is metalab's own, not cattrs' global one."""
        assert isinstance(converter, cattrs.Converter)
        assert converter is not cattrs.global_converter

    def test_source_tags_are_unique_and_stable(self) -> None:
        """Every registered source has its own manifest_type, used as the JSON tag."""
        tags = [cls.manifest_type for cls in SOURCE_TYPES]
        assert len(set(tags)) == len(tags)
        assert {"GridSource", "ManualSource", "RandomSource"} <= set(tags)

    @pytest.mark.parametrize("cls", DISTRIBUTIONS, ids=lambda c: c.__name__)
    def test_every_distribution_is_registered(self, cls: type[Distribution]) -> None:
        """Every built-in distribution reads and writes its own tagged node."""
        dist = _minimal(cls)
        assert type(dist) is cls
        node = converter.unstructure(dist, Distribution)
        assert node["type"] == cls.manifest_type
        assert converter.structure(node, DISTRIBUTION) == dist
        assert dist.to_manifest_dict() == node

    def test_distribution_manifest_dict(self) -> None:
        """Distribution.to_manifest_dict writes the tagged node."""
        assert uniform(0, 1).to_manifest_dict() == {"type": "Uniform", "low": 0, "high": 1}
        assert choice([1, (2, 3)]).to_manifest_dict() == {"type": "Choice", "options": [1, [2, 3]]}

    def test_optional_distribution_fields_are_omitted_when_none(self) -> None:
        """A distribution field whose default is None is written only when set."""
        for cls in DISTRIBUTIONS:
            optional = [f for f in attrs.fields(cls) if f.init and f.default is None]
            node = converter.unstructure(_minimal(cls), Distribution)
            for field in optional:
                assert field.alias not in node

    def test_unstructure_without_a_type_hint_is_tagged(self) -> None:
        """converter.unstructure(source) gives the same tagged node as with ParamSource."""
        source = grid(x=[1])
        assert converter.unstructure(source) == converter.unstructure(source, ParamSource)
        assert converter.unstructure(Uniform(0, 1))["type"] == "Uniform"

    def test_structure_through_the_converter(self) -> None:
        """converter.structure(data, ParamSource) builds a source; errors are ManifestErrors."""
        assert converter.structure(to_manifest(grid(x=[1])), ParamSource) == grid(x=[1])
        with pytest.raises(ManifestError):
            converter.structure({"type": "Nope"}, ParamSource)

    def test_choice_options_keep_nested_values(self) -> None:
        """Choice options that are lists and dicts come back as tuples and mappings."""
        dist = Choice([[1, 2], {"b": 1, "a": 2}, None])
        back = converter.structure(converter.unstructure(dist, Distribution), DISTRIBUTION)
        assert back == dist
        assert isinstance(back, Choice)
        assert back.options[0] == (1, 2)


class TestGaussianSteps:
    """A stepped normal or lognormal is written with its step and read back the same."""

    @pytest.mark.parametrize(
        "space",
        [
            {"w": normal(0.5, 2.0, step=0.25)},
            {"w": lognormal(-2, 1, step=1)},
            {"w": normal(0, 1), "v": lognormal(0, 0.5, step=0.01)},
        ],
        ids=repr,
    )
    def test_round_trip_keeps_the_step_and_the_draws(self, space: dict[str, Any]) -> None:
        """from_manifest(to_manifest(s)) equals s and draws the same stepped values."""
        source = random(space, 50, seed=9)
        data = json.loads(json.dumps(to_manifest(source)))
        back = from_manifest(data)
        assert back == source
        assert [c.params for c in back] == [c.params for c in source]
        steps = {k: v.get("step") for k, v in data["space"].items()}
        assert steps == {k: d.step for k, d in space.items()}

    def test_a_manifest_without_step_is_the_plain_law(self) -> None:
        """Manifests written before Gaussian steps existed still load as unstepped laws."""
        data = {"type": "Normal", "mu": 0, "sigma": 1}
        assert converter.structure(data, DISTRIBUTION) == normal(0, 1)
        assert "step" not in converter.unstructure(normal(0, 1), Distribution)


def _minimal(cls: type[Any]) -> Any:
    """An instance of a distribution class with only its required fields set."""
    by_type: dict[str, dict[str, Any]] = {
        "Uniform": {"low": 0, "high": 1},
        "LogUniform": {"low": 1, "high": 2},
        "RandInt": {"low": 0, "high": 3},
        "LogUniformInt": {"low": 1, "high": 3},
        "Choice": {"options": [1, 2]},
        "Normal": {"mu": 0, "sigma": 1},
        "LogNormal": {"mu": 0, "sigma": 1},
    }
    return converter.structure(
        {"type": cls.manifest_type, **by_type[cls.manifest_type]}, DISTRIBUTION
    )


class TestSeveralProblems:
    """A manifest with several problems reports all of them in one ManifestError."""

    def test_problems_in_different_parts(self) -> None:
        """Problems in two parts of a composite come as two path lines."""
        data = {
            "type": "ConcatSource",
            "parts": [
                {"type": "GridSource", "spec": {"x": []}},
                {"type": "ShuffledSource", "source": _G, "seed": "a"},
            ],
        }
        with pytest.raises(ManifestError) as info:
            from_manifest(data)
        assert str(info.value).splitlines() == [
            "parts[0].spec.x: expected a non-empty array of values, got an empty one",
            'parts[1].seed: expected an int, got "a"',
        ]

    def test_problems_in_one_node(self) -> None:
        """Every bad field of one node is reported, unknown and missing fields first."""
        data = {"type": "SliceSource", "source": _G, "start": 0.5, "stop": "x", "extra": 1}
        with pytest.raises(ManifestError) as info:
            from_manifest(data)
        lines = str(info.value).splitlines()
        assert lines[0].startswith('the manifest: unknown field "extra" in a SliceSource')
        assert lines[1:] == [
            "step: required field of a SliceSource is missing",
            "start: expected an int, got 0.5",
            'stop: expected an int, got "x"',
        ]

    def test_problems_in_distributions_and_axes(self) -> None:
        """Problems in the values of an object are all reported, in key order."""
        data = {
            "type": "RandomSource",
            "space": {"b": {"type": "Uniform", "low": "0", "high": 1}, "a": {"type": "Nope"}},
            "n_trials": -1,
            "seed": 0,
            "algorithm": ALGORITHM,
        }
        with pytest.raises(ManifestError) as info:
            from_manifest(data)
        lines = str(info.value).splitlines()
        assert len(lines) == 3
        assert lines[0].startswith('space.a.type: unknown distribution type "Nope"')
        assert lines[1:] == [
            'space.b.low: expected a number, got "0"',
            "n_trials: expected a non-negative int, got -1",
        ]


class TestBigManualManifests:
    """A big manual manifest loads without the work a general manifest needs."""

    @pytest.mark.parametrize("extra", [0, 1])
    def test_depth_limit_is_the_same_from_text_and_from_data(self, extra: int) -> None:
        """At MAX_DEPTH containers loads and from_manifest agree; one more, both refuse."""
        depth = MAX_DEPTH + extra
        text = '{"type": "GridSource", "spec": {"x": [' + "[" * (depth - 3) + "]" * (depth - 3)
        text += "]}}"
        errors = []
        for read in (loads, lambda t: from_manifest(json.loads(t))):
            try:
                read(text)
            except ManifestError as error:
                errors.append(str(error))
            else:  # pragma: no cover - a nested list is no grid value at any depth
                errors.append("")
        assert errors[0] == errors[1]
        assert ("nests more than" in errors[0]) == bool(extra)

    def test_loads_walks_parsed_text_once_for_its_depth(self) -> None:
        """Parsed JSON is a tree: loads skips the sharing and cycle walk that data may need."""
        text = dumps(manual([{"x": i, "y": "a"} for i in range(50)]))
        with mock.patch.object(
            metalab._io.manifest, "_check_shape", side_effect=AssertionError("walked")
        ):
            assert loads(text) == manual([{"x": i, "y": "a"} for i in range(50)])
            with pytest.raises(AssertionError, match="walked"):
                from_manifest(json.loads(text))

    def test_cases_of_every_form_load_as_manual_builds_them(self) -> None:
        """Atomic, nested, unsorted and non-ASCII cases read back exactly as given."""
        cases: list[dict[str, Any]] = [
            {"a": 1, "b": 2.5, "c": "x", "d": None, "e": True},
            {"b": 1, "a": 2},
            {"a": [1, {"z": 1, "y": 2}]},
            {"é": "ü", "a": 1e300},
            {},
            {"a": 1.0},
        ]
        text = json.dumps({"type": "ManualSource", "cases": cases}, sort_keys=False)
        source = loads(text)
        expected = manual(cases)
        assert source == expected
        assert [list(c.params.items()) for c in source] == [
            list(c.params.items()) for c in expected
        ]
        assert [type(c.params["a"]) for c in source if "a" in c.params] == [
            int,
            int,
            tuple,
            float,
            float,
        ]

    @pytest.mark.parametrize(
        ("case", "pattern"),
        [
            ({"": 1}, r'cases\[1\]\[""\]: parameter names must be non-empty'),
            ({"a": "\ud800"}, r"cases\[1\]\.a: a string with a lone surrogate"),
            ({"a": 1e400}, r"cases\[1\]\.a: NaN and infinite floats"),
        ],
    )
    def test_a_bad_case_among_good_ones_is_named(self, case: dict[str, Any], pattern: str) -> None:
        """A case the quick path does not take is checked the long way, with its path."""
        text = (
            '{"type": "ManualSource", "cases": [{"a": 1}, '
            + json.dumps(case, ensure_ascii=False).replace("Infinity", "1e400")
            + "]}"
        )
        with pytest.raises(ManifestError, match=pattern):
            loads(text)


# JSON objects written as lists of members, so that a key may repeat; strings may hold
# ":" and brackets, the characters the duplicate check counts.
_TEXTS = st.text(alphabet=st.sampled_from('ab:{}[]"\\é'), max_size=4)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | _TEXTS,
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: ("array", items))
        | st.lists(st.tuples(_TEXTS, inner), max_size=4).map(lambda pairs: ("object", pairs))
    ),
    max_leaves=12,
)


def _render(node: Any, spaced: bool) -> str:
    """The JSON text of a `_JSON` value, members in the order given (repeats kept)."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(node, tuple):
        kind, items = node
        if kind == "array":
            return "[" + comma.join(_render(item, spaced) for item in items) + "]"
        members = (json.dumps(k) + colon + _render(v, spaced) for k, v in items)
        return "{" + comma.join(members) + "}"
    return json.dumps(node)


def _repeats_a_key(node: Any) -> bool:
    if not isinstance(node, tuple):
        return False
    kind, items = node
    if kind == "array":
        return any(_repeats_a_key(item) for item in items)
    keys = [k for k, _ in items]
    return len(set(keys)) < len(keys) or any(_repeats_a_key(v) for _, v in items)


class TestDuplicateKeys:
    """A key twice in one object is refused, however the text is laid out."""

    @given(node=_JSON, spaced=st.booleans())
    def test_a_repeated_key_is_found_wherever_it_is(self, node: Any, spaced: bool) -> None:
        """The text parses to what json.loads gives exactly when no object repeats a key."""
        text = _render(node, spaced)
        if _repeats_a_key(node):
            with pytest.raises(ManifestError, match="appears twice in one JSON object"):
                metalab._io.manifest._parse(text)
        else:
            data, _ = metalab._io.manifest._parse(text)
            assert data == json.loads(text)

    @pytest.mark.parametrize(
        "case",
        [
            '{"a": 1, "a": 2}',
            '{"a": {"x:": "y:z"}, "a": 1}',
            '{"a": [{"b": 1, "c": {"d": 1, "d": 1}}]}',
            '{"a": "one:two", "b": 1, "b": 1}',
        ],
    )
    def test_a_repeated_key_in_a_big_manifest_is_named(self, case: str) -> None:
        """Among many cases, one case that repeats a key makes the manifest refused."""
        cases = ",".join(f'{{"a": {i}}}' for i in range(1000))
        text = '{"type": "ManualSource", "cases": [' + cases + "," + case + "]}"
        with pytest.raises(ManifestError, match="appears twice in one JSON object"):
            loads(text)

    def test_a_plain_manifest_is_parsed_without_a_hook(self) -> None:
        """With no ':' in any string, no object of the text goes through the key hook."""
        source = manual([{"x": i, "y": "a b"} for i in range(100)])
        with mock.patch.object(
            metalab._io.manifest, "_unique_keys", side_effect=AssertionError("hooked")
        ):
            assert loads(dumps(source)) == source
            with pytest.raises(AssertionError, match="hooked"):
                loads(dumps(manual([{"t": "12:30"}])))

    def test_bytes_read_as_json_reads_them(self) -> None:
        """UTF-8 (with or without a BOM) and UTF-16 bytes give the source the text gives."""
        source = manual([{"x": "é:1", "y": 2}])
        text = dumps(source)
        for raw in (text.encode(), b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
            assert loads(raw) == source
        with pytest.raises(ManifestError, match="Unexpected UTF-8 BOM"):
            loads("\ufeff" + text)
