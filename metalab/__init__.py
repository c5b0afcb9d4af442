"""metalab: parameter sweeps for research experiments, exact, replayable and composable.

>>> from metalab import grid, random, loguniform
>>> sweep = grid(opt=["adam", "sgd"]) * random({"lr": loguniform(1e-4, 1e-1)}, 3, seed=0)
>>> sweep.size
6
"""

from typing import TYPE_CHECKING, Final

from metalab import errors
from metalab._core.codegen import generated_code
from metalab.params import (
    Choice,
    ConcatSource,
    ConditionalGridSource,
    ConditionalRandomSource,
    DeriveSource,
    Description,
    Distribution,
    Expr,
    GridSource,
    LogNormal,
    LogUniform,
    LogUniformInt,
    ManualSource,
    Normal,
    ParamCase,
    ParamInput,
    ParamSource,
    ParamValue,
    ProductSource,
    RandInt,
    RandomSource,
    Raw,
    ReplicateSource,
    ResolverSource,
    ShuffledSource,
    SliceSource,
    Switch,
    Uniform,
    WhereSource,
    ZipSource,
    choice,
    col,
    fmt,
    grid,
    if_else,
    lit,
    lognormal,
    loguniform,
    loguniform_int,
    manual,
    maximum,
    minimum,
    normal,
    one_of,
    randint,
    random,
    replicates,
    switch,
    uniform,
    when,
    with_resolver,
    zip,  # noqa: A004 - metalab.zip is the strict, lazy counterpart of the builtin
)

if TYPE_CHECKING:
    from metalab._io.structured import Structured

__version__: Final[str] = "0.1.0"
"""metalab's version; the one place it is written (pyproject.toml reads it from here)."""

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
    "ShuffledSource",
    "SliceSource",
    "Structured",
    "Switch",
    "Uniform",
    "WhereSource",
    "ZipSource",
    "choice",
    "col",
    "errors",
    "fmt",
    "generated_code",
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


# Hidden from type checkers, so that a misspelt name is still a type error there.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import `Structured` on first use: most sweeps never need typed views."""
        if name == "Structured":
            from metalab._io.structured import Structured

            globals()["Structured"] = Structured
            return Structured
        msg = f"module 'metalab' has no attribute {name!r}"
        raise AttributeError(msg)

    def __dir__() -> list[str]:
        """The public names, the lazily imported ones included, and the module's dunders.

        Not every global: ``TYPE_CHECKING`` and the private submodules that importing
        the package sets as attributes are no part of the surface.
        """
        dunders = (name for name in globals() if name.startswith("__") and name.endswith("__"))
        return sorted({*__all__, *dunders, "params"})
