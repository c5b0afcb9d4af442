"""Grids: product order, the empty grid, lazy ranges and NumPy inputs."""

from __future__ import annotations

import itertools
import math
import re
import tracemalloc
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import GridSource, ParamCase, choice, grid, manual, randint, random, uniform
from metalab._core.case import encode_value
from metalab.errors import ParamError, SizeOverflowError
from metalab.testing import grids

if TYPE_CHECKING:
    from metalab import ParamValue


class TestOrder:
    """Keys are sorted and the last one varies fastest, as in itertools.product."""

    @given(source=grids())
    def test_cases_follow_itertools_product_over_sorted_keys(self, source: GridSource) -> None:
        """list(grid) is itertools.product of the axes, keys sorted, last key fastest."""
        keys = sorted(source.spec)
        assert list(source.keys) == keys
        expected = [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*(source.spec[k] for k in keys))
        ]
        assert [encode_value(c.params) for c in source] == [encode_value(p) for p in expected]

    def test_keyword_order_does_not_matter(self) -> None:
        """grid(b=..., a=...) and grid(a=..., b=...) are the same grid, "a" slowest."""
        one = grid(b=[1, 2], a=["x", "y"])
        assert one == grid(a=["x", "y"], b=[1, 2])
        assert [c.params for c in one] == [
            {"a": "x", "b": 1},
            {"a": "x", "b": 2},
            {"a": "y", "b": 1},
            {"a": "y", "b": 2},
        ]

    def test_mapping_and_keywords_combine(self) -> None:
        """Names that are not identifiers go in a mapping, alongside keywords."""
        source = grid({"model.lr": [0.1], "β": [1, 2]}, seed=[0])
        assert source.keys == ("model.lr", "seed", "β")
        assert source[1].params == {"model.lr": 0.1, "seed": 0, "β": 2}


class TestEmptyGrid:
    """grid() is the identity of *: exactly one empty case."""

    def test_empty_grid_has_one_empty_case(self) -> None:
        """grid() yields exactly one case, with no params and no tags."""
        source = grid()
        assert len(source) == 1
        assert list(source) == [ParamCase({})]
        assert source[0].params == {}
        assert source[-1].case_id == ParamCase({}).case_id
        assert source.keys == ()


class TestRangeAxes:
    """A range axis is kept as a range: sized and indexed without materializing."""

    def test_huge_range_is_sized_and_indexed_without_materializing(self) -> None:
        """grid(x=range(10**12)) costs kilobytes, not terabytes, to build and index."""
        tracemalloc.start()
        try:
            source = grid(x=range(10**12), y=["a", "b"])
            size = source.size
            last = source[-1].params
            middle = source[10**11 * 2 + 1].params
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert size == 2 * 10**12
        assert last == {"x": 10**12 - 1, "y": "b"}
        assert middle == {"x": 10**11, "y": "b"}
        assert isinstance(source.spec["x"], range)
        assert peak < 1_000_000

    def test_range_beyond_sys_maxsize(self) -> None:
        """A grid larger than sys.maxsize has an exact size and indexes; len() says why not."""
        source = grid(x=range(10**30), y=range(-5, 5, 3))
        assert source.size == 10**30 * 4
        assert source[10**30 * 4 - 1].params == {"x": 10**30 - 1, "y": 4}
        assert source[-(10**30 * 4)].params == {"x": 0, "y": -5}
        with pytest.raises(SizeOverflowError, match=r"use source\.size"):
            len(source)

    @given(
        start=st.integers(-(10**20), 10**20),
        length=st.integers(1, 10**20),
        step=st.integers(-(10**6), 10**6).filter(bool),
        data=st.data(),
    )
    def test_range_axis_indexes_like_the_range(
        self, start: int, length: int, step: int, data: st.DataObject
    ) -> None:
        """Case i of grid(x=r) is r[i] for ranges of any size and step."""
        r = range(start, start + length * step, step)
        source = grid(x=r)
        i = data.draw(st.integers(-length, length - 1))
        assert source.size == length
        value = source[i].params["x"]
        assert type(value) is int
        assert value == start + (i % length) * step


class TestNumpyInputs:
    """NumPy arrays and scalars are accepted and become Python builtins."""

    @pytest.mark.parametrize("shape", [(3, 2), (1, 1), (2, 0), (2, 2, 2)])
    def test_an_n_d_array_is_not_an_axis(self, shape: tuple[int, ...]) -> None:
        """A grid axis is 1-d: a 2-d (or deeper) array is refused, saying so."""
        with pytest.raises(ParamError, match=r"'x' must be a 1-d sequence.*shape"):
            grid(x=np.ones(shape))

    def test_rows_in_a_list_are_tuple_values(self) -> None:
        """Listing the rows of a 2-d array gives one tuple value per row, as asked."""
        assert grid(x=list(np.ones((2, 2))))[0].params == {"x": (1.0, 1.0)}

    @pytest.mark.parametrize(
        ("array", "expected"),
        [
            (np.array([1, 2], dtype=np.int64), [1, 2]),
            (np.array([1, 2], dtype=np.uint8), [1, 2]),
            (np.array([0.5, -0.0]), [0.5, -0.0]),
            (np.array([0.5], dtype=np.float32), [0.5]),
            (np.array([True, False]), [True, False]),
            (np.array(["a", "bc"]), ["a", "bc"]),
        ],
        ids=["int64", "uint8", "float64", "float32", "bool", "str"],
    )
    def test_array_axes_become_builtins(self, array: Any, expected: list[ParamValue]) -> None:
        """A 1-d array axis gives cases holding the equivalent int, float, bool or str."""
        values = [c.params["x"] for c in grid(x=array)]
        assert [encode_value(v) for v in values] == [encode_value(v) for v in expected]

    def test_numpy_scalars_become_builtins_everywhere(self) -> None:
        """NumPy scalars in grid lists, manual cases, nested values and bounds become builtins."""
        g = grid(x=[np.int32(3), np.float64(0.25), np.bool_(True), np.str_("s")])
        assert [type(c.params["x"]) for c in g] == [int, float, bool, str]
        # Typed as Any: the signatures promise builtins, run time also takes NumPy values.
        array: Any = np.array([1.5, 2.5])
        one: Any = np.int64(1)
        five: Any = np.int64(5)
        seven: Any = np.uint64(7)
        m = manual([{"a": np.int64(1), "b": array, "c": {"d": np.uint16(4)}}])
        assert encode_value(m[0].params) == encode_value({"a": 1, "b": (1.5, 2.5), "c": {"d": 4}})
        dist = randint(one, five)
        assert type(dist.low) is int
        assert type(dist.high) is int
        assert all(type(o) is int for o in choice(np.array([1, 2])).options)
        trials = random({"u": uniform(np.float64(0), np.float64(1))}, five, seven)
        assert trials.n_trials == 5
        assert type(trials.n_trials) is int
        assert type(trials.seed) is int
        assert all(type(c.params["u"]) is float for c in trials)

    def test_two_dimensional_array_values_become_nested_tuples(self) -> None:
        """A 2-d array given as one value becomes a tuple of tuples."""
        matrix: Any = np.arange(4).reshape(2, 2)
        source = grid(x=[matrix])
        assert source[0].params["x"] == ((0, 1), (2, 3))


def test_grid_size_is_the_product_of_axis_lengths() -> None:
    """A grid's size is the product of its axis lengths (ranges counted exactly)."""
    axes = {"a": [1, 2, 3], "b": range(0, 100, 7), "c": (None,)}
    assert grid(**axes).size == math.prod(len(v) for v in axes.values())


class TestGeneratedCode:
    """Each grid writes out its lookup and streams; they match the generic definition."""

    HOSTILE_KEYS = ("a'b", 'c"d', "e\\nf", "{g}", "h\\", "i)\n    raise SystemExit", "__import__")

    def test_hostile_key_names_are_data_not_code(self) -> None:
        """Quotes, backslashes, braces and newlines in keys stay literal key text."""
        spec = {key: [j, -j] for j, key in enumerate(self.HOSTILE_KEYS, start=1)}
        source = grid(spec)
        keys = sorted(spec)
        expected = [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*(spec[k] for k in keys))
        ]
        assert [c.params for c in source] == expected
        assert [source[i].params for i in range(len(source))] == expected
        assert list(source.dicts()) == expected

    def test_functions_are_written_on_first_use(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Defining a grid, or crossing it, writes out none of its own functions."""
        import metalab._sources.grid as grid_module

        written: list[tuple[str, ...]] = []
        real = grid_module._compile

        def recording(keys: tuple[str, ...], *args: Any) -> Any:
            written.append(keys)
            return real(keys, *args)

        monkeypatch.setattr(grid_module, "_compile", recording)
        left, right = grid(a=[1, 2], b=[3]), grid(c=["x", "y"])
        product = left * right
        assert product[3].params == {"a": 2, "b": 3, "c": "y"}
        assert written == []
        assert [c.params for c in left] == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
        assert left[1] == left.take([1])[0]
        assert written == [("a", "b")]

    @pytest.mark.parametrize("axes", [0, 1, 3, 300])
    def test_raw_gives_each_case_as_a_fresh_dict(self, axes: int) -> None:
        """raw(i), written out or (past the written-out width) generic, is case i as a new dict."""
        source = grid({f"k{j:03d}": [j, f"v{j}"] if j < 3 else [j] for j in range(axes)})
        for i in range(len(source)):
            params, tags = source.raw(i)
            assert type(params) is dict
            assert params == source[i].params
            assert list(params) == list(source.keys)
            assert tags == ()
            assert source.raw(i)[0] is not params

    @given(source=grids(), data=st.data())
    def test_lookup_and_stream_match_the_generic_path(
        self, source: GridSource, data: st.DataObject
    ) -> None:
        """source[i], the i-th streamed case and dict all equal what raw(i) builds."""
        i = data.draw(st.integers(0, len(source) - 1))
        params, tags = source.raw(i)
        expected = ParamCase(params, tags)
        streamed = next(itertools.islice(source, i, None))
        for case in (source[i], streamed):
            assert encode_value(case.params) == encode_value(expected.params)
            assert case.tags == expected.tags
            assert case.case_id == expected.case_id
        streamed_dict = next(itertools.islice(source.dicts(), i, None))
        assert encode_value(streamed_dict) == encode_value(params)
        assert type(streamed_dict) is dict

    def test_a_wide_grid_compiles_bounded_code(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Building a grid of thousands of axes compiles no code that grows with them."""
        import builtins

        compiled: list[int] = []
        real_compile = builtins.compile

        def counting_compile(source: Any, *args: Any, **kwargs: Any) -> Any:
            compiled.append(len(source) if isinstance(source, str) else 0)
            return real_compile(source, *args, **kwargs)

        monkeypatch.setattr(builtins, "compile", counting_compile)
        source = grid({f"p{j}": [j, -j] for j in range(3000)})
        assert source[-1].params["p2999"] == -2999
        assert sum(compiled) < 20_000  # written-out code for 3000 axes is over 100 kB

    def test_a_wide_grid_gives_the_same_cases(self) -> None:
        """Past the written-out width, lookup, streams and ids follow the same definition."""
        spec: dict[str, Any] = {f"p{j:03}": [j, str(j), None] for j in range(300)}
        spec["q"] = range(5, 10)
        source = grid(spec)
        keys = sorted(spec)
        sizes = [len(spec[k]) for k in keys]
        for i in (0, 1, 7, 10**50, source.size - 1):
            digits, rest = [], i
            for size in reversed(sizes):
                rest, digit = divmod(rest, size)
                digits.append(digit)
            params = {k: spec[k][d] for k, d in zip(keys, reversed(digits), strict=True)}
            expected = ParamCase(params)
            assert encode_value(source[i].params) == encode_value(expected.params)
            assert source[i].case_id == expected.case_id
            assert source[i].tags == ()
        streamed = list(itertools.islice(source, 12))
        assert streamed == [source[i] for i in range(12)]
        assert [c.case_id for c in streamed] == [source[i].case_id for i in range(12)]
        assert list(itertools.islice(source.dicts(), 12)) == [c.params for c in streamed]

    def test_a_pickled_grid_rebuilds_its_functions(self) -> None:
        """Unpickling re-derives the generated functions from the spec."""
        import pickle

        source = grid(lr=[0.1, 0.01], seed=range(3))
        copy = pickle.loads(pickle.dumps(source))  # noqa: S301 - our own bytes
        assert copy == source
        assert list(copy) == list(source)
        assert [copy[i] for i in range(-6, 6)] == [source[i] for i in range(-6, 6)]


def _generic_columns(source: GridSource, indices: Any = None) -> dict[str, Any]:
    """What every source's generic ``columns`` gives: column_array over each case's params."""
    from metalab import ParamSource

    return ParamSource.columns(source, indices)


def _same_columns(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Same keys, dtypes and values, with 1, 1.0 and True told apart."""
    return list(got) == list(want) and all(
        got[k].dtype == want[k].dtype
        and [encode_value(v) for v in got[k].tolist()]
        == [encode_value(v) for v in want[k].tolist()]
        for k in want
    )


MIXED_GRID = grid(
    {
        "a": [1, 2.0, True, "x", None, (1, 2)],
        "b": ["", "abc", "de"],
        "c": range(-3, 9, 4),
        "d": [2**70, 1],
        "e": [0.5, -0.0],
        "f": ["nul\0", "y"],
    }
)
"""Axes of every column kind: mixed (object), str of several widths, ranges, huge ints."""


class TestVectorizedBatches:
    """A grid's columns() and take() work per axis value, not per case, and agree with cases."""

    @given(source=grids(), data=st.data())
    def test_columns_and_take_agree_with_cases(
        self, source: GridSource, data: st.DataObject
    ) -> None:
        """columns() (all or at indices) equals the generic path exactly, dtypes included."""
        assert _same_columns(source.columns(), _generic_columns(source))
        n = source.size
        indices = data.draw(st.lists(st.integers(-n, n - 1), max_size=8))
        assert _same_columns(source.columns(indices), _generic_columns(source, indices))
        assert source.take(indices) == [source[i] for i in indices]

    @pytest.mark.parametrize(
        "indices", [None, [], [0], [1, 1], [5, 0, -1], [7, 8, 9, 10, 11]], ids=repr
    )
    def test_dtypes_follow_the_chosen_values(self, indices: Any) -> None:
        """A mixed or wide axis gives the dtype column_array gives for the chosen values only."""
        want = _generic_columns(MIXED_GRID, indices)
        assert _same_columns(MIXED_GRID.columns(indices), want)
        if indices is not None:
            assert MIXED_GRID.take(indices) == [MIXED_GRID[i] for i in indices]

    def test_huge_grid_uses_exact_digits(self) -> None:
        """Beyond int64 sizes, take() and columns() at indices use exact Python ints."""
        g = grid(a=range(2**40), b=range(2**40), c=["p", "q"])
        indices = [g.size - 1, 0, 2**63 + 5]
        assert g.take(indices) == [g[i] for i in indices]
        assert _same_columns(g.columns(indices), _generic_columns(g, indices))
        with pytest.raises(SizeOverflowError):
            g.columns()

    def test_no_case_is_built(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """columns() of 400,000 cases and take() never build cases one index at a time."""
        g = grid(a=range(100), b=[0.5, 1.5, 2.5, 3.5], c=["x", "y"] * 25, d=range(20))
        calls: list[int] = []

        def one_at_a_time(_: GridSource, i: int) -> Any:
            calls.append(i)
            raise AssertionError

        monkeypatch.setattr(GridSource, "raw", one_at_a_time)
        monkeypatch.setattr(GridSource, "_case", one_at_a_time)
        columns = g.columns()
        assert [len(c) for c in columns.values()] == [400_000] * 4
        assert columns["d"][:3].tolist() == [0, 1, 2]
        assert len(g.columns(np.arange(0, 400_000, 7))["a"]) == len(range(0, 400_000, 7))
        assert len(g.take(range(1000))) == 1000
        assert calls == []


class TestAxesInNormalForm:
    """An axis already in normal form is taken as it is; any other is checked value by value."""

    @given(
        values=st.lists(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
            min_size=1,
            max_size=6,
        )
    )
    def test_the_shortcut_gives_what_the_checks_give(self, values: list[Any]) -> None:
        """Same values of the same exact types, or the same error, as value by value."""
        from metalab._core.values import normalize_value
        from metalab._sources.grid import value_list

        try:
            expected = tuple(normalize_value(v, "x") for v in values)
        except ParamError as error:
            with pytest.raises(ParamError, match=re.escape(str(error))):
                value_list(values, "x")
            return
        got = value_list(values, "x")
        assert [(type(v), v) for v in got] == [(type(v), v) for v in expected]
