"""The public surface: what ``metalab`` and ``metalab.params`` export."""

from __future__ import annotations

import importlib
import importlib.resources
import types

import pytest

import metalab
import metalab.params


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not (isinstance(value, types.ModuleType) and name != "errors")
        and name != "annotations"
    }


class TestExports:
    """What the public modules export."""

    @pytest.mark.parametrize("module", [metalab, metalab.params])
    def test_all_is_sorted_and_exact(self, module: types.ModuleType) -> None:
        """__all__ is sorted and lists exactly the public names the module defines."""
        assert list(module.__all__) == sorted(module.__all__)
        assert set(module.__all__) == _public_names(module)

    @pytest.mark.parametrize("name", sorted(metalab.params.__all__))
    def test_params_names_are_reexported_at_top_level(self, name: str) -> None:
        """Everything in metalab.params is importable from metalab itself, as the same object."""
        assert getattr(metalab, name) is getattr(metalab.params, name)

    @pytest.mark.parametrize(
        ("module", "names"),
        [
            ("metalab.params.grid", ["GridSource", "grid"]),
            ("metalab.params.random", ["RandomSource", "random", "randint", "choice", "uniform"]),
            ("metalab.params.manual", ["ManualSource", "manual"]),
        ],
    )
    def test_source_modules_hold_their_classes_and_factories(
        self, module: str, names: list[str]
    ) -> None:
        """`from metalab.params.random import randint` and friends work."""
        mod = importlib.import_module(module)
        for name in names:
            assert getattr(mod, name) is getattr(metalab, name)

    def test_py_typed_is_shipped(self) -> None:
        """The package declares that it is typed."""
        assert importlib.resources.files("metalab").joinpath("py.typed").is_file()
