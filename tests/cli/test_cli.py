"""The ``metalab`` command: every subcommand, every error path, and its import cost."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import metalab
from metalab import Distribution, choice, grid, loguniform, manual, random, uniform
from metalab.cli import main
from metalab.manifest import dumps, loads
from metalab.testing import grids, random_sources, sources

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from metalab._sources.base import ParamSource

ROOT = Path(metalab.__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.py"
CLI_EXAMPLES = 40
"""Examples for properties run through the whole command (the library's laws get more)."""


@attrs.frozen
class Result:
    """What one run of the command did."""

    code: int
    out: str
    err: str


def run(*args: object, env: Mapping[str, str] | None = None) -> Result:
    """Run ``metalab ARGS`` in this process, capturing its output and exit status."""
    out, err = io.StringIO(), io.StringIO()
    environ = {k: v for k, v in os.environ.items() if k != "SLURM_ARRAY_TASK_ID"}
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
    assert result.err.endswith("\n")
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in result.err


def write_sweeps(folder: Path, body: str, name: str = "sweeps.py") -> Path:
    """Write a Python file of sweep definitions and return its path."""
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def run_process(command: str, *args: object) -> subprocess.CompletedProcess[str]:
    """Run the shell ``command`` with ``$METALAB`` the command and ``$1``... ``args``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "METALAB": f"{sys.executable} -m metalab"}
    env.pop("SLURM_ARRAY_TASK_ID", None)
    return subprocess.run(
        ["/bin/sh", "-c", command, "sh", *(str(a) for a in args)],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


USER_SOURCE = """
    import numpy as np
    from metalab._sources.base import ParamSource


    class Mine(ParamSource):
        __slots__ = ()
        manifest_type = "mine"

        @property
        def size(self):
            return 3

        @property
        def keys(self):
            return ("x",)

        def raw(self, i):
            return np.zeros(1)[i + 5]


    class Holder:
        @property
        def small(self):
            raise RuntimeError("no small sweep today")


    sweep = Mine()
    sweeps = Holder()
"""
"""A sweep file whose own code fails after it has loaded: a source, a property."""


def line_of(body: str, text: str) -> int:
    """The number of the line of ``body``, as `write_sweeps` writes it, that holds ``text``."""
    lines = textwrap.dedent(body).splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


USER_SOURCE_RAW_LINE = line_of(USER_SOURCE, "np.zeros(1)")
USER_SOURCE_PROPERTY_LINE = line_of(USER_SOURCE, "raise RuntimeError")


def write_manifest(folder: Path, source: ParamSource, name: str = "sweep.json") -> Path:
    """Write the manifest of ``source`` and return its path."""
    path = folder / name
    path.write_text(dumps(source), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _restore_imports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Undo what loading sweep files does to sys.path and sys.modules."""
    path, modules = list(sys.path), set(sys.modules)
    base = str(tmp_path_factory.getbasetemp())
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(base):
            del sys.modules[name]


COMPOSITE = """
    from metalab import Distribution, choice, grid, loguniform, manual, random, uniform

    base = grid(model=["mlp", "cnn"], lr=[0.001, 0.01]) + manual(
        [{"model": "linear", "lr": 0.1}], tags=["baseline"]
    )
    space = {
        "dropout": uniform(0.0, 0.5),
        "wd": loguniform(1e-6, 1e-2),
        "opt": choice(["adam", "sgd"]),
    }
    sweep = base * random(space, n_trials=4, seed=7)
    not_a_sweep = {"lr": 0.1}
"""


def composite(tmp_path: Path) -> tuple[str, ParamSource]:
    """The SWEEP argument of a composite sweep defined in a file, and the sweep itself."""
    path = write_sweeps(tmp_path, COMPOSITE)
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
    return f"{path}:sweep", namespace["sweep"]


def expected_record(source: ParamSource, i: int) -> dict[str, Any]:
    """The JSON record of case ``i``, built from the library, not the command."""
    case = source[i]
    record = {"index": i, "case_id": case.case_id, "params": case.params, "tags": list(case.tags)}
    parsed: dict[str, Any] = json.loads(json.dumps(record))
    return parsed


class TestImportCost:
    """Importing metalab stays light."""

    @pytest.mark.subprocess
    def test_import_metalab_loads_no_cli_or_optional_dependency(self) -> None:
        """`import metalab` (even `metalab.cli`) loads no click, rich, pandas or matplotlib."""
        code = (
            "import sys, metalab, metalab.cli, metalab.jobarray\n"
            "heavy = {'click', 'rich', 'pandas', 'matplotlib', 'typer', 'pydantic'}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout
        assert out.strip() == "[]"

    @pytest.mark.subprocess
    def test_metalab_case_loads_only_click(self) -> None:
        """`metalab case`, run once per job of an array, loads no rich, pandas or pydantic."""
        code = (
            "import contextlib, io, sys\n"
            "from metalab.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['case', {str(QUICKSTART)!r} + ':sweep', '3']) == 0\n"
            "heavy = {'rich', 'pandas', 'matplotlib', 'typer', 'pydantic', 'scipy'}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & (heavy | {'click'})))\n"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        ).stdout
        assert out.strip() == "['click']"


class TestEntryPoint:
    """The command as a process: entry point, help and version."""

    @pytest.mark.subprocess
    def test_python_m_metalab_runs_the_command(self) -> None:
        """`python -m metalab count` prints the size of the bundled example, and nothing else."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "metalab", "count", f"{QUICKSTART}:sweep"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "21\n", "")

    @pytest.mark.subprocess
    def test_an_error_in_a_real_process_is_one_line_without_traceback(self) -> None:
        """A failing command in a fresh interpreter prints one `error:` line and exits 1."""
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "metalab", "show", "no-such-file.json"],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.startswith("error: no such file: no-such-file.json")
        assert done.stderr.count("\n") == 1

    def test_help_lists_every_command(self) -> None:
        """`metalab --help` exits 0 and names every subcommand."""
        result = run("--help")
        assert result.code == 0
        for command in ("show", "count", "case", "list", "manifest", "array", "plot"):
            assert command in result.out

    def test_no_arguments_print_the_help(self) -> None:
        """`metalab` alone shows the help, with the usage exit status and no error line."""
        result = run()
        assert result.code == 2
        assert "Usage" in result.out
        assert "error:" not in result.err

    def test_version(self) -> None:
        """`metalab --version` prints one line naming metalab."""
        result = run("--version")
        assert result.code == 0
        assert result.out.startswith("metalab ")
        assert result.out.count("\n") == 1

    def test_version_is_the_packages_without_metadata(self) -> None:
        """`--version` prints metalab.__version__ even in a checkout that was never installed."""
        missing = importlib.metadata.PackageNotFoundError("metalab")
        with mock.patch("importlib.metadata.version", side_effect=missing):
            result = run("--version")
        assert result.code == 0
        assert result.out == f"metalab {metalab.__version__}\n"


class TestSweepArgument:
    """SWEEP: manifest files, Python files and modules, and what goes wrong with them."""

    def test_a_python_file_and_name(self, tmp_path: Path) -> None:
        """`path/to/file.py:NAME` runs the file and takes the sweep NAME from it."""
        spec, source = composite(tmp_path)
        assert run("count", spec).out == f"{source.size}\n"

    def test_a_dotted_name_inside_the_file(self, tmp_path: Path) -> None:
        """NAME may reach into an object: `file.py:sweeps.small`."""
        path = write_sweeps(
            tmp_path,
            """
            from types import SimpleNamespace
            from metalab import grid
            sweeps = SimpleNamespace(small=grid(x=[1, 2, 3]))
            """,
        )
        assert run("count", f"{path}:sweeps.small").out == "3\n"

    def test_a_module_and_name(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """`package.module:NAME` imports the module, from the working directory too."""
        package = tmp_path / "mysweeps_pkg"
        package.mkdir()
        (package / "__init__.py").write_text("", encoding="utf-8")
        write_sweeps(package, "from metalab import grid\nsmall = grid(x=range(7))\n", "defs.py")
        monkeypatch.chdir(tmp_path)
        assert run("count", "mysweeps_pkg.defs:small").out == "7\n"

    def test_the_file_can_import_its_neighbours(self, tmp_path: Path) -> None:
        """A sweep file imports modules beside it, as `python file.py` would let it."""
        write_sweeps(
            tmp_path, "from metalab import grid\nBASE = grid(a=[1, 2])\n", "shared_base.py"
        )
        path = write_sweeps(tmp_path, "from shared_base import BASE\nsweep = BASE + BASE\n")
        assert run("count", f"{path}:sweep").out == "4\n"

    def test_the_main_block_of_a_sweep_file_does_not_run(self, tmp_path: Path) -> None:
        """Loading a sweep file never runs its `if __name__ == "__main__":` block."""
        marker = tmp_path / "ran"
        path = write_sweeps(
            tmp_path,
            f"""
            from pathlib import Path
            from metalab import grid
            sweep = grid(x=[1])
            if __name__ == "__main__":
                Path({str(marker)!r}).write_text("ran")
            """,
        )
        assert run("count", f"{path}:sweep").code == 0
        assert not marker.exists()

    def test_a_manifest_file(self, tmp_path: Path) -> None:
        """A manifest is read as data and gives the same sweep."""
        source = grid(lr=[0.1, 0.01], depth=range(3))
        assert run("count", write_manifest(tmp_path, source)).out == "6\n"

    @pytest.mark.parametrize(
        ("body", "name", "fragments"),
        [
            ("sweep = undefined_name\n", "sweep", ["NameError", "undefined_name", "line 1"]),
            ("def broken(:\n", "sweep", ["SyntaxError", "line 1"]),
            ("import sys\nsys.exit(3)\n", "sweep", ["SystemExit"]),
            ("from metalab import grid\nsweep = grid(x=[1])\n", "sweeep", ["sweeep", "sweep"]),
            ("answer = 42\n", "answer", ["is an int", "not a sweep", "defines no sweep"]),
            ("answer = [42]\n", "answer", ["is a list", "not a sweep"]),
        ],
    )
    def test_problems_in_a_sweep_file(
        self, tmp_path: Path, body: str, name: str, fragments: list[str]
    ) -> None:
        """Errors in or about the user's file are one line saying what and where; exit 1."""
        path = write_sweeps(tmp_path, body)
        assert_one_line_error(run("count", f"{path}:{name}"), 1, *fragments)

    def test_a_metalab_error_in_the_file_is_printed_as_is(self, tmp_path: Path) -> None:
        """A bad sweep definition in the file reports metalab's own message."""
        path = write_sweeps(tmp_path, "from metalab import grid\nsweep = grid(x='abc')\n")
        result = run("show", f"{path}:sweep")
        assert_one_line_error(result, 1, "grid values for 'x' must be a non-empty sequence")

    def test_a_metalab_error_in_the_file_names_the_users_line(self, tmp_path: Path) -> None:
        """The message of a bad definition points at the user's file and line."""
        body = "from metalab import grid\n\nsweep = grid(x='abc')\n"
        path = write_sweeps(tmp_path, body)
        result = run("count", f"{path}:sweep")
        assert_one_line_error(result, 1, "grid values for 'x'", f"({path}, line 3)")

    def test_a_metalab_error_in_a_neighbour_names_its_line(self, tmp_path: Path) -> None:
        """A bad definition in a module the file imports is located in that module."""
        write_sweeps(tmp_path, "from metalab import grid\nsweep = grid(x=[])\n", "near.py")
        path = write_sweeps(tmp_path, "import near\nsweep = near.sweep\n")
        result = run("count", f"{path}:sweep")
        assert_one_line_error(result, 1, "grid values for 'x'", f"({tmp_path / 'near.py'}, line 2)")

    def test_a_syntax_error_gives_its_location_once(self, tmp_path: Path) -> None:
        """A SyntaxError names the file and line once, not also in its own words."""
        path = write_sweeps(tmp_path, "x = 1\ndef broken(:\n")
        result = run("count", f"{path}:sweep")
        assert_one_line_error(result, 1, "SyntaxError: invalid syntax", f"({path}, line 2)")
        assert result.err.count("line 2") == 1

    def test_a_property_on_the_dotted_path_that_raises(self, tmp_path: Path) -> None:
        """A property of the user's object that raises is their error, with its line."""
        path = write_sweeps(tmp_path, USER_SOURCE)
        result = run("count", f"{path}:sweeps.small")
        assert_one_line_error(
            result,
            1,
            "RuntimeError: no small sweep today",
            f"({path}, line {USER_SOURCE_PROPERTY_LINE})",
        )
        assert "unexpected" not in result.err

    def test_a_manifest_takes_no_name(self, tmp_path: Path) -> None:
        """`sweep.json:sweep` says that a manifest takes no :NAME, not "no module named"."""
        path = write_manifest(tmp_path, grid(x=[1, 2]))
        result = run("count", f"{path}:sweep")
        assert_one_line_error(result, 2, f"{path} is a manifest", "without ':sweep'")
        assert "no module" not in result.err

    def test_a_missing_manifest_with_a_name(self) -> None:
        """`missing.json:sweep` says there is no such file and that a manifest takes no :NAME."""
        result = run("count", "missing.json:sweep")
        assert_one_line_error(result, 1, "no such file: missing.json", "takes no :NAME")

    def test_prints_in_the_sweep_file_go_to_standard_error(self, tmp_path: Path) -> None:
        """The file's print() output goes to standard error, so the JSON on stdout is intact."""
        body = "from metalab import grid\nprint('loading')\nsweep = grid(x=[1, 2])\n"
        path = write_sweeps(tmp_path, body)
        manifest = run("manifest", f"{path}:sweep")
        assert (manifest.code, manifest.out, manifest.err) == (
            0,
            dumps(grid(x=[1, 2])) + "\n",
            "loading\n",
        )
        case = run("case", f"{path}:sweep", 1)
        assert json.loads(case.out)["params"] == {"x": 2}
        assert case.err == "loading\n"

    def test_the_missing_attribute_error_names_the_sweeps_defined(self, tmp_path: Path) -> None:
        """A misspelt NAME gets a list of the sweeps the file does define."""
        spec, _ = composite(tmp_path)
        result = run("count", spec.replace(":sweep", ":swep"))
        assert_one_line_error(result, 1, "no attribute 'swep'", "base, sweep")

    @pytest.mark.parametrize(
        ("argument", "code", "fragment"),
        [
            ("no-such.json", 1, "no such file: no-such.json"),
            ("no_such_module_xyz:sweep", 1, "no module named 'no_such_module_xyz'"),
            ("missing/file.py:sweep", 1, "no such file"),
            ("examples/quickstart.py", 2, "name the sweep defined in it"),
            ("pkg.mod:", 2, "is not a manifest JSON file"),
            ("pkg.mod:not-an-identifier", 2, "is not a manifest JSON file"),
            ("", 2, "SWEEP is empty"),
        ],
    )
    def test_bad_sweep_arguments(self, argument: str, code: int, fragment: str) -> None:
        """A SWEEP that names nothing loadable is one clear line: 2 if malformed, 1 if absent."""
        assert_one_line_error(run("count", argument), code, fragment)

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("{not json", "not valid JSON"),
            ('{"type": "GridSource", "spec": {"x": []}}', "spec.x"),
            ('{"type": "NoSuchSource"}', "NoSuchSource"),
        ],
    )
    def test_bad_manifests(self, tmp_path: Path, text: str, fragment: str) -> None:
        """A malformed manifest reports the file and the JSON path of the problem; exit 1."""
        path = tmp_path / "bad.json"
        path.write_text(text, encoding="utf-8")
        assert_one_line_error(run("show", path), 1, f"{path}: ", fragment)

    def test_an_unreadable_manifest(self, tmp_path: Path) -> None:
        """A directory given as a manifest is reported, not raised."""
        assert_one_line_error(run("count", tmp_path), 1, f"cannot read {tmp_path}")


class TestShow:
    """`metalab show`: the composition tree and the first cases."""

    def test_the_tree_gives_kind_size_params_and_distributions(self, tmp_path: Path) -> None:
        """Every node of the composition appears with its kind, size and parameters."""
        spec, source = composite(tmp_path)
        out = run("show", spec).out
        for fragment in (
            f"product (*)  {source.size} cases",
            "concat (+)  5 cases",
            "grid  4 cases",
            "lr: [0.001, 0.01]",
            "model: ['mlp', 'cnn']",
            "manual  1 case  tags ['baseline']",
            "random  4 cases  seed 7",
            "dropout ~ uniform(0.0, 0.5)",
            "wd ~ loguniform(1e-06, 0.01)",
            "opt ~ choice(['adam', 'sgd'])",
        ):
            assert fragment in out

    def test_the_table_lists_the_first_cases(self, tmp_path: Path) -> None:
        """The table shows the first --limit cases with their case_ids, and says of how many."""
        spec, source = composite(tmp_path)
        out = run("show", spec, "--limit", 3).out
        assert f"first 3 of {source.size} cases" in out
        for i in range(3):
            assert source[i].case_id in out
        assert source[3].case_id not in out

    def test_a_small_sweep_is_listed_whole(self) -> None:
        """When the limit covers the sweep, the table says it holds all cases."""
        out = run("show", f"{QUICKSTART}:sweep", "--limit", 100).out
        assert "all 21 cases" in out

    def test_limit_zero_shows_only_the_tree(self, tmp_path: Path) -> None:
        """--limit 0 draws the tree and no table."""
        spec, source = composite(tmp_path)
        out = run("show", spec, "-n", 0).out
        assert "grid" in out
        assert source[0].case_id not in out

    def test_algebra_nodes(self) -> None:
        """Slices, shuffles, zips and replicates show their own details."""
        from metalab._algebra import replicates
        from metalab._algebra import zip as zip_

        sweep = (zip_(a=[1, 2], b=["x", "y"]) * replicates(3, seed=5)).shuffled(9)[1:5]
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            out = run("show", "patched").out
        for fragment in (
            "slice  4 cases  [1:5:1]",
            "shuffled  6 cases  seed 9",
            "zip  2 cases",
            "a: [1, 2]",
            "replicates  3 cases  seed 5",
            "seed: 3 distinct seeds",
        ):
            assert fragment in out

    def test_an_unknown_kind_of_node_is_shown_from_its_fields(self, tmp_path: Path) -> None:
        """A source class metalab does not know still shows its kind, size, keys and children."""
        path = write_sweeps(
            tmp_path,
            """
            import attrs
            from metalab import grid
            from metalab._sources.base import ParamSource

            @attrs.frozen
            class Repeat(ParamSource):
                inner: ParamSource
                times: int

                @property
                def size(self):
                    return self.inner.size * self.times

                @property
                def keys(self):
                    return self.inner.keys

                def raw(self, i):
                    return self.inner.raw(i % self.inner.size)

            sweep = Repeat(grid(x=[1, 2]), 3)
            """,
        )
        out = run("show", f"{path}:sweep").out
        assert "Repeat  6 cases  times 3  params: x" in out
        assert "grid  2 cases" in out

    def test_many_parts_are_cut_short(self) -> None:
        """A node with very many parts shows the first ones and a count of the rest."""
        sweep: ParamSource = grid(x=[0])
        for i in range(1, 30):
            sweep = sweep + grid(x=[i])
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            out = run("show", "patched", "-n", 0).out
        assert "... and 10 more" in out


TWELVE = random({f"param_{i:02d}": uniform(0, 0.01) for i in range(12)}, 4, seed=3)
"""A sweep with more columns than fit side by side at 80 characters."""


def render(table: object, width: int) -> str:
    """What a rich renderable prints on a console ``width`` characters wide."""
    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(table)
    return console.export_text()


class TestTables:
    """Case tables never break a value, fold columns that do not fit, and keep ids whole."""

    @pytest.mark.parametrize("width", [40, 80, 200])
    def test_no_value_is_split_and_no_line_is_too_wide(self, width: int) -> None:
        """At 40, 80 and 200 columns every value and case_id is printed whole on one line."""
        from metalab._cli.output import _table_cell, cases_table, iter_cases

        text = render(cases_table(TWELVE.keys, iter_cases(TWELVE, 0, 4), width=width), width)
        lines = text.splitlines()
        assert max(map(len, lines)) <= width
        for case in TWELVE:
            assert case.case_id in text
            for key, value in case.params.items():
                assert key in text
                assert any(f" {_table_cell(value)} " in line for line in lines)

    def test_floats_that_differ_never_look_the_same_as_ints_or_each_other(self) -> None:
        """2.0 is not shown as 2, and 1234567.0 and 1234568.0 stay apart."""
        from metalab._cli.output import cases_table, iter_cases

        sweep = manual([{"b": 1234567.0}, {"b": 1234568.0}, {"b": 2.0}, {"b": 2}])
        text = render(cases_table(sweep.keys, iter_cases(sweep, 0, 4), width=80), 80)
        assert " 1234567.0 " in text
        assert " 1234568.0 " in text
        assert " 2.0 " in text
        assert " 2 " in text

    def test_columns_fold_into_more_tables_when_narrow(self) -> None:
        """At 80 columns the twelve parameters are folded under each other, not squeezed."""
        from metalab._cli.output import cases_table, iter_cases

        narrow = render(cases_table(TWELVE.keys, iter_cases(TWELVE, 0, 4), width=80), 80)
        wide = render(cases_table(TWELVE.keys, iter_cases(TWELVE, 0, 4), width=300), 300)
        assert narrow.count("┃ # ┃") > 1
        assert wide.count("┃ # ┃") == 1

    def test_a_long_value_is_cut_with_an_ellipsis(self) -> None:
        """A value longer than a column may be is cut short with an ellipsis, on one line."""
        from metalab._cli.output import MAX_CELL, cases_table, iter_cases

        sweep = grid(s=["x" * 100], n=[1])
        text = render(cases_table(sweep.keys, iter_cases(sweep, 0, 1), width=80), 80)
        assert "x" * 100 not in text
        assert "x" * (MAX_CELL - 3) + "…" in text
        assert sweep[0].case_id in text

    def test_the_command_fits_the_terminal_width(self) -> None:
        """`metalab show` lays its table out for the console's width."""
        with mock.patch("metalab._cli.app.load_sweep", return_value=TWELVE):
            out = run("show", "patched", env={"COLUMNS": "80"}).out
        assert max(map(len, out.splitlines())) <= 80
        assert all(case.case_id in out for case in TWELVE)

    def test_a_huge_table_is_refused_before_any_case_is_computed(self) -> None:
        """A table of 2,000,000 cases is a usage error naming jsonl and csv, at no cost."""
        sweep = grid(a=range(2000), b=range(1000))
        with (
            mock.patch("metalab._cli.app.load_sweep", return_value=sweep),
            mock.patch.object(type(sweep), "raw", side_effect=AssertionError("computed")),
        ):
            listed = run("list", "patched", "--format", "table")
            shown = run("show", "patched", "--limit", 2_000_000)
        assert_one_line_error(listed, 2, "2,000,000 cases", "--format jsonl or csv")
        assert_one_line_error(shown, 2, "2,000,000 cases", "--limit")

    def test_the_largest_table_allowed_is_listed(self) -> None:
        """Up to TABLE_MAX_ROWS cases, the table is printed."""
        from metalab._cli.app import TABLE_MAX_ROWS

        sweep = grid(a=range(TABLE_MAX_ROWS + 1))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("list", "patched", "--format", "table", "--start", 1)
        assert result.code == 0
        assert sweep[TABLE_MAX_ROWS].case_id in result.out


HOSTILE = manual([{"[/]": "\x1b[31mred", "[red]lr[/red]": 1, "e\x1bsc": 2}], tags=["[b]t\x1b[2J"])
"""Names, values and tags holding rich markup and terminal escape sequences."""


class TestHostileText:
    """Markup and control characters from a sweep are shown as text, never interpreted."""

    @pytest.mark.parametrize("command", [["show", "patched"], ["list", "patched", "-f", "table"]])
    def test_markup_and_escapes_are_shown_as_text(self, command: list[str]) -> None:
        """`[/]` does not crash, `[red]lr[/red]` is shown as is, ESC is written escaped."""
        with mock.patch("metalab._cli.app.load_sweep", return_value=HOSTILE):
            result = run(*command)
        assert (result.code, result.err) == (0, "")
        assert "\x1b" not in result.out
        for shown in ("[/]", "[red]lr[/red]", "e\\x1bsc", "[b]t\\x1b[2J", "'\\x1b[31mred'"):
            assert shown in result.out

    def test_the_tree_escapes_names_of_every_kind_of_node(self) -> None:
        """Grid, random and manual names and the SWEEP title reach the tree escaped."""
        sweep = grid({"g\x1b": [1]}) * random({"[/]r\x07": uniform(0, 1)}, 2, seed=0) + HOSTILE
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("show", "title\x1b[1m", "--limit", 0)
        assert (result.code, result.err) == (0, "")
        assert "\x1b" not in result.out
        assert "\x07" not in result.out
        for shown in ("g\\x1b: [1]", "[/]r\\x07 ~ uniform(0, 1)", "title\\x1b[1m", "[/]: "):
            assert shown in result.out


class TestCount:
    """`metalab count`: the exact size."""

    def test_exact_size_beyond_machine_integers(self) -> None:
        """The count is exact, even beyond 2**64."""
        sweep = grid(a=range(10**12), b=range(10**12), c=range(7))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            assert run("count", "patched").out == f"{7 * 10**24}\n"

    def test_a_size_beyond_the_digit_limit_of_str(self) -> None:
        """A size of 4,401 digits is printed exactly, although str() refuses it."""
        sweep = grid(a=range(10**2200), b=range(10**2200))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("count", "patched")
        assert result.code == 0
        assert result.out == "1" + "0" * 4400 + "\n"


class TestHugeSizes:
    """`show` and `list` work on sizes beyond floats (1.8e308) and beyond str's 4,300 digits."""

    @pytest.mark.parametrize(
        ("exponent", "shown"), [(400, "1.000e+400 cases"), (4400, "1.000e+4400 cases")]
    )
    def test_show_gives_the_size_in_scientific_notation(self, exponent: int, shown: str) -> None:
        """The tree and the title give the size without converting it to a float."""
        sweep = grid(a=range(10 ** (exponent // 2)), b=range(10 ** (exponent // 2)))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("show", "patched", "--limit", 2)
        assert (result.code, result.err) == (0, "")
        assert shown in result.out
        assert f"first 2 of {shown}" in result.out

    def test_list_works_on_a_sweep_beyond_the_digit_limit(self) -> None:
        """The jsonl and csv formats list the first cases of a sweep of 10**4400 cases."""
        sweep = grid(a=range(10**2200), b=range(10**2200))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            lines = run("list", "patched", "--stop", 2).out
            csv_text = run("list", "patched", "--stop", 2, "-f", "csv").out
        assert [r["params"] for r in jsonl(lines)] == [{"a": 0, "b": 0}, {"a": 0, "b": 1}]
        assert csv_text.count("\n") == 3

    def test_format_count_rounds_in_integers(self) -> None:
        """Scientific sizes are rounded exactly, including a carry into the exponent."""
        from metalab._core.intstr import format_count

        assert format_count(10**24 - 1) == f"{10**24 - 1:,}"
        assert format_count(12345 * 10**30) == "1.235e+34"
        assert format_count(99995 * 10**30) == "1.000e+35"
        assert format_count(10**5000 * 3) == "3.000e+5000"

    def test_huge_int_values_are_shown_by_their_ends(self) -> None:
        """An int value of 5,001 digits is shown by its first and last digits and its length."""
        from metalab._cli.nodes import format_value

        assert format_value(10**5000 + 7) == "10000000...00000007 (5,001 digits)"
        assert format_value(-(10**150)) == "-10000000...00000000 (151 digits)"
        assert format_value(10**99) == str(10**99)


class TestCase:
    """`metalab case`: one case as JSON, for a job array task."""

    def test_one_case_as_one_json_document(self, tmp_path: Path) -> None:
        """One case is exactly one JSON document: index, case_id, params and tags."""
        spec, source = composite(tmp_path)
        result = run("case", spec, 7)
        assert result.code == 0
        assert json.loads(result.out) == expected_record(source, 7)
        assert result.err == ""

    def test_the_index_defaults_to_the_slurm_task(self, tmp_path: Path) -> None:
        """Without INDEX, the case of $SLURM_ARRAY_TASK_ID is printed."""
        spec, source = composite(tmp_path)
        result = run("case", spec, env={"SLURM_ARRAY_TASK_ID": "11"})
        assert json.loads(result.out) == expected_record(source, 11)

    def test_an_explicit_index_wins_over_the_slurm_task(self, tmp_path: Path) -> None:
        """INDEX on the command line takes precedence over the environment."""
        spec, source = composite(tmp_path)
        result = run("case", spec, 2, env={"SLURM_ARRAY_TASK_ID": "11"})
        assert json.loads(result.out) == expected_record(source, 2)

    def test_no_index_and_no_slurm_task(self, tmp_path: Path) -> None:
        """Without INDEX or $SLURM_ARRAY_TASK_ID, the error says to give one; exit 2."""
        spec, _ = composite(tmp_path)
        result = run("case", spec)
        assert_one_line_error(result, 2, "no INDEX given", "SLURM_ARRAY_TASK_ID is not set")
        assert result.out == ""

    @pytest.mark.parametrize("value", ["abc", "", "-1", "1.5"])
    def test_a_slurm_task_that_is_not_an_index(self, tmp_path: Path, value: str) -> None:
        """A $SLURM_ARRAY_TASK_ID that is not a non-negative integer is a usage error."""
        spec, _ = composite(tmp_path)
        result = run("case", spec, env={"SLURM_ARRAY_TASK_ID": value})
        assert_one_line_error(result, 2, "SLURM_ARRAY_TASK_ID: ", "is not a non-negative integer")
        assert result.err.count("non-negative integer") == 1

    def test_an_index_out_of_range(self, tmp_path: Path) -> None:
        """An index past the end is a bad sweep for this job: exit 1 with the size."""
        spec, source = composite(tmp_path)
        result = run("case", spec, source.size)
        assert_one_line_error(result, 1, f"out of range for a source of {source.size} cases")

    def test_an_index_that_is_not_an_int(self, tmp_path: Path) -> None:
        """A non-integer INDEX is a usage error."""
        spec, _ = composite(tmp_path)
        assert_one_line_error(run("case", spec, "two"), 2, "Invalid value")

    @pytest.mark.parametrize("index", [-1, -2, -9, -12, -20])
    def test_a_negative_index_counts_from_the_end(self, tmp_path: Path, index: int) -> None:
        """INDEX -1 is the last case, as in Python; all its digits are read (-12 is not -1)."""
        spec, source = composite(tmp_path)
        result = run("case", spec, index)
        assert result.code == 0
        assert json.loads(result.out) == expected_record(source, source.size + index)

    def test_a_negative_index_out_of_range(self, tmp_path: Path) -> None:
        """A negative INDEX before the first case is out of range, with its own digits."""
        spec, source = composite(tmp_path)
        result = run("case", spec, -source.size - 2)
        assert_one_line_error(result, 1, f"index {-source.size - 2} is out of range")

    def test_options_still_work_next_to_a_negative_index(self, tmp_path: Path) -> None:
        """--help is still an option and an unknown option still an error after -1."""
        spec, _ = composite(tmp_path)
        assert run("case", spec, -1, "--help").out.startswith("Usage: metalab case")
        assert_one_line_error(run("case", spec, -1, "--bogus"), 2, "--bogus")

    def test_an_index_of_thousands_of_digits(self, tmp_path: Path) -> None:
        """A 5,000-digit INDEX is a short usage error, not a ValueError from int()."""
        spec, _ = composite(tmp_path)
        result = run("case", spec, "1" * 5000)
        assert_one_line_error(result, 2, "INDEX", "at most 4,300 digits, got one of 5,000")
        assert len(result.err) < 300

    def test_a_slurm_task_of_thousands_of_digits(self, tmp_path: Path) -> None:
        """A 5,000-digit $SLURM_ARRAY_TASK_ID is a short usage error naming the variable."""
        spec, _ = composite(tmp_path)
        result = run("case", spec, env={"SLURM_ARRAY_TASK_ID": "1" * 5000})
        assert_one_line_error(result, 2, "SLURM_ARRAY_TASK_ID", "at most 4,300 digits")
        assert len(result.err) < 300

    @settings(max_examples=CLI_EXAMPLES)
    @given(random_sources(max_size=30), st.data())
    def test_every_case_of_a_random_manifest(
        self, source: ParamSource, data: st.DataObject
    ) -> None:
        """For any random source read from its manifest, case i is the library's case i."""
        if source.size == 0:
            return
        i = data.draw(st.integers(0, source.size - 1))
        with mock.patch("metalab._cli.app.load_sweep", return_value=loads(dumps(source))):
            result = run("case", "patched", i)
        assert json.loads(result.out) == expected_record(source, i)


def jsonl(text: str) -> list[dict[str, Any]]:
    """Parse JSON lines."""
    return [json.loads(line) for line in text.splitlines()]


class TestList:
    """`metalab list`: streamed cases in jsonl, csv or a table."""

    def test_jsonl_is_every_case_in_order(self, tmp_path: Path) -> None:
        """JSON lines (the default) give one record per case, as `case` prints them."""
        spec, source = composite(tmp_path)
        assert jsonl(run("list", spec).out) == [
            expected_record(source, i) for i in range(len(source))
        ]

    @settings(max_examples=CLI_EXAMPLES)
    @given(sources(max_size=20), st.integers(0, 25), st.integers(0, 25))
    def test_start_and_stop_select_a_range(
        self, source: ParamSource, start: int, stop: int
    ) -> None:
        """--start/--stop list exactly the cases start <= i < stop that exist."""
        with mock.patch("metalab._cli.app.load_sweep", return_value=source):
            records = jsonl(run("list", "patched", "--start", start, "--stop", stop).out)
        indices = range(start, min(stop, source.size))
        assert records == [expected_record(source, i) for i in indices]

    @settings(max_examples=CLI_EXAMPLES)
    @given(sources(max_size=20), st.integers(-25, 25), st.none() | st.integers(-25, 25))
    @example(grid(x=range(5)), -2, None)
    @example(grid(x=range(5)), -3, -1)
    def test_negative_start_and_stop_count_from_the_end(
        self, source: ParamSource, start: int, stop: int | None
    ) -> None:
        """--start/--stop select the cases that a Python slice [start:stop] of the list does."""
        bounds = ["--start", start] + ([] if stop is None else ["--stop", stop])
        with mock.patch("metalab._cli.app.load_sweep", return_value=source):
            result = run("list", "patched", *bounds)
        assert result.code == 0
        indices = range(source.size)[start:stop]
        assert jsonl(result.out) == [expected_record(source, i) for i in indices]

    @settings(max_examples=CLI_EXAMPLES)
    @given(grids(max_size=12))
    def test_grids_list_the_same_cases_as_iteration(self, source: ParamSource) -> None:
        """Listing any grid through the command gives the library's cases, in order."""
        with mock.patch("metalab._cli.app.load_sweep", return_value=source):
            records = jsonl(run("list", "patched").out)
        assert records == [expected_record(source, i) for i in range(source.size)]

    def test_a_huge_sweep_streams(self) -> None:
        """Listing the end of a sweep of 10**18 cases never materializes it."""
        sweep = grid(a=range(10**9), b=range(10**9))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            records = jsonl(run("list", "patched", "--start", 10**18 - 2).out)
        assert [r["params"] for r in records] == [
            {"a": 10**9 - 1, "b": 10**9 - 2},
            {"a": 10**9 - 1, "b": 10**9 - 1},
        ]

    @pytest.mark.parametrize(
        ("options", "fragment"),
        [
            (["--start", 30], "--start 30 is at or past the end of this sweep of 21 cases"),
            (["--start", 21], "--start 21 is at or past the end"),
            (["--start", 5, "--stop", 3], "--stop 3 is not after --start 5"),
        ],
    )
    def test_an_empty_range_is_said_on_stderr(self, options: list[object], fragment: str) -> None:
        """An empty range lists nothing, says why in one line on stderr, and exits 0."""
        result = run("list", f"{QUICKSTART}:sweep", *options)
        assert (result.code, result.out) == (0, "")
        assert result.err.startswith("metalab: no cases to list: ")
        assert result.err.count("\n") == 1
        assert fragment in result.err

    def test_output_file(self, tmp_path: Path) -> None:
        """-o writes the cases to a file and nothing to standard output."""
        spec, source = composite(tmp_path)
        target = tmp_path / "cases.jsonl"
        result = run("list", spec, "-o", target)
        assert (result.code, result.out) == (0, "")
        assert len(jsonl(target.read_text(encoding="utf-8"))) == source.size

    def test_an_unwritable_output_file(self, tmp_path: Path) -> None:
        """An output path in a missing folder is one error line; exit 1."""
        spec, _ = composite(tmp_path)
        target = tmp_path / "missing" / "cases.csv"
        assert_one_line_error(run("list", spec, "-o", target), 1, f"cannot write {target}")

    def test_table(self, tmp_path: Path) -> None:
        """The table format shows the selected cases with their ids."""
        spec, source = composite(tmp_path)
        out = run("list", spec, "--format", "table", "--stop", 2).out
        assert source[0].case_id in out
        assert source[1].case_id in out
        assert source[2].case_id not in out

    def test_an_unknown_format(self, tmp_path: Path) -> None:
        """An unknown --format is a usage error naming the choices."""
        spec, _ = composite(tmp_path)
        assert_one_line_error(run("list", spec, "--format", "xml"), 2, "xml")

    def test_no_progress_bar_when_not_on_a_terminal(self) -> None:
        """A long listing into a pipe writes nothing to standard error."""
        from metalab._cli.app import PROGRESS_MIN_CASES

        sweep = grid(x=range(PROGRESS_MIN_CASES + 5))
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("list", "patched", "--format", "csv")
        assert result.err == ""
        assert result.out.count("\n") == sweep.size + 1

    @pytest.mark.parametrize(
        ("count", "output", "stdout_tty", "stderr_tty", "wanted"),
        [
            (10**6, "file", False, True, True),
            (10**6, None, False, True, True),
            (10**6, None, True, True, False),
            (10**6, "file", True, True, True),
            (10**6, "file", False, False, False),
            (10, "file", False, True, False),
        ],
    )
    def test_when_a_progress_bar_is_shown(
        self, count: int, output: str | None, stdout_tty: bool, stderr_tty: bool, wanted: bool
    ) -> None:
        """A bar needs a long run, a terminal on stderr, and cases going elsewhere."""
        from metalab._cli.app import _progress_wanted

        with (
            mock.patch.object(sys, "stdout", mock.Mock(isatty=lambda: stdout_tty)),
            mock.patch.object(sys, "stderr", mock.Mock(isatty=lambda: stderr_tty)),
        ):
            assert _progress_wanted(count, None if output is None else Path(output)) is wanted

    def test_the_progress_bar_passes_every_case_through(self) -> None:
        """With a bar, the cases written are the same."""
        from metalab._cli import app as _app

        sweep = grid(x=range(3000))
        rows = list(enumerate(sweep))
        with (
            mock.patch.object(_app, "_progress_wanted", return_value=True),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            assert list(_app._with_progress(iter(rows), len(rows), None)) == rows

    def test_csv_refuses_a_parameter_named_like_its_columns(self) -> None:
        """A parameter called `tags` cannot share the CSV with the tags column: one error line."""
        with mock.patch("metalab._cli.app.load_sweep", return_value=grid(tags=[1])):
            result = run("list", "patched", "--format", "csv")
        assert_one_line_error(result, 1, "'tags'", "--format jsonl")


SAFE_STRINGS = st.from_regex(r"[a-z]{1,5}_[a-z0-9]{0,3}", fullmatch=True)
"""Strings that pandas keeps as strings (no numbers, booleans or NA markers)."""
COLUMNS = st.one_of(
    st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=3),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=3),
    st.lists(st.booleans(), min_size=1, max_size=2),
    st.lists(SAFE_STRINGS, min_size=1, max_size=3),
)


class TestCsvWithPandas:
    """The CSV of `metalab list` reads back with pandas unchanged."""

    @given(st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True), COLUMNS, max_size=3))
    @example({"d": [False], "y": [False], "ya": [False]})  # its one case_id looks like 9e651
    def test_read_csv_gives_back_the_frame(self, spec: dict[str, list[Any]]) -> None:
        """pandas.read_csv of the CSV cases equals to_frame(), in values and types."""
        pd = pytest.importorskip("pandas")
        from metalab._cli.output import iter_cases, write_csv

        sweep = grid(spec)
        out = io.StringIO(newline="")
        write_csv(out, sweep.keys, iter_cases(sweep, 0, sweep.size))
        read = pd.read_csv(io.StringIO(out.getvalue()))
        frame = sweep.to_frame()
        assert list(read.columns) == ["index", "case_id", *sweep.keys, "tags"]
        assert read["index"].tolist() == list(range(sweep.size))
        # A lone case_id of digits (or like 1e5) would read as a number: ids are read as str.
        ids = pd.read_csv(io.StringIO(out.getvalue()), dtype={"case_id": str})["case_id"]
        assert ids.tolist() == frame["case_id"].tolist()
        assert [json.loads(t) for t in read["tags"]] == [list(t) for t in frame["tags"]]
        for key in sweep.keys:
            got, want = read[key].tolist(), frame[key].tolist()
            assert got == want
            assert [type(v) for v in got] == [type(v) for v in want]

    def test_the_command_writes_that_csv(self, tmp_path: Path) -> None:
        """`metalab list --format csv -o FILE` writes a file pandas reads as the frame."""
        pd = pytest.importorskip("pandas")
        spec, source = composite(tmp_path)
        target = tmp_path / "cases.csv"
        assert run("list", spec, "--format", "csv", "-o", target).code == 0
        read = pd.read_csv(target, index_col="index")
        frame = source.to_frame()
        assert read.index.tolist() == frame.index.tolist()
        for key in ("dropout", "wd", "opt", "model"):
            assert read[key].tolist() == frame[key].tolist()

    def test_missing_values_nested_values_and_tags(self) -> None:
        """Missing params are empty cells; lists, dicts and tags are JSON text."""
        pd = pytest.importorskip("pandas")
        sweep = grid(a=[1]) + manual([{"b": [1, {"c": None}]}], tags=["baseline"])
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            text = run("list", "patched", "--format", "csv").out
        read = pd.read_csv(io.StringIO(text))
        assert pd.isna(read["b"][0])
        assert pd.isna(read["a"][1])
        assert json.loads(read["b"][1]) == [1, {"c": None}]
        assert json.loads(read["tags"][1]) == ["baseline", "manual_0"]


class TestCsvLimits:
    """The values docs/cli.md says CSV does not keep are exactly those pandas changes."""

    @pytest.mark.parametrize(
        "values",
        [["NA"], ["None"], ["nan"], [""], ["1"], ["True"], [0.5, 10**20]],
    )
    def test_documented_values_change_in_csv_but_not_in_jsonl(self, values: list[Any]) -> None:
        """pandas.read_csv gives these back changed; the jsonl records give them back exactly."""
        pd = pytest.importorskip("pandas")
        from metalab._cli.output import iter_cases, write_csv

        sweep = grid(v=values)
        out = io.StringIO(newline="")
        write_csv(out, sweep.keys, iter_cases(sweep, 0, sweep.size))
        read = pd.read_csv(io.StringIO(out.getvalue()), dtype={"case_id": str})["v"].tolist()
        assert [(type(v), v) for v in read] != [(type(v), v) for v in values]
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            records = jsonl(run("list", "patched").out)
        assert [r["params"]["v"] for r in records] == values

    def test_the_limits_are_documented(self) -> None:
        """docs/cli.md names each value the test above shows to change."""
        text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
        for fragment in ('`"NA"`', '`"None"`', '`"nan"`', '`""`', '`"1"`', "`10**20`", "jsonl"):
            assert fragment in text


class TestManifest:
    """`metalab manifest`: the manifest of a sweep defined in code."""

    def test_the_manifest_of_a_sweep_in_code(self, tmp_path: Path) -> None:
        """The manifest is exactly what metalab.manifest.dumps writes, plus a newline."""
        path = write_sweeps(
            tmp_path,
            """
            from metalab import choice, loguniform, random
            sweep = random({"lr": loguniform(1e-4, 0.1), "opt": choice(["a", "b"])}, 9, seed=4)
            """,
        )
        source = random({"lr": loguniform(1e-4, 0.1), "opt": choice(["a", "b"])}, 9, seed=4)
        result = run("manifest", f"{path}:sweep")
        assert result.out == dumps(source) + "\n"
        assert loads(result.out) == source

    def test_pretty_and_output_file(self, tmp_path: Path) -> None:
        """--pretty indents the same manifest; -o writes it to a file that loads back."""
        source = grid(x=[1, 2], y=["a"])
        target = tmp_path / "out.json"
        with mock.patch("metalab._cli.app.load_sweep", return_value=source):
            result = run("manifest", "patched", "--pretty", "-o", target)
        assert result.out == ""
        text = target.read_text(encoding="utf-8")
        assert "\n  " in text
        assert loads(text) == source

    def test_a_manifest_round_trips_through_the_command(self, tmp_path: Path) -> None:
        """A manifest file given to `manifest` comes out as the same bytes."""
        text = dumps(grid(lr=[0.1, 0.01], seed=range(3)))
        path = tmp_path / "s.json"
        path.write_text(text, encoding="utf-8")
        assert run("manifest", path).out == text + "\n"


class TestArray:
    """`metalab array`: the sbatch --array value, for all cases or the unfinished ones."""

    def write(self, folder: Path, name: str, lines: list[str]) -> Path:
        """Write a done file."""
        path = folder / name
        path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        return path

    def test_every_case(self, tmp_path: Path) -> None:
        """Without a done file the whole sweep is one range."""
        manifest = write_manifest(tmp_path, grid(x=range(20)))
        assert run("array", manifest).out == "0-19\n"

    def test_max_running(self, tmp_path: Path) -> None:
        """--max-running adds SLURM's %K limit."""
        manifest = write_manifest(tmp_path, grid(x=range(20)))
        assert run("array", manifest, "--max-running", 8).out == "0-19%8\n"

    def test_resume_from_done_indices(self, tmp_path: Path) -> None:
        """--done leaves out the finished indices and compresses the rest."""
        manifest = write_manifest(tmp_path, grid(x=range(12)))
        done = self.write(tmp_path, "done.txt", ["0", "1", "2", "6", "7", "8", "9", "10"])
        assert run("array", manifest, "--done", done, "--max-running", 8).out == "3-5,11%8\n"

    def test_resume_from_done_case_ids(self, tmp_path: Path) -> None:
        """--done-ids leaves out the cases whose ids are listed (as `list` output names them)."""
        source = random({"lr": loguniform(1e-4, 1e-1), "p": uniform(0, 1)}, 30, seed=2)
        manifest = write_manifest(tmp_path, source)
        records = jsonl(run("list", manifest).out)
        finished = [r["case_id"] for r in records if r["index"] % 3 != 0]
        done = self.write(tmp_path, "ids.txt", finished)
        expected = ",".join(str(i) for i in range(0, 30, 3))
        assert run("array", manifest, "--done-ids", done).out == f"{expected}\n"

    def test_all_done(self, tmp_path: Path) -> None:
        """When nothing is left, nothing goes to stdout and a note to stderr; exit 0."""
        manifest = write_manifest(tmp_path, grid(x=range(3)))
        done = self.write(tmp_path, "done.txt", ["2", "0", "1"])
        result = run("array", manifest, "--done", done)
        assert (result.code, result.out) == (0, "")
        assert "all 3 cases are done" in result.err

    @pytest.mark.parametrize(
        ("option", "lines", "code", "fragments"),
        [
            ("--done", ["1", "two"], 1, ["line 2", "'two'"]),
            ("--done", ["-1"], 1, ["line 1", "non-negative int"]),
            ("--done", ["3", "99"], 1, ["outside this sweep of 5 cases", "99"]),
            ("--done-ids", ["XYZ"], 1, ["line 1", "16 lowercase hex"]),
            ("--done-ids", ["0123456789abcdef"], 1, ["1 done case_id is not a case of this sweep"]),
        ],
    )
    def test_bad_done_files(
        self, tmp_path: Path, option: str, lines: list[str], code: int, fragments: list[str]
    ) -> None:
        """Malformed or foreign done files are one line naming the file and line."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        done = self.write(tmp_path, "done.txt", lines)
        assert_one_line_error(run("array", manifest, option, done), code, *fragments)

    def test_a_missing_done_file(self, tmp_path: Path) -> None:
        """A done file that does not exist is one error line."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        result = run("array", manifest, "--done", tmp_path / "nope.txt")
        assert_one_line_error(result, 1, "nope.txt")

    def test_done_and_done_ids_together(self, tmp_path: Path) -> None:
        """--done and --done-ids exclude each other: a usage error."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        done = self.write(tmp_path, "done.txt", ["1"])
        result = run("array", manifest, "--done", done, "--done-ids", done)
        assert_one_line_error(result, 2, "not both")

    @pytest.mark.parametrize("exponent", [27, 40])
    def test_a_huge_sweep_is_answered_from_the_done_file(
        self, tmp_path: Path, exponent: int
    ) -> None:
        """On 10**27 and 10**40 cases the value comes from the done set, never from a listing."""
        size = 10**exponent
        sweep = grid(a=range(size // 10), b=range(10))
        done = self.write(tmp_path, "done.txt", ["0", "7", "8", str(size - 1)])
        with (
            mock.patch("metalab._cli.app.load_sweep", return_value=sweep),
            mock.patch.object(type(sweep), "__iter__", side_effect=AssertionError("listed")),
            mock.patch("metalab._cli.app.max_array_size", return_value=1001),
        ):
            whole = run("array", "patched")
            resumed = run("array", "patched", "--done", done)
        assert (whole.code, whole.out) == (0, f"0-{size - 1}\n")
        assert (resumed.code, resumed.out) == (0, f"1-6,9-{size - 2}\n")
        assert resumed.err.count("\n") == 1
        assert f"its last index, {size - 2}, is beyond" in resumed.err

    def test_an_array_within_max_array_size_has_no_warning(self, tmp_path: Path) -> None:
        """Indices up to MaxArraySize - 1 are accepted by SLURM: nothing on stderr."""
        manifest = write_manifest(tmp_path, grid(x=range(1001)))
        with mock.patch("metalab._cli.app.max_array_size", return_value=1001):
            result = run("array", manifest)
        assert (result.code, result.out, result.err) == (0, "0-1000\n", "")

    def test_an_array_beyond_max_array_size_is_printed_with_a_warning(self, tmp_path: Path) -> None:
        """Past MaxArraySize the value is still printed, and one line says how to split."""
        manifest = write_manifest(tmp_path, grid(x=range(1002)))
        with mock.patch("metalab._cli.app.max_array_size", return_value=1001):
            result = run("array", manifest, "--max-running", 5)
        assert (result.code, result.out) == (0, "0-1001%5\n")
        assert result.err.startswith("metalab: warning: sbatch will refuse this array")
        assert result.err.count("\n") == 1
        assert "MaxArraySize of 1,001" in result.err
        assert "Large sweeps" in result.err

    @pytest.mark.parametrize(
        ("which", "stdout", "returncode", "expected"),
        [
            (None, "", 0, 1001),
            ("/usr/bin/scontrol", "ClusterName = c\nMaxArraySize            = 40001\n", 0, 40001),
            ("/usr/bin/scontrol", "MaxArraySize = 200\n", 1, 1001),
            ("/usr/bin/scontrol", "nothing about arrays\n", 0, 1001),
        ],
    )
    def test_max_array_size_comes_from_scontrol(
        self, which: str | None, stdout: str, returncode: int, expected: int
    ) -> None:
        """MaxArraySize is read from scontrol show config, else SLURM's default of 1001."""
        from metalab.jobarray import max_array_size

        done = subprocess.CompletedProcess(["scontrol"], returncode, stdout=stdout, stderr="")
        with (
            mock.patch("shutil.which", return_value=which),
            mock.patch("subprocess.run", return_value=done) as ran,
        ):
            assert max_array_size() == expected
        assert ran.called is (which is not None)

    def test_an_unreachable_scontrol_means_the_default(self) -> None:
        """A scontrol that hangs or cannot start leaves SLURM's default."""
        from metalab.jobarray import max_array_size

        for error in (subprocess.TimeoutExpired("scontrol", 10), OSError("no exec")):
            with (
                mock.patch("shutil.which", return_value="/usr/bin/scontrol"),
                mock.patch("subprocess.run", side_effect=error),
            ):
                assert max_array_size() == 1001

    def test_a_done_file_with_a_byte_order_mark(self, tmp_path: Path) -> None:
        """A done file saved with a UTF-8 byte order mark is read like any other."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        done = tmp_path / "done.txt"
        done.write_text("1\n2\n", encoding="utf-8-sig")
        assert run("array", manifest, "--done", done).out == "0,3-4\n"

    def test_a_done_index_too_long_to_read(self, tmp_path: Path) -> None:
        """A 5,000-digit line is one error line naming the file and the line."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        done = self.write(tmp_path, "done.txt", ["1", "9" * 5000])
        result = run("array", manifest, "--done", done)
        assert_one_line_error(result, 1, f"{done}, line 2", "5,000 digits")

    def test_max_running_must_be_positive(self, tmp_path: Path) -> None:
        """--max-running 0 is a usage error."""
        manifest = write_manifest(tmp_path, grid(x=range(5)))
        assert_one_line_error(run("array", manifest, "--max-running", 0), 2, "--max-running")


class TestPlot:
    """`metalab plot`: the coverage image."""

    def test_writes_a_png(self, tmp_path: Path) -> None:
        """A PNG image is written of a random search's coverage."""
        pytest.importorskip("matplotlib")
        spec, _ = composite(tmp_path)
        target = tmp_path / "coverage.png"
        result = run("plot", spec, "-o", target)
        assert result.code == 0
        assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert result.out == ""

    def test_categorical_parameters_only(self, tmp_path: Path) -> None:
        """A sweep with no numeric parameter is drawn as counts."""
        pytest.importorskip("matplotlib")
        target = tmp_path / "counts.png"
        with mock.patch("metalab._cli.app.load_sweep", return_value=grid(opt=["a", "b"])):
            assert run("plot", "patched", "-o", target).code == 0
        assert target.read_bytes().startswith(b"\x89PNG")

    def test_an_empty_sweep(self, tmp_path: Path) -> None:
        """Nothing to plot is one error line."""
        pytest.importorskip("matplotlib")
        empty = random({"x": uniform(0, 1)}, 0, seed=0)
        with mock.patch("metalab._cli.app.load_sweep", return_value=empty):
            result = run("plot", "patched", "-o", tmp_path / "x.png")
        assert_one_line_error(result, 1, "nothing to plot")

    def test_without_matplotlib(self, tmp_path: Path) -> None:
        """Without matplotlib, the error says how to install it."""
        spec, _ = composite(tmp_path)
        with mock.patch.dict(sys.modules, {"matplotlib": None}):
            result = run("plot", spec, "-o", tmp_path / "x.png")
        assert_one_line_error(result, 1, "pip install '.[plot]' in a metalab checkout")

    def test_the_output_is_required(self, tmp_path: Path) -> None:
        """Without -o, plotting is a usage error."""
        spec, _ = composite(tmp_path)
        assert_one_line_error(run("plot", spec), 2, "--output")

    def test_writes_exactly_the_path_given(self, tmp_path: Path) -> None:
        """The image goes to the path given, in the format of its suffix, and says so."""
        pytest.importorskip("matplotlib")
        spec, _ = composite(tmp_path)
        target = tmp_path / "coverage.svg"
        result = run("plot", spec, "-o", target)
        assert result.code == 0
        assert b"<svg" in target.read_bytes()[:1000]
        assert result.err == f"wrote {target}\n"

    def test_a_path_without_suffix_is_refused(self, tmp_path: Path) -> None:
        """-o without an image suffix is a usage error, and nothing is written."""
        pytest.importorskip("matplotlib")
        spec, _ = composite(tmp_path)
        result = run("plot", spec, "-o", tmp_path / "coverage")
        assert_one_line_error(result, 2, "has no suffix", ".png")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["sweeps.py"]

    def test_an_existing_file_is_kept_without_force(self, tmp_path: Path) -> None:
        """An existing output file is refused unless --force, which overwrites it."""
        pytest.importorskip("matplotlib")
        spec, _ = composite(tmp_path)
        target = tmp_path / "coverage.png"
        target.write_bytes(b"precious")
        assert_one_line_error(run("plot", spec, "-o", target), 2, "--force")
        assert target.read_bytes() == b"precious"
        assert run("plot", spec, "-o", target, "--force").code == 0
        assert target.read_bytes().startswith(b"\x89PNG")

    def test_the_output_is_checked_before_the_sweep_is_loaded(self, tmp_path: Path) -> None:
        """A bad output path fails before any work: the sweep is not even loaded."""
        pytest.importorskip("matplotlib")
        with mock.patch("metalab._cli.app.load_sweep") as load:
            result = run("plot", "patched", "-o", tmp_path / "nope" / "x.png")
        assert_one_line_error(result, 2, "no such folder")
        load.assert_not_called()

    @pytest.mark.parametrize(
        ("count", "note"),
        [
            (10, "metalab: 2 parameters left out of the plot"),
            (9, "metalab: 1 parameter left out of the plot"),
        ],
    )
    def test_left_out_parameters_are_named(self, tmp_path: Path, count: int, note: str) -> None:
        """Parameters beyond the cap are counted, named and the way to choose given."""
        pytest.importorskip("matplotlib")
        sweep = grid(**{f"p{i:02d}": [1, 2] for i in range(count)})
        target = tmp_path / "x.png"
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("plot", "patched", "-o", target, "--max-points", 4)
        assert result.code == 0
        assert note in result.err
        left = ", ".join(f"p{i:02d}" for i in range(8, count))
        assert f"{left}; choose with --params" in result.err

    def test_chosen_parameters(self, tmp_path: Path) -> None:
        """--params picks the parameters, comma-separated or repeated; a typo is a usage error."""
        pytest.importorskip("matplotlib")
        sweep = grid(**{f"p{i:02d}": [1, 2] for i in range(10)})
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("plot", "s", "-o", tmp_path / "a.png", "--params", "p01,p09", "-p", "p03")
            assert result.code == 0
            assert "left out" not in result.err
            typo = run("plot", "s", "-o", tmp_path / "b.png", "--params", "p1")
        assert_one_line_error(typo, 2, "no parameter 'p1'")
        assert not (tmp_path / "b.png").exists()

    def test_a_sweep_larger_than_any_float(self, tmp_path: Path) -> None:
        """A sweep of 10**320 cases is plotted from a sample."""
        pytest.importorskip("matplotlib")
        sweep = grid(**{f"p{i:02d}": range(10**8) for i in range(40)})
        with mock.patch("metalab._cli.app.load_sweep", return_value=sweep):
            result = run("plot", "patched", "-o", tmp_path / "x.png", "--max-points", 10)
        assert result.code == 0


class TestErrors:
    """Every failure is one line and an exit status, never a traceback."""

    def test_a_manifest_with_several_mistakes_lists_each_on_its_own_line(
        self, tmp_path: Path
    ) -> None:
        """Three mistakes: a line that counts them, then one indented line per mistake."""
        path = tmp_path / "bad.json"
        path.write_text(
            '{"format_version": "1.0", "type": "ConcatSource", "parts": ['
            '{"type": "GridSource", "spec": {"x": []}},'
            '{"type": "ShuffledSource", "source": {"type": "GridSource", "spec": {"x": [1]}},'
            ' "seed": "s"},'
            '{"type": "ManualSource", "cases": [{"x": 1}], "tagz": []}]}',
            encoding="utf-8",
        )
        result = run("count", path)
        assert result.code == 1
        first, *problems = result.err.splitlines()
        assert first == f"error: {path}: 3 problems"
        assert len(problems) == 3
        assert (
            "  parts[0].spec.x: expected a non-empty array of values, got an empty one" in problems
        )
        assert '  parts[1].seed: expected an int, got "s"' in problems
        assert any(line.startswith('  parts[2]: unknown field "tagz"') for line in problems)

    def test_an_unknown_command_suggests_one(self) -> None:
        """A misspelt command is a usage error that names the likely one."""
        assert_one_line_error(run("shwo", "x"), 2, "shwo", "'show'", "metalab --help")

    def test_an_unknown_option(self) -> None:
        """An unknown option is a usage error pointing at the command's help."""
        assert_one_line_error(run("count", "x", "--bogus"), 2, "--bogus", "metalab count --help")

    def test_a_missing_argument(self) -> None:
        """A command without SWEEP is a usage error."""
        assert_one_line_error(run("show"), 2, "SWEEP")

    def test_an_unexpected_error_is_one_line(self) -> None:
        """A bug still gives one line and exit 1, and points at METALAB_TRACEBACK."""
        with mock.patch("metalab._cli.app.load_sweep", side_effect=RuntimeError("boom")):
            result = run("count", "x")
        assert_one_line_error(result, 1, "RuntimeError: boom", "METALAB_TRACEBACK=1")

    def test_metalab_traceback_reraises(self) -> None:
        """With METALAB_TRACEBACK=1 the unexpected error propagates, traceback and all."""
        with (
            mock.patch("metalab._cli.app.load_sweep", side_effect=RuntimeError("boom")),
            pytest.raises(RuntimeError, match="boom"),
        ):
            run("count", "x", env={"METALAB_TRACEBACK": "1"})

    def test_interrupt(self) -> None:
        """Ctrl-C ends with status 130 and one error line, no traceback."""
        with mock.patch("metalab._cli.app.load_sweep", side_effect=KeyboardInterrupt):
            result = run("count", "x")
        assert_one_line_error(result, 130, "interrupted")

    def test_a_closed_pipe_is_quiet(self) -> None:
        """When the reader of stdout goes away, the command stops without a message, status 0."""
        with mock.patch("metalab._cli.app.load_sweep", side_effect=BrokenPipeError):
            result = run("count", "x")
        assert (result.code, result.err) == (0, "")

    @pytest.mark.parametrize(
        "command",
        [
            ["show"],
            ["count"],
            ["case", "3"],
            ["list"],
            ["list", "-f", "csv"],
            ["list", "-f", "table"],
            ["manifest"],
            ["array"],
        ],
    )
    def test_a_reader_that_leaves_is_success(self, command: list[str]) -> None:
        """Every command that writes to stdout exits 0, silently, when the pipe closes."""

        class ClosedPipe(io.StringIO):
            def write(self, _text: str) -> int:
                raise BrokenPipeError

        err = io.StringIO()
        with (
            mock.patch("metalab._cli.app.load_sweep", return_value=grid(x=range(50))),
            contextlib.redirect_stdout(ClosedPipe()),
            contextlib.redirect_stderr(err),
        ):
            code = main([command[0], "patched", *command[1:]])
        assert (code, err.getvalue()) == (0, "")

    def test_list_into_head_exits_0(self, tmp_path: Path) -> None:
        """`metalab list SWEEP | head -1` succeeds under `set -o pipefail`."""
        sweeps = write_sweeps(tmp_path, "from metalab import grid\nbig = grid(x=range(10**7))\n")
        with subprocess.Popen(
            [sys.executable, "-m", "metalab", "list", f"{sweeps}:big"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            assert process.stdout is not None
            assert process.stderr is not None
            first = process.stdout.readline()
            process.stdout.close()
            err = process.stderr.read()
        assert json.loads(first)["index"] == 0
        assert (process.returncode, err) == (0, b"")

    def test_running_out_of_memory_says_so(self) -> None:
        """A MemoryError in metalab's code says what ran out, in which command, and a hint."""
        from metalab._cli.load import MEMORY_HINT

        with mock.patch("metalab._cli.app.load_sweep", side_effect=MemoryError):
            result = run("count", "x")
        assert_one_line_error(result, 1, "ran out of memory in 'metalab count'", MEMORY_HINT)
        assert "unexpected" not in result.err

    def test_running_out_of_memory_in_the_sweep_file(self, tmp_path: Path) -> None:
        """A real MemoryError while the file loads names the file, the line and a hint."""
        from metalab._cli.load import MEMORY_HINT

        path = write_sweeps(tmp_path, "x = 1\nblob = bytearray(10**18)\n")
        result = run("count", f"{path}:sweep")
        assert_one_line_error(result, 1, "ran out of memory", f"({path}, line 2)", MEMORY_HINT)

    def test_a_users_source_that_raises_is_their_error(self, tmp_path: Path) -> None:
        """An exception from a source the user defined names it and their line, not a bug."""
        path = write_sweeps(tmp_path, USER_SOURCE)
        for command in (["case", f"{path}:sweep", 0], ["list", f"{path}:sweep"]):
            result = run(*command)
            assert_one_line_error(
                result,
                1,
                "your code raised IndexError",
                f"({path}, line {USER_SOURCE_RAW_LINE})",
            )
            assert "unexpected" not in result.err
            assert "METALAB_TRACEBACK" not in result.err

    @pytest.mark.subprocess
    @pytest.mark.parametrize("command", ["case", "count", "manifest", "list"])
    def test_a_closed_standard_output(self, tmp_path: Path, command: str) -> None:
        """With standard output closed (`>&-`), a command that writes to it says so in one line."""
        path = write_manifest(tmp_path, grid(x=[1, 2]))
        index = ["0"] if command == "case" else []
        done = run_process(f'$METALAB {command} "$1" {" ".join(index)} >&-', path)
        assert (done.returncode, done.stderr) == (
            1,
            "error: cannot write to standard output: it is closed\n",
        )

    @pytest.mark.subprocess
    def test_a_closed_standard_output_with_an_output_file(self, tmp_path: Path) -> None:
        """-o FILE needs no standard output: the command works with it closed."""
        path = write_manifest(tmp_path, grid(x=[1, 2]))
        done = run_process('$METALAB manifest "$1" -o "$2" >&-', path, tmp_path / "out.json")
        assert (done.returncode, done.stderr) == (0, "")
        assert (tmp_path / "out.json").read_text(encoding="utf-8") == path.read_text("utf-8") + "\n"

    @pytest.mark.subprocess
    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
    @pytest.mark.parametrize(
        ("command", "redirect", "what"),
        [
            ("manifest", "-o /dev/full", "cannot write /dev/full"),
            ("list", "-o /dev/full", "cannot write /dev/full"),
            ("manifest", "> /dev/full", "cannot write to standard output"),
            ("case", "0 > /dev/full", "cannot write to standard output"),
            ("list", "> /dev/full", "cannot write to standard output"),
        ],
    )
    def test_a_full_disk(self, tmp_path: Path, command: str, redirect: str, what: str) -> None:
        """Writing to a full device is one line naming what failed: not a bug, no traceback."""
        path = write_manifest(tmp_path, grid(x=[1, 2]))
        done = run_process(f'$METALAB {command} "$1" {redirect}', path)
        assert (done.returncode, done.stderr) == (1, f"error: {what}: No space left on device\n")

    def test_the_bundled_example_grid_works(self) -> None:
        """The README's first command, `metalab show examples/quickstart.py:sweep`, succeeds."""
        result = run("show", f"{QUICKSTART}:sweep")
        assert result.code == 0
        assert "21 cases" in result.out
        assert "lr ~ loguniform(0.0001, 0.1)" in result.out

    def test_choice_and_uniform_are_shown(self) -> None:
        """Distributions of every built-in kind are written as their factory calls."""
        from metalab import loguniform_int, randint

        space: dict[str, Distribution] = {
            "a": uniform(0, 1),
            "b": loguniform(1, 10),
            "c": loguniform_int(1, 64),
            "d": randint(0, 9),
            "e": choice([None, True, "x"]),
        }
        with mock.patch("metalab._cli.app.load_sweep", return_value=random(space, 2, seed=1)):
            out = run("show", "patched").out
        for fragment in (
            "a ~ uniform(0, 1)",
            "b ~ loguniform(1, 10)",
            "c ~ loguniform_int(1, 64)",
            "d ~ randint(0, 9)",
            "e ~ choice([None, True, 'x'])",
        ):
            assert fragment in out
