"""`metalab.interop`: converters loaded on first use, and a clear error when a tool is missing."""

from __future__ import annotations

import subprocess
import sys

import pytest

import metalab.interop
from metalab import uniform
from metalab.errors import MissingExtraError
from metalab.interop import from_sklearn_distributions, to_optuna


class TestLazyExports:
    """The package names every converter and imports none of the tools."""

    def test_all_is_sorted(self) -> None:
        """__all__ is sorted, and dir() shows exactly it among public names."""
        names = metalab.interop.__all__
        assert list(names) == sorted(names)
        assert {n for n in dir(metalab.interop) if not n.startswith("_")} == set(names)

    @pytest.mark.parametrize("name", sorted(metalab.interop.__all__))
    def test_every_name_resolves_to_its_module(self, name: str) -> None:
        """Each exported name is defined by a private module of metalab.interop."""
        value = getattr(metalab.interop, name)
        module = getattr(value, "__module__", None) or metalab.interop._LAZY[name]
        assert module.startswith("metalab.interop._")

    def test_unknown_names_are_attribute_errors(self) -> None:
        """A name that is not a converter raises AttributeError, as for any module."""
        with pytest.raises(AttributeError, match="no attribute 'from_keras'"):
            getattr(metalab.interop, "from_keras")  # noqa: B009

    @pytest.mark.subprocess
    def test_import_loads_no_tool(self) -> None:
        """`import metalab.interop` imports none of scikit-learn, scipy, Optuna or Ray."""
        tools = ["sklearn", "scipy", "optuna", "ray"]
        script = (
            "import sys, metalab.interop\n"
            "names = dir(metalab.interop)\n"
            f"print([m for m in {tools!r} if m in sys.modules])"
        )
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert out == "[]"


class TestMissingTools:
    """A converter whose tool is not installed names the extra to install."""

    def test_missing_scipy_names_the_sklearn_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without scipy, converting a scipy law says to install metalab[sklearn]."""
        monkeypatch.setitem(sys.modules, "scipy.stats", None)
        with pytest.raises(
            MissingExtraError, match=r"pip install '\.\[sklearn\]' in a metalab checkout"
        ):
            from_sklearn_distributions({"x": object()}, 1, seed=0)

    def test_missing_optuna_names_the_optuna_extra(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without optuna, to_optuna says to install metalab[optuna]."""
        monkeypatch.setitem(sys.modules, "optuna", None)
        with pytest.raises(MissingExtraError, match=r"to_optuna needs the package 'optuna'"):
            to_optuna({"x": uniform(0, 1)})

    def test_the_error_is_an_import_error(self) -> None:
        """MissingExtraError is caught by ``except ImportError``."""
        assert issubclass(MissingExtraError, ImportError)
