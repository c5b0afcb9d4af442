"""Parameter values: what a parameter may hold, and how user input is normalized.

A parameter value is anything that survives a JSON manifest unchanged in meaning:
``None``, ``bool``, ``int``, finite ``float``, ``str``, and tuples and string-keyed
mappings of those. Lists become tuples and mappings become `FrozenParams`, so a frozen
source or case can never be changed behind its back; NumPy scalars and arrays become
Python builtins.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import chain
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self, TypeAlias, TypeVar

import numpy as np

from metalab._core.intstr import int_to_str
from metalab.errors import ParamError

if TYPE_CHECKING:
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


def show(value: object) -> str:
    """``repr`` of a parameter value (or a range, list or dict of them), for ints of any size.

    The builtin ``repr`` of an int beyond Python's int-to-str limit raises ``ValueError``;
    this spells every int out with `int_to_str` and is ``repr`` otherwise.

    >>> show({"x": (1, 2.5, "a")}), show(range(0, 10, 2))
    ("{'x': (1, 2.5, 'a')}", 'range(0, 10, 2)')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return int_to_str(int.__int__(value))
    if isinstance(value, range):
        step = "" if value.step == 1 else f", {int_to_str(value.step)}"
        return f"range({int_to_str(value.start)}, {int_to_str(value.stop)}{step})"
    if isinstance(value, tuple):
        items = ", ".join(map(show, value))
        return f"({items},)" if len(value) == 1 else f"({items})"
    if isinstance(value, list):
        return "[" + ", ".join(map(show, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def describe(value: object, limit: int = 60) -> str:
    """Name a value's type and show it, shortened, for an error message.

    >>> describe("abc")
    "str 'abc'"
    """
    text = show(value)
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
    """Return a parameter name as an exact, non-empty ``str``, or raise `ParamError`.

    A ``str`` subclass (an ``enum.StrEnum`` member, say) becomes the plain ``str`` of its
    characters: a name is text, and its class's ``__repr__``, ``__hash__`` or ``__eq__``
    must not reach the params, the case ids or the code generated for a source.

    >>> import enum
    >>> class Opt(enum.StrEnum):
    ...     LR = "lr"
    >>> type(normalize_key(Opt.LR, "grid")) is str
    True
    """
    if not isinstance(key, str):
        msg = f"{where}: parameter names must be str, got {describe(key)}"
        raise ParamError(msg)
    name = key if type(key) is str else str.__str__(key)
    if not name:
        msg = f"{where}: parameter names must be non-empty"
        raise ParamError(msg)
    return check_text(name, f"{where}: parameter name")


def named_items(mapping: Mapping[Any, Any], where: str) -> list[tuple[str, Any]]:
    """The ``(name, value)`` pairs of a mapping, names normalized (`normalize_key`) and sorted.

    Two keys that are one name once normalized (a ``str`` subclass with its own hash
    next to the plain ``str``) are refused rather than one silently dropped.

    >>> named_items({"b": 1, "a": 2}, "grid")
    [('a', 2), ('b', 1)]
    """
    if type(mapping) is dict and set(map(type, mapping)) == {str}:
        names: dict[Any, Any] = mapping
        if "" not in names and all(map(str.isascii, names)):
            # Exact, non-empty ASCII str keys (the usual ones) are names as they are;
            # distinct keys, so sorting the items compares keys only.
            return sorted(names.items())
    items: dict[str, Any] = {}
    for key, value in mapping.items():
        name = normalize_key(key, where)
        if name in items:
            msg = f"{where}: parameter {name!r} is given twice"
            raise ParamError(msg)
        items[name] = value
    return sorted(items.items(), key=_first)


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def key_path_clashes(keys: Iterable[str]) -> list[tuple[str, str]]:
    """The pairs ``(leaf, dotted)`` where key ``leaf`` is also a branch of key ``dotted``.

    A dotted key names a field of a nested config (``"model.lr"`` is ``lr`` inside
    ``model``), so ``"model"`` cannot be a value of its own as well. Sorted, and at
    most one pair per leaf.

    >>> key_path_clashes(["model", "model.lr", "model.depth", "seed", "seed_"])
    [('model', 'model.depth')]
    """
    keyset = set(keys)
    if "." not in "".join(keyset):
        return []  # no dotted key, so no branch (one C scan, for the usual sweep)
    clashes: dict[str, str] = {}
    for key in sorted(keyset):
        end = key.find(".")
        while end != -1:
            branch = key[:end]
            if branch in keyset and branch not in clashes:
                clashes[branch] = key
            end = key.find(".", end + 1)
    return sorted(clashes.items())


def check_key_paths(keys: Iterable[str], where: str) -> None:
    """Raise `ParamError` if a key is also the branch of a dotted key (``"model"``, ``"model.lr"``).

    >>> check_key_paths(["model.lr", "model.depth"], "grid")
    >>> try:
    ...     check_key_paths(["model", "model.lr"], "grid")
    ... except ParamError as error:
    ...     print(str(error).split(";")[0])
    grid: parameter 'model' is also the branch of the dotted key 'model.lr'
    """
    clashes = key_path_clashes(keys)
    if clashes:
        leaf, dotted = clashes[0]
        msg = (
            f"{where}: parameter {leaf!r} is also the branch of the dotted key {dotted!r}; "
            f"a dotted key is a field of a nested config (case.nested()), so {leaf!r} cannot "
            "hold a value as well"
        )
        raise ParamError(msg)


def check_added_key_paths(
    old: Sequence[str], old_set: AbstractSet[str], new: Iterable[str], where: str
) -> None:
    """`check_key_paths` of ``old`` (sorted, already checked) and ``new`` together, cheaply.

    The work grows with the new keys only (a set lookup per branch of a new key, a
    binary search of ``old`` for keys below a new one), so that ``s = s * part`` in a
    loop stays linear.
    """
    added = [key for key in new if key not in old_set]
    check_key_paths(added, where)
    for key in added:
        end = key.find(".")
        while end != -1:
            if key[:end] in old_set:
                check_key_paths([key[:end], key], where)
            end = key.find(".", end + 1)
        below = key + "."
        j = bisect.bisect_left(old, below)
        if j < len(old) and old[j].startswith(below):
            check_key_paths([key, old[j]], where)


def nest_keys(params: Mapping[str, V]) -> dict[str, Any]:
    """The params as nested dicts: each dotted key becomes a path (``"a.b"`` -> ``{"a": {"b"}}``).

    Keys are taken in sorted order, so the nested dicts are too. The keys must have passed
    `check_key_paths` (every source's keys have).

    >>> nest_keys({"model.lr": 0.1, "model.depth": 4, "seed": 0})
    {'model': {'depth': 4, 'lr': 0.1}, 'seed': 0}
    """
    out: dict[str, Any] = {}
    for key in sorted(params):
        *branches, leaf = key.split(".")
        node = out
        for branch in branches:
            node = node.setdefault(branch, {})
        node[leaf] = params[key]
    return out


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
    Subclasses of the builtins (``IntEnum``, ``StrEnum``, ``np.str_``) become the exact
    builtin, so no user-defined method is ever called on a stored value.

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
        return _numpy_scalar(value, where)
    if isinstance(value, np.ndarray):
        return _numpy_array(value, where)
    # int.__int__ and friends copy the value into the exact builtin, bypassing any
    # __int__, __float__ or __str__ a subclass defines.
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return normalize_value(float.__float__(value), where)
    if isinstance(value, str):
        return check_text(str.__str__(value), where)
    if isinstance(value, list | tuple):
        return tuple(normalize_value(v, where) for v in value)
    if isinstance(value, Mapping):
        return normalize_mapping(value, where)
    raise _unsupported(value, where)


def _unsupported(value: object, where: str) -> ParamError:
    msg = (
        f"{where}: {describe(value)} cannot go into a JSON manifest; use None, bool, int, "
        "float, str, or lists and str-keyed dicts of those"
    )
    return ParamError(msg)


_FLOAT_KINDS: Final = (np.float16, np.float32, np.float64)
"""The NumPy floats every value of which is a Python float exactly."""


def _numpy_scalar(value: np.generic, where: str) -> ParamValue:
    """A NumPy scalar as the Python scalar it stands for, if one means the same."""
    # First: timedelta64 is an np.integer, and .item() would give an int of nanoseconds,
    # None for NaT, or a datetime: each changes what the value means, so none is taken.
    if isinstance(value, np.datetime64 | np.timedelta64):
        msg = (
            f"{where}: NumPy {type(value).__name__} values cannot go into a manifest, "
            f"got {value!r}; give the time as a str (e.g. an ISO 8601 date) or a number "
            "with its unit in the parameter's name"
        )
        raise ParamError(msg)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, _FLOAT_KINDS):
        return normalize_value(float(value), where)
    if isinstance(value, np.floating):
        # A long double (80 or 128 bits on some platforms) is kept only when a float64
        # holds it exactly; its .item() is itself, so it must not go round again.
        as_float = float(value)
        if math.isfinite(as_float) and np.longdouble(as_float) == value:
            return as_float
        msg = (
            f"{where}: {describe(value)} has no exact float64 value, which a manifest "
            "needs; round it with float() first"
        )
        raise ParamError(msg)
    if isinstance(value, np.str_):
        return check_text(str.__str__(value), where)
    # complex, bytes_, void (raw bytes or structured records): no JSON meaning.
    raise _unsupported(value, where)


_ARRAY_KINDS: Final = frozenset("biuUO")
"""Array kinds whose ``tolist()`` gives Python values that mean the same (bool, ints, str,
objects to normalize one by one); float arrays of at most 64 bits are added below."""


def _numpy_array(value: npt.NDArray[Any], where: str) -> ParamValue:
    """A NumPy array as nested tuples of its values (a 0-d array: its one value)."""
    if value.ndim == 0:
        return normalize_value(value[()], where)
    kind = value.dtype.kind
    if kind in _ARRAY_KINDS or (kind == "f" and value.dtype.itemsize <= 8):
        return tuple(normalize_value(v, where) for v in value.tolist())
    if kind == "f":  # long doubles: each element as a NumPy scalar, checked for exactness
        return tuple(normalize_value(v, where) for v in value)
    msg = (
        f"{where}: a NumPy array of dtype {value.dtype} cannot go into a manifest; "
        "use arrays of bools, ints, floats or str"
    )
    raise ParamError(msg)


def normalize_mapping(value: Mapping[Any, Any], where: str) -> FrozenParams:
    """Normalize a str-keyed mapping of parameter values into `FrozenParams`, keys sorted."""
    if type(value) is FrozenParams:
        return value  # metalab made it, normalized and sorted; it cannot change
    if type(value) is dict:
        atomic = atomic_items(value)
        if atomic is not None:
            return FrozenParams(atomic)
    items = named_items(value, where)
    return FrozenParams((k, normalize_value(v, f"{where}, key {k!r}")) for k, v in items)


def all_atomic(values: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every value is in normal form as it is (see `atomic_items`): a grid axis, say.

    >>> all_atomic([1, 2.5, "a", None, True]), all_atomic([1, [2]]), all_atomic([float("nan")])
    (True, False, False)
    """
    for item in values:
        cls = type(item)
        if cls is str:
            if not item.isascii():
                return False
        elif cls is float:
            if not math.isfinite(item):
                return False
        elif not (cls is int or cls is bool or item is None):
            return False
    return True


def atomic_dicts(values: list[Any]) -> tuple[FrozenParams, ...] | None:
    """Many dicts as `FrozenParams`, when all are in normal form with the same keys, or None.

    The same answer as `atomic_items` for each dict, for a list of them with one key
    order (the cases of a manifest, say), checked column by column in C loops rather
    than value by value; None sends the caller the long way, which also names any
    problem. The keys must be sorted already, as a manifest writes them.

    >>> atomic_dicts([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    ({'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'})
    >>> atomic_dicts([{"a": 1}, {"a": [2]}]), atomic_dicts([{"b": 1, "a": 2}])
    (None, None)
    """
    if not values or set(map(type, values)) != {dict}:
        return None
    shapes = set(map(tuple, values))
    if len(shapes) != 1:
        return None
    keys = shapes.pop()
    previous = ""
    for key in keys:
        if type(key) is not str or key <= previous or not key.isascii():
            return None
        previous = key
    # Every dict has these keys in this order, so its values lie at the same offsets
    # of one flat list, and a column is a slice of it.
    flat = list(chain.from_iterable(map(dict.values, values)))
    width = len(keys)
    for j in range(width):
        column = flat[j::width]
        kinds = set(map(type, column))
        if kinds == {str}:
            atomic = all(map(str.isascii, column))
        elif kinds == {float}:
            atomic = all(map(math.isfinite, column))
        else:  # ints, bools and None need no look; a mix of kinds the general check
            atomic = kinds <= _EXACT_SCALARS or (kinds <= _ATOMIC and all_atomic(column))
        if not atomic:
            return None
    return tuple(map(FrozenParams, values))


_ATOMIC: Final = frozenset({str, int, float, bool, type(None)})
_EXACT_SCALARS: Final = frozenset({int, bool, type(None)})


def atomic_items(
    value: dict[Any, Any],
) -> dict[str, ParamValue] | list[tuple[str, ParamValue]] | None:
    """The items of a plain dict already in normal form, sorted, or None for the long way.

    In normal form means what `normalize_mapping` would leave as it is: non-empty ASCII
    ``str`` keys and values of the exact types ``None``, ``bool``, ``int``, finite
    ``float`` and ASCII ``str``. Such a dict (a case read from JSON or written by hand,
    usually) needs no per-value call; anything else, errors included, goes through the
    general checks, which name the problem. The result equals the long way's exactly:
    the dict itself when its keys are in order already (a manifest writes them sorted),
    else its sorted items; `FrozenParams` takes either.

    >>> atomic_items({"b": 1.5, "a": "x"}), atomic_items({"a": [1]})
    ([('a', 'x'), ('b', 1.5)], None)
    """
    previous = ""
    ordered = True
    for key, item in value.items():
        if type(key) is not str or not key or not key.isascii():
            return None
        if ordered and key <= previous:
            ordered = False
        previous = key
        cls = type(item)
        if cls is str:
            if not item.isascii():
                return None
        elif cls is float:
            if not math.isfinite(item):
                return None
        elif not (cls is int or cls is bool or item is None):
            return None
    # Keys are distinct, so sorting the items compares keys only.
    return value if ordered else sorted(value.items())


def is_integer(value: object) -> bool:
    """Whether ``value`` is an int for metalab's purposes: bool and integral floats are not."""
    # timedelta64 is an np.integer to NumPy, but a duration is not an int.
    return isinstance(value, int | np.integer) and not isinstance(
        value, bool | np.bool_ | np.timedelta64
    )


def check_finite_number(value: object, where: str) -> float | int:
    """Return a finite real number (bool excluded) as a Python scalar, or raise `ParamError`."""
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        msg = f"{where} must be a number, got {describe(value)}"
        raise ParamError(msg)
    if isinstance(value, np.generic):
        value = _numpy_scalar(value, where)
    elif isinstance(value, int):
        value = int.__int__(value)
    else:
        value = float.__float__(value)
    if isinstance(value, float) and not math.isfinite(value):
        msg = f"{where} must be finite, got {value!r}"
        raise ParamError(msg)
    return value  # type: ignore[return-value]


def check_int(value: object, where: str) -> int:
    """Return ``value`` as a Python int, or raise `ParamError` (bool and 2.0 are not ints)."""
    if not is_integer(value):
        msg = f"{where} must be an int, got {describe(value)}"
        raise ParamError(msg)
    return int(value) if isinstance(value, np.integer) else int.__int__(value)  # type: ignore[arg-type]


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
    # Tags are text: a str subclass keeps no behaviour of its own in a case.
    return tuple(t if type(t) is str else str.__str__(t) for t in out)


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
    # A NumPy str array drops trailing NUL characters: such strs stay exact objects.
    if kinds == {str} and not any(v.endswith("\0") for v in values):
        return np.array(values, dtype=np.str_)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out
