"""The typing contract in ``typings/``: mypy accepts the API file and rejects what it must.

One mypy run (the project's configuration, ``mypy --strict``) checks ``api_contract.py``
as it is and ``api_rejects.py`` with its ``# type: ignore[code]`` comments stripped, so
that every expected error shows up where it is expected.

Without mypy installed the contract tests skip, saying so, except when
``METALAB_REQUIRE_MYPY=1`` (CI sets it), where they fail instead: the same rule as
``METALAB_REQUIRE_SLURM`` for the SLURM test.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Final
from unittest import mock

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
TYPINGS: Final = ROOT / "typings"
CONTRACT: Final = TYPINGS / "api_contract.py"
REJECTS: Final = TYPINGS / "api_rejects.py"

_IGNORE: Final = re.compile(r"\s*# type: ignore\[(?P<codes>[a-z-]+(?:, *[a-z-]+)*)\]")
_ERROR: Final = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$"
)

REQUIRE: Final = "METALAB_REQUIRE_MYPY"

Expected = set[tuple[int, str]]


def _require_mypy() -> None:
    """Skip (or, with METALAB_REQUIRE_MYPY=1, fail) when mypy cannot be imported."""
    if importlib.util.find_spec("mypy") is not None:
        return
    reason = "mypy is not installed (it is in the test dependency group)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _strip_ignores(text: str) -> tuple[str, Expected]:
    """The file without its ignore comments, and the ``(line, code)`` pairs they named."""
    expected: Expected = set()
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _IGNORE.search(line)
        if match is not None:
            expected.update((number, code.strip()) for code in match["codes"].split(","))
            line = line[: match.start()] + line[match.end() :]  # noqa: PLW2901
        lines.append(line)
    return "\n".join(lines) + "\n", expected


def _errors(output: str, path: Path) -> list[tuple[int, str, str]]:
    """The ``(line, code, message)`` of every error mypy reported in ``path``."""
    found = []
    for line in output.splitlines():
        match = _ERROR.match(line)
        if match is not None and Path(match["path"]).resolve() == path.resolve():
            found.append((int(match["line"]), match["code"], match["message"]))
    return found


@pytest.fixture(scope="module")
def mypy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Expected]:
    """Run mypy once over the contract and the stripped rejects; return its output."""
    _require_mypy()
    stripped, expected = _strip_ignores(REJECTS.read_text(encoding="utf-8"))
    rejects = tmp_path_factory.mktemp("typings") / REJECTS.name
    rejects.write_text(stripped, encoding="utf-8")
    # A cache of its own: mypy's shared cache remembers module api_rejects at an earlier
    # run's temporary path and would report that path, so no error would match.
    cache = tmp_path_factory.mktemp("mypy-cache")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(cache),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            str(CONTRACT),
            str(rejects),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    # mypy exits 1 for type errors (expected here) and 2 for a crash or bad usage.
    assert result.returncode in {0, 1}, output
    return output, rejects, expected


@pytest.mark.slow
@pytest.mark.subprocess
class TestTypingContract:
    """What users' type checkers see of metalab."""

    def test_contract_has_no_errors(self, mypy_run: tuple[str, Path, Expected]) -> None:
        """Every assert_type in api_contract.py holds and nothing else is flagged."""
        output, _, _ = mypy_run
        assert _errors(output, CONTRACT) == [], output

    def test_each_rejected_line_fails_with_its_code(
        self, mypy_run: tuple[str, Path, Expected]
    ) -> None:
        """Each line of api_rejects.py fails with the error code in its comment."""
        output, rejects, expected = mypy_run
        found = {(line, code) for line, code, _ in _errors(output, rejects)}
        missing = sorted(expected - found)
        assert not missing, f"lines mypy no longer rejects as expected: {missing}\n{output}"

    def test_no_other_line_fails(self, mypy_run: tuple[str, Path, Expected]) -> None:
        """No error appears in api_rejects.py except the expected ones."""
        output, rejects, expected = mypy_run
        found = {(line, code) for line, code, _ in _errors(output, rejects)}
        assert found <= expected, f"unexpected errors: {sorted(found - expected)}\n{output}"

    def test_no_errors_outside_the_contract(self, mypy_run: tuple[str, Path, Expected]) -> None:
        """Mypy reports nothing in any other file (e.g. metalab itself) during the run."""
        output, rejects, _ = mypy_run
        others = [
            line
            for line in output.splitlines()
            if _ERROR.match(line)
            and Path(line.split(":", 1)[0]).resolve() not in {CONTRACT.resolve(), rejects.resolve()}
        ]
        assert others == []


class TestWithoutMypy:
    """A machine without mypy says so instead of reporting the contract broken."""

    def test_skips_naming_mypy(self) -> None:
        """Without mypy and without the CI variable, the contract tests skip, saying why."""
        with (
            mock.patch("importlib.util.find_spec", return_value=None),
            mock.patch.dict(os.environ, {REQUIRE: ""}),
            pytest.raises(pytest.skip.Exception, match="mypy is not installed"),
        ):
            _require_mypy()

    def test_fails_when_ci_requires_mypy(self) -> None:
        """With METALAB_REQUIRE_MYPY=1, a missing mypy fails the run instead of skipping."""
        with (
            mock.patch("importlib.util.find_spec", return_value=None),
            mock.patch.dict(os.environ, {REQUIRE: "1"}),
            pytest.raises(pytest.fail.Exception, match="METALAB_REQUIRE_MYPY=1 but mypy is not"),
        ):
            _require_mypy()

    def test_runs_when_mypy_is_installed(self) -> None:
        """With mypy importable, the check lets the contract tests run."""
        with mock.patch.dict(os.environ, {REQUIRE: "1"}):
            _require_mypy()


class TestTypingsLayout:
    """The contract files can never be run, collected, or shadow a real module."""

    def test_every_ignore_comment_is_parsed(self) -> None:
        """Each ``type: ignore`` in the reject file names codes the test understands."""
        text = REJECTS.read_text(encoding="utf-8")
        _, expected = _strip_ignores(text)
        commented = [n for n, line in enumerate(text.splitlines(), 1) if "type: ignore" in line]
        assert commented
        assert sorted({line for line, _ in expected}) == commented

    @pytest.mark.parametrize("path", sorted(TYPINGS.glob("*.py")), ids=lambda p: p.name)
    def test_file_names_shadow_no_module(self, path: Path) -> None:
        """No file in typings/ has the name of an importable module."""
        assert importlib.util.find_spec(path.stem) is None

    def test_typings_is_outside_mypy_path_and_test_paths(self) -> None:
        """Pyproject never puts typings/ on mypy_path or among pytest's test paths."""
        config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        mypy_path = str(config["tool"]["mypy"].get("mypy_path", ""))
        testpaths = config["tool"]["pytest"]["ini_options"]["testpaths"]
        assert "typings" not in mypy_path
        assert not any("typings" in path for path in testpaths)
