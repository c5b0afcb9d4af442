"""The public surface: what ``metalab`` and ``metalab.params`` export."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path
from typing import Final

import pytest

import metalab
import metalab.params

ROOT: Final = Path(metalab.__file__).resolve().parent.parent


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name in dir(module)
        if not name.startswith("_")
        and (value := getattr(module, name))
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

    @pytest.mark.parametrize(
        ("module", "submodules"),
        [(metalab, {"params"}), (metalab.params, {"distributions"}), (metalab.errors, set())],
    )
    def test_dir_lists_no_other_public_name(
        self, module: types.ModuleType, submodules: set[str]
    ) -> None:
        """dir() shows __all__ and the public subpackages, never helpers like TYPE_CHECKING."""
        shown = {name for name in dir(module) if not name.startswith("_")}
        assert shown == {*module.__all__, *submodules}

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

    @pytest.mark.subprocess
    @pytest.mark.parametrize("name", ["grid", "random", "manual"])
    def test_importing_a_source_module_leaves_the_function_in_params(self, name: str) -> None:
        """After `import metalab.params.grid`, `metalab.params.grid` is still the function."""
        script = (
            f"import metalab.params.{name}, metalab.params, metalab\n"
            f"assert callable(metalab.params.{name}), metalab.params.{name}\n"
            f"assert metalab.params.{name} is metalab.{name}\n"
            f"assert metalab.params.{name}.__module__ == 'metalab._sources.{name}'\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)

    @pytest.mark.subprocess
    def test_typed_views_are_imported_on_first_use(self) -> None:
        """`import metalab` leaves metalab.structured out until Structured is asked for."""
        script = (
            "import sys, metalab\n"
            "before = 'metalab.structured' in sys.modules\n"
            "from metalab import Structured\n"
            "import metalab.structured as module\n"
            "print(before, Structured is module.Structured, 'Structured' in dir(metalab))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
        assert out == ["False", "True", "True"]

    @pytest.mark.subprocess
    def test_import_leaves_optional_machinery_unloaded(self) -> None:
        """`import metalab` loads no manifests, CLI, typed views, OpenSSL or unused stdlib."""
        unwanted = [
            "_hashlib",
            "cattrs",
            "click",
            "cloudpickle",
            "concurrent.futures",
            "decimal",
            "fractions",
            "metalab._run",
            "metalab.cli",
            "metalab.manifest",
            "metalab.structured",
            "random",
            "rich",
            "submitit",
        ]
        script = f"import sys, metalab\nprint([m for m in {unwanted!r} if m in sys.modules])"
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert out == "[]"

    def test_blake2b_is_hashlibs(self) -> None:
        """The lean import of blake2b is the very function hashlib gives (same digests)."""
        import hashlib

        from metalab._core.hashing import blake2b

        assert blake2b is hashlib.blake2b

    def test_unknown_attributes_still_raise(self) -> None:
        """The lazy lookup raises AttributeError for any other name."""
        with pytest.raises(AttributeError, match="no attribute 'Structure'"):
            _ = metalab.Structure  # type: ignore[attr-defined]

    def test_version_is_in_dir(self) -> None:
        """dir(metalab) shows __version__ next to the module's other dunders."""
        assert {"__version__", "__doc__", "__all__"} <= set(dir(metalab))

    def test_py_typed_is_shipped(self) -> None:
        """The package declares that it is typed."""
        assert importlib.resources.files("metalab").joinpath("py.typed").is_file()


class TestVersion:
    """metalab.__version__ is written once, and the package metadata is built from it."""

    def test_version_is_the_installed_metadata(self) -> None:
        """The installed distribution's version is metalab.__version__."""
        assert metalab.__version__ == importlib.metadata.version("metalab")

    def test_the_build_reads_the_version_from_the_package(self) -> None:
        """pyproject.toml declares the version dynamic, read by hatch from __init__.py."""
        config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        assert "version" not in config["project"]
        assert "version" in config["project"]["dynamic"]
        source = config["tool"]["hatch"]["version"]
        init = ROOT / source["path"]
        assert init.resolve() == Path(metalab.__file__).resolve()
        found = re.findall(source["pattern"], init.read_text(encoding="utf-8"), re.MULTILINE)
        assert found == [metalab.__version__]

    def test_version_is_a_release_number(self) -> None:
        """The version is a plain MAJOR.MINOR.PATCH release number."""
        assert re.fullmatch(r"\d+\.\d+\.\d+", metalab.__version__)
