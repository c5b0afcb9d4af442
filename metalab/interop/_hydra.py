"""Hydra overrides: `from_hydra` reads basic-sweeper overrides as a grid, `to_hydra` writes them.

Overrides are parsed with hydra-core's own parser, and every value is what a Hydra job
receives: the basic sweeper hands each job the override ``key=<value as text>``, and
the job parses that text again, so `from_hydra` does the same.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from metalab._core.values import describe
from metalab.errors import MissingExtraError, ParamError, UnsupportedOperationError
from metalab.interop._grids import grid_axes
from metalab.params import GridSource, ParamSource, ProductSource, grid

if TYPE_CHECKING:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Override

__all__ = ["from_hydra", "hydra_override", "to_hydra"]

_INTEGER: Final = re.compile(r"[+-]?[0-9]+")


@functools.cache
def _parser() -> OverridesParser:
    try:
        from hydra.core.override_parser.overrides_parser import OverridesParser
    except ImportError:
        msg = (
            "from_hydra and to_hydra parse overrides with hydra-core, which is not "
            "installed: pip install '.[hydra]' in a metalab checkout"
        )
        raise MissingExtraError(msg) from None
    return OverridesParser.create()


def _parse(line: str) -> Override:
    from hydra.errors import HydraException

    try:
        return _parser().parse_override(line)
    except HydraException as error:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        msg = f"from_hydra: {line!r} is not a Hydra override: {detail}"
        raise ParamError(msg) from None


def _element(key: str, text: str) -> Any:
    """The value a job gets from the override ``key=text``: Hydra's parse of it."""
    return _parse(f"{key}={text}").value()


def _axis(override: Override) -> Sequence[Any] | range:
    from hydra.core.override_parser.types import ChoiceSweep, RangeSweep

    line = override.input_line
    key = override.key_or_group
    if not override.is_sweep_override():
        return [_element(key, override.get_value_element_as_str())]
    sweep = override.value()
    if override.is_interval_sweep():
        msg = (
            f"from_hydra: {line!r}: interval() is a range for optimizing sweepers, not a list "
            "of values (Hydra's basic sweeper refuses it too); use metalab's uniform() in a "
            "random source"
        )
        raise ParamError(msg)
    if override.value_type is not None and override.value_type.name == "GLOB_CHOICE_SWEEP":
        msg = (
            f"from_hydra: {line!r}: glob() picks options from a config directory, which a "
            "sweep definition does not see; list the options"
        )
        raise ParamError(msg)
    if isinstance(sweep, ChoiceSweep | RangeSweep) and sweep.shuffle:
        msg = (
            f"from_hydra: {line!r}: shuffle() orders the values differently each run; "
            "metalab shuffles replayably with source.shuffled(seed)"
        )
        raise ParamError(msg)
    if isinstance(sweep, RangeSweep):
        values = sweep.range()
        if isinstance(values, range):
            return values  # ints, as the job parses each one: kept lazy
    values_text = list(override.sweep_string_iterator())
    if not values_text:
        msg = f"from_hydra: {line!r}: the sweep has no values"
        raise ParamError(msg)
    return [_element(key, text) for text in values_text]


def from_hydra(overrides: Iterable[str]) -> ParamSource:
    """The grid of Hydra basic-sweeper overrides (``lr=0.1,0.01``, ``seed=range(0,5)``).

    Each override is parsed with Hydra's own parser: ``a,b``, ``choice(a,b)``,
    ``range(start,stop[,step])`` and ``sort(...)`` sweep; a plain ``key=value`` is one
    value. The cases are those Hydra's basic sweeper launches, in its order: the product
    of the overrides in the order given (the last varying fastest; a key given twice
    keeps its first place and its last values), each value as the job parses it. A
    prefix ``+``/``++`` (add a key the config lacks) is not part of the sweep: the key
    is the name (see `to_hydra`'s ``add``). Dotted keys (``model.lr``) stay dotted.

    Raises:
        ParamError: An override does not parse, deletes a key (``~key``), configures
            Hydra itself (``hydra.*``), names a package (``key@pkg``), or sweeps what a
            fixed grid cannot hold: ``interval()``, ``glob()``, ``shuffle()``.
        MissingExtraError: hydra-core is not installed.

    >>> sweep = from_hydra(["lr=0.1,0.01", "seed=range(0,2)"])
    >>> [(case.params["lr"], case.params["seed"]) for case in sweep]
    [(0.1, 0), (0.1, 1), (0.01, 0), (0.01, 1)]
    """
    raw: object = overrides
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        msg = f"from_hydra takes a list of override strings, got {describe(raw)}"
        raise ParamError(msg)
    axes: dict[str, Sequence[Any] | range] = {}
    for line in raw:
        if not isinstance(line, str):
            msg = f"from_hydra: an override must be a str, got {describe(line)}"
            raise ParamError(msg)
        override = _parse(line)
        if override.is_delete():
            msg = f"from_hydra: {line!r} deletes a key, which is no value to sweep"
            raise ParamError(msg)
        if override.is_hydra_override():
            msg = f"from_hydra: {line!r} configures Hydra itself, not the sweep"
            raise ParamError(msg)
        if override.package is not None:
            msg = f"from_hydra: {line!r} moves a config group to a package; give it without @"
            raise ParamError(msg)
        axes[override.key_or_group] = _axis(override)
    if not axes:
        msg = "from_hydra needs at least one override"
        raise ParamError(msg)
    keys = list(axes)
    if keys == sorted(keys):
        whole: ParamSource = grid(axes)
        return whole
    # Hydra crosses the overrides in the order given; metalab's grid sorts its keys, so
    # a product of one-axis grids keeps Hydra's order.
    parts: list[ParamSource] = [grid({key: axes[key]}) for key in keys]
    return functools.reduce(operator.mul, parts)


def hydra_override(key: str, value: Any, *, prefix: str = "") -> str:
    """The override ``key=value`` with ``value`` written so that Hydra parses it back exactly.

    Strings are quoted (so ``"1"``, ``"true"`` and ``"a,b"`` stay strings), floats are
    written with their shortest exact repr, tuples as lists and mappings as dicts.

    >>> hydra_override("opt", "adam"), hydra_override("lr", 1e-05), hydra_override("x", None)
    ("opt='adam'", 'lr=1e-05', 'x=null')
    """
    return f"{prefix}{key}={_text(value)}"


def _text(value: Any) -> str:  # noqa: PLR0911 - one spelling per kind of value
    from hydra.core.override_parser.types import Quote, QuotedString

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text if ("." in text or "e" in text) else f"{text}.0"
    if isinstance(value, str):
        return QuotedString(text=value, quote=Quote.single).with_quotes()
    if isinstance(value, tuple | list):
        return "[" + ",".join(_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{_key_text(k)}:{_text(v)}" for k, v in value.items()) + "}"
    msg = f"to_hydra: cannot write {describe(value)} as a Hydra value"
    raise UnsupportedOperationError(msg)


def _key_text(key: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and key not in {"true", "false", "null"}:
        return key
    msg = f"to_hydra: the mapping key {key!r} cannot be written in a Hydra override"
    raise UnsupportedOperationError(msg)


def _axis_text(axis: Sequence[Any] | range) -> str:
    if isinstance(axis, range):
        return f"range({axis.start},{axis.stop},{axis.step})"
    texts = [_text(v) for v in axis]
    return texts[0] if len(texts) == 1 else ",".join(texts)


def to_hydra(source: GridSource | ProductSource, *, add: Iterable[str] = ()) -> list[str]:
    """Basic-sweeper overrides for a grid: ``hydra -m`` launches the grid's cases, in order.

    One override per axis, in the order the grid runs them (a grid's keys sorted, a
    product of grids part by part), so Hydra's product runs the cases in metalab's
    order; a ``range`` axis is written as ``range(...)``. The keys in
    ``add`` get Hydra's ``+`` prefix, for keys the job's config does not have. Each
    override is checked by parsing it back with Hydra's parser: `from_hydra` of the
    result is the same grid.

    Raises:
        UnsupportedOperationError: The source is not a grid, or a key or value has no
            Hydra spelling (a mapping key that is not an identifier, say).

    >>> to_hydra(grid(lr=[0.1, 0.01], opt=["adam"], seed=range(3)))
    ['lr=0.1,0.01', "opt='adam'", 'seed=range(0,3,1)']
    """
    axes = grid_axes(source)
    if axes is None:
        msg = (
            f"to_hydra writes grids and products of grids, got {type(source).__name__}: "
            "Hydra's basic sweeper runs one product of value lists (launch other sweeps "
            "with hydra/sweeper=metalab)"
        )
        raise UnsupportedOperationError(msg)
    added = set(add)
    unknown = sorted(added - set(source.keys))
    if unknown:
        msg = f"to_hydra(add=...): {unknown[0]!r} is not a key of the grid"
        raise UnsupportedOperationError(msg)
    out = []
    for key, axis in axes:
        line = f"{'+' if key in added else ''}{key}={_axis_text(axis)}"
        try:
            parsed = _parser().parse_override(line)
        except Exception as error:  # noqa: BLE001 - Hydra's parse errors are of several types
            msg = f"to_hydra: {key!r} cannot be written as a Hydra override ({error})"
            raise UnsupportedOperationError(msg) from None
        if parsed.key_or_group != key or parsed.package is not None:
            msg = f"to_hydra: {key!r} is not a Hydra key (it reads as {parsed.key_or_group!r})"
            raise UnsupportedOperationError(msg)
        out.append(line)
    return out
