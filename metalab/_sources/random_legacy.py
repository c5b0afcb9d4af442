"""The earlier format's random algorithm, ``python-random-v0``, as an engine of `RandomSource`.

Manifests of metalab's earlier format name no algorithm; they replay through this
engine, value for value: trial ``i`` seeds ``random.Random(seed * 1_000_000_007 + i)``
and draws one value per parameter in sorted name order, with each law's
``sample_legacy`` (the formula stays with its law, as the current algorithm's kernels
do; see ``docs/reproducibility.md``).

The engine is chosen once, when the source is built, so the current algorithm's code
paths never test for this one. It has no vectorized path (each trial is its own
Mersenne Twister): batches are the generic one-case-at-a-time code of `ParamSource`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, final

import attrs

from metalab._core.case import ParamCase, make_case
from metalab._core.values import ParamValue, check_int
from metalab._sources.base import Indices, ParamSource, Raw
from metalab._sources.distributions import (
    Choice,
    Distribution,
    LogUniform,
    LogUniformInt,
    RandInt,
    Uniform,
)
from metalab._sources.rng import LEGACY_ALGORITHM
from metalab.errors import ParamError

if TYPE_CHECKING:
    import random as stdlib_random
    from collections.abc import Callable, Iterator, Mapping

    import numpy.typing as npt

__all__ = [
    "LEGACY_ALGORITHM",
    "LEGACY_DISTRIBUTIONS",
    "LEGACY_SEED_MULTIPLIER",
    "LegacyEngine",
]

LEGACY_SEED_MULTIPLIER: Final = 1_000_000_007
"""Trial ``i`` of seed ``s`` draws from ``random.Random(s * LEGACY_SEED_MULTIPLIER + i)``."""

LEGACY_DISTRIBUTIONS: Final = (Uniform, LogUniform, LogUniformInt, RandInt, Choice)
"""The distributions the earlier format knew (without ``step`` or ``weights``)."""


def _mersenne_twister(seed: int) -> stdlib_random.Random:
    """The ``random.Random`` seeded with ``seed``, the generator of one legacy trial."""
    # Imported here: only legacy trials use the stdlib's random, and `import metalab`
    # does not load it.
    import random

    return random.Random(seed)  # noqa: S311 - the earlier format's generator, not for secrets


def _check_legacy_space(space: Mapping[str, Distribution]) -> None:
    for name, dist in space.items():
        if type(dist) not in LEGACY_DISTRIBUTIONS:
            msg = (
                f"random space {name!r}: algorithm {LEGACY_ALGORITHM!r} knows only "
                f"Uniform, LogUniform, LogUniformInt, RandInt and Choice, got "
                f"{type(dist).__name__}"
            )
            raise ParamError(msg)
        for option in ("step", "weights"):
            if getattr(dist, option, None) is not None:
                msg = (
                    f"random space {name!r}: algorithm {LEGACY_ALGORITHM!r} has no "
                    f"{option!r} option, got {dist!r}"
                )
                raise ParamError(msg)


@final
@attrs.frozen
class LegacyEngine:
    """The draws of ``python-random-v0`` for one space and seed (see the module docstring)."""

    space: Mapping[str, Distribution]
    seed: int

    @staticmethod
    def check(space: Mapping[str, Distribution], n_trials: int, seed: object) -> int:
        """The seed, checked, once the space is known to hold only the earlier laws."""
        del n_trials  # any number of trials: random.Random takes seeds of any size
        # Any int, negative ones included: the earlier format's random.Random(seed *
        # 1_000_000_007 + i) is defined for them, and its manifests hold them.
        seed_ = check_int(seed, "random seed")
        _check_legacy_space(space)
        return seed_

    def single(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        """Case ``i`` and the raw form of trial ``i``, as functions of ``i``."""
        return self._case, self._raw

    def _raw(self, i: int) -> Raw:
        rng = _mersenne_twister(self.seed * LEGACY_SEED_MULTIPLIER + i)
        return {k: d.sample_legacy(rng) for k, d in self.space.items()}, (f"trial_{i}",)

    def _case(self, i: int) -> ParamCase:
        params, tags = self._raw(i)
        return make_case(params, tags)

    def iterate(self, source: ParamSource) -> Iterator[ParamCase]:
        """Every case of ``source`` in order, one trial at a time."""
        return ParamSource.__iter__(source)

    def dicts(self, source: ParamSource) -> Iterator[dict[str, ParamValue]]:
        """Every case's params of ``source`` as fresh dicts, one trial at a time."""
        return ParamSource.dicts(source)

    def take(self, source: ParamSource, indices: Indices) -> list[ParamCase]:
        """The cases of ``source`` at ``indices``, one trial at a time."""
        return ParamSource.take(source, indices)

    def columns(self, source: ParamSource, indices: Indices | None) -> dict[str, npt.NDArray[Any]]:
        """The columns of ``source`` over ``indices``, built from one trial at a time."""
        return ParamSource.columns(source, indices)

    def generated_code(self) -> str:
        """Nothing: the draws go through ``random.Random``, not generated code."""
        return ""
