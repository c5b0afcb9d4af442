"""The laws of the algebra, over random expression trees of every kind of source."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    ParamCase,
    ParamSource,
    RandomSource,
    SliceSource,
)
from metalab._core.case import encode_value
from metalab.errors import CaseIndexError, UnsupportedOperationError
from metalab.manifest import from_manifest, to_manifest
from metalab.testing import sources

if TYPE_CHECKING:
    from collections.abc import Iterator

TREES = sources(max_depth=3)
LEFT = sources(max_depth=2, keys=["a", "b", "c"], max_size=8)
RIGHT = sources(max_depth=2, keys=["x", "y"], max_size=6)
THIRD = sources(max_depth=1, keys=["p", "q"], max_size=4)
ANY_SMALL = sources(max_depth=2, max_size=8)


def fingerprint(case: ParamCase) -> tuple[bytes, tuple[str, ...], str]:
    """What makes a case itself: params (1, 1.0 and True apart), tags and id."""
    return encode_value(case.params), case.tags, case.case_id


def cases(source: ParamSource) -> list[tuple[bytes, tuple[str, ...], str]]:
    """The fingerprints of every case, by iteration."""
    return [fingerprint(c) for c in source]


def nodes(source: ParamSource) -> Iterator[ParamSource]:
    """Every node of an expression tree, the root first."""
    yield source
    for _, child in source.children():
        yield from nodes(child)


def merged(a: ParamCase, b: ParamCase) -> tuple[bytes, tuple[str, ...], str]:
    """The fingerprint of the product case made of ``a`` and ``b``."""
    return fingerprint(ParamCase({**a.params, **b.params}, a.tags + b.tags))


def same_columns(a: dict[str, Any], b: dict[str, Any], *, dtypes: bool) -> bool:
    """Whether two column dicts hold the same values (1, 1.0 and True apart).

    With ``dtypes``, non-empty columns must also have the same dtype (an empty column has
    no values to decide one).
    """
    return list(a) == list(b) and all(
        encode_value(tuple(a[k].tolist())) == encode_value(tuple(b[k].tolist()))
        and (not dtypes or a[k].dtype == b[k].dtype or not len(a[k]))
        for k in a
    )


class TestSum:
    """``a + b`` lists the cases of a, then of b; it is associative."""

    @given(a=LEFT, b=ANY_SMALL, c=THIRD)
    def test_laws(self, a: ParamSource, b: ParamSource, c: ParamSource) -> None:
        """Sizes add, cases follow the parts in order, and (a + b) + c == a + (b + c)."""
        assert len(a + b) == len(a) + len(b)
        assert cases(a + b) == cases(a) + cases(b)
        left, right = (a + b) + c, a + (b + c)
        assert left == right
        assert hash(left) == hash(right)
        assert cases(left) == cases(right)


class TestProduct:
    """``a * b`` merges a[i // len(b)] with b[i % len(b)]; it is associative."""

    @given(a=LEFT, b=RIGHT, c=THIRD)
    def test_laws(self, a: ParamSource, b: ParamSource, c: ParamSource) -> None:
        """len(a * b) == len(a) * len(b), the quotient/remainder merge, and associativity."""
        product = a * b
        assert len(product) == len(a) * len(b)
        for i in range(len(product)):
            assert fingerprint(product[i]) == merged(a[i // len(b)], b[i % len(b)])
        left, right = (a * b) * c, a * (b * c)
        assert left == right
        assert hash(left) == hash(right)
        assert cases(left) == cases(right)


def check_indexing(node: ParamSource) -> None:
    """s[i] == list(s)[i] == s[i - len(s)]; cases are sorted and within the keys."""
    listed = list(node)
    assert len(listed) == node.size
    for i, case in enumerate(listed):
        assert fingerprint(node[i]) == fingerprint(case)
        assert fingerprint(node[i - node.size]) == fingerprint(case)
        assert list(case.params) == sorted(case.params)
        assert set(case.params) <= set(node.keys)
    assert list(node.keys) == sorted(node.keys)
    with pytest.raises(CaseIndexError):
        node[node.size]
    with pytest.raises(CaseIndexError):
        node[-node.size - 1]


def check_batches(node: ParamSource, indices: list[int]) -> None:
    """take(), columns() and dicts() give what indexing one by one gives.

    Column dtypes are those of `column_array` over the values, except that random
    sources choose their own (a ``choice`` column keeps the options' dtype).
    """
    dtypes = not any(isinstance(n, RandomSource) for n in nodes(node))
    expected = [fingerprint(node[i]) for i in indices]
    assert [fingerprint(c) for c in node.take(indices)] == expected
    assert [fingerprint(c) for c in node.take(np.array(indices, dtype=np.int64))] == expected
    assert same_columns(node.columns(indices), ParamSource.columns(node, indices), dtypes=dtypes)
    assert same_columns(node.columns(), ParamSource.columns(node), dtypes=dtypes)
    assert [encode_value(d) for d in node.dicts()] == [encode_value(dict(c.params)) for c in node]


def check_index_of(node: ParamSource) -> None:
    """index_of(s[i].params) is the first index with the same params (i when distinct).

    Where the tree holds a random source it raises UnsupportedOperationError instead.
    """
    has_random = any(isinstance(n, RandomSource) for n in nodes(node))
    listed = list(node)
    first: dict[bytes, int] = {}
    for i, case in enumerate(listed):
        first.setdefault(encode_value(case.params), i)
    for case in listed:
        if has_random:
            with pytest.raises(UnsupportedOperationError):
                node.index_of(case.params)
        else:
            assert node.index_of(case.params) == first[encode_value(case.params)]


class TestEveryNode:
    """Every access path agrees with iteration, at every node of every tree."""

    @given(tree=TREES, data=st.data())
    def test_access_paths_agree(self, tree: ParamSource, data: st.DataObject) -> None:
        """Indexing, batches and index_of agree with list(s) at every node of the tree."""
        for node in nodes(tree):
            check_indexing(node)
            indices: list[int] = (
                data.draw(st.lists(st.integers(-node.size, node.size - 1), max_size=10))
                if node.size
                else []
            )
            check_batches(node, indices)
            check_index_of(node)


class TestManifest:
    """Every expression tree survives a manifest."""

    @given(tree=TREES)
    def test_round_trip(self, tree: ParamSource) -> None:
        """from_manifest(to_manifest(s)) equals s and has the same cases."""
        copy = from_manifest(json.loads(json.dumps(to_manifest(tree))))
        assert copy == tree
        assert cases(copy) == cases(tree)


class TestReorderings:
    """Shuffles permute, shards partition, and slices select as list slices do."""

    @given(tree=TREES, seed=st.integers(0, 2**64 - 1), n=st.integers(1, 30), data=st.data())
    def test_laws(self, tree: ParamSource, seed: int, n: int, data: st.DataObject) -> None:
        """A shuffle is a permutation, n shards partition, and slices match list slices."""
        listed = cases(tree)
        assert Counter(cases(tree.shuffled(seed))) == Counter(listed)

        shards = [tree.shard(k, n) for k in range(n)]
        sizes = [s.size for s in shards]
        assert sizes == sorted(sizes, reverse=True)
        assert max(sizes) - min(sizes) <= 1
        assert [c for s in shards for c in cases(s)] == listed

        bound = st.none() | st.integers(-tree.size - 3, tree.size + 3)
        step = st.none() | st.integers(-4, 4).filter(bool)
        first = slice(data.draw(bound), data.draw(bound), data.draw(step))
        second = slice(data.draw(bound), data.draw(bound), data.draw(step))
        assert cases(tree[first]) == listed[first]
        assert cases(tree[first][second]) == listed[first][second]
        assert not isinstance(tree[first][second].source, SliceSource)
