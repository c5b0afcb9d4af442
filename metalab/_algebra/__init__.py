"""The composition algebra: sources built from other sources, all with O(1) indexing.

Every composite is a frozen value whose case ``i`` is found by index arithmetic, never
by enumerating:

- ``a + b`` (`ConcatSource`): bisect the cumulative sizes ``[0, |a|, |a|+|b|, ...]``;
- ``a * b`` (`ProductSource`): mixed-radix digits, ``i = i_a * |b| + i_b``;
- ``source[start:stop:step]`` (`SliceSource`) and ``shard``: ``start + i * step``;
- ``source.select(indices)`` (`SelectSource`): bisect the runs of selected indices;
- ``source.shuffled(seed)`` (`ShuffledSource`): a seeded Feistel permutation of
  ``[0, size)`` (`metalab._sources.permutation`);
- ``zip(...)`` (`ZipSource`) and ``replicates(...)`` (`ReplicateSource`): leaves whose
  case ``i`` is the ``i``-th value of each list, or the ``i``-th derived seed;
- ``source.derive(...)`` (`DeriveSource`): case ``i`` of the source with parameters
  computed from it; ``source.where(...)`` (`WhereSource`): the ``i``-th accepted case,
  from a compact index of the accepted positions (`metalab._algebra.where`).

``docs/algebra.md`` draws the index arithmetic of each.
"""

from metalab._algebra.concat import ConcatSource
from metalab._algebra.conditional_grid import ConditionalGridSource
from metalab._algebra.derive import DeriveSource
from metalab._algebra.product import ProductSource
from metalab._algebra.replicate import ReplicateSource, replicates
from metalab._algebra.resolver import ResolverSource, with_resolver
from metalab._algebra.select import SelectSource
from metalab._algebra.shuffle import ShuffledSource
from metalab._algebra.slicing import SliceSource, shard
from metalab._algebra.where import WhereSource
from metalab._algebra.zipped import ZipSource, zip  # noqa: A004

__all__ = [
    "ConcatSource",
    "ConditionalGridSource",
    "DeriveSource",
    "ProductSource",
    "ReplicateSource",
    "ResolverSource",
    "SelectSource",
    "ShuffledSource",
    "SliceSource",
    "WhereSource",
    "ZipSource",
    "replicates",
    "shard",
    "with_resolver",
    "zip",
]
