"""Test configuration: Hypothesis profiles (fast locally, thorough on CI), SLURM clusters."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

import pytest
from hypothesis import HealthCheck, settings
from slurm_cluster import held_cluster

if TYPE_CHECKING:
    from collections.abc import Iterator

SMALL_MAX_ARRAY_SIZE: Final = 64
"""The MaxArraySize of `small_cluster`."""
TINY_MAX_ARRAY_SIZE: Final = 8
"""The MaxArraySize of `tiny_cluster`."""

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# The clusters are class-scoped: one configuration at a time, each started (and stopped)
# under the machine's lock for the tests of one class.
@pytest.fixture(scope="class")
def cluster() -> Iterator[dict[str, str]]:
    """A cluster of SLURM's default MaxArraySize; the environment that reaches it."""
    yield from held_cluster(None)


@pytest.fixture(scope="class")
def small_cluster() -> Iterator[dict[str, str]]:
    """A cluster whose slurm.conf sets ``MaxArraySize=SMALL_MAX_ARRAY_SIZE``."""
    yield from held_cluster(SMALL_MAX_ARRAY_SIZE)


@pytest.fixture(scope="class")
def tiny_cluster() -> Iterator[dict[str, str]]:
    """A cluster whose slurm.conf sets ``MaxArraySize=TINY_MAX_ARRAY_SIZE``: a few tasks split."""
    yield from held_cluster(TINY_MAX_ARRAY_SIZE)
