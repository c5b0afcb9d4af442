"""Bad sweep definitions fail at construction with a ParamError naming parameter and problem."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from metalab import (
    ParamCase,
    choice,
    grid,
    loguniform,
    loguniform_int,
    manual,
    randint,
    random,
    uniform,
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
    ("grid 0-d array", lambda: grid(x=np.array(3)), ("'x'", "0-d array")),
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
