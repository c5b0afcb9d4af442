"""metalab: parameter sweeps for research experiments, exact, replayable and composable.

>>> from metalab import grid, random, loguniform
>>> sweep = grid(opt=["adam", "sgd"]) * random({"lr": loguniform(1e-4, 1e-1)}, 3, seed=0)
>>> sweep.size
6
"""

from metalab import errors
from metalab.params import (
    Choice,
    Distribution,
    GridSource,
    LogUniform,
    LogUniformInt,
    ManualSource,
    ParamCase,
    ParamInput,
    ParamSource,
    ParamValue,
    RandInt,
    RandomSource,
    Uniform,
    choice,
    grid,
    loguniform,
    loguniform_int,
    manual,
    randint,
    random,
    uniform,
)
from metalab.structured import Structured

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
    "Structured",
    "Uniform",
    "choice",
    "errors",
    "grid",
    "loguniform",
    "loguniform_int",
    "manual",
    "randint",
    "random",
    "uniform",
]
