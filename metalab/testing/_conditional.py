"""Hypothesis strategies for conditional sweeps: random spaces and grids with switches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from metalab._expr import Expr, col, lit
from metalab._sources.distributions import Distribution, choice
from metalab._sources.grid import grid
from metalab._sources.random import random
from metalab._sources.switch import Switch, switch, when
from metalab.testing._strategies import distributions

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalab._algebra.conditional_grid import ConditionalGridSource
    from metalab._sources.conditional import ConditionalRandomSource

    Draw = Callable[[st.SearchStrategy[Any]], Any]

__all__ = ["conditional_grids", "conditional_random_sources"]

_OPTIONS = ("a", "b", "c")


def _condition(draw: Draw, reads: str, values: list[str]) -> Expr[bool]:
    """A predicate over the parameter ``reads``, whose values are ``values``."""
    value: str = draw(st.sampled_from(values))
    kind = draw(st.sampled_from(["eq", "ne", "isin", "true"]))
    if kind == "eq":
        return col(reads) == value
    if kind == "ne":
        return col(reads) != value
    if kind == "isin":
        chosen: list[str] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
        return col(reads).isin(chosen)
    return lit(True) | (col(reads) == value)


@st.composite
def _random(draw: Draw, max_size: int) -> ConditionalRandomSource:
    picker = draw(st.lists(st.sampled_from(_OPTIONS), min_size=1, max_size=3, unique=True))
    space: dict[str, Distribution | Switch] = {"k": choice(picker)}
    for name in draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, unique=True)):
        kind = draw(st.sampled_from(["when", "switch", "plain", "nested"]))
        if kind == "plain":
            space[name] = draw(distributions())
        elif kind == "switch":
            keys = draw(st.lists(st.sampled_from(picker), min_size=1, unique=True))
            space[name] = switch(col("k"), {key: draw(distributions()) for key in keys})
        elif kind == "nested" and "x" in space and name != "x":
            # Reads a parameter that may itself be absent.
            space[name] = when(col("x") == col("x"), draw(distributions()))
        else:
            space[name] = draw(distributions()).when(_condition(draw, "k", picker))
    n_trials: int = draw(st.integers(0, max_size))
    seed: int = draw(st.integers(0, 2**64 - 1))
    return random(space, n_trials, seed=seed)


def conditional_random_sources(*, max_size: int = 40) -> st.SearchStrategy[ConditionalRandomSource]:
    """Random spaces with conditional parameters: ``when``, ``switch`` and nested conditions.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(conditional_random_sources())
    ... def test(source):
    ...     assert list(source) == [source[i] for i in range(len(source))]
    >>> test()
    """
    return _random(max_size)


@st.composite
def _grid(draw: Draw, max_size: int) -> ConditionalGridSource:
    del max_size  # the axes below keep every grid small
    picker = draw(st.lists(st.sampled_from(_OPTIONS), min_size=1, max_size=3, unique=True))
    n = draw(st.integers(1, 3))
    axes: dict[str, Any] = {"k": picker, "n": list(range(n))}
    for name in draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, unique=True)):
        values = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3))
        kind = draw(st.sampled_from(["when", "switch", "range", "reads-n"]))
        if kind == "switch":
            keys = draw(st.lists(st.sampled_from(picker), min_size=1, unique=True))
            axes[name] = switch(col("k"), dict.fromkeys(keys, values))
        elif kind == "range":
            axes[name] = when(_condition(draw, "k", picker), range(len(values)))
        elif kind == "reads-n":
            axes[name] = when(col("n") < draw(st.integers(0, 3)), values)
        else:
            axes[name] = when(_condition(draw, "k", picker), values)
    out: ConditionalGridSource = grid(axes)
    return out


def conditional_grids(*, max_size: int = 200) -> st.SearchStrategy[ConditionalGridSource]:
    """Grids with conditional axes (switches and predicates over the unconditional axes).

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(conditional_grids())
    ... def test(source):
    ...     assert list(source) == [source[i] for i in range(len(source))]
    >>> test()
    """
    return _grid(max_size)
