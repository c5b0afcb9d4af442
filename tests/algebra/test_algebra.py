"""Composition by example: +, *, zip, slices, shards, shuffles and replicates."""

from __future__ import annotations

import pickle
import re
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    ConcatSource,
    Distribution,
    ParamCase,
    ParamSource,
    ProductSource,
    ReplicateSource,
    ShuffledSource,
    SliceSource,
    ZipSource,
    choice,
    grid,
    manual,
    random,
    replicates,
    uniform,
    zip,  # noqa: A004
)
from metalab._core.case import encode_value, fingerprint
from metalab._sources.permutation import Permutation
from metalab.errors import (
    CaseIndexError,
    CaseNotFoundError,
    IndexTypeError,
    ParamError,
    SizeOverflowError,
    UnsupportedOperationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from metalab._core.values import ParamValue
    from metalab._sources.base import Raw


def params(source: ParamSource) -> list[dict[str, ParamValue]]:
    """The params of every case, as plain dicts."""
    return [dict(case.params) for case in source]


def same(a: ParamCase, b: ParamCase) -> bool:
    """Whether two cases are the same, telling apart 1, 1.0 and True (unlike ``==``)."""
    return encode_value(a.params) == encode_value(b.params) and a.tags == b.tags


def all_same(a: list[ParamCase], b: list[ParamCase]) -> bool:
    """Whether two lists of cases are the same, case by case."""
    return len(a) == len(b) and all(map(same, a, b))


def same_columns(a: Mapping[str, np.ndarray[Any, Any]], b: Mapping[str, Any]) -> bool:
    """Whether two column dicts have the same keys, dtypes and values."""
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and a[k].tolist() == b[k].tolist() for k in a
    )


class Counting(ParamSource):
    """A source of ``size`` cases ``{key: i}`` that counts how often ``raw`` runs."""

    __slots__ = ("_key", "_size", "calls")
    manifest_type: ClassVar[str] = "Counting"

    def __init__(self, key: str, size: int) -> None:
        """Make a source of ``size`` cases of one parameter."""
        self._key = key
        self._size = size
        self.calls = 0

    @property
    def size(self) -> int:
        """The number of cases."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name."""
        return (self._key,)

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        self.calls += 1
        return {self._key: i}, (f"c{i}",)

    def __iter__(self) -> Iterator[ParamCase]:
        """Refuse to be enumerated: composites must index their parts."""
        msg = "enumerated"
        raise AssertionError(msg)


class Duplicates(ParamSource):
    """``size`` cases that all have params ``{"x": 0}``, counting the work of lookups."""

    __slots__ = ("_size", "cases", "pulled")
    manifest_type: ClassVar[str] = "Duplicates"

    def __init__(self, size: int) -> None:
        """Make a source of ``size`` equal cases."""
        self._size = size
        self.cases = 0
        self.pulled = 0

    @property
    def size(self) -> int:
        """The number of cases."""
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name."""
        return ("x",)

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        self.cases += 1
        return {"x": 0}, (f"d{i}",)

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        if dict(params) != {"x": 0}:
            return
        for i in range(self._size):
            self.pulled += 1
            yield i


class Observed(Counting):
    """A `Counting` source that also counts how often its keys and size are read."""

    __slots__ = ()
    reads: ClassVar[list[int]] = [0]

    @property
    def size(self) -> int:
        """The number of cases (counted)."""
        Observed.reads[0] += 1
        return self._size

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name (counted)."""
        Observed.reads[0] += 1
        return (self._key,)


SPACE: dict[str, Distribution] = {"u": uniform(0, 1), "o": choice(["a", "b"])}


class TestConcat:
    """``a + b``: the cases of a, then those of b."""

    def test_cases_follow_the_parts_in_order(self) -> None:
        """Cases of the first part come first, with their own tags and keys."""
        s = grid(x=[1, 2]) + manual([{"y": 0}, {"x": 3, "y": 1}], tags=["extra"])
        assert params(s) == [{"x": 1}, {"x": 2}, {"y": 0}, {"x": 3, "y": 1}]
        assert [c.tags for c in s] == [(), (), ("extra", "manual_0"), ("extra", "manual_1")]
        assert s.keys == ("x", "y")
        assert len(s) == s.size == 4

    def test_nested_concatenations_flatten(self) -> None:
        """(a + b) + c and a + (b + c) are the same value with three parts."""
        a, b, c = grid(x=[1]), grid(y=[2]), manual([{"z": 3}])
        left, right = (a + b) + c, a + (b + c)
        assert left == right
        assert hash(left) == hash(right)
        assert left.parts == (a, b, c)
        assert ConcatSource.of(a, b, c) == left
        assert ConcatSource([a + b, c]) == left

    def test_equality_is_structural(self) -> None:
        """Concatenations of equal parts are equal; order and values matter."""
        assert grid(x=[1]) + grid(x=[2]) == grid(x=[1]) + grid(x=[2])
        assert grid(x=[1]) + grid(x=[2]) != grid(x=[2]) + grid(x=[1])
        assert grid(x=[1]) + grid(x=[2]) != grid(x=[1]) + grid(x=[2.0])

    def test_empty_parts_are_skipped(self) -> None:
        """Parts without cases contribute nothing, wherever they stand."""
        s = manual([]) + grid(x=[1]) + manual([]) + grid(x=[2]) + manual([])
        assert params(s) == [{"x": 1}, {"x": 2}]
        assert [s[i].params["x"] for i in range(-2, 2)] == [1, 2, 1, 2]

    def test_out_of_range_indices_raise(self) -> None:
        """Indices beyond either end raise CaseIndexError."""
        s = grid(x=[1]) + grid(x=[2])
        with pytest.raises(CaseIndexError):
            s[2]
        with pytest.raises(CaseIndexError):
            s[-3]

    @pytest.mark.parametrize(
        ("parts", "message"),
        [
            ([], "at least one source"),
            ([grid(x=[1]), 3], "part 1 must be a source, got int 3"),
            (grid(x=[1]), "takes a sequence of sources"),
            (5, "takes a sequence of sources"),
        ],
    )
    def test_bad_parts_are_refused(self, parts: Any, message: str) -> None:
        """Anything but a non-empty sequence of sources is a ParamError."""
        with pytest.raises(ParamError, match=message):
            ConcatSource(parts)

    def test_adding_a_non_source_is_a_type_error(self) -> None:
        """``source + 3`` is not defined."""
        with pytest.raises(TypeError):
            grid(x=[1]) + 3  # type: ignore[operator]

    def test_repr_joins_the_parts(self) -> None:
        """The repr is the parts joined by +, on one line."""
        assert repr(grid(x=[1]) + manual([{"y": 2}])) == "grid(x=[1]) + manual([{'y': 2}])"

    def test_index_of_finds_the_first_match_across_parts(self) -> None:
        """The first part holding the params wins; later copies are not returned."""
        s = grid(x=[1, 2]) + manual([{"x": 2}, {"y": 5}])
        assert s.index_of({"x": 2}) == 1
        assert s.index_of({"y": 5}) == 3
        assert list(s._indices_of({"x": 2})) == [1, 2]
        with pytest.raises(CaseNotFoundError):
            s.index_of({"x": 3})

    def test_index_of_with_a_random_part_is_unsupported(self) -> None:
        """A random part anywhere makes index_of undefined, even after a match."""
        s = grid(x=[1]) + random(SPACE, 3, seed=0)
        with pytest.raises(UnsupportedOperationError):
            s.index_of({"x": 1})

    def test_take_and_columns_agree_with_indexing(self) -> None:
        """Batched access gives the cases and columns that one-by-one indexing gives."""
        s = grid(x=[1, 2]) + random(SPACE, 4, seed=1) + manual([{"x": 1.5}])
        idx = [6, 0, -1, 3, 3, 2]
        expected = [s[i] for i in idx]
        assert all_same(s.take(idx), expected)
        assert all_same(s.take(np.array(idx)), expected)
        assert s.take([]) == []
        columns = s.columns(idx)
        assert list(columns) == ["o", "u", "x"]
        assert columns["x"].tolist() == [1.5, 1, 1.5, None, None, None]
        assert columns["x"].dtype == object
        assert same_columns(s.columns(), ParamSource.columns(s))

    def test_columns_keep_plain_dtypes_when_every_part_has_them(self) -> None:
        """Float parameters of every part make a float64 column, ints an int64 column."""
        s = grid(x=[0.5, 1.5]) + manual([{"x": 2.5}]) + grid(x=[3.5])
        assert s.columns()["x"].dtype == np.float64
        assert s.columns([3, 0])["x"].tolist() == [3.5, 0.5]
        assert (grid(n=[1]) + grid(n=[2])).columns()["n"].dtype == np.int64
        assert (grid(s=["a"]) + grid(s=["bcd"])).columns()["s"].tolist() == ["a", "bcd"]
        assert (grid(n=[1]) + grid(n=[2.0])).columns()["n"].dtype == object

    def test_take_refuses_bad_indices(self) -> None:
        """Out-of-range or non-integer indices raise, as indexing does."""
        s = grid(x=[1]) + grid(x=[2])
        with pytest.raises(CaseIndexError):
            s.take([0, 2])
        with pytest.raises(TypeError):
            s.take(np.array([0.5]))
        with pytest.raises(TypeError):
            s.take([True])


class TestProduct:
    """``a * b``: every case of a merged with every case of b, a slowest."""

    def test_cases_are_in_itertools_product_order(self) -> None:
        """The first part varies slowest; params merge sorted by key; tags concatenate."""
        s = manual([{"z": 0}, {"z": 1}], tags=["m"]) * grid(a=[1, 2])
        assert params(s) == [
            {"a": 1, "z": 0},
            {"a": 2, "z": 0},
            {"a": 1, "z": 1},
            {"a": 2, "z": 1},
        ]
        assert [list(c.params) for c in s] == [["a", "z"]] * 4
        assert [c.tags for c in s] == [("m", "manual_0")] * 2 + [("m", "manual_1")] * 2

    def test_tags_of_every_part_concatenate_in_order(self) -> None:
        """A case's tags are those of its part cases, first part first."""
        s = manual([{"a": 1}]) * random({"b": uniform(0, 1)}, 2, seed=0) * replicates(1, seed=0)
        assert [c.tags for c in s] == [
            ("manual_0", "trial_0", "replicate_0"),
            ("manual_0", "trial_1", "replicate_0"),
        ]

    def test_case_id_is_that_of_the_merged_params(self) -> None:
        """The id of a product case is the fingerprint of its merged params."""
        s = grid(x=[1, 2]) * manual([{"y": "a"}])
        for case in s:
            assert case.case_id == fingerprint(case.params)
            assert case.case_id == ParamCase(dict(case.params)).case_id

    def test_the_issue_example_is_a_conditional_space(self) -> None:
        """opt=adam with beta1, plus opt=sgd with momentum: four cases, keys per branch."""
        s = grid(opt=["adam"]) * grid(beta1=[0.9, 0.99]) + grid(opt=["sgd"]) * grid(
            momentum=[0, 0.9]
        )
        assert params(s) == [
            {"beta1": 0.9, "opt": "adam"},
            {"beta1": 0.99, "opt": "adam"},
            {"momentum": 0, "opt": "sgd"},
            {"momentum": 0.9, "opt": "sgd"},
        ]

    def test_clashing_keys_are_refused_naming_them(self) -> None:
        """Two parts that can produce the same parameter cannot be crossed."""
        with pytest.raises(ParamError, match=r"\['lr'\]"):
            grid(lr=[0.1]) * random({"lr": uniform(0, 1)}, 3, seed=0)
        with pytest.raises(ParamError, match=r"\['a', 'b'\]"):
            grid(a=[1], b=[2], c=[3]) * manual([{"b": 1}, {"a": 2}])
        with pytest.raises(ParamError, match=r"\['x'\]"):
            (grid(x=[1]) + grid(y=[1])) * grid(z=[1]) * manual([{"x": 0}])

    def test_nested_products_flatten(self) -> None:
        """(a * b) * c and a * (b * c) are the same value with three parts."""
        a, b, c = grid(x=[1, 2]), manual([{"y": 0}]), zip(z=[1, 2, 3])
        assert (a * b) * c == a * (b * c)
        assert hash((a * b) * c) == hash(a * (b * c))
        assert ((a * b) * c).parts == (a, b, c)
        assert ProductSource.of(a, b, c) == (a * b) * c

    def test_a_part_without_cases_empties_the_product(self) -> None:
        """Crossing with an empty source gives no cases."""
        s = grid(x=[1, 2]) * manual([])
        assert s.size == 0
        assert list(s) == []
        assert s.take([]) == []
        assert s.columns()["x"].tolist() == []
        with pytest.raises(CaseIndexError):
            s[0]

    def test_products_of_empty_grids_have_one_empty_case(self) -> None:
        """grid() is the single empty case, and so is any product of them."""
        s = grid() * grid()
        assert s.size == 1
        assert [dict(c.params) for c in s] == [{}]
        assert list(s.dicts()) == [{}]
        assert s.index_of({}) == 0
        assert params(grid() * manual([{"a": 1}, {}])) == [{"a": 1}, {}]

    def test_cases_with_missing_keys_still_come_in_key_order(self) -> None:
        """Interleaved keys are put in order whether or not a case has every key."""
        left = grid(b=[1, 2]) + manual([{"z": 0, "b": 5}])  # only the last has every key
        right = manual([{"a": 1, "c": 2}, {"a": 3, "c": 4}])
        s = left * right
        expected = [
            ({"a": 1, "b": 1, "c": 2}, ("manual_0",)),
            ({"a": 3, "b": 1, "c": 4}, ("manual_1",)),
            ({"a": 1, "b": 2, "c": 2}, ("manual_0",)),
            ({"a": 3, "b": 2, "c": 4}, ("manual_1",)),
            ({"a": 1, "b": 5, "c": 2, "z": 0}, ("manual_0", "manual_0")),
            ({"a": 3, "b": 5, "c": 4, "z": 0}, ("manual_0", "manual_1")),
        ]
        for source in (s, pickle.loads(pickle.dumps(s))):  # noqa: S301 - our own bytes
            got = [source[i] for i in range(len(source))]
            assert [(list(c.params.items()), c.tags) for c in got] == [
                (sorted(p.items()), t) for p, t in expected
            ]
            assert [source.raw(i) for i in range(len(source))] == expected

    @pytest.mark.parametrize("parts", [[], [grid(x=[1]), "a"], 3])
    def test_bad_parts_are_refused(self, parts: Any) -> None:
        """Anything but a non-empty sequence of sources is a ParamError."""
        with pytest.raises(ParamError):
            ProductSource(parts)

    def test_repr_parenthesizes_concatenations(self) -> None:
        """Concatenations inside a product are in parentheses; the result is one line."""
        s = (grid(x=[1, 2]) + manual([{"y": 1}])) * random({"u": uniform(0, 1)}, 5, seed=0)
        assert repr(s) == (
            "(grid(x=[1, 2]) + manual([{'y': 1}])) * "
            f"random({{'u': {uniform(0, 1)!r}}}, n_trials=5, seed=0)"
        )
        assert "\n" not in repr(s)

    def test_index_of_crosses_the_parts(self) -> None:
        """The index is found from each part's indices, duplicates in increasing order."""
        s = manual([{"a": 1}, {"a": 2}, {"a": 1}]) * grid(b=[5, 6, 5])
        assert s.index_of({"a": 1, "b": 5}) == 0
        assert list(s._indices_of({"a": 1, "b": 5})) == [0, 2, 6, 8]
        assert s.index_of({"a": 2, "b": 6}) == 4
        absent: list[Mapping[str, ParamValue]] = [{"a": 1}, {"a": 1, "b": 5, "c": 0}, {"a": 3}]
        for missing in absent:
            with pytest.raises(CaseNotFoundError):
                s.index_of(missing)

    def test_index_of_with_a_random_part_is_unsupported(self) -> None:
        """A random part makes index_of undefined, also for params it does not hold."""
        s = grid(x=[1]) * random(SPACE, 3, seed=0)
        with pytest.raises(UnsupportedOperationError):
            s.index_of({"x": 1})
        with pytest.raises(UnsupportedOperationError):
            s.index_of({"nope": 1})

    def test_take_and_columns_agree_with_indexing(self) -> None:
        """Batched access agrees with indexing, for grids, random and mixed parts."""
        s = (grid(x=[1, 2]) + manual([{"y": 0.5}])) * random(SPACE, 5, seed=3)
        idx = [14, 0, -1, 7, 7, 3]
        expected = [s[i] for i in idx]
        assert all_same(s.take(idx), expected)
        assert all_same(s.take(np.array(idx, dtype=np.int32)), expected)
        assert same_columns(s.columns(idx), ParamSource.columns(s, idx))
        assert same_columns(s.columns(), ParamSource.columns(s))

    def test_iteration_and_dicts_agree_with_indexing(self) -> None:
        """Streaming a product gives the indexed cases, and dicts() their params."""
        s = manual([{"m": 1}, {"m": 2}], tags=["t"]) * grid(b=range(3), a=[0.5]) * zip(z=[7, 8])
        assert all_same(list(s), [s[i] for i in range(s.size)])
        assert list(s.dicts()) == params(s)

    def test_factors_of_every_kind_give_their_own_cases(self) -> None:
        """A product asks each factor's raw function: concatenations, wide grids, filters."""
        from metalab import col

        wide = grid(**{f"w{j:03d}": [j] for j in range(300)}, x=[1, 2])  # not written out
        parts = (
            grid(a=[1, 2, 3])
            + manual([{"a": 9}], tags=["m"])
            + random({"a": uniform(0, 1)}, 4, seed=2)
        )
        factors = [
            parts,
            wide + wide,
            grid(c=range(40)).where(col("c") % 3 == 1),
            random({"r": uniform(0, 1)}, 3, seed=5),
        ]
        s = ProductSource(factors)
        inner = [f.size for f in factors]
        for i in [0, 1, s.size // 3, s.size - 1]:
            digits, rest = [], i
            for size in reversed(inner):
                rest, d = divmod(rest, size)
                digits.append(d)
            cases = [factors[j][digits[-1 - j]] for j in range(len(factors))]
            merged = {k: v for c in cases for k, v in c.params.items()}
            assert dict(s[i].params) == merged
            assert s[i].tags == sum((c.tags for c in cases), ())

    def test_large_inner_parts_are_not_tabulated(self) -> None:
        """A product whose inner part is huge streams by index and stays correct."""
        s = grid(a=[1, 2]) * grid(b=range(10**6))
        head = []
        for case in s:
            head.append(dict(case.params))
            if len(head) == 3:
                break
        assert head == [{"a": 1, "b": 0}, {"a": 1, "b": 1}, {"a": 1, "b": 2}]
        assert next(iter(s.dicts())) == {"a": 1, "b": 0}

    def test_thousands_of_parts_index_without_recursion_errors(self) -> None:
        """Case i of a product of 5,000 two-case parts reads the bits of i (no RecursionError)."""
        n = 5000
        s = ProductSource([manual([{f"k{j:04d}": 0}, {f"k{j:04d}": 1}]) for j in range(n)])
        i = 3**3000  # a number whose low 5,000 bits mix zeros and ones
        bits = [(i >> (n - 1 - j)) & 1 for j in range(n)]
        case = s[i]
        assert case.params == {f"k{j:04d}": bit for j, bit in enumerate(bits)}
        assert case.tags == tuple(f"manual_{bit}" for bit in bits)
        assert s.raw(i) == (dict(case.params), case.tags)


class TestChaining:
    """``s = s + part`` and ``s = s * part`` in a loop build what the constructors build."""

    @given(
        data=st.lists(
            st.tuples(st.sampled_from("abcdef"), st.integers(0, 3)), min_size=1, max_size=12
        ),
        op=st.sampled_from(["+", "*"]),
    )
    def test_chained_operators_equal_the_flat_constructor(
        self, data: list[tuple[str, int]], op: str
    ) -> None:
        """Chaining part by part gives the same parts, keys, sizes and cases as one call."""
        parts: list[ParamSource] = []
        for j, (letter, size) in enumerate(data):
            key = letter if op == "+" else f"{letter}{j}"
            values = list(range(size)) or [0]
            parts.append(grid({key: values}) if size % 2 else manual([{key: v} for v in values]))
        parts.append(zip(a=[1, 2]) if op == "+" else zip(zz=[1, 2]))
        chained = parts[0]
        for part in parts[1:]:
            chained = chained + part if op == "+" else chained * part
        flat = ConcatSource(parts) if op == "+" else ProductSource(parts)
        assert chained == flat
        assert hash(chained) == hash(flat)
        assert (chained.size, chained.keys) == (flat.size, flat.keys)
        assert all_same(
            chained.take(range(min(chained.size, 50))), flat.take(range(min(flat.size, 50)))
        )
        assert chained.to_manifest_dict() == flat.to_manifest_dict()
        for name in ("_keys", "_keyset", "_offsets", "_factors", "_sorted", "_grids_only"):
            assert getattr(chained, name, None) == getattr(flat, name, None)

    @pytest.mark.parametrize("op", ["+", "*"])
    def test_each_step_reads_only_the_new_part(self, op: str) -> None:
        """Chaining 2,000 parts reads each part's keys and size a few times, not 2,000."""
        n = 2000
        parts = [Observed(f"k{j:04d}", 1) for j in range(n)]
        Observed.reads[0] = 0
        chained: ParamSource = parts[0]
        for part in parts[1:]:
            chained = chained + part if op == "+" else chained * part
        assert Observed.reads[0] <= 4 * n
        assert chained.size == (n if op == "+" else 1)

    def test_crossing_a_clashing_part_still_names_both_parts(self) -> None:
        """The incremental step refuses a key the product already has, as the constructor does."""
        s = grid(a=[1]) * grid(b=[2])
        with pytest.raises(ParamError, match=r"both produce \['a'\]: GridSource grid\(a=\[1\]\)"):
            s * manual([{"a": 3}])


class TestLookup:
    """index_of and ``in`` on composites: the first index, found with bounded work."""

    VIEWS: ClassVar[dict[str, Callable[[ParamSource], ParamSource]]] = {
        "reversed": lambda s: s[::-1],
        "tail": lambda s: s[500_000:],
        "reversed tail": lambda s: s[-500_000::-3],
        "shuffled": lambda s: s.shuffled(7),
        "shuffled reversed": lambda s: s[::-1].shuffled(7),
        "reversed shuffle": lambda s: s.shuffled(7)[::-1],
        "product": lambda s: grid(y=[1, 2]) * s.shuffled(3)[::-2],
        "concat": lambda s: s[::-1] + s.shuffled(3),
    }

    @pytest.mark.parametrize("view", VIEWS, ids=str)
    def test_first_of_a_million_duplicates_is_found_without_collecting_them(
        self, view: str
    ) -> None:
        """index_of gives index 0 after a handful of cases and matches, not a million."""
        base = Duplicates(10**6)
        source = self.VIEWS[view](base)
        query = {"x": 0, "y": 1} if view == "product" else {"x": 0}
        assert source.index_of(query) == 0
        assert query in source
        assert base.cases + base.pulled < 100

    def test_the_first_of_few_duplicates_is_the_smallest_index(self) -> None:
        """With duplicates far apart, every view still returns its smallest matching index."""
        s = manual([{"x": v} for v in [1, 2, 1, 3, 1, 2] * 50])
        for view in (s[::-1], s[7:], s[250:3:-7], s.shuffled(5), s.shuffled(5)[::-2]):
            cases = list(view)
            for value in (1, 2, 3):
                expected = [i for i, c in enumerate(cases) if c.params == {"x": value}]
                assert list(view._indices_of({"x": value})) == expected
                assert view.index_of({"x": value}) == expected[0]

    def test_contains_takes_params_or_cases(self) -> None:
        """Params are in a composite when index_of finds them; a case also needs its tags."""
        s = grid(x=range(10)) * manual([{"y": 0}, {"y": 0}]) + grid(z=[1])
        assert {"x": 5, "y": 0} in s
        assert {"x": 5.0, "y": 0} not in s
        assert {"z": 1} in s
        assert {"x": 5} not in s
        assert all(case in s for case in s)
        assert ParamCase({"x": 5, "y": 0}, ("manual_2",)) not in s
        with pytest.raises(UnsupportedOperationError):
            {"x": 1} in (s + random(SPACE, 3, seed=0))  # noqa: B015


def forty_grids() -> ProductSource:
    """A product of 40 ten-value grids: 10**40 cases."""
    out = grid(p00=range(10)) * grid(p01=[f"v{d}" for d in range(10)])
    for k in range(2, 40):
        out *= grid({f"p{k:02d}": [f"v{d}" for d in range(10)]})
    return out


_RADICES = (1, 2, 3, 7, 2**15 + 3, 2**29, 2**31 - 1, 10**12)
"""Axis lengths that put block boundaries (one machine word of radix) in many places."""


class TestHugeSources:
    """Sizes beyond sys.maxsize keep working with Python ints, without enumerating."""

    @given(sizes=st.lists(st.sampled_from(_RADICES), min_size=1, max_size=6), data=st.data())
    def test_products_of_grids_read_mixed_radix_digits(
        self, sizes: list[int], data: st.DataObject
    ) -> None:
        """Digits peeled off in word-sized blocks are the plain mixed-radix digits."""
        s = ProductSource.of(*(grid({f"k{j}": range(n)}) for j, n in enumerate(sizes)))
        index = data.draw(st.integers(0, s.size - 1))
        digits, rest = [], index
        for n in reversed(sizes):
            rest, digit = divmod(rest, n)
            digits.append(digit)
        expected = {f"k{j}": digit for j, digit in enumerate(reversed(digits))}
        assert s[index].params == expected
        assert s.raw(index)[0] == expected
        assert list(s[index].params) == sorted(expected)

    def test_size_is_exact_and_len_overflows(self) -> None:
        """A 10**40-case product knows its size; len() raises SizeOverflowError."""
        s = forty_grids()
        assert s.size == 10**40
        assert bool(s)
        with pytest.raises(SizeOverflowError):
            len(s)

    @pytest.mark.parametrize("index", [0, 1, 10**39 + 7, 10**40 - 1, -1, 123456789 * 10**25])
    def test_indexing_reads_the_decimal_digits(self, index: int) -> None:
        """Case i of the product holds the decimal digits of i, most significant first."""
        case = forty_grids()[index]
        digits = f"{index % 10**40:040d}"
        expected: dict[str, ParamValue] = {f"p{k:02d}": f"v{digits[k]}" for k in range(1, 40)}
        expected["p00"] = int(digits[0])
        assert dict(case.params) == expected
        assert list(case.params) == sorted(expected)

    def test_index_of_inverts_indexing(self) -> None:
        """index_of finds a case of the huge product by arithmetic."""
        s = forty_grids()
        i = 31415926535897932384626433832795028841
        assert s.index_of(s[i].params) == i

    def test_slices_shards_and_shuffles_work(self) -> None:
        """Slicing, sharding and shuffling a huge source index by arithmetic."""
        s = forty_grids()
        tail = s[-5::2]
        assert tail.size == 3
        assert tail[2] == s[10**40 - 1]
        shard = s.shard(2, 3)
        assert shard.size == 10**40 // 3
        assert shard[0] == s[10**40 // 3 + 1 + 10**40 // 3]
        shuffled = s.shuffled(5)
        j = shuffled.index_of(shuffled[10**35].params)
        assert j == 10**35
        assert s[: 10**39][10**38 :].size == 9 * 10**38

    def test_indexing_never_enumerates_and_reads_each_part_once(self) -> None:
        """Each part's raw runs exactly once per product case, and nothing iterates."""
        parts = [Counting(f"k{j}", 10**j + 3) for j in range(12)]
        s = ProductSource(parts)
        i = s.size // 3
        case = s[i]
        assert [p.calls for p in parts] == [1] * 12
        rest = i
        for part in reversed(parts):
            rest, digit = divmod(rest, part.size)
            assert case.params[part.keys[0]] == digit
        s.take([i, 0])
        assert [p.calls for p in parts] == [3] * 12

    def test_concatenation_of_huge_parts_indexes_by_bisection(self) -> None:
        """A concatenation of huge parts finds the right part and local index."""
        big = grid(x=range(10**30))
        s = big + manual([{"y": 1}]) + big
        assert s.size == 2 * 10**30 + 1
        assert s[10**30].params == {"y": 1}
        assert s[10**30 + 5].params == {"x": 4}
        assert s.take([10**30 + 5])[0].params == {"x": 4}
        assert list(s._indices_of({"x": 7})) == [7, 10**30 + 8]


class TestZip:
    """``zip``: linked parameters that take their i-th values together."""

    def test_cases_pair_the_values(self) -> None:
        """Case i holds the i-th value of every parameter."""
        s = zip(lr=[0.1, 0.01], warmup=[100, 1000])
        assert params(s) == [{"lr": 0.1, "warmup": 100}, {"lr": 0.01, "warmup": 1000}]
        assert s.keys == ("lr", "warmup")
        assert [c.tags for c in s] == [(), ()]
        assert s[1].case_id == fingerprint({"lr": 0.01, "warmup": 1000})

    def test_the_issue_example_has_six_cases(self) -> None:
        """zip(lr, warmup) * grid(seed=[0, 1, 2]) has 2 * 3 cases."""
        s = zip(lr=[0.1, 0.01], warmup=[100, 1000]) * grid(seed=[0, 1, 2])
        assert s.size == 6
        assert s[4].params == {"lr": 0.01, "seed": 1, "warmup": 1000}

    def test_mapping_argument_and_inputs_are_normalized(self) -> None:
        """Names go in a mapping too; arrays, ranges and tuples become tuples of builtins."""
        s = zip({"model.lr": np.array([0.1, 0.2])}, n=range(2), t=([1, 2], (3,)))
        assert s.spec == {"model.lr": (0.1, 0.2), "n": (0, 1), "t": ((1, 2), (3,))}
        assert type(s.spec["model.lr"][0]) is float
        assert repr(s) == "zip({'model.lr': [0.1, 0.2], 'n': [0, 1], 't': [(1, 2), (3,)]})"
        assert ZipSource(a=[1]) == zip({"a": [1]})

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"lr": [0.1, 0.01], "warmup": [100]}, "same length, got lengths 'lr': 2, 'warmup': 1"),
            ({"lr": []}, "'lr' must be a non-empty sequence, got an empty list"),
            ({"lr": "abc"}, "'lr' must be a non-empty sequence, got str 'abc'"),
            ({"lr": 0.1}, "'lr' must be a non-empty sequence"),
            ({"lr": {1, 2}}, "'lr' must be an ordered sequence, got a set"),
            ({"lr": np.float64(1.0)}, "'lr' must be a non-empty sequence"),
            ({"lr": [float("nan")]}, "NaN"),
            ({}, "at least one parameter"),
        ],
    )
    def test_bad_values_are_refused_at_construction(
        self, kwargs: dict[str, Any], message: str
    ) -> None:
        """Unequal lengths, empty lists, strings and non-sequences are ParamErrors."""
        with pytest.raises(ParamError, match=message):
            zip(**kwargs)

    def test_bad_mappings_are_refused(self) -> None:
        """A non-mapping first argument, a name given twice, or a non-str name is refused."""
        with pytest.raises(ParamError, match="mapping"):
            zip([1, 2])  # type: ignore[arg-type]
        with pytest.raises(ParamError, match="given twice"):
            zip({"a": [1]}, a=[2])
        with pytest.raises(ParamError, match="must be str"):
            zip({1: [1]})  # type: ignore[dict-item]

    def test_equality_tells_look_alike_values_apart(self) -> None:
        """zip(x=[1]), zip(x=[1.0]) and zip(x=[True]) are different sources."""
        sources = {zip(x=[1]), zip(x=[1.0]), zip(x=[True]), zip(x=[1])}
        assert len(sources) == 3

    def test_index_of_finds_whole_rows(self) -> None:
        """index_of matches all linked values at once, first occurrence first."""
        s = zip(a=[1, 2, 1], b=["x", "y", "x"])
        assert s.index_of({"a": 2, "b": "y"}) == 1
        assert list(s._indices_of({"a": 1, "b": "x"})) == [0, 2]
        absent: list[Mapping[str, ParamValue]] = [
            {"a": 1, "b": "y"},
            {"a": 1},
            {"a": 1.0, "b": "x"},
        ]
        for missing in absent:
            with pytest.raises(CaseNotFoundError):
                s.index_of(missing)

    def test_columns_and_take_agree_with_indexing(self) -> None:
        """Batched access gives the indexed cases and columns."""
        s = zip(a=[1, 2, 3], b=[0.5, 1.5, 2.5])
        assert all_same(s.take([2, -3]), [s[2], s[0]])
        assert same_columns(s.columns([2, 0]), ParamSource.columns(s, [2, 0]))
        assert same_columns(s.columns(), ParamSource.columns(s))


class TestReplicates:
    """``replicates``: n cases with distinct 32-bit seeds derived from one seed."""

    def test_seeds_are_the_documented_permutation(self) -> None:
        """Replicate i gets the image of i under the permutation of [0, 2**32) for seed."""
        s = replicates(5, seed=42)
        perm = Permutation(42, 2**32)
        assert params(s) == [{"seed": perm(i)} for i in range(5)]
        assert [c.tags for c in s] == [(f"replicate_{i}",) for i in range(5)]
        assert s.seeds() == [perm(i) for i in range(5)]

    def test_seeds_are_distinct_32_bit_ints_stable_across_n(self) -> None:
        """Seeds are distinct, fit every RNG, and replicate i does not depend on n."""
        seeds = replicates(2000, seed=7).seeds()
        assert len(set(seeds)) == 2000
        assert all(type(s) is int and 0 <= s < 2**32 for s in seeds)
        assert replicates(10, seed=7).seeds() == seeds[:10]
        assert replicates(10, seed=8).seeds() != seeds[:10]
        for s in seeds[:5]:
            np.random.RandomState(s)  # the legacy API is the strictest about seeds

    def test_key_names_the_parameter(self) -> None:
        """The seed goes under ``key``; the repr shows a non-default key."""
        s = replicates(2, seed=0, key="run")
        assert s.keys == ("run",)
        assert list(s[0].params) == ["run"]
        assert repr(s) == "replicates(2, seed=0, key='run')"
        assert repr(replicates(3, seed=1)) == "replicates(3, seed=1)"

    def test_crossing_repeats_every_case(self) -> None:
        """Crossing a grid with replicates gives each grid case once per replicate."""
        s = grid(lr=[0.1, 0.01]) * replicates(3, seed=42)
        assert s.size == 6
        assert [c.params["lr"] for c in s] == [0.1] * 3 + [0.01] * 3
        assert len({c.params["seed"] for c in s}) == 3

    def test_the_largest_count_is_accepted(self) -> None:
        """2**32 replicates fit; the last one is indexable and iteration starts at once."""
        s = replicates(2**32, seed=3)
        assert s.size == 2**32
        assert s[-1].params["seed"] == Permutation(3, 2**32)(2**32 - 1)
        first = next(iter(s))
        assert same(first, s[0])

    def test_iteration_agrees_with_indexing_across_batches(self) -> None:
        """Streaming thousands of replicates gives the indexed cases, in order."""
        s = replicates(5000, seed=11)
        assert all_same(list(s), [s[i] for i in range(5000)])

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((-1, 0, "seed"), "n must be an int in \\[0, 2\\*\\*32\\]"),
            ((2**32 + 1, 0, "seed"), "n must be an int in \\[0, 2\\*\\*32\\]"),
            ((2.0, 0, "seed"), "n must be an int"),
            ((True, 0, "seed"), "n must be an int"),
            ((3, -1, "seed"), "seed must be an int in \\[0, 2\\*\\*64\\)"),
            ((3, 2**64, "seed"), "seed must be an int in \\[0, 2\\*\\*64\\)"),
            ((3, False, "seed"), "seed must be an int"),
            ((3, "1", "seed"), "seed must be an int"),
            ((3, 0, ""), "non-empty"),
            ((3, 0, 5), "must be str"),
        ],
    )
    def test_bad_arguments_are_refused(self, args: tuple[Any, Any, Any], message: str) -> None:
        """Count, seed and key are validated at construction."""
        with pytest.raises(ParamError, match=message):
            ReplicateSource(*args)

    def test_index_of_inverts_the_seed(self) -> None:
        """index_of recovers the replicate from its seed, and refuses seeds it never gave."""
        s = replicates(100, seed=9)
        assert s.index_of(s[57].params) == 57
        seed = s[3].params["seed"]
        assert isinstance(seed, int)
        assert s.index_of({"seed": np.int64(seed)}) == 3  # type: ignore[dict-item]
        beyond = Permutation(9, 2**32)(100)
        for missing in ({"seed": beyond}, {"seed": -1}, {"seed": True}, {"x": 1}, {}):
            with pytest.raises(CaseNotFoundError):
                s.index_of(missing)

    def test_columns_and_take_agree_with_indexing(self) -> None:
        """Vectorized seeds equal the indexed ones."""
        s = replicates(50, seed=1)
        assert same_columns(s.columns([3, -1]), ParamSource.columns(s, [3, -1]))
        assert same_columns(s.columns(), ParamSource.columns(s))
        assert s.columns()["seed"].dtype == np.int64
        assert all_same(s.take([4, 0]), [s[4], s[0]])
        assert s[4].case_id == fingerprint(s[4].params)


class TestSlices:
    """``source[start:stop:step]``: a lazy slice with Python's rules."""

    @pytest.mark.parametrize("step", [None, 1, 2, 3, -1, -2, -5])
    @pytest.mark.parametrize("start", [None, 0, 1, 5, -1, -4, 9, 20, -20])
    @pytest.mark.parametrize("stop", [None, 0, 3, 7, -1, -3, 10, 25, -25])
    def test_slices_match_list_slicing(
        self, start: int | None, stop: int | None, step: int | None
    ) -> None:
        """Every slice selects what slicing the list of cases selects."""
        source = grid(x=range(10))
        sliced = source[start:stop:step]
        assert isinstance(sliced, SliceSource)
        assert all_same(list(sliced), list(source)[start:stop:step])
        assert sliced.size == len(range(10)[start:stop:step])

    def test_fields_are_normalized(self) -> None:
        """Fields hold absolute positions: start, start + size * step, step."""
        s = grid(x=range(10))
        assert (s[2:8:2].start, s[2:8:2].stop, s[2:8:2].step) == (2, 8, 2)
        assert (s[2:7:2].start, s[2:7:2].stop, s[2:7:2].step) == (2, 8, 2)
        assert (s[::-1].start, s[::-1].stop, s[::-1].step) == (9, -1, -1)
        assert (s[5:6:3].start, s[5:6:3].stop, s[5:6:3].step) == (5, 6, 1)
        assert (s[7:2].start, s[7:2].stop, s[7:2].step) == (0, 0, 1)
        assert s[2:7:2] == s[2:8:2]
        assert SliceSource(s, 2, 8, 2) == s[2:8:2]

    def test_slices_of_slices_compose(self) -> None:
        """A slice of a slice is one slice of the underlying source."""
        s = grid(x=range(100))
        nested = s[10:90:2][::-1][3:20:3]
        assert nested.source is s
        assert all_same(list(nested), list(s)[10:90:2][::-1][3:20:3])
        assert nested == s[list(range(100))[10:90:2][::-1][3] : 0 : -6][:6]

    def test_repr_reads_as_python(self) -> None:
        """The repr is the source followed by a slice that reproduces it."""
        s = grid(x=[1, 2, 3, 4])
        assert repr(s[1:3]) == "grid(x=[1, 2, 3, 4])[1:3]"
        assert repr(s[::2]) == "grid(x=[1, 2, 3, 4])[::2]"
        assert repr(s[::-1]) == "grid(x=[1, 2, 3, 4])[::-1]"
        assert repr(s[2:0:-1]) == "grid(x=[1, 2, 3, 4])[2:0:-1]"
        assert repr(s[3:3]) == "grid(x=[1, 2, 3, 4])[0:0]"
        assert repr((s + s)[1:]) == f"({s!r} + {s!r})[1:]"
        for sliced in (s[1:3], s[::2], s[::-1], s[2:0:-1], s[1:-1:2], s[3:3]):
            assert eval(repr(sliced), {"grid": grid}) == sliced  # noqa: S307

    @pytest.mark.parametrize(
        ("args", "error", "message"),
        [
            ((0, 3, 0), ParamError, "step cannot be zero"),
            ((0, 11, 1), ParamError, "outside a source of 10 cases"),
            ((-1, 3, 1), ParamError, "outside"),
            ((9, -2, -1), ParamError, "outside"),
            ((0.0, 3, 1), ParamError, "start must be an int"),
            ((0, True, 1), ParamError, "stop must be an int"),
        ],
    )
    def test_bad_positions_are_refused(
        self, args: tuple[Any, Any, Any], error: type[Exception], message: str
    ) -> None:
        """The constructor takes absolute positions inside the source, and a nonzero step."""
        with pytest.raises(error, match=message):
            SliceSource(grid(x=range(10)), *args)

    def test_bad_slices_are_refused(self) -> None:
        """A zero step is a ParamError; non-int bounds and bools are TypeErrors."""
        s = grid(x=range(10))
        with pytest.raises(ParamError, match="zero"):
            s[::0]
        with pytest.raises(TypeError):
            s[1.0:]
        with pytest.raises(TypeError):
            s[True:]
        with pytest.raises(ParamError, match="takes a source"):
            SliceSource([1, 2], 0, 1)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("index", "message"),
        [
            (slice(None, None, 1.5), "slice step must be int, got float 1.5"),
            (slice(0.5, None), "slice start must be int, got float 0.5"),
            (slice(None, "a"), "slice stop must be int, got str 'a'"),
            (slice(True, None), "slice start must be int, got bool True"),
            (slice(None, None, np.True_), "slice step must be int, got bool np.True_"),
        ],
        ids=repr,
    )
    def test_non_int_bounds_are_index_type_errors(self, index: slice, message: str) -> None:
        """Bounds without __index__, and bools, raise IndexTypeError naming the bound."""
        with pytest.raises(IndexTypeError, match=re.escape(message)):
            grid(x=range(10))[index]

    def test_index_like_bounds_are_taken_as_lists_take_them(self) -> None:
        """NumPy ints are bounds, as for Python's lists."""
        s = grid(x=range(10))[np.int64(1) : np.int32(8) : np.int8(3)]
        assert params(s) == [{"x": v} for v in list(range(10))[1:8:3]]

    def test_index_of_maps_into_the_slice(self) -> None:
        """index_of finds the case's position in the slice, forwards and backwards."""
        s = manual([{"x": v} for v in [1, 2, 1, 3, 1, 2]])
        assert list(s[1::2]._indices_of({"x": 1})) == []
        assert list(s[::2]._indices_of({"x": 1})) == [0, 1, 2]
        assert list(s[::-1]._indices_of({"x": 2})) == [0, 4]
        assert list(s[4:0:-2]._indices_of({"x": 1})) == [0, 1]
        assert s[::-1].index_of({"x": 3}) == 2
        with pytest.raises(CaseNotFoundError):
            s[4:].index_of({"x": 3})
        with pytest.raises(UnsupportedOperationError):
            random(SPACE, 4, seed=0)[1:].index_of({"u": 0.5, "o": "a"})

    def test_take_and_columns_agree_with_indexing(self) -> None:
        """Batched access through a slice agrees with indexing it."""
        s = random(SPACE, 30, seed=2)[25:3:-3]
        idx = [0, -1, 3, 3]
        assert all_same(s.take(idx), [s[i] for i in idx])
        assert same_columns(s.columns(idx), ParamSource.columns(s, idx))
        assert same_columns(s.columns(), ParamSource.columns(s))
        with pytest.raises(CaseIndexError):
            s.take([s.size])


class TestShards:
    """``source.shard(k, n)``: contiguous shards, larger first, that add back up."""

    @pytest.mark.parametrize("size", [0, 1, 2, 7, 10, 11])
    @pytest.mark.parametrize("n", [1, 2, 3, 4, 12])
    def test_shards_partition_the_source(self, size: int, n: int) -> None:
        """Sizes differ by at most one, larger first, and the shards concatenate back."""
        source = grid(x=range(size)) if size else manual([])
        shards = [source.shard(k, n) for k in range(n)]
        sizes = [s.size for s in shards]
        assert sum(sizes) == size
        assert sizes == sorted(sizes, reverse=True)
        assert max(sizes) - min(sizes) <= 1
        assert all_same([c for s in shards for c in s], list(source))

    @pytest.mark.parametrize(
        ("k", "n", "message"),
        [
            (0, 0, "n must be >= 1"),
            (3, 3, "k must be in \\[0, 3\\)"),
            (-1, 3, "k must be in"),
            (0.0, 3, "k must be an int"),
            (0, True, "n must be an int"),
        ],
    )
    def test_bad_shards_are_refused(self, k: Any, n: Any, message: str) -> None:
        """The shard index and count are ints with 0 <= k < n."""
        with pytest.raises(ParamError, match=message):
            grid(x=range(10)).shard(k, n)

    def test_shards_of_slices_are_slices_of_the_base(self) -> None:
        """Sharding a slice composes into one slice of the underlying source."""
        base = grid(x=range(100))
        shard = base[::-3].shard(1, 4)
        assert shard.source is base
        assert all_same(list(shard), list(base)[::-3][9:18])


class TestShuffled:
    """``source.shuffled(seed)``: the same cases in a seeded order."""

    @pytest.mark.parametrize("size", [0, 1, 2, 3, 10, 100])
    def test_is_a_permutation_of_the_cases(self, size: int) -> None:
        """The shuffled source holds each case exactly once."""
        source = grid(x=range(size)) if size else manual([])
        shuffled = source.shuffled(11)
        assert shuffled.size == size
        xs = [c.params["x"] for c in shuffled]
        assert len(xs) == size
        assert set(xs) == set(range(size))

    def test_order_is_the_documented_permutation(self) -> None:
        """Case i of the shuffle is case perm(i) of the source."""
        source = manual([{"i": i} for i in range(20)], tags=["t"])
        shuffled = source.shuffled(2**64 - 1)
        perm = Permutation(2**64 - 1, 20)
        assert all_same(list(shuffled), [source[perm(i)] for i in range(20)])
        assert all_same(list(shuffled), [shuffled[i] for i in range(20)])
        assert list(shuffled.dicts()) == params(shuffled)

    def test_seeds_matter_and_equality_is_structural(self) -> None:
        """Equal seeds give equal sources; different seeds give different orders."""
        source = grid(x=range(50))
        assert source.shuffled(1) == ShuffledSource(source, 1)
        assert source.shuffled(1) != source.shuffled(2)
        assert params(source.shuffled(1)) != params(source.shuffled(2))
        assert params(source.shuffled(1)) != params(source)

    @pytest.mark.parametrize(
        ("seed", "message"),
        [
            (-1, "\\[0, 2\\*\\*64\\)"),
            (2**64, "\\[0, 2\\*\\*64\\)"),
            (True, "an int"),
            (1.0, "an int"),
        ],
    )
    def test_bad_seeds_are_refused(self, seed: Any, message: str) -> None:
        """The seed is an int in [0, 2**64); bools are refused."""
        with pytest.raises(ParamError, match=message):
            grid(x=[1]).shuffled(seed)

    def test_non_sources_are_refused(self) -> None:
        """Only sources can be shuffled."""
        with pytest.raises(ParamError, match="takes a source"):
            ShuffledSource([1], 0)  # type: ignore[arg-type]

    def test_repr_shows_the_seed(self) -> None:
        """The repr is the source followed by .shuffled(seed=...)."""
        assert repr(grid(x=[1]).shuffled(3)) == "grid(x=[1]).shuffled(seed=3)"
        assert repr((grid(x=[1]) * grid(y=[2])).shuffled(0)) == (
            "(grid(x=[1]) * grid(y=[2])).shuffled(seed=0)"
        )

    def test_index_of_goes_through_the_inverse(self) -> None:
        """index_of finds where a case went, all matches in increasing order."""
        source = manual([{"x": v} for v in [1, 2, 1, 3]])
        shuffled = source.shuffled(4)
        where = [i for i, c in enumerate(shuffled) if c.params == {"x": 1}]
        assert list(shuffled._indices_of({"x": 1})) == where
        assert shuffled.index_of({"x": 1}) == where[0]
        with pytest.raises(UnsupportedOperationError):
            random(SPACE, 4, seed=0).shuffled(1).index_of({"u": 0.5, "o": "a"})

    def test_take_and_columns_agree_with_indexing(self) -> None:
        """Vectorized permutation then batched access equals indexing one by one."""
        s = (grid(x=range(7)) * random(SPACE, 9, seed=5)).shuffled(8)
        idx = [0, 62, -1, 5, 5]
        assert all_same(s.take(idx), [s[i] for i in idx])
        assert all_same(s.take(np.array(idx, dtype=np.int16)), [s[i] for i in idx])
        assert all_same(s.take(np.array([62, 1], dtype=np.uint8)), [s[62], s[1]])
        assert same_columns(s.columns(idx), ParamSource.columns(s, idx))
        assert same_columns(s.columns(), ParamSource.columns(s))

    def test_sources_beyond_64_bits_are_shuffled_one_index_at_a_time(self) -> None:
        """Above 2**64 cases the scalar permutation serves take and iteration."""
        s = grid(x=range(2**70)).shuffled(1)
        perm = Permutation(1, 2**70)
        assert [c.params["x"] for c in s.take([0, -1])] == [perm(0), perm(2**70 - 1)]
        first = next(iter(s))
        assert first.params["x"] == perm(0)


class TestValues:
    """Composites are immutable values: hashable, picklable and equal by structure."""

    def sources(self) -> list[ParamSource]:
        """One source of every composite kind."""
        g = grid(x=[1, 2, 3])
        return [
            g + manual([{"y": 1}]),
            g * zip(a=[1, 2], b=[3, 4]),
            g[1:],
            g.shuffled(3),
            zip(a=[1]),
            replicates(3, seed=1),
            (g + g) * replicates(2, seed=5, key="run"),
        ]

    def test_pickle_round_trips(self) -> None:
        """A pickled composite comes back equal, with the same cases."""
        for source in self.sources():
            copy = pickle.loads(pickle.dumps(source))  # noqa: S301
            assert copy == source
            assert all_same(list(copy), list(source))

    @pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
    def test_every_source_pickles_with_every_protocol(self, protocol: int) -> None:
        """Every kind of source, leaf or composite, round-trips with protocols 0 to HIGHEST."""
        leaves: list[ParamSource] = [
            grid(x=[1, 2]),
            manual([{"y": 1}], tags=["t"]),
            random({"u": uniform(0, 1)}, 3, seed=0),
        ]
        for source in [*leaves, *self.sources()]:
            copy = pickle.loads(pickle.dumps(source, protocol=protocol))  # noqa: S301
            assert copy == source
            assert hash(copy) == hash(source)
            assert all_same(list(copy), list(source))

    def test_hash_and_equality_are_structural(self) -> None:
        """Rebuilding a composite gives an equal value with an equal hash."""
        first, second = self.sources(), self.sources()
        assert first == second
        assert [hash(s) for s in first] == [hash(s) for s in second]
        assert len(set(first)) == len(first)

    def test_fields_cannot_be_changed(self) -> None:
        """Composites are frozen."""
        s = grid(x=[1]) + grid(x=[2])
        with pytest.raises(AttributeError):
            s.parts = ()  # type: ignore[misc]

    def test_manifest_types_are_the_class_names(self) -> None:
        """Each composite's manifest tag is its class name."""
        for cls in (
            ConcatSource,
            ProductSource,
            ZipSource,
            SliceSource,
            ShuffledSource,
            ReplicateSource,
        ):
            assert cls.manifest_type == cls.__name__

    def test_len_of_huge_sources_names_size(self) -> None:
        """len() beyond sys.maxsize points at .size."""
        with pytest.raises(SizeOverflowError, match=r"source\.size"):
            len(grid(x=range(sys.maxsize)) * grid(y=[1, 2]))

    def test_every_composite_streams_its_cases(self) -> None:
        """Iteration yields exactly the indexed cases, for every kind."""
        for source in self.sources():
            assert all_same(list(source), [source[i] for i in range(source.size)])
            assert Counter(map(repr, source)) == Counter(
                repr(source[i]) for i in range(source.size)
            )
