"""`metalab.run` on a real Dask cluster: ``executor=client.get_executor()``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import cloudpickle
import distributed
import pytest

import metalab
from metalab import ParamCase, grid

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def on_worker(case: ParamCase) -> dict[str, int]:
    """Square x, and say which process did it; raise for x == 5."""
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 5:
        msg = "x=5 diverged"
        raise ValueError(msg)
    return {"y": x * x, "pid": os.getpid()}


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A client of a local cluster of 2 worker processes, one thread each."""
    # The workers cannot import this test module: its functions travel by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


class TestDask:
    """A sweep runs on the cluster's workers into the same results layout."""

    def test_every_case_runs_on_the_workers(
        self, client: distributed.Client, tmp_path: Path
    ) -> None:
        """Each case runs in one of the two worker processes; the failure is recorded."""
        sweep = grid(x=range(20))
        report = metalab.run(on_worker, sweep, store=tmp_path, executor=client.get_executor())
        assert (report.done, report.failed, report.skipped) == (19, 1, 0)
        found = metalab.results(tmp_path)
        assert [r.index for r in found] == list(range(20))
        workers = set(client.run(os.getpid).values())
        assert len(workers) == 2
        assert os.getpid() not in workers
        assert {r.result["pid"] for r in found.done} <= workers
        assert [r.result["y"] for r in found.done] == [x * x for x in range(20) if x != 5]
        (failed,) = found.failed
        assert failed.error is not None
        assert (failed.error.type, failed.error.message) == ("ValueError", "x=5 diverged")

    def test_chunks_and_resume(self, client: distributed.Client, tmp_path: Path) -> None:
        """Chunked tasks on the cluster; a rerun runs only the failed case again."""
        sweep = grid(x=range(30))
        first = metalab.run(
            on_worker, sweep, store=tmp_path, executor=client.get_executor(), chunk=4
        )
        assert (first.done, first.failed) == (29, 1)
        again = metalab.run(on_worker, sweep, store=tmp_path, executor=client.get_executor())
        assert (again.done, again.failed, again.skipped) == (0, 1, 29)
