"""Counter-based random bits: the kernel behind every random source.

The draw of parameter ``name`` in trial ``i`` is a pure function of ``(seed, name, i)``
and of the distribution, so any trial can be computed alone, in any order, in any
process, and a batch of trials is computed in one vectorized NumPy pass.

Algorithm ``"splitmix64-v1"`` (documented in ``docs/reproducibility.md``):

- ``h(name)``: the first 8 bytes, little-endian, of BLAKE2b(name as UTF-8,
  person ``b"metalab.name"``).
- stream key: ``k = mix(mix(seed + G) ^ h(name))``, where ``mix`` is the SplitMix64
  finalizer and ``G = 0x9E3779B97F4A7C15``, all arithmetic modulo 2**64.
- draw ``d`` (0 for the first value a distribution needs, 1 for the second, ...) of
  trial ``i``: ``bits = mix(mix(k + d * G) + (i + 1) * G)``: SplitMix64's output
  number ``i`` for the sub-stream ``d``.
- a unit float: ``(bits >> 11) * 2**-53``, exactly representable, in ``[0, 1)``.
- an integer below ``n``: ``bits % n`` if ``bits < 2**64 - 2**64 % n``, otherwise the
  next sub-stream's bits are tried (rejection, so every value is equally likely).

Each primitive has a scalar form on Python ints, for single-trial access, and an array
form on ``uint64``; integer arithmetic is exact in both and floats go through the same
IEEE operations, so both forms give the same bits.
"""

from __future__ import annotations

import hashlib
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALGORITHM",
    "LEGACY_ALGORITHM",
    "Stream",
    "mix64",
    "name_hash",
]

ALGORITHM: Final = "splitmix64-v1"
"""The name of the current random algorithm, written into every random-source manifest."""

LEGACY_ALGORITHM: Final = "python-random-v0"
"""The algorithm of metalab's earlier manifest format (a ``random.Random`` per trial)."""

MASK64: Final = (1 << 64) - 1
GOLDEN: Final = 0x9E3779B97F4A7C15
_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
TWO_POW_64: Final = 1 << 64
UNIT: Final = 2.0**-53

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_U30: Final = np.uint64(30)
_U27: Final = np.uint64(27)
_U31: Final = np.uint64(31)
_U11: Final = np.uint64(11)
_NM1: Final = np.uint64(_M1)
_NM2: Final = np.uint64(_M2)
_NGOLDEN: Final = np.uint64(GOLDEN)


def mix64(z: int) -> int:
    """The SplitMix64 finalizer on a Python int in ``[0, 2**64)``: a bijection.

    >>> hex(mix64(0)), hex(mix64(1))
    ('0x0', '0x5692161d100b05e5')
    """
    z = ((z ^ (z >> 30)) * _M1) & MASK64
    z = ((z ^ (z >> 27)) * _M2) & MASK64
    return z ^ (z >> 31)


def mix64_array(z: U64) -> U64:
    """`mix64` over a ``uint64`` array, in place (wrapping arithmetic is what we want)."""
    z ^= z >> _U30
    z *= _NM1
    z ^= z >> _U27
    z *= _NM2
    z ^= z >> _U31
    return z


def name_hash(name: str) -> int:
    """A stable 64-bit hash of a parameter name (independent of ``PYTHONHASHSEED``)."""
    raw = hashlib.blake2b(name.encode("utf-8"), digest_size=8, person=b"metalab.name").digest()
    return int.from_bytes(raw, "little")


class Stream:
    """The random bits of one parameter of one random source, for any trial index."""

    __slots__ = ("_keys", "key")

    def __init__(self, seed: int, name: str) -> None:
        """Derive the stream key of parameter ``name`` under ``seed``."""
        self.key: Final = mix64(mix64((seed + GOLDEN) & MASK64) ^ name_hash(name))
        self._keys: dict[int, int] = {}

    def _sub_key(self, draw: int) -> int:
        key = self._keys.get(draw)
        if key is None:
            key = mix64((self.key + draw * GOLDEN) & MASK64)
            self._keys[draw] = key
        return key

    # -- scalar forms -------------------------------------------------------------
    def bits(self, index: int, draw: int = 0) -> int:
        """64 random bits for trial ``index``, sub-stream ``draw``."""
        return mix64((self._sub_key(draw) + (index + 1) * GOLDEN) & MASK64)

    def unit(self, index: int, draw: int = 0) -> float:
        """A float in ``[0, 1)`` with 53 random bits."""
        return (self.bits(index, draw) >> 11) * UNIT

    def below(self, index: int, n: int, draw: int = 0) -> int:
        """An integer uniform in ``[0, n)`` for ``1 <= n <= 2**64``, without bias."""
        limit = TWO_POW_64 - TWO_POW_64 % n
        while True:
            bits = self.bits(index, draw)
            if bits < limit:
                return bits % n
            draw += 1  # pragma: no cover - probability below n / 2**64

    # -- array forms ----------------------------------------------------------------
    def bits_array(self, index: U64, draw: int = 0) -> U64:
        """`bits` for every index of a ``uint64`` array."""
        z = index + np.uint64(1)
        z *= _NGOLDEN
        z += np.uint64(self._sub_key(draw))
        return mix64_array(z)

    def unit_array(self, index: U64, draw: int = 0) -> F64:
        """`unit` for every index of a ``uint64`` array."""
        bits = self.bits_array(index, draw)
        bits >>= _U11
        out = bits.astype(np.float64)
        out *= UNIT
        return out

    def below_array(self, index: U64, n: int, draw: int = 0) -> U64:
        """`below` for every index of a ``uint64`` array."""
        limit = TWO_POW_64 - TWO_POW_64 % n
        bits = self.bits_array(index, draw)
        if n == TWO_POW_64:
            return bits
        nn = np.uint64(n)
        if limit == TWO_POW_64:
            return bits % nn
        bad = bits >= np.uint64(limit)
        while bad.any():  # pragma: no cover - probability below n / 2**64 per value
            draw += 1
            bits[bad] = self.bits_array(index[bad], draw)
            bad = bits >= np.uint64(limit)
        return bits % nn
