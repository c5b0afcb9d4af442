"""Grids with conditional axes: order, exact sizes, O(1) indexing, columns and errors."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from metalab import ConditionalGridSource, GridSource, col, grid, switch, uniform, when
from metalab.errors import ExpressionError, ParamError


def _brute_force(plain: dict[str, list[Any]], conditional: dict[str, Any]) -> list[dict[str, Any]]:
    """The cases of a conditional grid, written out by nested loops (conditions on plain axes)."""
    out: list[dict[str, Any]] = []
    names = sorted(plain)
    for combo in itertools.product(*(plain[n] for n in names)):
        base = dict(zip(names, combo, strict=True))
        active: list[tuple[str, list[Any]]] = []
        for name in sorted(conditional):
            values = conditional[name](base)
            if values is not None:
                active.append((name, values))
        for extra in itertools.product(*(v for _, v in active)):
            case = {**base, **dict(zip([n for n, _ in active], extra, strict=True))}
            out.append(dict(sorted(case.items())))
    return out


class TestOrder:
    """Unconditional axes in grid order, active conditional axes fastest."""

    def test_issue_example(self) -> None:
        """The issue's example has 3 cases, in grid order."""
        g = grid(opt=["adam", "sgd"], momentum=when(col("opt") == "sgd", [0.9, 0.99]))
        assert isinstance(g, ConditionalGridSource)
        assert [dict(c.params) for c in g] == [
            {"opt": "adam"},
            {"momentum": 0.9, "opt": "sgd"},
            {"momentum": 0.99, "opt": "sgd"},
        ]
        assert g.keys == ("momentum", "opt")

    def test_equals_the_hand_written_sum(self) -> None:
        """The cases are those of the hand-written sum of grids."""
        g = grid(opt=["adam", "sgd"], momentum=when(col("opt") == "sgd", [0.9, 0.99]))
        by_hand = grid(opt=["adam"]) + grid(opt=["sgd"], momentum=[0.9, 0.99])
        assert list(g) == list(by_hand)
        assert [c.case_id for c in g] == [c.case_id for c in by_hand]

    @pytest.mark.parametrize("seed", range(6))
    def test_size_and_cases_equal_brute_force(self, seed: int) -> None:
        """Size, iteration and indexing equal nested loops on small grids."""
        rng = np.random.default_rng(seed)
        a = list(range(int(rng.integers(1, 4))))
        b = ["x", "y", "z"][: int(rng.integers(1, 4))]
        c = [0.5, 1.5][: int(rng.integers(1, 3))]
        k = int(rng.integers(0, 3))
        # A branch no value of "b" takes is refused, so only b's values get branches.
        lr_branches = {key: v for key, v in {"x": [1, 2], "z": [3]}.items() if key in b} or {
            "x": [1]
        }
        b = sorted({*b, *lr_branches})
        g = grid(
            a=a,
            b=b,
            c=c,
            lr=switch(col("b"), lr_branches),
            m=when(col("a") > k, [True, False]),
            w=when((col("a") + col("c")) < 2, range(2)),
        )
        expected = _brute_force(
            {"a": a, "b": b, "c": c},
            {
                "lr": lambda p: lr_branches.get(p["b"]),
                "m": lambda p: [True, False] if p["a"] > k else None,
                "w": lambda p: [0, 1] if p["a"] + p["c"] < 2 else None,
            },
        )
        assert g.size == len(expected)
        assert [dict(case.params) for case in g] == expected
        assert [dict(g[i].params) for i in range(g.size)] == expected
        assert [dict(g[i - g.size].params) for i in range(g.size)] == expected

    def test_conditional_axis_reading_an_earlier_conditional_axis(self) -> None:
        """A conditional axis may read one that sorts before it; absent reads make it absent."""
        g = grid(o=[0, 1], a=when(col("o") == 1, [1, 2]), b=when(col("a") == 2, ["u", "v"]))
        assert [dict(c.params) for c in g] == [
            {"o": 0},
            {"a": 1, "o": 1},
            {"a": 2, "b": "u", "o": 1},
            {"a": 2, "b": "v", "o": 1},
        ]


class TestSize:
    """Exact sizes and indexing without enumerating the unconditional grid."""

    def test_huge_unread_axes_are_never_enumerated(self) -> None:
        """A 10**30-value axis no condition reads stays one factor: exact size, O(1) access."""
        g = grid(seed=range(10**30), opt=["adam", "sgd"], m=when(col("opt") == "sgd", [0.9, 0.99]))
        assert g.size == 3 * 10**30
        last = g[-1]
        assert dict(last.params) == {"m": 0.99, "opt": "sgd", "seed": 10**30 - 1}
        assert dict(g[3 * 10**29].params) == {"opt": "adam", "seed": 3 * 10**29}
        assert dict(g[10**30 + 3].params) == {"m": 0.99, "opt": "sgd", "seed": 1}

    def test_values_with_the_same_sub_sweep_share_a_part(self) -> None:
        """Consecutive values that give the same sub-sweep are one factor of the sum."""
        g = grid(a=range(1000), m=when(col("a") % 100 == 0, [1, 2]))
        assert g.size == 1000 + 10
        assert dict(g[2].params) == {"a": 1}
        assert dict(g[1].params) == {"a": 0, "m": 2}
        tree = g._tree
        assert len(tree.parts) == 20  # type: ignore[attr-defined]

    def test_scan_limit(self) -> None:
        """Conditions over axes with more than the scan limit of combinations are refused."""
        with pytest.raises(ParamError, match="scan limit"):
            grid(a=range(10**6), b=range(10**4), m=when(col("a") == col("b"), [1]))


class TestColumns:
    """Masked columns for conditional axes, missing values in frames."""

    def test_masked_columns(self) -> None:
        """A conditional axis is a masked array whose mask marks the absent cases."""
        g = grid(a=[1, 2, 3], m=when(col("a") >= 2, [0.5]))
        cols = g.columns()
        m = cols["m"]
        assert isinstance(m, np.ma.MaskedArray)
        assert m.dtype == np.float64
        assert np.ma.getmaskarray(m).tolist() == [True, False, False]
        assert m.compressed().tolist() == [0.5, 0.5]
        assert cols["a"].tolist() == [1, 2, 3]
        part = g.columns([2, 0])
        assert np.ma.getmaskarray(part["m"]).tolist() == [False, True]

    def test_none_as_a_value_is_not_absence(self) -> None:
        """A branch value None is present, not masked."""
        g = grid(a=[1, 2], m=when(col("a") == 2, [None, 1]))
        assert np.ma.getmaskarray(g.columns()["m"]).tolist() == [True, False, False]

    def test_to_frame_has_missing_values(self) -> None:
        """to_frame() shows absent axes as missing values."""
        frame = grid(a=[1, 2, 3], m=when(col("a") >= 2, [0.5])).to_frame()
        assert frame["m"].isna().tolist() == [True, False, False]


class TestErrors:
    """Bad conditional grids are refused when defined, naming the axis."""

    @pytest.mark.parametrize(
        ("axes", "message"),
        [
            ({"a": [1], "m": when(col("b") > 0, [1])}, "reads 'b', which is no axis"),
            ({"a": [1], "m": when(col("a") > 0, uniform(0, 1))}, "distributions are for random"),
            ({"o": ["adam"], "m": switch(col("o"), {"adm": [1]})}, "branch 'adm' is never taken"),
            (
                {"m": when(col("n") > 0, [1]), "n": when(col("m") > 0, [1]), "a": [1]},
                "varies faster",
            ),
            ({"m": when(col("m") > 0, [1])}, "at least one unconditional axis"),
        ],
    )
    def test_bad_grids(self, axes: dict[str, Any], message: str) -> None:
        """Unknown names, distributions, impossible branches and bad reads are ParamErrors."""
        with pytest.raises(ParamError, match=message):
            grid(axes)

    def test_type_clash(self) -> None:
        """A condition that does not fit the axis values is an ExpressionError naming it."""
        with pytest.raises(ExpressionError, match="grid 'm'"):
            grid(o=["a"], m=when(col("o") + 1 > 0, [1]))

    def test_plain_grid_unchanged(self) -> None:
        """A grid without switches is still a GridSource."""
        assert isinstance(grid(a=[1]), GridSource)
