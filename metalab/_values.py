"""Parameter values: what a parameter may hold, and how user input is normalized.

A parameter value is anything that survives a JSON manifest unchanged in meaning:
``None``, ``bool``, ``int``, finite ``float``, ``str``, and tuples and string-keyed
mappings of those. Lists become tuples and mappings become `FrozenParams`, so a frozen
source or case can never be changed behind its back; NumPy scalars and arrays become
Python builtins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self, TypeAlias, TypeVar

import numpy as np

from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

__all__ = [
    "FrozenDict",
    "FrozenParams",
    "ParamInput",
    "ParamValue",
    "column_array",
    "describe",
    "normalize_key",
    "normalize_value",
]

ParamValue: TypeAlias = (
    "bool | int | float | str | tuple[ParamValue, ...] | Mapping[str, ParamValue] | None"
)
"""What a parameter can hold: JSON scalars (finite floats only), tuples and str-keyed mappings.

Lists given by the user are stored as tuples and dicts as read-only mappings.
"""

ParamInput: TypeAlias = (
    "bool | int | float | str | Sequence[ParamInput] | Mapping[str, ParamInput]"
    " | np.integer[Any] | np.floating[Any] | np.bool_ | None"
)
"""What a parameter value may be given as: a `ParamValue`, lists and NumPy scalars included.

metalab stores it as a `ParamValue`: sequences become tuples, NumPy scalars Python ones.
"""


def _immutable(*_args: object, **_kwargs: object) -> NoReturn:
    msg = "parameters are immutable; build a new dict with dict(params) to change one"
    raise TypeError(msg)


K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A read-only ``dict``: equal to the plain dict, hashable, and still a ``dict``.

    It is a ``dict`` subclass so that ``json.dumps`` and ``dict(...)`` accept it, but
    every mutating method raises ``TypeError``.
    """

    __slots__ = ()

    __setitem__ = _immutable
    __delitem__ = _immutable
    __ior__ = _immutable
    clear = _immutable
    pop = _immutable
    popitem = _immutable
    setdefault = _immutable
    update = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        """Hash independently of insertion order, like equality."""
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[type[Self], tuple[dict[K, V]]]:
        """Pickle through a plain dict, since the mutating methods are disabled."""
        return (type(self), (dict(self),))

    def __repr__(self) -> str:
        """Show the plain dict."""
        return dict.__repr__(self)

    def __copy__(self) -> Self:
        """An immutable value is its own copy."""
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        """An immutable value is its own copy."""
        return self


class FrozenParams(FrozenDict[str, "ParamValue"]):
    """The read-only params of a case: a ``dict`` that refuses every change.

    >>> p = FrozenParams({"lr": 0.1})
    >>> p == {"lr": 0.1}
    True
    >>> p["lr"] = 1.0
    Traceback (most recent call last):
    ...
    TypeError: parameters are immutable; build a new dict with dict(params) to change one
    """

    __slots__ = ()


_SCALARS: Final = (str, int, float, type(None))


def describe(value: object, limit: int = 60) -> str:
    """Name a value's type and show it, shortened, for an error message.

    >>> describe("abc")
    "str 'abc'"
    """
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


def merge_named(
    factory: str, spec: Mapping[Any, Any] | None, values: Mapping[str, Any]
) -> dict[Any, Any]:
    """Merge a factory's positional mapping and its keyword arguments, refusing repeats.

    Used by ``grid`` and ``zip``, which take names that are not identifiers (such as
    ``"model.lr"``) in a mapping and the rest as keywords.

    >>> merge_named("grid", {"model.lr": [0.1]}, {"seed": [0]})
    {'model.lr': [0.1], 'seed': [0]}
    """
    merged: dict[Any, Any] = {}
    if spec is not None:
        raw: object = spec  # checked at run time for untyped callers
        if not isinstance(raw, Mapping):
            msg = f"{factory} takes a mapping of parameter values, got {describe(spec)}"
            raise ParamError(msg)
        merged.update(raw)
    for key, value in values.items():
        if key in merged:
            msg = f"{factory}: parameter {key!r} is given twice"
            raise ParamError(msg)
        merged[key] = value
    return merged


def normalize_key(key: object, where: str) -> str:
    """Check that a parameter name is a non-empty str."""
    if not isinstance(key, str):
        msg = f"{where}: parameter names must be str, got {describe(key)}"
        raise ParamError(msg)
    if not key:
        msg = f"{where}: parameter names must be non-empty"
        raise ParamError(msg)
    return check_text(key, f"{where}: parameter name")


def check_text(text: str, where: str) -> str:
    """Return ``text`` if UTF-8 can encode it (lone surrogates cannot), or raise `ParamError`."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            msg = (
                f"{where}: str {text!r} has a lone surrogate at position {error.start}, "
                "which is not Unicode text and cannot go into a manifest"
            )
            raise ParamError(msg) from None
    return text


def normalize_value(value: object, where: str) -> ParamValue:  # noqa: C901, PLR0911
    """Return the canonical, immutable form of one parameter value, or raise `ParamError`.

    ``where`` names the parameter for the message, e.g. ``"grid values for 'lr'"``.

    >>> normalize_value([1, 2.5, "a"], "x")
    (1, 2.5, 'a')
    >>> normalize_value(float("nan"), "grid values for 'lr'")
    Traceback (most recent call last):
    ...
    metalab.errors.ParamError: grid values for 'lr': NaN and infinite floats cannot ...
    """
    cls = type(value)
    if cls is int or cls is bool or value is None:
        return value  # type: ignore[return-value]
    if cls is str:
        return check_text(value, where)  # type: ignore[arg-type]
    if cls is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            msg = f"{where}: NaN and infinite floats cannot go into a manifest, got {value!r}"
            raise ParamError(msg)
        return value  # type: ignore[return-value]
    if isinstance(value, np.generic):
        return normalize_value(value.item(), where)
    if isinstance(value, np.ndarray):
        return tuple(normalize_value(v, where) for v in value.tolist())
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return normalize_value(float(value), where)
    if isinstance(value, str):
        return check_text(str(value), where)
    if isinstance(value, list | tuple):
        return tuple(normalize_value(v, where) for v in value)
    if isinstance(value, Mapping):
        return normalize_mapping(value, where)
    msg = (
        f"{where}: {describe(value)} cannot go into a JSON manifest; use None, bool, int, "
        "float, str, or lists and str-keyed dicts of those"
    )
    raise ParamError(msg)


def normalize_mapping(value: Mapping[Any, Any], where: str) -> FrozenParams:
    """Normalize a str-keyed mapping of parameter values into `FrozenParams`, keys sorted."""
    items = sorted((normalize_key(k, where), v) for k, v in value.items())
    return FrozenParams((k, normalize_value(v, f"{where}, key {k!r}")) for k, v in items)


def is_integer(value: object) -> bool:
    """Whether ``value`` is an int for metalab's purposes: bool and integral floats are not."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_finite_number(value: object, where: str) -> float | int:
    """Return a finite real number (bool excluded) as a Python scalar, or raise `ParamError`."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        msg = f"{where} must be a number, got {describe(value)}"
        raise ParamError(msg)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{where} must be finite, got {value!r}"
        raise ParamError(msg)
    return value  # type: ignore[return-value]


def check_int(value: object, where: str) -> int:
    """Return ``value`` as a Python int, or raise `ParamError` (bool and 2.0 are not ints)."""
    if not is_integer(value):
        msg = f"{where} must be an int, got {describe(value)}"
        raise ParamError(msg)
    return int(value)  # type: ignore[call-overload, no-any-return]


def sorted_items(
    mapping: Mapping[Any, Any], where: str, check: Callable[[str, Any], Any]
) -> Iterator[tuple[str, Any]]:
    """Yield ``(name, check(name, value))`` over a mapping, names validated and sorted."""
    keys = [normalize_key(k, where) for k in mapping]
    for k in sorted(keys):
        yield k, check(k, mapping[k])


def as_tuple_of_str(value: Iterable[object] | None, where: str) -> tuple[str, ...]:
    """Validate tags: an iterable (not a str) of str."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"{where} must be a list of str, got {describe(value)}"
        raise ParamError(msg)
    out = tuple(value)
    for tag in out:
        if not isinstance(tag, str):
            msg = f"{where} must be a list of str, got an item {describe(tag)}"
            raise ParamError(msg)
    return out  # type: ignore[return-value]


INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1


def column_array(values: Sequence[Any]) -> npt.NDArray[Any]:
    """A NumPy column for parameter values, with a dtype that keeps their meaning.

    All floats give ``float64``, all bools ``bool``, all ints within int64 ``int64``, all
    str a str array; anything else (mixed types, ``None`` for a missing parameter,
    tuples) an ``object`` array holding the values themselves.

    >>> column_array([1, 2]).dtype, column_array([1, 2.0]).dtype
    (dtype('int64'), dtype('O'))
    """
    kinds = {type(v) for v in values}
    if kinds == {float}:
        return np.array(values, dtype=np.float64)
    if kinds == {bool}:
        return np.array(values, dtype=np.bool_)
    if kinds == {int} and all(INT64_MIN <= v <= INT64_MAX for v in values):
        return np.array(values, dtype=np.int64)
    if kinds == {str}:
        return np.array(values, dtype=np.str_)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
