"""The distributions of a random search.

The code lives in `metalab._sources.distributions`; this path is the public one.
"""

from metalab._sources.distributions import (
    DISTRIBUTIONS,
    Choice,
    Distribution,
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
    uniform,
)

__all__ = [
    "DISTRIBUTIONS",
    "Choice",
    "Distribution",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "RandInt",
    "Uniform",
    "choice",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "normal",
    "randint",
    "uniform",
]
