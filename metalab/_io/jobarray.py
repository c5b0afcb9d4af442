"""Job arrays: the pure functions behind ``metalab array`` and ``metalab pending``.

Documented at their public path, `metalab.jobarray`.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Final

from metalab._core.intstr import counted, int_to_str
from metalab._core.values import describe, is_integer
from metalab.errors import CaseIndexError, CaseNotFoundError, ParamError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from metalab._sources.base import ParamSource

__all__ = [
    "MAX_ID_SCAN",
    "SLURM_MAX_ARRAY_SIZE",
    "array_spec",
    "chunk_ranges",
    "max_array_size",
    "parse_case_ids",
    "parse_indices",
    "pending_indices",
    "pending_ranges",
    "ranges_spec",
    "split_ranges",
]

MAX_ID_SCAN: Final = 10_000_000
"""The largest sweep whose done ``case_id`` values are matched (by one pass over it).

A case_id is known only by computing its case, so matching ids walks the sweep (about
a minute for this many cases); a larger sweep is refused, with a pointer to done indices,
which cost nothing to match.
"""

SLURM_MAX_ARRAY_SIZE: Final = 1001
"""SLURM's default MaxArraySize: task indices run from 0 to 1000."""
_SCONTROL_TIMEOUT: Final = 10.0
"""Seconds to wait for ``scontrol show config`` before assuming SLURM's default."""
_MAX_ARRAY_SIZE: Final = re.compile(r"^\s*MaxArraySize\s*=\s*(\d{1,18})\s*$", re.MULTILINE)

_CASE_ID: Final = re.compile(r"[0-9a-f]{16}")
_SHOWN: Final = 3
"""How many offending values an error message quotes."""
_SHOWN_CHARS: Final = 60
"""How much of a bad line an error message quotes."""
_BOM: Final = "\ufeff"
"""The byte order mark some editors put at the start of a UTF-8 file."""


def array_spec(indices: Iterable[int], *, max_running: int | None = None) -> str:
    """The ``--array=`` value that submits exactly ``indices``, compressed into ranges.

    Indices are sorted and deduplicated; consecutive runs become ``a-b``. With
    ``max_running``, SLURM's ``%K`` suffix lets at most ``K`` tasks run at once.

    Args:
        indices: the task indices to submit, non-negative ints in any order.
        max_running: the most tasks that may run at the same time, or None for no limit.

    Returns:
        The value for ``sbatch --array=``, e.g. ``"0-19"`` or ``"3-5,11%8"``.

    Raises:
        ParamError: ``indices`` is empty or holds something other than a non-negative
            int, or ``max_running`` is not a positive int.

    >>> array_spec(range(20))
    '0-19'
    >>> array_spec([11, 3, 4, 5, 4], max_running=8)
    '3-5,11%8'
    """
    values = sorted(set(_check_indices(indices, "array_spec: indices")))
    if not values:
        msg = "array_spec: no indices given, so there is nothing to submit"
        raise ParamError(msg)
    if max_running is not None and (not is_integer(max_running) or max_running < 1):
        msg = f"array_spec: max_running must be a positive int, got {describe(max_running)}"
        raise ParamError(msg)
    return ranges_spec(_runs(values), max_running=max_running)


def _runs(values: list[int]) -> Iterator[range]:
    """The maximal runs of consecutive values in a sorted list without duplicates."""
    start = prev = values[0]
    for i in values[1:]:
        if i != prev + 1:
            yield range(start, prev + 1)
            start = i
        prev = i
    yield range(start, prev + 1)


def ranges_spec(ranges: Iterable[range], *, max_running: int | None = None) -> str:
    """The ``--array=`` value of runs of consecutive indices, as `pending_ranges` gives them.

    Each run costs the same whatever its length, so a sweep of 10**40 cases is written
    at once.

    Args:
        ranges: non-empty ``range`` objects of step 1 over non-negative indices, in
            increasing order and not touching (as `pending_ranges` returns them).
        max_running: the most tasks that may run at the same time, or None for no limit.

    Returns:
        The value for ``sbatch --array=``, e.g. ``"0-19"`` or ``"3-5,11%8"``.

    Raises:
        ParamError: ``ranges`` is empty, a range is empty, has a step other than 1, or
            overlaps, touches or precedes the one before it, or ``max_running`` is not a
            positive int.

    >>> ranges_spec([range(3, 6), range(11, 12)], max_running=8)
    '3-5,11%8'
    """
    if max_running is not None and (not is_integer(max_running) or max_running < 1):
        msg = f"ranges_spec: max_running must be a positive int, got {describe(max_running)}"
        raise ParamError(msg)
    runs: list[str] = []
    end = -1
    for run in ranges:
        if not _is_run(run):
            msg = f"ranges_spec: ranges must be non-empty ranges of step 1, got {describe(run)}"
            raise ParamError(msg)
        if run.start <= end:
            msg = (
                f"ranges_spec: ranges must increase and not touch, got {describe(run)} "
                f"after a range ending at {end - 1}"
            )
            raise ParamError(msg)
        runs.append(_run(run.start, run.stop - 1))
        end = run.stop
    if not runs:
        msg = "ranges_spec: no ranges given, so there is nothing to submit"
        raise ParamError(msg)
    spec = ",".join(runs)
    return spec if max_running is None else f"{spec}%{int(max_running)}"


def _is_run(run: object) -> bool:
    return isinstance(run, range) and run.step == 1 and 0 <= run.start < run.stop


def _run(start: int, stop: int) -> str:
    first = int_to_str(start)
    return first if start == stop else f"{first}-{int_to_str(stop)}"


def _check_indices(indices: Iterable[int], where: str) -> Iterable[int]:
    for i in indices:
        if not is_integer(i) or i < 0:
            msg = f"{where} must be non-negative ints, got {describe(i)}"
            raise ParamError(msg)
        yield int(i)


def pending_indices(
    source: ParamSource,
    *,
    done_indices: Iterable[int] = (),
    done_ids: Iterable[str] = (),
) -> list[int]:
    """The indices of ``source`` whose cases are not finished, in increasing order.

    A case is finished when its index is in ``done_indices`` or its ``case_id`` is in
    ``done_ids``. Cases with identical params share a ``case_id``, so finishing one
    finishes them all. Matching ids costs one pass over the sweep. The list holds every
    pending index; `pending_ranges` gives them as runs, for sweeps too large to list.

    Args:
        source: the sweep.
        done_indices: indices of finished cases.
        done_ids: ``case_id`` values of finished cases.

    Returns:
        The indices still to run.

    Raises:
        CaseIndexError: a done index lies outside the sweep.
        CaseNotFoundError: a done ``case_id`` is not the id of any case of the sweep
            (the list was probably written for another sweep).
        ParamError: a done index is not a non-negative int.

    >>> from metalab import grid
    >>> sweep = grid(x=range(5))
    >>> pending_indices(sweep, done_indices=[1, 3])
    [0, 2, 4]
    >>> pending_indices(sweep, done_ids=[sweep[0].case_id])
    [1, 2, 3, 4]
    """
    ranges = pending_ranges(source, done_indices=done_indices, done_ids=done_ids)
    return [i for run in ranges for i in run]


def pending_ranges(
    source: ParamSource,
    *,
    done_indices: Iterable[int] = (),
    done_ids: Iterable[str] = (),
) -> list[range]:
    """The indices of ``source`` not finished, as maximal runs of consecutive indices.

    The same indices as `pending_indices`, in increasing order, but each run is one
    ``range``: with done indices only, time and memory grow with the number of done
    indices, never with the size of the sweep, so a sweep of 10**40 cases is answered
    at once. Matching ``done_ids`` costs a pass over the sweep (a case_id is known only
    by computing the case, and every case with a done id is done), and is refused for
    sweeps of more than `MAX_ID_SCAN` cases.

    Args:
        source: the sweep.
        done_indices: indices of finished cases.
        done_ids: ``case_id`` values of finished cases.

    Returns:
        Non-empty ranges of step 1, increasing and not touching; empty when every case
        is finished.

    Raises:
        CaseIndexError: a done index lies outside the sweep.
        CaseNotFoundError: a done ``case_id`` is not the id of any case of the sweep
            (the list was probably written for another sweep).
        ParamError: a done index is not a non-negative int, or ``done_ids`` are given
            for a sweep of more than `MAX_ID_SCAN` cases.

    >>> from metalab import grid
    >>> pending_ranges(grid(x=range(10**20)), done_indices=[0, 5, 6])
    [range(1, 5), range(7, 100000000000000000000)]
    """
    size = source.size
    done = set(_check_indices(done_indices, "pending_indices: done_indices"))
    outside = sorted(i for i in done if i >= size)
    if outside:
        shown = ", ".join(map(int_to_str, outside[:_SHOWN]))
        msg = (
            f"{counted(len(outside), 'done index lies', 'done indices lie')} outside this "
            f"sweep of {counted(size, 'case')} (e.g. {shown}); was the list written for "
            "another sweep?"
        )
        raise CaseIndexError(msg)
    found, unknown = match_case_ids(source, done_ids)
    if unknown:
        shown = ", ".join(map(repr, unknown[:_SHOWN]))
        msg = (
            f"{counted(len(unknown), 'done case_id is not a case', 'done case_ids are not cases')}"
            f" of this sweep (e.g. {shown}); was the list written for another sweep?"
        )
        raise CaseNotFoundError(msg)
    done.update(found)
    return list(_gaps(sorted(done), size))


def match_case_ids(source: ParamSource, ids: Iterable[str]) -> tuple[list[int], list[str]]:
    """The indices of the cases whose case_id is in ``ids``, and the ids of no case.

    One pass over the sweep, refused for sweeps of more than `MAX_ID_SCAN` cases. Every
    case with a matching id is found (cases of the same params share one).

    Raises:
        ParamError: ``source`` has more than `MAX_ID_SCAN` cases.
    """
    wanted = set(ids)
    if not wanted:
        return [], []
    size = source.size
    if size > MAX_ID_SCAN:
        msg = (
            f"matching {counted(len(wanted), 'done case_id')} takes a pass over the sweep, "
            f"and this one has {counted(size, 'case')}, more than the {MAX_ID_SCAN:,} "
            "metalab walks through; give the indices of the finished cases instead "
            "(metalab array --done FILE)"
        )
        raise ParamError(msg)
    seen: set[str] = set()
    found: list[int] = []
    for i, case in enumerate(source):
        case_id = case.case_id
        if case_id in wanted:
            seen.add(case_id)
            found.append(i)
    return found, sorted(wanted - seen)


def _gaps(done: list[int], size: int) -> Iterator[range]:
    """The runs of ``range(size)`` between the sorted indices ``done``."""
    start = 0
    for i in done:
        if i > start:
            yield range(start, i)
        start = i + 1
    if start < size:
        yield range(start, size)


def parse_indices(lines: str | Iterable[str], *, where: str = "done indices") -> list[int]:
    r"""Read case indices, one per line; blank lines and ``#`` comments are skipped.

    Args:
        lines: the lines of a done file, or its whole text (split into lines here, so
            ``parse_indices(path.read_text())`` reads ``"12\n13\n"`` as 12 and 13). A
            byte order mark at the start is ignored.
        where: what the lines are, for error messages (e.g. the file's name).

    Raises:
        ParamError: a line is not a non-negative int, or has more digits than Python
            reads; the message names
            ``where`` and the line number.

    >>> parse_indices(["3", "  4 ", "", "# retried", "11"])
    [3, 4, 11]
    >>> parse_indices("12\n13\n")
    [12, 13]
    """
    out: list[int] = []
    limit = sys.get_int_max_str_digits()
    for number, line in _data_lines(lines):
        if not line.isascii() or not line.isdigit():
            msg = (
                f"{where}, line {number}: expected a case index (a non-negative int), got "
                f"{_shorten(line)}"
            )
            raise ParamError(msg)
        if limit and len(line) > limit:
            msg = (
                f"{where}, line {number}: a case index of {len(line):,} digits is longer "
                f"than Python reads ({limit:,} digits); is this a file of case indices?"
            )
            raise ParamError(msg)
        out.append(int(line))
    return out


def parse_case_ids(lines: str | Iterable[str], *, where: str = "done case_ids") -> list[str]:
    """Read ``case_id`` values, one per line; blank lines and ``#`` comments are skipped.

    ``lines`` may also be the whole text of a file, as for `parse_indices`; a byte
    order mark at the start is ignored.

    Raises:
        ParamError: a line is not a case_id (16 lowercase hex digits); the message names
            ``where`` and the line number.

    >>> parse_case_ids(["0123456789abcdef", ""])
    ['0123456789abcdef']
    """
    out: list[str] = []
    for number, line in _data_lines(lines):
        if not _CASE_ID.fullmatch(line):
            msg = (
                f"{where}, line {number}: expected a case_id (16 lowercase hex digits), "
                f"got {_shorten(line)}"
            )
            raise ParamError(msg)
        out.append(line)
    return out


def _data_lines(lines: str | Iterable[str]) -> Iterator[tuple[int, str]]:
    # A str is an Iterable[str] of its characters: read it as the text it is.
    rows = lines.splitlines() if isinstance(lines, str) else lines
    for number, raw in enumerate(rows, start=1):
        line = (raw.removeprefix(_BOM) if number == 1 else raw).strip()
        if line and not line.startswith("#"):
            yield number, line


def _shorten(line: str) -> str:
    text = repr(line)
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 3]}..."


def chunk_ranges(ranges: Iterable[range], chunk: int) -> list[range]:
    """The tasks that hold the cases of ``ranges`` when task ``k`` runs cases ``k*chunk`` on.

    Task ``k`` runs cases ``k*chunk`` to ``k*chunk + chunk - 1``; a task is listed if any
    of its cases is in ``ranges``. The cost grows with the number of ranges, never with
    the cases they hold.

    Args:
        ranges: runs of case indices, as `pending_ranges` returns them.
        chunk: the number of cases per task, a positive int.

    Returns:
        The task indices, as non-empty ranges of step 1, increasing and not touching.

    Raises:
        ParamError: ``chunk`` is not a positive int.

    >>> chunk_ranges([range(0, 10)], 3)
    [range(0, 4)]
    >>> chunk_ranges([range(1, 2), range(5, 7), range(30, 31)], 3)
    [range(0, 3), range(10, 11)]
    """
    if not is_integer(chunk) or chunk < 1:
        msg = f"chunk_ranges: chunk must be a positive int, got {describe(chunk)}"
        raise ParamError(msg)
    out: list[range] = []
    for run in ranges:
        first, stop = run.start // chunk, (run.stop - 1) // chunk + 1
        if out and first <= out[-1].stop:
            out[-1] = range(out[-1].start, max(stop, out[-1].stop))
        else:
            out.append(range(first, stop))
    return out


def split_ranges(
    ranges: Iterable[range], limit: int, *, most: int | None = None
) -> list[tuple[int, list[range]]]:
    """Task ranges split into submissions whose indices all lie in ``[0, limit)``.

    SLURM refuses an array index of ``MaxArraySize`` or more. Each submission is an
    ``(offset, ranges)`` pair: its tasks are ``offset + i`` for the indices ``i`` in
    ``ranges``. Submissions start at the first task not yet covered, so a scattered set
    of tasks needs no more submissions than it must; a set whose tasks already lie below
    ``limit`` is one submission of offset 0.

    Args:
        ranges: task indices as non-empty ranges of step 1, increasing and not touching.
        limit: the cluster's MaxArraySize, a positive int.
        most: the most submissions to build, or None for no limit: a sweep of 10**40
            tasks would otherwise make this loop forever.

    Returns:
        The submissions, in increasing order of offset.

    Raises:
        ParamError: ``limit`` is not a positive int, or more than ``most`` submissions
            are needed.

    >>> split_ranges([range(0, 150)], 64)
    [(0, [range(0, 64)]), (64, [range(0, 64)]), (128, [range(0, 22)])]
    >>> split_ranges([range(3, 5), range(1000, 1002)], 100)
    [(3, [range(0, 2)]), (1000, [range(0, 2)])]
    """
    if not is_integer(limit) or limit < 1:
        msg = f"split_ranges: limit must be a positive int, got {describe(limit)}"
        raise ParamError(msg)
    runs = list(ranges)
    if runs and runs[-1].stop <= limit:
        return [(0, runs)]
    out: list[tuple[int, list[range]]] = []
    for run in runs:
        start = run.start
        while start < run.stop:
            if not out or start >= out[-1][0] + limit:
                if most is not None and len(out) == most:
                    msg = (
                        f"split_ranges: these tasks need more than {most:,} submissions of "
                        f"at most {limit:,} tasks each"
                    )
                    raise ParamError(msg)
                out.append((start, []))
            offset, parts = out[-1]
            stop = min(run.stop, offset + limit)
            parts.append(range(start - offset, stop - offset))
            start = stop
    return out


def max_array_size() -> int:
    """This cluster's MaxArraySize, from ``scontrol show config``, else SLURM's default.

    A job array's task indices must lie below it (`split_ranges` splits tasks into
    submissions that do). Without ``scontrol`` on the path, or when it fails or takes
    more than 10 seconds, the answer is `SLURM_MAX_ARRAY_SIZE`.
    """
    import shutil
    import subprocess

    scontrol = shutil.which("scontrol")
    if scontrol is None:
        return SLURM_MAX_ARRAY_SIZE
    try:
        shown = subprocess.run(  # noqa: S603 - a fixed command, found on PATH like sbatch
            [scontrol, "show", "config"],
            capture_output=True,
            text=True,
            timeout=_SCONTROL_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return SLURM_MAX_ARRAY_SIZE
    found = _MAX_ARRAY_SIZE.search(shown.stdout) if shown.returncode == 0 else None
    return int(found.group(1)) if found else SLURM_MAX_ARRAY_SIZE
