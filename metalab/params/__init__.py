"""Parameter sources: grids, random draws, explicit cases, and their distributions.

The submodules `grid`, `random`, `manual` and `distributions` are imported from here,
before the functions of the same names are bound, so that ``metalab.params.grid`` is the
function even after ``import metalab.params.grid``.
"""

from metalab._algebra import (
    ConcatSource,
    ProductSource,
    ReplicateSource,
    SelectSource,
    ShuffledSource,
    SliceSource,
    ZipSource,
    replicates,
    zip,  # noqa: A004 - metalab.zip is the strict, lazy counterpart of the builtin
)
from metalab._core.case import ParamCase
from metalab._core.values import ParamInput, ParamValue
from metalab._sources.base import Description, ParamSource, Raw
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
    "SelectSource",
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
