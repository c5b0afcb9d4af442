"""Generated code: compiled once per text, readable in tracebacks, bounded in memory."""

from __future__ import annotations

import linecache
import traceback
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import pytest

import metalab
from metalab import ParamSource, grid, manual
from metalab._core import codegen

if TYPE_CHECKING:
    from metalab._sources.base import Raw


@attrs.frozen
class Failing(ParamSource):
    """One case whose lookup raises: a traceback then runs through a product's code."""

    manifest_type: ClassVar[str] = "Failing"

    @property
    def size(self) -> int:
        """One case."""
        return 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter."""
        return ("z",)

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        msg = f"case {i} cannot be built"
        raise RuntimeError(msg)


def counting_compile(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the compiler `_codegen` calls by one that records each text it compiles."""
    texts: list[str] = []

    def compile_(text: str, filename: str, mode: str) -> Any:
        texts.append(text)
        return compile(text, filename, mode)

    monkeypatch.setattr(codegen, "compile", compile_, raising=False)
    return texts


class TestCache:
    """Code objects are cached by their text."""

    def test_a_second_grid_of_the_same_shape_is_not_compiled_again(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only the first of two grids with the same names and axis lengths compiles."""
        texts = counting_compile(monkeypatch)
        first = grid(cache_test_a=[1, 2], cache_test_b=["x", "y", "z"])
        assert first[4].params == {"cache_test_a": 2, "cache_test_b": "y"}
        assert len(texts) == 1
        second = grid(cache_test_a=[3, 4], cache_test_b=[0.1, 0.2, 0.3])
        assert second[4].params == {"cache_test_a": 4, "cache_test_b": 0.2}
        assert len(texts) == 1

    def test_another_shape_is_compiled(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A different axis length is a different text, hence one more compilation."""
        texts = counting_compile(monkeypatch)
        assert grid(cache_shape_a=[1, 2], cache_shape_b=[1, 2])[3].params["cache_shape_b"] == 2
        assert grid(cache_shape_a=[1, 2], cache_shape_b=[1, 2, 3])[5].params["cache_shape_a"] == 2
        assert len(texts) == 2
        assert texts[0] != texts[1]

    def test_values_never_enter_the_text(self) -> None:
        """Axis values are bound by name, so the text holds the parameter names only."""
        text = codegen.generated_code(grid(x=["secret-value"], y=[12345]))
        assert "'x'" in text
        assert "secret-value" not in text
        assert "12345" not in text


class TestLinecache:
    """Generated code is registered with linecache under a content-derived name."""

    def test_a_traceback_shows_the_generated_line(self) -> None:
        """An error raised below a product's case lookup shows the line that called the part."""
        source = grid(a=[1, 2]) * Failing()
        with pytest.raises(RuntimeError) as info:
            source[1]
        shown = "".join(traceback.format_exception(info.value))
        assert "<metalab generated product" in shown
        assert "p1, t1 = r1(d1)" in shown

    def test_the_same_text_gets_the_same_name(self) -> None:
        """Two grids of one shape share one linecache entry; another shape gets another."""
        one = grid(line_a=[1, 2], line_b=[3])._functions()[0]
        two = grid(line_a=["p", "q"], line_b=[None])._functions()[0]
        other = grid(line_a=[1, 2], line_b=[3, 4])._functions()[0]
        name = one.__code__.co_filename
        assert name.startswith("<metalab generated grid ")
        assert two.__code__.co_filename == name
        assert other.__code__.co_filename != name
        assert "".join(linecache.getlines(name)) == codegen.source_of(one)

    def test_memory_is_bounded_by_the_cache_size(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Past CACHE_SIZE texts the oldest leaves linecache; its functions keep working."""
        monkeypatch.setattr(codegen, "CACHE_SIZE", 3)
        made = [
            codegen.compile_functions(f"def f():\n    return {k}  # bound {k}\n", {}, "test")["f"]
            for k in range(5)
        ]
        names = [f.__code__.co_filename for f in made]
        assert [name in linecache.cache for name in names] == [False, False, True, True, True]
        assert [f() for f in made] == [0, 1, 2, 3, 4]

    def test_a_cleared_linecache_is_filled_again(self) -> None:
        """After linecache.clearcache(), compiling the same text registers it again."""
        text = "def g():\n    return 'cleared'\n"
        name = codegen.compile_functions(text, {}, "test")["g"].__code__.co_filename
        linecache.clearcache()
        codegen.compile_functions(text, {}, "test")
        assert linecache.getlines(name) == text.splitlines(keepends=True)


class TestLiterals:
    """Only validated names and exact ints are written into generated text."""

    def test_a_name_must_be_an_exact_str(self) -> None:
        """A str subclass (whose repr could be anything) is refused as a programming error."""

        class Sneaky(str):
            __slots__ = ()

        with pytest.raises(TypeError, match="exact str"):
            codegen.name_literal(Sneaky("x"))

    def test_a_huge_int_is_bound_by_name(self) -> None:
        """Ints beyond 64 bits are bound in the namespace instead of written out."""
        namespace: dict[str, object] = {}
        assert codegen.int_literal(2**64, "n0", namespace) == "n0"
        assert namespace == {"n0": 2**64}
        assert codegen.int_literal(-5, "n1", namespace) == "-5"


class TestGeneratedCode:
    """`metalab.generated_code` shows what was written out for a source."""

    def test_a_manual_source_has_none(self) -> None:
        """A source that writes out no code gives the empty string."""
        assert metalab.generated_code(manual([{"x": 1}])) == ""

    def test_a_grid_shows_the_code_its_lookup_runs(self) -> None:
        """The text is the one the grid's lookup was compiled from, as linecache holds it."""
        source = grid(lr=[0.1, 0.01], seed=[0, 1, 2])
        text = metalab.generated_code(source)
        filename = source._functions()[0].__code__.co_filename
        assert text == "".join(linecache.getlines(filename))
        assert "def lookup(i):" in text
        assert "{'lr': v0, 'seed': v1}" in text

    def test_a_product_shows_its_case_function(self) -> None:
        """A product's lookup is written out on first use; reading its code builds it."""
        source = grid(a=[1, 2]) * manual([{"b": 0}, {"b": 1}])
        text = metalab.generated_code(source)
        assert "def raw(i):" in text
        assert "def case(i):" in text
        assert source[3].params == {"a": 2, "b": 1}

    def test_a_random_source_shows_its_draws(self) -> None:
        """A random source shows its single-trial and its batch functions."""
        source = metalab.random({"n": metalab.randint(1, 8)}, 10, seed=0)
        text = metalab.generated_code(source)
        assert "v0 = d0_low + (b0 & d0_mask)" in text
        assert "def cases(" in text
        assert "def dicts(" in text

    def test_the_legacy_algorithm_has_none(self) -> None:
        """The earlier format's draws go through random.Random, not generated code."""
        space = {"x": metalab.uniform(0, 1)}
        source = metalab.RandomSource(space, 3, seed=0, algorithm="python-random-v0")
        assert metalab.generated_code(source) == ""

    def test_a_composite_shows_only_its_own_code(self) -> None:
        """A concatenation writes out nothing itself; its grids keep their code."""
        part = grid(x=[1, 2])
        assert metalab.generated_code(part + part) == ""
        assert metalab.generated_code(part) != ""
