"""`metalab.submit`: a sweep as submitit job arrays, each task a chunk of cases, into a store.

submitit pickles a function and its arguments per task and runs them on the cluster
(or in local processes, or in this process for debugging). Here a task is one chunk of
the pending cases, handed over as ``(index, case)`` pairs, so a task's pickle grows with
its chunk and never with the sweep, and the job needs nothing but the cases to run them.
It writes each case's document as `metalab.run` does, as soon as the case finishes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, final

import attrs

from metalab._core.intstr import counted
from metalab._core.values import describe, is_integer
from metalab._io.jobarray import max_array_size as cluster_max_array_size
from metalab._io.jobarray import split_ranges
from metalab._run.runner import RunReport, _check, _chunks, _failed_chunk, _run_chunk, _Tally
from metalab._run.store import open_store, read_record, read_store, write_record
from metalab.errors import MissingExtraError, ParamError, SubmissionError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import submitit

    from metalab._core.case import ParamCase
    from metalab._sources.base import ParamSource

__all__ = ["Submission", "submit"]


@final
@attrs.frozen(repr=False)
class Submission:
    """The job arrays `metalab.submit` submitted, and what each of their tasks runs.

    Each job is one task of an array: it runs its chunk of cases and writes each case's
    document to ``store``; its result (``job.result()``) is the `RunReport` of its chunk.

    Attributes:
        arrays: The job arrays in the order submitted, each a tuple of submitit jobs,
            one per task; no array has more tasks than the cluster's MaxArraySize.
        tasks: For each job, in the order of `jobs`, the ``(index, case)`` pairs it
            runs; the index is the case's in the sweep (in the original sweep, for a
            selection).
        skipped: Cases not submitted: done in ``store`` already (with ``resume``), or
            with the case_id of an earlier case of the sweep (the same params).
        store: The results directory, as an absolute path.
        other: Documents in ``store`` of no case of this sweep, left as they were (see
            `RunReport.other`).
    """

    arrays: tuple[tuple[submitit.Job[RunReport], ...], ...]
    tasks: tuple[tuple[tuple[int, ParamCase], ...], ...]
    skipped: int
    store: Path
    other: int = 0

    def __repr__(self) -> str:
        """The shape of the submission, not every job and case (a job's repr asks SLURM)."""
        return (
            f"Submission(arrays={[len(array) for array in self.arrays]}, "
            f"cases={self.submitted}, skipped={self.skipped}, store={self.store!r})"
        )

    @property
    def jobs(self) -> tuple[submitit.Job[RunReport], ...]:
        """Every job of every array, in order: one per task."""
        return tuple(job for array in self.arrays for job in array)

    @property
    def submitted(self) -> int:
        """How many cases the jobs run."""
        return sum(len(items) for items in self.tasks)

    def wait(self) -> RunReport:
        """Wait for every job to finish; how many cases were done, failed and skipped.

        A task that died before writing the documents of its cases (killed by a time
        limit, a lost node, a broken environment) leaves them to this process: each
        case of it without a document is recorded as failed, with submitit's error
        (which names the job's logs), so that `metalab.results` shows them and the next
        `metalab.submit` runs them again. Ctrl-C stops the waiting, not the jobs; call
        ``wait`` again to go on.

        Raises:
            ResultsError: a document of a dead task's cases cannot be read.
        """
        done = failed = 0
        for job, items in zip(self.jobs, self.tasks, strict=True):
            try:
                report = job.result()
            except Exception as error:  # noqa: BLE001 - a dead task's error is its cases' record
                ran, lost = _settle(self.store, items, error)
            else:
                ran, lost = report.done, report.failed
            done += ran
            failed += lost
        return RunReport(done, failed, self.skipped, self.store, self.other)


def _settle(
    store: Path, items: Sequence[tuple[int, ParamCase]], error: Exception
) -> tuple[int, int]:
    """Record the cases of a dead task that have no document as failed; count them all."""
    done = 0
    missing: list[tuple[int, ParamCase]] = []
    for index, case in items:
        record = read_record(store, case.case_id)
        if record is None:
            missing.append((index, case))
        elif record.ok:
            done += 1
    for document in _failed_chunk(missing, error):
        write_record(store, document)
    return done, len(items) - done


def _run_task(
    fn: Callable[[ParamCase], Any], store: str, items: list[tuple[int, ParamCase]]
) -> RunReport:
    """One task, in the job's process: run its cases, writing each document as it finishes."""
    directory = open_store(store)
    done = failed = 0
    for item in items:
        (record,) = _run_chunk(fn, [item])
        write_record(directory, record)
        if record["status"] == "done":
            done += 1
        else:
            failed += 1
    return RunReport(done, failed, 0, directory)


def _submitit() -> Any:
    try:
        import submitit
    except ImportError as error:
        msg = (
            "metalab.submit needs the package 'submitit', which is not installed; run "
            "pip install '.[submitit]' in a metalab checkout"
        )
        raise MissingExtraError(msg) from error
    return submitit


def _check_submit(executor: object, chunk: object, limit: object) -> None:
    if not isinstance(executor, _submitit().Executor):
        hint = (
            "; a concurrent.futures executor runs the sweep with metalab.run(fn, sweep, "
            "store=..., executor=...)"
            if _is_futures_executor(executor)
            else ""
        )
        msg = (
            "metalab.submit: executor must be a submitit executor (submitit.AutoExecutor, "
            f"SlurmExecutor, LocalExecutor or DebugExecutor), got {describe(executor)}{hint}"
        )
        raise ParamError(msg)
    if not is_integer(chunk) or chunk < 1:  # type: ignore[operator]
        msg = f"metalab.submit: chunk must be a positive int, got {describe(chunk)}"
        raise ParamError(msg)
    if limit is not None and (not is_integer(limit) or limit < 1):  # type: ignore[operator]
        msg = (
            "metalab.submit: max_array_size must be a positive int or None (read from "
            f"scontrol show config), got {describe(limit)}"
        )
        raise ParamError(msg)


def _is_futures_executor(value: object) -> bool:
    import concurrent.futures as cf

    return isinstance(value, cf.Executor)


def _check_picklable(fn: object) -> None:
    """Refuse, before anything is submitted, a function that submitit cannot pickle."""
    import cloudpickle

    try:
        cloudpickle.dumps(fn)
    except Exception as error:  # noqa: BLE001 - pickling raises many kinds
        msg = (
            f"metalab.submit: fn {describe(fn)} cannot be pickled for the jobs ({error}); "
            "pass a function that holds no open files, locks or connections"
        )
        raise ParamError(msg) from None


def submit(  # noqa: PLR0913 - run's signature, and the cluster's limit
    fn: Callable[[ParamCase], Any],
    sweep: ParamSource,
    *,
    executor: submitit.Executor,
    store: str | os.PathLike[str],
    chunk: int = 1,
    max_array_size: int | None = None,
    resume: bool = True,
) -> Submission:
    """Submit the cases of ``sweep`` not yet done in ``store`` as submitit job arrays.

    Each task of an array runs ``chunk`` cases (fewer in the last one), calling
    ``fn(case)`` for each and writing the case's document to ``store`` as soon as it
    finishes, in the layout `metalab.results` reads: the same documents `metalab.run`
    writes, so a case that raises is recorded as failed and the others go on. The
    tasks are split into as few arrays as the cluster allows: none has more tasks
    than its MaxArraySize. The executor's settings apply to every task (its resources,
    its time limit, its ``array_parallelism``, which SLURM applies to each array).

    Returns at once, the jobs queued; ``Submission.wait()`` waits for them. ``store``
    must be a directory the jobs can write to and this process can read (on a cluster,
    a shared filesystem, like the executor's folder).

    Args:
        fn: called with each `ParamCase` in the jobs; what it returns is the case's
            result, written as JSON (see `metalab.run`). submitit sends it to the jobs
            with cloudpickle: a function of the script you run travels by value, one of a
            module by name (the jobs must be able to import it).
        sweep: the cases to submit.
        executor: a ``submitit.AutoExecutor``, ``SlurmExecutor``, ``LocalExecutor`` or
            ``DebugExecutor``, with the parameters of the tasks set
            (``update_parameters``); metalab submits through ``map_array``.
        store: the results directory, created if missing.
        chunk: how many cases one task runs.
        max_array_size: the most tasks one array may have. None: the cluster's
            MaxArraySize from ``scontrol show config``, else SLURM's default of 1001.
        resume: submit only the cases not done in ``store`` (failed ones run again);
            False submits every case and the jobs replace their documents.

    Returns:
        The submitted arrays, the cases of each of their tasks, and what was skipped.

    Raises:
        ParamError: an argument is of the wrong kind, or ``fn`` cannot be pickled.
        MissingExtraError: submitit is not installed (the ``submitit`` extra).
        ResultsError: ``store`` is a file, or holds a file that is no result document.
        SubmissionError: the scheduler refused an array; its ``submission`` holds the
            arrays submitted before it, which run.

    >>> import submitit
    >>> from metalab import grid
    >>> executor = submitit.DebugExecutor(folder=getfixture("tmp_path") / "logs")
    >>> store = getfixture("tmp_path") / "results"
    >>> def square(case):
    ...     return case.params["x"] ** 2
    >>> submission = submit(square, grid(x=range(10)), executor=executor, store=store, chunk=3)
    >>> submission
    Submission(arrays=[4], cases=10, skipped=0, store=...)
    >>> submission.wait()
    RunReport(done=10, failed=0, skipped=0, store=...)
    """
    _check(fn, sweep, None, None, resume, where="metalab.submit")
    _check_submit(executor, chunk, max_array_size)
    _check_picklable(fn)
    directory = open_store(store).absolute()
    limit = cluster_max_array_size() if max_array_size is None else max_array_size
    found = read_store(directory)
    skip = {r.case_id for r in found if r.ok} if resume else set()
    tally = _Tally(directory, total=sweep.size)
    chunks = list(_chunks(sweep, skip, {r.case_id for r in found}, chunk, tally))
    arrays: list[tuple[submitit.Job[RunReport], ...]] = []
    tasks: list[tuple[tuple[int, ParamCase], ...]] = []
    for offset, (run,) in split_ranges([range(len(chunks))] if chunks else [], limit):
        part = chunks[offset + run.start : offset + run.stop]
        try:
            jobs = executor.map_array(
                _run_task, [fn] * len(part), [str(directory)] * len(part), part
            )
        except Exception as error:
            before = Submission(tuple(arrays), tuple(tasks), tally.skipped, directory, tally.other)
            before_it = (
                "nothing was submitted"
                if not arrays
                else f"{counted(len(arrays), 'array was', 'arrays were')} submitted before "
                "it, in error.submission: wait for them (error.submission.wait()) or cancel "
                "them, then submit again"
            )
            msg = (
                f"metalab.submit: array {len(arrays) + 1}, of {counted(len(part), 'task')}, "
                f"was not submitted ({type(error).__name__}: {error}); {before_it}"
            )
            raise SubmissionError(msg, before) from error
        arrays.append(tuple(jobs))
        tasks.extend(tuple(items) for items in part)
    return Submission(tuple(arrays), tuple(tasks), tally.skipped, directory, tally.other)
