"""`metalab.run`: call a function on every case of a sweep, on any executor, into a store."""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import pickle
import sys
import time
from typing import TYPE_CHECKING, Any, Final, final

import attrs

from metalab._algebra.select import SelectSource
from metalab._algebra.slicing import SliceSource
from metalab._core.values import describe, is_integer
from metalab._run.store import (
    case_record,
    now,
    open_store,
    parse_record,
    read_store,
    write_record,
)
from metalab._sources.base import ParamSource, check_index
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

    from rich.progress import Progress, TaskID

    from metalab._core.case import ParamCase
    from metalab._run.store import CaseResult

__all__ = [
    "IN_FLIGHT_PER_WORKER",
    "MAX_AUTO_CHUNK",
    "MAX_UNWRITTEN",
    "WRITERS",
    "RunReport",
    "default_workers",
    "run",
    "run_case",
]

IN_FLIGHT_PER_WORKER: Final = 4
"""Chunks kept submitted per worker: enough to keep every worker busy, few enough that a
sweep of millions of cases is never all in memory (nor all lost to a Ctrl-C)."""
MAX_AUTO_CHUNK: Final = 64
"""The most cases the automatic ``chunk`` packs into one task."""
WRITERS: Final = 16
"""Threads writing documents at once (each mostly waits on its ``fsync``)."""
MAX_UNWRITTEN: Final = 1024
"""The most documents waiting for a writer thread before the run waits for them."""
_FOREIGN_IN_FLIGHT: Final = 4096
"""Chunks kept submitted on an executor whose number of workers metalab cannot know."""


@final
@attrs.frozen
class RunReport:
    """What `metalab.run` did.

    Attributes:
        done: Cases run whose ``fn`` returned; their results are in the store.
        failed: Cases run whose ``fn`` raised (or whose result has no JSON form); their
            errors are in the store, and the next run tries them again.
        skipped: Cases not run: done in the store already (with ``resume``), or with
            the case_id of an earlier case of the sweep (the same params).
        store: The results directory.
        other: Documents in the store of no case of this sweep, left as they were: a
            store is keyed by case_id, so the shards of one sweep, a sweep and its
            ``metalab pending`` selection, or a sweep grown by new values may share
            one. Not 0 when you expected it to be, the store holds another sweep's
            results.
    """

    done: int
    failed: int
    skipped: int
    store: Path
    other: int = 0

    @property
    def total(self) -> int:
        """The cases of the sweep: done, failed and skipped together."""
        return self.done + self.failed + self.skipped


def default_workers() -> int:
    """One worker per core this process may run on (its CPU affinity, e.g. a SLURM job's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def _run_chunk(fn: Callable[[ParamCase], Any], items: list[tuple[int, ParamCase]]) -> list[Any]:
    """Run ``fn`` on each case of a chunk, in the worker: the documents of the cases.

    Everything ``fn`` raises (SystemExit included) becomes the case's error, except
    KeyboardInterrupt, which stops the chunk as it stops the run.
    """
    out = []
    for index, case in items:
        started, clock = now(), time.perf_counter()
        try:
            result = fn(case)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001 - a case's failure is its record
            out.append(
                case_record(
                    index,
                    case,
                    error=error,
                    started=started,
                    finished=now(),
                    duration=time.perf_counter() - clock,
                )
            )
        else:
            out.append(
                case_record(
                    index,
                    case,
                    result=result,
                    started=started,
                    finished=now(),
                    duration=time.perf_counter() - clock,
                )
            )
    return out


def _check(  # noqa: PLR0913 - one argument per parameter checked, and whose they are
    fn: object,
    sweep: object,
    chunk: object,
    executor: object,
    resume: object,
    *,
    where: str = "metalab.run",
) -> None:
    if not callable(fn):
        msg = f"{where}: fn must be callable, got {describe(fn)}"
        raise ParamError(msg)
    if not isinstance(sweep, ParamSource):
        msg = f"{where}: sweep must be a ParamSource, got {describe(sweep)}"
        raise ParamError(msg)
    if chunk is not None and (not is_integer(chunk) or chunk < 1):  # type: ignore[operator]
        msg = f"metalab.run: chunk must be a positive int or None, got {describe(chunk)}"
        raise ParamError(msg)
    if executor is not None and not isinstance(executor, cf.Executor):
        msg = (
            "metalab.run: executor must be a concurrent.futures.Executor or None, got "
            f"{describe(executor)}"
        )
        raise ParamError(msg)
    if type(resume) is not bool:
        msg = f"{where}: resume must be a bool, got {describe(resume)}"
        raise ParamError(msg)


def _check_picklable(fn: object) -> None:
    """Refuse, before anything runs, a function that worker processes cannot receive.

    A function travels by name, and a worker started fresh (not forked: macOS, Windows,
    Linux from Python 3.14 on) finds it by importing its module. A function of an
    interactive ``__main__`` (a notebook, the REPL, ``python -c``) has no module such a
    worker can import: it would fail there, once per case, rather than here.
    """
    try:
        pickle.dumps(fn)
    except Exception as error:  # noqa: BLE001 - pickle raises many kinds
        msg = (
            f"metalab.run: fn {describe(fn)} cannot be sent to worker processes ({error}); "
            "define it at the top level of a module, or pass "
            "executor=concurrent.futures.ThreadPoolExecutor()"
        )
        raise ParamError(msg) from None
    method = multiprocessing.get_start_method()
    main = sys.modules.get("__main__")
    if (
        method != "fork"
        and getattr(fn, "__module__", None) == "__main__"
        and getattr(main, "__file__", None) is None
    ):
        msg = (
            f"metalab.run: fn {getattr(fn, '__qualname__', fn)!r} is defined in an "
            "interactive session (a "
            f"notebook, the REPL or python -c), and the default pool starts its workers "
            f"by {method!r}, so they cannot import it; define fn in a module (a .py file "
            "next to the notebook) and import it, or pass "
            "executor=concurrent.futures.ThreadPoolExecutor()"
        )
        raise ParamError(msg)


@attrs.define
class _Tally:
    """The counts so far, and the progress bar they drive (if any)."""

    store: Path
    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    other: int = 0
    progress: Progress | None = None
    task: TaskID | None = None
    writers: cf.ThreadPoolExecutor | None = None
    writing: collections.deque[cf.Future[Path]] = attrs.field(factory=collections.deque)

    def skip(self) -> None:
        self.skipped += 1
        self._advance(1)

    def write(self, records: list[Any]) -> None:
        """Hand the documents to the writer threads; a failed earlier write raises here."""
        if self.writers is None:
            # Threads, as each write waits on its fsync: concurrent syncs share the
            # filesystem's journal commits, where one at a time would each pay a commit.
            self.writers = cf.ThreadPoolExecutor(WRITERS, thread_name_prefix="metalab-write")
        for record in records:
            self.writing.append(self.writers.submit(write_record, self.store, record))
            if record["status"] == "done":
                self.done += 1
            else:
                self.failed += 1
        while self.writing and (self.writing[0].done() or len(self.writing) > MAX_UNWRITTEN):
            self.writing.popleft().result()
        self._advance(len(records))

    def close(self) -> None:
        """Wait until every document handed over is written; raise the first failure."""
        try:
            while self.writing:
                self.writing.popleft().result()
        finally:
            if self.writers is not None:
                self.writers.shutdown(wait=True, cancel_futures=True)
                self.writers = None

    def _advance(self, count: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(
                self.task,
                advance=count,
                description=f"{self.done:,} done, {self.failed:,} failed, {self.skipped:,} skipped",
            )

    @contextlib.contextmanager
    def showing(self) -> Iterator[None]:
        """Show a progress bar on standard error while the run goes on, on a terminal only."""
        if not sys.stderr.isatty():
            yield
            return
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True)) as progress:
            self.progress = progress
            self.task = progress.add_task("", total=self.total)
            self._advance(self.done + self.failed + self.skipped)
            try:
                yield
            finally:
                self.progress = None

    def report(self) -> RunReport:
        return RunReport(self.done, self.failed, self.skipped, self.store, self.other)


def _failed_chunk(items: list[tuple[int, ParamCase]], error: BaseException) -> list[Any]:
    """The documents of a chunk whose task itself failed (a worker died, a pickling error)."""
    stamp = now()
    return [
        case_record(i, case, error=error, started=stamp, finished=stamp, duration=0.0)
        for i, case in items
    ]


def _recorded_index(sweep: ParamSource, i: int) -> int:
    """The index a document records for case ``i``: in the sweep a part was taken from.

    A selection (``metalab pending``'s manifest, ``source.select``) or a slice (a
    ``shard``, ``sweep[a:b]``) runs cases of the sweep it was made from, whose results
    share one directory; each document keeps its case's index there, so that
    ``results(dir)[k].index`` means one case, however many times the sweep was resumed
    or however it was split. Parts of parts lead back to the first sweep.
    """
    while True:
        if isinstance(sweep, SelectSource):
            i = sweep.position(i)
        elif isinstance(sweep, SliceSource):
            i = sweep.start + i * sweep.step
        else:
            return i
        sweep = sweep.source


def _chunks(
    sweep: ParamSource, skip: set[str], stored: set[str], size: int, tally: _Tally
) -> Iterator[list[tuple[int, ParamCase]]]:
    """The cases to run, ``size`` at a time, skipping (and counting) those in ``skip``.

    Once every case has been seen, the tally learns how many of the ``stored`` case_ids
    are of no case of the sweep.
    """
    seen: set[str] = set()
    batch: list[tuple[int, ParamCase]] = []
    for index, case in enumerate(sweep):
        case_id = case.case_id
        if case_id in skip or case_id in seen:
            seen.add(case_id)
            tally.skip()
            continue
        seen.add(case_id)
        batch.append((_recorded_index(sweep, index), case))
        if len(batch) == size:
            yield batch
            batch = []
    tally.other = len(stored - seen)
    if batch:
        yield batch


def run(  # noqa: PLR0913 - the signature the issue gives
    fn: Callable[[ParamCase], Any],
    sweep: ParamSource,
    *,
    store: str | os.PathLike[str],
    executor: cf.Executor | None = None,
    chunk: int | None = None,
    resume: bool = True,
) -> RunReport:
    """Call ``fn(case)`` for every case of ``sweep`` not yet done in ``store``.

    Each case's document (its result, or the error it raised) is written to ``store``
    as soon as its task finishes, atomically, in the layout `metalab.results` reads.
    A case that raises is recorded as failed and the others go on. Ctrl-C stops the
    run, keeping every document already written (and those of tasks that finished
    meanwhile); running again continues where it stopped. On a terminal, a progress bar
    shows on standard error.

    Args:
        fn: called with each `ParamCase`; what it returns is the case's result, written
            as JSON (tuples and NumPy arrays become lists, NumPy scalars numbers; NaN is
            kept). A result with no JSON form (an object, a set) makes the case failed,
            with an `UnserializableResultError` naming what is wrong.
        sweep: the cases to run.
        store: the results directory, created if missing.
        executor: where to run: any `concurrent.futures.Executor` (a thread or process
            pool, ``dask.distributed.Client.get_executor()``, ...), which metalab uses
            and leaves open. None (the default) runs a local process pool of one
            worker per core, shut down at the end; ``fn`` must then be picklable (a
            function at the top level of a module).
        chunk: how many cases one task runs. None: with the default pool, enough to
            spread the cases over its workers (at most `MAX_AUTO_CHUNK`); with an
            executor of your own, 1.
        resume: skip the cases already done in ``store`` (failed ones run again);
            False runs every case and replaces their documents.

    Returns:
        How many cases were done, failed and skipped.

    Raises:
        ParamError: an argument is of the wrong kind, or ``fn`` cannot be sent to the
            default pool's processes.
        ResultsError: ``store`` is not a directory, or holds a file that is no result
            document (named in the message).
        KeyboardInterrupt: after the run was interrupted and what finished was written.
        concurrent.futures.BrokenExecutor: a worker died (killed, out of memory) and
            the executor can run nothing more; the cases of the tasks it took down are
            recorded as failed, what finished is written, and a rerun goes on.
    """
    _check(fn, sweep, chunk, executor, resume)
    own = executor is None
    if own:
        _check_picklable(fn)
    directory = open_store(store)
    found = read_store(directory)
    skip = {r.case_id for r in found if r.ok} if resume else set()
    workers = default_workers()
    if chunk is None:
        pending = max(0, sweep.size - len(skip))
        chunk = (
            max(1, min(MAX_AUTO_CHUNK, pending // (workers * IN_FLIGHT_PER_WORKER))) if own else 1
        )
    window = workers * IN_FLIGHT_PER_WORKER if own else _FOREIGN_IN_FLIGHT
    tally = _Tally(directory, total=sweep.size)
    pool = cf.ProcessPoolExecutor(max_workers=workers) if executor is None else executor
    try:
        _drive(
            fn,
            pool,
            _chunks(sweep, skip, {r.case_id for r in found}, chunk, tally),
            window=window,
            tally=tally,
        )
    except BaseException:
        if own:
            _stop(pool)
        # What finished is on its way to disk: it gets there before the error goes on.
        tally.close()
        raise
    tally.close()
    if own:
        pool.shutdown(wait=True)
    return tally.report()


def _stop(pool: cf.Executor) -> None:
    """Stop metalab's own pool now: its queued cases are dropped, its running ones killed.

    Waiting would let each worker finish its case and start the ones already queued to
    it, which after Ctrl-C may take as long as the sweep. Their results are not wanted:
    a rerun runs those cases again.
    """
    terminate = getattr(pool, "terminate_workers", None)
    if callable(terminate):  # Python 3.14 and later
        terminate()
        return
    # Earlier Pythons have no public way to stop the workers: the pool's own table of
    # them, copied before shutdown clears it.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


def _drive(
    fn: Callable[[ParamCase], Any],
    pool: cf.Executor,
    chunks: Iterator[list[tuple[int, ParamCase]]],
    *,
    window: int,
    tally: _Tally,
) -> None:
    """Keep ``window`` chunks submitted, writing each chunk's documents as it finishes."""
    running: dict[cf.Future[list[Any]], list[tuple[int, ParamCase]]] = {}
    broken: list[cf.BrokenExecutor] = []

    def fill() -> None:
        while len(running) < window and not broken:
            items = next(chunks, None)
            if items is None:
                return
            try:
                running[pool.submit(_run_chunk, fn, items)] = items
            except cf.BrokenExecutor as error:
                # A worker died (killed, out of memory): the chunks it took down are
                # recorded as failed as they come back; nothing more can run here.
                broken.append(error)

    try:
        # The first chunks go out before the progress bar starts its thread: a pool
        # that forks its workers does so on the first submission, and forking a
        # process with threads is unsafe.
        fill()
        with tally.showing():
            while running:
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for future in finished:
                    error = _collect(future, running.pop(future), tally)
                    if isinstance(error, cf.BrokenExecutor):
                        broken.append(error)
                fill()
        if broken:
            raise broken[0]
    except KeyboardInterrupt:
        _keep_finished(running, tally)
        raise


def _keep_finished(running: Iterable[cf.Future[list[Any]]], tally: _Tally) -> None:
    """After Ctrl-C: write the chunks that finished meanwhile, cancel the others."""
    for future in running:
        if future.done() and not future.cancelled() and future.exception() is None:
            tally.write(future.result())
        future.cancel()


def _collect(
    future: cf.Future[list[Any]], items: list[tuple[int, ParamCase]], tally: _Tally
) -> BaseException | None:
    """Write the documents of a finished chunk: its cases', or its failure's for each.

    Returns:
        The error the task itself failed with (not one of ``fn``'s), if any.
    """
    error = future.exception()
    if error is None:
        tally.write(future.result())
    elif isinstance(error, KeyboardInterrupt):
        # A worker interrupted with the rest of the terminal's process group.
        raise KeyboardInterrupt
    else:
        tally.write(_failed_chunk(items, error))
    return error


def run_case(
    fn: Callable[[ParamCase], Any],
    sweep: ParamSource,
    index: int,
    *,
    store: str | os.PathLike[str],
) -> CaseResult:
    """Run case ``index`` of ``sweep`` in this process and write its document to ``store``.

    What one task of a job array does (SLURM, PBS, SGE, LSF, a Kubernetes Indexed Job):
    the index comes from the scheduler, the document lands in the layout that
    `metalab.results` and ``metalab array --done-dir`` read, under the case's index
    in the whole sweep. A case that raises is recorded as failed, as `run` records it;
    exit with a failing status then (``sys.exit(0 if record.ok else 1)``) so that the
    scheduler shows the task as failed.

    Args:
        fn: called with the case; what it returns is the case's result.
        sweep: the whole sweep.
        index: the case's index (negative counts back from the end).
        store: the results directory, created if missing.

    Returns:
        The record written.

    Raises:
        ParamError: ``fn`` is not callable or ``sweep`` is no source.
        CaseIndexError: ``index`` lies outside the sweep.
        IndexTypeError: ``index`` is not an int.
        ResultsError: ``store`` is a file, or cannot be created.
    """
    _check(fn, sweep, None, None, resume=True)
    i = check_index(index, sweep.size)
    directory = open_store(store)
    (record,) = _run_chunk(fn, [(_recorded_index(sweep, i), sweep[i])])
    write_record(directory, record)
    return parse_record(record)
