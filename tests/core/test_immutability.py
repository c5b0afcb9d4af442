"""Sources, distributions and cases are frozen, and never share the user's mutable input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import Distribution, ParamSource, choice, grid, manual, random, uniform
from metalab._core.case import encode_value
from metalab.testing import distributions, grids, manual_sources, random_sources

ANY_LEAF = st.one_of(grids(), random_sources(), manual_sources())


def field_names(value: object) -> list[str]:
    """The names of every attrs field of a value, private ones included."""
    cls: Any = type(value)
    return [f.name for f in attrs.fields(cls)]


def assert_frozen(value: object) -> None:
    """Assigning or deleting any attrs field (private ones too) or a new attribute raises."""
    names = field_names(value)
    assert names
    for name in [*names, "not_a_field"]:
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            setattr(value, name, None)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            delattr(value, name)


def assert_read_only(value: object) -> None:
    """Mappings in a value refuse item assignment; sequences are tuples (or ranges)."""
    if isinstance(value, Mapping):
        with pytest.raises(TypeError):
            value["new key"] = 1  # type: ignore[index]
        for item in value.values():
            assert_read_only(item)
    elif isinstance(value, tuple):
        for item in value:
            assert_read_only(item)
    else:
        assert not isinstance(value, list | dict | set)


class TestFrozen:
    """No field of a source, distribution or case can be changed."""

    @given(source=ANY_LEAF)
    def test_sources_are_frozen(self, source: ParamSource) -> None:
        """Every field of a source refuses assignment, and its containers are read-only."""
        before = [encode_value(c.params) for c in source]
        assert_frozen(source)
        for name in field_names(source):
            if not name.startswith("_"):
                assert_read_only(getattr(source, name))
        for case in source:
            assert_frozen(case)
            assert_read_only(case.params)
        assert [encode_value(c.params) for c in source] == before

    @given(dist=distributions())
    def test_distributions_are_frozen(self, dist: Distribution) -> None:
        """Every field of a distribution refuses assignment; choice options are a tuple."""
        assert_frozen(dist)
        for name in field_names(dist):
            if not name.startswith("_"):
                assert_read_only(getattr(dist, name))


class TestInputsAreCopied:
    """Mutating what the user handed in afterwards changes nothing."""

    def test_grid_copies_its_lists(self) -> None:
        """Appending to a grid's value list, or to a list value, leaves the grid unchanged."""
        values: list[Any] = [1, [2, 3]]
        spec = {"x": values}
        source = grid(spec)
        values.append(4)
        values[1].append(5)
        spec["y"] = [0]
        assert source.size == 2
        assert source.keys == ("x",)
        assert [c.params["x"] for c in source] == [1, (2, 3)]

    def test_manual_copies_its_cases_and_tags(self) -> None:
        """Mutating the case list, a case dict, a nested list or the tags changes nothing."""
        inner = [1]
        case: dict[str, Any] = {"a": inner, "b": {"c": 1}}
        cases = [case]
        tags = ["t"]
        source = manual(cases, tags=tags)
        cases.append({"a": 2})
        case["z"] = 0
        case["b"]["c"] = 2
        inner.append(2)
        tags.append("u")
        assert source.size == 1
        assert source[0].params == {"a": (1,), "b": {"c": 1}}
        assert source[0].tags == ("t", "manual_0")

    def test_random_copies_its_space_and_choice_its_options(self) -> None:
        """Adding to the space dict or the options list after construction changes nothing."""
        options: list[Any] = ["a", "b"]
        space: dict[str, Distribution] = {"u": uniform(0, 1), "c": choice(options)}
        source = random(space, 4, seed=3)
        before = [encode_value(c.params) for c in source]
        options.append("c")
        space["v"] = uniform(0, 1)
        del space["u"]
        assert source.keys == ("c", "u")
        assert [encode_value(c.params) for c in source] == before
