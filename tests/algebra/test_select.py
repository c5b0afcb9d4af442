"""``source.select(indices)``: chosen cases in the order given, kept as runs of ranges."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from unittest import mock

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import ParamSource, Raw, SelectSource, grid, manual, random, uniform
from metalab.errors import CaseIndexError, IndexTypeError, ManifestError, ParamError
from metalab.manifest import dumps, from_manifest, loads, to_manifest
from metalab.structured import Structured
from metalab.testing import check_source, sources

if TYPE_CHECKING:
    from collections.abc import Sequence

TEN = grid(x=range(10))


@attrs.frozen
class XSchema:
    """The schema of TEN's cases."""

    x: int


READ: list[int] = []
"""The indices `Recorded` was asked for."""


@attrs.frozen
class Recorded(ParamSource):
    """``n`` cases ``{"i": i}`` that note each index asked for in `READ`."""

    manifest_type: ClassVar[str] = "tests.Recorded"
    n: int

    @property
    def size(self) -> int:
        """``n``."""
        return self.n

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter."""
        return ("i",)

    def raw(self, i: int) -> Raw:
        """Case ``i``, noted."""
        READ.append(i)
        return {"i": i}, ()


def xs(source: ParamSource) -> list[Any]:
    """The ``x`` of every case, by iteration."""
    return [case.params["x"] for case in source]


@st.composite
def selections(draw: st.DrawFn) -> tuple[ParamSource, list[int]]:
    """A small source of any kind and distinct indices of it in any order."""
    source = draw(sources(max_depth=2, max_size=12))
    size = source.size
    chosen = draw(st.lists(st.integers(0, size - 1), unique=True)) if size else []
    return source, chosen


class TestSelect:
    """The selected cases, their order and their runs."""

    def test_order_is_kept(self) -> None:
        """The cases come in the order of the indices, not sorted."""
        assert xs(TEN.select([7, 8, 9, 0, 1])) == [7, 8, 9, 0, 1]

    def test_runs_are_maximal_ranges(self) -> None:
        """Consecutive indices, rising or falling, become one range each."""
        assert TEN.select([7, 8, 9, 0, 1]).runs == (range(7, 10), range(2))
        assert TEN.select([3, 2, 1, 5]).runs == (range(3, 0, -1), range(5, 6))

    def test_ranges_and_ints_mix(self) -> None:
        """A range stands for its ints and merges with ints next to it."""
        source = TEN.select([range(2, 5), 5, range(9, 7, -1)])
        assert xs(source) == [2, 3, 4, 5, 9, 8]
        assert source.runs == (range(2, 6), range(9, 7, -1))

    def test_negative_indices_count_back(self) -> None:
        """-1 is the last case, and a range across zero is split there."""
        assert xs(TEN.select([-1, 0])) == [9, 0]
        assert xs(TEN.select(range(-2, 2))) == [8, 9, 0, 1]
        assert xs(TEN.select(range(1, -3, -1))) == [1, 0, 9, 8]

    def test_numpy_arrays_are_indices(self) -> None:
        """A 1-d integer array selects like a list of its ints."""
        assert TEN.select(np.array([4, 5, 1], dtype=np.int32)).runs == (range(4, 6), range(1, 2))

    def test_cases_keep_their_case_ids(self) -> None:
        """A selected case is the source's case: same params, tags and case_id."""
        source = manual([{"x": 1}, {"x": 2}, {"x": 3}], tags=("t",))
        chosen = source.select([2, 0])
        assert [c.case_id for c in chosen] == [source[2].case_id, source[0].case_id]
        assert chosen[0] == source[2]

    def test_empty_selection(self) -> None:
        """No indices give a source of no cases."""
        assert TEN.select([]).size == 0
        assert list(TEN.select([])) == []

    def test_position_maps_back(self) -> None:
        """position(i) is the index in the source of selected case i."""
        source = TEN.select([7, 8, 2])
        assert [source.position(i) for i in range(3)] == [7, 8, 2]
        assert source.position(-1) == 2
        with pytest.raises(CaseIndexError):
            source.position(3)

    def test_select_of_select_is_one_select(self) -> None:
        """A selection from a selection selects from the first source directly."""
        inner = TEN.select([7, 8, 9, 0, 1])
        outer = inner.select(range(4, -1, -1))
        assert outer.source == TEN
        assert xs(outer) == [1, 0, 9, 8, 7]
        assert outer == TEN.select([1, 0, 9, 8, 7])

    def test_equal_selections_compare_equal(self) -> None:
        """Selections of the same indices, however written, are equal and hash alike."""
        a, b = TEN.select([1, 2, 3]), TEN.select(range(1, 4))
        assert a == b
        assert hash(a) == hash(b)

    def test_index_of_and_contains(self) -> None:
        """Lookups find the selected position, and miss cases not selected."""
        source = TEN.select([7, 8, 0])
        assert source.index_of({"x": 0}) == 2
        assert {"x": 5} not in source
        assert TEN[8] in source

    def test_take_and_columns(self) -> None:
        """Batches agree with indexing."""
        source = TEN.select([7, 8, 0, 3])
        assert source.take([3, 0, -1]) == [source[3], source[0], source[3]]
        assert source.columns()["x"].tolist() == [7, 8, 0, 3]
        assert source.columns([1])["x"].tolist() == [8]

    def test_repr_reads_back(self) -> None:
        """The repr is the expression that builds an equal selection."""
        for source in (TEN.select([7, 8, 0]), TEN.select(range(9, -1, -1)), TEN.select([])):
            rebuilt = eval(repr(source), {"grid": grid})  # noqa: S307 - our own repr
            assert rebuilt == source

    def test_describe(self) -> None:
        """Metalab show names the node and counts its runs."""
        description = TEN.select([7, 8, 0]).describe()
        assert (description.kind, description.details) == ("select", ("2 runs",))

    def test_structured_view_of_a_selection(self) -> None:
        """A typed view of a selection structures the selected cases."""
        view = Structured(TEN.select([3, 1]), XSchema)
        assert [case.x for case in view] == [3, 1]


class TestSelectRefuses:
    """Bad indices fail when the selection is defined."""

    @pytest.mark.parametrize(
        ("indices", "twice"),
        [([1, 2, 1], "1"), ([range(5), 3], "3"), ([-1, 9], "9"), ([range(5, 0, -1), 2], "2")],
    )
    def test_duplicates(self, indices: Sequence[int | range], twice: str) -> None:
        """An index given twice is a ParamError naming it."""
        with pytest.raises(ParamError, match=f"at most once, got {twice} more than once"):
            TEN.select(indices)

    @pytest.mark.parametrize("indices", [[10], [-11], [range(5, 11)], [range(-11, 0)]])
    def test_out_of_range(self, indices: Sequence[int | range]) -> None:
        """An index outside the source is a CaseIndexError."""
        with pytest.raises(CaseIndexError, match="out of range for a source of 10 cases"):
            TEN.select(indices)

    def test_steps_other_than_one(self) -> None:
        """A strided range is refused with a pointer to slices."""
        with pytest.raises(ParamError, match=r"step 1 or -1, got range\(0, 10, 2\)"):
            TEN.select(range(0, 10, 2))

    @pytest.mark.parametrize("indices", ["12", {"a": 1}, 3, None, [1.5], [True]])
    def test_not_indices(self, indices: object) -> None:
        """Strings, mappings, numbers and non-int items are IndexTypeErrors."""
        with pytest.raises(IndexTypeError):
            TEN.select(indices)  # type: ignore[arg-type]

    def test_not_a_source(self) -> None:
        """SelectSource takes a source."""
        with pytest.raises(ParamError, match="select takes a source, got"):
            SelectSource([1, 2], [0])  # type: ignore[arg-type]


class TestSelectAtScale:
    """Huge selections cost what their runs cost, never their cases."""

    def test_a_contiguous_selection_of_a_trillion_cases_is_a_few_bytes(self) -> None:
        """One run of 10**12 cases: its manifest node is a single range."""
        huge = grid(x=range(10**12))
        with mock.patch.object(type(huge), "__iter__", side_effect=AssertionError("listed")):
            chosen = huge.select(range(10**12 - 1, -1, -1))
            text = dumps(chosen)
        assert chosen.size == 10**12
        assert chosen[0].params == {"x": 10**12 - 1}
        assert len(text) - len(dumps(huge)) < 120
        assert loads(text) == chosen

    def test_indexing_reads_one_case_of_the_source(self) -> None:
        """Case i of a selection of many runs computes exactly one case of the source."""
        recorded = Recorded(10**5)
        chosen = recorded.select(list(range(0, 10**5, 2)))  # 50,000 runs of one index
        READ.clear()
        assert chosen[1234].params == {"i": 2468}
        assert chosen[-1].params == {"i": 10**5 - 2}
        assert READ == [2468, 10**5 - 2]

    def test_beyond_int64(self) -> None:
        """Runs beyond 2**63 index and batch exactly."""
        big = grid(x=range(10**30))
        chosen = big.select([range(10**29, 10**29 + 3), 5])
        assert [c.params["x"] for c in chosen.take([0, 3, 2])] == [10**29, 5, 10**29 + 2]


class TestSelectManifest:
    """A selection's manifest holds its runs as ranges."""

    def test_layout(self) -> None:
        """The node is the source and a list of range nodes."""
        node = to_manifest(TEN.select([7, 8, 0]))
        assert node["type"] == "SelectSource"
        assert node["runs"] == [
            {"type": "range", "start": 7, "stop": 9, "step": 1},
            {"type": "range", "start": 0, "stop": 1, "step": 1},
        ]

    def test_overlapping_runs_are_a_manifest_error(self) -> None:
        """A hand-written manifest selecting an index twice is refused with the problem."""
        node = to_manifest(TEN.select([range(5)]))
        node["runs"].append({"type": "range", "start": 4, "stop": 6, "step": 1})
        with pytest.raises(ManifestError, match="4 more than once"):
            from_manifest(node)

    def test_runs_outside_the_source_are_a_manifest_error(self) -> None:
        """A run past the source's end is refused."""
        node = to_manifest(TEN.select([1]))
        node["runs"] = [{"type": "range", "start": 5, "stop": 20, "step": 1}]
        with pytest.raises(ManifestError, match="out of range"):
            from_manifest(node)

    def test_random_source_selection_round_trips(self) -> None:
        """A selection of random draws rebuilds the same draws."""
        chosen = random({"u": uniform(0, 1)}, 50, seed=3).select([49, 0, 17])
        assert [c.params for c in loads(dumps(chosen))] == [c.params for c in chosen]


class TestSelectLaws:
    """The laws of every source hold for selections of every kind of source."""

    @given(selections())
    def test_selected_cases_are_the_sources(self, drawn: tuple[ParamSource, list[int]]) -> None:
        """Case k of the selection is case indices[k] of the source."""
        source, chosen = drawn
        selected = source.select(chosen)
        assert selected.size == len(chosen)
        assert list(selected) == [source[i] for i in chosen]
        assert selected.take(range(len(chosen))) == [source[i] for i in chosen]

    @given(selections())
    def test_laws_in_process(self, drawn: tuple[ParamSource, list[int]]) -> None:
        """check_source's laws hold (without a fresh process, for speed)."""
        source, chosen = drawn
        check_source(source.select(chosen), samples=6, fresh_process=False)

    def test_laws_in_a_fresh_process(self) -> None:
        """A selection rebuilds the same cases in another interpreter."""
        check_source(TEN.select([7, 8, 9, 0, 3]) * grid(y=[1.0, 2.0]))
