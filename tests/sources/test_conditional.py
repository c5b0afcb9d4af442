"""Conditional parameters in random spaces: switch, when, dist.when and one_of."""

from __future__ import annotations

import pickle
from typing import NotRequired, TypedDict

import attrs
import numpy as np
import pytest

from metalab import (
    ConditionalRandomSource,
    Distribution,
    RandomSource,
    Switch,
    choice,
    col,
    grid,
    if_else,
    lit,
    loguniform,
    one_of,
    randint,
    random,
    switch,
    uniform,
    when,
)
from metalab.errors import EvaluationError, ExpressionError, ParamError, SchemaError

Space = dict[str, Distribution | Switch]


def _space() -> Space:
    return {
        "opt": choice(["adam", "sgd"]),
        "lr": switch(col("opt"), {"adam": loguniform(1e-4, 1e-2), "sgd": loguniform(1e-3, 1e-1)}),
        "momentum": uniform(0.8, 0.99).when(col("opt") == "sgd"),
    }


class TestDefinition:
    """Switches, when and their checks when a space is defined."""

    def test_switch_and_when_are_frozen_values(self) -> None:
        """Switches compare by their expression and branches, and cannot be changed."""
        a = switch(col("opt"), {"sgd": uniform(0, 1)})
        assert a == switch(col("opt"), {"sgd": uniform(0, 1)})
        assert a != switch(col("opt"), {"sgd": uniform(0, 2)})
        assert uniform(0, 1).when(col("x") > 1) == when(col("x") > 1, uniform(0, 1))
        with pytest.raises(AttributeError):
            a.expr = col("x")  # type: ignore[misc]

    def test_branch_keys_match_by_type(self) -> None:
        """A branch keyed 1 is not taken by 1.0 or True."""
        s = switch(col("n"), {1: uniform(0, 1)})
        assert s.branch(1) is not None
        assert s.branch(1.0) is None
        assert s.branch(True) is None

    def test_random_with_switch_builds_a_conditional_source(self) -> None:
        """random() gives a ConditionalRandomSource for a space holding a switch."""
        src = random(_space(), 10, seed=0)
        assert isinstance(src, ConditionalRandomSource)
        assert src.keys == ("lr", "momentum", "opt")
        assert isinstance(random({"x": uniform(0, 1)}, 3, seed=0), RandomSource)

    @pytest.mark.parametrize(
        ("space", "message"),
        [
            ({"a": uniform(0, 1).when(col("b") > 0)}, "reads 'b', which is no parameter"),
            (
                {"a": uniform(0, 1).when(col("b") > 0), "b": uniform(0, 1).when(col("a") > 0)},
                "cycle: 'a' -> 'b' -> 'a'",
            ),
            (
                {"o": choice(["x"]), "a": switch(col("o"), {"x": [1, 2]})},
                "value lists are for grids",
            ),
            (
                {"o": choice(["adam", "sgd"]), "a": switch(col("o"), {"adm": uniform(0, 1)})},
                "branch 'adm' is never taken",
            ),
            (
                {"o": choice(["adam"]), "a": uniform(0, 1).when(col("o") + 1 > 0)},
                "does not fit",
            ),
        ],
    )
    def test_bad_spaces_are_refused_when_defined(self, space: Space, message: str) -> None:
        """Unknown names, cycles, value lists and impossible branches are ParamErrors."""
        with pytest.raises(ParamError, match=message):
            random(space, 10, seed=0)

    def test_type_clash_is_an_expression_error(self) -> None:
        """A condition that does not fit the drawn values is an ExpressionError."""
        with pytest.raises(ExpressionError, match="'o'"):
            random({"o": choice(["a"]), "x": uniform(0, 1).when(col("o") * 2 > 1)}, 4, seed=0)

    def test_empty_and_malformed_branches_are_refused(self) -> None:
        """A switch needs branches; a branch is a distribution or a non-empty value list."""
        with pytest.raises(ParamError, match="at least one branch"):
            switch(col("o"), {})
        with pytest.raises(ParamError, match="non-empty"):
            when(col("o") == 1, [])
        with pytest.raises(ParamError, match="mixes distributions and value lists"):
            switch(col("o"), {1: uniform(0, 1), 2: [1]})
        with pytest.raises(ParamError, match="str, int, float, bool or None"):
            switch(col("o"), {(1, 2): uniform(0, 1)})
        with pytest.raises(ParamError, match="predicate built from col"):
            when(True, uniform(0, 1))  # type: ignore[arg-type]

    def test_legacy_algorithm_is_refused(self) -> None:
        """Conditional spaces draw with the current algorithm only."""
        with pytest.raises(ParamError, match="current algorithm"):
            random(_space(), 3, seed=0, algorithm="python-random-v0")


class TestOneOf:
    """Tree-shaped spaces from one_of."""

    def test_one_of_builds_a_choice_and_switches(self) -> None:
        """one_of gives a choice for the key and one switch per sub-space parameter."""
        space = one_of(
            "opt",
            {
                "adam": {"lr": loguniform(1e-4, 1e-2)},
                "sgd": {"lr": uniform(0, 1), "m": uniform(0, 1)},
            },
            weights=[3, 1],
        )
        assert space["opt"] == choice(["adam", "sgd"], weights=[3, 1])
        assert space["lr"] == switch(
            col("opt"), {"adam": loguniform(1e-4, 1e-2), "sgd": uniform(0, 1)}
        )
        assert space["m"] == switch(col("opt"), {"sgd": uniform(0, 1)})

    def test_weights_by_name(self) -> None:
        """Weights may be given by branch name, in any order."""
        space = one_of("k", {"a": {"x": uniform(0, 1)}, "b": {}}, weights={"b": 1, "a": 2})
        assert space["k"] == choice(["a", "b"], weights=[2, 1])

    def test_bad_one_of(self) -> None:
        """An empty one_of, a sub-space naming the key and mismatched weights are refused."""
        with pytest.raises(ParamError, match="non-empty mapping"):
            one_of("k", {})
        with pytest.raises(ParamError, match="names 'k'"):
            one_of("k", {"a": {"k": uniform(0, 1)}})
        with pytest.raises(ParamError, match="each branch once"):
            one_of("k", {"a": {}}, weights={"b": 1})
        with pytest.raises(ParamError, match="expected a distribution"):
            one_of("k", {"a": {"x": [1, 2]}})


class TestDraws:
    """Draws of conditional spaces: streams, absence, batches."""

    def test_absent_parameters_are_left_out(self) -> None:
        """A trial whose condition is false has no such key (not None)."""
        src = random(_space(), 200, seed=3)
        for case in src:
            assert ("momentum" in case.params) == (case.params["opt"] == "sgd")
            assert "lr" in case.params

    def test_active_values_equal_the_unconditional_draws(self) -> None:
        """An active parameter's value is the value its law draws in a space with no conditions."""
        src = random(_space(), 300, seed=5)
        plain_sgd = random(
            {
                "opt": choice(["adam", "sgd"]),
                "momentum": uniform(0.8, 0.99),
                "lr": loguniform(1e-3, 1e-1),
            },
            300,
            seed=5,
        )
        plain_adam = random({"lr": loguniform(1e-4, 1e-2)}, 300, seed=5)
        for i in range(300):
            case = src[i].params
            assert case["opt"] == plain_sgd[i].params["opt"]
            if case["opt"] == "sgd":
                assert case["momentum"] == plain_sgd[i].params["momentum"]
                assert case["lr"] == plain_sgd[i].params["lr"]
            else:
                assert case["lr"] == plain_adam[i].params["lr"]

    def test_other_parameters_do_not_move(self) -> None:
        """Adding, removing or re-weighting a conditional parameter leaves the others alone."""
        base: Space = {"opt": choice(["adam", "sgd"]), "x": randint(0, 10**6)}
        more: Space = {**base, "m": uniform(0, 1).when(col("opt") == "sgd")}
        reweighted: Space = {**base, "m": uniform(0, 1).when(col("opt") == "adam")}
        a, b, c = (random(s, 100, seed=9) for s in (base, more, reweighted))
        for i in range(100):
            for key in ("opt", "x"):
                assert a[i].params[key] == b[i].params[key] == c[i].params[key]

    def test_value_does_not_depend_on_which_others_are_conditional(self) -> None:
        """Making another parameter conditional does not change an active parameter's value."""
        one = random(
            {"o": choice([0, 1]), "a": uniform(0, 1).when(col("o") == 1), "b": uniform(0, 1)},
            50,
            seed=1,
        )
        two = random(
            {
                "o": choice([0, 1]),
                "a": uniform(0, 1).when(col("o") == 1),
                "b": uniform(0, 1).when(col("o") == 1),
            },
            50,
            seed=1,
        )
        for i in range(50):
            if "b" in two[i].params:
                assert two[i].params["b"] == one[i].params["b"]
                assert two[i].params["a"] == one[i].params["a"]

    def test_nested_conditions(self) -> None:
        """A switch reading an absent parameter is absent itself."""
        src = random(
            {
                "o": choice(["a", "b"]),
                "m": uniform(0, 1).when(col("o") == "b"),
                "n": uniform(0, 1).when(col("m") > 0.5),
            },
            300,
            seed=0,
        )
        for case in src:
            p = case.params
            m = p.get("m")
            assert ("n" in p) == (isinstance(m, float) and m > 0.5)

    def test_iteration_take_and_columns_agree_with_indexing(self) -> None:
        """Iteration, take, dicts and columns give the values of indexing."""
        src = random(_space(), 20000, seed=2)
        cases = list(src)
        assert cases == [src[i] for i in range(len(src))]
        assert src.take([5, -1, 7]) == [src[5], src[-1], src[7]]
        assert list(src.dicts()) == [dict(c.params) for c in cases]
        cols = src.columns()
        momentum = cols["momentum"]
        assert isinstance(momentum, np.ma.MaskedArray)
        assert not isinstance(cols["opt"], np.ma.MaskedArray)
        for i in (0, 1, 2, 9999, 19999):
            p = cases[i].params
            assert bool(np.ma.getmaskarray(momentum)[i]) == ("momentum" not in p)
            if "momentum" in p:
                assert cols["momentum"][i] == p["momentum"]
            assert cols["lr"][i] == p["lr"]

    @pytest.mark.parametrize(
        ("entry", "present"),
        [
            (uniform(0, 1).when(col("n") > 0), "some"),
            (switch(col("n") > 0, {True: uniform(0, 1), False: randint(5, 9)}), "all"),
            (switch(col("n") > 0, {False: uniform(2, 3)}), "some"),
            (switch(col("n"), {1: uniform(0, 1), 2: randint(5, 9)}), "some"),
            (switch(col("n") == 1, {1: uniform(0, 1)}), "none"),  # a bool is no int key
            (switch(col("m"), {"a": uniform(0, 1), "b": randint(0, 3)}), "some"),
        ],
        ids=["when", "true-false", "false-only", "int-keys", "int-key-bool-value", "str"],
    )
    def test_written_out_lookups_choose_the_branch_the_generic_path_does(
        self, entry: Switch, present: str
    ) -> None:
        """Each trial's value, or its absence, is the one the generic path draws."""
        space: Space = {"n": choice([0, 1, 2]), "m": choice(["a", "b", "c"]), "x": entry}
        src = random(space, 300, seed=4)
        assert isinstance(src, ConditionalRandomSource)
        count = 0
        for i in range(300):
            expected = dict(sorted(src._values(i).items()))
            assert dict(src[i].params) == expected
            assert src.raw(i)[0] == expected
            count += "x" in expected
        assert {0: "none", 300: "all"}.get(count, "some") == present

    def test_columns_at_indices(self) -> None:
        """columns(indices) equals the full columns at those indices."""
        src = random(_space(), 100, seed=2)
        full, part = src.columns(), src.columns([3, 50, -1])
        assert part["lr"].tolist() == full["lr"][[3, 50, 99]].tolist()
        part_mask = np.ma.getmaskarray(part["momentum"])
        assert part_mask.tolist() == np.ma.getmaskarray(full["momentum"])[[3, 50, 99]].tolist()

    def test_to_frame_has_missing_values(self) -> None:
        """to_frame() shows absent parameters as missing values."""
        frame = random(_space(), 50, seed=0).to_frame()
        assert (frame["momentum"].isna() == (frame["opt"] == "adam")).all()

    def test_columns_of_mixed_kinds_keep_values(self) -> None:
        """A switch between an int law and a float law gives an object column of exact values."""
        src = random(
            {"o": choice([0, 1]), "x": switch(col("o"), {0: randint(1, 3), 1: uniform(0, 1)})},
            40,
            seed=0,
        )
        cols = src.columns()
        assert cols["x"].dtype == object
        assert [cols["x"][i] for i in range(40)] == [c.params["x"] for c in src]
        assert isinstance(Switch, type)


@attrs.frozen
class _WithDefault:
    opt: str
    lr: float
    momentum: float = 0.0


@attrs.frozen
class _Required:
    opt: str
    lr: float
    momentum: float


class _Typed(TypedDict):
    opt: str
    lr: float
    momentum: NotRequired[float]


class TestTypedViews:
    """Typed views accept absent keys only for fields with a default or NotRequired."""

    def test_default_and_not_required_fields_accept_absence(self) -> None:
        """A field with a default takes it where absent; a NotRequired key is left out."""
        src = random(_space(), 50, seed=0)
        view = src.structured(_WithDefault)
        typed = src.structured(_Typed)
        for i in range(50):
            params = src[i].params
            assert view[i].momentum == params.get("momentum", 0.0)
            assert ("momentum" in typed[i]) == ("momentum" in params)

    def test_required_field_is_refused_naming_field_and_case(self) -> None:
        """A required field that some cases lack is a SchemaError naming it and a case."""
        src = random(_space(), 50, seed=0)
        first = next(i for i in range(50) if "momentum" not in src[i].params)
        with pytest.raises(SchemaError, match=rf"'momentum' \(e\.g\. case {first}\)"):
            src.structured(_Required)

    def test_grid_views(self) -> None:
        """A conditional grid's typed view follows the same rules."""
        g = grid(opt=["adam", "sgd"], lr=[0.1], momentum=when(col("opt") == "sgd", [0.9]))
        assert g.structured(_WithDefault)[0] == _WithDefault("adam", 0.1)
        with pytest.raises(SchemaError, match=r"'momentum' \(e\.g\. case 0\)"):
            g.structured(_Required)


class TestFailuresAndPickling:
    """A condition failing on one trial names it; sources pickle."""

    def test_failing_condition_names_the_trial(self) -> None:
        """A condition that fails on a later trial raises an EvaluationError naming it."""
        n = random({"n": randint(0, 10**9)}, 2000, seed=0).columns()["n"]
        bad, k = 1999, int(n[1999])
        src = random(
            {"n": randint(0, 10**9), "x": uniform(0, 1).when(1 / (col("n") - k) > 0)}, 2000, seed=0
        )
        assert src[0].params["n"] != k  # the sweep is defined, and its first trials draw
        with pytest.raises(EvaluationError, match=f"failed on case {bad}"):
            src[bad]
        with pytest.raises(EvaluationError, match=f"failed on case {bad}"):
            src.columns()

    def test_pickle_round_trip(self) -> None:
        """A conditional random source and grid pickle to equal sources with the same cases."""
        src = random(_space(), 40, seed=1)
        g = grid(opt=["adam", "sgd"], m=when(col("opt") == "sgd", [0.9]))
        for source in (src, g):
            back = pickle.loads(pickle.dumps(source))  # noqa: S301 - our own bytes
            assert back == source
            assert list(back) == list(source)


class TestHugeSpaces:
    """Nothing reads every trial of a huge conditional space."""

    def test_typed_view_of_a_huge_space_reads_a_bounded_prefix(self) -> None:
        """A typed view of 10**18 trials is checked on a prefix, and still finds a real problem."""
        src = random(_space(), 10**18, seed=0)
        assert src.structured(_WithDefault)[10**17].opt in {"adam", "sgd"}
        with pytest.raises(SchemaError, match="momentum"):
            src.structured(_Required)


class TestComposition:
    """derive and where over conditional parameters read absent values as absent."""

    def test_where_on_a_rarely_absent_parameter_raises(self) -> None:
        """A predicate reading a parameter some cases lack fails, naming such a case."""
        src = random({"u": uniform(0, 1), "m": uniform(0, 1).when(col("u") > 0.01)}, 5000, seed=0)
        first = next(i for i in range(5000) if "m" not in src[i].params)
        with pytest.raises(EvaluationError, match=f"failed on case {first} .*no parameter 'm'"):
            src.where(col("m") > 0.5).size  # noqa: B018 - the size is what is built

    def test_if_else_guards_an_absent_parameter(self) -> None:
        """Vectorized derive and where give the per-case values when if_else guards the read."""
        src = random({"u": uniform(0, 1), "m": uniform(0, 1).when(col("u") > 0.3)}, 3000, seed=0)
        guarded = if_else(col("u") > 0.3, col("m"), lit(-1.0))
        derived = src.derive(g=guarded)
        assert derived.columns()["g"].tolist() == [c.params.get("m", -1.0) for c in src]
        kept = src.where(guarded > 0.5)
        ms = [c.params.get("m", -1.0) for c in src]
        assert kept.size == len([m for m in ms if isinstance(m, float) and m > 0.5])
