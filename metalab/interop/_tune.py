"""Ray Tune: ``param_space`` both ways, keeping Ray's meaning exactly or refusing.

Ray's integer domains exclude ``upper`` (``randint(1, 10)`` draws 1 to 9) except the
quantized ones with ``q != 1``, which hold the multiples of ``q`` from ``lower`` to
``upper``; its quantized floats round a uniform draw to the nearest multiple of ``q``,
so the two end points are half as likely as the others. metalab's integer laws include
both bounds and its step grids start at ``low``: each domain maps to the metalab law
with the same values and the same probabilities, and what has none is refused.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from metalab._core.values import check_int, describe
from metalab._sources.distributions import (
    Choice,
    Distribution,
    LogUniform,
    LogUniformInt,
    Normal,
    RandInt,
    Uniform,
    choice,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.grid import GridSource, grid
from metalab._sources.random import RandomSource, random
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.interop._common import MAX_LISTED, plain, require

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalab._core.case import ParamCase
    from metalab._sources.base import ParamSource

__all__ = ["INDEX_KEY", "case_of", "from_tune", "to_tune"]

INDEX_KEY: Final = "metalab_index"
"""The one key of the ``param_space`` that `to_tune` writes over case indices."""

_EXACT_QUOTIENT: Final = 2**53
"""Ray divides integer bounds by ``q`` in floats: exact for bounds up to this."""


def _tune(what: str) -> Any:
    return require("ray.tune", "tune", what)


def _sample(what: str) -> Any:
    return require("ray.tune.search.sample", "tune", what)


# -- metalab -> Ray ----------------------------------------------------------------------
def to_tune(source: ParamSource, *, indices: bool = False) -> dict[str, Any]:
    """A Ray Tune ``param_space`` for ``source``.

    A random source gives Ray's native domains for its laws (Ray then draws its own
    values: set ``num_samples`` to ``source.n_trials``), a grid gives
    ``tune.grid_search`` per axis (Ray combines the axes in its own order). Any other
    source, or any source with ``indices=True``, gives a grid over the case indices,
    ``{"metalab_index": tune.grid_search(range(source.size))}``: each trial turns its
    config back into the case with `case_of`, so Ray runs exactly metalab's cases.

    >>> import metalab
    >>> space = to_tune(metalab.manual([{"lr": 0.1}, {"lr": 0.2, "wd": 0.01}]))
    >>> space
    {'metalab_index': {'grid_search': range(0, 2)}}
    """
    tune = _tune("to_tune")
    if indices or not isinstance(source, RandomSource | GridSource):
        return {INDEX_KEY: tune.grid_search(range(source.size))}
    if isinstance(source, GridSource):
        return {
            key: tune.grid_search([plain(value) for value in axis])
            for key, axis in source.spec.items()
        }
    return {key: _domain(tune, key, dist) for key, dist in source.space.items()}


def case_of(source: ParamSource, config: Mapping[str, Any]) -> ParamCase:
    """The case of ``source`` that a Ray trial's ``config`` from `to_tune` stands for.

    >>> import metalab
    >>> sweep = metalab.grid(lr=[0.1, 0.01]) + metalab.manual([{"lr": 1.0}])
    >>> case_of(sweep, {"metalab_index": 2}).params
    {'lr': 1.0}
    """
    raw: object = config  # checked at run time for untyped callers
    if not isinstance(raw, Mapping) or INDEX_KEY not in raw:
        msg = (
            f"case_of: expected a trial config with the key {INDEX_KEY!r} "
            f"(from to_tune(source, indices=True)), got {describe(raw)}"
        )
        raise ParamError(msg)
    return source[check_int(raw[INDEX_KEY], f"case_of: config[{INDEX_KEY!r}]")]


def _refuse(key: str, dist: object, reason: str) -> UnsupportedOperationError:
    return UnsupportedOperationError(
        f"to_tune: {key!r} ~ {dist!r}: {reason}; to_tune(source, indices=True) runs "
        "metalab's own draws"
    )


def _domain(tune: Any, key: str, dist: Distribution) -> Any:  # noqa: C901, PLR0911, PLR0912 - a branch per law
    if isinstance(dist, Choice) and isinstance(dist.options, range) and dist.weights is None:
        dist = _as_randint(dist.options)
    if isinstance(dist, Uniform):
        if dist.low == dist.high:
            return float(dist.low)  # a pinned law: its one value, as a constant
        if dist.step is None:
            return tune.uniform(float(dist.low), float(dist.high))
        return _listed(tune, key, dist, _points(dist))
    if isinstance(dist, LogUniform):
        if dist.low == dist.high:
            return float(dist.low)
        if dist.step is not None:
            raise _refuse(key, dist, "Ray has no log-uniform law over a grid starting at low")
        return tune.loguniform(float(dist.low), float(dist.high))
    if isinstance(dist, RandInt | LogUniformInt):
        return _int_domain(tune, key, dist)
    if isinstance(dist, Choice):
        if dist.weights is not None:
            raise _refuse(key, dist, "Ray's choice has no weights")
        return tune.choice([plain(option) for option in dist.options])
    if isinstance(dist, Normal):
        if dist.step is None:
            return tune.randn(float(dist.mu), float(dist.sigma))
        if not _float_multiples_are_exact(float(dist.step)):
            raise _refuse(key, dist, _QRANDN_ROUNDING)
        return tune.qrandn(float(dist.mu), float(dist.sigma), float(dist.step))
    raise _refuse(key, dist, "Ray has no native domain for this law")


_QRANDN_ROUNDING: Final = (
    "Ray's qrandn rounds to the float products k * q (0.30000000000000004 for q=0.1), "
    "metalab's step to the decimal multiples (0.3); they agree only for a whole-number "
    "q or a power of two"
)


def _float_multiples_are_exact(q: float) -> bool:
    """Whether every ``k * q`` is the exact multiple, as metalab's step grid gives it.

    True for a whole number or a power of two (0.5, 0.25), whose products are exact
    floats within the law's reach; not for 0.1, whose products are rounded.
    """
    return q.is_integer() or math.frexp(q)[0] == 0.5


def _int_domain(tune: Any, key: str, dist: RandInt | LogUniformInt) -> Any:
    if isinstance(dist, RandInt):
        if dist.step is None or dist.step == 1:
            return tune.randint(dist.low, dist.high + 1)
        if dist.low % dist.step == 0 and _exact(dist.low, dist.high):
            return tune.qrandint(dist.low, dist.high, dist.step)
        return _listed(tune, key, dist, range(dist.low, dist.high + 1, dist.step))
    if dist.step is None or dist.step == 1:
        return tune.lograndint(dist.low, dist.high + 1)
    if dist.low % dist.step == 0 and _exact(dist.low, dist.high):
        return tune.qlograndint(dist.low, dist.high, dist.step)
    raise _refuse(key, dist, "Ray's log-uniform grids are multiples of q, and low is not")


def _exact(low: int, high: int) -> bool:
    return max(abs(low), abs(high)) <= _EXACT_QUOTIENT


def _as_randint(options: range) -> RandInt:
    """``choice(range(...))`` as the randint law of the same values (one per option)."""
    last = options[-1]
    step = abs(options.step)
    return randint(min(options.start, last), max(options.start, last), step=step)


def _points(dist: Uniform) -> range | list[float]:
    grid_ = dist._grid  # noqa: SLF001 - the exact points of the law's step grid
    assert grid_ is not None
    if grid_.count > MAX_LISTED:
        return range(grid_.count)  # refused by _listed, by its length
    return [grid_.point(k) for k in range(grid_.count)]


def _listed(tune: Any, key: str, dist: object, values: range | list[float]) -> Any:
    """The law's values as ``tune.choice``: uniform over a few listed points."""
    if len(values) > MAX_LISTED:
        reason = (
            f"Ray's quantized domains are multiples of q, and this grid starts at low; "
            f"it has more than {MAX_LISTED} points to list as a choice"
        )
        raise _refuse(key, dist, reason)
    return tune.choice(list(values))


# -- Ray -> metalab ----------------------------------------------------------------------
def from_tune(param_space: Mapping[str, Any], n_trials: int, seed: int) -> ParamSource:
    """The metalab sweep of a Ray Tune ``param_space`` run with ``num_samples=n_trials``.

    Random domains become the law with Ray's values and probabilities (``randint(1, 10)``
    is ``randint(1, 9)``; ``qrandint(0, 10, 5)`` is ``randint(0, 10, step=5)``;
    ``quniform`` a choice of the multiples of ``q`` whose end points weigh half), and
    ``tune.grid_search`` lists and constants become a grid; nested dicts give dotted
    keys (``{"model": {"lr": ...}}`` is ``"model.lr"``). With both, the sweep is
    ``random(space, n_trials, seed) * grid(...)``: ``n_trials`` rounds of the grid, as
    Ray's ``num_samples`` repeats it, each round with one draw of the random values
    shared by its grid points (Ray draws afresh for each point).

    >>> from ray import tune
    >>> from_tune({"lr": tune.loguniform(1e-4, 1e-1), "n": tune.randint(1, 10)}, 8, seed=0)
    random({'lr': loguniform(0.0001, 0.1), 'n': randint(1, 9)}, n_trials=8, seed=0)
    """
    sample = _sample("from_tune")
    raw: object = param_space  # checked at run time for untyped callers
    if not isinstance(raw, Mapping) or not raw:
        msg = f"from_tune(param_space): expected a non-empty dict, got {describe(raw)}"
        raise ParamError(msg)
    laws: dict[str, Distribution] = {}
    axes: dict[str, list[Any]] = {}
    for key, value in _flat(raw, ""):
        if key in laws or key in axes:
            msg = f"from_tune(param_space): the key {key!r} is given twice (dotted and nested)"
            raise ParamError(msg)
        if isinstance(value, Mapping) and set(value) == {"grid_search"}:
            axes[key] = list(value["grid_search"])
        elif isinstance(value, sample.Domain):
            if isinstance(value, sample.Categorical) and value.is_grid():
                axes[key] = list(value.categories)
            else:
                laws[key] = _law(sample, key, value)
        else:
            axes[key] = [value]
    trials = check_int(n_trials, "from_tune(n_trials)")
    try:
        spread: ParamSource | None = grid(axes) if axes else None
    except ParamError as error:
        msg = f"from_tune(param_space): {error}"
        raise ParamError(msg) from None
    if not laws:
        if trials != 1:
            msg = (
                f"from_tune(n_trials={trials}): a param_space without random domains "
                "repeats the same configs; use n_trials=1, and cross the sweep with "
                "metalab.replicates(n, seed=...) to repeat it with distinct seeds"
            )
            raise ParamError(msg)
        assert spread is not None
        return spread
    draws = random(laws, trials, seed)
    return draws if spread is None else draws * spread


def _flat(space: Mapping[Any, Any], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in space.items():
        if not isinstance(key, str):
            msg = f"from_tune(param_space): keys must be strings, got {describe(key)}"
            raise ParamError(msg)
        name = prefix + key
        if isinstance(value, Mapping) and value and set(value) != {"grid_search"}:
            out += _flat(value, name + ".")
        else:
            out.append((name, value))
    return out


def _law(sample: Any, key: str, domain: Any) -> Distribution:
    where = f"from_tune(param_space): {key!r} ~ {type(domain).__name__}{domain.domain_str}"
    try:
        return _convert(sample, where, domain)
    except ParamError as error:
        if str(error).startswith(where):
            raise
        msg = f"{where}: {error}"
        raise ParamError(msg) from None


def _convert(sample: Any, where: str, domain: Any) -> Distribution:  # noqa: C901, PLR0911
    sampler = domain.get_sampler()
    quantized = isinstance(sampler, sample.Quantized)
    inner = sampler.get_sampler() if quantized else sampler
    if isinstance(domain, sample.Categorical):
        return choice(list(domain.categories))
    if isinstance(domain, sample.Integer):
        lo, hi = domain.lower, domain.upper
        log = isinstance(inner, sample.LogUniform)
        if quantized:
            q = sampler.q
            li, ui = int(_grid_index(lo, q, math.ceil)), int(_grid_index(hi, q, math.floor))
            if ui < li:
                msg = f"{where}: no multiple of q={q} lies between the bounds"
                raise ParamError(msg)
            if q == 1:  # Ray's quantized integers exclude upper only when q is 1
                return loguniform_int(li, ui - 1) if log else randint(li, ui - 1)
            return (loguniform_int if log else randint)(li * q, ui * q, step=q)
        return loguniform_int(lo, hi - 1) if log else randint(lo, hi - 1)
    if isinstance(domain, sample.Float):
        if isinstance(inner, sample.Normal):
            if quantized:
                if not _float_multiples_are_exact(float(sampler.q)):
                    msg = f"{where}: {_QRANDN_ROUNDING}"
                    raise ParamError(msg)
                return normal(inner.mean, inner.sd, step=sampler.q)
            return normal(inner.mean, inner.sd)
        log = isinstance(inner, sample.LogUniform)
        if quantized:
            return _rounded(where, domain.lower, domain.upper, sampler.q, log=log)
        return (
            loguniform(domain.lower, domain.upper) if log else uniform(domain.lower, domain.upper)
        )
    msg = f"{where}: a function of the config (sample_from) or a custom domain has no metalab law"
    raise ParamError(msg)


def _grid_index(bound: float, q: float, inwards: Callable[[float], int]) -> float:
    """A bound's index on the multiples of ``q``, rounded inwards unless it is (close to) one.

    This is how Ray snaps the bounds of a quantized domain, closeness included, so the
    index range is the one Ray samples from.
    """
    if not math.isfinite(bound):
        return bound
    scaled = bound / q
    nearest = round(scaled)
    return nearest if math.isclose(scaled, nearest) else inwards(scaled)


def _rounded(where: str, lower: float, upper: float, q: float, *, log: bool) -> Choice:
    """Ray's quantized float: a draw over ``[li*q, ui*q)`` rounded to the nearest ``k*q``.

    Multiple ``k`` is drawn when the draw's ``x / q`` falls within half a step of it
    (and within ``[li, ui]``): its weight is that interval's length, on a log scale for
    ``qloguniform``. The values are Ray's own floats, ``float(k) * q``.
    """
    li = int(_grid_index(lower, q, math.ceil))
    ui = int(_grid_index(upper, q, math.floor))
    if ui < li:
        msg = f"{where}: no multiple of q={q} lies between the bounds"
        raise ParamError(msg)
    if ui - li + 1 > MAX_LISTED:
        msg = (
            f"{where}: its {ui - li + 1} multiples of q, end points half as likely, are a "
            f"weighted choice, and more than {MAX_LISTED} are not listed"
        )
        raise ParamError(msg)
    if log and li <= 0:
        msg = f"{where}: a log-uniform domain needs a positive lower bound"
        raise ParamError(msg)
    values = [float(k) * q for k in range(li, ui + 1)]
    if li == ui:
        return choice(values)
    ends = [(max(k - 0.5, li), min(k + 0.5, ui)) for k in range(li, ui + 1)]
    if log:
        with decimal.localcontext(prec=40):
            # Correctly rounded logs, so the weights are the same on every platform.
            weights = [float(decimal.Decimal(b).ln() - decimal.Decimal(a).ln()) for a, b in ends]
    else:
        weights = [round(2 * (b - a)) for a, b in ends]  # 1, 2, ..., 2, 1
    return choice(values, weights=weights)
