"""`ParamCase`: params that equal the plain dict, a stable fingerprint, and tags."""

from __future__ import annotations

import copy
import gc
import hashlib
import json
import pickle
import re
from typing import TYPE_CHECKING, Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import ParamCase, ParamSource, grid, manual, randint, random, replicates, uniform
from metalab._core.case import encode_value
from metalab._core.values import FrozenParams, key_path_clashes
from metalab.errors import ParamError
from metalab.testing import param_names, param_values

if TYPE_CHECKING:
    from metalab import ParamValue, Raw

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

    @pytest.mark.parametrize("how", ["index", "iterate", "take"])
    def test_a_trial_writes_its_tag_when_first_read(self, how: str) -> None:
        """A random case holds its trial number until its tags are read, then the tuple."""
        source = random({"u": uniform(0, 1)}, 40, seed=3)
        if how == "index":
            case = source[17]
        elif how == "iterate":
            case = list(source)[17]
        else:
            case = source.take([17])[0]
        twin = ParamCase(dict(case.params), ("trial_17",))
        assert case._tags == 17
        assert case == twin
        assert hash(case) == hash(twin)
        assert repr(case) == repr(twin)
        assert pickle.loads(pickle.dumps(case)) == twin  # noqa: S301 - our own pickle
        tags = case.tags
        assert tags == ("trial_17",)
        assert type(tags) is tuple
        assert case.tags is tags
        assert case == twin
        assert attrs.evolve(case, tags=["x"]).tags == ("x",)
        assert source.raw(17)[1] == ("trial_17",)

    def test_an_int_is_no_tags(self) -> None:
        """Only a source may hand a case its trial number: an int given as tags is refused."""
        with pytest.raises(ParamError, match="tags must be a list of str"):
            ParamCase({}, 3)  # type: ignore[arg-type]

    def test_tags_are_a_tuple_copied_from_the_input(self) -> None:
        """Tags given as a list become a tuple; mutating the list afterwards changes nothing."""
        tags = ["a"]
        case = ParamCase({}, tags)
        source = manual([{"x": 1}], tags=tags)
        tags.append("b")
        assert case.tags == ("a",)
        assert source[0].tags == ("a", "manual_0")


def _tracked_referents(case: ParamCase) -> list[object]:
    """What ``case`` refers to that the cyclic collector tracks, its class left out."""
    return [o for o in gc.get_referents(case) if gc.is_tracked(o) and o is not ParamCase]


def _sources_of_atomic_cases() -> list[ParamSource]:
    """One source of each kind that builds its own params, all values atomic."""
    g = grid(x=[1, 2, 3], y=["a", "b"])
    r = random({"lr": uniform(0.0, 1.0), "n": randint(1, 4)}, 6, seed=0)
    return [g, r, g * r, (g + manual([{"x": 9, "y": "z"}])) * r, replicates(4, seed=0)]


class TestKeptCases:
    """A case a source builds is one object the cyclic collector tracks, until read."""

    @pytest.mark.parametrize("how", ["iterate", "index", "take"])
    def test_a_built_case_adds_one_tracked_object(self, how: str) -> None:
        """Iterated, indexed or taken, a case's params and tags are left to reference counting."""
        for source in _sources_of_atomic_cases():
            if how == "iterate":
                cases = list(source)
            elif how == "index":
                cases = [source[i] for i in range(len(source))]
            else:
                cases = source.take(range(len(source)))
            gc.collect()  # untracks the tags tuples of atomic values
            assert [_tracked_referents(case) for case in cases] == [[]] * len(cases), source

    def test_reading_params_gives_one_read_only_view(self) -> None:
        """The first read makes the view; later reads return the same object."""
        case = random({"lr": uniform(0.0, 1.0)}, 3, seed=0)[1]
        params = case.params
        assert case.params is params
        with pytest.raises(TypeError, match="immutable"):
            params["lr"] = 1.0  # type: ignore[index]
        assert type(params) is FrozenParams
        assert json.loads(json.dumps(params)) == params

    def test_the_case_is_the_same_before_and_after_its_params_are_read(self) -> None:
        """Equality, hash, repr and case_id do not depend on whether the view was made."""
        for source in _sources_of_atomic_cases():
            for i in range(len(source)):
                fresh, read = source[i], source[i]
                _ = read.params
                assert fresh == read
                assert hash(fresh) == hash(read)
                assert repr(fresh) == repr(read)
                assert fresh.case_id == read.case_id == ParamCase(dict(read.params)).case_id

    def test_pickling_a_built_case_keeps_it(self) -> None:
        """A pickled case, read or not, comes back equal with the same id and read-only params."""
        for case in list(grid(x=[1, 2]) * random({"lr": uniform(0.0, 1.0)}, 2, seed=0)):
            back = pickle.loads(pickle.dumps(case))  # noqa: S301 - our own pickle
            assert back == case
            assert back.case_id == case.case_id
            assert type(back.params) is FrozenParams
            assert pickle.loads(pickle.dumps(back)) == case  # noqa: S301

    def test_copies_share_no_mutable_state(self) -> None:
        """copy.copy and attrs.evolve of a built case give read-only params equal to its own."""
        case = grid(x=[1, 2])[0]
        others: list[ParamCase] = [
            copy.copy(case),
            copy.deepcopy(case),
            attrs.evolve(case, tags=("t",)),
        ]
        for other in others:
            assert other.params == {"x": 1}
            with pytest.raises(TypeError, match="immutable"):
                other.params["x"] = 2  # type: ignore[index]
        assert case.params == {"x": 1}

    def test_pattern_matching_binds_the_view(self) -> None:
        """``case ParamCase(params, tags)`` binds the read-only params, never the stored dict."""
        match grid(x=[1])[0]:
            case ParamCase(params, tags):
                assert type(params) is FrozenParams
                assert tags == ()
            case _:  # pragma: no cover - the pattern above matches
                pytest.fail("not matched")

    def test_a_source_defined_outside_metalab_cannot_change_a_case(self) -> None:
        """A raw(i) that hands out a dict it keeps: changing that dict later leaves the case."""
        source = _SharedRaw()
        case = source[0]
        _SHARED["x"] = "changed"
        assert case.params == {"x": 0}
        assert case.case_id == ParamCase({"x": 0}).case_id


_SHARED: dict[str, ParamValue] = {"x": 0}


@attrs.frozen
class _SharedRaw(ParamSource):
    """One case whose raw(i) hands out a dict the source keeps and may change later."""

    @property
    def size(self) -> int:
        """One case."""
        return 1

    @property
    def keys(self) -> tuple[str, ...]:
        """The one parameter."""
        return ("x",)

    def raw(self, i: int) -> Raw:
        """The shared dict itself, not a copy."""
        del i
        return _SHARED, ()
