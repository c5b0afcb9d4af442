"""`metalab.testing`: the strategies generate what they promise, `check_source` catches each law."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metalab.testing
from metalab import (
    ConcatSource,
    GridSource,
    ManualSource,
    ParamSource,
    ProductSource,
    RandomSource,
    ReplicateSource,
    ShuffledSource,
    SliceSource,
    ZipSource,
    grid,
    random,
    uniform,
)
from metalab.testing import check_source, grids, manual_sources, random_sources, sources
from metalab.testing._check import sample_indices

if TYPE_CHECKING:
    import types


@pytest.fixture(scope="module")
def doubles() -> types.ModuleType:
    """The test doubles, importable by name here and in the fresh interpreters."""
    here = str(Path(__file__).parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    return importlib.import_module("testing_doubles")


def failure(source: object, **options: Any) -> str:
    """The message of the AssertionError check_source raises on ``source``."""
    with pytest.raises(AssertionError) as info:
        check_source(source, **options)  # type: ignore[arg-type]
    return str(info.value)


class TestImport:
    """metalab.testing needs Hypothesis and says how to install it."""

    def test_import_without_hypothesis_explains_the_extra(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without hypothesis, importing metalab.testing raises ImportError naming the extra."""
        for name in list(sys.modules):
            if name == "hypothesis" or name.startswith(("hypothesis.", "metalab.testing")):
                monkeypatch.delitem(sys.modules, name)
        monkeypatch.setitem(sys.modules, "hypothesis", None)
        with pytest.raises(
            ImportError, match=re.escape("pip install '.[testing]' in a metalab checkout")
        ):
            importlib.import_module("metalab.testing")

    def test_all_is_sorted_and_exact(self) -> None:
        """__all__ is sorted and lists exactly the public names of metalab.testing."""
        public = {n for n in vars(metalab.testing) if not n.startswith("_")} - {"annotations"}
        assert metalab.testing.__all__ == sorted(metalab.testing.__all__)
        assert set(metalab.testing.__all__) == public


class TestStrategies:
    """The strategies build what they document."""

    @given(data=st.data())
    def test_leaf_strategies_respect_keys_and_max_size(self, data: st.DataObject) -> None:
        """grids, random_sources and manual_sources use the given names and stay small."""
        keys = data.draw(st.sampled_from([("a",), ("a", "b.c"), ("β", "x", "y")]))
        max_size = data.draw(st.integers(1, 30))
        kind = data.draw(st.sampled_from([grids, random_sources, manual_sources]))
        source = data.draw(kind(keys=keys, max_size=max_size))
        assert source.size <= max_size
        if kind is manual_sources:
            assert set(source.keys) <= set(keys)
        else:
            assert source.keys == tuple(sorted(keys))
        if kind is grids:
            assert source.size >= 1

    def test_trees_reach_every_source_kind(self) -> None:
        """Across examples, sources() builds every kind of leaf and composite."""
        seen: set[type] = set()
        wanted = {
            GridSource,
            RandomSource,
            ManualSource,
            ZipSource,
            ReplicateSource,
            ConcatSource,
            ProductSource,
            SliceSource,
            ShuffledSource,
        }

        def walk(node: ParamSource) -> None:
            seen.add(type(node))
            for name in ("parts", "source"):
                child = getattr(node, name, None)
                children = child if isinstance(child, tuple) else (child,)
                for part in children:
                    if isinstance(part, ParamSource):
                        walk(part)

        from hypothesis import HealthCheck, settings

        # Derandomized: which kinds 300 examples reach is then the same on every run, so
        # the check cannot pass here and fail by chance on CI.
        @settings(
            max_examples=300,
            database=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(sources())
        def collect(source: ParamSource) -> None:
            walk(source)

        collect()
        assert wanted <= seen

    @given(source=sources(keys=("a", "b", "c", "d"), max_size=20))
    def test_generated_trees_obey_the_laws(self, source: ParamSource) -> None:
        """Trees stay within max_size and keys, and obey check_source's in-process laws."""
        assert source.size <= 20
        assert set(source.keys) <= {"a", "b", "c", "d"}
        check_source(source, samples=6, fresh_process=False)


class TestCheckSourcePasses:
    """check_source accepts sweeps that obey the laws, of any size."""

    @pytest.mark.subprocess
    def test_a_sweep_of_ten_to_the_forty_cases(self) -> None:
        """A grid of 40 ten-value axes (10**40 cases) is checked by sampling, fresh process too."""
        source = grid(**{f"k{i:02d}": list(range(10)) for i in range(40)})
        assert source.size == 10**40
        check_source(source, samples=8)

    @pytest.mark.subprocess
    def test_a_law_abiding_custom_source(self, doubles: types.ModuleType) -> None:
        """A user-defined source that keeps every law passes, fresh process included."""
        check_source(doubles.Counting(7))

    def test_samples_include_first_and_last(self) -> None:
        """Sampled indices are distinct, sorted, include 0 and size - 1, and stay in range."""
        for size in (1, 2, 5, 100, 10**40):
            picked = sample_indices(size, 5, seed=1)
            assert picked == sorted(set(picked))
            assert picked[0] == 0
            assert picked[-1] == size - 1
            assert len(picked) == min(size, 5)
        assert sample_indices(0, 5, seed=1) == []

    def test_empty_sources_pass(self) -> None:
        """A source without cases has nothing to sample but still round-trips."""
        check_source(random({"u": uniform(0, 1)}, 0, seed=0), fresh_process=False)

    def test_samples_below_two_are_refused(self) -> None:
        """Fewer than two samples cannot cover the first and the last index."""
        with pytest.raises(ValueError, match="at least 2"):
            check_source(grid(x=[1]), samples=1)


class TestCheckSourceCatches:
    """Each law, broken by a test double, makes check_source fail naming law and index."""

    def test_indexing_disagreeing_with_iteration(self, doubles: types.ModuleType) -> None:
        """Iteration that differs from indexing at the last index is caught there."""
        message = failure(doubles.BadIteration(5))
        assert "'indexing agrees with iteration'" in message
        assert "at index 4" in message
        assert "ParamCase(params={'i': 4}" in message
        assert "ParamCase(params={'i': 0}" in message

    def test_tags_differing_between_paths(self, doubles: types.ModuleType) -> None:
        """Cases that differ only in their tags are not the same case."""
        message = failure(doubles.BadTags(3))
        assert "'indexing agrees with iteration'" in message
        assert "at index 0" in message
        assert "'indexed'" in message

    def test_float_for_int(self, doubles: types.ModuleType) -> None:
        """Iteration giving 1.0 where indexing gives 1 is caught, though 1 == 1.0."""
        message = failure(doubles.FloatForInt(3))
        assert "'indexing agrees with iteration'" in message
        assert "{'i': 0}" in message
        assert "{'i': 0.0}" in message

    def test_wrong_negative_indices(self, doubles: types.ModuleType) -> None:
        """source[i - size] differing from source[i] is caught at the first such i."""
        message = failure(doubles.BadNegative(4))
        assert "'negative indices'" in message
        assert "at index 1" in message
        assert "source[-3]" in message

    def test_indices_that_do_not_raise(self, doubles: types.ModuleType) -> None:
        """An index past the end that gives a case instead of IndexError is caught."""
        message = failure(doubles.Wrapping(4))
        assert "'indices out of range raise IndexError'" in message
        assert "at index 4" in message

    def test_pickle_that_changes_the_source(self, doubles: types.ModuleType) -> None:
        """An unpickled source that differs from the original is caught, both shown."""
        message = failure(doubles.BadPickle(3))
        assert "'pickle round trip'" in message
        assert "BadPickle(n=3)" in message
        assert "BadPickle(n=4)" in message

    def test_manifest_that_loses_cases(self, doubles: types.ModuleType) -> None:
        """A manifest that rebuilds a different source is caught in-process."""
        message = failure(doubles.BadManifest(3))
        assert "'manifest round trip'" in message
        assert "BadManifest(n=2)" in message

    def test_manifest_that_json_changes(self, doubles: types.ModuleType) -> None:
        """A manifest fine in memory but changed by JSON text (int keys become str) is caught."""
        message = failure(doubles.IntKeyManifest(3))
        assert "'manifest round trip through JSON text'" in message
        assert "IntKeyManifest(n='3')" in message

    def test_unregistered_source_without_manifest(self, doubles: types.ModuleType) -> None:
        """A source type with no manifest form fails the manifest law, naming the error."""
        message = failure(doubles.NoManifest(2))
        assert "'manifest round trip'" in message
        assert "to_manifest_dict/from_manifest_dict raised UnsupportedOperationError" in message

    @pytest.mark.subprocess
    def test_values_that_depend_on_the_hash_seed(self, doubles: types.ModuleType) -> None:
        """Cases computed from hash(str) differ in a fresh process with another PYTHONHASHSEED."""
        message = failure(doubles.HashSeeded(16))
        assert "'same cases in a fresh process'" in message
        assert re.search(r"at index \d+", message)
        assert "PYTHONHASHSEED=" in message

    def test_cases_that_do_not_structure(self) -> None:
        """A structured view whose schema refuses a sampled case is caught at that index."""

        @attrs.frozen
        class Small:
            x: int = attrs.field(validator=attrs.validators.lt(3))

        view = grid(x=[1, 2, 3]).structured(Small)
        message = failure(view, fresh_process=False)
        assert "'every case structures'" in message
        assert "at index 2" in message

    def test_structured_views_that_fit_pass(self) -> None:
        """A view whose every case fits its schema passes."""

        @attrs.frozen
        class Config:
            x: int
            u: float

        check_source(
            (grid(x=[1, 2]) * random({"u": uniform(0, 1)}, 3, seed=0)).structured(Config),
            fresh_process=False,
        )


ROOT = Path(metalab.__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_my_sweep.py"


class TestExample:
    """The documented example test file runs and the docs page shows it as it is."""

    @pytest.mark.subprocess
    def test_example_tests_pass(self) -> None:
        """Every test function of examples/test_my_sweep.py passes when called."""
        spec = importlib.util.spec_from_file_location("metalab_example_test_my_sweep", EXAMPLE)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        tests = [value for name, value in vars(module).items() if name.startswith("test_")]
        assert len(tests) >= 4
        for test in tests:
            test()

    def test_docs_page_shows_the_example_verbatim(self) -> None:
        """docs/testing.md holds the example file, unchanged, in a python block."""
        page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
        assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```\n" in page
