"""A seeded bijection of ``[0, n)`` for any ``n``, computed one index at a time.

`shuffled` sources and `replicates` seeds are built on `Permutation`: case ``i`` of
``source.shuffled(seed)`` is case ``Permutation(seed, n)(i)`` of ``source``, computed in
O(1) (no list of ``n`` indices is ever built), for ``n`` of any magnitude.

Algorithm ``"feistel-v1"`` (a pure function of ``(seed, n, i)``, the same on every
platform; changing it reorders every shuffled sweep, so it never changes):

- ``mix`` is the SplitMix64 finalizer and ``G = 0x9E3779B97F4A7C15``; all 64-bit
  arithmetic is modulo ``2**64``.
- The domain is ``[0, 4**m)`` with ``m`` the smallest integer such that ``4**m >= n``; an
  index ``x`` in it is split into two ``m``-bit halves, ``x = L * 2**m + R``.
- Round keys: ``k = mix(seed ^ SALT)``, ``key_r = mix(k + (r + 1) * G + m)`` for rounds
  ``r = 0 .. 5``.
- Round function ``F_r(R)``: the ``m``-bit value ``R`` is cut into 64-bit words
  ``c_0, c_1, ...`` (lowest first; one word when ``m <= 64``), absorbed as
  ``h = key_r``, ``h = mix(h + c_j * G)``; the output words are ``h`` then
  ``mix(h + j * G)`` for ``j = 1, 2, ...``, concatenated lowest first and cut to ``m`` bits.
- One round maps ``(L, R)`` to ``(R, L ^ F_r(R))``; six rounds make the bijection ``P`` of
  the domain.
- Cycle walking: ``perm(i) = P(i)`` if that is below ``n``, else ``P(P(i))``, and so on.
  Since ``P`` is a bijection of a finite set, the walk from ``i < n`` returns below ``n``,
  and the result is a bijection of ``[0, n)``. The domain is less than ``4 * n``, so
  fewer than four steps are needed on average.

The inverse runs the rounds backwards and walks the same way, which is what
``index_of`` on a shuffled source needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, final

import numpy as np

# The SplitMix64 finalizer and its constants are the random streams' own.
from metalab._sources.rng import GOLDEN, M1, M2, MASK64, mix64, mix64_array

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["ALGORITHM", "Permutation"]

ALGORITHM: Final = "feistel-v1"
"""The name of the permutation algorithm described in this module's docstring."""

ROUNDS: Final = 6
"""Feistel rounds: four already make a strong pseudo-random permutation; two spare."""

SALT: Final = 0x6D6574616C61622E
"""Separates permutation keys from other uses of the seed (``b"metalab."`` as an int)."""

_MAX_VECTOR_HALF: Final = 32
"""The widest half the vectorized path handles: two halves must fit in a ``uint64``."""

_NGOLDEN: Final = np.uint64(GOLDEN)


def half_bits(n: int) -> int:
    """The half width ``m``: the smallest integer with ``4**m >= n``.

    >>> [half_bits(n) for n in (0, 1, 2, 4, 5, 16, 17, 2**64)]
    [0, 0, 1, 1, 2, 2, 3, 32]
    """
    if n <= 1:
        return 0
    return ((n - 1).bit_length() + 1) // 2


@final
class Permutation:
    """The seeded bijection of ``[0, size)`` described in the module docstring.

    >>> p = Permutation(seed=3, size=10)
    >>> sorted(p(i) for i in range(10)) == list(range(10))
    True
    >>> all(p.inverse(p(i)) == i for i in range(10))
    True
    """

    __slots__ = ("_keys", "_m", "_mask", "_words", "seed", "size")

    def __init__(self, seed: int, size: int) -> None:
        """Derive the round keys of the permutation of ``[0, size)`` under ``seed``.

        ``seed`` must lie in ``[0, 2**64)`` and ``size`` be ``>= 0``; callers validate.
        """
        self.seed: Final = seed
        self.size: Final = size
        m = half_bits(size)
        base = mix64(seed ^ SALT)
        self._m = m
        self._mask = (1 << m) - 1
        self._words = max(1, -(-m // 64))
        self._keys = tuple(mix64((base + (r + 1) * GOLDEN + m) & MASK64) for r in range(ROUNDS))

    def __reduce__(self) -> tuple[type[Permutation], tuple[int, int]]:
        """Pickle the seed and the size (with every protocol; slots alone need >= 2)."""
        return Permutation, (self.seed, self.size)

    def __repr__(self) -> str:
        """Show the seed and the size."""
        return f"Permutation(seed={self.seed}, size={self.size})"

    def _round(self, key: int, half: int) -> int:
        """``F_r`` for halves wider than 64 bits (narrower ones are inlined below)."""
        h = key
        for j in range(self._words):
            h = mix64((h + ((half >> (64 * j)) & MASK64) * GOLDEN) & MASK64)
        out = h
        for j in range(1, self._words):
            out |= mix64((h + j * GOLDEN) & MASK64) << (64 * j)
        return out & self._mask

    def _forward(self, x: int) -> int:
        m, mask = self._m, self._mask
        left, right = x >> m, x & mask
        if self._words > 1:
            for key in self._keys:
                left, right = right, left ^ self._round(key, right)
            return (left << m) | right
        for key in self._keys:  # the single-word F_r, inlined: this is the hot loop
            z = (key + right * GOLDEN) & MASK64
            z = ((z ^ (z >> 30)) * M1) & MASK64
            z = ((z ^ (z >> 27)) * M2) & MASK64
            left, right = right, left ^ ((z ^ (z >> 31)) & mask)
        return (left << m) | right

    def _backward(self, x: int) -> int:
        m, mask = self._m, self._mask
        left, right = x >> m, x & mask
        if self._words > 1:
            for key in reversed(self._keys):
                left, right = right ^ self._round(key, left), left
            return (left << m) | right
        for key in reversed(self._keys):
            z = (key + left * GOLDEN) & MASK64
            z = ((z ^ (z >> 30)) * M1) & MASK64
            z = ((z ^ (z >> 27)) * M2) & MASK64
            left, right = right ^ ((z ^ (z >> 31)) & mask), left
        return (left << m) | right

    def __call__(self, i: int) -> int:
        """The image of ``i``, for ``0 <= i < size``."""
        if self.size <= 1:
            return i
        x = self._forward(i)
        while x >= self.size:
            x = self._forward(x)
        return x

    def inverse(self, j: int) -> int:
        """The ``i`` with ``self(i) == j``, for ``0 <= j < size``."""
        if self.size <= 1:
            return j
        x = self._backward(j)
        while x >= self.size:
            x = self._backward(x)
        return x

    def array(self, indices: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        """The images of many indices at once (same values as calling `self` on each).

        Vectorized with NumPy when the domain fits in 64 bits (``size <= 2**64``);
        otherwise computed one by one (the result is then an ``object`` array).
        """
        if self.size <= 1:
            return indices.copy()
        if self._m > _MAX_VECTOR_HALF:
            return np.array([self(int(i)) for i in indices.tolist()], dtype=object)
        out = self._forward_array(indices.astype(np.uint64))
        if self.size < (1 << (2 * self._m)):
            limit = np.uint64(self.size)
            outside = np.flatnonzero(out >= limit)
            while outside.size:
                walked = self._forward_array(out[outside])
                out[outside] = walked
                outside = outside[walked >= limit]
        return out

    def _forward_array(self, x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
        m = np.uint64(self._m)
        mask = np.uint64(self._mask)
        left, right = x >> m, x & mask
        for key in self._keys:
            mixed = mix64_array(right * _NGOLDEN + np.uint64(key)) & mask
            left, right = right, left ^ mixed
        return (left << m) | right
