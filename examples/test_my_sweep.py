"""Tests for a sweep and for the code that consumes it: run them with ``pytest``.

Needs ``pip install '.[testing]' pytest`` in a metalab checkout.
"""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from metalab import ParamSource, choice, grid, loguniform, manual, random, replicates
from metalab.testing import check_source, sources

# -- the sweep under test -----------------------------------------------------------------

architectures = grid(model=["mlp", "cnn"], depth=[2, 4]) + manual(
    [{"model": "linear", "depth": 0}], tags=["baseline"]
)
draws = random({"lr": loguniform(1e-4, 1e-1), "batch_size": choice([32, 64, 128])}, 5, seed=0)
sweep = architectures * draws * replicates(3, seed=42)


@attrs.frozen
class Config:
    """What the training script receives for one case."""

    model: str
    depth: int
    lr: float
    batch_size: int
    seed: int


def test_sweep_keeps_metalab_promises() -> None:
    """Indexing, manifests, pickling and fresh processes all give the same cases."""
    check_source(sweep)


def test_every_case_is_a_config() -> None:
    """Every sampled case structures into the training script's Config."""
    check_source(sweep.structured(Config), fresh_process=False)


def test_sweep_size() -> None:
    """5 architectures x 5 random draws x 3 replicates."""
    assert sweep.size == 5 * 5 * 3


@given(st.integers(0, sweep.size - 1))
def test_cases_are_in_range(i: int) -> None:
    """Every case's learning rate lies in the searched range; baselines have depth 0."""
    params = sweep[i].params
    assert isinstance(params["lr"], float)
    assert 1e-4 <= params["lr"] < 1e-1
    assert (params["model"] == "linear") == (params["depth"] == 0)


# -- code that consumes any sweep -----------------------------------------------------------


def split_into_jobs(source: ParamSource, jobs: int) -> list[list[str]]:
    """The case ids each of ``jobs`` cluster jobs runs."""
    return [[case.case_id for case in source.shard(k, jobs)] for k in range(jobs)]


@given(sources(max_depth=2), st.integers(1, 8))
def test_jobs_run_every_case_once(source: ParamSource, jobs: int) -> None:
    """Whatever the sweep, the jobs together run each case once, in order."""
    ran = [case_id for job in split_into_jobs(source, jobs) for case_id in job]
    assert ran == [case.case_id for case in source]
