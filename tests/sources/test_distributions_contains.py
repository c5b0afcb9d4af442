"""`dist.contains(value)`: exactly the values a law can draw, checked against its draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    Distribution,
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.rng import Stream
from metalab.testing import distributions

INDICES = np.arange(300, dtype=np.uint64)


def _draws(dist: Distribution, seed: int) -> list[object]:
    """Draws of both paths: 300 from the array path and 20 from the scalar path."""
    stream = Stream(seed, "x")
    return [
        *dist.sample_array(stream, INDICES).tolist(),
        *(dist.sample(stream, i) for i in range(20)),
    ]


class TestDrawsAreContained:
    """Every draw of every law lies in its support."""

    @given(distributions(), st.integers(0, 2**32))
    def test_every_draw_is_contained(self, dist: Distribution, seed: int) -> None:
        """Whatever the law and the seed, each draw (scalar or array path) is contained."""
        contains = dist.contains  # type: ignore[attr-defined]
        missing = [value for value in _draws(dist, seed) if not contains(value)]
        assert missing == []

    @pytest.mark.parametrize(
        "dist",
        [
            randint(-3, 3),
            randint(0, 100, step=25),
            loguniform_int(1, 16),
            loguniform_int(2, 32, step=6),
            uniform(0.0, 1.0, step=0.25),
            uniform(0.1, 0.7, step=0.1),
            loguniform(1.0, 10.0, step=1.5),
            choice(["a", 1, 1.0, True, None]),
            choice(range(5, 20, 3)),
            choice(["a", "b", "c"], weights=[1, 0, 2]),
            normal(0, 1, step=0.5),
            lognormal(-1, 0.5, step=0.25),
        ],
        ids=repr,
    )
    def test_a_small_support_is_exactly_what_is_drawn(self, dist: Distribution) -> None:
        """For a law with few values, the contained ones are exactly the ones drawn."""
        stream = Stream(7, "x")
        drawn = dist.sample_array(stream, np.arange(5000, dtype=np.uint64)).tolist()
        candidates = [*drawn, *_neighbours(drawn)]
        contains = dist.contains  # type: ignore[attr-defined]
        # Tagged by type, so that 1, 1.0 and True stay three values.
        held = {(type(v), v) for v in candidates if contains(v)}
        assert held == {(type(v), v) for v in drawn}


def _neighbours(values: list[object]) -> list[object]:
    """Values next to the draws: off by one, one float apart, other types of the same number."""
    out: list[object] = ["a", "z", None, 0, 0.0, False, 2]
    for v in values:
        if type(v) is int:
            out += [v - 1, v + 1, float(v), v == 1]
        elif type(v) is float:
            out += [math.nextafter(v, -math.inf), math.nextafter(v, math.inf), v + 0.05]
            if v.is_integer():
                out.append(int(v))
    return out


class TestContinuousLaws:
    """Continuous laws contain the floats of their support, and nothing else."""

    def test_uniform_excludes_high_and_includes_low(self) -> None:
        """``uniform(low, high)`` holds ``[low, high)``: low is in, high and beyond are not."""
        dist = uniform(0.0, 1.0)
        assert dist.contains(0.0)
        assert dist.contains(math.nextafter(1.0, 0.0))
        assert not dist.contains(1.0)
        assert not dist.contains(-1e-300)

    def test_ints_bools_and_non_numbers_are_not_floats(self) -> None:
        """Draws are floats: ``0``, ``True``, ``"0.5"``, NaN and infinity are not contained."""
        dist = uniform(-10, 10)
        for value in (0, True, "0.5", None, math.nan, math.inf, [0.5]):
            assert not dist.contains(value), value

    def test_numpy_floats_stand_for_python_floats(self) -> None:
        """A NumPy float is contained exactly when the Python float it holds is."""
        assert uniform(0, 1).contains(np.float64(0.5))
        assert uniform(0, 1).contains(np.float32(0.5))
        assert not uniform(0, 1).contains(np.float64(1.0))
        assert not uniform(0, 1).contains(np.int64(0))

    def test_a_pinned_law_contains_its_one_value(self) -> None:
        """``uniform(2.0, 2.0)`` and ``loguniform(3, 3)`` contain only the pinned value."""
        assert uniform(2.0, 2.0).contains(2.0)
        assert not uniform(2.0, 2.0).contains(math.nextafter(2.0, 3.0))
        assert loguniform(3, 3).contains(3.0)
        assert not loguniform(3, 3).contains(2.999)

    def test_a_step_grid_starts_at_low(self) -> None:
        """A ``step`` grid is ``low + k * step`` below ``high``, not multiples of ``step``."""
        dist = uniform(0.05, 1.0, step=0.1)
        assert dist.contains(0.05)
        assert dist.contains(0.95)
        assert not dist.contains(0.1)
        assert not dist.contains(1.05)

    def test_a_step_grid_holds_the_decimal_points(self) -> None:
        """``uniform(0, 1, step=0.1)`` holds ``0.3`` (its draw), not ``0.1 + 0.1 + 0.1``."""
        dist = uniform(0.0, 1.0, step=0.1)
        assert dist.contains(0.3)
        assert not dist.contains(0.1 + 0.1 + 0.1)
        assert not dist.contains(1.0)

    def test_loguniform_holds_positive_floats_below_high(self) -> None:
        """``loguniform(low, high)`` holds ``[low, high)`` and no value outside it."""
        dist = loguniform(1e-4, 1e-1)
        assert dist.contains(1e-4)
        assert not dist.contains(math.nextafter(1e-4, 0.0))
        assert not dist.contains(1e-1)

    def test_normal_holds_every_finite_float(self) -> None:
        """A normal law's support is the real line: any finite float, however far."""
        assert normal(0, 1).contains(1e300)
        assert normal(0, 1).contains(-0.0)
        assert not normal(0, 1).contains(math.inf)

    def test_a_stepped_gaussian_holds_its_multiples_of_step(self) -> None:
        """With a step, only the multiples of step a draw can be: +0.0, never -0.0."""
        stepped = normal(3.5, 2, step=0.1)
        assert stepped.contains(0.3)
        assert stepped.contains(-2.5)
        assert not stepped.contains(0.30000000000000004)
        assert not stepped.contains(0.35)
        assert not stepped.contains(-0.0)
        assert not stepped.contains(1e300)  # beyond mu +- 9 sigma, where no draw reaches
        assert lognormal(0, 1, step=0.5).contains(0.0)
        assert not lognormal(0, 1, step=0.5).contains(-0.5)

    def test_lognormal_holds_positive_floats(self) -> None:
        """A lognormal law holds the finite floats above zero."""
        assert lognormal(0, 1).contains(5e-324)
        assert not lognormal(0, 1).contains(0.0)
        assert not lognormal(0, 1).contains(-1.0)


class TestIntegerLaws:
    """Integer laws include both bounds and hold ints only."""

    def test_randint_includes_both_bounds(self) -> None:
        """``randint(low, high)`` holds ``low`` and ``high``, not one past either."""
        dist = randint(-5, 5)
        assert dist.contains(-5)
        assert dist.contains(5)
        assert not dist.contains(6)
        assert not dist.contains(-6)

    def test_floats_and_bools_are_not_ints(self) -> None:
        """``3.0`` and ``True`` are not draws of ``randint(0, 5)``; NumPy ints are ints."""
        dist = randint(0, 5)
        assert not dist.contains(3.0)
        assert not dist.contains(True)
        assert not dist.contains(np.bool_(True))
        assert dist.contains(np.int64(3))
        assert dist.contains(np.uint8(5))

    def test_a_step_grid_starts_at_low(self) -> None:
        """``randint(1, 21, step=5)`` holds 1, 6, ..., 21, not the multiples of 5."""
        dist = randint(1, 21, step=5)
        assert [k for k in range(-5, 30) if dist.contains(k)] == [1, 6, 11, 16, 21]

    def test_the_whole_int64_range(self) -> None:
        """The int64 bounds are contained and one beyond them is not."""
        dist = randint(-(2**63), 2**63 - 1)
        assert dist.contains(-(2**63))
        assert dist.contains(2**63 - 1)
        assert not dist.contains(2**63)

    def test_loguniform_int_includes_both_bounds(self) -> None:
        """``loguniform_int(low, high, step=...)`` holds its grid from low to high inclusive."""
        dist = loguniform_int(4, 64, step=12)
        assert [k for k in range(80) if dist.contains(k)] == [4, 16, 28, 40, 52, 64]


class TestChoice:
    """A choice holds its drawable options, compared as cases compare values."""

    def test_type_tagged_equality(self) -> None:
        """``1``, ``1.0`` and ``True`` are three different options."""
        assert choice([1]).contains(1)
        assert not choice([1]).contains(1.0)
        assert not choice([1]).contains(True)
        assert not choice([1.0]).contains(1)
        assert not choice([0.0]).contains(-0.0)

    def test_lists_are_compared_as_tuples(self) -> None:
        """A nested option given as a list is held as a list or a tuple of the same values."""
        dist = choice([[1, 2], {"a": [1]}])
        assert dist.contains([1, 2])
        assert dist.contains((1, 2))
        assert dist.contains({"a": (1,)})
        assert not dist.contains([1, 2.0])

    def test_values_that_are_no_parameter_values(self) -> None:
        """A value that no parameter can hold (an object, NaN) is not contained."""
        dist = choice(["a", 1.5])
        assert not dist.contains(object())
        assert not dist.contains(math.nan)

    def test_zero_weight_options_are_never_drawn(self) -> None:
        """An option of weight zero is not contained, in a list or in a range."""
        assert not choice(["a", "b"], weights=[1, 0]).contains("b")
        assert choice(["a", "b"], weights=[1, 0]).contains("a")
        dist = choice(range(3), weights=[0, 1, 1])
        assert [k for k in range(-1, 4) if dist.contains(k)] == [1, 2]

    def test_a_huge_range_is_checked_without_listing(self) -> None:
        """``choice(range(...))`` of 10**18 options answers from the range's arithmetic."""
        dist = choice(range(-(10**18), 10**18, 7))
        assert dist.contains(-(10**18) + 7 * 12345)
        assert not dist.contains(-(10**18) + 7 * 12345 + 1)
        assert not dist.contains(float(-(10**18)))
        assert not choice(range(2)).contains(True)
