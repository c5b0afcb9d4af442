"""`ParamCase`: params that equal the plain dict, a stable fingerprint, and tags."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import ParamCase, grid, manual, random, uniform
from metalab._core.case import encode_value
from metalab._core.values import key_path_clashes
from metalab.testing import param_names, param_values

if TYPE_CHECKING:
    from metalab import ParamValue

params_dicts = st.dictionaries(param_names(), param_values(), max_size=3).filter(
    lambda params: not key_path_clashes(params)
)


class TestParams:
    """A case's params are a read-only dict equal to the plain dict."""

    @given(params=params_dicts)
    def test_params_equal_the_plain_dict(self, params: dict[str, ParamValue]) -> None:
        """The params equal the dict they were built from, are a dict, and dump to JSON."""
        case = ParamCase(params)
        assert case.params == params
        assert isinstance(case.params, dict)
        assert json.loads(json.dumps(case.params)) == json.loads(json.dumps(params))
        assert list(case.params) == sorted(params)

    @pytest.mark.parametrize(
        "mutate",
        [
            lambda p: p.__setitem__("x", 2),
            lambda p: p.__delitem__("x"),
            lambda p: p.update(x=2),
            lambda p: p.setdefault("y", 2),
            lambda p: p.pop("x"),
            lambda p: p.popitem(),
            lambda p: p.clear(),
            lambda p: p.__ior__({"x": 2}),
        ],
        ids=["setitem", "delitem", "update", "setdefault", "pop", "popitem", "clear", "ior"],
    )
    def test_mutating_params_raises(self, mutate: Any) -> None:
        """Every mutating dict method raises TypeError and leaves the params unchanged."""
        case = ParamCase({"x": 1, "nested": {"a": [1, 2]}})
        with pytest.raises(TypeError, match="parameters are immutable"):
            mutate(case.params)
        with pytest.raises(TypeError, match="parameters are immutable"):
            mutate(case.params["nested"])
        assert case.params == {"x": 1, "nested": {"a": (1, 2)}}

    def test_params_copy_the_input(self) -> None:
        """Mutating the dict (or a list inside it) handed to ParamCase changes nothing."""
        inner = [1, 2]
        params: dict[str, Any] = {"x": inner}
        case = ParamCase(params)
        params["y"] = 3
        inner.append(3)
        assert case.params == {"x": (1, 2)}

    def test_fields_cannot_be_assigned(self) -> None:
        """Assigning or deleting params, tags, case_id or a new attribute raises."""
        case = ParamCase({"x": 1}, ("t",))
        for name in ("params", "tags", "case_id", "other"):
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                setattr(case, name, None)
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                delattr(case, name)
        assert case == ParamCase({"x": 1}, ("t",))


class TestCaseId:
    """case_id: 16 hex characters, a pure function of the params."""

    @given(a=params_dicts, b=params_dicts, tags=st.lists(st.text(max_size=3), max_size=2))
    def test_case_id_is_a_16_hex_fingerprint_of_the_params(
        self, a: dict[str, ParamValue], b: dict[str, ParamValue], tags: list[str]
    ) -> None:
        """16 hex digits, equal exactly when the params are (by value and type), tags ignored.

        Key order and pickling do not change the id either.
        """
        case = ParamCase(a, tags)
        assert re.fullmatch(r"[0-9a-f]{16}", case.case_id)
        assert ParamCase(dict(reversed(list(a.items())))).case_id == case.case_id
        assert pickle.loads(pickle.dumps(case)).case_id == case.case_id  # noqa: S301
        other = ParamCase(b)
        same_params = encode_value(case.params) == encode_value(other.params)
        assert (case.case_id == other.case_id) is same_params

    def test_case_id_follows_the_documented_encoding(self) -> None:
        """The id is BLAKE2b-64 (person metalab.case.v1) over the type-tagged items, sorted."""
        encoded = b"s2:lr" + b"d" + (0.1).hex().encode() + b";" + b"s1:n" + b"i3;"
        expected = hashlib.blake2b(encoded, digest_size=8, person=b"metalab.case.v1").hexdigest()
        assert ParamCase({"n": 3, "lr": 0.1}).case_id == expected

    def test_case_id_tells_apart_values_python_calls_equal(self) -> None:
        """1, 1.0, True and "1" (also inside tuples and dicts) give four different ids."""
        looks_alike: list[ParamValue] = [1, 1.0, True, "1"]
        for wrap in (lambda v: v, lambda v: (v,), lambda v: {"k": v}):
            ids = {ParamCase({"x": wrap(v)}).case_id for v in looks_alike}
            assert len(ids) == 4
        assert ParamCase({"x": 0.0}).case_id != ParamCase({"x": -0.0}).case_id

    def test_case_equality_agrees_with_the_id(self) -> None:
        """Cases are equal exactly when params (with their types) and tags are: as ids tell."""
        looks_alike: list[ParamValue] = [1, 1.0, True, "1"]
        cases = [ParamCase({"x": v}) for v in looks_alike]
        for a in cases:
            for b in cases:
                assert (a == b) == (a.case_id == b.case_id) == (a is b)
        assert ParamCase({"x": 1, "y": (2,)}) == ParamCase({"y": [2], "x": 1})
        assert hash(ParamCase({"x": 1, "y": (2,)})) == hash(ParamCase({"y": [2], "x": 1}))
        assert ParamCase({"x": 1}, ["a"]) != ParamCase({"x": 1}, ["b"])

    def test_sources_give_the_id_of_their_params(self) -> None:
        """A case from any source has the id of a ParamCase built from its params."""
        for source in (
            grid(x=[1, 2.0], y=range(3)),
            manual([{"a": [1]}, {"b": {"c": True}}]),
            random({"u": uniform(0, 1)}, 3, seed=1),
        ):
            for case in source:
                assert case.case_id == ParamCase(case.params).case_id


class TestTags:
    """Tags say where a case came from."""

    def test_source_tags(self) -> None:
        """Grid cases have no tags, manual cases the user's tags then manual_i, random trial_i."""
        assert [c.tags for c in grid(x=[1, 2])] == [(), ()]
        assert [c.tags for c in manual([{"x": 1}, {"x": 2}], tags=["a", "b"])] == [
            ("a", "b", "manual_0"),
            ("a", "b", "manual_1"),
        ]
        assert [c.tags for c in manual([{"x": 1}])] == [("manual_0",)]
        assert [c.tags for c in random({"u": uniform(0, 1)}, 2, seed=0)] == [
            ("trial_0",),
            ("trial_1",),
        ]

    def test_tags_are_a_tuple_copied_from_the_input(self) -> None:
        """Tags given as a list become a tuple; mutating the list afterwards changes nothing."""
        tags = ["a"]
        case = ParamCase({}, tags)
        source = manual([{"x": 1}], tags=tags)
        tags.append("b")
        assert case.tags == ("a",)
        assert source[0].tags == ("a", "manual_0")
