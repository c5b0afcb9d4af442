"""The extension API: a source type defined only here works everywhere a built-in one does."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any, ClassVar
from unittest import mock

import attrs
import numpy as np
import pytest

import metalab
from metalab import grid
from metalab.cli import main
from metalab.errors import ManifestError, SchemaError, UnsupportedOperationError
from metalab.manifest import dumps, from_manifest, loads, register
from metalab.testing import check_source

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from metalab._sources.base import Raw


@attrs.frozen
class Steps(metalab.ParamSource):
    """A source type defined only here: ``count`` cases ``{name: start + i}``."""

    manifest_type: ClassVar[str] = "ExtensionSteps"

    start: int
    count: int
    name: str = "step"

    @property
    def size(self) -> int:
        """The number of cases."""
        return self.count

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name."""
        return (self.name,)

    def raw(self, i: int) -> Raw:
        """A fresh params dict and the tags of case ``i``."""
        return {self.name: self.start + i}, (f"step_{i}",)


register(Steps)

_GRID = {"type": "GridSource", "spec": {"step": [1]}}
"""A grid node to nest a registered source's node beside."""


@attrs.frozen
class Config:
    """A schema the cases of ``Steps`` crossed with a grid of ``x`` fit."""

    step: int
    x: str


@attrs.frozen
class Missing:
    """A schema that needs a field no case of ``Steps`` has."""

    step: int
    lr: float


@attrs.frozen
class Listed(metalab.ParamSource):
    """A source type that overrides the listed values typed views check early."""

    manifest_type: ClassVar[str] = "ExtensionListed"

    value: str

    @property
    def size(self) -> int:
        """One case."""
        return 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter name."""
        return ("step",)

    def raw(self, i: int) -> Raw:
        """The one case."""
        del i
        return {"step": self.value}, ()

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The value of the one case."""
        yield "step", self.value, "the listed value"


register(Listed)


def show(path: Path) -> str:
    """The output of ``metalab show PATH:sweep``, on a console wide enough for the path.

    The tree's first line starts with the path, which is as long as pytest's temporary
    directory makes it: on an 80-column console a longer one wraps the line.
    """
    out = io.StringIO()
    with contextlib.redirect_stdout(out), mock.patch.dict(os.environ, {"COLUMNS": "400"}):
        code = main(["show", f"{path}:sweep"])
    assert code == 0
    return out.getvalue()


class TestManifest:
    """A registered source type has a manifest form from cattrs-generated hooks."""

    def test_round_trip(self) -> None:
        """It comes back equal through dumps and loads, alone and composed."""
        steps = Steps(3, 4, "lr")
        assert loads(dumps(steps)) == steps
        composed = (steps + grid(lr=[9])) * grid(x=["a"])
        assert loads(dumps(composed)) == composed

    def test_a_bad_field_is_a_path_problem(self) -> None:
        """A field of the wrong type is reported as ``path: problem``, with every other one."""
        text = '{"type": "ExtensionSteps", "start": "a", "count": 2}'
        with pytest.raises(ManifestError, match='start: expected an int, got "a"'):
            loads(text)
        nested = '{"type": "ConcatSource", "parts": [{"type": "ExtensionSteps", "count": 1.5}]}'
        with pytest.raises(ManifestError, match=r"parts\[0\]\.count: expected an int, got 1\.5"):
            loads(nested)

    def test_optional_field_may_be_left_out(self) -> None:
        """A field with a default may be absent from the node."""
        assert from_manifest({"type": "ExtensionSteps", "start": 0, "count": 1}) == Steps(0, 1)

    @pytest.mark.parametrize(
        ("data", "pattern"),
        [
            (
                {"type": "ExtensionSteps", "start": True, "count": 1},
                r"start: expected an int, got true",
            ),
            (
                {"type": "ExtensionSteps", "start": 0},
                r"count: required field of a Steps is missing",
            ),
            (
                {"type": "ExtensionSteps", "start": 0, "count": 1, "stop": 2},
                r'the manifest: unknown field "stop" in a Steps',
            ),
            (
                {
                    "type": "ConcatSource",
                    "parts": [
                        {"type": "GridSource", "spec": {"step": [1]}},
                        {"type": "ExtensionSteps", "count": 1},
                    ],
                },
                r"parts\[1\]\.start: required field",
            ),
        ],
    )
    def test_bad_field(self, data: dict[str, Any], pattern: str) -> None:
        """A bad field of a registered source is a path: problem ManifestError."""
        with pytest.raises(ManifestError, match="^" + pattern):
            from_manifest(data)

    def test_registering_twice_is_harmless(self) -> None:
        """Registering a registered class again changes nothing."""
        assert register(Steps) is Steps
        assert loads(dumps(Steps(1, 1))) == Steps(1, 1)

    def test_a_class_defined_again_replaces_the_earlier_one(self) -> None:
        """A class of the same module and name registered again (a reload) takes the tag."""

        def define() -> type[metalab.ParamSource]:
            @attrs.frozen
            class Again(metalab.ParamSource):
                manifest_type: ClassVar[str] = "ExtensionAgain"
                n: int

                @property
                def size(self) -> int:
                    return self.n

            return register(Again)

        first, second = define(), define()
        assert first is not second
        assert type(loads(dumps(second(2)))) is second  # type: ignore[call-arg]

    def test_a_taken_tag_is_refused(self) -> None:
        """A second class cannot take the tag of a registered one."""

        @attrs.frozen
        class Impostor(metalab.ParamSource):
            manifest_type: ClassVar[str] = "GridSource"

        with pytest.raises(UnsupportedOperationError, match="already taken"):
            register(Impostor)

    def test_a_class_whose_field_types_cannot_be_read_is_refused(self) -> None:
        """A field annotation that does not resolve is an error of `register`, naming the class."""

        @attrs.frozen
        class Unreadable(metalab.ParamSource):
            manifest_type: ClassVar[str] = "Unreadable"
            x: NotDefinedAnywhere  # type: ignore[name-defined]  # noqa: F821

        with pytest.raises(UnsupportedOperationError, match=r"^Unreadable: cannot read its field"):
            register(Unreadable)
        with pytest.raises(ManifestError, match="unknown"):
            from_manifest({"type": "Unreadable", "x": 1})

    @pytest.mark.subprocess
    def test_reading_one_manifest_generates_only_its_hooks(self) -> None:
        """A process that reads a grid generates the grid's hook, not every built-in one's."""
        script = (
            "import metalab.manifest as m, metalab._io.manifest as impl\n"
            "m.loads(m.dumps(__import__('metalab').grid(x=[1])))\n"
            "made = sorted(\n"
            "    c.__name__ for c, f in impl._STRUCTURE.items()\n"
            "    if isinstance(f, impl._Lazily) and f.made and c in impl.SOURCE_TYPES\n"
            ")\n"
            "assert made == ['GridSource'], made\n"
        )
        subprocess.run([sys.executable, "-c", script], check=True)

    def test_a_class_that_is_no_attrs_source_is_refused(self) -> None:
        """Only attrs subclasses of ParamSource with a manifest_type can be registered."""

        class Plain(metalab.ParamSource):
            __slots__ = ()
            manifest_type: ClassVar[str] = "Plain"

        with pytest.raises(UnsupportedOperationError, match="attrs subclass of ParamSource"):
            register(Plain)
        with pytest.raises(UnsupportedOperationError, match="attrs subclass of ParamSource"):
            register(int)  # type: ignore[type-var]


class TestAlgebra:
    """It composes with ``+`` and ``*`` like any source."""

    def test_concatenate(self) -> None:
        """``+`` gives its cases, then the other source's."""
        sweep = Steps(0, 2) + grid(step=[9])
        assert [c.params["step"] for c in sweep] == [0, 1, 9]
        assert sweep[1].tags == ("step_1",)

    def test_cross(self) -> None:
        """``*`` crosses it with a grid, itself slowest, as one digit of the product."""
        sweep = Steps(5, 2) * grid(x=["a", "b"])
        assert [dict(c.params) for c in sweep] == [
            {"step": 5, "x": "a"},
            {"step": 5, "x": "b"},
            {"step": 6, "x": "a"},
            {"step": 6, "x": "b"},
        ]
        assert Steps(5, 2).product_factors() == ((2, None, Steps(5, 2)),)


class TestBatches:
    """The base's generic batch methods work on it."""

    def test_take(self) -> None:
        """``take`` gives the cases at the indices, negative ones counted back."""
        steps = Steps(10, 5)
        assert steps.take([4, 0, -1]) == [steps[4], steps[0], steps[4]]

    def test_columns(self) -> None:
        """``columns`` gives one int array per parameter."""
        columns = (Steps(10, 3) * grid(x=[1.5])).columns([2, 0])
        assert columns["step"].tolist() == [12, 10]
        assert columns["step"].dtype == np.int64
        assert columns["x"].tolist() == [1.5, 1.5]

    def test_to_frame(self) -> None:
        """``to_frame`` gives one row per case."""
        frame = Steps(1, 3).to_frame()
        assert frame["step"].tolist() == [1, 2, 3]


class TestStructured:
    """Typed views work on it, with the generic key scan."""

    def test_cases_structure(self) -> None:
        """A fitting schema structures every case."""
        view = (Steps(0, 2) * grid(x=["a"])).structured(Config)
        assert list(view) == [Config(0, "a"), Config(1, "a")]

    def test_a_missing_field_is_found_at_definition(self) -> None:
        """A schema field no case has is reported when the view is defined."""
        with pytest.raises(SchemaError, match="lr"):
            Steps(0, 2).structured(Missing)

    def test_listed_values_are_checked_at_definition(self) -> None:
        """A source's own listed values are checked against the schema when defined."""
        with pytest.raises(SchemaError, match="the listed value"):
            (Listed("fast") * grid(x=["a"])).structured(Config)


class TestShow:
    """``metalab show`` describes it from its fields, or as it describes itself."""

    def test_generic_description(self, tmp_path: Path) -> None:
        """A source type defined in a sweep file shows its kind, size, fields and params."""
        path = tmp_path / "sweeps.py"
        path.write_text(
            textwrap.dedent(
                """
                from typing import ClassVar

                import attrs

                import metalab
                from metalab import grid
                from metalab.manifest import register

                @register
                @attrs.frozen
                class Steps(metalab.ParamSource):
                    manifest_type: ClassVar[str] = "ShownSteps"
                    start: int
                    count: int

                    @property
                    def size(self):
                        return self.count

                    @property
                    def keys(self):
                        return ("step",)

                    def raw(self, i):
                        return {"step": self.start + i}, ()

                sweep = Steps(3, 4) * grid(x=[1])
                """
            ),
            encoding="utf-8",
        )
        out = show(path)
        assert "Steps  4 cases  start 3  count 4" in out
        assert "product (*)  4 cases" in out

    def test_own_description(self, tmp_path: Path) -> None:
        """A source type that overrides ``describe`` and ``children`` is shown that way."""
        path = tmp_path / "sweeps.py"
        path.write_text(
            textwrap.dedent(
                """
                from typing import ClassVar

                import attrs

                import metalab
                from metalab import grid
                from metalab.params import Description

                @attrs.frozen
                class Twice(metalab.ParamSource):
                    manifest_type: ClassVar[str] = "ShownTwice"
                    inner: metalab.ParamSource

                    @property
                    def size(self):
                        return 2 * self.inner.size

                    @property
                    def keys(self):
                        return self.inner.keys

                    def raw(self, i):
                        return self.inner.raw(i % self.inner.size)

                    def describe(self):
                        return Description("twice", ("repeated",), (("note", ":", "each case 2x"),))

                    def children(self):
                        return (("once", self.inner),)

                sweep = Twice(grid(x=[1, 2]))
                """
            ),
            encoding="utf-8",
        )
        out = show(path)
        # The root line holds the long file path and may wrap: its words are checked apart.
        assert "twice  4" in out
        assert "repeated  params: x" in out
        assert "├── note: each case 2x" in out
        assert "└── once: grid  2 cases" in out


class TestLaws:
    """It passes the laws metalab promises of every source."""

    def test_check_source(self) -> None:
        """``check_source`` holds for it alone and composed (in-process: it is defined here)."""
        check_source(Steps(7, 5), fresh_process=False)
        check_source(Steps(0, 3) * grid(x=[1, 2]) + Steps(9, 2), fresh_process=False)
