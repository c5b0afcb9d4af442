"""Sweeps at cluster scale: ``metalab pending``, ``--chunk``, task index variables, ``--split``."""

from __future__ import annotations

import contextlib
import io
import json
import os
from typing import TYPE_CHECKING, Any
from unittest import mock

import attrs
import pytest

from metalab import SelectSource, grid
from metalab.cli import main
from metalab.jobarray import chunk_ranges, split_ranges
from metalab.manifest import dumps, loads

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from metalab import ParamSource

ALL_TASK_VARIABLES = (
    "SLURM_ARRAY_TASK_ID",
    "PBS_ARRAY_INDEX",
    "PBS_ARRAYID",
    "SGE_TASK_ID",
    "LSB_JOBINDEX",
    "JOB_COMPLETION_INDEX",
    "AWS_BATCH_JOB_ARRAY_INDEX",
)


@attrs.frozen
class Result:
    """What one run of the command did."""

    code: int
    out: str
    err: str


def run(*args: object, env: Mapping[str, str] | None = None) -> Result:
    """Run ``metalab ARGS`` in this process, without the scheduler's task variables."""
    out, err = io.StringIO(), io.StringIO()
    environ = {k: v for k, v in os.environ.items() if k not in ALL_TASK_VARIABLES}
    environ.update(env or {})
    with (
        mock.patch.dict(os.environ, environ, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The run failed with ``code`` and said so in one line that contains ``fragments``."""
    assert result.code == code
    assert result.err.startswith("error: ")
    assert result.err.count("\n") == 1
    for fragment in fragments:
        assert fragment in result.err


def write_manifest(folder: Path, source: ParamSource, name: str = "sweep.json") -> Path:
    """Write the manifest of ``source`` and return its path."""
    path = folder / name
    path.write_text(dumps(source), encoding="utf-8")
    return path


SWEEP = grid(a=range(50), b=range(10))
"""500 cases."""


def lines(path: Path, values: list[Any]) -> Path:
    """Write one value per line to ``path``."""
    path.write_text("".join(f"{v}\n" for v in values), encoding="utf-8")
    return path


def records(text: str) -> list[dict[str, Any]]:
    """The JSON documents of ``text``, one per line."""
    return [json.loads(line) for line in text.splitlines()]


class TestPending:
    """metalab pending writes a select of the unfinished cases."""

    def test_done_indices(self, tmp_path: Path) -> None:
        """The manifest selects exactly the cases not listed, keeping their case_ids."""
        done = lines(tmp_path / "done.txt", list(range(0, 500, 3)))
        out = tmp_path / "pending.json"
        result = run("pending", write_manifest(tmp_path, SWEEP), "--done", done, "-o", out)
        assert result.code == 0
        chosen = loads(out.read_text(encoding="utf-8"))
        assert isinstance(chosen, SelectSource)
        expected = [i for i in range(500) if i % 3]
        assert [chosen.position(k) for k in range(chosen.size)] == expected
        assert [c.case_id for c in chosen] == [SWEEP[i].case_id for i in expected]
        assert "333 cases of 500 pending" in result.err
        assert "0-332" in result.err

    def test_done_ids(self, tmp_path: Path) -> None:
        """Finished case_ids name the finished cases as well."""
        done = lines(tmp_path / "ids.txt", [SWEEP[i].case_id for i in range(100, 500)])
        out = tmp_path / "pending.json"
        result = run("pending", write_manifest(tmp_path, SWEEP), "--done-ids", done, "-o", out)
        assert result.code == 0
        assert loads(out.read_text(encoding="utf-8")) == SWEEP.select(range(100))

    def test_a_pending_set_of_a_pending_set_stays_flat(self, tmp_path: Path) -> None:
        """Resuming twice selects from the first sweep directly."""
        first = tmp_path / "p1.json"
        done = lines(tmp_path / "done.txt", list(range(250)))
        run("pending", write_manifest(tmp_path, SWEEP), "--done", done, "-o", first)
        second = tmp_path / "p2.json"
        done2 = lines(tmp_path / "done2.txt", [0, 1])
        assert run("pending", first, "--done", done2, "-o", second).code == 0
        assert loads(second.read_text(encoding="utf-8")) == SWEEP.select(range(252, 500))

    def test_everything_done_selects_none(self, tmp_path: Path) -> None:
        """When nothing is pending, the manifest selects no case and a note says so."""
        done = lines(tmp_path / "done.txt", list(range(500)))
        out = tmp_path / "pending.json"
        result = run("pending", write_manifest(tmp_path, SWEEP), "--done", done, "-o", out)
        assert result.code == 0
        assert loads(out.read_text(encoding="utf-8")).size == 0
        assert "all 500 cases are done" in result.err

    def test_a_huge_sweep_is_never_listed(self, tmp_path: Path) -> None:
        """On 10**30 cases the manifest comes from the done indices alone."""
        huge = grid(a=range(10**29), b=range(10))
        done = lines(tmp_path / "done.txt", [0, 5, 10**30 - 1])
        out = tmp_path / "pending.json"
        with (
            mock.patch("metalab._cli.app.load_sweep", return_value=huge),
            mock.patch.object(type(huge), "__iter__", side_effect=AssertionError("listed")),
        ):
            result = run("pending", "patched", "--done", done, "-o", out)
        assert result.code == 0
        chosen = loads(out.read_text(encoding="utf-8"))
        assert isinstance(chosen, SelectSource)
        assert chosen.runs == (range(1, 5), range(6, 10**30 - 1))
        assert len(out.read_bytes()) < 400

    def test_needs_a_done_file(self, tmp_path: Path) -> None:
        """Without --done, --done-ids or --done-dir there is nothing to resume: a usage error."""
        result = run("pending", write_manifest(tmp_path, SWEEP), "-o", tmp_path / "p.json")
        assert_one_line_error(result, 2, "--done FILE, --done-ids FILE or --done-dir DIR")

    def test_not_both(self, tmp_path: Path) -> None:
        """--done and --done-ids together are a usage error."""
        a, b = lines(tmp_path / "a.txt", [1]), lines(tmp_path / "b.txt", [SWEEP[0].case_id])
        result = run(
            "pending", write_manifest(tmp_path, SWEEP), "--done", a, "--done-ids", b, "-o", "x"
        )
        assert_one_line_error(result, 2, "not both")

    def test_a_done_index_outside_the_sweep(self, tmp_path: Path) -> None:
        """A done index past the end is refused, and nothing is written."""
        done = lines(tmp_path / "done.txt", [500])
        out = tmp_path / "pending.json"
        result = run("pending", write_manifest(tmp_path, SWEEP), "--done", done, "-o", out)
        assert_one_line_error(result, 1, "outside this sweep of 500 cases")
        assert not out.exists()


class TestChunk:
    """--chunk K: task k runs cases k*K to k*K+K-1."""

    def test_case_prints_one_document_per_line(self, tmp_path: Path) -> None:
        """Task 2 of --chunk 3 prints cases 6, 7 and 8, one JSON document per line."""
        result = run("case", write_manifest(tmp_path, SWEEP), 2, "--chunk", 3)
        assert result.code == 0
        got = records(result.out)
        assert [r["index"] for r in got] == [6, 7, 8]
        assert [r["case_id"] for r in got] == [SWEEP[i].case_id for i in (6, 7, 8)]

    def test_the_last_task_holds_fewer(self, tmp_path: Path) -> None:
        """500 cases in chunks of 3: task 166 holds cases 498 and 499 only."""
        result = run("case", write_manifest(tmp_path, SWEEP), 166, "--chunk", 3)
        assert [r["index"] for r in records(result.out)] == [498, 499]

    def test_every_case_exactly_once(self, tmp_path: Path) -> None:
        """The tasks of --chunk 7 print every case once, in order."""
        sweep = grid(x=range(23))
        manifest = write_manifest(tmp_path, sweep)
        spec = run("array", manifest, "--chunk", 7).out.strip()
        assert spec == "0-3"
        seen = [
            r["index"]
            for t in range(4)
            for r in records(run("case", manifest, t, "--chunk", 7).out)
        ]
        assert seen == list(range(23))

    def test_task_out_of_range(self, tmp_path: Path) -> None:
        """A task past the last is an error naming how many tasks there are."""
        result = run("case", write_manifest(tmp_path, SWEEP), 167, "--chunk", 3)
        assert_one_line_error(result, 1, "task 167 is out of range", "167 tasks of --chunk 3")

    def test_offset_is_added_to_the_task(self, tmp_path: Path) -> None:
        """--offset maps a task of a later submission back to its cases."""
        manifest = write_manifest(tmp_path, SWEEP)
        result = run(
            "case", manifest, "--chunk", 3, "--offset", 64, env={"SLURM_ARRAY_TASK_ID": "1"}
        )
        assert [r["index"] for r in records(result.out)] == [195, 196, 197]
        plain = run("case", manifest, "--offset", 10, env={"SLURM_ARRAY_TASK_ID": "1"})
        assert json.loads(plain.out)["index"] == 11

    def test_array_counts_tasks(self, tmp_path: Path) -> None:
        """Metalab array --chunk 3 of 500 cases is tasks 0-166."""
        result = run("array", write_manifest(tmp_path, SWEEP), "--chunk", 3)
        assert (result.code, result.out) == (0, "0-166\n")

    def test_array_with_done_lists_tasks_holding_pending_cases(self, tmp_path: Path) -> None:
        """Only tasks with a pending case are listed; a note counts the finished ones rerun."""
        done = lines(tmp_path / "done.txt", [*range(9), 10])
        result = run("array", write_manifest(tmp_path, SWEEP), "--chunk", 3, "--done", done)
        assert result.out == "3-166\n"
        assert "also hold 1 finished case," in result.err

    def test_chunk_ranges(self) -> None:
        """Case runs become the runs of tasks holding them, merged where they touch."""
        assert chunk_ranges([range(3), range(7, 8), range(20, 22)], 4) == [
            range(2),
            range(5, 6),
        ]
        assert chunk_ranges([range(10**30, 10**30 + 1)], 10) == [range(10**29, 10**29 + 1)]


def case_with(tmp_path: Path, env: dict[str, str]) -> Result:
    """Run metalab case without INDEX under ``env`` (no other task variable set)."""
    return run("case", write_manifest(tmp_path, SWEEP), env=env)


class TestTaskIndex:
    """metalab case reads the task index of every scheduler."""

    @pytest.mark.parametrize(
        ("name", "value", "index"),
        [
            ("SLURM_ARRAY_TASK_ID", "7", 7),
            ("PBS_ARRAY_INDEX", "7", 7),
            ("PBS_ARRAYID", "7", 7),
            ("SGE_TASK_ID", "8", 7),
            ("LSB_JOBINDEX", "8", 7),
            ("JOB_COMPLETION_INDEX", "7", 7),
            ("AWS_BATCH_JOB_ARRAY_INDEX", "7", 7),
        ],
    )
    def test_each_variable(self, tmp_path: Path, name: str, value: str, index: int) -> None:
        """Each scheduler's variable gives the index, the 1-based ones converted."""
        result = case_with(tmp_path, {name: value})
        assert result.code == 0
        assert json.loads(result.out)["index"] == index

    def test_agreeing_variables(self, tmp_path: Path) -> None:
        """Two variables that name the same task are fine."""
        result = case_with(tmp_path, {"SLURM_ARRAY_TASK_ID": "3", "SGE_TASK_ID": "4"})
        assert json.loads(result.out)["index"] == 3

    def test_disagreeing_variables(self, tmp_path: Path) -> None:
        """Two variables naming different tasks are a one-line error naming both."""
        result = case_with(tmp_path, {"PBS_ARRAYID": "3", "JOB_COMPLETION_INDEX": "5"})
        assert_one_line_error(result, 2, "disagree", "PBS_ARRAYID=3", "JOB_COMPLETION_INDEX=5")

    def test_none_set_names_them_all(self, tmp_path: Path) -> None:
        """Without any, the error names every variable read."""
        result = case_with(tmp_path, {})
        assert_one_line_error(result, 2, *ALL_TASK_VARIABLES)

    def test_values_of_jobs_that_are_no_arrays(self, tmp_path: Path) -> None:
        """SGE's 'undefined' and LSF's 0 outside arrays count as unset."""
        result = case_with(tmp_path, {"SGE_TASK_ID": "undefined", "LSB_JOBINDEX": "0"})
        assert_one_line_error(result, 2, "no INDEX given")
        result = case_with(
            tmp_path, {"SGE_TASK_ID": "undefined", "LSB_JOBINDEX": "0", "PBS_ARRAYID": "2"}
        )
        assert json.loads(result.out)["index"] == 2

    def test_a_one_based_zero_is_refused(self, tmp_path: Path) -> None:
        """SGE_TASK_ID=0 is no task: the error says it counts from 1."""
        result = case_with(tmp_path, {"SGE_TASK_ID": "0"})
        assert_one_line_error(result, 2, "SGE_TASK_ID", "counts from 1")

    def test_a_bad_value_names_its_variable(self, tmp_path: Path) -> None:
        """A value that is no index is a usage error naming the variable."""
        result = case_with(tmp_path, {"AWS_BATCH_JOB_ARRAY_INDEX": "x"})
        assert_one_line_error(result, 2, "AWS_BATCH_JOB_ARRAY_INDEX: ")


class TestSplit:
    """--split: submissions within MaxArraySize, each with its offset."""

    def test_split_lines(self, tmp_path: Path) -> None:
        """167 tasks under a MaxArraySize of 64 are three submissions, SPEC OFFSET each."""
        manifest = write_manifest(tmp_path, SWEEP)
        result = run("array", manifest, "--chunk", 3, "--split", "--max-array-size", 64)
        assert result.out == "0-63 0\n0-63 64\n0-38 128\n"
        assert "3 submissions" in result.err
        assert "--chunk 3 --offset OFFSET" in result.err

    def test_the_split_runs_every_case_once(self, tmp_path: Path) -> None:
        """Running each submission's tasks with its offset gives every case exactly once."""
        manifest = write_manifest(tmp_path, SWEEP)
        out = run("array", manifest, "--chunk", 3, "--split", "--max-array-size", 64).out
        seen: list[int] = []
        for line in out.splitlines():
            spec, offset = line.split()
            first, last = (int(x) for x in spec.split("-"))
            for task in range(first, last + 1):
                args = ("case", manifest, task, "--chunk", 3, "--offset", offset)
                seen.extend(r["index"] for r in records(run(*args).out))
        assert seen == list(range(500))

    def test_limit_from_scontrol(self, tmp_path: Path) -> None:
        """Without --max-array-size the cluster's limit is used."""
        manifest = write_manifest(tmp_path, grid(x=range(250)))
        with mock.patch("metalab._cli.app.max_array_size", return_value=100):
            result = run("array", manifest, "--split", "--max-running", 5)
        assert result.out == "0-99%5 0\n0-99%5 100\n0-49%5 200\n"

    def test_within_the_limit_is_one_submission(self, tmp_path: Path) -> None:
        """A small array is one line of offset 0."""
        result = run("array", write_manifest(tmp_path, SWEEP), "--split", "--max-array-size", 500)
        assert result.out == "0-499 0\n"

    def test_a_pending_scatter_starts_each_submission_at_a_pending_task(self) -> None:
        """Scattered pending tasks need as few submissions as they must."""
        assert split_ranges([range(3, 5), range(10**6, 10**6 + 3)], 100) == [
            (3, [range(2)]),
            (10**6, [range(3)]),
        ]
        assert split_ranges([range(5), range(98, 103)], 100) == [
            (0, [range(5), range(98, 100)]),
            (100, [range(3)]),
        ]

    def test_too_many_submissions(self) -> None:
        """A split into more than 10,000 submissions asks for a larger --chunk."""
        huge = grid(x=range(10**12))
        with mock.patch("metalab._cli.app.load_sweep", return_value=huge):
            result = run("array", "patched", "--split", "--max-array-size", 1001)
        assert_one_line_error(result, 1, "more than 10,000 submissions", "larger --chunk")

    def test_without_split_the_warning_points_to_it(self, tmp_path: Path) -> None:
        """Beyond the limit, the one-line warning names --split."""
        result = run("array", write_manifest(tmp_path, SWEEP), "--max-array-size", 64)
        assert result.out == "0-499\n"
        assert "pass --split" in result.err
