"""Counter-based random bits: the kernel behind every random source.

The draw of parameter ``name`` in trial ``i`` is a pure function of ``(seed, name, i)``
and of the distribution, so any trial can be computed alone, in any order, in any
process, and a batch of trials is computed in one vectorized NumPy pass.

Algorithm ``"splitmix64-v1"`` (the full description, with every distribution, is in
``docs/reproducibility.md``); all arithmetic is on unsigned 64-bit integers, modulo 2**64:

- ``mix(z)``: the SplitMix64 finalizer ``z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
  z ^= z >> 27; z *= 0x94D049BB133111EB; z ^= z >> 31``, a bijection.
- ``h(name)``: the first 8 bytes, little-endian, of BLAKE2b(name as UTF-8, digest size
  8, person ``b"metalab.name"``).
- stream key of a parameter: ``key = mix(mix(seed + G) ^ h(name))`` with the golden
  gamma ``G = 0x9E3779B97F4A7C15``.
- sub-stream ``d`` (0 for the first number a distribution needs, 1 for the second):
  ``c_d = mix(key + d * G) + G``.
- the bits of trial ``i`` in sub-stream ``d``: ``bits(i, d) = mix(c_d + i * G)``, which is
  output ``i`` of a SplitMix64 generator seeded with ``mix(key + d * G)``.
- the 53-bit integer of a draw: ``k = bits >> 11``; the unit float ``k * 2**-53`` lies
  in ``[0, 1)`` and is exact.
- an integer below ``n`` (``1 <= n <= 2**64``): ``bits(i, d) % n`` for the first ``d = 0,
  1, 2, ...`` with ``bits(i, d) < 2**64 - 2**64 % n`` (rejection, so every value is
  equally likely; a retry happens with probability below ``n / 2**64``).

Each primitive has a scalar form on Python ints, for single-trial access, and an array
form on ``uint64``; integer arithmetic is exact in both, and the floats go through the
same IEEE operations, so both forms give the same bits.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Final, final

import numpy as np
import numpy.typing as npt

from metalab._core.hashing import blake2b

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "ALGORITHM",
    "LEGACY_ALGORITHM",
    "Lanes",
    "Stream",
    "Work",
    "golden_multiple",
    "mix64",
    "mix64_array",
    "name_hash",
]

ALGORITHM: Final = "splitmix64-v1"
"""The name of the current random algorithm, written into every random-source manifest."""

LEGACY_ALGORITHM: Final = "python-random-v0"
"""The algorithm of metalab's earlier manifest format (a ``random.Random`` per trial)."""

MASK64: Final = (1 << 64) - 1
GOLDEN: Final = 0x9E3779B97F4A7C15
M1: Final = 0xBF58476D1CE4E5B9
M2: Final = 0x94D049BB133111EB
TWO_POW_64: Final = 1 << 64
UNIT: Final = 2.0**-53
"""The weight of one step of the 53-bit integer of a draw: ``k * UNIT`` is in ``[0, 1)``."""

U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]

_U30: Final = np.uint64(30)
_U27: Final = np.uint64(27)
_U31: Final = np.uint64(31)
_U11: Final = np.uint64(11)
_NM1: Final = np.uint64(M1)
_NM2: Final = np.uint64(M2)
_NGOLDEN: Final = np.uint64(GOLDEN)


def mix64(z: int) -> int:
    """The SplitMix64 finalizer on a Python int in ``[0, 2**64)``: a bijection.

    >>> hex(mix64(0)), hex(mix64(1))
    ('0x0', '0x5692161d100b05e5')
    """
    z = ((z ^ (z >> 30)) * M1) & MASK64
    z = ((z ^ (z >> 27)) * M2) & MASK64
    return z ^ (z >> 31)


def mix64_array(z: U64, tmp: U64 | None = None) -> U64:
    """`mix64` over a ``uint64`` array, in place; ``tmp`` is scratch space of the same size.

    >>> mix64_array(np.array([0, 1], dtype=np.uint64)).tolist() == [mix64(0), mix64(1)]
    True
    """
    if tmp is None:
        tmp = np.empty_like(z)
    np.right_shift(z, _U30, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _NM1, out=z)
    np.right_shift(z, _U27, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    np.multiply(z, _NM2, out=z)
    np.right_shift(z, _U31, out=tmp)
    np.bitwise_xor(z, tmp, out=z)
    return z


def golden_multiple(index: U64, out: U64 | None = None) -> U64:
    """``index * G`` modulo 2**64: the per-trial term that every stream adds its offset to.

    >>> golden_multiple(np.array([0, 1], dtype=np.uint64)).tolist() == [0, GOLDEN]
    True
    """
    return np.multiply(index, _NGOLDEN, out=out)


@final
class Work:
    """Scratch arrays for the array kernels: two ``uint64`` and one ``float64``.

    One `Work` serves every parameter of a chunk in turn, so a batch allocates its
    temporaries once instead of once per operation.
    """

    __slots__ = ("f", "tmp", "z")

    def __init__(self, size: int) -> None:
        """Allocate scratch space for chunks of up to ``size`` trials."""
        self.z: U64 = np.empty(size, dtype=np.uint64)
        self.tmp: U64 = np.empty(size, dtype=np.uint64)
        self.f: F64 = np.empty(size, dtype=np.float64)

    def head(self, size: int) -> Work:
        """The first ``size`` elements of each scratch array (views, no copy)."""
        if size == len(self.z):
            return self
        view = Work.__new__(Work)
        view.z, view.tmp, view.f = self.z[:size], self.tmp[:size], self.f[:size]
        return view


def name_hash(name: str) -> int:
    """A stable 64-bit hash of a parameter name (independent of ``PYTHONHASHSEED``).

    >>> hex(name_hash("lr")) == hex(name_hash("lr")) != hex(name_hash("lr2"))
    True
    """
    raw = blake2b(name.encode("utf-8"), digest_size=8, person=b"metalab.name").digest()
    return int.from_bytes(raw, "little")


class Stream:
    """The random bits of one parameter of one random source, for any trial index.

    >>> s = Stream(seed=0, name="lr")
    >>> s.bits(5) == int(s.bits_array(np.array([5], dtype=np.uint64))[0])
    True
    """

    __slots__ = ("_offsets", "key")

    def __init__(self, seed: int, name: str) -> None:
        """Derive the stream key of parameter ``name`` under ``seed`` (in ``[0, 2**64)``)."""
        self.key: Final = mix64(mix64((seed + GOLDEN) & MASK64) ^ name_hash(name))
        self._offsets: dict[int, int] = {}

    def offset(self, draw: int) -> int:
        """``c_d``: the constant that sub-stream ``draw`` adds to ``index * G`` before mixing."""
        c = self._offsets.get(draw)
        if c is None:
            c = (mix64((self.key + draw * GOLDEN) & MASK64) + GOLDEN) & MASK64
            self._offsets[draw] = c
        return c

    # -- scalar forms -------------------------------------------------------------
    def bits(self, index: int, draw: int = 0) -> int:
        """64 random bits for trial ``index`` in sub-stream ``draw``."""
        return mix64((self.offset(draw) + index * GOLDEN) & MASK64)

    def bits_function(self, draw: int = 0) -> Callable[[int], int]:
        """`bits` of one sub-stream as a fast function of the trial index."""
        c = self.offset(draw)

        def bits(index: int) -> int:
            z = (c + index * GOLDEN) & MASK64
            z = ((z ^ (z >> 30)) * M1) & MASK64
            z = ((z ^ (z >> 27)) * M2) & MASK64
            return z ^ (z >> 31)

        return bits

    def below_kernel(self, n: int) -> Callable[[int, int], int]:
        """``(index, bits(index)) -> integer uniform in [0, n)``, for ``1 <= n <= 2**64``.

        Rejected bits (probability below ``n / 2**64``) are replaced by those of
        sub-streams 1, 2, ... of the same trial.
        """
        limit = TWO_POW_64 - TWO_POW_64 % n

        def below(index: int, bits: int) -> int:
            if bits < limit:
                return bits % n
            return self._retry(index, n, limit)

        return below

    def _retry(self, index: int, n: int, limit: int) -> int:
        draw = 1
        while True:
            b = self.bits(index, draw)
            if b < limit:
                return b % n
            draw += 1

    def below(self, index: int, n: int) -> int:
        """An integer uniform in ``[0, n)`` for trial ``index``, ``1 <= n <= 2**64``."""
        return self.below_kernel(n)(index, self.bits(index))

    def unit(self, index: int, draw: int = 0) -> float:
        """A float in ``[0, 1)`` with 53 random bits: ``(bits >> 11) * 2**-53``."""
        return (self.bits(index, draw) >> 11) * UNIT

    # -- array forms ----------------------------------------------------------------
    # ``ig`` is ``index * G`` (see `golden_multiple`), computed once per batch for all
    # parameters; results go into the caller's arrays, so nothing is allocated per call.
    def bits_into(self, ig: U64, draw: int, work: Work) -> U64:
        """`bits` for every trial of a batch, written to (and returned as) ``work.z``."""
        z = work.z
        np.add(ig, np.uint64(self.offset(draw)), out=z)
        return mix64_array(z, work.tmp)

    def scaled_into(self, ig: U64, draw: int, scale: float, out: F64, work: Work) -> F64:
        """``(bits >> 11) * scale`` for every trial of a batch, written to ``out``."""
        z = self.bits_into(ig, draw, work)
        np.right_shift(z, _U11, out=z)
        return np.multiply(z, scale, out=out)

    def below_into(self, ig: U64, n: int, work: Work) -> U64:
        """`below` for every trial of a batch, written to (and returned as) ``work.z``."""
        z = self.bits_into(ig, 0, work)
        limit = TWO_POW_64 - TWO_POW_64 % n
        if limit == TWO_POW_64:
            if n < TWO_POW_64:
                np.bitwise_and(z, np.uint64(n - 1), out=z)
            return z
        top = np.uint64(limit)
        bad = np.flatnonzero(z >= top)
        draw = 1
        while len(bad):
            retry = np.add(ig[bad], np.uint64(self.offset(draw)))
            z[bad] = mix64_array(retry)
            bad = bad[z[bad] >= top]
            draw += 1
        np.remainder(z, np.uint64(n), out=z)
        return z

    def bits_array(self, index: U64, draw: int = 0) -> U64:
        """`bits` for every index of a ``uint64`` array (a new array)."""
        return self.bits_into(golden_multiple(index), draw, Work(len(index))).copy()

    def unit_array(self, index: U64, draw: int = 0) -> F64:
        """`unit` for every index of a ``uint64`` array (a new array)."""
        out = np.empty(len(index), dtype=np.float64)
        return self.scaled_into(golden_multiple(index), draw, UNIT, out, Work(len(index)))

    def below_array(self, index: U64, n: int) -> U64:
        """`below` for every index of a ``uint64`` array (a new array)."""
        return self.below_into(golden_multiple(index), n, Work(len(index))).copy()


@final
class Lanes:
    """The bits of sub-stream 0 of several streams for one trial, mixed in one pass.

    Each stream gets a 128-bit lane of one Python int; masking after each xor-shift
    keeps a lane's bits from reaching its neighbour, so the lanes hold exactly the
    values `Stream.bits` gives one at a time, for a fraction of the interpreter work.
    A lane has room for ``index * G + c`` before reduction (below ``2**128`` for any
    index below ``2**64``), so one multiplication spreads the index over every lane.

    >>> streams = [Stream(0, "a"), Stream(0, "b")]
    >>> Lanes(streams).bits(7) == (streams[0].bits(7), streams[1].bits(7))
    True
    """

    __slots__ = ("_gamma", "_mask", "_nbytes", "_offsets", "_unpack")

    def __init__(self, streams: Sequence[Stream]) -> None:
        """Pack the sub-stream-0 offsets of ``streams``, one lane each."""
        offsets = [stream.offset(0) for stream in streams]
        ones = sum(1 << (128 * j) for j in range(len(offsets)))
        self._offsets = sum(c << (128 * j) for j, c in enumerate(offsets))
        self._gamma = GOLDEN * ones
        self._mask = MASK64 * ones
        self._nbytes = 16 * len(offsets)
        self._unpack = struct.Struct("<" + "Q8x" * len(offsets)).unpack

    def bits(self, index: int) -> tuple[int, ...]:
        """``stream.bits(index)`` for every stream, in order (``0 <= index < 2**64``)."""
        mask = self._mask
        z = (index * self._gamma + self._offsets) & mask
        z = ((z ^ (z >> 30)) & mask) * M1 & mask
        z = ((z ^ (z >> 27)) & mask) * M2 & mask
        z ^= z >> 31
        lanes: tuple[int, ...] = self._unpack(z.to_bytes(self._nbytes, "little"))
        return lanes

    def source(self, names: Sequence[str]) -> tuple[str, dict[str, object]]:
        """`bits` as inline statements, for a function generated for one source.

        The statements read the trial index ``i`` and assign the bits of stream ``j``
        to the local variable ``names[j]``; they use the local ``z`` and the returned
        names, all prefixed ``lanes_``, which the function's namespace must hold.
        """
        targets = "".join(f"{name}, " for name in names)
        code = (
            "z = (i * lanes_gamma + lanes_offsets) & lanes_mask\n"
            "z = ((z ^ (z >> 30)) & lanes_mask) * lanes_m1 & lanes_mask\n"
            "z = ((z ^ (z >> 27)) & lanes_mask) * lanes_m2 & lanes_mask\n"
            f'{targets}= lanes_unpack((z ^ (z >> 31)).to_bytes(lanes_nbytes, "little"))\n'
        )
        namespace: dict[str, object] = {
            "lanes_gamma": self._gamma,
            "lanes_offsets": self._offsets,
            "lanes_mask": self._mask,
            "lanes_m1": M1,
            "lanes_m2": M2,
            "lanes_unpack": self._unpack,
            "lanes_nbytes": self._nbytes,
        }
        return code, namespace
