"""Hypothesis strategies for parameter values, distributions and every kind of source.

The generated sources are small (a few dozen cases at most by default), so a property
can be checked on every case; they still reach the corners: ``range`` axes, NumPy
inputs, unicode names, and values that Python calls equal but metalab keeps apart
(``1``, ``1.0``, ``True``, ``"1"``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np
from hypothesis import strategies as st

from metalab._algebra import replicates
from metalab._algebra import zip as zip_
from metalab._core.values import (
    INT64_MAX,
    INT64_MIN,
    ParamInput,
    ParamValue,
    key_path_clashes,
)
from metalab._sources.distributions import (
    Distribution,
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.grid import AxisInput, GridSource
from metalab._sources.manual import ManualSource
from metalab._sources.random import (
    ALGORITHM,
    LEGACY_ALGORITHM,
    LEGACY_DISTRIBUTIONS,
    RandomSource,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from metalab._sources.base import ParamSource

__all__ = [
    "distributions",
    "grids",
    "manual_sources",
    "param_names",
    "param_values",
    "random_sources",
    "sources",
]

Draw: TypeAlias = st.DrawFn

DEFAULT_MAX_SIZE: Final = 24
"""The default bound on the number of cases of a generated source."""

_CONFUSABLE: Final[tuple[ParamValue, ...]] = (1, 1.0, True, "1", 0, 0.0, -0.0, False, "", None)
"""Values Python considers equal (or falsy) that metalab must keep apart."""

_COMMON_NAMES: Final = ("lr", "seed", "x", "y", "model.lr", "batch_size", "β", "学习率")

_TEXT: Final = st.characters(codec="utf-8")
"""Any character that UTF-8 can encode (lone surrogates cannot go into a manifest file)."""


@functools.cache
def param_names() -> st.SearchStrategy[str]:
    """Parameter names: common ones, dotted ones, and arbitrary non-empty unicode text.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(param_names())
    ... def test_names_are_non_empty_str(name):
    ...     assert isinstance(name, str) and name
    >>> test_names_are_non_empty_str()
    """
    return st.one_of(st.sampled_from(_COMMON_NAMES), st.text(_TEXT, min_size=1, max_size=6))


@functools.cache
def _scalars() -> st.SearchStrategy[ParamValue]:
    return st.one_of(
        st.sampled_from(_CONFUSABLE),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(_TEXT, max_size=8),
    )


@functools.cache
def param_values(*, nested: bool = True) -> st.SearchStrategy[ParamValue]:
    """Parameter values in their canonical form, as a case holds them.

    Scalars (``None``, bools, ints of any size, finite floats including ``-0.0``,
    unicode str), often the look-alikes ``1``, ``1.0``, ``True`` and ``"1"``; with
    ``nested``, also tuples and str-keyed dicts of values.

    Args:
        nested: Whether to generate tuples and dicts as well as scalars.

    >>> from hypothesis import given, settings
    >>> from metalab import ParamCase
    >>> @settings(max_examples=10, deadline=None)
    ... @given(param_values())
    ... def test_a_case_keeps_the_value(value):
    ...     assert ParamCase({"x": value}).params["x"] == value
    >>> test_a_case_keeps_the_value()
    """
    scalars = _scalars()
    if not nested:
        return scalars
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(param_names(), inner, max_size=3),
        ),
        max_leaves=4,
    )


def _bounds(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    """Two different values, smaller first."""
    return (
        st.tuples(values, values)
        .filter(lambda pair: pair[0] != pair[1])
        .map(lambda pair: (min(pair), max(pair)))
    )


@functools.cache
def distributions() -> st.SearchStrategy[Distribution]:
    """Every built-in distribution, with valid bounds (sometimes given as NumPy scalars).

    >>> from hypothesis import given, settings
    >>> from metalab import Distribution
    >>> @settings(max_examples=10, deadline=None)
    ... @given(distributions())
    ... def test_is_a_distribution(dist):
    ...     assert isinstance(dist, Distribution)
    >>> test_is_a_distribution()
    """
    moderate = st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(-(10**6), 10**6),
    )
    positive = st.floats(1e-8, 1e8)
    ints = st.integers(INT64_MIN, INT64_MAX)
    positive_ints = st.integers(1, 2**40)
    return st.one_of(
        _bounds(moderate).map(lambda b: uniform(*b)),
        _bounds(positive).map(lambda b: loguniform(*b)),
        _bounds(positive.map(np.float64)).map(lambda b: loguniform(*b)),
        st.tuples(ints, ints).map(lambda b: randint(min(b), max(b))),
        st.tuples(positive_ints, positive_ints).map(lambda b: loguniform_int(min(b), max(b))),
        st.lists(param_values(nested=False), min_size=1, max_size=5).map(choice),
        st.lists(param_values(), min_size=1, max_size=3).map(choice),
        st.tuples(st.integers(-50, 50), st.integers(1, 20), st.sampled_from([1, 2, -3])).map(
            lambda p: choice(range(p[0], p[0] + p[1] * p[2], p[2]))
        ),
        _options_and_weights().map(lambda ow: choice(ow[0], weights=ow[1])),
        st.tuples(moderate, st.floats(1e-3, 1e3)).map(lambda p: normal(*p)),
        st.tuples(st.floats(-5, 5), st.floats(1e-3, 2)).map(lambda p: lognormal(*p)),
        # Stepped laws: the range holds a whole number (2 to 100) of steps.
        st.tuples(
            st.integers(-1000, 1000), st.sampled_from([0.5, 0.25, 0.1, 2.0]), st.integers(2, 100)
        ).map(lambda p: uniform(p[0], p[0] + p[1] * p[2], step=p[1])),
        st.tuples(st.integers(-(10**6), 10**6), st.integers(1, 1000), st.integers(1, 100)).map(
            lambda p: randint(p[0], p[0] + p[1] * p[2], step=p[1])
        ),
        st.tuples(st.integers(1, 1000), st.integers(1, 100), st.integers(1, 100)).map(
            lambda p: loguniform_int(p[0], p[0] + p[1] * p[2], step=p[1])
        ),
        st.sampled_from([(1e-4, 1e-1, 1e-4), (1.0, 1000.0, 0.5), (0.01, 10.0, 0.01)]).map(
            lambda p: loguniform(p[0], p[1], step=p[2])
        ),
    )


def _options_and_weights() -> st.SearchStrategy[tuple[list[ParamValue], list[float]]]:
    """Options with non-negative weights of the same length, not all zero."""
    return st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            st.lists(param_values(nested=False), min_size=n, max_size=n),
            st.lists(st.floats(0, 100), min_size=n, max_size=n).filter(lambda w: sum(w) > 0),
        )
    )


def _keys_for(draw: Draw, keys: Sequence[str] | None, max_keys: int) -> tuple[str, ...]:
    if keys is not None:
        return tuple(keys)
    # No name may be the branch of another, dotted one ("model" and "model.lr"): no
    # source accepts such keys.
    names: list[str] = draw(
        st.lists(param_names(), unique=True, max_size=max_keys).filter(
            lambda names: not key_path_clashes(names)
        )
    )
    return tuple(names)


def _axis_sizes(draw: Draw, n: int, max_size: int) -> list[int]:
    sizes = []
    remaining = max_size
    for _ in range(n):
        size: int = draw(st.integers(1, min(remaining, 6)))
        sizes.append(size)
        remaining //= size
    return sizes


def _axis(draw: Draw, size: int, *, ranges: bool = True) -> AxisInput:
    """The values of one grid axis, as a user might write them: list, tuple, range or array."""
    kinds = ["list", "list", "list", "tuple", "array"] + (["range"] if ranges else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "range":
        start: int = draw(st.integers(-(2**70), 2**70) | st.integers(-10, 10))
        step: int = draw(st.sampled_from([1, 1, 2, 3, -1, -7]))
        return range(start, start + size * step, step)
    if kind == "array":
        elements = draw(
            st.sampled_from(
                [
                    st.integers(INT64_MIN, INT64_MAX),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.booleans(),
                    st.text(_TEXT.filter(lambda c: c != "\x00"), max_size=4),
                ]
            )
        )
        return np.array(draw(st.lists(elements, min_size=size, max_size=size)))
    nested = draw(st.integers(0, 3)) == 0  # mostly scalars: nested values are slow to draw
    values: list[ParamValue] = draw(
        st.lists(param_values(nested=nested), min_size=size, max_size=size)
    )
    return values if kind == "list" else tuple(values)


def _grid(draw: Draw, keys: Sequence[str] | None, max_size: int) -> GridSource:
    names = _keys_for(draw, keys, 4)
    sizes = _axis_sizes(draw, len(names), max_size)
    spec = {name: _axis(draw, size) for name, size in zip(names, sizes, strict=True)}
    if draw(st.booleans()) or not all(name.isidentifier() for name in names):
        return GridSource(spec)
    return GridSource(**spec)


_grids: Final = st.composite(_grid)


def grids(
    *, keys: Sequence[str] | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> st.SearchStrategy[GridSource]:
    """Grids of at most ``max_size`` cases, with list, tuple, ``range`` and NumPy axes.

    Args:
        keys: The parameter names of the grid; drawn (up to four) when None. With
            ``keys=()`` the grid is ``grid()``, the single empty case.
        max_size: The largest number of cases (at least 1: a grid is never empty).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(grids(keys=["y", "x"], max_size=6))
    ... def test_small_grids(grid):
    ...     assert grid.keys == ("x", "y") and 1 <= grid.size <= 6
    >>> test_small_grids()
    """
    if max_size < 1:
        msg = f"grids(max_size=...) must be >= 1, got {max_size}"
        raise ValueError(msg)
    return _grids(keys, max_size)


def _seeds(algorithm: str) -> st.SearchStrategy[int]:
    if algorithm == LEGACY_ALGORITHM:
        return st.integers(0, 2**32)
    return st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 42, 2**64 - 1]))


def _random(draw: Draw, keys: Sequence[str] | None, max_size: int) -> RandomSource:
    names = keys
    if names is None:
        names = draw(
            st.lists(param_names(), min_size=1, max_size=3).filter(
                lambda names: not key_path_clashes(names)
            )
        )
    space = {name: draw(distributions()) for name in names}
    n_trials: int = draw(st.integers(0, max_size))
    # The legacy algorithm knows only the five seed laws, without step or weights.
    legacy_ok = all(
        type(d) in LEGACY_DISTRIBUTIONS
        and getattr(d, "step", None) is None
        and getattr(d, "weights", None) is None
        for d in space.values()
    )
    algorithm = draw(st.sampled_from([ALGORITHM] * 7 + [LEGACY_ALGORITHM] * legacy_ok))
    seed: int = draw(_seeds(algorithm))
    return RandomSource(space, n_trials, seed, algorithm=algorithm)


_random_sources: Final = st.composite(_random)


def random_sources(
    *, keys: Sequence[str] | None = None, max_size: int = DEFAULT_MAX_SIZE
) -> st.SearchStrategy[RandomSource]:
    """Random sources of at most ``max_size`` trials (sometimes none), any seed.

    Mostly the current algorithm; now and then the legacy one, which still replays.

    Args:
        keys: The parameter names of the space (at least one); drawn when None.
        max_size: The largest number of trials.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(random_sources(keys=["lr"], max_size=5))
    ... def test_small_random_sources(source):
    ...     assert source.keys == ("lr",) and source.size <= 5
    >>> test_small_random_sources()
    """
    if keys is not None and not keys:
        msg = "random_sources(keys=...) needs at least one name: a random space is never empty"
        raise ValueError(msg)
    return _random_sources(keys, max_size)


def _manual_value(draw: Draw, nested: bool) -> ParamInput:
    value: ParamValue = draw(param_values(nested=nested))
    if draw(st.integers(0, 9)) == 0 and type(value) in {int, float, bool}:
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            return value
        # A NumPy scalar, as user code often hands over.
        scalar: np.integer[Any] | np.floating[Any] | np.bool_ = np.array([value])[0]
        return scalar
    return value


def _manual(draw: Draw, keys: Sequence[str] | None, max_size: int) -> ManualSource:
    names = _keys_for(draw, keys, 3)
    n: int = draw(st.integers(0, max_size))
    same_keys = draw(st.booleans())
    shared = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    nested = draw(st.integers(0, 3)) == 0
    cases = []
    for _ in range(n):
        used = shared
        if not same_keys and names:
            used = draw(st.lists(st.sampled_from(names), unique=True))
        cases.append({name: _manual_value(draw, nested) for name in used})
    tags = draw(st.none() | st.lists(st.text(_TEXT, max_size=5), max_size=2))
    return ManualSource(cases, tags)


_manual_sources: Final = st.composite(_manual)


def manual_sources(
    *, keys: Sequence[str] | None = None, max_size: int = 8
) -> st.SearchStrategy[ManualSource]:
    """Manual sources of at most ``max_size`` cases (sometimes none), with or without tags.

    Each case uses some of ``keys`` (cases of one source may differ in their names);
    values are sometimes NumPy scalars, which the source stores as Python scalars.

    Args:
        keys: The names the cases may use; drawn when None.
        max_size: The largest number of cases.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(manual_sources(keys=["a", "b"]))
    ... def test_cases_use_the_names(source):
    ...     assert all(set(case.params) <= {"a", "b"} for case in source)
    >>> test_cases_use_the_names()
    """
    return _manual_sources(keys, max_size)


def _zip(draw: Draw, names: tuple[str, ...], max_size: int) -> ParamSource:
    length: int = draw(st.integers(1, max(1, max_size)))
    return zip_({name: _axis(draw, length, ranges=False) for name in names})


def _replicates(draw: Draw, names: tuple[str, ...], max_size: int) -> ParamSource:
    n: int = draw(st.integers(0, max_size))
    key: str = draw(st.sampled_from(names))
    seed: int = draw(_seeds(ALGORITHM))
    return replicates(n, seed=seed, key=key)


def _leaf(draw: Draw, names: tuple[str, ...], max_size: int) -> ParamSource:
    kinds = ["manual"]
    if max_size >= 1:
        kinds.append("grid")
    if names:
        kinds += ["random", "replicates"]
        if max_size >= 1:
            kinds.append("zip")
    kind = draw(st.sampled_from(kinds))
    if kind == "grid":
        return _grid(draw, names, max_size)
    if kind == "random":
        return _random(draw, names, max_size)
    if kind == "zip":
        return _zip(draw, names, max_size)
    if kind == "replicates":
        return _replicates(draw, names, max_size)
    return _manual(draw, names, min(max_size, 8))


def _some(draw: Draw, names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        return ()
    picked: list[str] = draw(st.lists(st.sampled_from(names), unique=True))
    return tuple(picked)


def _slice(draw: Draw, size: int) -> slice:
    bound = st.none() | st.integers(-size - 2, size + 2)
    step = st.none() | st.sampled_from([1, 2, 3, -1, -2])
    return slice(draw(bound), draw(bound), draw(step))


def _tree(draw: Draw, names: tuple[str, ...], depth: int, max_size: int) -> ParamSource:
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw, names, max_size)
    op = draw(st.sampled_from(["+", "*", "slice", "shard", "shuffled"]))
    if op == "+":
        first = _tree(draw, _some(draw, names), depth - 1, max_size)
        return first + _tree(draw, _some(draw, names), depth - 1, max_size - first.size)
    if op == "*":
        # A product needs parts with disjoint keys: split the names between the two sides.
        order: list[str] = draw(st.permutations(names)) if names else []
        cut: int = draw(st.integers(0, len(order)))
        left = _tree(draw, tuple(order[:cut]), depth - 1, max_size)
        right_size = max_size // left.size if left.size else max_size
        return left * _tree(draw, tuple(order[cut:]), depth - 1, right_size)
    child = _tree(draw, names, depth - 1, max_size)
    if op == "slice":
        return child[_slice(draw, child.size)]
    if op == "shard":
        n: int = draw(st.integers(1, 4))
        k: int = draw(st.integers(0, n - 1))
        return child.shard(k, n)
    return child.shuffled(draw(_seeds(ALGORITHM)))


def _source(draw: Draw, max_depth: int, keys: Sequence[str] | None, max_size: int) -> ParamSource:
    return _tree(draw, _keys_for(draw, keys, 5), max_depth, max_size)


_sources: Final = st.composite(_source)


def sources(
    *,
    max_depth: int = 3,
    keys: Sequence[str] | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
) -> st.SearchStrategy[ParamSource]:
    """Sources of every kind, as expression trees of at most ``max_size`` cases.

    A leaf is a grid, random, manual, zip or replicates source; an inner node is
    ``a + b``, ``a * b`` (its parts get disjoint names), a slice ``s[a:b:c]``, a shard
    ``s.shard(k, n)`` or ``s.shuffled(seed)``. ``max_depth=0`` gives leaves only.

    Args:
        max_depth: How many operators deep the tree may be.
        keys: The names the source may use (each part of a product gets some of them);
            drawn (up to five) when None.
        max_size: The largest number of cases, so laws can be checked on every case.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(sources(keys=["lr", "seed"], max_size=12))
    ... def test_indexing_agrees_with_iteration(source):
    ...     assert [source[i] for i in range(source.size)] == list(source)
    >>> test_indexing_agrees_with_iteration()
    """
    if max_size < 0:
        msg = f"sources(max_size=...) must be >= 0, got {max_size}"
        raise ValueError(msg)
    return _sources(max_depth, keys, max_size)
