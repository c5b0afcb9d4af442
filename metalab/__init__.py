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
    SelectSource,
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
    from metalab._run.runner import RunReport, run, run_case
    from metalab._run.store import CaseError, CaseResult, Results, results
    from metalab._run.submit import Submission, submit

__version__: Final[str] = "0.1.0"
"""metalab's version; the one place it is written (pyproject.toml reads it from here)."""

__all__ = [
    "CaseError",
    "CaseResult",
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
    "Results",
    "RunReport",
    "SelectSource",
    "ShuffledSource",
    "SliceSource",
    "Structured",
    "Submission",
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
    "results",
    "run",
    "run_case",
    "submit",
    "switch",
    "uniform",
    "when",
    "with_resolver",
    "zip",
]


# Hidden from type checkers, so that a misspelt name is still a type error there.
if not TYPE_CHECKING:
    _LAZY: Final = {
        "Structured": "metalab._io.structured",
        "CaseError": "metalab._run.store",
        "CaseResult": "metalab._run.store",
        "Results": "metalab._run.store",
        "results": "metalab._run.store",
        "RunReport": "metalab._run.runner",
        "run": "metalab._run.runner",
        "run_case": "metalab._run.runner",
        "Submission": "metalab._run.submit",
        "submit": "metalab._run.submit",
    }
    """Names imported on first use: most sweeps never need typed views or a runner."""

    def __getattr__(name: str) -> object:
        """Import `Structured`, `run`, `submit`, `results` and their types on first use."""
        module = _LAZY.get(name)
        if module is not None:
            import importlib

            value = getattr(importlib.import_module(module), name)
            globals()[name] = value
            return value
        msg = f"module 'metalab' has no attribute {name!r}"
        raise AttributeError(msg)

    def __dir__() -> list[str]:
        """The public names, the lazily imported ones included, and the module's dunders.

        Not every global: ``TYPE_CHECKING`` and the private submodules that importing
        the package sets as attributes are no part of the surface.
        """
        dunders = (name for name in globals() if name.startswith("__") and name.endswith("__"))
        return sorted({*__all__, *dunders, "params"})
