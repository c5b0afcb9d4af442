"""Distributions and the random kernel: validation, grids, weights and bit-level agreement."""

from __future__ import annotations

import json
import math
import pickle
import random as stdlib_random
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metalab
from metalab import (
    Choice,
    Distribution,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    RandInt,
    RandomSource,
    Uniform,
    choice,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    random,
    uniform,
)
from metalab._core.case import encode_value
from metalab._core.codegen import source_of
from metalab._sources import distributions as dist_module
from metalab._sources.rng import (
    GOLDEN,
    M1,
    M2,
    MASK64,
    Lanes,
    Stream,
    mix64,
    mix64_array,
    name_hash,
)
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.testing import distributions

TWO64 = 2**64


def _unxorshift(z: int, shift: int) -> int:
    x = z
    for _ in range(64 // shift + 1):
        x = z ^ (x >> shift)
    return x


def unmix64(z: int) -> int:
    """The inverse of the SplitMix64 finalizer."""
    z = _unxorshift(z, 31)
    z = z * pow(M2, -1, TWO64) % TWO64
    z = _unxorshift(z, 27)
    z = z * pow(M1, -1, TWO64) % TWO64
    return _unxorshift(z, 30)


def index_with_bits(stream: Stream, bits: int, draw: int = 0) -> int:
    """The trial index whose sub-stream ``draw`` yields exactly ``bits`` (any 64-bit value)."""
    return (unmix64(bits) - stream.offset(draw)) * pow(GOLDEN, -1, TWO64) % TWO64


def both_paths(dist: Distribution, stream: Stream, indices: list[int]) -> list[Any]:
    """Draws through the scalar path, after checking the array path gives the same bits."""
    scalar = [dist.sample(stream, i) for i in indices]
    array = dist.sample_array(stream, np.array(indices, dtype=np.uint64)).tolist()
    assert list(map(encode_value, scalar)) == list(map(encode_value, array)), (dist, scalar, array)
    return scalar


FACTORIES: dict[str, Any] = {
    "uniform": uniform,
    "loguniform": loguniform,
    "randint": randint,
    "loguniform_int": loguniform_int,
    "choice": choice,
    "normal": normal,
    "lognormal": lognormal,
}

EXTREME_BITS = [0, 1, 2**11 - 1, 2**11, 2**63, TWO64 - 2**11, TWO64 - 1]


class TestKernel:
    """The SplitMix64 kernel: scalar and uint64 forms give the same bits."""

    def test_mix64_matches_reference_values(self) -> None:
        """mix64 is the SplitMix64 finalizer (reference outputs of the published generator)."""
        state = 1234567
        outputs = []
        for _ in range(3):
            state = (state + GOLDEN) & MASK64
            outputs.append(mix64(state))
        assert outputs == [6457827717110365317, 3203168211198807973, 9817491932198370423]

    def test_unmix64_inverts_mix64(self) -> None:
        """The test helper that crafts indices inverts the finalizer."""
        rng = stdlib_random.Random(0)
        for z in [0, 1, TWO64 - 1, *(rng.getrandbits(64) for _ in range(100))]:
            assert unmix64(mix64(z)) == z

    @given(st.lists(st.integers(0, TWO64 - 1), min_size=1, max_size=20))
    def test_mix64_array_matches_scalar(self, values: list[int]) -> None:
        """The uint64 form wraps exactly like the scalar form."""
        out = mix64_array(np.array(values, dtype=np.uint64)).tolist()
        assert out == [mix64(v) for v in values]

    @given(
        seed=st.integers(0, TWO64 - 1),
        name=st.text(min_size=1, max_size=8),
        indices=st.lists(st.integers(0, TWO64 - 1), min_size=1, max_size=10),
        draw=st.integers(0, 3),
    )
    def test_bits_scalar_and_array_agree(
        self, seed: int, name: str, indices: list[int], draw: int
    ) -> None:
        """bits, unit and below give the same values one at a time and as arrays."""
        stream = Stream(seed, name)
        index = np.array(indices, dtype=np.uint64)
        assert stream.bits_array(index, draw).tolist() == [stream.bits(i, draw) for i in indices]
        assert stream.unit_array(index, draw).tolist() == [stream.unit(i, draw) for i in indices]
        for n in (1, 3, 8, 1000, 2**32 + 1, 2**63 + 1, TWO64):
            assert stream.below_array(index, n).tolist() == [stream.below(i, n) for i in indices]

    @given(
        seed=st.integers(0, TWO64 - 1),
        names=st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=9, unique=True),
        index=st.integers(0, TWO64 - 1),
    )
    def test_packed_lanes_equal_separate_streams(
        self, seed: int, names: list[str], index: int
    ) -> None:
        """Mixing several streams in one packed int gives each stream's own bits."""
        streams = [Stream(seed, name) for name in names]
        assert Lanes(streams).bits(index) == tuple(s.bits(index) for s in streams)

    def test_bits_follow_the_documented_formula(self) -> None:
        """bits(i, d) = mix(mix(key + d*G) + (i + 1)*G), key = mix(mix(seed + G) ^ h(name))."""
        seed, name = 2**64 - 1, "lr"
        key = mix64(mix64((seed + GOLDEN) & MASK64) ^ name_hash(name))
        stream = Stream(seed, name)
        for index, draw in [(0, 0), (5, 1), (TWO64 - 1, 0), (2**63 + 5, 2)]:
            expected = mix64(
                (mix64((key + draw * GOLDEN) & MASK64) + (index + 1) * GOLDEN) & MASK64
            )
            assert stream.bits(index, draw) == expected

    def test_name_hash_is_blake2b_of_the_utf8_name(self) -> None:
        """The stream of a name depends on its bytes only (never on PYTHONHASHSEED)."""
        import hashlib

        raw = hashlib.blake2b("é".encode(), digest_size=8, person=b"metalab.name").digest()
        assert name_hash("é") == int.from_bytes(raw, "little")

    def test_below_retries_until_unbiased(self) -> None:
        """Just above n = 2**63 half the draws are rejected; both paths retry alike."""
        stream = Stream(7, "big")
        n = 2**63 + 1
        indices = list(range(2000))
        values = [stream.below(i, n) for i in indices]
        assert stream.below_array(np.array(indices, dtype=np.uint64), n).tolist() == values
        assert all(0 <= v < n for v in values)
        retried = sum(stream.bits(i) >= TWO64 - TWO64 % n for i in indices)
        assert 800 < retried < 1200

    def test_index_crafting_reaches_any_bits(self) -> None:
        """index_with_bits finds the trial whose bits are exactly the requested ones."""
        stream = Stream(3, "x")
        for bits in EXTREME_BITS:
            for draw in (0, 1):
                assert stream.bits(index_with_bits(stream, bits, draw), draw) == bits


class TestLogConstants:
    """Log-scale constants come from correctly rounded logarithms."""

    @given(st.floats(min_value=5e-324, max_value=1.7e308))
    def test_ln_is_correctly_rounded(self, x: float) -> None:
        """_ln(x) is the float nearest to the exact natural log of x."""
        got = dist_module._ln(x)
        with localcontext(prec=80):
            exact = Decimal(x).ln()
            assert abs(Decimal(got) - exact) <= Decimal(math.ulp(got)) / 2


class TestValidation:
    """Bad arguments raise ParamError at construction, naming the argument and the problem."""

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            ("uniform(1.0, 0.5)", "low must be less than high, or equal to pin it"),
            ("uniform(1.0, 1.0, step=0.5)", "a step needs low < high"),
            ("loguniform(2.0, 2.0, step=0.5)", "a step needs low < high"),
            ("uniform(0, nan)", "high must be finite"),
            ("uniform(0, inf)", "high must be finite"),
            ("uniform('0', 1)", "low must be a number"),
            ("uniform(True, 2)", "low must be a number"),
            ("uniform(-1e308, 1e308)", "overflows the float range"),
            ("uniform(0, 10**400)", "beyond the float range"),
            ("uniform(0, 1, step=0)", "step must be positive"),
            ("uniform(0, 1, step=-0.5)", "step must be positive"),
            ("uniform(0, 1, step=1)", "step must be smaller than high - low"),
            ("uniform(0, 1, step=nan)", "step must be finite"),
            ("uniform(0, 1e300, step=1e-300)", "more than 2**53 grid points"),
            ("loguniform(0, 1)", "bounds must be positive"),
            ("loguniform(-1, 1)", "bounds must be positive"),
            ("loguniform(2, 1)", "low must be less than high"),
            ("loguniform(1, 2, step=2)", "step must be smaller than high - low"),
            ("randint(3, 2)", "integer range is empty"),
            ("randint(0, 2.0)", "high must be an int"),
            ("randint(0, 2**63)", "within the int64 range"),
            ("randint(0, 10, step=3)", "multiple of step"),
            ("randint(0, 10, step=0)", "step must be a positive int"),
            ("randint(0, 10, step=2.0)", "step must be an int"),
            ("loguniform_int(0, 10)", "bounds must be positive"),
            ("loguniform_int(1, 10, step=4)", "multiple of step"),
            ("choice([])", "non-empty list"),
            ("choice('abc')", "non-empty list"),
            ("choice([1, 2], weights=[1])", "one entry per option, got 1 weights for 2"),
            ("choice([1, 2], weights=[1, -1])", "weight 1 must be >= 0"),
            ("choice([1, 2], weights=[0, 0.0])", "must not all be zero"),
            ("choice([1, 2], weights=[1, inf])", "weight 1 must be finite"),
            ("choice([1, 2], weights='ab')", "weights must be a list of numbers"),
            ("choice([1, 2], weights=[1, '2'])", "weight 1 must be a number"),
            ("normal(0, 0)", "sigma must be positive"),
            ("normal(0, -1)", "sigma must be positive"),
            ("normal(nan, 1)", "mu must be finite"),
            ("normal(0, 1e308)", "must stay within the float range"),
            ("lognormal(0, -1)", "sigma must be positive"),
            ("lognormal(600, 20)", "exp(mu +- 9 * sigma) must stay within"),
            ("lognormal(-700, 2)", "exp(mu +- 9 * sigma) must stay within"),
            ("normal(0, 1, step=0)", "step must be positive"),
            ("normal(0, 1, step=-0.1)", "step must be positive"),
            ("normal(0, 1, step=nan)", "step must be finite"),
            ("normal(0, 1, step='0.1')", "step must be a number"),
            ("normal(0, 1, step=1e-300)", "more than 2**53 multiples of step"),
            ("lognormal(0, 3, step=1e-6)", "more than 2**53 multiples of step"),
            ("lognormal(0, 1, step=-1)", "step must be positive"),
        ],
    )
    def test_bad_arguments_raise(self, call: str, message: str) -> None:
        """Each bad argument is refused with a message naming the problem."""
        with pytest.raises(ParamError) as info:
            eval(call, FACTORIES | {"nan": math.nan, "inf": math.inf})  # noqa: S307 - literal
        assert message in str(info.value)

    def test_messages_name_the_distribution(self) -> None:
        """The message starts with the factory and the argument at fault."""
        with pytest.raises(ParamError, match=r"^uniform\(low=0, high=1, step=\.\.\.\): step"):
            uniform(0, 1, step=-1)
        with pytest.raises(ParamError, match=r"^normal\(mu=0, sigma=0\): sigma"):
            normal(0, 0)

    @pytest.mark.parametrize("factory", [uniform, normal])
    def test_a_huge_argument_is_shortened_in_the_message(self, factory: Any) -> None:
        """A 5,001-digit bound is named by its type and first digits, not all of them."""
        with pytest.raises(ParamError, match="beyond the float range") as info:
            factory(10**5000, 1)
        assert len(str(info.value)) < 200

    def test_numpy_scalars_become_python_scalars(self) -> None:
        """Bounds, steps and weights given as NumPy scalars are stored as Python ones."""
        d = uniform(np.float64(0.5), np.int64(2), step=np.float32(0.5))
        assert (type(d.low), type(d.high), type(d.step)) == (float, int, float)
        c = choice(["a", "b"], weights=np.array([1, 3]))
        assert c.weights == (1, 3)
        assert all(type(w) is int for w in c.weights)
        assert type(randint(np.int32(1), np.int64(5), step=np.int8(2)).step) is int


class TestPinned:
    """Equal bounds pin a continuous law: every draw, on every path, is ``low``."""

    @pytest.mark.parametrize(
        "dist",
        [uniform(2.0, 2.0), uniform(-3, -3), loguniform(1.0, 1.0), loguniform(0.1, 0.1)],
        ids=repr,
    )
    def test_every_draw_is_low(self, dist: Distribution) -> None:
        """Indexing, take, columns, iteration and dicts all give ``float(low)``."""
        source = random({"x": dist, "y": uniform(0, 1)}, 40, seed=11)
        low = float(dist.low)  # type: ignore[attr-defined]
        draws = [source[i].params["x"] for i in range(40)]
        draws += [case.params["x"] for case in source]
        draws += [case.params["x"] for case in source.take(range(40))]
        draws += source.columns()["x"].tolist()
        draws += [params["x"] for params in source.dicts()]
        assert all(encode_value(v) == encode_value(low) for v in draws)

    def test_pinning_leaves_the_other_parameters_alone(self) -> None:
        """A pinned parameter changes no other parameter's draws."""
        pinned = random({"x": uniform(2.0, 2.0), "y": uniform(0, 1)}, 20, seed=4)
        free = random({"x": uniform(0, 1), "y": uniform(0, 1)}, 20, seed=4)
        assert [c.params["y"] for c in pinned] == [c.params["y"] for c in free]


class TestValues:
    """Distributions are frozen, comparable, picklable values that print as factory calls."""

    @pytest.mark.parametrize(
        ("dist", "text"),
        [
            (uniform(0, 1), "uniform(0, 1)"),
            (uniform(0.0, 1.0, step=0.25), "uniform(0.0, 1.0, step=0.25)"),
            (loguniform(1e-5, 0.1, step=1e-5), "loguniform(1e-05, 0.1, step=1e-05)"),
            (randint(0, 10, step=5), "randint(0, 10, step=5)"),
            (loguniform_int(1, 64), "loguniform_int(1, 64)"),
            (choice(["a", 1], weights=[1, 2.5]), "choice(['a', 1], weights=[1, 2.5])"),
            (normal(0, 1.5), "normal(0, 1.5)"),
            (lognormal(-1.0, 0.5), "lognormal(-1.0, 0.5)"),
            (normal(0, 1.5, step=0.5), "normal(0, 1.5, step=0.5)"),
            (lognormal(-1.0, 0.5, step=1), "lognormal(-1.0, 0.5, step=1)"),
        ],
    )
    def test_repr_is_the_factory_call(self, dist: Distribution, text: str) -> None:
        """Repr shows the call that builds the distribution, and evaluates back to it."""
        assert repr(dist) == text
        assert eval(text, FACTORIES) == dist  # noqa: S307 - our own repr

    def test_equality_and_hash_ignore_precomputed_constants(self) -> None:
        """Two equal definitions are equal and hash alike; options make them differ."""
        assert uniform(0, 1) == uniform(0, 1)
        assert hash(choice([1, 2], weights=[1, 2])) == hash(choice([1, 2], weights=[1, 2]))
        assert uniform(0, 1) != uniform(0, 1, step=0.5)
        assert choice([1, 2]) != choice([1, 2], weights=[1, 1])
        gaussian: object = normal(0, 1)
        assert gaussian != lognormal(0, 1)

    def test_distributions_are_immutable(self) -> None:
        """Assigning a field raises."""
        d = uniform(0, 1)
        with pytest.raises(AttributeError):
            d.low = 5  # type: ignore[misc]

    def test_pickle_round_trip(self) -> None:
        """A pickled distribution is equal to the original and draws the same values."""
        stream = Stream(1, "x")
        for d in (loguniform(1, 10, step=0.5), choice(["a", "b"], weights=[2, 1]), normal(1, 2)):
            copy = pickle.loads(pickle.dumps(d))  # noqa: S301 - our own bytes
            assert copy == d
            assert both_paths(copy, stream, [0, 1, 2]) == both_paths(d, stream, [0, 1, 2])

    def test_registry_lists_every_distribution(self) -> None:
        """DISTRIBUTIONS holds each built-in class once, each with its own manifest tag."""
        classes = dist_module.DISTRIBUTIONS
        assert set(classes) == {
            Uniform,
            LogUniform,
            LogUniformInt,
            RandInt,
            Choice,
            Normal,
            LogNormal,
        }
        assert len({c.manifest_type for c in classes}) == len(classes)

    def test_legacy_draws_exist_only_for_the_earlier_format(self) -> None:
        """sample_legacy refuses the new laws and the new options."""
        rng = stdlib_random.Random(0)
        for d in (
            normal(0, 1),
            lognormal(0, 1),
            uniform(0, 1, step=0.5),
            loguniform(1, 10, step=1),
            randint(0, 4, step=2),
            loguniform_int(1, 9, step=2),
            choice([1, 2], weights=[1, 1]),
        ):
            with pytest.raises(UnsupportedOperationError, match="legacy algorithm"):
                d.sample_legacy(rng)


class TestSteps:
    """A step puts values on the grid low + k*step, rounded as documented."""

    def test_decimal_steps_give_the_nearest_float_to_each_decimal(self) -> None:
        """A 0.1 step draws exactly 0.0, 0.1, ..., 0.9 (0.3, not 0.30000000000000004)."""
        stream = Stream(0, "x")
        values = set(both_paths(uniform(0, 1, step=0.1), stream, list(range(500))))
        assert values == {k / 10 for k in range(10)}

    def test_grid_point_is_the_nearest_float_to_the_decimal(self) -> None:
        """Each point of a short-decimal grid is float(Decimal(low) + k * Decimal(step))."""
        grid = uniform(-0.35, 7.2, step=0.05)._grid
        assert grid is not None
        for k in range(grid.count):
            assert grid.point(k) == float(Decimal("-0.35") + k * Decimal("0.05"))
        assert grid.count == 151

    def test_other_grids_use_float_arithmetic(self) -> None:
        """A grid whose numbers are no short decimals computes low + k*step in floats."""
        low, step = 1 / 3, math.pi / 100
        grid = uniform(low, 2.0, step=step)._grid
        assert grid is not None
        assert grid.denom == 1.0
        assert [grid.point(k) for k in range(5)] == [low + k * step for k in range(5)]

    @given(
        low=st.floats(-1e6, 1e6),
        width=st.floats(1e-3, 1e6),
        parts=st.integers(2, 10_000),
        shrink=st.floats(0.5, 1.0),
    )
    def test_every_grid_point_lies_in_range(
        self, low: float, width: float, parts: int, shrink: float
    ) -> None:
        """The grid counts exactly the points below high: the last one is below, the next not."""
        high = low + width
        if not low < high:
            return
        try:
            d = uniform(low, high, step=width / parts * shrink)
        except ParamError:
            return
        grid = d._grid
        assert grid is not None
        assert low <= grid.point(0) <= grid.point(grid.count - 1) < high
        assert grid.point(grid.count) >= high

    def test_step_that_divides_the_range_excludes_high(self) -> None:
        """uniform(0, 1, step=0.25) draws 0, 0.25, 0.5 and 0.75, never 1."""
        stream = Stream(1, "q")
        values = set(both_paths(uniform(0, 1, step=0.25), stream, list(range(300))))
        assert values == {0.0, 0.25, 0.5, 0.75}

    def test_loguniform_step_rounds_down_to_the_grid(self) -> None:
        """A stepped loguniform draw is the grid point at or below the continuous draw."""
        stream = Stream(5, "lr")
        plain, stepped = loguniform(1, 100), loguniform(1, 100, step=0.5)
        indices = list(range(300))
        for x, y in zip(
            both_paths(plain, stream, indices), both_paths(stepped, stream, indices), strict=True
        ):
            assert y == math.floor((x - 1) / 0.5) * 0.5 + 1

    @pytest.mark.parametrize(
        ("law", "plain"),
        [
            (normal(0.3, 2.0, step=0.5), normal(0.3, 2.0)),
            (normal(-1, 0.01, step=0.001), normal(-1, 0.01)),
            (normal(0.0, 1.0, step=1 / 3), normal(0.0, 1.0)),
            (lognormal(0.0, 1.0, step=0.25), lognormal(0.0, 1.0)),
            (lognormal(-3.0, 1.0, step=0.1), lognormal(-3.0, 1.0)),
        ],
        ids=repr,
    )
    def test_gaussian_step_rounds_to_the_nearest_multiple(
        self, law: Normal | LogNormal, plain: Normal | LogNormal
    ) -> None:
        """A stepped Gaussian draw is round(x / step) * step of the plain draw, ties to even."""
        stream = Stream(11, "w")
        indices = list(range(400))
        step = law.step
        assert step is not None
        for x, y in zip(
            both_paths(plain, stream, indices), both_paths(law, stream, indices), strict=True
        ):
            k = round(x / step)
            assert abs(x - y) <= step / 2 * (1 + 1e-9)
            assert y == float(Decimal(repr(float(step))) * k) or y == k * step

    def test_gaussian_decimal_steps_give_the_nearest_float_to_each_decimal(self) -> None:
        """A 0.1 step draws values like 0.3, not 0.30000000000000004, and never -0.0."""
        stream = Stream(3, "z")
        values = both_paths(normal(0.0, 0.3, step=0.1), stream, list(range(2000)))
        assert set(values) <= {k / 10 for k in range(-30, 31)}
        assert 0.3 in values
        assert all(math.copysign(1.0, v) == 1.0 for v in values if v == 0)

    def test_gaussian_grid_is_multiples_of_step_not_shifted_by_mu(self) -> None:
        """normal(0.3, 1, step=1) draws integers: the grid is k * step, whatever mu."""
        values = both_paths(normal(0.3, 1.0, step=1), Stream(0, "n"), list(range(300)))
        assert all(v == int(v) for v in values)
        assert len(set(values)) > 3

    def test_lognormal_step_can_round_down_to_zero(self) -> None:
        """A log-normal draw below step / 2 rounds to 0.0, as the nearest multiple."""
        values = both_paths(lognormal(-3.0, 1.0, step=0.5), Stream(0, "n"), list(range(300)))
        assert 0.0 in values
        assert min(values) == 0.0
        assert all(v >= 0 for v in values)

    def test_gaussian_step_of_an_int_is_kept_as_given(self) -> None:
        """The step is kept as given (int or float), as for uniform's step, and in the manifest."""
        law = normal(0, 1, step=2)
        assert law.step == 2
        assert type(law.step) is int
        assert law.to_manifest_dict() == {"type": "Normal", "mu": 0, "sigma": 1, "step": 2}
        assert normal(0, 1).to_manifest_dict() == {"type": "Normal", "mu": 0, "sigma": 1}
        assert normal(0, 1, step=2) != normal(0, 1, step=2.0)
        assert normal(0, 1, step=np.float64(0.5)).step == 0.5

    def test_integer_steps_reach_both_bounds(self) -> None:
        """randint(0, 100, step=25) draws exactly 0, 25, 50, 75 and 100."""
        stream = Stream(2, "n")
        values = set(both_paths(randint(0, 100, step=25), stream, list(range(300))))
        assert values == {0, 25, 50, 75, 100}
        values = set(both_paths(loguniform_int(1, 31, step=10), stream, list(range(2000))))
        assert values == {1, 11, 21, 31}


class TestWeights:
    """Weighted choice: a cumulative table computed once, exactly."""

    def test_table_is_each_prefix_over_the_total_rounded_once(self) -> None:
        """The cumulative shares are exact fractions rounded once; the last is 1.0."""
        weights = [0.1, 0.2, 0, 3, 1e-3]
        c = choice(list("abcde"), weights=weights)
        exact = [
            sum(map(Fraction, weights[: j + 1])) / sum(map(Fraction, weights)) for j in range(5)
        ]
        assert c._cum == tuple(float(x) for x in exact)
        assert c._cum[-1] == 1.0
        assert c.weights == (0.1, 0.2, 0, 3, 1e-3)

    def test_zero_weight_options_are_never_drawn(self) -> None:
        """An option of weight zero never comes up."""
        stream = Stream(0, "w")
        values = set(
            both_paths(choice(["a", "b", "c"], weights=[1, 0, 1]), stream, list(range(500)))
        )
        assert values == {"a", "c"}

    def test_weights_select_by_the_unit_float(self) -> None:
        """The option is the first whose cumulative share exceeds k * 2**-53."""
        stream = Stream(9, "w")
        c = choice(["a", "b", "c"], weights=[1, 2, 1])
        for i in range(200):
            u = stream.unit(i)
            expected = "a" if u < 0.25 else "b" if u < 0.75 else "c"
            assert c.sample(stream, i) == expected

    def test_options_keep_their_exact_values(self) -> None:
        """Options that NumPy would alter in a str array (trailing NUL) come back intact."""
        stream = Stream(0, "s")
        values = set(both_paths(choice(["a\x00", "a"]), stream, list(range(100))))
        assert values == {"a\x00", "a"}


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


@st.composite
def any_distribution(draw: st.DrawFn) -> Distribution:
    """Every kind of distribution with every option, including awkward bounds."""
    kind = draw(
        st.sampled_from(
            ["uniform", "loguniform", "randint", "loguniform_int", "choice", "normal", "lognormal"]
        )
    )
    stepped = draw(st.booleans())
    try:
        if kind in {"uniform", "loguniform"}:
            if kind == "uniform":
                low = draw(_floats(-1e300, 1e300) | _floats(-10, 10))
            else:
                low = draw(_floats(1e-300, 1e300) | _floats(1e-3, 10))
            high = draw(
                st.sampled_from([math.nextafter(low, math.inf), low + 1, low * 2 + 1, low + 1e-9])
                | _floats(low, 1e300)
            )
            step = None
            if stepped:
                step = (high - low) / draw(st.integers(2, 1000)) * draw(_floats(0.5, 1))
            return (uniform if kind == "uniform" else loguniform)(low, high, step=step)
        if kind in {"randint", "loguniform_int"}:
            lowest = -(2**63) if kind == "randint" else 1
            low_i = draw(st.integers(lowest, 2**63 - 1) | st.integers(lowest, lowest + 100))
            step_i = draw(st.integers(1, 2**20)) if stepped else None
            count = draw(st.integers(0, (2**63 - 1 - low_i) // (step_i or 1)) | st.integers(0, 50))
            high_i = low_i + count * (step_i or 1)
            return (randint if kind == "randint" else loguniform_int)(low_i, high_i, step=step_i)
        if kind == "choice":
            options = draw(
                st.lists(
                    st.integers() | st.text(max_size=3) | _floats(-1e9, 1e9), min_size=1, max_size=6
                )
            )
            weights = None
            if stepped:
                weights = draw(
                    st.lists(
                        st.integers(0, 10) | _floats(0, 1e6),
                        min_size=len(options),
                        max_size=len(options),
                    )
                )
            return choice(options, weights=weights)
        mu = draw(_floats(-100, 100))
        sigma = draw(_floats(1e-6, 10))
        gstep = draw(_floats(1e-3, 10) | st.sampled_from([0.1, 0.25, 1])) if stepped else None
        return (normal if kind == "normal" else lognormal)(mu, sigma, step=gstep)
    except ParamError:
        from hypothesis import assume

        assume(False)
        raise


def check_in_range(dist: Distribution, value: Any) -> None:
    """The documented bound convention."""
    if isinstance(dist, Uniform | LogUniform):
        assert type(value) is float
        low, high = float(dist.low), float(dist.high)
        assert low <= value < high or low == value == high  # equal bounds pin the value
    elif isinstance(dist, RandInt | LogUniformInt):
        assert type(value) is int
        assert dist.low <= value <= dist.high
        assert (value - dist.low) % (dist.step or 1) == 0
    elif isinstance(dist, Choice):
        assert any(encode_value(value) == encode_value(option) for option in dist.options)
    else:
        assert isinstance(dist, Normal | LogNormal)
        assert type(value) is float
        assert math.isfinite(value)
        if isinstance(dist, LogNormal):
            assert value > 0 if dist.step is None else value >= 0
        if dist.step is not None:
            assert abs(value - round(value / dist.step) * dist.step) <= 4 * math.ulp(value)


class TestAgreementAndBounds:
    """Both paths agree bit for bit, and every draw lies in range, extremes included."""

    @given(
        dist=any_distribution(),
        seed=st.integers(0, TWO64 - 1),
        indices=st.lists(st.integers(0, TWO64 - 1) | st.integers(0, 100), min_size=1, max_size=8),
    )
    def test_scalar_and_array_paths_agree_and_stay_in_range(
        self, dist: Distribution, seed: int, indices: list[int]
    ) -> None:
        """Both paths give the same bits, and each value obeys the bound convention."""
        for value in both_paths(dist, Stream(seed, "p"), indices):
            check_in_range(dist, value)

    @given(dist=any_distribution(), seed=st.integers(0, TWO64 - 1))
    def test_extreme_bits_stay_in_range(self, dist: Distribution, seed: int) -> None:
        """The smallest and largest random bits (crafted indices) still give in-range values."""
        stream = Stream(seed, "p")
        indices = [index_with_bits(stream, bits, draw) for bits in EXTREME_BITS for draw in (0, 1)]
        for value in both_paths(dist, stream, indices):
            check_in_range(dist, value)

    @given(
        low=_floats(-1e300, 1e300),
        ulps=st.integers(1, 4),
        seed=st.integers(0, TWO64 - 1),
    )
    def test_uniform_never_returns_high_even_for_the_largest_draw(
        self, low: float, ulps: int, seed: int
    ) -> None:
        """With the largest 53-bit draw, a range of a few ulps still stays below high."""
        high = low
        for _ in range(ulps):
            high = math.nextafter(high, math.inf)
        stream = Stream(seed, "u")
        top = index_with_bits(stream, TWO64 - 1)
        for d in (uniform(low, high), uniform(low, low + abs(low) + 1)):
            assert both_paths(d, stream, [top])[0] < float(d.high)

    @given(
        low=st.integers(-(2**63), 2**63 - 1),
        count=st.integers(0, 2**20),
        step=st.integers(1, 1000),
        seed=st.integers(0, TWO64 - 1),
    )
    def test_randint_reaches_both_ends(self, low: int, count: int, step: int, seed: int) -> None:
        """Crafted bits 0 and n - 1 give low and high: both ends are reachable."""
        high = low + count * step
        if high > 2**63 - 1:
            return
        d = randint(low, high, step=step)
        stream = Stream(seed, "n")
        ends = [index_with_bits(stream, 0), index_with_bits(stream, count)]
        assert both_paths(d, stream, ends) == [low, high]

    @given(
        low=st.integers(1, 2**40),
        count=st.integers(1, 1000),
        step=st.integers(1, 100),
        seed=st.integers(0, TWO64 - 1),
    )
    def test_loguniform_int_reaches_both_ends(
        self, low: int, count: int, step: int, seed: int
    ) -> None:
        """The smallest and largest draws give low and high."""
        high = low + count * step
        d = loguniform_int(low, high, step=step)
        stream = Stream(seed, "n")
        ends = [index_with_bits(stream, 0), index_with_bits(stream, TWO64 - 1)]
        assert both_paths(d, stream, ends) == [low, high]

    @given(
        low=_floats(1e-6, 1e6),
        factor=_floats(1.001, 1e6),
        seed=st.integers(0, TWO64 - 1),
    )
    def test_log_laws_stay_below_high_at_the_largest_draw(
        self, low: float, factor: float, seed: int
    ) -> None:
        """A log-uniform draw, stepped or not, stays in [low, high) at both extremes."""
        high = low * factor
        stream = Stream(seed, "l")
        top = index_with_bits(stream, TWO64 - 1)
        bottom = index_with_bits(stream, 0)
        first, last = both_paths(loguniform(low, high), stream, [bottom, top])
        assert low <= first <= low * (1 + 1e-14)
        assert high * (1 - 1e-14) <= last < high
        stepped = loguniform(low, high, step=(high - low) / 7)
        first, last = both_paths(stepped, stream, [bottom, top])
        assert first == low
        assert low <= last < high


def _confusable_distributions() -> st.SearchStrategy[Distribution]:
    """Distributions built from values Python considers equal, so that pairs often collide."""
    confusable = st.sampled_from([1, 1.0, True, 0, 0.0, -0.0, False, "1", None])
    numbers: st.SearchStrategy[Any] = st.sampled_from(
        [0, 0.0, -0.0, 1, 1.0, np.float64(1.0), np.int64(1)]
    )
    return st.one_of(
        st.lists(confusable, min_size=1, max_size=2).map(choice),
        st.lists(st.lists(confusable, max_size=2), min_size=1, max_size=2).map(choice),
        st.lists(st.dictionaries(st.just("k"), confusable), min_size=1, max_size=1).map(choice),
        st.tuples(
            st.sampled_from([[1, 2], range(1, 3)]), st.sampled_from([None, [1, 1], [1.0, 1]])
        ).map(lambda p: choice(p[0], weights=p[1])),
        st.tuples(numbers, st.sampled_from([2, 2.0])).map(lambda b: uniform(*b)),
        st.tuples(numbers, st.sampled_from([1, 1.0])).map(lambda p: normal(*p)),
        st.tuples(numbers, st.sampled_from([1, 1.0])).map(lambda p: lognormal(*p)),
    )


class TestTypedEquality:
    """Distributions are equal exactly when their type-tagged definitions (manifests) are."""

    def test_choice_tells_value_types_apart(self) -> None:
        """choice([1]) and choice([True]) differ, as do 0.0 and -0.0, nested options too."""
        assert random({"x": choice([1])}, 2, seed=0) != random({"x": choice([True])}, 2, seed=0)
        assert len({random({"x": choice([v])}, 2, seed=0) for v in (1, True, 1.0)}) == 3
        assert choice([0.0]) != choice([-0.0])
        assert choice([[1]]) != choice([[1.0]])
        assert choice([{"a": 1}]) != choice([{"a": True}])
        assert choice([1, 2], weights=[1, 1]) != choice([1, 2], weights=[1.0, 1])

    def test_numeric_fields_tell_int_float_and_sign_apart(self) -> None:
        """uniform(0, 2) and uniform(0.0, 2) print, serialize and compare differently."""
        assert uniform(0, 2) != uniform(0.0, 2)
        assert uniform(0.0, 2) != uniform(-0.0, 2)
        assert normal(1, 1) != normal(1.0, 1)
        assert uniform(np.float64(1.0), 2) == uniform(1.0, 2)

    @given(a=_confusable_distributions(), b=_confusable_distributions())
    def test_equality_and_hash_agree_with_the_manifest(
        self, a: Distribution, b: Distribution
    ) -> None:
        """A == b exactly when their manifests are equal, and equal ones hash alike."""
        same = json.dumps(a.to_manifest_dict()) == json.dumps(b.to_manifest_dict())
        assert (a == b) == same
        if same:
            assert hash(a) == hash(b)

    @given(dist=distributions())
    def test_every_distribution_equals_its_manifest_copy(self, dist: Distribution) -> None:
        """Rebuilt from its manifest, a distribution is equal and hashes alike."""
        copy = (
            random({"x": dist}, 1, seed=0)
            .from_manifest_dict(random({"x": dist}, 1, seed=0).to_manifest_dict())
            .space["x"]
        )
        assert copy == dist
        assert hash(copy) == hash(dist)


class TestRangeOptions:
    """choice(range(n)) stays lazy and draws exactly what choice(list(range(n))) draws."""

    def test_a_huge_range_is_not_listed(self) -> None:
        """choice(range(10**7)) keeps the range, and its manifest stores a range object."""
        dist = choice(range(10**7))
        assert dist.options == range(10**7)
        assert isinstance(dist.options, range)
        node = dist.to_manifest_dict()
        assert node == {
            "type": "Choice",
            "options": {"type": "range", "start": 0, "stop": 10**7, "step": 1},
        }
        source = random({"x": dist}, 5, seed=0)
        assert source.from_manifest_dict(source.to_manifest_dict()) == source
        assert 0 <= source[4].params["x"] < 10**7  # type: ignore[operator]

    @pytest.mark.parametrize(
        "options",
        [
            range(7),
            range(-3, 100, 3),
            range(10, -50, -7),
            range(2**63 - 10, 2**63 - 1),
            range(-(2**63), 2**63 - 1, 2**60),
            range(2**64, 2**64 + 5),
        ],
        ids=str,
    )
    @pytest.mark.parametrize("weighted", [False, True])
    def test_range_draws_equal_list_draws(self, options: range, weighted: bool) -> None:
        """Every access path gives the same values for a range and for its list."""
        weights = list(range(1, len(options) + 1)) if weighted else None
        lazy = random({"x": choice(options, weights=weights)}, 300, seed=5)
        listed = random({"x": choice(list(options), weights=weights)}, 300, seed=5)
        assert list(lazy.dicts()) == list(listed.dicts())
        assert [c.params for c in lazy] == [c.params for c in listed]
        assert [lazy[i].params for i in range(0, 300, 7)] == [
            listed[i].params for i in range(0, 300, 7)
        ]
        assert lazy.columns()["x"].dtype == listed.columns()["x"].dtype
        assert lazy.columns()["x"].tolist() == listed.columns()["x"].tolist()
        assert lazy != listed
        assert [c.case_id for c in lazy.take([3, 1])] == [c.case_id for c in listed.take([3, 1])]

    def test_a_range_too_long_to_list_draws_alike_on_every_path(self) -> None:
        """Beyond int64 and sys.maxsize, single, batched and column draws agree."""
        options = range(-(2**66), 2**66, 2**10 + 1)
        source = random({"x": choice(options)}, 300, seed=5)
        single = [source[i].params["x"] for i in range(300)]
        assert [d["x"] for d in source.dicts()] == single
        assert source.columns()["x"].tolist() == single
        assert source.columns()["x"].dtype == object
        assert all(v in options for v in single)
        assert len(set(single)) > 290

    def test_an_old_manifest_with_listed_options_gives_the_same_draws(self) -> None:
        """A manifest that lists the options loads and draws what the range draws."""
        node = random({"x": choice(list(range(40)))}, 50, seed=1).to_manifest_dict()
        assert isinstance(node["space"]["x"]["options"], list)
        loaded = RandomSource.from_manifest_dict(node)
        assert list(loaded.dicts()) == list(random({"x": choice(range(40))}, 50, seed=1).dicts())

    def test_range_options_are_validated(self) -> None:
        """An empty range, or more than 2**64 options, is refused at definition."""
        with pytest.raises(ParamError, match="non-empty"):
            choice(range(3, 3))
        with pytest.raises(ParamError, match="2\\*\\*64"):
            choice(range(2**64 + 1))
        with pytest.raises(ParamError, match="one entry per option"):
            choice(range(3), weights=[1, 2])
        assert repr(choice(range(0, 10, 2))) == "choice(range(0, 10, 2))"
        assert eval(repr(choice(range(3))), FACTORIES) == choice(range(3))  # noqa: S307


BUILT_IN_LAWS: list[Distribution] = [
    uniform(0, 1),
    uniform(1.0, 1.0000000000000002),
    uniform(0.0, 1.0, step=0.25),
    loguniform(1e-4, 1e-1),
    loguniform(1e-4, 1e-1, step=1e-4),
    loguniform_int(1, 1024),
    loguniform_int(2, 20, step=2),
    randint(1, 6),
    randint(0, 100, step=25),
    choice(["a", "b", "c"]),
    choice(["a", "b"], weights=[3, 1]),
    normal(0.0, 1.0),
    lognormal(-2.0, 0.5),
    normal(0.0, 1.0, step=0.1),
    lognormal(-2.0, 0.5, step=0.05),
]
"""One law of each built-in kind and option: each spells its scalar draw once."""


class TestOneScalarSpelling:
    """A built-in law's kernel and its inline draw are compiled from one text."""

    @pytest.mark.parametrize("law", BUILT_IN_LAWS, ids=repr)
    def test_the_kernel_runs_the_written_draw(self, law: Distribution) -> None:
        """The kernel is generated code whose body is the statements `inline_draw` writes."""
        stream = Stream(7, "x")
        code = dist_module.ScalarCode(0)
        assert dist_module.inline_draw(law, stream, code)
        kernel = law.kernel(stream)
        assert kernel.__code__.co_filename.startswith("<metalab generated law ")
        assert source_of(kernel).splitlines()[1:-1] == [f"    {line}" for line in code.lines]

    @pytest.mark.parametrize("law", [normal(0.0, 1.0), lognormal(-2.0, 0.5)], ids=repr)
    def test_a_gaussian_is_drawn_inline(self, law: Distribution) -> None:
        """A random source's trial function writes the Box-Muller draw out, no kernel call."""
        source = random({"x": law}, 50, seed=3)
        assert "d0_kernel" not in metalab.generated_code(source)
        assert [source[i].params["x"] for i in range(50)] == source.columns()["x"].tolist()
