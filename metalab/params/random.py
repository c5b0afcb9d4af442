"""Random search: `RandomSource`, replayable draws from distributions.

The value of parameter ``name`` in trial ``i`` is a pure function of
``(seed, name, i, distribution)`` (see `metalab.params._rng`), so trial ``i`` is the same
whatever else was drawn, in whatever order, in whatever process; adding a parameter to
the space leaves the values of the others unchanged.
"""

from __future__ import annotations

import random as _stdlib_random
from collections.abc import Mapping
from typing import ClassVar, Final, final

import attrs

from metalab._case import ParamCase, make_case
from metalab._values import FrozenDict, FrozenParams, check_int, describe, normalize_key
from metalab.errors import ParamError
from metalab.params._base import ParamSource, Raw
from metalab.params._rng import ALGORITHM, LEGACY_ALGORITHM, Stream
from metalab.params.distributions import (
    Choice,
    Distribution,
    LogUniform,
    LogUniformInt,
    RandInt,
    Uniform,
    choice,
    loguniform,
    loguniform_int,
    randint,
    uniform,
)

__all__ = [
    "ALGORITHM",
    "LEGACY_ALGORITHM",
    "Choice",
    "Distribution",
    "LogUniform",
    "LogUniformInt",
    "RandInt",
    "RandomSource",
    "Uniform",
    "choice",
    "loguniform",
    "loguniform_int",
    "randint",
    "random",
    "uniform",
]

ALGORITHMS: Final = (ALGORITHM, LEGACY_ALGORITHM)
"""Every random algorithm metalab can replay, newest first."""

LEGACY_SEED_MULTIPLIER: Final = 1_000_000_007
LEGACY_DISTRIBUTIONS: Final = (Uniform, LogUniform, LogUniformInt, RandInt, Choice)
"""The distributions the earlier format knew."""


def _to_space(space: object) -> FrozenDict[str, Distribution]:
    if not isinstance(space, Mapping):
        msg = f"random space must map parameter names to distributions, got {describe(space)}"
        raise ParamError(msg)
    if not space:
        msg = "random space must have at least one parameter"
        raise ParamError(msg)
    names = sorted(normalize_key(k, "random space") for k in space)
    for name in names:
        dist = space[name]
        if not isinstance(dist, Distribution):
            hint = (
                "; use choice([...]) for a list of options"
                if isinstance(dist, list | tuple)
                else ""
            )
            msg = (
                f"random space {name!r}: expected a distribution such as uniform(0, 1), "
                f"got {describe(dist)}{hint}"
            )
            raise ParamError(msg)
    return FrozenDict((k, space[k]) for k in names)


@final
@attrs.frozen(init=False, repr=False)
class RandomSource(ParamSource):
    """``n_trials`` replayable random draws from ``space``; case ``i`` is tagged ``trial_{i}``.

    >>> src = RandomSource({"lr": loguniform(1e-4, 1e-1)}, n_trials=4, seed=0)
    >>> src[2] == RandomSource({"lr": loguniform(1e-4, 1e-1)}, 4, seed=0)[2]
    True
    """

    manifest_type: ClassVar[str] = "RandomSource"

    space: Mapping[str, Distribution]
    """The distribution of each parameter, names sorted."""
    n_trials: int
    seed: int
    algorithm: str
    """The name of the algorithm that turns (seed, name, trial) into values."""

    _streams: tuple[Stream, ...] = attrs.field(init=False, eq=False, repr=False)

    def __init__(
        self,
        space: Mapping[str, Distribution],
        n_trials: int,
        seed: int,
        *,
        algorithm: str = ALGORITHM,
    ) -> None:
        """Validate the space, the number of trials, the seed and the algorithm."""
        frozen = _to_space(space)
        if algorithm not in ALGORITHMS:
            msg = f"random algorithm must be one of {list(ALGORITHMS)}, got {describe(algorithm)}"
            raise ParamError(msg)
        trials = check_int(n_trials, "random n_trials")
        if trials < 0:
            msg = f"random n_trials must be >= 0, got {trials}"
            raise ParamError(msg)
        seed_ = check_int(seed, "random seed")
        if algorithm == ALGORITHM:
            if not 0 <= seed_ < 2**64:
                msg = f"random seed must be an int in [0, 2**64), got {seed_}"
                raise ParamError(msg)
            if trials > 2**64:
                msg = f"random n_trials must be <= 2**64, got {trials}"
                raise ParamError(msg)
        else:
            if seed_ < 0:
                msg = f"random seed must be >= 0, got {seed_}"
                raise ParamError(msg)
            for name, dist in frozen.items():
                if type(dist) not in LEGACY_DISTRIBUTIONS:
                    msg = (
                        f"random space {name!r}: algorithm {LEGACY_ALGORITHM!r} knows only "
                        f"Uniform, LogUniform, LogUniformInt, RandInt and Choice, got "
                        f"{type(dist).__name__}"
                    )
                    raise ParamError(msg)
        self.__attrs_init__(frozen, trials, seed_, algorithm)

    def __attrs_post_init__(self) -> None:
        """Derive one random stream per parameter."""
        streams = tuple(Stream(self.seed, name) for name in self.space)
        object.__setattr__(self, "_streams", streams)

    @property
    def size(self) -> int:
        """The number of trials."""
        return self.n_trials

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameter names, sorted."""
        return tuple(self.space)

    def _raw(self, i: int) -> Raw:
        tags = (f"trial_{i}",)
        if self.algorithm == LEGACY_ALGORITHM:
            rng = _stdlib_random.Random(self.seed * LEGACY_SEED_MULTIPLIER + i)  # noqa: S311
            return {k: d.sample_legacy(rng) for k, d in self.space.items()}, tags
        return (
            {
                name: dist.sample(stream, i)
                for (name, dist), stream in zip(self.space.items(), self._streams, strict=True)
            },
            tags,
        )

    def _case(self, i: int) -> ParamCase:
        params, tags = self._raw(i)
        return make_case(FrozenParams(params), tags)

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        space = ", ".join(f"{k!r}: {v!r}" for k, v in self.space.items())
        algo = "" if self.algorithm == ALGORITHM else f", algorithm={self.algorithm!r}"
        return f"random({{{space}}}, n_trials={self.n_trials}, seed={self.seed}{algo})"


def random(
    space: Mapping[str, Distribution], n_trials: int, seed: int, *, algorithm: str = ALGORITHM
) -> RandomSource:
    """``n_trials`` replayable random draws from ``space``, a mapping of distributions.

    >>> src = random({"lr": loguniform(1e-4, 1e-1), "opt": choice(["adam", "sgd"])}, 10, seed=0)
    >>> len(src), src[3].tags
    (10, ('trial_3',))
    """
    return RandomSource(space, n_trials, seed, algorithm=algorithm)
