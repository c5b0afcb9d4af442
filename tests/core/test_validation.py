"""Bad sweep definitions fail at construction with a ParamError naming parameter and problem."""

from __future__ import annotations

import datetime as dt
import enum
import re
import sys
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    ParamCase,
    choice,
    grid,
    lognormal,
    loguniform,
    loguniform_int,
    manual,
    normal,
    randint,
    random,
    replicates,
    uniform,
)
from metalab import zip as zip_
from metalab._core.values import (
    FrozenParams,
    atomic_dicts,
    atomic_items,
    column_array,
    named_items,
    normalize_mapping,
    normalize_value,
)
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable

NAN = float("nan")
INF = float("inf")

# Each row: (id, a call that must fail, fragments the message must contain: the parameter
# (or argument) it is about, and the problem). Arguments are typed Any where the point is
# that run-time callers can pass what the signature forbids.
BAD: list[tuple[str, Callable[[], object], tuple[str, ...]]] = [
    # empty value lists
    ("grid empty list", lambda: grid(x=[]), ("'x'", "non-empty")),
    ("grid empty tuple", lambda: grid(x=()), ("'x'", "non-empty")),
    ("grid empty range", lambda: grid(x=range(5, 5)), ("'x'", "non-empty")),
    ("grid empty array", lambda: grid(x=np.array([])), ("'x'", "non-empty", "array")),
    ("choice empty", lambda: choice([]), ("choice(options)", "non-empty")),
    # a string or other non-sequence as grid values
    ("grid str", lambda: grid(x="abc"), ("'x'", "sequence", "str 'abc'")),
    ("grid bytes", lambda: grid(x=_any(b"ab")), ("'x'", "sequence", "bytes")),
    ("grid int", lambda: grid(x=_any(5)), ("'x'", "sequence", "int 5")),
    ("grid set", lambda: grid(x=_any({1, 2})), ("'x'", "ordered sequence", "set")),
    ("grid dict", lambda: grid(x=_any({"a": 1})), ("'x'", "sequence", "dict")),
    ("grid generator", lambda: grid(x=_any(iter([1]))), ("'x'", "sequence")),
    ("grid 0-d array", lambda: grid(x=np.array(3)), ("'x'", "0-d NumPy array holding 3")),
    ("choice str", lambda: choice(_any("abc")), ("choice(options)", "list", "str 'abc'")),
    # NaN and infinite floats
    ("grid nan", lambda: grid(x=[NAN]), ("'x'", "NaN and infinite", "nan")),
    ("grid inf", lambda: grid(x=[1, INF]), ("'x'", "NaN and infinite", "inf")),
    ("grid numpy nan", lambda: grid(x=np.array([np.nan])), ("'x'", "NaN and infinite")),
    ("grid nested inf", lambda: grid(x=[[1, -INF]]), ("'x'", "NaN and infinite", "-inf")),
    ("manual nan", lambda: manual([{"lr": NAN}]), ("case 0", "'lr'", "NaN and infinite")),
    ("choice nan", lambda: choice([NAN]), ("choice(options)", "NaN and infinite")),
    ("case nan", lambda: ParamCase({"lr": NAN}), ("'lr'", "NaN and infinite")),
    ("uniform nan", lambda: uniform(NAN, 1), ("uniform", "low", "finite")),
    ("uniform inf", lambda: uniform(0, INF), ("uniform", "high", "finite")),
    ("loguniform inf", lambda: loguniform(1, INF), ("loguniform", "high", "finite")),
    # values that cannot go into a JSON manifest
    ("grid object", lambda: grid(x=[_any(object())]), ("'x'", "cannot go into a JSON manifest")),
    ("grid bytes value", lambda: grid(x=[b"a"]), ("'x'", "bytes", "JSON manifest")),
    ("grid complex", lambda: grid(x=[_any(1j)]), ("'x'", "complex", "JSON manifest")),
    ("grid set value", lambda: grid(x=[_any({1})]), ("'x'", "set", "JSON manifest")),
    (
        "grid date",
        lambda: grid(x=[_any(dt.date(2020, 1, 1))]),
        ("'x'", "date", "JSON manifest"),
    ),
    ("manual object", lambda: manual([{"m": _any(object())}]), ("case 0", "'m'", "JSON manifest")),
    ("choice object", lambda: choice([_any(object())]), ("choice(options)", "JSON manifest")),
    (
        "lone surrogate",
        lambda: grid(x=["ok", "\ud800"]),
        ("'x'", "lone surrogate", "manifest"),
    ),
    # non-str keys
    ("grid int key", lambda: grid({_any(1): [1]}), ("grid", "parameter names must be str", "1")),
    ("grid empty key", lambda: grid({"": [1]}), ("grid", "parameter names must be non-empty")),
    ("nested int key", lambda: grid(x=[{_any(1): 2}]), ("'x'", "names must be str")),
    ("manual int key", lambda: manual([{_any(1): 2}]), ("case 0", "names must be str")),
    (
        "random int key",
        lambda: random({_any(1): uniform(0, 1)}, 1, seed=0),
        ("random space", "names must be str"),
    ),
    ("case int key", lambda: ParamCase({_any(1): 2}), ("ParamCase", "names must be str")),
    # bounds in the wrong order
    ("uniform reversed", lambda: uniform(2, 1), ("uniform(low=2, high=1)", "less than high")),
    ("loguniform reversed", lambda: loguniform(2, 1), ("loguniform", "less than high")),
    # non-positive log bounds
    ("loguniform zero", lambda: loguniform(0, 1), ("loguniform(low=0", "positive")),
    ("loguniform negative", lambda: loguniform(-1, 1), ("loguniform(low=-1", "positive")),
    ("loguniform_int zero", lambda: loguniform_int(0, 5), ("loguniform_int(low=0", "positive")),
    # non-int bounds for integer laws (an integral float is not an int)
    ("randint float low", lambda: randint(_any(1.0), 5), ("randint", "low", "int", "float")),
    ("randint float high", lambda: randint(1, _any(5.0)), ("randint", "high", "int", "float")),
    ("randint bool", lambda: randint(_any(True), 5), ("randint", "low", "int", "bool")),
    ("randint str", lambda: randint(_any("1"), 5), ("randint", "low", "int", "str")),
    (
        "loguniform_int float",
        lambda: loguniform_int(_any(2.0), 8),
        ("loguniform_int", "low", "int", "float"),
    ),
    ("uniform str", lambda: uniform(_any("0"), 1), ("uniform", "low", "number", "str")),
    # empty integer range
    ("randint empty", lambda: randint(5, 4), ("randint(low=5, high=4)", "empty")),
    ("loguniform_int empty", lambda: loguniform_int(8, 2), ("loguniform_int(low=8", "empty")),
    # n_trials
    ("n_trials negative", lambda: _random(n_trials=-1), ("n_trials", ">= 0", "-1")),
    ("n_trials float", lambda: _random(n_trials=1.5), ("n_trials", "int", "float 1.5")),
    ("n_trials integral float", lambda: _random(n_trials=2.0), ("n_trials", "int", "float 2.0")),
    ("n_trials bool", lambda: _random(n_trials=True), ("n_trials", "int", "bool")),
    ("n_trials str", lambda: _random(n_trials="3"), ("n_trials", "int", "str")),
    # seeds
    ("seed negative", lambda: _random(seed=-1), ("seed", "[0, 2**64)", "-1")),
    ("seed too big", lambda: _random(seed=2**64), ("seed", "[0, 2**64)", str(2**64))),
    ("seed bool", lambda: _random(seed=True), ("seed", "int", "bool")),
    ("seed float", lambda: _random(seed=1.0), ("seed", "int", "float")),
    ("seed None", lambda: _random(seed=None), ("seed", "int", "None")),
    ("seed str", lambda: _random(seed="0"), ("seed", "int", "str")),
    # manual cases that are not mappings
    ("manual int case", lambda: manual([_any(1)]), ("manual case 0", "mapping", "int 1")),
    ("manual pairs", lambda: manual([_any([("x", 1)])]), ("manual case 0", "mapping", "list")),
    ("manual None case", lambda: manual([{"x": 1}, _any(None)]), ("manual case 1", "mapping")),
    ("manual single dict", lambda: manual(_any({"x": 1})), ("manual cases", "single dict")),
    ("manual str", lambda: manual(_any("abc")), ("manual cases", "list of dicts", "str")),
    # random spaces
    ("random list value", lambda: random({"x": _any([1, 2])}, 1, seed=0), ("'x'", "choice")),
    ("random empty space", lambda: random({}, 1, seed=0), ("random space", "at least one")),
    # NumPy values whose Python form would mean something else
    ("datetime64 ns", lambda: grid(t=[_any(np.datetime64(1, "ns"))]), ("'t'", "datetime64")),
    ("datetime64 us", lambda: grid(t=[_any(np.datetime64(1, "us"))]), ("'t'", "datetime64")),
    ("datetime64 NaT", lambda: grid(t=[_any(np.datetime64("NaT"))]), ("'t'", "datetime64")),
    ("timedelta64", lambda: manual([{"t": _any(np.timedelta64(5, "ns"))}]), ("'t'", "timedelta64")),
    (
        "datetime64 array",
        lambda: grid(t=[_any(np.array(["2020-01-01"], dtype="datetime64[ns]"))]),
        ("'t'", "dtype datetime64[ns]"),
    ),
    (
        "inexact longdouble",
        lambda: (
            grid(x=[np.longdouble(1) / np.longdouble(3)])
            if np.finfo(np.longdouble).nmant > 52
            else grid(x=[np.longdouble("inf")])
        ),
        ("'x'", "longdouble"),
    ),
    ("numpy complex", lambda: grid(x=[_any(np.complex128(1))]), ("'x'", "complex128", "manifest")),
    ("numpy bytes", lambda: grid(x=[np.bytes_(b"a")]), ("'x'", "bytes_", "manifest")),
    ("numpy void", lambda: grid(x=[_any(np.void(b"a"))]), ("'x'", "void", "manifest")),
    (
        "structured array",
        lambda: grid(x=[_any(np.zeros(2, dtype=[("a", "i4")]))]),
        ("'x'", "dtype", "manifest"),
    ),
    ("complex array", lambda: grid(x=[_any(np.ones(2, dtype=complex))]), ("'x'", "complex128")),
    ("bytes array", lambda: manual([{"x": _any(np.array([b"a"]))}]), ("'x'", "dtype |S1")),
    # numbers beyond the float range, and huge ints in messages
    ("normal huge mu", lambda: normal(10**400, 1), ("normal", "mu", "float range")),
    ("normal huge sigma", lambda: normal(0, 10**400), ("normal", "sigma", "float range")),
    ("lognormal huge mu", lambda: lognormal(-(10**400), 1), ("lognormal", "mu", "float range")),
    ("normal complex", lambda: normal(_any(np.complex128(1)), 1), ("normal", "mu", "number")),
    ("uniform huge", lambda: uniform(0, 10**5000), ("uniform", "high", "float range")),
    ("loguniform huge", lambda: loguniform(1, 10**5000), ("loguniform", "high", "float range")),
    ("randint huge", lambda: randint(0, 10**5000), ("randint", "int64", "0000")),
    ("loguniform_int huge", lambda: loguniform_int(1, 10**400), ("loguniform_int", "int64")),
    ("randint timedelta", lambda: randint(_any(np.timedelta64(1)), 5), ("low", "int")),
    ("randint huge step", lambda: randint(0, 10, step=10**5000 + 1), ("step", "multiple")),
    ("grid huge empty range", lambda: grid(x=range(10**5000, 0)), ("'x'", "non-empty", "range(")),
    ("grid int key huge", lambda: grid({_any(10**5000): [1]}), ("grid", "names must be str")),
]


def _any(value: object) -> Any:
    """Hand a value to an API whose signature forbids it, as untyped code can."""
    return value


def _random(n_trials: object = 3, seed: object = 0) -> object:
    return random({"x": uniform(0, 1)}, _any(n_trials), _any(seed))


class TestValidation:
    """Every bad input named in the core contract is refused when the source is built."""

    @pytest.mark.parametrize(
        ("build", "fragments"), [row[1:] for row in BAD], ids=[row[0] for row in BAD]
    )
    def test_bad_input_raises_param_error_naming_parameter_and_problem(
        self, build: Callable[[], object], fragments: tuple[str, ...]
    ) -> None:
        """The error is a ParamError (a ValueError) whose message has every fragment."""
        with pytest.raises(ParamError) as info:
            build()
        assert isinstance(info.value, ValueError)
        message = str(info.value)
        for fragment in fragments:
            assert fragment in message, (fragment, message)

    @given(seed=st.integers(0, 2**64 - 1), n_trials=st.integers(0, 10**6))
    def test_every_valid_seed_and_trial_count_is_accepted(self, seed: int, n_trials: int) -> None:
        """The whole seed range [0, 2**64) and any n_trials >= 0 build a source."""
        source = random({"x": uniform(0, 1)}, n_trials, seed)
        assert (source.seed, source.size) == (seed, n_trials)

    @given(low=st.integers(-(2**63), 2**63 - 1), width=st.integers(0, 10))
    def test_single_value_integer_ranges_are_valid(self, low: int, width: int) -> None:
        """randint(low, high) with low <= high is valid, including low == high."""
        high = min(low + width, 2**63 - 1)
        dist = randint(low, high)
        assert (dist.low, dist.high) == (low, high)


class _Opt(enum.StrEnum):
    LR = "lr"
    SEED = "seed"


class _Renamed(str):
    """A str whose repr spells another name: generated code must never use it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'other'"


class _OwnHash(str):
    """A str equal to its text but hashed apart, so a dict can hold it next to the text."""

    __slots__ = ()

    def __hash__(self) -> int:
        return 1

    def __eq__(self, other: object) -> bool:
        return type(other) is _OwnHash and str.__eq__(self, other)


def _every_kind_of_source(name: str) -> list[Any]:
    """One source of every leaf kind with the single parameter ``name`` (and a product)."""
    g = grid({name: [1, 2]})
    return [
        g,
        random({name: uniform(0, 1)}, 3, seed=0),
        manual([{name: 1}]),
        zip_({name: [1, 2]}),
        replicates(2, seed=0, key=name),
        g * grid(zz=[0]),
        random({name: randint(0, 3)}, 2, seed=0) * manual([{"zz": 0}]),
    ]


class TestNames:
    """Parameter names are normalized to exact str and never spliced into code as given."""

    @pytest.mark.parametrize("name", [_Opt.LR, _Renamed("lr")], ids=["StrEnum", "own repr"])
    def test_str_subclass_names_become_exact_str(self, name: str) -> None:
        """A StrEnum or a str with its own repr names the parameter by its text, everywhere."""
        for source in _every_kind_of_source(name):
            case = source[0]
            assert "lr" in case.params, source
            assert all(type(k) is str for k in case.params)
            assert all(type(k) is str for k in source.keys)
            assert "other" not in case.params
            assert all("lr" in p for p in source.dicts())
            assert next(iter(source)) == case

    def test_str_subclass_names_in_nested_values_and_cases(self) -> None:
        """Keys of dict values and of ParamCase params are exact str too."""
        case = ParamCase({_Opt.LR: {_Opt.SEED: 1}})
        assert [type(k) for k in case.params] == [str]
        assert [type(k) for k in case.params["lr"]] == [str]  # type: ignore[union-attr]
        assert case == ParamCase({"lr": {"seed": 1}})

    def test_tags_become_exact_str(self) -> None:
        """A StrEnum tag is kept as its text."""
        assert [type(t) for t in manual([{"x": 1}], tags=[_Opt.LR])[0].tags] == [str, str]

    @pytest.mark.parametrize(
        "build",
        [
            lambda: grid({"lr": [1], _OwnHash("lr"): [2]}),
            lambda: random({"lr": uniform(0, 1), _OwnHash("lr"): uniform(0, 1)}, 1, seed=0),
            lambda: manual([{"lr": 1, _OwnHash("lr"): 2}]),
            lambda: zip_({"lr": [1], _OwnHash("lr"): [2]}),
        ],
        ids=["grid", "random", "manual", "zip"],
    )
    def test_two_keys_of_one_name_are_refused(self, build: Callable[[], object]) -> None:
        """Keys that are one name once normalized raise instead of one being dropped."""
        with pytest.raises(ParamError, match="'lr' is given twice"):
            build()


class TestNumpyValues:
    """Every NumPy scalar kind is kept faithfully or refused, never changed in meaning."""

    def test_zero_d_array_in_a_list_is_its_value(self) -> None:
        """A 0-d array inside a list is its one value, not a bare TypeError."""
        assert grid(x=[[_any(np.array(3)), _any(np.array("a"))]])[0].params == {"x": (3, "a")}
        assert type(normalize_value(np.array(2.5), "x")) is float

    def test_exact_longdouble_is_its_float(self) -> None:
        """A long double that a float64 holds exactly becomes that float, at once."""
        assert normalize_value(np.longdouble(0.5), "x") == 0.5
        assert normalize_value(np.array([1, 2], dtype=np.longdouble), "x") == (1.0, 2.0)

    def test_numpy_str_and_object_arrays_keep_their_values(self) -> None:
        """np.str_ becomes an exact str; an object array's items are normalized one by one."""
        assert type(normalize_value(np.str_("a"), "x")) is str
        assert normalize_value(np.array([1, "a", None], dtype=object), "x") == (1, "a", None)

    def test_int_and_float_subclasses_become_builtins_without_their_hooks(self) -> None:
        """An int or float subclass is stored as the exact builtin of the same value."""

        class Odd(int):
            def __int__(self) -> int:
                return 99

        value = normalize_value(Odd(3), "x")
        assert (type(value), value) == (int, 3)


class TestStrColumns:
    """Columns keep str values exactly, trailing NUL characters included."""

    def test_trailing_nul_survives_columns(self) -> None:
        """NumPy's str dtype would drop a trailing NUL: such a column holds the strs."""
        values = ["a\0", "b", "\0"]
        for source in (grid(x=values), manual([{"x": v} for v in values])):
            assert source.columns()["x"].tolist() == values
        assert column_array(["a", "b"]).dtype.kind == "U"


class TestHugeInts:
    """Ints beyond Python's int-to-str limit work exactly, whatever the limit is set to."""

    def test_grid_of_huge_ints_indexes_prints_and_fingerprints(self) -> None:
        """A grid holds a 5000-digit int: indexing, repr, case_id and index_of all work."""
        big = 10**5000 + 7
        g = grid(x=[big, -big], y=range(big, big + 2))
        assert g[3].params == {"x": -big, "y": big + 1}
        assert repr(g).startswith("grid(x=[1000")
        assert repr(g).endswith("0009))")
        assert len(g[0].case_id) == 16
        assert g.index_of({"x": -big, "y": big}) == 2
        assert "1000" in repr(g[0])
        assert "1000" in repr(manual([{"x": big}]))
        assert "1000" in repr(choice([big]))

    def test_case_id_does_not_depend_on_the_int_str_limit(self) -> None:
        """The id of a huge int is the same under the default limit and with none."""
        big = -(10**5000) - 3
        old = sys.get_int_max_str_digits()
        try:
            sys.set_int_max_str_digits(640)
            limited = (ParamCase({"x": big}).case_id, ParamCase({"x": 10**620}).case_id)
            sys.set_int_max_str_digits(0)
            unlimited = (ParamCase({"x": big}).case_id, ParamCase({"x": 10**620}).case_id)
        finally:
            sys.set_int_max_str_digits(old)
        assert limited == unlimited

    def test_huge_range_axis_indexes_at_any_position(self) -> None:
        """A range axis of more than 10**5000 values indexes and prints without the limit."""
        g = grid(x=range(10**5000))
        assert g[-1].params["x"] == 10**5000 - 1
        assert g.size == 10**5000
        assert repr(g).startswith("grid(x=range(0, 1000")


def _long_way(mapping: dict[str, Any]) -> list[tuple[str, object]]:
    """The items normalize_mapping gives when it checks every key and value one by one."""
    items = named_items(mapping, "x")
    return [(k, normalize_value(v, f"x, key {k!r}")) for k, v in items]


class TestNormalFormShortcut:
    """A plain dict already in normal form is taken as it is, with the same result."""

    @given(
        mapping=st.dictionaries(
            st.text(min_size=0, max_size=4),
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
            max_size=5,
        )
    )
    def test_the_shortcut_gives_what_the_long_way_gives(self, mapping: dict[str, Any]) -> None:
        """Same items, same order, same exact types; what the long way refuses is refused."""
        try:
            expected = _long_way(mapping)
        except ParamError as error:
            with pytest.raises(ParamError, match=re.escape(str(error))):
                normalize_mapping(mapping, "x")
            return
        got = normalize_mapping(mapping, "x")
        assert list(got.items()) == expected
        assert [type(v) for v in got.values()] == [type(v) for _, v in expected]

    @given(
        dicts=st.lists(
            st.dictionaries(
                st.sampled_from(["", "a", "b", "é"]),
                st.none()
                | st.booleans()
                | st.integers()
                | st.floats()
                | st.sampled_from(["x", "ü"])
                | st.lists(st.integers(), max_size=1),
                max_size=3,
            ),
            max_size=4,
        )
    )
    def test_many_dicts_at_once_give_what_each_gives(self, dicts: list[dict[str, Any]]) -> None:
        """atomic_dicts takes dicts as atomic_items takes each, or declines them all."""
        got = atomic_dicts(dicts)
        each = [atomic_items(d) for d in dicts]
        if got is None:
            shapes = {tuple(d) for d in dicts}
            assert not dicts or len(shapes) > 1 or None in each or each[0] is not dicts[0]
            return
        assert len({tuple(d) for d in dicts}) == 1
        assert [list(f.items()) for f in got] == [list(d.items()) for d in dicts]
        assert all(type(f) is FrozenParams for f in got)
        assert all(e is d for e, d in zip(each, dicts, strict=True))

    def test_manual_encodes_no_case_until_index_of(self) -> None:
        """Defining a manual source encodes none of its cases; index_of then finds them."""
        cases = [{"x": i} for i in range(5)] + [{"x": 2}]
        with mock.patch(
            "metalab._sources.manual.encode_value", side_effect=AssertionError("encoded")
        ):
            source = manual(cases)
        assert source.index_of({"x": 2}) == 2
        assert source.index_of({"x": 4}) == 4
