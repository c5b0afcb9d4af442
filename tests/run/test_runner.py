"""`metalab.run`: every case into the store, on real executors, resumable and interruptible."""

from __future__ import annotations

import concurrent.futures as cf
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest

import metalab
from metalab import ParamCase, grid, manual
from metalab._run import runner, store
from metalab._run.runner import RunReport, default_workers
from metalab.errors import ParamError, ResultsError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def square(case: ParamCase) -> dict[str, int]:
    """The result of a trivial experiment."""
    x = case.params["x"]
    assert isinstance(x, int)
    return {"y": x * x}


def fails_on_three(case: ParamCase) -> int:
    """Raise for x == 3, and return x otherwise."""
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 3:
        msg = f"x={x} diverged"
        raise ValueError(msg)
    return x


def logged(case: ParamCase) -> int:
    """Leave a file named for the case in the directory ``log``: one per call."""
    log = case.params["log"]
    x = case.params["x"]
    assert isinstance(log, str)
    assert isinstance(x, int)
    with (Path(log) / f"{x}.{os.getpid()}.{time.monotonic_ns()}").open("x"):
        pass
    return x


def worker_pid(case: ParamCase) -> int:
    """The process the case runs in."""
    del case
    return os.getpid()


def dies(case: ParamCase) -> int:
    """Kill the worker process for x == 2, as the out-of-memory killer would."""
    if case.params["x"] == 2:
        os._exit(1)
    return 0


def calls(log: Path) -> list[int]:
    """The x of every call `logged` made, sorted."""
    return sorted(int(name.split(".")[0]) for name in (p.name for p in log.iterdir()))


class _CountingPool(cf.ThreadPoolExecutor):
    """A thread pool that counts the tasks submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


class TestRun:
    """Every case runs once and leaves its document in the store."""

    def test_every_case_on_the_default_process_pool(self, tmp_path: Path) -> None:
        """The default pool runs every case in worker processes and writes each result."""
        report = metalab.run(square, grid(x=range(20)), store=tmp_path / "out")
        assert report == RunReport(done=20, failed=0, skipped=0, store=tmp_path / "out")
        assert report.total == 20
        found = metalab.results(tmp_path / "out")
        assert [r.index for r in found] == list(range(20))
        assert [r.result for r in found] == [{"y": x * x} for x in range(20)]
        assert all(r.case == grid(x=range(20))[r.index] for r in found)

    def test_cases_run_in_other_processes(self, tmp_path: Path) -> None:
        """The default executor is a process pool: no case runs in this process."""
        metalab.run(worker_pid, grid(x=range(8)), store=tmp_path)
        pids = {r.result for r in metalab.results(tmp_path)}
        assert os.getpid() not in pids
        assert 1 <= len(pids) <= default_workers()

    def test_a_raising_case_is_recorded_and_the_others_go_on(self, tmp_path: Path) -> None:
        """The case that raises has its error in the store; every other case is done."""
        report = metalab.run(fails_on_three, grid(x=range(6)), store=tmp_path)
        assert (report.done, report.failed, report.skipped) == (5, 1, 0)
        (failed,) = metalab.results(tmp_path).failed
        assert failed.index == 3
        assert failed.error is not None
        assert (failed.error.type, failed.error.message) == ("ValueError", "x=3 diverged")
        assert "in fails_on_three" in failed.error.traceback

    def test_timing_is_recorded(self, tmp_path: Path) -> None:
        """Each document holds start and finish times in UTC and a duration."""
        metalab.run(square, grid(x=range(2)), store=tmp_path)
        for record in metalab.results(tmp_path):
            assert record.started.endswith("+00:00")
            assert record.started <= record.finished
            assert record.duration >= 0

    def test_an_empty_sweep(self, tmp_path: Path) -> None:
        """A sweep of no cases runs nothing and says so."""
        report = metalab.run(square, grid(x=range(5))[5:], store=tmp_path)
        assert report.total == 0
        assert len(metalab.results(tmp_path)) == 0

    def test_the_store_is_created_with_its_parents(self, tmp_path: Path) -> None:
        """A store that does not exist yet is created, parents included."""
        metalab.run(square, grid(x=range(1)), store=str(tmp_path / "a" / "b"))
        assert len(metalab.results(tmp_path / "a" / "b")) == 1


class TestExecutors:
    """Any concurrent.futures executor runs the cases, in chunks when asked."""

    def test_a_thread_pool(self, tmp_path: Path) -> None:
        """A thread pool of the caller's runs every case, and stays open for the caller."""
        with cf.ThreadPoolExecutor(max_workers=3) as pool:
            report = metalab.run(
                lambda case: case.params["x"], grid(x=range(7)), store=tmp_path, executor=pool
            )
            assert pool.submit(int, "5").result() == 5
        assert report.done == 7

    def test_a_process_pool_of_the_callers(self, tmp_path: Path) -> None:
        """A ProcessPoolExecutor passed in runs the cases too."""
        with cf.ProcessPoolExecutor(max_workers=2) as pool:
            report = metalab.run(square, grid(x=range(9)), store=tmp_path, executor=pool, chunk=4)
        assert report.done == 9
        assert [r.result for r in metalab.results(tmp_path)] == [{"y": x * x} for x in range(9)]

    @pytest.mark.parametrize(("chunk", "tasks"), [(1, 10), (3, 4), (10, 1), (25, 1)])
    def test_chunks(self, tmp_path: Path, chunk: int, tasks: int) -> None:
        """``chunk`` cases go into one task, the last task fewer."""
        with _CountingPool() as pool:
            metalab.run(square, grid(x=range(10)), store=tmp_path, executor=pool, chunk=chunk)
        assert pool.submitted == tasks
        assert len(metalab.results(tmp_path)) == 10

    def test_a_foreign_executor_defaults_to_one_case_per_task(self, tmp_path: Path) -> None:
        """Without ``chunk``, an executor of the caller's gets one case per task."""
        with _CountingPool() as pool:
            metalab.run(square, grid(x=range(6)), store=tmp_path, executor=pool)
        assert pool.submitted == 6

    def test_the_default_pool_packs_large_sweeps(self, tmp_path: Path) -> None:
        """The default pool sends many cases per task (at most MAX_AUTO_CHUNK), all of them."""
        sizes: list[int] = []
        real = cf.ProcessPoolExecutor.submit

        def submit(
            self: cf.ProcessPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
        ) -> cf.Future[Any]:
            sizes.append(len(args[1]))
            return real(self, fn, *args, **kwargs)

        size = 2000
        workers = default_workers()
        expected = max(
            1, min(runner.MAX_AUTO_CHUNK, size // (workers * runner.IN_FLIGHT_PER_WORKER))
        )
        with mock.patch.object(cf.ProcessPoolExecutor, "submit", submit):
            report = metalab.run(square, grid(x=range(size)), store=tmp_path)
        assert report.done == size
        assert sum(sizes) == size
        assert set(sizes[:-1]) == {expected}

    def test_at_most_a_window_of_chunks_is_out(self, tmp_path: Path) -> None:
        """Chunks go out as earlier ones finish: the sweep is never all submitted at once."""
        out: list[int] = []
        lock = threading.Lock()
        pending = 0

        class Pool(cf.ThreadPoolExecutor):
            def submit(
                self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
            ) -> cf.Future[Any]:
                nonlocal pending
                with lock:
                    pending += 1
                    out.append(pending)
                future = super().submit(fn, *args, **kwargs)
                future.add_done_callback(finished)
                return future

        def finished(_: cf.Future[Any]) -> None:
            nonlocal pending
            with lock:
                pending -= 1

        with mock.patch.object(runner, "_FOREIGN_IN_FLIGHT", 3), Pool(max_workers=2) as pool:
            metalab.run(square, grid(x=range(30)), store=tmp_path, executor=pool)
        assert len(out) == 30
        assert max(out) <= 3
        assert len(metalab.results(tmp_path)) == 30


class TestResume:
    """A rerun continues: what is done is skipped, what failed runs again."""

    def test_done_cases_are_skipped(self, tmp_path: Path) -> None:
        """A second run calls fn for no case and reports every case skipped."""
        log = tmp_path / "log"
        log.mkdir()
        sweep = grid(x=range(12), log=[str(log)])
        metalab.run(logged, sweep, store=tmp_path / "out")
        report = metalab.run(logged, sweep, store=tmp_path / "out")
        assert (report.done, report.failed, report.skipped) == (0, 0, 12)
        assert calls(log) == list(range(12))

    def test_only_missing_cases_run(self, tmp_path: Path) -> None:
        """After deleting some documents, a rerun runs exactly those cases."""
        log = tmp_path / "log"
        log.mkdir()
        sweep = grid(x=range(12), log=[str(log)])
        metalab.run(logged, sweep, store=tmp_path / "out")
        for i in (2, 5, 11):
            (tmp_path / "out" / f"{sweep[i].case_id}.json").unlink()
        report = metalab.run(logged, sweep, store=tmp_path / "out")
        assert (report.done, report.skipped) == (3, 9)
        assert calls(log) == sorted([*range(12), 2, 5, 11])

    def test_failed_cases_run_again(self, tmp_path: Path) -> None:
        """A failed case is not done: the rerun tries it again, and only it."""
        sweep = grid(x=range(5))
        metalab.run(fails_on_three, sweep, store=tmp_path)
        report = metalab.run(square, sweep, store=tmp_path)
        assert (report.done, report.failed, report.skipped) == (1, 0, 4)
        assert metalab.results(tmp_path)[3].result == {"y": 9}
        assert not metalab.results(tmp_path).failed

    def test_resume_false_runs_everything_again(self, tmp_path: Path) -> None:
        """``resume=False`` runs every case and replaces the documents."""
        sweep = grid(x=range(4))
        metalab.run(fails_on_three, sweep, store=tmp_path)
        report = metalab.run(square, sweep, store=tmp_path, resume=False)
        assert (report.done, report.skipped) == (4, 0)
        assert [r.result for r in metalab.results(tmp_path)] == [{"y": x * x} for x in range(4)]

    def test_duplicate_cases_run_once(self, tmp_path: Path) -> None:
        """Cases with the same params share a case_id, so the second is skipped."""
        sweep = manual([{"x": 1}, {"x": 2}, {"x": 1}])
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            report = metalab.run(square, sweep, store=tmp_path, executor=pool)
        assert (report.done, report.skipped) == (2, 1)
        assert [r.index for r in metalab.results(tmp_path)] == [0, 1]

    def test_documents_of_other_sweeps_are_counted_and_left_alone(self, tmp_path: Path) -> None:
        """A store shared with another sweep: its documents stay, and the report counts them."""
        with cf.ThreadPoolExecutor(max_workers=2) as pool:
            first = metalab.run(square, grid(x=range(6)), store=tmp_path, executor=pool)
            second = metalab.run(square, grid(x=range(4, 10)), store=tmp_path, executor=pool)
        assert first.other == 0
        # x = 4 and 5 are cases of both sweeps (the same case_ids): done, so skipped.
        assert (second.done, second.skipped, second.other) == (4, 2, 4)
        assert sorted(r.params["x"] for r in metalab.results(tmp_path)) == list(range(10))

    def test_failed_documents_of_other_sweeps_count_too(self, tmp_path: Path) -> None:
        """``other`` counts every document of no case of the sweep, failed ones included."""
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            metalab.run(fails_on_three, grid(x=range(5)), store=tmp_path, executor=pool)
            report = metalab.run(square, grid(x=[0, 1]), store=tmp_path, executor=pool)
            again = metalab.run(square, grid(x=[0, 1]), store=tmp_path, executor=pool, resume=False)
        assert (report.skipped, report.other) == (2, 3)
        assert (again.done, again.other) == (2, 3)

    def test_a_shard_sharing_the_store_of_its_sweep(self, tmp_path: Path) -> None:
        """Two shards of one sweep fill one store, under the sweep's indices.

        Each shard's report counts the other's documents.
        """
        sweep = grid(x=range(7))
        with cf.ThreadPoolExecutor(max_workers=2) as pool:
            a = metalab.run(square, sweep.shard(0, 2), store=tmp_path, executor=pool)
            b = metalab.run(square, sweep.shard(1, 2), store=tmp_path, executor=pool)
        assert (a.done, a.other, b.done, b.other) == (4, 0, 3, 4)
        found = metalab.results(tmp_path)
        assert [r.index for r in found] == list(range(7))
        assert all(r.case == sweep[r.index] for r in found)

    def test_parts_of_parts_record_the_first_sweeps_index(self, tmp_path: Path) -> None:
        """A selection of a backward slice of a shard: each document has the sweep's index."""
        sweep = grid(x=range(20))
        part = sweep.shard(1, 2)[::-2].select([3, 0])
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            metalab.run(square, part, store=tmp_path / "run", executor=pool)
        record = metalab.run_case(square, part, 1, store=tmp_path / "task")
        found = metalab.results(tmp_path / "run")
        assert sorted(r.index for r in found) == [13, 19]
        assert all(r.case == sweep[r.index] for r in found)
        assert record.index == 19

    def test_a_store_with_a_foreign_file_is_refused_before_running(self, tmp_path: Path) -> None:
        """A store holding a file that is no result is an error, and nothing runs."""
        (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
        log = tmp_path / "log"
        with pytest.raises(ResultsError, match=r"notes\.txt"):
            metalab.run(logged, grid(x=range(3), log=[str(log)]), store=tmp_path)
        assert not log.exists()


def _interrupt_on(call: int) -> Callable[..., Any]:
    """A stand-in for concurrent.futures.wait that raises KeyboardInterrupt on a call."""
    count = 0
    real = cf.wait

    def wait(futures: Iterable[cf.Future[Any]], **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        if count == call:
            cf.wait(list(futures))
            raise KeyboardInterrupt
        return real(futures, **kwargs)

    return wait


class TestInterrupt:
    """Ctrl-C keeps everything finished, and a rerun continues."""

    def test_finished_chunks_are_kept_and_the_rest_reruns(self, tmp_path: Path) -> None:
        """Chunks finished when Ctrl-C comes are written; the rerun runs only the others."""
        sweep = grid(x=range(40))
        with (
            _CountingPool() as pool,
            mock.patch.object(runner, "_FOREIGN_IN_FLIGHT", 4),
            mock.patch.object(cf, "wait", _interrupt_on(3)),
            pytest.raises(KeyboardInterrupt),
        ):
            metalab.run(square, sweep, store=tmp_path, executor=pool, chunk=2)
        written = len(metalab.results(tmp_path))
        # Every chunk sent out had finished when the interrupt came: none is lost.
        assert written == 2 * pool.submitted
        assert written < 40
        report = metalab.run(square, sweep, store=tmp_path)
        assert (report.done, report.skipped) == (40 - written, written)
        assert [r.index for r in metalab.results(tmp_path)] == list(range(40))

    def test_a_keyboard_interrupt_in_fn_stops_the_run(self, tmp_path: Path) -> None:
        """KeyboardInterrupt inside fn is no case failure: it stops the run."""

        def interrupted(case: ParamCase) -> int:
            if case.params["x"] == 5:
                raise KeyboardInterrupt
            return 0

        with (
            cf.ThreadPoolExecutor(max_workers=1) as pool,
            pytest.raises(KeyboardInterrupt),
        ):
            metalab.run(interrupted, grid(x=range(10)), store=tmp_path, executor=pool)
        found = metalab.results(tmp_path)
        assert not found.failed
        assert 5 not in {r.index for r in found}

    @pytest.mark.subprocess
    def test_ctrl_c_on_a_real_pool(self, tmp_path: Path) -> None:
        """SIGINT to a running sweep's process group leaves valid documents; a rerun finishes."""
        script = tmp_path / "sweep.py"
        script.write_text(
            textwrap.dedent(
                """
                import sys, time
                import metalab

                def slow(case):
                    if case.params["x"] >= 4:
                        time.sleep(60)
                    return case.params["x"]

                if __name__ == "__main__":
                    metalab.run(slow, metalab.grid(x=range(12)), store=sys.argv[1], chunk=1)
                """
            ),
            encoding="utf-8",
        )
        store = tmp_path / "out"
        process = subprocess.Popen(
            [sys.executable, str(script), str(store)],
            start_new_session=True,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            # Four fast cases, then only sleepers: wait until the fast ones are written.
            for _ in range(600):
                if store.is_dir() and len(list(store.glob("*.json"))) == 4:
                    break
                time.sleep(0.1)
            os.killpg(process.pid, signal.SIGINT)
            _, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        assert process.returncode != 0
        assert "KeyboardInterrupt" in err
        found = metalab.results(store)
        assert [r.result for r in found] == [0, 1, 2, 3]
        assert not list(store.glob(".*"))


class _Terminal(io.StringIO):
    """Standard error as a terminal would be: isatty() is true."""

    def isatty(self) -> bool:
        return True


class TestProgress:
    """A progress bar on standard error when it is a terminal, and nothing otherwise."""

    def test_a_bar_on_a_terminal(self, tmp_path: Path) -> None:
        """On a terminal, the bar ends showing the counts of the run."""
        err = _Terminal()
        with cf.ThreadPoolExecutor(max_workers=1) as pool, mock.patch.object(sys, "stderr", err):
            metalab.run(fails_on_three, grid(x=range(6)), store=tmp_path, executor=pool)
        assert "5 done, 1 failed, 0 skipped" in err.getvalue()

    def test_nothing_elsewhere(self, tmp_path: Path) -> None:
        """When standard error is no terminal (a log file, a pipe), nothing is written to it."""
        err = io.StringIO()
        with cf.ThreadPoolExecutor(max_workers=1) as pool, mock.patch.object(sys, "stderr", err):
            metalab.run(square, grid(x=range(6)), store=tmp_path, executor=pool)
        assert err.getvalue() == ""


class TestWriteFailures:
    """A document that cannot be written stops the run with the filesystem's error."""

    def test_a_full_disk_is_raised(self, tmp_path: Path) -> None:
        """The OSError of a failed write comes out of run; the other documents are kept."""
        real = store.write_record
        count = 0

        def write(directory: Path, record: dict[str, Any]) -> Path:
            nonlocal count
            count += 1
            if record["index"] == 2:
                raise OSError(28, "No space left on device")
            return real(directory, record)

        with (
            cf.ThreadPoolExecutor(max_workers=1) as pool,
            mock.patch.object(runner, "write_record", write),
            pytest.raises(OSError, match="No space left on device"),
        ):
            metalab.run(square, grid(x=range(5)), store=tmp_path, executor=pool, chunk=5)
        assert count == 5
        assert [r.index for r in metalab.results(tmp_path)] == [0, 1, 3, 4]


class TestBrokenWorkers:
    """A worker that dies takes down its cases, which are recorded; the rest can rerun."""

    def test_a_killed_worker(self, tmp_path: Path) -> None:
        """The cases of the dead worker's tasks are failed with the pool's error."""
        with pytest.raises(cf.BrokenExecutor):
            metalab.run(dies, grid(x=range(6)), store=tmp_path, chunk=1)
        found = metalab.results(tmp_path)
        assert 2 in {r.index for r in found.failed}
        assert {r.error.type for r in found.failed if r.error} == {
            "concurrent.futures.process.BrokenProcessPool"
        }


class TestRunCase:
    """`metalab.run_case`: one case, in this process, as one task of a job array runs it."""

    def test_the_case_at_an_index(self, tmp_path: Path) -> None:
        """The case is recorded under its index in the whole sweep, in this process."""
        sweep = grid(x=range(10))
        record = metalab.run_case(worker_pid, sweep, 7, store=tmp_path / "out")
        assert (record.index, record.case, record.result) == (7, sweep[7], os.getpid())
        assert metalab.results(tmp_path / "out").records == (record,)

    def test_a_negative_index_counts_back(self, tmp_path: Path) -> None:
        """-1 is the last case, recorded under its own index."""
        record = metalab.run_case(square, grid(x=range(10)), -1, store=tmp_path)
        assert (record.index, record.result) == (9, {"y": 81})

    def test_a_failure_is_recorded_and_returned(self, tmp_path: Path) -> None:
        """A raising case is written as failed and returned, not raised."""
        record = metalab.run_case(fails_on_three, grid(x=range(5)), 3, store=tmp_path)
        assert not record.ok
        assert record.error is not None
        assert record.error.message == "x=3 diverged"
        assert metalab.results(tmp_path).failed == (record,)

    def test_tasks_fill_the_store_that_run_resumes(self, tmp_path: Path) -> None:
        """Tasks' documents are the layout metalab.run reads: it runs only the others."""
        sweep = grid(x=range(6))
        for i in (0, 2, 4):
            metalab.run_case(square, sweep, i, store=tmp_path)
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            report = metalab.run(square, sweep, store=tmp_path, executor=pool)
        assert (report.done, report.skipped) == (3, 3)

    def test_a_pending_selection_records_the_original_index(self, tmp_path: Path) -> None:
        """Resumed through a selection, each document keeps its case's index in the sweep."""
        sweep = grid(x=range(6))
        for i in (0, 1, 2, 4, 5):
            metalab.run_case(square, sweep, i, store=tmp_path)
        pending = sweep.select([3])
        record = metalab.run_case(square, pending, 0, store=tmp_path)
        assert (record.index, record.case) == (3, sweep[3])
        found = metalab.results(tmp_path)
        assert [r.index for r in found] == [0, 1, 2, 3, 4, 5]
        assert all(r.case_id == sweep[r.index].case_id for r in found)

    def test_run_over_a_selection_records_the_original_indices(self, tmp_path: Path) -> None:
        """metalab.run over sweep.select(...) records the sweep's indices, not positions."""
        sweep = grid(x=range(10))
        with cf.ThreadPoolExecutor(max_workers=1) as pool:
            metalab.run(square, sweep.select([7, 2]), store=tmp_path, executor=pool)
        assert [(r.index, r.case) for r in metalab.results(tmp_path)] == [
            (2, sweep[2]),
            (7, sweep[7]),
        ]

    @pytest.mark.parametrize(
        ("index", "error"), [(10, metalab.errors.CaseIndexError), ("3", TypeError)]
    )
    def test_bad_indices(self, tmp_path: Path, index: object, error: type[Exception]) -> None:
        """An index outside the sweep, or not an int, is refused and nothing is written."""
        with pytest.raises(error):
            metalab.run_case(square, grid(x=range(10)), index, store=tmp_path / "out")  # type: ignore[arg-type]
        assert not (tmp_path / "out").exists()


class TestBadArguments:
    """Bad arguments are ParamErrors naming the argument, before anything runs."""

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"fn": 3}, "fn must be callable, got int 3"),
            ({"sweep": [{"x": 1}]}, "sweep must be a ParamSource, got list"),
            ({"chunk": 0}, "chunk must be a positive int or None, got int 0"),
            ({"chunk": True}, "chunk must be a positive int or None"),
            ({"chunk": 1.5}, "chunk must be a positive int or None"),
            ({"executor": "dask"}, "executor must be a concurrent.futures.Executor"),
            ({"resume": "yes"}, "resume must be a bool"),
            ({"fn": lambda case: case}, "cannot be sent to worker processes"),
        ],
    )
    def test_refused(self, tmp_path: Path, kwargs: dict[str, Any], fragment: str) -> None:
        """Each bad argument is refused with a message naming it; no store is created."""
        arguments: dict[str, Any] = {"fn": square, "sweep": grid(x=range(2)), **kwargs}
        fn, sweep = arguments.pop("fn"), arguments.pop("sweep")
        with pytest.raises(ParamError, match=fragment.replace("(", r"\(")):
            metalab.run(fn, sweep, store=tmp_path / "out", **arguments)
        assert not (tmp_path / "out").exists()

    @pytest.mark.parametrize(
        ("method", "outcome"),
        [
            ("forkserver", "ParamError: metalab.run: fn 'train' is defined in an interactive"),
            ("spawn", "by 'spawn', so they cannot import it"),
            ("fork", "done 3"),
        ],
    )
    def test_a_function_of_an_interactive_session(
        self, tmp_path: Path, method: str, outcome: str
    ) -> None:
        """A function of ``python -c`` reaches workers only by fork; else refused at once."""
        script = textwrap.dedent(
            f"""
            import multiprocessing, sys
            import metalab

            multiprocessing.set_start_method({method!r})

            def train(case):
                return case.params["x"]

            try:
                report = metalab.run(train, metalab.grid(x=range(3)), store={str(tmp_path)!r})
            except metalab.errors.ParamError as error:
                print(f"ParamError: {{error}}")
                sys.exit(0)
            print("done", report.done)
            """
        )
        shown = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
        )
        assert outcome in shown.stdout, shown.stdout + shown.stderr
        assert (outcome == "done 3") == bool(list(tmp_path.iterdir()))

    def test_a_store_that_is_a_file(self, tmp_path: Path) -> None:
        """A store path naming a file is a ResultsError."""
        path = tmp_path / "store"
        path.write_text("", encoding="utf-8")
        with pytest.raises(ResultsError, match="is a file, not a directory"):
            metalab.run(square, grid(x=range(2)), store=path)


class TestPublicNames:
    """metalab.run and RunReport are the runner's own objects, loaded lazily."""

    def test_lazy_names(self) -> None:
        """The names at the top level are the implementations."""
        assert metalab.run is runner.run
        assert metalab.run_case is runner.run_case
        assert metalab.RunReport is RunReport
