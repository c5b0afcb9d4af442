"""Parameter sources: grids, random draws, explicit cases, and their distributions.

The submodules `grid`, `random`, `manual` and `distributions` are imported from here,
before the functions of the same names are bound, so that ``metalab.params.grid`` is the
function even after ``import metalab.params.grid``.
"""

from metalab._algebra import (
    ConcatSource,
    ConditionalGridSource,
    DeriveSource,
    ProductSource,
    ReplicateSource,
    ResolverSource,
    SelectSource,
    ShuffledSource,
    SliceSource,
    WhereSource,
    ZipSource,
    replicates,
    with_resolver,
    zip,  # noqa: A004 - metalab.zip is the strict, lazy counterpart of the builtin
)
from metalab._core.case import ParamCase
from metalab._core.values import ParamInput, ParamValue
from metalab._expr import Expr, col, fmt, if_else, lit, maximum, minimum
from metalab._sources.base import Description, ParamSource, Raw
from metalab._sources.conditional import ConditionalRandomSource
from metalab._sources.switch import Switch, one_of, switch, when
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
    "ConditionalGridSource",
    "ConditionalRandomSource",
    "DeriveSource",
    "Description",
    "Distribution",
    "Expr",
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
    "ResolverSource",
    "SelectSource",
    "ShuffledSource",
    "SliceSource",
    "Switch",
    "Uniform",
    "WhereSource",
    "ZipSource",
    "choice",
    "col",
    "fmt",
    "grid",
    "if_else",
    "lit",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "manual",
    "maximum",
    "minimum",
    "normal",
    "one_of",
    "randint",
    "random",
    "replicates",
    "switch",
    "uniform",
    "when",
    "with_resolver",
    "zip",
]
