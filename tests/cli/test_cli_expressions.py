"""``metalab`` on sweeps with derived parameters and constraints."""

from __future__ import annotations

import contextlib
import io
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from metalab import col, fmt, grid
from metalab.cli import main
from metalab.manifest import dumps

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SWEEPS = """
    from metalab import col, fmt, grid

    base = grid(width=[64, 128], heads=[4, 8]).derive(
        head_dim=col("width") // col("heads"), name=fmt("w{width}")
    )
    sweep = (base * grid(b=range(10))).where(
        (col("head_dim") > 8) & (col("b") % 2 == col("heads") % 3)
    )
"""


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """A terminal wide enough that no line of the tree wraps."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True)
def _restore_imports() -> Iterator[None]:
    """Undo what loading sweep files does to sys.path and sys.modules."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith("sweeps"):
            del sys.modules[name]


def run(*args: str) -> tuple[int, str]:
    """Run ``metalab ARGS``; its exit status and output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue()


class TestShow:
    """``metalab show`` draws derive and where nodes with their expressions."""

    def test_draws_expressions_as_python_text(self, tmp_path: Path) -> None:
        """Each node shows its expressions, pushed-down filters at their factors."""
        path = tmp_path / "sweeps.py"
        path.write_text(textwrap.dedent(SWEEPS), encoding="utf-8")
        code, out = run("show", f"{path}:sweep")
        assert code == 0
        assert "where  10 cases  of 30 cases" in out
        assert "where: col('b') % 2 == col('heads') % 3" in out
        assert "where  3 cases  of 4 cases" in out
        assert "where: col('head_dim') > 8" in out
        assert "head_dim: = col('width') // col('heads')" in out
        assert "name: = fmt('w{width}')" in out

    def test_shows_a_manifest(self, tmp_path: Path) -> None:
        """A manifest of a filter is drawn the same way."""
        sweep = grid(a=range(100)).where(col("a") % 7 == 0).derive(s=fmt("a{a}"))
        path = tmp_path / "sweep.json"
        path.write_text(dumps(sweep), encoding="utf-8")
        code, out = run("show", str(path))
        assert code == 0
        assert "derive  15 cases" in out
        assert "where: col('a') % 7 == 0" in out
