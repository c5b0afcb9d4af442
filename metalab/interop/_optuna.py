"""Optuna: search spaces both ways, metalab's cases as enqueued trials, grids as a GridSampler.

An Optuna distribution is a search space: its samplers choose the probabilities. So a
conversion keeps the set of values exactly (bounds, steps, log scale, options) and
refuses what Optuna cannot hold: normal laws, weighted choices, log scales with a step,
and options Optuna would confuse (``1`` and ``True`` are equal to it).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from metalab._algebra.conditional_grid import ConditionalGridSource
from metalab._core.case import encode_value
from metalab._core.values import describe
from metalab._sources.conditional import ConditionalRandomSource
from metalab._sources.distributions import (
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
from metalab._sources.grid import GridSource, range_len
from metalab._sources.random import RandomSource
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.interop._common import MAX_LISTED, plain, require

if TYPE_CHECKING:
    from collections.abc import Sequence

    import optuna
    from optuna.distributions import BaseDistribution

    from metalab._core.values import ParamValue
    from metalab._sources.base import ParamSource

__all__ = ["INDEX_ATTR", "enqueue", "from_optuna", "grid_sampler", "to_optuna"]

INDEX_ATTR: Final = "metalab_index"
"""The user attribute `enqueue` gives each trial: the index of its case in the source."""

_SCALARS: Final = (type(None), bool, int, float, str)


def _optuna(what: str) -> Any:
    return require("optuna", "optuna", what)


def to_optuna(
    space: RandomSource | GridSource | Mapping[str, Distribution],
) -> dict[str, BaseDistribution]:
    """The Optuna distributions of a random space (or of a grid's axes), names sorted.

    ``uniform`` becomes ``FloatDistribution``, ``loguniform`` the same with
    ``log=True``, ``randint`` and ``loguniform_int`` ``IntDistribution`` (both bounds
    included on both sides), an unweighted ``choice`` and a grid axis
    ``CategoricalDistribution``. A ``step`` grid of ``uniform`` (points below
    ``high``) becomes Optuna's step grid ending at its last point.

    >>> to_optuna({"lr": loguniform(1e-4, 1e-1), "n": randint(1, 8, step=7)})
    {'lr': FloatDistribution(high=0.1, log=True, low=0.0001, step=None), 'n': IntDistribution(high=8, log=False, low=1, step=7)}
    """  # noqa: E501 - a doctest's output is one line
    od = _optuna("to_optuna").distributions
    if isinstance(space, GridSource):
        return {key: _axis(od, key, axis) for key, axis in space.spec.items()}
    laws: object = space.space if isinstance(space, RandomSource) else space
    given: object = space  # checked at run time: the signature leaves these out
    if isinstance(given, ConditionalRandomSource | ConditionalGridSource):
        msg = (
            f"to_optuna: {type(given).__name__} has conditional parameters, which an Optuna "
            "space cannot hold (Optuna decides them by running the objective); enqueue() "
            "its cases instead"
        )
        raise UnsupportedOperationError(msg)
    if not isinstance(laws, Mapping):  # checked at run time for untyped callers
        msg = f"to_optuna: expected a random source, a grid or a space, got {laws!r}"
        raise UnsupportedOperationError(msg)
    return {key: _distribution(od, key, laws[key]) for key in sorted(laws)}


def _refuse(key: str, dist: object, reason: str) -> UnsupportedOperationError:
    return UnsupportedOperationError(f"to_optuna: {key!r} ~ {dist!r}: {reason}")


def _distribution(od: Any, key: str, dist: Distribution) -> BaseDistribution:
    if isinstance(dist, Uniform):
        if dist.step is None:
            return od.FloatDistribution(float(dist.low), float(dist.high))  # type: ignore[no-any-return]
        return _float_steps(od, key, dist)
    if isinstance(dist, LogUniform):
        if dist.step is not None:
            raise _refuse(key, dist, "Optuna has no log scale with a step")
        return od.FloatDistribution(float(dist.low), float(dist.high), log=True)  # type: ignore[no-any-return]
    if isinstance(dist, RandInt):
        return od.IntDistribution(dist.low, dist.high, step=dist.step or 1)  # type: ignore[no-any-return]
    if isinstance(dist, LogUniformInt):
        if dist.step not in {None, 1}:
            raise _refuse(key, dist, "Optuna has no log scale with a step")
        return od.IntDistribution(dist.low, dist.high, log=True)  # type: ignore[no-any-return]
    if isinstance(dist, Choice):
        if dist.weights is not None:
            raise _refuse(key, dist, "Optuna's categorical choices have no weights")
        return _categorical(od, key, dist.options, dist)
    raise _refuse(key, dist, "Optuna has uniform, log-uniform and categorical spaces only")


def _float_steps(od: Any, key: str, dist: Uniform) -> BaseDistribution:
    """Optuna's grid ``low, low + step, ..., high`` (high included) for a metalab step grid."""
    assert dist.step is not None
    count = _grid_count(dist)
    last = float(Decimal(repr(float(dist.low))) + (count - 1) * Decimal(repr(float(dist.step))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = od.FloatDistribution(float(dist.low), last, step=float(dist.step))
    if caught or not dist.contains(last):
        raise _refuse(key, dist, "its grid points are not Optuna's decimal steps")
    return out  # type: ignore[no-any-return]


def _grid_count(dist: Uniform) -> int:
    grid = dist._grid  # noqa: SLF001 - the step grid's exact point count
    assert grid is not None
    return grid.count


def _axis(od: Any, key: str, axis: tuple[ParamValue, ...] | range) -> BaseDistribution:
    if isinstance(axis, range):
        if range_len(axis) > MAX_LISTED:
            msg = f"to_optuna: grid axis {key!r} has more than {MAX_LISTED} values: {axis!r}"
            raise UnsupportedOperationError(msg)
        axis = tuple(axis)
    return _categorical(od, key, axis, axis)


def _categorical(
    od: Any, key: str, options: tuple[ParamValue, ...] | range, shown: object
) -> BaseDistribution:
    if isinstance(options, range):
        if range_len(options) > MAX_LISTED:
            reason = f"more than {MAX_LISTED} options; randint(start, last, step=...) is a space"
            raise _refuse(key, shown, reason)
        options = tuple(options)
    _check_options(f"to_optuna: {key!r}", options)
    return od.CategoricalDistribution(list(options))  # type: ignore[no-any-return]


def _check_options(where: str, options: Sequence[ParamValue]) -> None:
    """Refuse options Optuna cannot store, and options it would take for one another."""
    for option in options:
        if not isinstance(option, _SCALARS):
            msg = (
                f"{where}: Optuna's choices are None, bools, ints, floats and strings, "
                f"got {option!r}"
            )
            raise UnsupportedOperationError(msg)
    for j, a in enumerate(options):
        for b in options[j + 1 :]:
            if a == b and encode_value(a) != encode_value(b):
                msg = f"{where}: options {a!r} and {b!r} are different values but equal to Optuna"
                raise UnsupportedOperationError(msg)


def from_optuna(distributions: Mapping[str, BaseDistribution]) -> dict[str, Distribution]:
    """The metalab space of Optuna distributions: pass it to `random` with a count and a seed.

    ``FloatDistribution(low, high)`` becomes ``uniform(low, high)`` (``high`` is never
    drawn, as by Optuna's samplers), with ``log=True`` ``loguniform``; with ``step``
    the grid ``low + k * step`` up to ``high`` included, as Optuna's; ``IntDistribution``
    becomes ``randint`` (or ``loguniform_int``) with both bounds; ``CategoricalDistribution``
    a ``choice``.

    >>> import optuna
    >>> from_optuna({"x": optuna.distributions.FloatDistribution(0.0, 1.0, step=0.25)})
    {'x': uniform(0.0, 1.125, step=0.25)}
    """
    od = _optuna("from_optuna").distributions
    raw: object = distributions  # checked at run time for untyped callers
    if not isinstance(raw, Mapping):
        msg = f"from_optuna: expected a dict of Optuna distributions, got {distributions!r}"
        raise ParamError(msg)
    for key in raw:
        if not isinstance(key, str):
            msg = f"from_optuna: parameter names must be strings, got {describe(key)}"
            raise ParamError(msg)
    return {key: _law(od, key, raw[key]) for key in sorted(raw)}


def _law(od: Any, key: str, dist: Any) -> Distribution:
    where = f"from_optuna: {key!r} ~ {dist!r}"
    try:
        if isinstance(dist, od.FloatDistribution):
            if dist.log:
                return loguniform(dist.low, dist.high)
            if dist.step is None:
                return uniform(dist.low, dist.high)
            return _steps(where, dist.low, dist.high, dist.step)
        if isinstance(dist, od.IntDistribution):
            if dist.log:
                return loguniform_int(dist.low, dist.high)
            return randint(dist.low, dist.high, step=None if dist.step == 1 else dist.step)
        if isinstance(dist, od.CategoricalDistribution):
            return choice(list(dist.choices))
    except ParamError as error:
        msg = f"{where}: {error}"
        raise ParamError(msg) from None
    msg = f"{where}: expected a Float-, Int- or CategoricalDistribution"
    raise ParamError(msg)


def _steps(where: str, low: float, high: float, step: float) -> Uniform:
    """Optuna's inclusive grid as metalab's: points below ``high + step / 2`` (``high`` in)."""
    if low == high:
        return uniform(low, high)
    count = int((Decimal(str(high)) - Decimal(str(low))) // Decimal(str(step))) + 1
    dist = uniform(low, high + step / 2, step=step)
    if _grid_count(dist) != count or not dist.contains(float(high)):
        msg = f"{where}: its {count} grid points have no exact metalab step grid"
        raise ParamError(msg)
    return dist


def enqueue(study: optuna.Study, source: ParamSource) -> None:
    """Enqueue every case of ``source`` as a trial, in order: ``study.ask()`` returns them.

    Each trial gets the user attribute ``"metalab_index"`` (`INDEX_ATTR`), the index of
    its case, so results map back to ``source[index]``. Values must be what Optuna
    stores (None, bools, ints, floats, strings); the whole source is checked before
    anything is enqueued.

    >>> import optuna, metalab
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> enqueue(study, metalab.grid(n=[1, 2]))
    >>> study.ask({"n": optuna.distributions.IntDistribution(1, 2)}).params
    {'n': 1}
    """
    _optuna("enqueue")
    rows: list[dict[str, Any]] = []
    for index, params in enumerate(source.dicts()):
        for key, value in params.items():
            if not isinstance(value, _SCALARS):
                msg = (
                    f"enqueue: case {index} has {key}={value!r}; Optuna's parameter values "
                    f"are None, bools, ints, floats and strings"
                )
                raise UnsupportedOperationError(msg)
        rows.append({key: plain(value) for key, value in params.items()})
    for index, params in enumerate(rows):
        study.enqueue_trial(params, user_attrs={INDEX_ATTR: index})


def grid_sampler(source: GridSource, *, seed: int | None = None) -> optuna.samplers.GridSampler:
    """An Optuna ``GridSampler`` over the grid's axes: it evaluates every case once.

    Optuna visits the grid points in a random order (``seed`` fixes it), not in
    metalab's; to run the cases in order, `enqueue` them.

    >>> import metalab
    >>> sampler = grid_sampler(metalab.grid(lr=[0.1, 0.01], n=[1, 2]), seed=0)
    >>> type(sampler).__name__
    'GridSampler'
    """
    optuna_ = _optuna("grid_sampler")
    raw: object = source  # checked at run time for untyped callers
    if not isinstance(raw, GridSource):
        msg = (
            f"grid_sampler: expected a grid, got {source!r}; enqueue(study, source) runs "
            "the cases of any source in order"
        )
        raise UnsupportedOperationError(msg)
    space: dict[str, list[Any]] = {}
    for key, axis in raw.spec.items():
        if isinstance(axis, range) and range_len(axis) > MAX_LISTED:
            msg = f"grid_sampler: grid axis {key!r} has more than {MAX_LISTED} values: {axis!r}"
            raise UnsupportedOperationError(msg)
        values = tuple(axis)
        _check_options(f"grid_sampler: {key!r}", values)
        space[key] = list(values)
    sampler: optuna.samplers.GridSampler = optuna_.samplers.GridSampler(space, seed=seed)
    return sampler
