"""Laws every leaf source obeys (grid, random, manual), over generated sources."""

from __future__ import annotations

import gc
import pickle
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import ParamCase, ParamSource, choice, grid, manual, random, replicates, uniform
from metalab import zip as zip_
from metalab._core.case import encode_value
from metalab.errors import CaseIndexError, IndexTypeError, ParamError, UnsupportedOperationError
from metalab.manifest import dumps, loads
from metalab.testing import grids, manual_sources, random_sources, sources

LEAVES = pytest.mark.parametrize(
    "kind",
    [grids(), random_sources(), manual_sources()],
    ids=["grid", "random", "manual"],
)
ANY_LEAF = st.one_of(grids(), random_sources(), manual_sources())

_CONFUSABLE: Any = st.sampled_from([1, 1.0, True, 0, 0.0, -0.0, False, "1", None])
_CONFUSABLE_SOURCES: Any = st.one_of(
    st.lists(_CONFUSABLE, min_size=1, max_size=2).map(lambda v: grid(x=v)),
    st.lists(_CONFUSABLE, min_size=1, max_size=2).map(lambda v: manual([{"x": x} for x in v])),
    st.lists(_CONFUSABLE, min_size=1, max_size=2).map(lambda v: zip_(x=v)),
    st.lists(_CONFUSABLE, min_size=1, max_size=2).map(
        lambda v: random({"x": choice(v)}, 2, seed=0)
    ),
    st.sampled_from([0, 0.0, -0.0, 1]).map(lambda low: random({"x": uniform(low, 2)}, 2, seed=0)),
    st.sampled_from([range(2), range(0, 2, 1), range(0, 2, 3), range(1)]).map(
        lambda r: grid(x=r) * random({"y": choice(r)}, 2, seed=0)
    ),
)
"""Small sources over values Python considers equal, so that pairs often collide."""


def same(a: ParamCase, b: ParamCase) -> bool:
    """Whether two cases are the same, telling apart 1, 1.0 and True (unlike ``==``)."""
    return (
        encode_value(a.params) == encode_value(b.params)
        and a.tags == b.tags
        and a.case_id == b.case_id
    )


def is_canonical(value: object) -> bool:
    """Whether a value holds only Python builtins, tuples and read-only mappings."""
    if value is None or type(value) in {bool, int, float, str}:
        return True
    if type(value) is tuple:
        return all(map(is_canonical, value))
    if isinstance(value, Mapping):
        return all(type(k) is str and is_canonical(v) for k, v in value.items())
    return False


class TestSequence:
    """Sources behave as sequences of cases: every access path gives the same case."""

    @LEAVES
    @given(data=st.data())
    def test_indexing_agrees_with_iteration(
        self, kind: st.SearchStrategy[ParamSource], data: st.DataObject
    ) -> None:
        """source[i], source[i - len], take(), dicts() and columns() all agree with list(source).

        Indices outside [-len, len) raise CaseIndexError, and every case holds canonical
        values (no NumPy scalar, list or plain dict) under sorted keys of the source.
        """
        source = data.draw(kind)
        cases = list(source)
        n = len(cases)
        assert len(source) == source.size == n
        assert bool(source) is (n > 0)
        assert list(source.keys) == sorted(set(source.keys))
        for i, case in enumerate(cases):
            assert same(source[i], case)
            assert same(source[i - n], case)
            numpy_index: Any = np.int64(i)  # accepted at run time, like any __index__ type
            assert same(source[numpy_index], case)
            assert is_canonical(case.params)
            assert list(case.params) == sorted(case.params)
            assert set(case.params) <= set(source.keys)
        for index in (n, n + 1, -n - 1, 10**30, -(10**30)):
            with pytest.raises(CaseIndexError, match=rf"index {index} is out of range"):
                source[index]
        indices = data.draw(st.lists(st.integers(-n, n - 1), max_size=5)) if n else []
        assert all(same(c, source[i]) for c, i in zip(source.take(indices), indices, strict=True))
        plain = list(source.dicts())
        assert all(type(p) is dict for p in plain)
        assert [encode_value(p) for p in plain] == [encode_value(c.params) for c in cases]
        columns = source.columns()
        assert list(columns) == list(source.keys)
        for key, column in columns.items():
            cells = [column[i] if column.dtype == object else column[i].item() for i in range(n)]
            assert [encode_value(c) for c in cells] == [
                encode_value(c.params.get(key)) for c in cases
            ]

    @pytest.mark.parametrize(
        "index", [1.0, "0", None, True, np.True_, np.float64(0), 1.5, "a"], ids=repr
    )
    def test_non_int_indices_raise_type_error(self, index: Any) -> None:
        """Floats, str, None and bools are not indices: IndexTypeError, a TypeError."""
        sources = [
            grid(x=[1, 2]),
            random({"x": uniform(0, 1)}, 3, seed=0),
            manual([{"x": 1}]),
        ]
        for source in sources:
            with pytest.raises(IndexTypeError, match="source indices must be int"):
                source[index]
            with pytest.raises(IndexTypeError, match="source indices must be int"):
                source.take([index])

    def test_bool_indices_are_refused_unlike_lists(self) -> None:
        """source[True] is an IndexTypeError naming the bool (a list would read it as 1)."""
        with pytest.raises(IndexTypeError, match="must be int, got bool True"):
            grid(x=[1, 2])[True]
        with pytest.raises(IndexTypeError, match=r"must be int, got bool np\.False_"):
            grid(x=[1, 2])[np.False_]  # type: ignore[call-overload]

    def test_out_of_range_messages_count_cases_and_shorten_huge_indices(self) -> None:
        """One case is "1 case"; an index past str's digit limit is named, not a ValueError."""
        with pytest.raises(
            CaseIndexError, match=r"index 5 is out of range for a source of 1 case$"
        ):
            grid(x=[1])[5]
        with pytest.raises(
            CaseIndexError, match=r"index 3\.000e\+5000 is out of range .* 2 cases$"
        ):
            grid(x=[1, 2])[3 * 10**5000]


class TestContains:
    """``x in source`` asks index_of, never enumerates, and refuses what it cannot answer."""

    def test_params_are_in_a_grid_without_enumerating_it(self) -> None:
        """A mapping is in a source when a case has exactly these params, of these types."""
        g = grid(x=range(10**12))
        assert {"x": 5} in g
        assert {"x": 10**12 - 1} in g
        assert {"x": 5.0} not in g
        assert {"x": 10**12} not in g
        assert {"x": 5, "y": 1} not in g

    def test_a_case_also_needs_its_tags(self) -> None:
        """Every case of a source is in it; a case with the params but other tags is not."""
        m = manual([{"a": 1}, {"a": 1}], tags=["t"])
        assert all(case in m for case in m)
        assert ParamCase({"a": 1}, ("t", "manual_1")) in m
        assert ParamCase({"a": 1}, ("manual_1",)) not in m

    def test_random_sources_and_non_mappings_are_refused(self) -> None:
        """Random draws raise UnsupportedOperationError; other items a ParamError."""
        r = random({"x": uniform(0, 1)}, 3, seed=0)
        with pytest.raises(UnsupportedOperationError, match="index_of is not defined"):
            {"x": 0.5} in r  # noqa: B015
        with pytest.raises(UnsupportedOperationError):
            r[0] in r  # noqa: B015
        with pytest.raises(ParamError, match="mapping of params or a ParamCase, got int 5"):
            5 in grid(x=range(10))  # noqa: B015


class TestValueSemantics:
    """Sources are values: equal by structure, hashable, picklable."""

    @given(source=ANY_LEAF)
    def test_pickle_round_trip_gives_an_equal_source(self, source: ParamSource) -> None:
        """A pickled source is equal to the original, hashes the same and has the same cases."""
        copy = pickle.loads(pickle.dumps(source))  # noqa: S301 - our own bytes
        assert copy == source
        assert hash(copy) == hash(source)
        assert all(same(a, b) for a, b in zip(copy, source, strict=True))

    @given(a=_CONFUSABLE_SOURCES, b=_CONFUSABLE_SOURCES)
    def test_equality_and_hash_agree_with_the_manifest(
        self, a: ParamSource, b: ParamSource
    ) -> None:
        """Two sources are equal exactly when their manifests are, and equal ones hash alike."""
        same = dumps(a) == dumps(b)
        assert (a == b) == same
        if same:
            assert hash(a) == hash(b)

    @given(source=sources(max_depth=2, max_size=8))
    def test_every_source_equals_its_manifest_copy(self, source: ParamSource) -> None:
        """A source rebuilt from its manifest is equal to it and hashes alike."""
        copy = loads(dumps(source))
        assert copy == source
        assert hash(copy) == hash(source)

    def test_sources_are_told_apart_by_value_types(self) -> None:
        """Grids and manual sources whose values differ only as 1 / 1.0 / True are unequal."""
        grids_ = {grid(x=[1]), grid(x=[1.0]), grid(x=[True])}
        manuals = {manual([{"x": 1}]), manual([{"x": 1.0}]), manual([{"x": True}])}
        assert len(grids_) == len(manuals) == 3


def _bulk_sources() -> list[ParamSource]:
    g = grid(x=list(range(50)), y=["a", "b"])
    r = random({"lr": uniform(0, 1)}, 200, seed=3)
    m = manual([{"x": -1, "y": "c"}])
    return [g, r, g + m, (g + m) * r, r[::-1], r.shuffled(seed=1), g * r]


class TestBulkTake:
    """take() pauses the cyclic collector while it builds its list, and restores it."""

    @pytest.mark.parametrize("source", _bulk_sources(), ids=repr)
    def test_no_collection_runs_while_cases_are_built(self, source: ParamSource) -> None:
        """Only the one young collection at the end runs, however many cases are built."""
        runs: list[int] = []

        def record(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                runs.append(info["generation"])

        indices = [i % source.size for i in range(20_000)]
        gc.callbacks.append(record)
        try:
            cases = source.take(indices)
        finally:
            gc.callbacks.remove(record)
        assert runs == [0]
        assert gc.isenabled()
        assert cases[:5] == [source[i] for i in indices[:5]]

    def test_a_disabled_collector_stays_disabled(self) -> None:
        """take() never turns on a collector its caller turned off, nor collects."""
        runs: list[int] = []

        def record(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                runs.append(info["generation"])

        gc.callbacks.append(record)
        gc.disable()
        try:
            grid(x=list(range(1000))).take(range(1000))
            assert not gc.isenabled()
        finally:
            gc.enable()
            gc.callbacks.remove(record)
        assert runs == []

    def test_the_collector_is_back_on_after_an_error(self) -> None:
        """A bad index raises as before, with the collector on again."""
        with pytest.raises(CaseIndexError):
            grid(x=[1, 2]).take([0, 5])
        assert gc.isenabled()


def _every_kind() -> dict[str, ParamSource]:
    """One small source of each kind, six cases each, so an index means the same in all."""
    g = grid(x=[1, 2, 3], y=["a", "b"])
    return {
        "grid": g,
        "random": random({"u": uniform(0, 1)}, 6, seed=0),
        "random-legacy": random({"u": uniform(0, 1)}, 6, seed=0, algorithm="python-random-v0"),
        "manual": manual([{"x": i} for i in range(6)]),
        "concat": g[:3] + g[3:],
        "product": grid(x=[1, 2, 3]) * grid(y=[1, 2]),
        "zip": zip_(x=range(6), y=list("abcdef")),
        "replicates": replicates(6, seed=1),
        "shuffled": g.shuffled(3),
        "slice": grid(x=range(12))[::2],
        "huge-random": random({"u": uniform(0, 1)}, 2**64, seed=0)[:6],
    }


_BAD_INDICES: list[Any] = [
    "ab",
    b"ab",
    5,
    2.5,
    {"a": 1},
    [1.0],
    [True],
    [np.int64(1), "x"],
    np.array([1.5]),
    np.array([[1]]),
    np.array(1),
    [6],
    [-7],
    np.array([6]),
    np.array([2**64 - 1], dtype=np.uint64),
]


class TestBatchValidation:
    """take() and columns() validate an index list once, the same way for every source."""

    @pytest.mark.parametrize("indices", _BAD_INDICES, ids=repr)
    def test_every_kind_gives_the_same_error(self, indices: Any) -> None:
        """The same bad index list raises the same error type and message from every source."""
        outcomes: dict[tuple[type[BaseException], str], list[str]] = {}
        for name, source in _every_kind().items():
            for method in (source.take, source.columns):
                with pytest.raises((IndexTypeError, CaseIndexError)) as caught:
                    method(indices)
                outcome = (caught.type, str(caught.value))
                outcomes.setdefault(outcome, []).append(f"{name}.{method.__name__}")
        assert len(outcomes) == 1, outcomes

    def test_take_refuses_none_which_columns_reads_as_all(self) -> None:
        """take(None) is an IndexTypeError everywhere; columns(None) gives every case."""
        for source in _every_kind().values():
            with pytest.raises(IndexTypeError, match="indices must be an iterable of ints"):
                source.take(None)  # type: ignore[arg-type]
            assert all(len(column) == 6 for column in source.columns(None).values())

    def test_good_indices_agree_across_list_array_and_generator(self) -> None:
        """A list, an int64 array, a uint8 array and a generator of the same indices agree."""
        for source in _every_kind().values():
            expected = [source[i] for i in (0, 5, 2, 5)]
            for indices in (
                [0, -1, 2, 5],
                np.array([0, -1, 2, 5]),
                np.array([0, 5, 2, 5], dtype=np.uint8),
                (i for i in [0, 5, 2, -1]),
            ):
                assert source.take(indices) == expected


class TestSeedValidation:
    """Every seed is checked by one function with one wording."""

    @pytest.mark.parametrize(
        ("seed", "problem"),
        [
            (-1, "must be an int in [0, 2**64), got -1"),
            (2**64, "must be an int in [0, 2**64), got 18446744073709551616"),
            (True, "must be an int, got bool True"),
            (1.0, "must be an int, got float 1.0"),
            ("1", "must be an int, got str '1'"),
        ],
        ids=repr,
    )
    def test_every_seeded_source_words_a_bad_seed_alike(self, seed: Any, problem: str) -> None:
        """random, shuffled and replicates name their seed, then state the same problem."""
        builders: dict[str, Callable[[], object]] = {
            "random seed": lambda: random({"u": uniform(0, 1)}, 3, seed=seed),
            "shuffled seed": lambda: grid(x=[1, 2]).shuffled(seed),
            "replicates seed": lambda: replicates(3, seed=seed),
        }
        for where, build in builders.items():
            with pytest.raises(ParamError) as caught:
                build()
            assert str(caught.value) == f"{where} {problem}"
