"""Parameter sources: grids, random draws, explicit cases, and their distributions."""

from metalab._case import ParamCase
from metalab._values import ParamInput, ParamValue
from metalab.params._algebra import (
    ConcatSource,
    ProductSource,
    ReplicateSource,
    ShuffledSource,
    SliceSource,
    ZipSource,
    replicates,
    zip,  # noqa: A004 - metalab.zip is the strict, lazy counterpart of the builtin
)
from metalab.params._base import Description, ParamSource, Raw
from metalab.params.distributions import (
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
from metalab.params.grid import GridSource, grid
from metalab.params.manual import ManualSource, manual
from metalab.params.random import RandomSource, random

__all__ = [
    "Choice",
    "ConcatSource",
    "Description",
    "Distribution",
    "GridSource",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "ManualSource",
    "Normal",
    "ParamCase",
    "ParamInput",
    "ParamSource",
    "ParamValue",
    "ProductSource",
    "RandInt",
    "RandomSource",
    "Raw",
    "ReplicateSource",
    "ShuffledSource",
    "SliceSource",
    "Uniform",
    "ZipSource",
    "choice",
    "grid",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "manual",
    "normal",
    "randint",
    "random",
    "replicates",
    "uniform",
    "zip",
]
