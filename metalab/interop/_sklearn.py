"""scikit-learn: ``param_grid`` and ``param_distributions`` in, ``param_grid`` out.

``ParameterGrid`` sorts each dict's keys and varies the last key fastest, as a metalab
grid does, so a dict becomes a grid with the same cases in the same order, and a list of
dicts the concatenation of their grids. scipy.stats laws map to the metalab law with
the same support and probabilities; the others are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias, overload

import numpy as np

from metalab._algebra import ConcatSource
from metalab._core.values import check_int, describe
from metalab._sources.distributions import Distribution, choice, loguniform, randint, uniform
from metalab._sources.grid import GridSource, grid
from metalab._sources.random import random
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.interop._common import plain, require

if TYPE_CHECKING:
    import numpy.typing as npt

    from metalab._sources.base import ParamSource

__all__ = ["SklearnGrid", "from_sklearn", "from_sklearn_distributions", "to_sklearn"]

SklearnGrid: TypeAlias = "dict[str, Sequence[Any]] | list[dict[str, Sequence[Any]]]"
"""What ``GridSearchCV(param_grid=...)`` takes: a dict of value lists, or a list of them.

The lists are ``list`` objects, except a grid's ``range`` axes, which stay ranges (a
sequence to scikit-learn too) so that no axis is listed.
"""

Values: TypeAlias = "Sequence[Any] | npt.NDArray[Any]"
"""The values of one scikit-learn parameter: a list (or any sequence) or a 1-d array."""

_LOGUNIFORM_NAMES: Final = frozenset({"loguniform", "reciprocal"})


@overload
def from_sklearn(param_grid: Mapping[str, Values]) -> GridSource: ...
@overload
def from_sklearn(param_grid: Sequence[Mapping[str, Values]]) -> ParamSource: ...
def from_sklearn(
    param_grid: Mapping[str, Values] | Sequence[Mapping[str, Values]],
) -> ParamSource:
    """The sweep of a scikit-learn ``param_grid``: the cases of ``ParameterGrid``, in order.

    A dict becomes a grid; a list of dicts the concatenation of their grids (``+``).
    Values must be parameter values (numbers, strings, ``None``, lists, dicts):
    estimator objects have no place in a manifest.

    >>> sweep = from_sklearn([{"kernel": ["linear"], "C": [1, 10]}, {"kernel": ["rbf"]}])
    >>> [case.params for case in sweep]
    [{'C': 1, 'kernel': 'linear'}, {'C': 10, 'kernel': 'linear'}, {'kernel': 'rbf'}]
    """
    raw: object = param_grid  # checked at run time for untyped callers
    if isinstance(raw, Mapping):
        return _grid(raw, "from_sklearn(param_grid)")
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
        msg = f"from_sklearn(param_grid): expected a dict or a list of dicts, got {describe(raw)}"
        raise ParamError(msg)
    if not raw:
        msg = "from_sklearn(param_grid): an empty list of grids defines no cases"
        raise ParamError(msg)
    parts: list[ParamSource] = []
    for j, part in enumerate(raw):
        if not isinstance(part, Mapping):
            got = describe(part)
            msg = f"from_sklearn(param_grid[{j}]): expected a dict of value lists, got {got}"
            raise ParamError(msg)
        parts.append(_grid(part, f"from_sklearn(param_grid[{j}])"))
    return parts[0] if len(parts) == 1 else ConcatSource(parts)


def _grid(spec: Mapping[Any, Any], where: str) -> GridSource:
    try:
        return grid(dict(spec))
    except ParamError as error:
        msg = f"{where}: {error}"
        raise ParamError(msg) from None


def from_sklearn_distributions(
    param_distributions: Mapping[str, Any], n_iter: int, seed: int
) -> ParamSource:
    """The sweep of ``RandomizedSearchCV(param_distributions, n_iter=...)``.

    scipy.stats ``uniform(loc, scale)`` becomes ``uniform(loc, loc + scale)``,
    ``loguniform(a, b)`` (``reciprocal``) ``loguniform(a, b)``, ``randint(low, high)``
    ``randint(low, high - 1)`` (scipy excludes ``high``; metalab includes both bounds),
    and a list a `choice` of its values. Any other law is refused.

    When every value is a list, scikit-learn samples the grid without replacement;
    so does this: ``n_iter`` distinct cases of the shuffled grid.

    >>> import scipy.stats
    >>> sweep = from_sklearn_distributions({"C": scipy.stats.loguniform(1e-2, 1e2)}, 8, seed=0)
    >>> sweep
    random({'C': loguniform(0.01, 100.0)}, n_trials=8, seed=0)
    >>> from_sklearn_distributions({"k": [1, 2, 3]}, 2, seed=0).size
    2
    """
    raw: object = param_distributions
    if not isinstance(raw, Mapping):
        hint = (
            "; a list of dicts picks a dict at random for each draw, which a metalab "
            "sweep does not express: convert each dict and add the sweeps"
            if isinstance(raw, Sequence) and not isinstance(raw, str | bytes)
            else ""
        )
        msg = (
            f"from_sklearn_distributions(param_distributions): expected a dict of laws "
            f"and lists, got {describe(raw)}{hint}"
        )
        raise ParamError(msg)
    n = check_int(n_iter, "from_sklearn_distributions(n_iter)")
    if all(_is_list(value) for value in raw.values()):
        sweep = _grid(raw, "from_sklearn_distributions(param_distributions)")
        if not 0 <= n <= sweep.size:
            msg = (
                f"from_sklearn_distributions(n_iter={n}): every value is a list, so the "
                f"{sweep.size} combinations are drawn without replacement (as "
                f"scikit-learn does) and n_iter must be between 0 and {sweep.size}"
            )
            raise ParamError(msg)
        return sweep.shuffled(seed)[:n]
    space: dict[str, Distribution] = {}
    for name, value in raw.items():
        if not isinstance(name, str):
            msg = (
                "from_sklearn_distributions(param_distributions): keys must be strings, "
                f"got {describe(name)}"
            )
            raise ParamError(msg)
        space[name] = _law(name, value)
    return random(space, n, seed)


def _is_list(value: object) -> bool:
    return isinstance(value, np.ndarray) or (
        isinstance(value, Sequence) and not isinstance(value, str | bytes)
    )


def _law(name: str, value: object) -> Distribution:
    where = f"from_sklearn_distributions(param_distributions): {name!r}"
    if _is_list(value):
        try:
            return choice(value)  # type: ignore[arg-type]  # checked by _is_list
        except ParamError as error:
            msg = f"{where}: {error}"
            raise ParamError(msg) from None
    stats = require("scipy.stats", "sklearn", "from_sklearn_distributions")
    if not isinstance(value, stats.distributions.rv_frozen):
        msg = (
            f"{where}: expected a list or a frozen scipy.stats law "
            f"(uniform, loguniform, randint), got {describe(value)}"
        )
        raise ParamError(msg)
    law: Any = value
    name_ = law.dist.name
    args = _arguments(law, discrete=isinstance(law.dist, stats.rv_discrete))
    loc, scale = args.get("loc", 0), args.get("scale", 1)
    try:
        if name_ == "uniform":
            return uniform(loc, loc + scale)
        if name_ in _LOGUNIFORM_NAMES and loc == 0:
            return loguniform(args["a"] * scale, args["b"] * scale)
        if name_ == "randint":
            return randint(args["low"] + loc, args["high"] - 1 + loc)
    except ParamError as error:
        msg = f"{where}: scipy.stats.{name_}({_shown(args)}): {error}"
        raise ParamError(msg) from None
    reason = (
        "a shifted loguniform (loc != 0) is not log-uniform"
        if name_ in _LOGUNIFORM_NAMES
        else "metalab converts uniform, loguniform and randint; write the metalab law "
        "(e.g. normal(mu, sigma)) directly"
    )
    msg = f"{where}: scipy.stats.{name_}({_shown(args)}) has no metalab equivalent: {reason}"
    raise ParamError(msg)


def _arguments(law: Any, *, discrete: bool) -> dict[str, Any]:
    """The frozen law's arguments by name: its shapes, then ``loc`` (and ``scale``)."""
    shapes = [s.strip() for s in (law.dist.shapes or "").split(",") if s.strip()]
    names = [*shapes, "loc"] if discrete else [*shapes, "loc", "scale"]
    out = dict(zip(names, law.args, strict=False))
    out.update(law.kwds)
    return {k: v.item() if isinstance(v, np.generic) else v for k, v in out.items()}


def _shown(args: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in args.items())


def to_sklearn(source: ParamSource) -> SklearnGrid:
    """What ``GridSearchCV(param_grid=...)`` takes to evaluate exactly ``source``'s cases.

    A grid becomes one dict of value lists and a concatenation of grids a list of them
    (``ParameterGrid`` orders them as metalab does). Any other source becomes one dict
    per case, each value in a one-item list: every case is listed, in order.

    >>> from metalab import grid, manual
    >>> to_sklearn(grid(C=[1, 10], kernel=["rbf"]))
    {'C': [1, 10], 'kernel': ['rbf']}
    >>> to_sklearn(manual([{"C": 1}, {"C": 5, "tol": 0.1}]))
    [{'C': [1]}, {'C': [5], 'tol': [0.1]}]
    """
    if isinstance(source, GridSource):
        return _axes(source)
    if isinstance(source, ConcatSource) and all(isinstance(p, GridSource) for p in source.parts):
        return [_axes(part) for part in source.parts if isinstance(part, GridSource)]
    if source.size == 0:
        msg = f"to_sklearn: {source!r} has no cases, and GridSearchCV needs at least one"
        raise UnsupportedOperationError(msg)
    return [{key: [plain(value)] for key, value in params.items()} for params in source.dicts()]


def _axes(source: GridSource) -> dict[str, Sequence[Any]]:
    return {
        key: axis if isinstance(axis, range) else [plain(value) for value in axis]
        for key, axis in source.spec.items()
    }
