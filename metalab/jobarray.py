"""Job arrays: which cases of a sweep still have to run, and the value of ``sbatch --array=``.

A sweep runs on a cluster as a job array: task ``i`` runs case ``i``
(``metalab case sweep.json`` reads ``$SLURM_ARRAY_TASK_ID``). These pure functions
decide what to submit: `pending_indices` drops the cases already finished (named by
index or by ``case_id``) and `array_spec` writes the remaining indices the way SLURM
reads them, compressed into ranges, with an optional ``%K`` limit on how many tasks run
at once.

>>> from metalab import grid
>>> sweep = grid(x=range(20))
>>> array_spec(pending_indices(sweep, done_indices=[0, 1, 2, 6]), max_running=4)
'3-5,7-19%4'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from metalab._values import describe, is_integer
from metalab.errors import CaseIndexError, CaseNotFoundError, ParamError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from metalab.params._base import ParamSource

__all__ = ["array_spec", "parse_case_ids", "parse_indices", "pending_indices"]

_CASE_ID: Final = re.compile(r"[0-9a-f]{16}")
_SHOWN: Final = 3
"""How many offending values an error message quotes."""


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
    runs: list[str] = []
    start = prev = values[0]
    for i in values[1:]:
        if i != prev + 1:
            runs.append(_run(start, prev))
            start = i
        prev = i
    runs.append(_run(start, prev))
    spec = ",".join(runs)
    return spec if max_running is None else f"{spec}%{int(max_running)}"


def _run(start: int, stop: int) -> str:
    return str(start) if start == stop else f"{start}-{stop}"


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
    finishes them all. Matching ids costs one pass over the sweep.

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
    size = source.size
    done = set(_check_indices(done_indices, "pending_indices: done_indices"))
    outside = sorted(i for i in done if i >= size)
    if outside:
        shown = ", ".join(map(str, outside[:_SHOWN]))
        msg = (
            f"{len(outside)} done indices lie outside this sweep of {size} cases "
            f"(e.g. {shown}); was the list written for another sweep?"
        )
        raise CaseIndexError(msg)
    ids = set(done_ids)
    if not ids:
        return [i for i in range(size) if i not in done]
    pending: list[int] = []
    seen: set[str] = set()
    for i, case in enumerate(source):
        case_id = case.case_id
        if case_id in ids:
            seen.add(case_id)
        elif i not in done:
            pending.append(i)
    unknown = sorted(ids - seen)
    if unknown:
        shown = ", ".join(map(repr, unknown[:_SHOWN]))
        msg = (
            f"{len(unknown)} done case_ids are not cases of this sweep (e.g. {shown}); "
            "was the list written for another sweep?"
        )
        raise CaseNotFoundError(msg)
    return pending


def parse_indices(lines: Iterable[str], *, where: str = "done indices") -> list[int]:
    """Read case indices, one per line; blank lines and ``#`` comments are skipped.

    Raises:
        ParamError: a line is not a non-negative int; the message names ``where`` and
            the line number.

    >>> parse_indices(["3", "  4 ", "", "# retried", "11"])
    [3, 4, 11]
    """
    out: list[int] = []
    for number, line in _data_lines(lines):
        if not line.isascii() or not line.isdigit():
            msg = (
                f"{where}, line {number}: expected a case index (a non-negative int), got {line!r}"
            )
            raise ParamError(msg)
        out.append(int(line))
    return out


def parse_case_ids(lines: Iterable[str], *, where: str = "done case_ids") -> list[str]:
    """Read ``case_id`` values, one per line; blank lines and ``#`` comments are skipped.

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
                f"got {line!r}"
            )
            raise ParamError(msg)
        out.append(line)
    return out


def _data_lines(lines: Iterable[str]) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line
