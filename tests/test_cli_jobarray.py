"""`metalab.jobarray`: pending cases and the compressed ``sbatch --array`` value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import grid, manual, random, uniform
from metalab.errors import CaseIndexError, CaseNotFoundError, ParamError
from metalab.jobarray import array_spec, parse_case_ids, parse_indices, pending_indices


def expand(spec: str) -> tuple[list[int], int | None]:
    """Read an ``--array`` value back the way SLURM does: indices and the ``%`` limit."""
    body, _, limit = spec.partition("%")
    indices: list[int] = []
    for part in body.split(","):
        first, _, last = part.partition("-")
        indices.extend(range(int(first), int(last or first) + 1))
    return indices, int(limit) if limit else None


class TestArraySpec:
    """`array_spec` writes exactly the given indices, as compactly as ranges allow."""

    @given(st.sets(st.integers(0, 5000), min_size=1), st.none() | st.integers(1, 1000))
    def test_slurm_reads_back_the_same_indices(self, indices: set[int], limit: int | None) -> None:
        """Expanding the value gives the sorted indices and the limit, nothing else."""
        assert expand(array_spec(indices, max_running=limit)) == (sorted(indices), limit)

    @given(st.sets(st.integers(0, 5000), min_size=1))
    def test_ranges_are_maximal(self, indices: set[int]) -> None:
        """No two pieces of the value could be merged: one piece per run of consecutive indices."""
        pieces = array_spec(indices).split(",")
        runs = sum(1 for i in indices if i - 1 not in indices)
        assert len(pieces) == runs

    def test_examples(self) -> None:
        """A full range, a gap, and duplicates in any order."""
        assert array_spec(range(20)) == "0-19"
        assert array_spec([11, 5, 3, 4, 4], max_running=8) == "3-5,11%8"
        assert array_spec([7]) == "7"

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
    def test_bad_input(self, indices: list[int], max_running: int | None, fragment: str) -> None:
        """Empty input, non-index values and a non-positive limit raise ParamError."""
        with pytest.raises(ParamError, match=fragment):
            array_spec(indices, max_running=max_running)


class TestPendingIndices:
    """`pending_indices` leaves out the finished cases, named by index or case_id."""

    @given(st.integers(0, 40), st.data())
    def test_done_indices(self, size: int, data: st.DataObject) -> None:
        """The pending indices are exactly the complement of the done ones."""
        done = data.draw(st.sets(st.integers(0, max(size - 1, 0)))) if size else set()
        assert pending_indices(grid(x=range(size)) if size else manual([]), done_indices=done) == [
            i for i in range(size) if i not in done
        ]

    @given(st.integers(1, 40), st.data())
    def test_done_ids(self, size: int, data: st.DataObject) -> None:
        """Listing the case_ids of some cases is the same as listing their indices."""
        source = random({"x": uniform(0, 1)}, size, seed=size)
        done = data.draw(st.sets(st.integers(0, size - 1)))
        ids = [source[i].case_id for i in done]
        assert pending_indices(source, done_ids=ids) == pending_indices(source, done_indices=done)

    def test_ids_and_indices_together(self) -> None:
        """Both kinds of done list can be given at once."""
        source = grid(x=range(6))
        pending = pending_indices(source, done_indices=[0], done_ids=[source[5].case_id])
        assert pending == [1, 2, 3, 4]

    def test_a_shared_case_id_finishes_every_copy(self) -> None:
        """Cases with the same params share an id: finishing one finishes all of them."""
        source = manual([{"x": 1}, {"x": 2}, {"x": 1}])
        assert pending_indices(source, done_ids=[source[0].case_id]) == [1]

    def test_a_done_index_outside_the_sweep(self) -> None:
        """A done index past the end means the list belongs to another sweep."""
        with pytest.raises(CaseIndexError, match="outside this sweep of 3 cases"):
            pending_indices(grid(x=range(3)), done_indices=[1, 3])

    def test_an_unknown_case_id(self) -> None:
        """A done case_id of no case of the sweep is refused."""
        with pytest.raises(CaseNotFoundError, match="is not a case of this sweep"):
            pending_indices(grid(x=range(3)), done_ids=["0123456789abcdef"])

    def test_a_negative_done_index(self) -> None:
        """A negative done index is not an index."""
        with pytest.raises(ParamError, match="done_indices must be non-negative ints"):
            pending_indices(grid(x=range(3)), done_indices=[-1])


class TestParsing:
    """Done files: one value per line, blank lines and comments allowed."""

    @given(st.lists(st.integers(0, 10**6)))
    def test_indices_round_trip(self, indices: list[int]) -> None:
        """Writing indices one per line and parsing them gives them back."""
        assert parse_indices([f"{i}\n" for i in indices]) == indices

    def test_blank_lines_comments_and_spaces(self) -> None:
        """Whitespace, empty lines and `#` comments are skipped."""
        assert parse_indices(["", "  3 ", "# note", "\t4\n"]) == [3, 4]
        assert parse_case_ids(["# ids", " 0123456789abcdef "]) == ["0123456789abcdef"]

    @pytest.mark.parametrize("line", ["x", "-1", "1.0", "1e3", "٣", "0x1"])
    def test_bad_index_lines(self, line: str) -> None:
        """Anything but ASCII digits is an error naming the source and line."""
        with pytest.raises(ParamError, match=r"done\.txt, line 2: expected a case index"):
            parse_indices(["1", line], where="done.txt")

    @pytest.mark.parametrize("line", ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdefa"])
    def test_bad_case_id_lines(self, line: str) -> None:
        """A case_id is exactly 16 lowercase hex digits."""
        with pytest.raises(ParamError, match="line 1: expected a case_id"):
            parse_case_ids([line])
