"""The same definition gives the same cases in fresh processes, whatever PYTHONHASHSEED is."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import metalab
from metalab import GridSource, ManualSource, ParamSource, RandomSource
from metalab._core.case import encode_value
from metalab.manifest import dumps
from metalab.testing import grids, manual_sources, random_sources, sources

Recipe = tuple[Any, ...]

# The child rebuilds every source from plain data (nothing computed in this process
# travels along), then prints each case's encoded params, tags and id.
CHILD = """
import json, pickle, sys
from metalab import grid, manual, random
from metalab.params import distributions
from metalab._core.case import encode_value

def build(recipe):
    kind = recipe[0]
    if kind == "grid":
        return grid(recipe[1])
    if kind == "manual":
        return manual(recipe[1], tags=recipe[2])
    space = {name: getattr(distributions, cls)(**fields) for name, (cls, fields) in recipe[1]}
    return random(space, recipe[2], recipe[3], algorithm=recipe[4])

def describe(source):
    n = source.size
    forward = [[encode_value(c.params).hex(), list(c.tags), c.case_id] for c in source]
    backward = [source[i].case_id for i in reversed(range(n))]
    return {"cases": forward, "backward": backward}

recipes = pickle.loads(sys.stdin.buffer.read())
json.dump([describe(build(r)) for r in recipes], sys.stdout)
"""


def recipe(source: ParamSource) -> Recipe:
    """Plain data (builtins only) from which the child rebuilds ``source``."""
    if isinstance(source, GridSource):
        return (
            "grid",
            {k: v if isinstance(v, range) else _plain(v) for k, v in source.spec.items()},
        )
    if isinstance(source, ManualSource):
        return ("manual", [_plain(c) for c in source.cases], list(source.tags))
    assert isinstance(source, RandomSource)
    space = [
        (name, (type(dist).__name__, _init_fields(dist))) for name, dist in source.space.items()
    ]
    return ("random", space, source.n_trials, source.seed, source.algorithm)


def _init_fields(dist: object) -> dict[str, Any]:
    cls: Any = type(dist)
    return {f.name: _plain(getattr(dist, f.name)) for f in attrs.fields(cls) if f.init}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def describe(source: ParamSource) -> dict[str, Any]:
    """What the child prints, computed in this process."""
    n = source.size
    forward = [[encode_value(c.params).hex(), list(c.tags), c.case_id] for c in source]
    return {"cases": forward, "backward": [source[i].case_id for i in reversed(range(n))]}


def run_child(payload: Any, hash_seed: str, script: str = CHILD) -> Any:
    """Rebuild and describe the sources in a fresh interpreter with ``PYTHONHASHSEED``."""
    package_root = str(Path(metalab.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONHASHSEED": hash_seed,
        "PYTHONPATH": os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=pickle.dumps(payload) if script == CHILD else json.dumps(payload).encode(),
        capture_output=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


TREE_CHILD = """
import json, sys
from metalab._core.case import encode_value
from metalab.manifest import loads

def describe(source):
    n = source.size
    forward = [[encode_value(c.params).hex(), list(c.tags), c.case_id] for c in source]
    backward = [source[i].case_id for i in reversed(range(n))]
    return {"cases": forward, "backward": backward}

json.dump([describe(loads(text)) for text in json.load(sys.stdin)], sys.stdout)
"""


def collect_batch(
    count: int, strategy: st.SearchStrategy[ParamSource] | None = None
) -> list[ParamSource]:
    """A varied batch of generated sources (Hypothesis explores, we keep each one)."""
    batch: list[ParamSource] = []
    if strategy is None:
        strategy = st.one_of(grids(), random_sources(), manual_sources())

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(strategy)
    def keep(source: ParamSource) -> None:
        batch.append(source)

    keep()
    return batch


@pytest.mark.subprocess
class TestDeterminism:
    """Cases depend on the definition only: not on the process, hash seed or access order."""

    def test_fresh_processes_with_different_hash_seeds_agree(self) -> None:
        """Two fresh interpreters (PYTHONHASHSEED 1 and 4242) rebuild identical cases."""
        batch = collect_batch(60)
        kinds = {type(s) for s in batch}
        assert kinds == {GridSource, ManualSource, RandomSource}
        recipes = [recipe(s) for s in batch]
        here = [describe(s) for s in batch]
        first = run_child(recipes, "1")
        second = run_child(recipes, "4242")
        assert first == second
        assert first == json.loads(json.dumps(here))

    def test_recipe_rebuilds_an_equal_source(self) -> None:
        """The plain-data recipe the children use rebuilds a source equal to the original."""
        namespace: dict[str, Any] = {}
        exec(CHILD.split("recipes = ", maxsplit=1)[0], namespace)  # noqa: S102 - our own child code
        for source in collect_batch(30):
            assert namespace["build"](pickle.loads(pickle.dumps(recipe(source)))) == source  # noqa: S301

    def test_expression_trees_agree_in_a_fresh_process(self) -> None:
        """Composite sources rebuilt from their manifest text give the same cases elsewhere."""
        batch = collect_batch(40, sources(max_depth=3))
        texts = [dumps(s) for s in batch]
        here = [describe(s) for s in batch]
        assert run_child(texts, "7", TREE_CHILD) == json.loads(json.dumps(here))
