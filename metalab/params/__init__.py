"""Parameter sources: grids, random draws, explicit cases, and their distributions."""

from metalab._case import ParamCase
from metalab._values import ParamInput, ParamValue
from metalab.params._base import ParamSource
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
from metalab.params.grid import GridSource, grid
from metalab.params.manual import ManualSource, manual
from metalab.params.random import RandomSource, random

__all__ = [
    "Choice",
    "Distribution",
    "GridSource",
    "LogUniform",
    "LogUniformInt",
    "ManualSource",
    "ParamCase",
    "ParamInput",
    "ParamSource",
    "ParamValue",
    "RandInt",
    "RandomSource",
    "Uniform",
    "choice",
    "grid",
    "loguniform",
    "loguniform_int",
    "manual",
    "randint",
    "random",
    "uniform",
]
