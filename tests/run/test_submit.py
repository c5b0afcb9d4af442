"""`metalab.submit` on submitit's real executors: in this process, in local processes, on SLURM.

The DebugExecutor runs each job in this process when its result is asked for, which
shows the chunks and the split into arrays at no cost; the LocalExecutor runs each job
as its own process, as a cluster would. The SLURM tests submit to the local cluster
that ``ci/slurm/start.sh`` starts (``tests/conftest.py``), with a MaxArraySize of 8 so
that a sweep of a few dozen cases needs several arrays.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import cloudpickle
import pytest
import submitit

import metalab
from metalab import ParamCase, grid, manual
from metalab.errors import ParamError, ResultsError, SubmissionError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from metalab import ParamSource

TINY_MAX_ARRAY_SIZE: Final = 8
"""The MaxArraySize of the ``tiny_cluster`` fixture."""


def square(case: ParamCase) -> dict[str, int]:
    """Square x, saying which process did it; raise for x == 5."""
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 5:
        msg = "x=5 diverged"
        raise ValueError(msg)
    return {"y": x * x, "pid": os.getpid()}


def dies_at_two(case: ParamCase) -> int:
    """Kill the job's process at x == 2, as a time limit or a lost node would."""
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 2:
        os._exit(3)
    return x


@pytest.fixture(autouse=True, scope="module")
def by_value() -> Iterator[None]:
    """The jobs cannot import this test module: its functions travel by value."""
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def debug(tmp_path: Path) -> submitit.DebugExecutor:
    """An executor that runs each job in this process."""
    return submitit.DebugExecutor(folder=tmp_path / "submitit")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The results directory, next to the executor's folder."""
    return tmp_path / "results"


def indices(submission: metalab.Submission) -> list[list[int]]:
    """The case indices of each task."""
    return [[i for i, _ in items] for items in submission.tasks]


class TestChunksAndArrays:
    """Tasks hold ``chunk`` cases each; no array holds more than ``max_array_size`` tasks."""

    def test_chunks_split_into_arrays(self, debug: submitit.DebugExecutor, tmp_path: Path) -> None:
        """23 cases in chunks of 4 are 6 tasks, in 3 arrays of 2; each case runs once."""
        sweep = grid(x=range(23))
        store = tmp_path / "results"
        submission = metalab.submit(
            square, sweep, executor=debug, store=store, chunk=4, max_array_size=2
        )
        assert [len(array) for array in submission.arrays] == [2, 2, 2]
        assert indices(submission) == [list(range(k, min(k + 4, 23))) for k in range(0, 23, 4)]
        assert [case for items in submission.tasks for _, case in items] == list(sweep)
        assert (submission.submitted, submission.skipped) == (23, 0)
        assert submission.jobs == tuple(j for a in submission.arrays for j in a)
        assert submission.store == store.absolute()
        assert repr(submission) == (
            f"Submission(arrays=[2, 2, 2], cases=23, skipped=0, store={store.absolute()!r})"
        )

        report = submission.wait()
        assert (report.done, report.failed, report.skipped) == (22, 1, 0)
        found = metalab.results(store)
        assert [r.index for r in found] == list(range(23))
        assert [r.case_id for r in found] == [c.case_id for c in sweep]
        (failed,) = found.failed
        assert failed.error is not None
        assert (failed.index, failed.error.type, failed.error.message) == (
            5,
            "ValueError",
            "x=5 diverged",
        )
        # Each job's result is the report of its own chunk.
        assert [job.result().done for job in submission.jobs] == [4, 3, 4, 4, 4, 3]

    def test_one_array_when_the_tasks_fit(
        self, debug: submitit.DebugExecutor, tmp_path: Path
    ) -> None:
        """Tasks up to max_array_size make one array; one more makes a second of one task."""
        fits = metalab.submit(
            square, grid(x=range(6)), executor=debug, store=tmp_path / "a", max_array_size=6
        )
        over = metalab.submit(
            square, grid(x=range(7)), executor=debug, store=tmp_path / "b", max_array_size=6
        )
        assert [len(a) for a in fits.arrays] == [6]
        assert [len(a) for a in over.arrays] == [6, 1]
        assert indices(over) == [[i] for i in range(7)]

    def test_the_default_limit_without_scontrol_is_slurms(
        self, debug: submitit.DebugExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no scontrol on the path, arrays hold at most 1001 tasks, SLURM's default."""
        empty = tmp_path / "no-bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
        submission = metalab.submit(
            square, grid(x=range(2003)), executor=debug, store=tmp_path / "r", chunk=2
        )
        assert [len(a) for a in submission.arrays] == [1001, 1]
        assert indices(submission)[-1] == [2002]

    def test_a_selection_records_the_original_indices(
        self, debug: submitit.DebugExecutor, store: Path
    ) -> None:
        """The cases of sweep.select(...) are written under their index in the sweep."""
        sweep = grid(x=range(20))
        chosen = sweep.select([range(12, 16), 3])
        submission = metalab.submit(square, chosen, executor=debug, store=store, chunk=2)
        assert indices(submission) == [[12, 13], [14, 15], [3]]
        submission.wait()
        found = metalab.results(store)
        assert [(r.index, r.case_id) for r in found] == [
            (i, sweep[i].case_id) for i in (3, 12, 13, 14, 15)
        ]

    def test_cases_with_the_same_params_run_once(
        self, debug: submitit.DebugExecutor, store: Path
    ) -> None:
        """A case with the case_id of an earlier one is skipped, as metalab.run skips it."""
        sweep = manual([{"x": 1}, {"x": 2}, {"x": 1}, {"x": 3}])
        submission = metalab.submit(square, sweep, executor=debug, store=store, chunk=2)
        assert indices(submission) == [[0, 1], [3]]
        assert submission.wait().total == 4
        assert submission.skipped == 1


class TestResume:
    """Cases done in the store are not submitted again; failed and missing ones are."""

    def test_only_what_is_missing_is_submitted(
        self, debug: submitit.DebugExecutor, store: Path
    ) -> None:
        """After losing some documents, the next submission holds those and the failed case."""
        sweep = grid(x=range(12))
        metalab.submit(square, sweep, executor=debug, store=store, chunk=3).wait()
        for i in (0, 7, 8):
            (store / f"{sweep[i].case_id}.json").unlink()
        again = metalab.submit(square, sweep, executor=debug, store=store, chunk=3)
        assert indices(again) == [[0, 5, 7], [8]]
        report = again.wait()
        assert (report.done, report.failed, report.skipped) == (3, 1, 8)
        assert len(metalab.results(store)) == 12

    def test_all_done_submits_nothing(self, debug: submitit.DebugExecutor, store: Path) -> None:
        """When every case is done, no array is submitted and the report says so."""
        sweep = grid(x=[1, 2, 3])
        metalab.submit(square, sweep, executor=debug, store=store).wait()
        again = metalab.submit(square, sweep, executor=debug, store=store)
        assert (again.arrays, again.tasks, again.submitted, again.skipped) == ((), (), 0, 3)
        report = again.wait()
        assert (report.done, report.failed, report.skipped) == (0, 0, 3)

    def test_without_resume_every_case_is_submitted(
        self, debug: submitit.DebugExecutor, store: Path
    ) -> None:
        """resume=False submits the done cases too, and their documents are replaced."""
        sweep = grid(x=[1, 2, 3])
        metalab.submit(square, sweep, executor=debug, store=store).wait()
        before = {r.case_id: r.started for r in metalab.results(store)}
        again = metalab.submit(square, sweep, executor=debug, store=store, resume=False)
        assert again.submitted == 3
        assert again.wait().done == 3
        after = {r.case_id: r.started for r in metalab.results(store)}
        assert after.keys() == before.keys()
        assert all(after[k] > before[k] for k in before)


@pytest.mark.subprocess
class TestLocalProcesses:
    """With the LocalExecutor each task is a process of its own, as on a cluster."""

    def test_every_task_runs_in_another_process(self, tmp_path: Path) -> None:
        """Three tasks run in processes other than this one; the failure is recorded."""
        executor = submitit.LocalExecutor(folder=tmp_path / "submitit")
        store = tmp_path / "results"
        submission = metalab.submit(
            square, grid(x=range(6)), executor=executor, store=store, chunk=2
        )
        report = submission.wait()
        assert (report.done, report.failed) == (5, 1)
        found = metalab.results(store)
        pids = {r.index // 2: r.result["pid"] for r in found.done}
        assert os.getpid() not in pids.values()
        assert len(set(pids.values())) == 3

    def test_a_dead_task_leaves_its_cases_failed(self, tmp_path: Path) -> None:
        """A job killed mid-chunk: the cases it did not write are recorded failed by wait."""
        executor = submitit.LocalExecutor(folder=tmp_path / "submitit")
        store = tmp_path / "results"
        sweep = grid(x=range(6))
        submission = metalab.submit(dies_at_two, sweep, executor=executor, store=store, chunk=2)
        report = submission.wait()
        assert (report.done, report.failed, report.skipped) == (4, 2, 0)
        found = metalab.results(store)
        assert [r.index for r in found.failed] == [2, 3]
        for record in found.failed:
            assert record.error is not None
            assert record.error.type == "submitit.core.utils.UncompletedJobError"
            assert "has not produced any output" in record.error.message
        assert [r.result for r in found.done] == [0, 1, 4, 5]
        # The next submission runs them again, and only them.
        again = metalab.submit(
            square, sweep, executor=submitit.DebugExecutor(tmp_path), store=store
        )
        assert indices(again) == [[2], [3]]


class LimitedExecutor(submitit.DebugExecutor):
    """A DebugExecutor that refuses submissions past the first ``allowed``.

    A scheduler's limit on submitted jobs does that, which the local cluster (without
    accounting) cannot set.
    """

    def __init__(self, folder: Path, allowed: int) -> None:
        """Accept ``allowed`` submissions, then refuse every other."""
        super().__init__(folder)
        self.allowed = allowed

    def _internal_process_submissions(
        self, delayed_submissions: list[submitit.core.utils.DelayedSubmission]
    ) -> list[submitit.Job[Any]]:
        if self.allowed == 0:
            msg = "sbatch: error: QOSMaxSubmitJobPerUserLimit"
            raise submitit.core.utils.FailedJobError(msg)
        self.allowed -= 1
        return super()._internal_process_submissions(delayed_submissions)


class TestRefusedSubmission:
    """When the scheduler refuses an array, the arrays before it are not lost."""

    def test_the_error_holds_the_arrays_submitted(self, tmp_path: Path, store: Path) -> None:
        """The second of three arrays is refused: the error's submission holds the first."""
        executor = LimitedExecutor(tmp_path / "submitit", allowed=1)
        sweep = grid(x=range(6))
        with pytest.raises(
            SubmissionError, match="array 2, of 2 tasks, was not submitted"
        ) as raised:
            metalab.submit(square, sweep, executor=executor, store=store, max_array_size=2)
        assert isinstance(raised.value.__cause__, submitit.core.utils.FailedJobError)
        assert "1 array was submitted before it, in error.submission" in str(raised.value)
        submitted = raised.value.submission
        assert indices(submitted) == [[0], [1]]
        assert submitted.wait().done == 2
        # Submitting again once they are done submits the rest.
        rest = metalab.submit(square, sweep, executor=submitit.DebugExecutor(tmp_path), store=store)
        assert indices(rest) == [[2], [3], [4], [5]]


class TestChecks:
    """Bad arguments are refused before anything is submitted, naming the parameter."""

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"chunk": 0}, "chunk must be a positive int, got int 0"),
            ({"chunk": True}, "chunk must be a positive int, got bool True"),
            ({"chunk": 2.0}, "chunk must be a positive int, got float 2.0"),
            ({"max_array_size": 0}, "max_array_size must be a positive int or None"),
            ({"resume": 1}, "resume must be a bool, got int 1"),
        ],
    )
    def test_bad_options(
        self,
        debug: submitit.DebugExecutor,
        tmp_path: Path,
        kwargs: dict[str, Any],
        message: str,
    ) -> None:
        """chunk, max_array_size and resume of the wrong kind are ParamErrors."""
        with pytest.raises(ParamError, match=f"^metalab\\.submit: {message}"):
            metalab.submit(square, grid(x=[1]), executor=debug, store=tmp_path, **kwargs)
        assert not list((tmp_path / "submitit").glob("*"))

    def test_a_futures_executor_points_to_run(self, tmp_path: Path) -> None:
        """A concurrent.futures executor is refused with the call that takes it."""
        with (
            cf.ThreadPoolExecutor(1) as pool,
            pytest.raises(ParamError, match=r"submitit executor .*metalab\.run"),
        ):
            metalab.submit(square, grid(x=[1]), executor=pool, store=tmp_path)  # type: ignore[arg-type]

    def test_fn_and_sweep(self, debug: submitit.DebugExecutor, tmp_path: Path) -> None:
        """A function that is not callable, or a sweep that is no source, is refused."""
        with pytest.raises(ParamError, match=r"^metalab\.submit: fn must be callable"):
            metalab.submit("square", grid(x=[1]), executor=debug, store=tmp_path)  # type: ignore[arg-type]
        with pytest.raises(ParamError, match=r"^metalab\.submit: sweep must be a ParamSource"):
            metalab.submit(square, [{"x": 1}], executor=debug, store=tmp_path)  # type: ignore[arg-type]

    def test_an_unpicklable_fn(self, debug: submitit.DebugExecutor, tmp_path: Path) -> None:
        """A function holding a lock cannot reach the jobs: refused before submitting."""
        lock = threading.Lock()

        def locked(case: ParamCase) -> int:
            with lock:
                return len(case.params)

        with pytest.raises(ParamError, match="cannot be pickled for the jobs"):
            metalab.submit(locked, grid(x=[1]), executor=debug, store=tmp_path)

    def test_a_store_that_is_a_file(self, debug: submitit.DebugExecutor, tmp_path: Path) -> None:
        """A store path that is a file is a ResultsError."""
        (tmp_path / "file").write_text("")
        with pytest.raises(ResultsError, match="is a file"):
            metalab.submit(square, grid(x=[1]), executor=debug, store=tmp_path / "file")


def marked(case: ParamCase) -> dict[str, Any]:
    """Leave a file for each call in CALLS next to the store, and raise for x == 5.

    The files show how many times each case ran, which the documents cannot: a second
    run of a case replaces its document.
    """
    calls = Path(os.environ["METALAB_TEST_CALLS"])
    (calls / f"{case.case_id}.{uuid.uuid4().hex}").touch()
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 5:
        msg = "x=5 diverged"
        raise ValueError(msg)
    return {
        "y": x * x,
        "array": os.environ["SLURM_ARRAY_JOB_ID"],
        "task": int(os.environ["SLURM_ARRAY_TASK_ID"]),
    }


def calls_per_case(calls: Path) -> dict[str, int]:
    """How many times each case_id was called, from the files `marked` left."""
    counts: dict[str, int] = {}
    for path in calls.iterdir():
        case_id = path.name.partition(".")[0]
        counts[case_id] = counts.get(case_id, 0) + 1
    return counts


@pytest.fixture(scope="class")
def on_slurm(
    tiny_cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """This process submits to the tiny cluster, its jobs import this checkout; a root dir."""
    root = tmp_path_factory.mktemp("submitit-slurm")
    package_root = str(Path(metalab.__file__).resolve().parents[1])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLURM_CONF", tiny_cluster["SLURM_CONF"])
        patch.setenv(
            "PYTHONPATH",
            os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        )
        yield root


def _sweep() -> ParamSource:
    """40 cases: 14 tasks of 3, more than a MaxArraySize of 8 holds in one array."""
    return grid(x=range(40))


@pytest.mark.slurm
class TestSlurm:
    """On a real SLURM cluster of MaxArraySize 8, through submitit's SlurmExecutor."""

    def test_split_into_arrays_each_case_once_then_resumed(
        self, on_slurm: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """14 tasks go as arrays of 8 and 6; every case runs once; a rerun runs what is missing."""
        calls = on_slurm / "calls"
        calls.mkdir()
        monkeypatch.setenv("METALAB_TEST_CALLS", str(calls))
        executor = submitit.SlurmExecutor(folder=on_slurm / "submitit")
        executor.update_parameters(time=5, array_parallelism=4)
        store = on_slurm / "results"
        sweep = _sweep()

        # The limit comes from scontrol show config: MaxArraySize=8.
        submission = metalab.submit(marked, sweep, executor=executor, store=store, chunk=3)
        assert [len(array) for array in submission.arrays] == [8, 6]
        report = submission.wait()
        assert (report.done, report.failed, report.skipped) == (39, 1, 0)
        assert calls_per_case(calls) == {case.case_id: 1 for case in sweep}
        found = metalab.results(store)
        assert [(r.index, r.case_id) for r in found] == [
            (i, c.case_id) for i, c in enumerate(sweep)
        ]
        (failed,) = found.failed
        assert failed.error is not None
        assert (failed.index, failed.error.message) == (5, "x=5 diverged")
        # Each case ran in the array task submitit made of its chunk.
        array_ids = [{job.job_id.partition("_")[0] for job in a} for a in submission.arrays]
        assert all(len(ids) == 1 for ids in array_ids)
        first, second = (ids.pop() for ids in array_ids)
        assert first != second
        for record in found.done:
            task = record.index // 3
            expected = (first, task) if task < 8 else (second, task - 8)
            assert (record.result["array"], record.result["task"]) == expected

        lost = sorted(
            (i for i in range(40) if i != 5),
            key=lambda i: hashlib.sha256(b"%d" % i).digest(),
        )[:13]
        for i in lost:
            (store / f"{sweep[i].case_id}.json").unlink()
        again = metalab.submit(marked, sweep, executor=executor, store=store, chunk=3)
        pending = sorted([*lost, 5])
        assert [i for items in again.tasks for i, _ in items] == pending
        assert [len(a) for a in again.arrays] == [5]
        resumed = again.wait()
        assert (resumed.done, resumed.failed, resumed.skipped) == (13, 1, 26)
        assert calls_per_case(calls) == {
            case.case_id: 2 if i in pending else 1 for i, case in enumerate(sweep)
        }
        assert len(metalab.results(store)) == 40

    def test_an_array_beyond_max_array_size_is_refused(self, on_slurm: Path) -> None:
        """Told a larger limit than the cluster's, sbatch refuses the array: nothing runs."""
        executor = submitit.SlurmExecutor(folder=on_slurm / "refused")
        with pytest.raises(
            SubmissionError, match="array 1, of 14 tasks, was not submitted"
        ) as raised:
            metalab.submit(
                square,
                _sweep(),
                executor=executor,
                store=on_slurm / "none",
                chunk=3,
                max_array_size=14,
            )
        assert raised.value.submission.arrays == ()
        assert "Invalid job array specification" in str(raised.value.__cause__)
        assert str(raised.value).endswith("; nothing was submitted")
        assert not list((on_slurm / "none").iterdir())
