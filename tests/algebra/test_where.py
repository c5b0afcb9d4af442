"""`source.where(*predicates)`: exact sizes, O(log n) indexing, push-down and manifests."""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from metalab import (
    ProductSource,
    WhereSource,
    col,
    grid,
    manual,
    random,
    uniform,
)
from metalab._algebra import where as where_module
from metalab._expr import evaluate
from metalab.errors import ExpressionError, ManifestError, MetalabError, ParamError
from metalab.manifest import dumps, loads
from metalab.testing import check_source, expression_grids, filtered_sources, predicates


def _number(value: object) -> float:
    """A case's numeric value, for a hand-written filter."""
    assert isinstance(value, int | float)
    return value


class TestWhere:
    """A filter keeps the accepted cases in order, with an exact size."""

    def test_keeps_the_accepted_cases_in_order(self) -> None:
        """The cases are the parent's that pass, in the parent's order."""
        g = grid(a=range(20), b=range(5))
        s = g.where(col("a") < col("b"))
        expected = [c for c in g if _number(c.params["a"]) < _number(c.params["b"])]
        assert isinstance(s, WhereSource)
        assert s.size == len(expected)
        assert list(s) == expected
        assert [s[i] for i in range(s.size)] == expected
        assert s[-1] == expected[-1]
        assert s.take([3, 0]) == [expected[3], expected[0]]

    def test_keeps_tags_and_values_of_random_trials(self) -> None:
        """On a random source the accepted trials keep their values and tags."""
        r = random({"lr": uniform(0, 1)}, 200, seed=0)
        s = r.where(col("lr") > 0.5)
        expected = [c for c in r if _number(c.params["lr"]) > 0.5]
        assert list(s) == expected
        assert s[:5].size == 5
        assert list(s[:5]) == expected[:5]

    @pytest.mark.parametrize(
        "parent",
        [
            grid(a=range(600)),
            random({"a": uniform(0, 300)}, 600, seed=1),
            manual([{"a": i % 17} for i in range(600)]),
        ],
        ids=["grid", "random", "manual"],
    )
    def test_a_fresh_filter_inside_a_composite_gives_its_cases(self, parent: Any) -> None:
        """Composites ask a filter's cases and dicts before any lookup of its own did."""
        expected = [c for c in parent if _number(c.params["a"]) % 3 < 1]
        assert len(expected) > 10

        def fresh() -> Any:
            filtered = parent.where(col("a") % 3 < 1)
            assert isinstance(filtered, WhereSource)
            return filtered

        last = len(expected) - 1
        assert (fresh() + manual([{"a": -1}]))[last] == expected[last]
        crossed = fresh() * grid(z=[0, 1])
        assert dict(crossed[2 * last + 1].params) == {**expected[last].params, "z": 1}
        assert fresh()[-1] == expected[-1]

    def test_columns_and_index_of(self) -> None:
        """``columns()`` are the accepted rows; ``index_of`` counts accepted cases only."""
        s = grid(a=range(10)).where(col("a") % 3 == 0)
        assert s.columns()["a"].tolist() == [0, 3, 6, 9]
        assert s.columns([-1])["a"].tolist() == [9]
        assert s.index_of({"a": 6}) == 2
        assert {"a": 4} not in s

    def test_several_predicates_all_hold(self) -> None:
        """Every predicate must be true."""
        s = grid(a=range(30)).where(col("a") % 2 == 0, col("a") % 3 == 0)
        assert [c.params["a"] for c in s] == [0, 6, 12, 18, 24]

    def test_a_false_constant_gives_no_cases_without_a_scan(self) -> None:
        """A constant predicate is decided at once."""
        s = grid(a=range(10**30)).where(col("a") >= 0, lit_false())
        assert s.size == 0

    def test_storage_is_compact(self) -> None:
        """A dense filter keeps a bitmap, a sparse one the positions."""
        dense = grid(a=range(100_000)).where(col("a") % 2 == 0)
        sparse = grid(a=range(100_000)).where(col("a") % 1000 == 0)
        assert isinstance(dense, WhereSource)
        assert isinstance(sparse, WhereSource)
        dense_bits = dense._accepted
        sparse_bits = sparse._accepted
        assert dense_bits.bits is not None
        assert dense_bits.nbytes <= 100_000 * 2 / 8
        assert sparse_bits.positions is not None
        assert sparse_bits.positions.nbytes == 8 * 100
        assert dense[12345].params["a"] == 24690
        assert dense.index_of({"a": 24690}) == 12345

    def test_a_bitmap_with_a_long_gap_selects_every_case(self) -> None:
        """Lookups across a long run of rejected cases find the right positions."""
        s = grid(a=range(200_000)).where((col("a") < 50_000) | (col("a") % 1000 == 7))
        assert isinstance(s, WhereSource)
        assert s._accepted.bits is not None
        expected = [*range(50_000), *range(50_007, 200_000, 1000)]
        assert s.size == len(expected)
        for k in [0, 63, 64, 49_999, 50_000, 50_001, len(expected) - 1]:
            assert s[k].params["a"] == expected[k]
            assert s.index_of({"a": expected[k]}) == k
        assert s.columns()["a"].tolist() == expected

    def test_scans_in_bounded_blocks_on_first_need(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Defining it reads only a sample; the scan asks columns of at most BLOCK rows."""
        calls: list[int] = []
        g = grid(a=range(10_000))
        original = type(g).columns

        def counting(self: Any, indices: Any = None) -> Any:
            calls.append(len(indices) if indices is not None else self.size)
            return original(self, indices)

        monkeypatch.setattr(type(g), "columns", counting)
        monkeypatch.setattr(where_module, "BLOCK", 4096)
        s = g.where(col("a") % 2 == 0)
        assert calls == []
        assert s.size == 5000
        assert calls == [4096, 4096, 1808]
        assert s[10].params["a"] == 20
        assert len(calls) == 3

    def test_pickles(self) -> None:
        """A pickled filter comes back equal with the same cases."""
        s = grid(a=range(50)).where(col("a") % 7 == 1)
        back = pickle.loads(pickle.dumps(s))  # noqa: S301 - our own object
        assert back == s
        assert list(back) == list(s)


def _masks(mask: np.ndarray[Any, Any], block: int) -> list[np.ndarray[Any, Any]]:
    return [mask[lo : lo + block] for lo in range(0, len(mask), block)]


def _mask_shapes() -> st.SearchStrategy[np.ndarray[Any, Any]]:
    """Accepted flags of many shapes: uniform at any density, runs, long gaps, edges."""

    @st.composite
    def build(draw: st.DrawFn) -> np.ndarray[Any, Any]:
        size = draw(st.integers(1, 6000))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        mask = rng.random(size) < draw(st.sampled_from([0.0, 0.02, 0.1, 0.5, 0.9, 1.0]))
        for _ in range(draw(st.integers(0, 3))):  # runs of all-accepted or all-rejected
            lo = draw(st.integers(0, size - 1))
            hi = draw(st.integers(lo, size))
            mask[lo:hi] = draw(st.booleans())
        return mask

    return build()


class TestAcceptedPositions:
    """The compact directory gives the exact positions, whatever the data looks like."""

    @given(_mask_shapes(), st.sampled_from([8, 64, 512, 4096]))
    def test_select_rank_and_blocks_agree_with_numpy(
        self, mask: np.ndarray[Any, Any], block: int
    ) -> None:
        """Every select, rank and block equals NumPy's positions; the size is in budget."""
        accepted = where_module._Accepted(_masks(mask, block), len(mask))
        expected = np.flatnonzero(mask)
        assert accepted.count == len(expected)
        assert [accepted.select(k) for k in range(accepted.count)] == expected.tolist()
        ranks = [accepted.rank(p) for p in range(len(mask))]
        assert ranks == [
            int(np.searchsorted(expected, p)) if f else None for p, f in enumerate(mask)
        ]
        blocks = list(accepted.blocks())
        assert np.concatenate([*blocks, np.zeros(0, np.int64)]).tolist() == expected.tolist()
        ks = np.arange(accepted.count, dtype=np.int64)[::-1]
        assert accepted.select_many(ks).tolist() == expected[::-1].tolist()
        assert accepted.nbytes <= max(8 * accepted.count, len(mask) * 2 / 8 + 200)

    @given(_mask_shapes(), st.sampled_from([64, 4096]))
    def test_then_applies_a_function_to_each_position(
        self, mask: np.ndarray[Any, Any], block: int
    ) -> None:
        """``then(fn)(k)`` is ``fn`` of position ``k``, in either form of the positions."""
        accepted = where_module._Accepted(_masks(mask, block), len(mask))
        expected = np.flatnonzero(mask).tolist()
        shown = accepted.then(lambda p: f"at {p}")
        assert [shown(k) for k in range(accepted.count)] == [f"at {p}" for p in expected]

    @pytest.mark.parametrize("width", [8, 16])
    def test_the_select_tables_list_each_values_set_bits(self, width: int) -> None:
        """Row v holds the positions of v's set bits, lowest first: they add up to v."""
        table = where_module._select_table(width).astype(np.int64)
        values = np.arange(1 << width)
        counts = np.array([v.bit_count() for v in range(1 << width)])
        used = np.arange(width)[None, :] < counts[:, None]
        assert ((1 << table) * used).sum(axis=1).tolist() == values.tolist()
        rising = np.diff(table, axis=1) > 0
        assert (rising | ~used[:, 1:]).all()
        if width == 16:
            flat = np.frombuffer(where_module._select16(), np.uint8).reshape(1 << 16, 16)
            assert (flat == table).all()

    @pytest.mark.parametrize("density", [0.04, 0.3, 0.53, 0.97, 1.0])
    def test_a_bitmap_stays_within_two_bits_per_case(self, density: float) -> None:
        """Bitmap, ranks and samples together, on a large scan at any density."""
        mask = np.random.default_rng(3).random(1_000_000) < density
        accepted = where_module._Accepted(_masks(mask, 1 << 18), len(mask))
        assert accepted.bits is not None
        assert accepted.nbytes <= 2 * len(mask) / 8
        expected = np.flatnonzero(mask)
        ks = np.random.default_rng(4).integers(0, accepted.count, 2000)
        assert [accepted.select(int(k)) for k in ks] == expected[ks].tolist()

    def test_a_sample_followed_by_a_long_gap_bisects_to_the_next_case(self) -> None:
        """Accepted cases far apart inside one sample group are found past the walk."""
        mask = np.zeros(100_000, np.bool_)
        mask[:40_000] = True  # dense: a bitmap, and large sample groups
        mask[[40_001, 70_000, 99_999]] = True
        accepted = where_module._Accepted(_masks(mask, 4096), len(mask))
        assert accepted.bits is not None
        expected = np.flatnonzero(mask)
        assert [accepted.select(k) for k in range(39_990, accepted.count)] == expected[
            39_990:
        ].tolist()


def lit_false() -> Any:
    """A constant false predicate."""
    from metalab import lit

    return lit(False)


class TestPushDown:
    """Predicates filter the factors of products and the parts of concatenations."""

    def test_a_predicate_on_one_factor_filters_it_alone(self) -> None:
        """The issue's example: instant, exact size, O(1) indexing."""
        s = (grid(a=range(1000)) * grid(b=range(10**30))).where(col("a") % 7 == 0)
        assert isinstance(s, ProductSource)
        assert s.size == 143 * 10**30
        assert dict(s[10**30 + 5].params) == {"a": 7, "b": 5}
        assert dict(s[-1].params) == {"a": 994, "b": 10**30 - 1}

    def test_conjuncts_go_to_their_own_factors(self) -> None:
        """Each conjunct of an ``&`` filters the factor it reads."""
        a, b = grid(a=range(10)), grid(b=range(10))
        s = (a * b).where((col("a") < 3) & (col("b") > 7))
        assert s == a.where(col("a") < 3) * b.where(col("b") > 7)
        assert s.size == 6

    def test_a_predicate_over_several_factors_filters_only_their_span(self) -> None:
        """A predicate on a and b filters a * b, crossed with the huge c untouched."""
        a, b, c = grid(a=range(10)), grid(b=range(10)), grid(c=range(10**30))
        s = (a * b * c).where(col("a") < col("b"))
        assert s.size == 45 * 10**30
        full = [{"a": i, "b": j} for i in range(10) for j in range(10) if i < j]
        assert dict(s[10**30 * 3 + 2].params) == {**full[3], "c": 2}

    def test_a_concatenation_filters_each_part(self) -> None:
        """Each part of a sum is filtered on its own."""
        s = (grid(a=range(5)) + grid(a=range(10, 15))).where(col("a") % 2 == 0)
        assert [c.params["a"] for c in s] == [0, 2, 4, 10, 12, 14]

    def test_the_scan_limit_names_factors_and_sizes(self) -> None:
        """A predicate needing a scan beyond the limit is refused when defined."""
        big = grid(a=range(10**5)) * grid(b=range(10**5))
        with pytest.raises(
            ParamError,
            match=r"scan of 10,000,000,000 cases.*100,000 cases, keys a.*filter the factors",
        ):
            big.where(col("a") < col("b"))

    def test_the_scan_limit_names_the_grid_axes_a_predicate_reads(self) -> None:
        """Over one grid, the refusal names the axes read, with their sizes."""
        wide = grid(a=range(10**5), b=range(10**5), c=[1, 2])
        with pytest.raises(ParamError, match=r"factors of a product of grid\(a=") as product:
            wide.where(col("a") < col("b"))
        assert "keys c" not in str(product.value)
        with pytest.raises(
            ParamError,
            match=r"reads the grid axes a \(100,000 values\), b \(100,000 values\); split",
        ):
            grid(a=range(10**5), b=range(10**5)).where(col("a") < col("b"))
        with pytest.raises(
            ParamError, match=r"reads the grid axis a \(1\.000e\+30 values\); give the axis"
        ):
            grid(a=range(10**30), c=[1, 2]).where(col("a") % 7 == 0)

    def test_the_scan_limit_on_another_source_names_it(self) -> None:
        """A source that is no grid or product is named with its size."""
        trials = random({"x": uniform(0, 1)}, 10**10, seed=0)
        with pytest.raises(
            ParamError, match=r"10,000,000,000 cases of RandomSource random\(.*a smaller source"
        ):
            trials.where(col("x") > 0.5)


class TestErrors:
    """Mistakes are found when the filter is defined."""

    def test_an_unknown_column_is_named(self) -> None:
        """A column the source lacks is named."""
        with pytest.raises(ExpressionError, match="reads 'c'"):
            grid(a=[1]).where(col("c") > 1)

    def test_a_non_bool_predicate_is_refused(self) -> None:
        """A predicate that gives an int on a case is refused."""
        with pytest.raises(
            ExpressionError, match="gives int 2 on case 0; a predicate must give a bool"
        ):
            grid(a=[1]).where(col("a") + 1)  # type: ignore[arg-type]

    def test_a_plain_bool_is_refused(self) -> None:
        """``where(True)`` is not an expression."""
        with pytest.raises(ExpressionError, match="comparison of plain values"):
            grid(a=[1]).where(True)  # type: ignore[arg-type]

    def test_a_type_clash_is_found_at_definition(self) -> None:
        """Comparing a str column with an int by order fails when defined."""
        with pytest.raises(ExpressionError, match="does not fit"):
            grid(model=["a", "b"]).where(col("model") < 3)

    def test_a_part_of_a_sum_lacking_the_column_is_named(self) -> None:
        """A filter over a sum reads its column in every part."""
        with pytest.raises(ExpressionError, match="in a part of a concatenation"):
            (grid(a=[1]) + manual([{"b": 2}])).where(col("a") > 0)


class TestManifest:
    """A where node records its size and a digest of its accepted positions."""

    def test_round_trip(self) -> None:
        """It comes back equal, with the same cases."""
        s = grid(a=range(100), b=range(3)).where(col("a") % (col("b") + 2) == 0)
        back = loads(dumps(s))
        assert back == s
        assert list(back) == list(s)

    def test_a_changed_size_or_digest_is_a_manifest_error(self) -> None:
        """A manifest whose recorded size or digest no longer matches says so."""
        data = json.loads(dumps(grid(a=range(10)).where(col("a") > 4)))
        assert data["total_cases"] == 5
        with pytest.raises(ManifestError, match="total_cases: the manifest says 4 cases"):
            loads(json.dumps({**data, "total_cases": 4}))
        with pytest.raises(ManifestError, match="digest: the manifest's digest"):
            loads(json.dumps({**data, "digest": "0" * 32}))

    def test_an_unknown_operation_is_a_path_error(self) -> None:
        """Expression nodes are data: an unknown operation is refused, not evaluated."""
        data = json.loads(dumps(grid(a=range(10)).where(col("a") > 4)))
        data["predicates"][0]["op"] = "__import__"
        with pytest.raises(ManifestError, match=r"predicates\[0\]: unknown binary operation"):
            loads(json.dumps(data))


class TestLaws:
    """Filters keep the laws of every source."""

    def test_check_source(self) -> None:
        """``check_source`` holds for filters alone and composed."""
        s = grid(a=range(100), b=range(4)).where(col("a") % (col("b") + 1) == 0)
        check_source(s)
        check_source((s * grid(c=[1, 2]) + s).shuffled(3)[::2], fresh_process=False)

    def test_structured_and_frame(self) -> None:
        """Typed views and frames work over a filter."""
        import attrs

        @attrs.frozen
        class Row:
            a: int

        s = grid(a=range(10)).where(col("a") > 6)
        assert list(s.structured(Row)) == [Row(7), Row(8), Row(9)]
        assert s.to_frame()["a"].tolist() == [7, 8, 9]

    @given(filtered_sources())
    def test_indexing_iteration_and_manifest(self, source: Any) -> None:
        """Indexing equals iteration and manifests round-trip, pushed down or not."""
        cases = list(source)
        assert source.size == len(cases)
        assert [source[i] for i in range(source.size)] == cases
        assert loads(dumps(source)) == source

    @given(expression_grids(), st.lists(predicates(2), min_size=1, max_size=2), st.booleans())
    def test_size_is_the_brute_force_count(
        self, base: Any, found: list[Any], crossed: bool
    ) -> None:
        """The accepted cases are those a per-case evaluation of the predicates accepts."""
        if crossed:
            base = grid(k=[-1, 1]) * base
        try:
            expected = [
                c for i, c in enumerate(base) if all(evaluate(p, c.params, i) for p in found)
            ]
            source = base.where(*found)
        except MetalabError:
            assume(False)
        assert source.size == len(expected)
        assert list(source) == expected


class TestGridAxes:
    """A grid is the product of its axes: a predicate on some axes filters them alone."""

    def test_one_axis_of_a_huge_grid(self) -> None:
        """``grid(a=..., b=range(10**30)).where(col('a') % 7 == 0)`` needs no scan of b."""
        s = grid(a=range(1000), b=range(10**30)).where(col("a") % 7 == 0)
        assert s.size == 143 * 10**30
        assert dict(s[10**30 + 5].params) == {"a": 7, "b": 5}

    def test_same_cases_as_the_scan(self) -> None:
        """Splitting the grid keeps its cases and their order."""
        g = grid(a=range(6), b=["x", "y"], c=range(3))
        s = g.where(col("a") % 2 == 0, col("c") != col("a"))
        expected = [
            case
            for case in g
            if _number(case.params["a"]) % 2 == 0 and case.params["c"] != case.params["a"]
        ]
        assert list(s) == expected


class TestComposition:
    """Filters and derives compose with sums, products, slices, shards and each other."""

    def test_shards_and_sums(self) -> None:
        """Shards of a filter partition it; a sum of filters is their cases in turn."""
        s = grid(a=range(100)).where(col("a") % 3 == 0)
        shards = [list(s.shard(k, 3)) for k in range(3)]
        assert [c for shard in shards for c in shard] == list(s)
        both = s + grid(a=range(5)).where(col("a") > 2)
        assert [c.params["a"] for c in both][-3:] == [99, 3, 4]

    def test_derive_then_where_then_product(self) -> None:
        """A filter over a derived parameter, crossed with a grid, indexes like the list."""
        s = grid(w=[64, 96, 128], h=[4, 6]).derive(d=col("w") // col("h")).where(col("d") > 16)
        crossed = s * grid(seed=range(3))
        cases = list(crossed)
        assert crossed.size == len(cases) == 3 * s.size
        assert [crossed[i] for i in range(crossed.size)] == cases


class TestNoEnumeration:
    """Columns and scans are vectorized: no per-case lookups of the parent."""

    def test_the_scan_and_columns_call_no_per_case_lookup(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Once defined, a where's size and a derive's columns never call raw or _case."""
        g = grid(a=range(5000), b=range(3))
        s = g.where(col("a") % 7 == col("b"))
        d = g.derive(c=col("a") * col("b"))

        def refuse(self: object, i: int) -> object:
            msg = f"a per-case lookup of case {i} of {type(self).__name__}"
            raise AssertionError(msg)

        monkeypatch.setattr(type(g), "raw", refuse)
        monkeypatch.setattr(type(g), "_case", refuse)
        assert s.size == len([1 for a in range(5000) for b in range(3) if a % 7 == b])
        assert d.columns()["c"].tolist() == [a * b for a in range(5000) for b in range(3)]
