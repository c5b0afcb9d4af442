"""Iteration streams: walking a composite never holds a large part in memory."""

from __future__ import annotations

import collections
import itertools
import tracemalloc

import metalab


def _peak_bytes_of_first(source: metalab.ParamSource, n: int) -> int:
    tracemalloc.start()
    try:
        collections.deque(itertools.islice(iter(source), n), maxlen=0)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class TestProductStreaming:
    """A product's iteration is lazy in its first (slowest) factor."""

    def test_large_first_factor_is_not_materialized(self) -> None:
        """Reading the first cases of a product with a 4,000,000-case first factor stays small."""
        big = metalab.grid(a=list(range(2000)), b=list(range(2000)))
        sweep = big * metalab.grid(c=[1, 2])
        peak = _peak_bytes_of_first(sweep, 1000)
        # Holding the first factor's 4,000,000 cases would take hundreds of MB.
        assert peak < 5 * 1024 * 1024

    def test_streamed_cases_equal_indexed_cases(self) -> None:
        """The streaming path yields exactly the indexed cases, tags included."""
        sweep = (
            metalab.grid(x=[1, 2])
            * metalab.manual([{"y": 1}, {"y": 2}], tags=["t"])
            * metalab.grid(z=[0, 1])
        )
        assert list(sweep) == [sweep[i] for i in range(sweep.size)]
        assert list(sweep.dicts()) == [dict(sweep[i].params) for i in range(sweep.size)]
