"""`ReplicateSource` and `replicates`: n cases that differ only in a distinct seed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final, final

import attrs
import numpy as np

from metalab._algebra._common import Indices, check_seed, checked_array
from metalab._core.case import ParamCase, encode_item, make_case
from metalab._core.intstr import format_count
from metalab._core.values import ParamValue, check_int, normalize_key, normalize_value
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw
from metalab._sources.permutation import Permutation
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    import numpy.typing as npt

__all__ = ["MAX_REPLICATES", "ReplicateSource", "replicates"]

MAX_REPLICATES: Final = 2**32
"""The most replicates one source can have: each needs a distinct 32-bit seed."""

_CHUNK: Final = 1 << 12
"""Seeds computed per vectorized batch while iterating."""


@final
@attrs.frozen(init=False, repr=False)
class ReplicateSource(ParamSource):
    """``n`` cases ``{key: s_i}``, tagged ``replicate_{i}``, with distinct 32-bit seeds.

    ``s_i = perm(i)``, where ``perm`` is the permutation of ``[0, 2**32)`` that
    ``shuffled(seed)`` uses (see `metalab._sources.permutation`): a pure function of
    ``(seed, i)``, so replicate ``i`` has the same seed whatever ``n`` is, and two
    replicates never share one. Every ``s_i`` lies in ``[0, 2**32)``, which every random
    number generator accepts as a seed (NumPy's legacy ``RandomState`` included).

    >>> s = ReplicateSource(3, seed=42)
    >>> s.seeds() == ReplicateSource(5, seed=42).seeds()[:3]
    True
    >>> s[1].tags
    ('replicate_1',)
    """

    manifest_type: ClassVar[str] = "ReplicateSource"

    n: int
    """The number of replicates, at most ``2**32``."""
    seed: int
    """The seed from which the replicate seeds derive, an int in ``[0, 2**64)``."""
    key: str
    """The parameter name that holds each replicate's seed."""

    _perm: Permutation = attrs.field(init=False, eq=False, repr=False)

    def __init__(self, n: int, seed: int, key: str = "seed") -> None:
        """Validate the count, the seed and the key.

        Raises:
            ParamError: ``n`` is not an int in ``[0, 2**32]``, ``seed`` is not an int in
                ``[0, 2**64)`` (bools are refused), or ``key`` is not a non-empty str.
        """
        count = check_int(n, "replicates n")
        if not 0 <= count <= MAX_REPLICATES:
            msg = f"replicates n must be an int in [0, 2**32], got {count}"
            raise ParamError(msg)
        seed_ = check_seed(seed, "replicates seed")
        name = normalize_key(key, "replicates key")
        self.__attrs_init__(count, seed_, name)
        object.__setattr__(self, "_perm", Permutation(seed_, MAX_REPLICATES))

    @property
    def size(self) -> int:
        """The number of replicates."""
        return self.n

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name, ``key``."""
        return (self.key,)

    def describe(self) -> Description:
        """A ``replicates`` node: its seed, and how many distinct seeds it gives."""
        line = (self.key, ":", f"{format_count(self.size)} distinct seeds")
        return Description("replicates", (f"seed {self.seed}",), (line,))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The first replicate's seed (every seed is an int)."""
        if self.size > 0:
            yield self.key, self[0].params[self.key], f"replicate seeds for {self.key!r}"

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """Every case has the one key."""
        del indices, scan
        return {frozenset(self.keys)}

    def raw(self, i: int) -> Raw:
        return {self.key: self._perm(i)}, (f"replicate_{i}",)

    def _case(self, i: int) -> ParamCase:
        value = self._perm(i)
        encoded = (encode_item(self.key, value),)
        return make_case({self.key: value}, (f"replicate_{i}",), encoded)

    def seeds(self) -> list[int]:
        """Every replicate's seed, in order (computed in one vectorized pass).

        >>> s = ReplicateSource(4, seed=0)
        >>> s.seeds() == [case.params["seed"] for case in s]
        True
        """
        return self._perm.array(np.arange(self.n, dtype=np.uint64)).tolist()  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[ParamCase]:
        """Every replicate in order, seeds computed in vectorized chunks."""
        key = self.key
        for begin in range(0, self.n, _CHUNK):
            chunk = np.arange(begin, min(begin + _CHUNK, self.n), dtype=np.uint64)
            for i, value in enumerate(self._perm.array(chunk).tolist(), begin):
                encoded = (encode_item(key, value),)
                yield make_case({key: value}, (f"replicate_{i}",), encoded)

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """The seeds at ``indices`` (default: all) as an ``int64`` column."""
        chosen = (
            np.arange(self.n, dtype=np.int64) if indices is None else checked_array(indices, self.n)
        )
        return {self.key: self._perm.array(chosen.astype(np.uint64)).astype(np.int64)}

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        if set(params) != {self.key}:
            return iter(())
        value = normalize_value(params[self.key], "index_of")
        if type(value) is not int or not 0 <= value < MAX_REPLICATES:
            return iter(())
        i = self._perm.inverse(value)
        return iter((i,) if i < self.n else ())

    def __reduce__(self) -> tuple[type[ReplicateSource], tuple[int, int, str]]:
        """Pickle the fields only; the permutation is derived again (any protocol)."""
        return ReplicateSource, (self.n, self.seed, self.key)

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        key = "" if self.key == "seed" else f", key={self.key!r}"
        return f"replicates({self.n}, seed={self.seed}{key})"


def replicates(n: int, *, seed: int, key: str = "seed") -> ReplicateSource:
    """``n`` replicates of a run, each with a distinct seed derived from ``seed``.

    Case ``i`` is ``{key: s_i}`` where ``s_i`` is a 32-bit int that depends only on
    ``(seed, i)`` (see `ReplicateSource`); cross it with a sweep to repeat every case.

    >>> from metalab import grid
    >>> sweep = grid(lr=[0.1, 0.01]) * replicates(3, seed=42)
    >>> sweep.size, sorted(sweep[0].params)
    (6, ['lr', 'seed'])
    >>> len({c.params["seed"] for c in replicates(1000, seed=0)})
    1000
    """
    return ReplicateSource(n, seed, key)
