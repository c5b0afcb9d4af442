"""metalab.jobarray: the cases still pending, and the ``sbatch --array=`` value for them."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import grid, manual
from metalab.errors import CaseIndexError, CaseNotFoundError, ParamError
from metalab.jobarray import array_spec, parse_case_ids, parse_indices, pending_indices
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

    def test_an_unknown_case_id_is_refused(self) -> None:
        """A done case_id that no case has suggests a list written for another sweep."""
        other = grid(x=[99])[0].case_id
        with pytest.raises(CaseNotFoundError, match="another sweep"):
            pending_indices(grid(x=range(4)), done_ids=[other])


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

    def test_case_ids_read_back(self) -> None:
        """Case ids written one a line read back unchanged."""
        ids = [grid(x=[i])[0].case_id for i in range(3)]
        assert parse_case_ids(["# ids", *ids, ""]) == ids

    @pytest.mark.parametrize("line", ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdefa"])
    def test_a_bad_case_id_names_the_file_and_line(self, line: str) -> None:
        """Only 16 lowercase hex digits are a case_id."""
        with pytest.raises(ParamError, match=r"ids\.txt, line 1"):
            parse_case_ids([line], where="ids.txt")
