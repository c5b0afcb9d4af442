"""metalab.jobarray: the cases still pending, and the ``sbatch --array=`` value for them."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import grid, manual
from metalab.errors import CaseIndexError, CaseNotFoundError, ParamError
from metalab.jobarray import (
    MAX_ID_SCAN,
    array_spec,
    parse_case_ids,
    parse_indices,
    pending_indices,
    pending_ranges,
    ranges_spec,
)
from metalab.testing import sources

if TYPE_CHECKING:
    from metalab import ParamSource


def _expand(spec: str) -> tuple[list[tuple[int, int]], str]:
    """Read an ``--array=`` value the way SLURM does: its ranges and its ``%`` limit."""
    body, _, limit = spec.partition("%")
    ranges = []
    for part in body.split(","):
        first, _, last = part.partition("-")
        ranges.append((int(first), int(last or first)))
    return ranges, limit


def _indices(spec: str) -> list[int]:
    return [i for first, last in _expand(spec)[0] for i in range(first, last + 1)]


class TestArraySpec:
    """array_spec writes a set of indices as SLURM's compressed range list."""

    @given(st.sets(st.integers(0, 5000), min_size=1), st.none() | st.integers(1, 1000))
    def test_spec_lists_exactly_the_indices(self, indices: set[int], limit: int | None) -> None:
        """Expanding the spec gives the indices, sorted, each once, and the given limit."""
        spec = array_spec(indices, max_running=limit)
        assert _indices(spec) == sorted(indices)
        assert _expand(spec)[1] == ("" if limit is None else str(limit))

    @given(st.sets(st.integers(0, 5000), min_size=1))
    def test_ranges_are_maximal(self, indices: set[int]) -> None:
        """No two ranges touch, so no shorter spec lists the same indices."""
        ranges, _ = _expand(array_spec(indices))
        assert all(first <= last for first, last in ranges)
        assert all(nxt[0] > prev[1] + 1 for prev, nxt in itertools.pairwise(ranges))

    @given(st.lists(st.integers(0, 300), min_size=1))
    def test_order_and_duplicates_do_not_matter(self, indices: list[int]) -> None:
        """The spec depends only on the set of indices."""
        assert array_spec(indices) == array_spec(sorted(set(indices)))

    @pytest.mark.parametrize(
        ("indices", "limit", "spec"),
        [
            ([7], None, "7"),
            (range(3), None, "0-2"),
            ([0, 2], None, "0,2"),
            ([0, 1, 3, 5, 6, 7], 2, "0-1,3,5-7%2"),
            (np.arange(4, dtype=np.int64), 8, "0-3%8"),
        ],
    )
    def test_examples(self, indices: list[int], limit: int | None, spec: str) -> None:
        """Runs become a-b, lone indices stay, numpy ints count as ints."""
        assert array_spec(indices, max_running=limit) == spec

    @pytest.mark.parametrize("indices", [[], [-1], [True], [1.0], ["3"]])
    def test_bad_indices_are_refused(self, indices: list[object]) -> None:
        """Nothing to submit, negative or non-int indices are a ParamError."""
        with pytest.raises(ParamError, match="array_spec"):
            array_spec(indices)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("indices", "max_running", "fragment"),
        [
            ([], None, "nothing to submit"),
            ([-1], None, "non-negative ints, got int -1"),
            ([True], None, "non-negative ints, got bool True"),
            ([1.0], None, "non-negative ints, got float 1.0"),
            ([1], 0, "max_running must be a positive int, got int 0"),
            ([1], True, "max_running must be a positive int, got bool True"),
        ],
    )
    def test_messages_name_the_problem_and_the_value(
        self, indices: list[int], max_running: int | None, fragment: str
    ) -> None:
        """Each refusal says what was expected and shows the type and value it got."""
        with pytest.raises(ParamError, match=fragment):
            array_spec(indices, max_running=max_running)

    @pytest.mark.parametrize("limit", [0, -2, True, 2.0])
    def test_bad_limits_are_refused(self, limit: object) -> None:
        """max_running must be a positive int."""
        with pytest.raises(ParamError, match="max_running"):
            array_spec([0], max_running=limit)  # type: ignore[arg-type]


class TestPendingIndices:
    """pending_indices drops the cases finished by index or by case_id."""

    @given(sources(max_size=40), st.data())
    def test_pending_is_everything_not_done(self, source: ParamSource, data: st.DataObject) -> None:
        """An index is pending unless it is done or its case_id is, in increasing order."""
        size = source.size
        done = data.draw(st.sets(st.integers(0, size - 1)) if size else st.just(set[int]()))
        by_id = data.draw(st.sets(st.integers(0, size - 1)) if size else st.just(set[int]()))
        ids = {source[i].case_id for i in by_id}
        pending = pending_indices(source, done_indices=done, done_ids=ids)
        cases = list(source)
        assert pending == [i for i in range(size) if i not in done and cases[i].case_id not in ids]

    def test_a_done_id_finishes_every_case_with_those_params(self) -> None:
        """Cases with identical params share a case_id, so one id covers them all."""
        sweep = manual([{"x": 1}, {"x": 2}, {"x": 1}])
        assert pending_indices(sweep, done_ids=[sweep[0].case_id]) == [1]

    def test_nothing_done_means_everything_pending(self) -> None:
        """With no done lists, every index is pending."""
        assert pending_indices(grid(x=range(4))) == [0, 1, 2, 3]

    def test_an_index_outside_the_sweep_is_refused(self) -> None:
        """A done index beyond the sweep suggests a list written for another sweep."""
        with pytest.raises(CaseIndexError, match="another sweep"):
            pending_indices(grid(x=range(4)), done_indices=[1, 4])

    def test_a_negative_done_index_is_refused(self) -> None:
        """A negative done index is not an index (done lists hold no Python-style -1)."""
        with pytest.raises(ParamError, match="done_indices must be non-negative ints"):
            pending_indices(grid(x=range(3)), done_indices=[-1])

    def test_an_unknown_case_id_is_refused(self) -> None:
        """A done case_id that no case has suggests a list written for another sweep."""
        other = grid(x=[99])[0].case_id
        with pytest.raises(CaseNotFoundError, match="another sweep"):
            pending_indices(grid(x=range(4)), done_ids=[other])

    @pytest.mark.parametrize(
        ("done", "fragment"),
        [([4], "1 done index lies outside"), ([4, 5], "2 done indices lie outside")],
    )
    def test_outside_indices_are_counted_in_good_grammar(
        self, done: list[int], fragment: str
    ) -> None:
        """The message says "1 done index lies" and "2 done indices lie"."""
        with pytest.raises(CaseIndexError, match=fragment):
            pending_indices(grid(x=range(4)), done_indices=done)

    @pytest.mark.parametrize(
        ("count", "fragment"),
        [(1, "1 done case_id is not a case of"), (2, "2 done case_ids are not cases of")],
    )
    def test_unknown_ids_are_counted_in_good_grammar(self, count: int, fragment: str) -> None:
        """The message says "1 done case_id is not a case" and "2 ... are not cases"."""
        others = [grid(x=[99 + i])[0].case_id for i in range(count)]
        with pytest.raises(CaseNotFoundError, match=fragment):
            pending_indices(grid(x=range(4)), done_ids=others)


def _never_enumerated(source: ParamSource) -> mock._patch[mock.MagicMock]:
    """Make iterating or indexing the source's class fail, to prove it is not enumerated."""
    return mock.patch.object(type(source), "__iter__", side_effect=AssertionError("enumerated"))


class TestPendingRanges:
    """pending_ranges gives the pending indices as runs, at a cost set by the done list."""

    @given(sources(max_size=40), st.data())
    def test_the_runs_hold_the_pending_indices(
        self, source: ParamSource, data: st.DataObject
    ) -> None:
        """The runs expand to pending_indices and are maximal, increasing and non-empty."""
        size = source.size
        done = data.draw(st.sets(st.integers(0, size - 1)) if size else st.just(set[int]()))
        ranges = pending_ranges(source, done_indices=done)
        assert [i for run in ranges for i in run] == pending_indices(source, done_indices=done)
        assert all(run.step == 1 and len(run) > 0 for run in ranges)
        assert all(a.stop < b.start for a, b in itertools.pairwise(ranges))

    @pytest.mark.parametrize("exponent", [27, 40])
    def test_a_huge_sweep_is_never_enumerated(self, exponent: int) -> None:
        """On a sweep of 10**27 or 10**40 cases the runs come from the done set alone."""
        sweep = grid(a=range(10**exponent // 10), b=range(10))
        size = 10**exponent
        with _never_enumerated(sweep):
            assert pending_ranges(sweep) == [range(size)]
            ranges = pending_ranges(sweep, done_indices=[size - 1, 0, 7, 8])
        assert ranges == [range(1, 7), range(9, size - 1)]
        assert ranges_spec(ranges, max_running=2) == f"1-6,9-{size - 2}%2"

    def test_every_case_done_leaves_no_run(self) -> None:
        """When every index is done, there is nothing to run."""
        assert pending_ranges(grid(x=range(3)), done_indices=[2, 1, 0]) == []

    def test_done_ids_are_matched(self) -> None:
        """Cases finished by case_id are left out as well."""
        sweep = grid(x=range(6))
        ranges = pending_ranges(sweep, done_indices=[0], done_ids=[sweep[3].case_id])
        assert ranges == [range(1, 3), range(4, 6)]

    def test_done_ids_on_a_huge_sweep_are_refused_before_any_case(self) -> None:
        """Matching ids walks the sweep: past MAX_ID_SCAN cases it is refused, not begun."""
        sweep = grid(a=range(MAX_ID_SCAN), b=range(2))
        with _never_enumerated(sweep), pytest.raises(ParamError, match="--done FILE"):
            pending_ranges(sweep, done_ids=["0123456789abcdef"])


class TestRangesSpec:
    """ranges_spec writes runs the way SLURM reads them and refuses anything else."""

    @given(st.sets(st.integers(0, 5000), min_size=1), st.none() | st.integers(1, 1000))
    def test_it_agrees_with_array_spec(self, indices: set[int], limit: int | None) -> None:
        """The runs of a set of indices give the same value as the indices themselves."""
        ranges = pending_ranges(grid(x=range(5001)), done_indices=set(range(5001)) - indices)
        assert ranges_spec(ranges, max_running=limit) == array_spec(indices, max_running=limit)

    @pytest.mark.parametrize(
        ("ranges", "fragment"),
        [
            ([], "nothing to submit"),
            ([range(3, 3)], "non-empty ranges of step 1"),
            ([range(0, 6, 2)], "non-empty ranges of step 1"),
            ([range(-1, 2)], "non-empty ranges of step 1"),
            ([range(4, 6), range(2)], "increase and not touch"),
            ([range(2), range(2, 4)], "increase and not touch"),
        ],
    )
    def test_bad_ranges_are_refused(self, ranges: list[range], fragment: str) -> None:
        """Empty, strided, negative, unordered or touching runs raise ParamError."""
        with pytest.raises(ParamError, match=fragment):
            ranges_spec(ranges)

    def test_a_bad_limit_is_refused(self) -> None:
        """max_running must be a positive int."""
        with pytest.raises(ParamError, match="max_running must be a positive int"):
            ranges_spec([range(2)], max_running=0)

    def test_indices_beyond_the_digit_limit_are_written(self) -> None:
        """An index of more than 4,300 digits is written exactly, not refused by str()."""
        big = 10**5000
        spec = ranges_spec([range(big, big + 2)])
        assert spec.count("0") == 2 * 5000 - 1
        assert spec.startswith("1000")
        assert spec.endswith("-1" + "0" * 4999 + "1")


class TestParsing:
    """The --done and --done-ids files: one entry a line, blanks and # comments skipped."""

    @given(st.lists(st.integers(0, 10**12)))
    def test_indices_read_back(self, indices: list[int]) -> None:
        """Indices written one a line, padded with spaces, read back unchanged."""
        assert parse_indices([f"  {i} " for i in indices]) == indices

    def test_blank_lines_and_comments_are_skipped(self) -> None:
        """Blank lines and lines starting with # carry no index."""
        assert parse_indices(["", "# finished on node 3", "4", "   ", "2"]) == [4, 2]

    @pytest.mark.parametrize("line", ["-1", "+3", "1.0", "3 4", "x", "\u0663"])
    def test_a_bad_index_names_the_file_and_line(self, line: str) -> None:
        """A line that is not a plain non-negative decimal int is refused with its place."""
        with pytest.raises(ParamError, match=r"done\.txt, line 2"):
            parse_indices(["0", line], where="done.txt")

    def test_a_whole_text_is_read_line_by_line(self) -> None:
        """A file's whole text is split into lines, not read one character at a time."""
        assert parse_indices("12\n13\n") == [12, 13]
        ids = [grid(x=[i])[0].case_id for i in range(2)]
        assert parse_case_ids("\n".join(ids) + "\n") == ids

    def test_a_byte_order_mark_is_ignored(self) -> None:
        """A UTF-8 byte order mark at the start of a file is not part of the first index."""
        assert parse_indices(["\ufeff3", "4"]) == [3, 4]
        assert parse_indices("\ufeff# done\n5\n") == [5]
        case_id = grid(x=[0])[0].case_id
        assert parse_case_ids([f"\ufeff{case_id}"]) == [case_id]

    def test_an_index_too_long_to_read_names_the_file_and_line(self) -> None:
        """A 5,000-digit line is a ParamError naming the place, not a bare ValueError."""
        with pytest.raises(ParamError, match=r"done\.txt, line 2: a case index of 5,000 digits"):
            parse_indices(["1", "7" * 5000], where="done.txt")

    def test_a_long_bad_line_is_quoted_shortened(self) -> None:
        """The message quotes at most the start of a long bad line."""
        with pytest.raises(ParamError, match=r"line 1: .*'x+\.\.\.$") as info:
            parse_indices(["x" * 10_000])
        assert len(str(info.value)) < 200

    def test_case_ids_read_back(self) -> None:
        """Case ids written one a line read back unchanged."""
        ids = [grid(x=[i])[0].case_id for i in range(3)]
        assert parse_case_ids(["# ids", *ids, ""]) == ids

    @pytest.mark.parametrize("line", ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdefa"])
    def test_a_bad_case_id_names_the_file_and_line(self, line: str) -> None:
        """Only 16 lowercase hex digits are a case_id."""
        with pytest.raises(ParamError, match=r"ids\.txt, line 1"):
            parse_case_ids([line], where="ids.txt")
