"""The case function written out per source draws exactly what the generic kernels draw."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from metalab import (
    ParamCase,
    RandomSource,
    choice,
    loguniform,
    loguniform_int,
    randint,
    uniform,
)
from metalab._core.case import encode_value
from metalab._sources.distributions import ScalarCode, inline_draw
from metalab._sources.rng import ALGORITHM, Lanes, Stream
from metalab.testing import distributions, random_sources

if TYPE_CHECKING:
    from metalab.params.distributions import Distribution

TWO64 = 2**64

EDGES: list[Distribution] = [
    # The largest draw rounds up to high, so the clamp to the float below high acts.
    uniform(1.0, 1.0000000000000002),
    uniform(-1e300, 1e300),
    # Rejection-heavy integer draws: about half of all bits are rejected.
    randint(-(2**63), 0),
    randint(-(2**63), 2**62, step=1),
    randint(-(2**63), 2**63 - 1),
    randint(0, 3 * 2**40, step=3),
    uniform(0.0, 3.0, step=1.0),
    # exp(log(low)) rounds below low here, so the draw of k = 0 is clamped up to low.
    loguniform(1e-5, 1e-1),
    loguniform(1e-300, 1e300),
    loguniform(1.0, 1.0000000000000002),
    loguniform(1e-4, 1e-1, step=1e-4),
    loguniform_int(1, 2**62),
    loguniform_int(1, 7),
    choice(["a", "b", "c"]),
    choice([None]),
    choice([1, 2.5, "x"], weights=[0, 1, 2]),
]
"""Laws whose clamps, rejections and grids the strategies reach only now and then."""

LAWS = distributions() | st.sampled_from(EDGES)
BITS = st.integers(0, TWO64 - 1) | st.sampled_from(
    [0, 1, 2**11 - 1, 2**11, 2**63, 2**63 + 1, TWO64 - 2**11, TWO64 - 2, TWO64 - 1]
)
INDICES = st.integers(0, TWO64 - 1) | st.sampled_from([0, 1, TWO64 - 1])
NAMES = st.text(alphabet="abxy_é'\"\\\n{}#", min_size=1, max_size=4)


def same_case(a: ParamCase, b: ParamCase) -> bool:
    """Same params (bit for bit, in the same order), same tags, same id."""
    return (
        list(a.params) == list(b.params)
        and all(encode_value(a.params[k]) == encode_value(b.params[k]) for k in a.params)
        and a.tags == b.tags
        and a.case_id == b.case_id
    )


def written_draw(dist: Distribution, stream: Stream) -> Any:
    """The statements `inline_draw` writes for ``dist``, as a function of (index, bits)."""
    code = ScalarCode(0)
    assert inline_draw(dist, stream, code)
    body = "".join(f"    {line}\n" for line in code.lines)
    namespace: dict[str, Any] = dict(code.namespace)
    exec(f"def draw(i, b0):\n{body}    return v0\n", namespace)  # noqa: S102
    return namespace["draw"]


def one_by_one(source: RandomSource, i: int) -> ParamCase:
    """Case ``i`` from each law's own kernel and stream, one parameter at a time."""
    params = {
        name: dist.sample(Stream(source.seed, name), i) for name, dist in source.space.items()
    }
    return ParamCase(params, (f"trial_{i}",))


class TestWrittenDraws:
    """Each law's written draw equals its kernel for every possible bits value."""

    @given(dist=LAWS, seed=st.integers(0, TWO64 - 1), index=INDICES, bits=BITS)
    @example(dist=EDGES[0], seed=0, index=0, bits=TWO64 - 1)
    @example(dist=randint(-(2**63), 0), seed=0, index=5, bits=TWO64 - 1)
    @example(dist=choice(["a", "b", "c"]), seed=1, index=2, bits=TWO64 - 1)
    @example(dist=loguniform(1e-5, 1e-1), seed=1, index=2, bits=0)
    @example(dist=loguniform(1.0, 1.0000000000000002), seed=1, index=2, bits=TWO64 - 1)
    @example(dist=uniform(0.0, 3.0, step=1.0), seed=1, index=2, bits=TWO64 - 1)
    def test_written_draw_equals_the_kernel(
        self, dist: Distribution, seed: int, index: int, bits: int
    ) -> None:
        """Any bits, rejected ones (which retry on later sub-streams) and clamped ones too."""
        stream = Stream(seed, "x")
        code = ScalarCode(0)
        if not inline_draw(dist, stream, code):
            assert type(dist).__name__ in {"Normal", "LogNormal"}
            return
        expected = dist.kernel(stream)(index, bits)
        assert encode_value(written_draw(dist, stream)(index, bits)) == encode_value(expected)

    def test_the_clamp_and_the_retry_are_reached(self) -> None:
        """The edge laws do take the clamp and the rejection branches they are here for."""
        stream = Stream(0, "x")
        top = uniform(1.0, 1.0000000000000002)
        assert written_draw(top, stream)(0, TWO64 - 1) == math.nextafter(top.high, 0.0)
        low = loguniform(1e-5, 1e-1)
        assert float(np.exp(math.log(low.low))) < low.low
        assert written_draw(low, stream)(0, 0) == low.low
        high = loguniform(1.0, 1.0000000000000002)
        assert written_draw(high, stream)(0, TWO64 - 1) == math.nextafter(high.high, 0.0)
        below = ScalarCode(0)
        expression = below.below(stream, 2**63 + 1)
        assert "d0_below(i, b0)" in expression
        assert below.namespace["d0_limit"] == 2**63 + 1

    def test_a_power_of_two_count_needs_no_retry(self) -> None:
        """Nothing is rejected below a power of two: the draw is a mask of the bits."""
        code = ScalarCode(3)
        assert code.below(Stream(0, "x"), 8) == "(b3 & d3_mask)"
        assert code.namespace == {"d3_mask": 7}

    def test_a_constant_is_bound_once(self) -> None:
        """Binding the same constant name twice is a programming error, not a silent clash."""
        code = ScalarCode(0)
        code.const("lo", 1.0)
        with pytest.raises(ValueError, match="'lo'"):
            code.const("lo", 2.0)


class TestCaseFunction:
    """``source[i]`` (the written-out function) equals the generic paths."""

    @given(source=random_sources(max_size=5), indices=st.lists(INDICES, min_size=1, max_size=5))
    def test_indexing_equals_the_kernels_one_by_one(
        self, source: RandomSource, indices: list[int]
    ) -> None:
        """At any index up to 2**64 - 1, for every law and option the strategies draw."""
        assume(source.algorithm == ALGORITHM)
        wide = RandomSource(source.space, TWO64, source.seed)
        for i in indices:
            case = wide[i]
            assert same_case(case, one_by_one(wide, i))
            params, tags = wide.raw(i)
            assert same_case(case, ParamCase(params, tags))

    @given(
        space=st.dictionaries(NAMES, LAWS, min_size=1, max_size=5),
        seed=st.integers(0, TWO64 - 1),
        indices=st.lists(INDICES, min_size=1, max_size=5),
    )
    def test_any_names_and_edge_laws(
        self, space: dict[str, Distribution], seed: int, indices: list[int]
    ) -> None:
        """Names with quotes, braces and newlines enter the source safely as literals."""
        source = RandomSource(space, TWO64, seed)
        for i in indices:
            assert same_case(source[i], one_by_one(source, i))

    def test_a_law_without_a_written_draw_calls_its_kernel(self) -> None:
        """A distribution from outside metalab still works, through its kernel."""

        class Opaque:
            """A distribution metalab knows only through the protocol."""

            def __init__(self, dist: Distribution) -> None:
                self._dist = dist

            def __getattr__(self, name: str) -> Any:
                return getattr(self._dist, name)

        law = randint(-(2**63), 0)
        opaque = RandomSource({"n": Opaque(law), "x": uniform(0, 1)}, 100, seed=3)  # type: ignore[dict-item]
        plain = RandomSource({"n": law, "x": uniform(0, 1)}, 100, seed=3)
        assert all(same_case(opaque[i], plain[i]) for i in range(100))

    @given(seed=st.integers(0, TWO64 - 1), names=st.lists(NAMES, min_size=1, max_size=6))
    def test_written_mixing_equals_the_streams(self, seed: int, names: list[str]) -> None:
        """`Lanes.source` gives each stream's bits, up to the last index below 2**64."""
        streams = [Stream(seed, name) for name in names]
        targets = [f"b{j}" for j in range(len(streams))]
        text, constants = Lanes(streams).source(targets)
        body = "".join(f"    {line}\n" for line in text.splitlines())
        namespace: dict[str, Any] = dict(constants)
        exec(f"def bits(i):\n{body}    return {', '.join(targets)},\n", namespace)  # noqa: S102
        for i in (0, 1, 12345, TWO64 - 1):
            assert namespace["bits"](i) == tuple(s.bits(i) for s in streams)

    def test_the_function_is_built_once_per_source(self) -> None:
        """The first lookup writes the function; later lookups reuse it."""
        source = RandomSource({"x": uniform(0, 1)}, 10, seed=0)
        assert source[1] == source[1]
        function = source._written_case
        assert function is not None
        assert source[2] == one_by_one(source, 2)
        assert source._written_case is function
