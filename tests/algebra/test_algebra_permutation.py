"""The seeded Feistel permutation behind ``shuffled`` and ``replicates``."""

from __future__ import annotations

import pickle
from collections import Counter
from itertools import permutations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab._sources.permutation import Permutation, half_bits

MASK64 = (1 << 64) - 1
G = 0x9E3779B97F4A7C15


def mix(z: int) -> int:
    """The SplitMix64 finalizer, written out from its published constants."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def reference(seed: int, n: int, i: int) -> int:
    """The permutation exactly as the module docstring describes it, written naively."""
    if n <= 1:
        return i
    m = 0
    while (1 << (2 * m)) < n:
        m += 1
    k = mix(seed ^ 0x6D6574616C61622E)
    keys = [mix((k + (r + 1) * G + m) % 2**64) for r in range(6)]
    words = max(1, -(-m // 64))

    def f(key: int, half: int) -> int:
        h = key
        for j in range(words):
            h = mix((h + ((half >> (64 * j)) % 2**64) * G) % 2**64)
        out = [h] + [mix((h + j * G) % 2**64) for j in range(1, words)]
        return sum(w << (64 * j) for j, w in enumerate(out)) % (1 << m)

    x = i
    while True:
        left, right = divmod(x, 1 << m)
        for key in keys:
            left, right = right, left ^ f(key, right)
        x = (left << m) + right
        if x < n:
            return x


SEEDS = st.integers(0, 2**64 - 1)


class TestBijection:
    """Every permutation maps [0, n) onto itself, one to one, with a working inverse."""

    @pytest.mark.parametrize("n", [*range(40), 63, 64, 65, 255, 256, 257, 1000, 4097])
    def test_small_sizes_are_permutations(self, n: int) -> None:
        """For each n the images of 0..n-1 are exactly 0..n-1, and inverse undoes them."""
        perm = Permutation(seed=12345, size=n)
        images = [perm(i) for i in range(n)]
        assert sorted(images) == list(range(n))
        assert [perm.inverse(j) for j in images] == list(range(n))

    @given(seed=SEEDS, n=st.integers(0, 300))
    def test_any_seed_gives_a_permutation(self, seed: int, n: int) -> None:
        """Whatever the seed, the map is a bijection of [0, n)."""
        perm = Permutation(seed, n)
        assert sorted(map(perm, range(n))) == list(range(n))

    @given(seed=SEEDS, n=st.integers(2, 10**60), data=st.data())
    def test_huge_sizes_stay_in_range_and_invert(
        self, seed: int, n: int, data: st.DataObject
    ) -> None:
        """Far beyond 2**64, images lie in [0, n) and inverse maps them back."""
        perm = Permutation(seed, n)
        i = data.draw(st.integers(0, n - 1))
        j = perm(i)
        assert 0 <= j < n
        assert perm.inverse(j) == i

    @given(seed=SEEDS, n=st.integers(0, 2**64), data=st.data())
    def test_vectorized_path_agrees_with_scalar(
        self, seed: int, n: int, data: st.DataObject
    ) -> None:
        """Permuting a uint64 array gives the same values as one index at a time."""
        perm = Permutation(seed, n)
        indices = data.draw(st.lists(st.integers(0, n - 1), max_size=20)) if n else []
        array = perm.array(np.array(indices, dtype=np.uint64))
        assert array.tolist() == [perm(i) for i in indices]

    def test_array_beyond_64_bits_falls_back_to_scalar(self) -> None:
        """Domains wider than 64 bits are permuted one index at a time, with the same values."""
        perm = Permutation(7, 10**30)
        assert perm.array(np.array([0, 5, 2**63], dtype=np.uint64)).tolist() == [
            perm(0),
            perm(5),
            perm(2**63),
        ]

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_pickles_with_every_protocol(self, protocol: int) -> None:
        """A pickled permutation maps every index as the original does."""
        perm = Permutation(7, 10**30)
        copy = pickle.loads(pickle.dumps(perm, protocol=protocol))  # noqa: S301 - our own bytes
        assert (copy.seed, copy.size) == (7, 10**30)
        assert [copy(i) for i in (0, 1, 10**29)] == [perm(i) for i in (0, 1, 10**29)]


class TestAlgorithm:
    """The permutation is the documented algorithm, so it can be reimplemented anywhere."""

    @given(seed=SEEDS, n=st.integers(0, 5000), data=st.data())
    def test_matches_the_documented_algorithm(self, seed: int, n: int, data: st.DataObject) -> None:
        """A naive implementation of the docstring gives the same image (domains <= 2**64)."""
        i = data.draw(st.integers(0, max(n - 1, 0)))
        assert Permutation(seed, n)(i) == reference(seed, max(n, 1), i)

    @given(seed=SEEDS, n=st.integers(2**128 + 1, 2**300), data=st.data())
    def test_matches_the_documented_algorithm_for_multiword_halves(
        self, seed: int, n: int, data: st.DataObject
    ) -> None:
        """The multi-word round function (halves wider than 64 bits) is the documented one."""
        i = data.draw(st.integers(0, n - 1))
        assert Permutation(seed, n)(i) == reference(seed, n, i)

    def test_pinned_values(self) -> None:
        """A few images are pinned: changing them would reorder every saved shuffled sweep."""
        assert [Permutation(0, 10)(i) for i in range(10)] == [
            reference(0, 10, i) for i in range(10)
        ]
        assert [Permutation(0, 10)(i) for i in range(10)] == [7, 8, 5, 9, 1, 2, 6, 3, 0, 4]
        assert Permutation(42, 2**32)(0) == reference(42, 2**32, 0) == 3387478995

    @pytest.mark.parametrize(
        ("n", "m"), [(0, 0), (1, 0), (2, 1), (4, 1), (5, 2), (16, 2), (17, 3), (2**64, 32)]
    )
    def test_half_bits_is_the_smallest_power_of_four(self, n: int, m: int) -> None:
        """The domain is the smallest power of four that holds n indices."""
        assert half_bits(n) == m
        assert 4**m >= n
        assert m == 0 or 4 ** (m - 1) < n


class TestSpread:
    """Different seeds give different orders, and small domains reach every order."""

    def test_every_order_of_three_items_occurs(self) -> None:
        """Over many seeds all six orders of three items appear, none dominating."""
        counts = Counter(tuple(Permutation(s, 3)(i) for i in range(3)) for s in range(600))
        assert set(counts) == set(permutations(range(3)))
        assert max(counts.values()) < 3 * min(counts.values())

    def test_seeds_give_different_orders(self) -> None:
        """Twenty seeds give (almost) twenty different orders of ten items."""
        orders = {tuple(Permutation(s, 10)(i) for i in range(10)) for s in range(20)}
        assert len(orders) >= 18

    def test_first_images_are_spread_over_the_range(self) -> None:
        """The images of 0..999 under a permutation of a million cover all ten deciles."""
        perm = Permutation(1, 10**6)
        deciles = Counter(perm(i) // 10**5 for i in range(1000))
        assert len(deciles) == 10
        assert max(deciles.values()) < 200
