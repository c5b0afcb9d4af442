"""W&B sweep configurations: `from_wandb` reads one as a metalab sweep, `to_wandb` writes one.

A W&B sweep config names a search ``method`` and a ``parameters`` tree. The two methods
whose cases are fixed in advance translate: ``grid`` becomes a metalab grid with the
same cases in the same order, ``random`` a random source over the same laws (drawn by
metalab's replayable algorithm, so from a seed). Everything else is refused with the
reason: ``bayes`` chooses each run from the results of the earlier ones, and a law
metalab cannot draw exactly (``beta``, the quantized log-uniforms) has no equivalent.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Final

from metalab._core.values import describe, show
from metalab.errors import MissingExtraError, ParamError, UnsupportedOperationError
from metalab.interop._grids import grid_axes
from metalab.params import (
    Choice,
    ConditionalGridSource,
    ConditionalRandomSource,
    Distribution,
    LogNormal,
    LogUniform,
    Normal,
    ParamSource,
    RandInt,
    RandomSource,
    Uniform,
    choice,
    grid,
    lognormal,
    loguniform,
    normal,
    randint,
    random,
    uniform,
)

__all__ = ["from_wandb", "to_wandb"]

_TOP_LEVEL: Final = frozenset(
    {
        "command",
        "description",
        "early_terminate",
        "entity",
        "method",
        "metric",
        "name",
        "parameters",
        "program",
        "project",
        "run_cap",
    }
)
"""The top-level keys of a W&B sweep config; only method, parameters and run_cap shape cases."""

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
"""The parameter names a W&B sweep config accepts."""

_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "constant": frozenset({"value"}),
    "categorical": frozenset({"values"}),
    "categorical_w_probabilities": frozenset({"values", "probabilities"}),
    "int_uniform": frozenset({"min", "max"}),
    "uniform": frozenset({"min", "max"}),
    "q_uniform": frozenset({"min", "max", "q"}),
    "log_uniform": frozenset({"min", "max"}),
    "log_uniform_values": frozenset({"min", "max"}),
    "inv_log_uniform": frozenset({"min", "max"}),
    "normal": frozenset({"mu", "sigma"}),
    "q_normal": frozenset({"mu", "sigma", "q"}),
    "log_normal": frozenset({"mu", "sigma"}),
    "q_log_normal": frozenset({"mu", "sigma", "q"}),
}
"""The keys each supported W&B distribution takes (besides ``distribution``)."""

_REFUSED: Final[Mapping[str, str]] = {
    "beta": "metalab has no beta law",
    "q_beta": "metalab has no beta law",
    "q_log_uniform": (
        "no metalab law rounds a log-uniform draw to the nearest multiple of q "
        "(loguniform(low, high, step=q) rounds down to the grid low + k * q)"
    ),
    "q_log_uniform_values": (
        "no metalab law rounds a log-uniform draw to the nearest multiple of q "
        "(loguniform(low, high, step=q) rounds down to the grid low + k * q)"
    ),
    "inv_log_uniform_values": (
        "its bounds are read differently across W&B versions; write the law as "
        "log_uniform_values over the range of the values, which is the same law"
    ),
}
"""W&B distributions metalab cannot draw exactly, with the reason given to the user."""

_GRID_KINDS: Final = frozenset({"constant", "categorical", "int_uniform", "q_uniform"})
"""The parameters W&B's own grid search takes (it refuses the others, and so do we)."""

_MAX_Q_POINTS: Final = 100_000
"""The most multiples of q a ``q_uniform`` law may span (it becomes a weighted choice)."""

_PROBABILITY_TOLERANCE: Final = 1.5e-8
"""How far from 1 W&B's probabilities may sum (its categorical draw refuses beyond this)."""


def _fail(where: str, problem: str) -> ParamError:
    return ParamError(f"from_wandb: {where}: {problem}")


def _load(config: object) -> Mapping[str, Any]:
    if isinstance(config, Mapping):
        return config
    if isinstance(config, str | os.PathLike):
        try:
            import yaml
        except ImportError:
            msg = (
                "from_wandb(path) reads the YAML file with PyYAML, which is not installed: "
                "pip install '.[wandb]' in a metalab checkout"
            )
            raise MissingExtraError(msg) from None
        path = os.fspath(config)
        try:
            with open(path, encoding="utf-8") as file:  # noqa: PTH123 - str or PathLike
                data = yaml.safe_load(file)
        except OSError as error:
            msg = f"from_wandb: cannot read the sweep config {path!r}: {error.strerror}"
            raise ParamError(msg) from None
        except yaml.YAMLError as error:
            msg = f"from_wandb: {path!r} is not valid YAML: {error}"
            raise ParamError(msg) from None
        if not isinstance(data, Mapping):
            msg = f"from_wandb: {path!r} must hold a mapping (a sweep config), got {describe(data)}"
            raise ParamError(msg)
        return data
    msg = f"from_wandb: config must be a dict or the path of a YAML file, got {describe(config)}"
    raise ParamError(msg)


def _number(where: str, key: str, value: object) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = ""
        if isinstance(value, str):
            hint = " (PyYAML reads a number such as 1e-5 as text: write 1.0e-5)"
        raise _fail(where, f"{key} must be a number, got {describe(value)}{hint}")
    if not math.isfinite(value):
        raise _fail(where, f"{key} must be finite, got {value!r}")
    return value


def _kind(where: str, spec: Mapping[str, Any]) -> str:
    """The W&B distribution of a parameter: given, or inferred as W&B infers it."""
    given = spec.get("distribution")
    if given is not None:
        if not isinstance(given, str):
            raise _fail(where, f"distribution must be a name, got {describe(given)}")
        if given in _REFUSED:
            raise _fail(where, f"distribution {given!r} cannot be converted: {_REFUSED[given]}")
        if given not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise _fail(where, f"unknown distribution {given!r} (metalab converts {known})")
        return given
    if "value" in spec:
        return "constant"
    if "probabilities" in spec:
        return "categorical_w_probabilities"
    if "values" in spec:
        return "categorical"
    if "min" in spec or "max" in spec:
        ints = all(
            isinstance(spec.get(k), int) and not isinstance(spec.get(k), bool)
            for k in ("min", "max")
        )
        return "int_uniform" if ints else "uniform"
    raise _fail(where, "a parameter needs value, values, min/max, or a distribution")


def _flatten(parameters: object, prefix: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """Every leaf parameter with its dotted name; nested ``parameters`` become dotted keys."""
    where = f"parameters of {prefix[:-1]!r}" if prefix else "parameters"
    if not isinstance(parameters, Mapping) or not parameters:
        raise _fail(
            where, f"expected a non-empty mapping of parameters, got {describe(parameters)}"
        )
    out: list[tuple[str, Mapping[str, Any]]] = []
    for name, spec in parameters.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _fail(where, f"{describe(name)} is not a W&B parameter name")
        full = prefix + name
        if not isinstance(spec, Mapping):
            raise _fail(
                repr(full), f"expected a mapping such as {{values: [...]}}, got {describe(spec)}"
            )
        if "parameters" in spec:
            extra = sorted(set(spec) - {"parameters"})
            if extra:
                raise _fail(repr(full), f"nested parameters take no other keys, got {extra}")
            out.extend(_flatten(spec["parameters"], full + "."))
        else:
            out.append((full, spec))
    return out


def _check_fields(where: str, kind: str, spec: Mapping[str, Any]) -> None:
    allowed = _FIELDS[kind]
    unknown = sorted(str(k) for k in spec if k != "distribution" and k not in allowed)
    if unknown:
        names = ", ".join(sorted(allowed))
        raise _fail(where, f"unknown key {unknown[0]!r} for distribution {kind} (it takes {names})")
    if kind in {"constant", "categorical", "categorical_w_probabilities"}:
        return
    needed = ("mu", "sigma") if "normal" in kind else ("min", "max")
    if kind in {"int_uniform", "uniform", "q_uniform"} or "log_uniform" in kind:
        missing = [k for k in needed if k not in spec]
        if missing:
            raise _fail(where, f"distribution {kind} needs {' and '.join(missing)}")


def _values(where: str, spec: Mapping[str, Any]) -> list[Any]:
    values = spec["values"]
    if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
        raise _fail(where, f"values must be a non-empty list, got {describe(values)}")
    return list(values)


def _q(where: str, spec: Mapping[str, Any], *, integer_ok: bool) -> int | float:
    q = _number(where, "q", spec.get("q", 1.0 if not integer_ok else 1))
    if not q > 0:
        raise _fail(where, f"q must be positive, got {q!r}")
    if not integer_ok and isinstance(q, int):
        raise _fail(
            where,
            f"q is the int {q}: W&B then returns ints, while metalab's stepped normal laws "
            f"draw floats; give q as a float (q: {float(q)!r}) to accept float values",
        )
    return q


def _q_uniform(where: str, low: float, high: float, q: float) -> Choice:
    """W&B's ``round(uniform(min, max) / q) * q`` as the exact weighted choice it is.

    Multiple ``k * q`` is drawn when the uniform draw falls in ``[(k - 1/2) q, (k + 1/2) q)``,
    so its weight is the length of that cell inside ``[min, max]``: exact fractions.
    """
    lo, hi, step = Fraction(low), Fraction(high), Fraction(q)
    if not lo < hi:
        raise _fail(where, f"q_uniform needs min < max, got min={low!r}, max={high!r}")
    first, last = round(lo / step), round(hi / step)
    if last - first + 1 > _MAX_Q_POINTS:
        raise _fail(where, f"q_uniform spans more than {_MAX_Q_POINTS:_} multiples of q")
    options: list[int | float] = []
    weights: list[float] = []
    for k in range(first, last + 1):
        cell_lo, cell_hi = (
            max(lo, (k - Fraction(1, 2)) * step),
            min(hi, (k + Fraction(1, 2)) * step),
        )
        if cell_hi > cell_lo:
            options.append(k * q if isinstance(q, int) else float(k * step))
            weights.append(float((cell_hi - cell_lo) / (hi - lo)))
    return choice(options, weights=weights)


def _weighted(where: str, spec: Mapping[str, Any]) -> Choice:
    values = _values(where, spec)
    probabilities = spec["probabilities"]
    if isinstance(probabilities, str | bytes) or not isinstance(probabilities, Sequence):
        raise _fail(where, f"probabilities must be a list, got {describe(probabilities)}")
    weights = [_number(where, "probabilities", p) for p in probabilities]
    if len(weights) != len(values):
        raise _fail(where, f"{len(weights)} probabilities for {len(values)} values")
    if abs(math.fsum(weights) - 1) > _PROBABILITY_TOLERANCE:
        raise _fail(where, f"probabilities must sum to 1, got {show(math.fsum(weights))}")
    return choice(values, weights=weights)


def _gaussian(where: str, kind: str, spec: Mapping[str, Any]) -> Normal | LogNormal:
    mu = _number(where, "mu", spec.get("mu", 0.0))
    sigma = _number(where, "sigma", spec.get("sigma", 1.0))
    step = _q(where, spec, integer_ok=False) if kind.startswith("q_") else None
    law = lognormal if "log" in kind else normal
    return law(mu, sigma, step=step)


def _distribution(where: str, kind: str, spec: Mapping[str, Any]) -> Distribution:
    """The metalab law of one W&B parameter of a random sweep."""
    if kind == "constant":
        return choice([spec["value"]])
    if kind == "categorical":
        return choice(_values(where, spec))
    if kind == "categorical_w_probabilities":
        return _weighted(where, spec)
    if kind in {"normal", "q_normal", "log_normal", "q_log_normal"}:
        return _gaussian(where, kind, spec)
    return _bounded(where, kind, spec)


def _bounded(where: str, kind: str, spec: Mapping[str, Any]) -> Distribution:
    """The laws between ``min`` and ``max``."""
    low = _number(where, "min", spec["min"])
    high = _number(where, "max", spec["max"])
    if kind == "int_uniform":
        if not (isinstance(low, int) and isinstance(high, int)):
            raise _fail(where, f"int_uniform needs int bounds, got min={low!r}, max={high!r}")
        return randint(low, high)
    if kind == "uniform":
        return uniform(low, high)
    if kind == "q_uniform":
        return _q_uniform(where, low, high, _q(where, spec, integer_ok=True))
    if kind == "log_uniform_values":
        return loguniform(low, high)
    # log_uniform and inv_log_uniform take the logarithms of the bounds: exp(U(min, max))
    # and exp(-U(min, max)), both log-uniform. The exponentials are correctly rounded.
    import decimal

    with decimal.localcontext(prec=40):
        if kind == "log_uniform":
            bounds = (decimal.Decimal(low).exp(), decimal.Decimal(high).exp())
        else:
            bounds = ((-decimal.Decimal(high)).exp(), (-decimal.Decimal(low)).exp())
    return loguniform(float(bounds[0]), float(bounds[1]))


def _grid_axis(where: str, kind: str, spec: Mapping[str, Any]) -> Sequence[Any] | range:
    """The values of one W&B parameter of a grid sweep, in W&B's order."""
    if kind not in _GRID_KINDS:
        raise _fail(
            where,
            f"a grid takes value, values, int_uniform and q_uniform parameters (as W&B's grid "
            f"search does), got {kind}; use method: random",
        )
    if kind == "constant":
        return [spec["value"]]
    if kind == "categorical":
        return _values(where, spec)
    low = _number(where, "min", spec["min"])
    high = _number(where, "max", spec["max"])
    if kind == "int_uniform":
        if not (isinstance(low, int) and isinstance(high, int)):
            raise _fail(where, f"int_uniform needs int bounds, got min={low!r}, max={high!r}")
        if low > high:
            raise _fail(where, f"int_uniform needs min <= max, got min={low}, max={high}")
        return range(low, high + 1)
    import numpy as np

    # W&B's grid lists the q_uniform points with numpy.arange(min, max, q): from min,
    # below max. The same call gives the same floats.
    points: list[Any] = np.arange(low, high, _q(where, spec, integer_ok=True)).tolist()
    if not points:
        raise _fail(where, f"q_uniform has no grid point in [min, max) = [{low!r}, {high!r})")
    return points


def _count(what: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        msg = f"from_wandb: {what} must be a non-negative int, got {describe(value)}"
        raise ParamError(msg)
    return value


def from_wandb(
    config: Mapping[str, Any] | str | os.PathLike[str],
    n_trials: int | None = None,
    seed: int | None = None,
) -> ParamSource:
    """The metalab sweep of a W&B sweep config (a dict, or the path of its YAML file).

    ``method: grid`` gives a grid with W&B's cases in W&B's order (parameters sorted by
    name, the last varying fastest; ``int_uniform`` as the range ``min..max``,
    ``q_uniform`` as ``numpy.arange(min, max, q)``), cut to ``run_cap`` cases when the
    config sets one. ``method: random`` gives ``n_trials`` (default: ``run_cap``)
    replayable draws from ``seed``, over the same laws: ``value`` and ``values`` (with
    ``probabilities``) are choices, ``int_uniform`` is ``randint`` (both ends included),
    ``uniform``, ``log_uniform_values``, ``log_uniform`` and ``inv_log_uniform`` (whose
    bounds are logarithms), ``normal``, ``log_normal``, and their ``q_`` forms, which
    round to the nearest multiple of ``q`` (``q_uniform`` as the exact weighted choice
    of those multiples). Nested ``parameters`` become dotted keys (``case.nested()``
    gives the nested config back). The keys that do not shape cases (``program``,
    ``metric``, ``early_terminate``, ...) are accepted and ignored.

    Raises:
        ParamError: The config is not a W&B sweep config, or it asks for what metalab
            cannot reproduce exactly: ``method: bayes``, ``beta`` and the quantized
            log-uniform laws, a ``q_normal`` with an int ``q`` (W&B then gives ints).
        MissingExtraError: ``config`` is a path and PyYAML is not installed.

    >>> sweep = from_wandb({"method": "grid", "parameters": {
    ...     "lr": {"values": [0.1, 0.01]}, "model": {"parameters": {"depth": {"value": 4}}}}})
    >>> [case.nested() for case in sweep]
    [{'lr': 0.1, 'model': {'depth': 4}}, {'lr': 0.01, 'model': {'depth': 4}}]
    """
    data = _load(config)
    unknown = sorted(str(k) for k in data if k not in _TOP_LEVEL)
    if unknown:
        msg = f"from_wandb: unknown top-level key {unknown[0]!r} of a W&B sweep config"
        raise ParamError(msg)
    method = data.get("method")
    if method == "bayes":
        msg = (
            "from_wandb: method 'bayes' cannot be converted: it picks each run from the "
            "results of the earlier ones, and a metalab sweep is fixed before it runs; "
            "use method: random over the same parameters, or keep W&B's optimizer"
        )
        raise ParamError(msg)
    if method not in {"grid", "random"}:
        msg = f"from_wandb: method must be 'grid' or 'random', got {describe(method)}"
        raise ParamError(msg)
    run_cap = None if data.get("run_cap") is None else _count("run_cap", data["run_cap"])
    leaves = [
        (name, spec, _kind(repr(name), spec)) for name, spec in _flatten(data.get("parameters"))
    ]
    for name, spec, kind in leaves:
        _check_fields(repr(name), kind, spec)
    if method == "grid":
        if n_trials is not None or seed is not None:
            msg = (
                "from_wandb: n_trials and seed are for random sweeps; a grid has exactly its cases"
            )
            raise ParamError(msg)
        axes = {name: _grid_axis(repr(name), kind, spec) for name, spec, kind in leaves}
        swept: ParamSource = grid(axes)
        return swept if run_cap is None or run_cap >= swept.size else swept[:run_cap]
    count = run_cap if n_trials is None else _count("n_trials", n_trials)
    if count is None:
        msg = (
            "from_wandb: a random sweep needs n_trials (W&B draws until the sweep is "
            "stopped, or run_cap runs)"
        )
        raise ParamError(msg)
    if seed is None:
        msg = "from_wandb: a random sweep needs seed=...: metalab's draws are replayable from it"
        raise ParamError(msg)
    space = {name: _distribution(repr(name), kind, spec) for name, spec, kind in leaves}
    return random(space, count, seed)


# -- to W&B -------------------------------------------------------------------------------


def _plain(value: object) -> Any:
    """A parameter value as YAML and JSON write it: tuples as lists, mappings as dicts."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _law(key: str, dist: Distribution) -> dict[str, Any]:  # noqa: PLR0911
    """The W&B parameter of one metalab law, or `UnsupportedOperationError` with the reason."""
    if isinstance(dist, Uniform) and dist.step is None:
        return {"distribution": "uniform", "min": dist.low, "max": dist.high}
    if isinstance(dist, LogUniform) and dist.step is None:
        return {"distribution": "log_uniform_values", "min": dist.low, "max": dist.high}
    if isinstance(dist, RandInt) and dist.step is None:
        return {"distribution": "int_uniform", "min": dist.low, "max": dist.high}
    if isinstance(dist, Normal | LogNormal):
        name = "normal" if isinstance(dist, Normal) else "log_normal"
        out: dict[str, Any] = {"mu": dist.mu, "sigma": dist.sigma}
        if dist.step is None:
            return {"distribution": name, **out}
        # A float q: W&B returns ints for an int q, metalab's stepped laws floats.
        return {"distribution": f"q_{name}", **out, "q": float(dist.step)}
    if isinstance(dist, Choice):
        options = dist.options
        if isinstance(options, range) and len(options) > _MAX_Q_POINTS:
            msg = f"to_wandb: {key!r}: {dist!r} has too many options to list"
            raise UnsupportedOperationError(msg)
        values = [_plain(v) for v in options]
        if dist.weights is None:
            return {"values": values}
        total = sum(map(Fraction, dist.weights))
        probabilities = [float(Fraction(w) / total) for w in dist.weights]
        return {
            "distribution": "categorical_w_probabilities",
            "values": values,
            "probabilities": probabilities,
        }
    grids = "a metalab step grid starts at low, W&B's q_ laws round to multiples of q"
    reasons: dict[type, str] = {Uniform: grids, LogUniform: grids, RandInt: "int_uniform has no q"}
    reason = reasons.get(type(dist), "W&B has no such distribution")
    msg = f"to_wandb: {key!r}: {dist!r} has no W&B equivalent ({reason})"
    raise UnsupportedOperationError(msg)


def _nest(leaves: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """W&B's nested ``parameters`` for dotted keys."""
    out: dict[str, Any] = {}
    for key in sorted(leaves):
        *branches, leaf = key.split(".")
        node = out
        for branch in branches:
            node = node.setdefault(branch, {"parameters": {}})["parameters"]
        node[leaf] = leaves[key]
    return out


def _check_names(keys: Sequence[str]) -> None:
    for key in keys:
        if not all(_NAME.fullmatch(part) for part in key.split(".")):
            msg = f"to_wandb: {key!r} is not a W&B parameter name (letters, digits, _ and -)"
            raise UnsupportedOperationError(msg)


def to_wandb(source: ParamSource) -> dict[str, Any]:
    """A W&B sweep config (``method`` and ``parameters``) of a grid or a random source.

    A grid becomes ``method: grid`` with each axis as ``values`` (a range of step 1 as
    ``int_uniform``): W&B runs the same cases in the same order. A random source becomes
    ``method: random`` with ``run_cap: n_trials`` and each law as its W&B distribution;
    W&B then draws its own values from the same laws (its draws are not metalab's, and
    not replayable from the seed). Dotted keys become nested ``parameters``. Write the
    dict with ``yaml.safe_dump`` for ``wandb sweep``, or pass it to ``wandb.sweep``.

    Raises:
        UnsupportedOperationError: The source is neither a grid nor a random source, or
            holds a law W&B cannot draw (``loguniform_int``, a ``step`` on ``uniform``,
            ``loguniform`` or ``randint``), or a name W&B refuses.

    >>> to_wandb(grid({"model.depth": range(2, 5), "opt": ["adam", "sgd"]}))["parameters"]
    {'model': {'parameters': {'depth': {'distribution': 'int_uniform', 'min': 2, 'max': 4}}}, \
'opt': {'values': ['adam', 'sgd']}}
    """
    axes = grid_axes(source)
    if axes is not None:
        keys = [key for key, _ in axes]
        if keys != sorted(keys):
            msg = (
                f"to_wandb: this product runs its axes in the order {keys}, and W&B's grid "
                "runs them sorted by name; cross the grids in sorted order"
            )
            raise UnsupportedOperationError(msg)
        _check_names(source.keys)
        leaves: dict[str, dict[str, Any]] = {}
        for key, axis in axes:
            if isinstance(axis, range) and axis.step == 1:
                leaves[key] = {
                    "distribution": "int_uniform",
                    "min": axis.start,
                    "max": axis.stop - 1,
                }
            elif len(axis) > _MAX_Q_POINTS:
                msg = f"to_wandb: {key!r}: {show(axis)} has too many values to list"
                raise UnsupportedOperationError(msg)
            else:
                leaves[key] = {"values": [_plain(v) for v in axis]}
        return {"method": "grid", "parameters": _nest(leaves)}
    if isinstance(source, RandomSource):
        _check_names(source.keys)
        laws = {key: _law(key, dist) for key, dist in source.space.items()}
        return {"method": "random", "run_cap": source.n_trials, "parameters": _nest(laws)}
    name = type(source).__name__
    if isinstance(source, ConditionalRandomSource | ConditionalGridSource):
        msg = (
            f"to_wandb: {name} has conditional parameters, and a W&B sweep has none (a "
            "parameter of a W&B sweep is in every run); convert each branch as a sweep"
        )
        raise UnsupportedOperationError(msg)
    msg = (
        f"to_wandb writes grids (and products of grids) and random sources, got "
        f"{name}: W&B has no concatenation or slice of sweeps, nor a "
        "product of random ones (convert each part)"
    )
    raise UnsupportedOperationError(msg)
