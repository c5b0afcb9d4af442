"""Random search: replayable draws from distributions.

The code lives in `metalab._sources.random`; this path is the public one.
"""

from metalab._sources.random import (
    ALGORITHM,
    LEGACY_ALGORITHM,
    LEGACY_DISTRIBUTIONS,
    LEGACY_SEED_MULTIPLIER,
    Choice,
    Distribution,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    RandInt,
    RandomSource,
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

__all__ = [
    "ALGORITHM",
    "LEGACY_ALGORITHM",
    "LEGACY_DISTRIBUTIONS",
    "LEGACY_SEED_MULTIPLIER",
    "Choice",
    "Distribution",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "RandInt",
    "RandomSource",
    "Uniform",
    "choice",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "normal",
    "randint",
    "random",
    "uniform",
]
