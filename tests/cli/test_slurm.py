"""A sweep run as a job array on a real SLURM scheduler: every case exactly once, resumable.

The cluster fixtures (``tests/conftest.py``, from ``tests/slurm_cluster.py``) start a
single-node cluster with ``ci/slurm/start.sh``, holding the machine's cluster lock, and
always stop it with ``ci/slurm/stop.sh``. Without root or the Debian packages the tests
skip, except when ``METALAB_REQUIRE_SLURM=1`` (CI sets it), where they fail instead.
Deselect them with ``pytest -m "not slurm"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
import pytest
from slurm_cluster import LOCK, SCRIPTS, command_failed, host_lock, run_command

import metalab
from metalab import ParamCase, choice, grid, loguniform, manual, random, uniform
from metalab.manifest import dumps

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from metalab import ParamSource

ARRAY_TIMEOUT: Final = (60.0, 3.0)
"""Seconds allowed for one ``sbatch --wait``: a base plus so many per task.

Each task starts Python and loads the sweep: 200 tasks took 390 s on 2 cores that other
work kept at a load average of 6 to 8, so the allowance leaves room even then.
"""
MAX_ARRAY_SIZE: Final = 1001
"""SLURM's default MaxArraySize: task indices must lie in [0, 1000]."""
CHUNK: Final = 3
"""Cases per task of the split sweep."""

JOB_SCRIPT: Final = """\
#!/bin/bash
#SBATCH --job-name=metalab-sweep
#SBATCH --time=5
# Usage: sbatch --array=SPEC job.sh SWEEP.json OUTDIR
# Task i writes case i to OUTDIR/i.json; the rename makes a file appear only when complete.
set -euo pipefail
out="$2/$SLURM_ARRAY_TASK_ID.json"
metalab case "$1" > "$out.partial"
mv "$out.partial" "$out"
"""
_OUTPUT_NAME: Final = re.compile(r"(0|[1-9][0-9]*)\.json")

CHUNK_SCRIPT: Final = """\
#!/bin/bash
#SBATCH --job-name=metalab-chunks
#SBATCH --time=5
# Usage: sbatch --array=SPEC chunks.sh SWEEP.json OUTDIR CHUNK OFFSET
# Each case of the task's chunk is written to OUTDIR/CASE_ID.json; the hard link makes a
# file appear only when complete, and fails if a case was already written (run twice).
set -euo pipefail
metalab case "$1" --chunk "$3" --offset "$4" | while IFS= read -r line; do
  id="$(printf '%s' "$line" | sed -n 's/.*"case_id": "\\([0-9a-f]*\\)".*/\\1/p')"
  [ -n "$id" ]
  tmp="$2/.$id.$SLURM_JOB_ID.partial"
  printf '%s\\n' "$line" > "$tmp"
  ln "$tmp" "$2/$id.json"
  rm "$tmp"
done
"""
_CASE_ID_NAME: Final = re.compile(r"[0-9a-f]{16}\.json")


def _sweep() -> ParamSource:
    """Grid and hand-picked settings, each crossed with the same 25 random draws."""
    settings = grid(optimizer=["adam", "sgd"], depth=[2, 4, 8]) + manual(
        [
            {"optimizer": "lbfgs", "depth": 3},
            {"optimizer": "adam", "depth": 16, "schedule": {"warmup": 100, "decay": [0.5, 0.1]}},
        ]
    )
    search = random(
        {"lr": loguniform(1e-5, 1e-1), "dropout": uniform(0.0, 0.5), "batch": choice([32, 64])},
        25,
        seed=2024,
    )
    return settings * search


@attrs.frozen
class JobArray:
    """A sweep's manifest and job script on disk, and the environment that submits it."""

    source: ParamSource
    sweep: Path
    job: Path
    logs: Path
    env: Mapping[str, str]

    def metalab(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the metalab command the jobs run, failing the test if it fails."""
        result = run_command(["metalab", *args], self.env, 120.0, "metalab")
        if result.returncode != 0:
            command_failed("metalab", result)
        return result

    def submit(self, array: str, outputs: Path) -> set[int]:
        """Run ``sbatch --wait --array=array`` writing to ``outputs``; the tasks that ran."""
        return self.submit_job(array, self.job, str(self.sweep), str(outputs))

    def submit_job(self, array: str, job: Path, *job_args: str) -> set[int]:
        """Run ``sbatch --wait --array=array job job_args...``; the tasks that ran."""
        args = [
            "sbatch",
            "--wait",
            "--parsable",
            f"--array={array}",
            f"--output={self.logs}/%A_%a.log",
            f"--chdir={self.logs}",
            str(job),
            *job_args,
        ]
        base, per_task = ARRAY_TIMEOUT
        timeout = base + per_task * len(_expand(array)[0])
        result = run_command(args, self.env, timeout, "the job array")
        if result.returncode != 0:
            logs = sorted(self.logs.glob("*.log"), key=lambda p: p.stat().st_mtime)[-3:]
            tails = "".join(f"\n--- {p.name}\n{p.read_text()[-2000:]}" for p in logs)
            pytest.fail(
                f"sbatch --wait failed (exit {result.returncode}): {result.stderr}{tails}",
                pytrace=False,
            )
        job_id = result.stdout.strip().split(";")[0]
        return {int(p.stem.split("_")[1]) for p in self.logs.glob(f"{job_id}_*.log")}


def _metalab_on_path(bin_dir: Path) -> str:
    """A PATH whose ``metalab`` runs this interpreter and this checkout's metalab."""
    installed = Path(sys.executable).with_name("metalab")
    if installed.is_file():
        return f"{installed.parent}{os.pathsep}{os.environ['PATH']}"
    bin_dir.mkdir()
    shim = bin_dir / "metalab"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m metalab "$@"\n')
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="class")
def job_array(cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> JobArray:
    """The composite sweep written as a manifest next to the job script."""
    source = _sweep()
    assert 200 <= source.size <= MAX_ARRAY_SIZE
    return _job_array(cluster, tmp_path_factory, source, JOB_SCRIPT)


def _job_array(
    cluster: Mapping[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    source: ParamSource,
    script: str,
) -> JobArray:
    root = tmp_path_factory.mktemp("slurm-sweep")
    sweep = root / "sweep.json"
    sweep.write_text(dumps(source))
    job = root / "job.sh"
    job.write_text(script)
    logs = root / "logs"
    logs.mkdir()
    package_root = str(Path(metalab.__file__).resolve().parents[1])
    env = {
        **cluster,
        "PATH": _metalab_on_path(root / "bin"),
        "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
    }
    return JobArray(source=source, sweep=sweep, job=job, logs=logs, env=env)


def _read_outputs(outputs: Path) -> dict[int, dict[str, Any]]:
    names = sorted(p.name for p in outputs.iterdir())
    strays = [name for name in names if not _OUTPUT_NAME.fullmatch(name)]
    assert not strays, f"unexpected files in {outputs}: {strays[:5]}"
    return {
        int(name.removesuffix(".json")): json.loads((outputs / name).read_text()) for name in names
    }


def _assert_is_sweep(outputs: Path, source: ParamSource) -> None:
    records = _read_outputs(outputs)
    cases = list(source)
    assert sorted(records) == list(range(len(cases)))
    for i, case in enumerate(cases):
        record = records[i]
        assert record["index"] == i
        assert record["case_id"] == case.case_id
        rebuilt = ParamCase(record["params"], tuple(record["tags"]))
        assert rebuilt == case
        assert rebuilt.case_id == case.case_id


def _expand(spec: str) -> tuple[list[int], list[str], str]:
    """Read an ``--array=`` value back: its indices, its comma-separated parts, its limit."""
    body, _, limit = spec.partition("%")
    parts = body.split(",")
    indices: list[int] = []
    for part in parts:
        first, _, last = part.partition("-")
        indices.extend(range(int(first), int(last or first) + 1))
    return indices, parts, limit


def _runs(indices: Sequence[int]) -> int:
    return sum(1 for k, i in enumerate(indices) if k == 0 or indices[k - 1] != i - 1)


def _lose_a_third(outputs: Path, size: int) -> list[int]:
    """Delete a pseudo-random third of the outputs (lone gaps and runs alike); their indices."""
    order = sorted(range(size), key=lambda i: hashlib.sha256(b"%d" % i).digest())
    lost = sorted(order[: size // 3])
    for i in lost:
        (outputs / f"{i}.json").unlink()
    return lost


def _write_done(done: Path, outputs: Path) -> None:
    """List the indices whose output exists, one per line, for ``metalab array --done``."""
    done.write_text("".join(f"{i}\n" for i in sorted(_read_outputs(outputs))))


@pytest.fixture(scope="module")
def cpus() -> int:
    """How many tasks the node runs at once, the natural ``%`` limit here."""
    return len(os.sched_getaffinity(0))


@pytest.fixture(scope="class")
def first_outputs(job_array: JobArray, tmp_path_factory: pytest.TempPathFactory, cpus: int) -> Path:
    """The whole sweep submitted once as one job array; its output directory."""
    spec = job_array.metalab("array", str(job_array.sweep), "--max-running", str(cpus))
    assert spec.stdout.strip() == f"0-{job_array.source.size - 1}%{cpus}"
    outputs = tmp_path_factory.mktemp("outputs")
    assert job_array.submit(spec.stdout.strip(), outputs) == set(range(job_array.source.size))
    return outputs


@pytest.mark.slurm
class TestJobArray:
    """A job array whose task i runs ``metalab case sweep.json`` yields the sweep."""

    def test_outputs_are_exactly_the_sweep(self, job_array: JobArray, first_outputs: Path) -> None:
        """Every index is written once, with the params, case_id and tags of list(source)."""
        _assert_is_sweep(first_outputs, job_array.source)

    def test_resubmitting_the_pending_cases_completes_the_sweep(
        self, job_array: JobArray, first_outputs: Path, tmp_path: Path, cpus: int
    ) -> None:
        """After losing a third of the outputs, metalab array resubmits exactly those."""
        outputs = tmp_path / "outputs"
        shutil.copytree(first_outputs, outputs)
        lost = _lose_a_third(outputs, job_array.source.size)
        done = tmp_path / "done.txt"
        _write_done(done, outputs)

        spec = job_array.metalab(
            "array", str(job_array.sweep), "--done", str(done), "--max-running", str(cpus)
        ).stdout.strip()
        indices, parts, limit = _expand(spec)
        assert indices == lost
        assert len(parts) == _runs(lost)
        assert limit == str(cpus)

        assert job_array.submit(spec, outputs) == set(lost)
        _assert_is_sweep(outputs, job_array.source)

    def test_nothing_is_pending_once_every_case_is_done(
        self, job_array: JobArray, first_outputs: Path, tmp_path: Path
    ) -> None:
        """With every index listed as done, metalab array prints no --array value."""
        done = tmp_path / "done.txt"
        _write_done(done, first_outputs)
        result = job_array.metalab("array", str(job_array.sweep), "--done", str(done))
        assert result.stdout == ""
        assert "done" in result.stderr


def _split_sweep() -> ParamSource:
    """500 cases: 20 settings, each crossed with the same 25 random draws."""
    settings = grid(optimizer=["adam", "sgd", "lbfgs", "rmsprop"], depth=[2, 3, 4, 8, 16])
    search = random({"lr": loguniform(1e-5, 1e-1), "dropout": uniform(0.0, 0.5)}, 25, seed=7)
    return settings * search


@pytest.fixture(scope="class")
def split_array(
    small_cluster: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> JobArray:
    """The 500-case sweep and the chunked job script, on the small-MaxArraySize cluster."""
    return _job_array(small_cluster, tmp_path_factory, _split_sweep(), CHUNK_SCRIPT)


def _submit_split(job_array: JobArray, sweep: Path, outputs: Path, cpus: int) -> list[str]:
    """Submit ``sweep`` as ``metalab array --split --chunk`` says; its ``SPEC OFFSET`` lines."""
    result = job_array.metalab(
        "array", str(sweep), "--chunk", str(CHUNK), "--split", "--max-running", str(cpus)
    )
    submissions = result.stdout.splitlines()
    for line in submissions:
        spec, offset = line.split()
        tasks = {i + int(offset) for i in _expand(spec)[0]}
        ran = job_array.submit_job(
            spec, job_array.job, str(sweep), str(outputs), str(CHUNK), offset
        )
        assert {i + int(offset) for i in ran} == tasks
    return submissions


def _read_by_id(outputs: Path) -> dict[str, dict[str, Any]]:
    names = sorted(p.name for p in outputs.iterdir())
    strays = [name for name in names if not _CASE_ID_NAME.fullmatch(name)]
    assert not strays, f"unexpected files in {outputs}: {strays[:5]}"
    return {name.removesuffix(".json"): json.loads((outputs / name).read_text()) for name in names}


def _assert_every_case_once(outputs: Path, source: ParamSource) -> None:
    records = _read_by_id(outputs)
    cases = {case.case_id: case for case in source}
    assert len(cases) == source.size
    assert sorted(records) == sorted(cases)
    for case_id, record in records.items():
        assert record["case_id"] == case_id
        assert ParamCase(record["params"], tuple(record["tags"])) == cases[case_id]


@pytest.mark.slurm
class TestSplitChunkedArray:
    """A 500-case sweep in chunks of 3 on a cluster whose MaxArraySize is 64."""

    def test_split_chunks_then_resume_through_pending(
        self, split_array: JobArray, tmp_path: Path, cpus: int
    ) -> None:
        """Every case runs exactly once through the split; after losing a third, once more."""
        source = split_array.source
        assert source.size == 500
        outputs = tmp_path / "outputs"
        outputs.mkdir()
        # 167 tasks, read MaxArraySize=64 from scontrol: three submissions with offsets.
        submissions = _submit_split(split_array, split_array.sweep, outputs, cpus)
        assert submissions == [f"0-63%{cpus} 0", f"0-63%{cpus} 64", f"0-38%{cpus} 128"]
        _assert_every_case_once(outputs, source)

        order = sorted(_read_by_id(outputs), key=lambda i: hashlib.sha256(i.encode()).digest())
        for case_id in order[: source.size // 3]:
            (outputs / f"{case_id}.json").unlink()
        done = tmp_path / "done-ids.txt"
        done.write_text("".join(f"{i}\n" for i in sorted(_read_by_id(outputs))))
        pending = tmp_path / "pending.json"
        split_array.metalab(
            "pending", str(split_array.sweep), "--done-ids", str(done), "-o", str(pending)
        )
        resumed = _submit_split(split_array, pending, outputs, cpus)
        assert resumed == [f"0-55%{cpus} 0"]  # 166 pending cases in 56 tasks
        _assert_every_case_once(outputs, source)


class TestHostLock:
    """Two runs on one machine take turns with the cluster instead of sharing it."""

    def test_a_second_holder_waits_then_gives_up_naming_the_first(self, tmp_path: Path) -> None:
        """While the lock is held, another taker fails after its wait, naming the holder."""
        lock = tmp_path / "slurm.lock"
        with host_lock(lock, 0.0):
            with (
                pytest.raises(pytest.fail.Exception, match=f"PID {os.getpid()}, checkout"),
                host_lock(lock, 0.0, poll=0.0),
            ):
                pass
            assert f"PID {os.getpid()}" in lock.read_text(encoding="utf-8")

    def test_released_on_exit_and_on_error(self, tmp_path: Path) -> None:
        """The lock is free again after its holder's block ends, normally or by an error."""
        lock = tmp_path / "slurm.lock"
        with pytest.raises(RuntimeError), host_lock(lock, 0.0):
            raise RuntimeError
        with host_lock(lock, 0.0):
            pass

    @pytest.mark.subprocess
    def test_another_process_cannot_take_it(self, tmp_path: Path) -> None:
        """A process that is not the holder finds the lock taken, and free once released."""
        lock = tmp_path / "slurm.lock"
        probe = (
            "import fcntl, os, sys\n"
            "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            "try:\n"
            "    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "except BlockingIOError:\n"
            "    print('taken')\n"
            "else:\n"
            "    print('free')\n"
        )

        def probe_lock() -> str:
            args = [sys.executable, "-c", probe, str(lock)]
            return subprocess.run(args, capture_output=True, text=True, check=True).stdout

        with host_lock(lock, 0.0):
            assert probe_lock() == "taken\n"
        assert probe_lock() == "free\n"

    def test_the_lock_is_one_per_machine(self) -> None:
        """Every checkout uses the same absolute lock path, outside its own tree."""
        assert LOCK.is_absolute()
        assert not LOCK.is_relative_to(SCRIPTS.parents[1])
