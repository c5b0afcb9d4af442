"""``metalab array --done-dir``: resuming from a results directory as metalab.run leaves it."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import io
from typing import TYPE_CHECKING

import attrs
import pytest

import metalab
import metalab.manifest
from metalab import ParamCase, grid
from metalab.cli import main
from metalab.manifest import dumps

if TYPE_CHECKING:
    from pathlib import Path

    from metalab._sources.base import ParamSource


@attrs.frozen
class Result:
    """What one run of the command did."""

    code: int
    out: str
    err: str


def run(*args: object) -> Result:
    """Run ``metalab ARGS`` in this process, capturing its output and exit status."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return Result(code, out.getvalue(), err.getvalue())


def one_line_error(result: Result, code: int) -> str:
    """The one error line of a failed run, after checking its exit status."""
    assert result.code == code
    assert result.err.startswith("error: ")
    assert result.err.count("\n") == 1
    return result.err


def manifest(folder: Path, source: ParamSource) -> Path:
    """Write the manifest of ``source`` and return its path."""
    path = folder / "sweep.json"
    path.write_text(dumps(source), encoding="utf-8")
    return path


def fails_on_three(case: ParamCase) -> int:
    """Raise for x == 3, return x otherwise."""
    x = case.params["x"]
    assert isinstance(x, int)
    if x == 3:
        msg = "diverged"
        raise ValueError(msg)
    return x


def run_into(store: Path, sweep: ParamSource) -> None:
    """Run ``sweep`` into ``store`` on a thread pool."""
    with cf.ThreadPoolExecutor(max_workers=2) as pool:
        metalab.run(fails_on_three, sweep, store=store, executor=pool)


class TestDoneDir:
    """--done-dir takes the done cases of a results directory as finished."""

    def test_missing_and_failed_cases_are_pending(self, tmp_path: Path) -> None:
        """Cases never run and cases that failed are listed; done ones are not."""
        sweep = grid(x=range(12))
        run_into(tmp_path / "out", sweep[:8])
        result = run("array", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out")
        assert (result.code, result.out) == (0, "3,8-11\n")

    def test_pending_writes_the_missing_and_failed_cases(self, tmp_path: Path) -> None:
        """`metalab pending --done-dir` selects what is left, keeping each case's case_id."""
        sweep = grid(x=range(12))
        run_into(tmp_path / "out", sweep[:8])
        out = tmp_path / "pending.json"
        result = run(
            "pending", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out", "-o", out
        )
        assert result.code == 0, result.err
        left = metalab.manifest.loads(out.read_text(encoding="utf-8"))
        assert [c.params["x"] for c in left] == [3, 8, 9, 10, 11]
        assert [c.case_id for c in left] == [sweep[i].case_id for i in (3, 8, 9, 10, 11)]
        resumed = run("array", out)
        assert (resumed.code, resumed.out) == (0, "0-4\n")

    def test_all_done(self, tmp_path: Path) -> None:
        """A complete directory leaves nothing to submit: a note on stderr, exit 0."""
        sweep = grid(x=[0, 1, 2, 4])
        run_into(tmp_path / "out", sweep)
        result = run("array", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out")
        assert (result.code, result.out) == (0, "")
        assert "all 4 cases are done" in result.err

    def test_an_empty_directory_costs_no_pass_over_the_sweep(self, tmp_path: Path) -> None:
        """No done case means no id to match: a sweep of 10**30 cases is answered at once."""
        (tmp_path / "out").mkdir()
        sweep = grid(x=range(10**30))
        result = run("array", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out")
        assert result.out == f"0-{10**30 - 1}\n"

    def test_a_huge_sweep_with_done_cases_is_refused_as_for_done_ids(self, tmp_path: Path) -> None:
        """Matching done ids against more than MAX_ID_SCAN cases is refused, as --done-ids is."""
        sweep = grid(x=range(10**12))
        run_into(tmp_path / "out", sweep[:2])
        err = one_line_error(
            run("array", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out"), 1
        )
        assert "takes a pass over the sweep" in err

    def test_a_directory_of_another_sweep(self, tmp_path: Path) -> None:
        """Results of no case of the sweep are left alone and counted on standard error."""
        run_into(tmp_path / "out", grid(x=range(100, 103)))
        result = run("array", manifest(tmp_path, grid(x=range(5))), "--done-dir", tmp_path / "out")
        assert result.code == 0
        assert result.out == "0-4\n"
        assert "3 done results in" in result.err
        assert "are of no case of this sweep, and left alone" in result.err

    def test_shards_sharing_one_directory(self, tmp_path: Path) -> None:
        """Each shard's pending cases, with the other shard's results in the directory."""
        sweep = grid(x=range(10))
        run_into(tmp_path / "out", sweep.shard(0, 2))
        run_into(tmp_path / "out", sweep.shard(1, 2)[:2])
        second = manifest(tmp_path, sweep.shard(1, 2))
        result = run("pending", second, "--done-dir", tmp_path / "out", "-o", tmp_path / "p.json")
        assert result.code == 0
        assert "4 done results in" in result.err  # x = 3 failed: it is no done result
        pending = metalab.manifest.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
        assert [case.params["x"] for case in pending] == [7, 8, 9]
        whole = run("array", manifest(tmp_path, sweep), "--done-dir", tmp_path / "out")
        assert (whole.out, "of no case" in whole.err) == ("3,7-9\n", False)

    def test_a_foreign_file(self, tmp_path: Path) -> None:
        """A file that is no result document is one error line naming it."""
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "slurm-123.out").write_text("log", encoding="utf-8")
        err = one_line_error(
            run("array", manifest(tmp_path, grid(x=range(3))), "--done-dir", tmp_path / "out"), 1
        )
        assert "'slurm-123.out', which is no result file" in err

    def test_a_missing_directory(self, tmp_path: Path) -> None:
        """A directory that does not exist is one error line naming it."""
        err = one_line_error(
            run("array", manifest(tmp_path, grid(x=range(3))), "--done-dir", tmp_path / "nope"), 1
        )
        assert "no results directory at" in err
        assert "nope" in err

    @pytest.mark.parametrize(
        ("options", "fragment"),
        [
            (["--done", "f", "--done-dir", "d"], "give --done or --done-dir, not both"),
            (["--done-ids", "f", "--done-dir", "d"], "give --done-ids or --done-dir, not both"),
            (["--done", "f", "--done-ids", "f", "--done-dir", "d"], "not all three"),
        ],
    )
    def test_one_kind_of_done_list(self, tmp_path: Path, options: list[str], fragment: str) -> None:
        """--done, --done-ids and --done-dir exclude each other: a usage error."""
        err = one_line_error(run("array", manifest(tmp_path, grid(x=range(3))), *options), 2)
        assert fragment in err
