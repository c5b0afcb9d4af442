"""Manifests and `metalab show` of conditional sweeps: switches and predicates as data."""

from __future__ import annotations

import contextlib
import io
import json
from typing import TYPE_CHECKING

import numpy as np
import pytest

from metalab import (
    ConditionalGridSource,
    ConditionalRandomSource,
    choice,
    col,
    grid,
    loguniform,
    one_of,
    random,
    switch,
    uniform,
    when,
)
from metalab.cli import main
from metalab.errors import ManifestError
from metalab.manifest import dumps, loads

if TYPE_CHECKING:
    from pathlib import Path


def _random() -> ConditionalRandomSource:
    return random(
        {
            "opt": choice(["adam", "sgd"]),
            "lr": switch(
                col("opt"), {"adam": loguniform(1e-4, 1e-2), "sgd": loguniform(1e-3, 1e-1)}
            ),
            "momentum": uniform(0.8, 0.99).when(col("opt") == "sgd"),
        },
        500,
        seed=0,
    )


def _grid() -> ConditionalGridSource:
    return grid(
        opt=["adam", "sgd"],
        seed=range(3),
        momentum=when(col("opt") == "sgd", [0.9, 0.99]),
        w=switch(col("opt"), {"adam": range(2)}),
    )


class TestManifest:
    """Switches go into manifests as data and come back as the same sweep."""

    def test_random_round_trip(self) -> None:
        """A conditional random source round-trips with its switches and draws."""
        src = _random()
        back = loads(dumps(src))
        assert back == src
        assert list(back) == list(src)

    def test_grid_round_trip(self) -> None:
        """A conditional grid round-trips and records its size."""
        g = _grid()
        data = json.loads(dumps(g))
        assert data["total_cases"] == g.size
        assert data["spec"]["momentum"]["type"] == "Switch"
        assert data["spec"]["momentum"]["branches"] == [{"when": True, "then": [0.9, 0.99]}]
        back = loads(dumps(g))
        assert back == g
        assert list(back) == list(g)

    def test_predicates_are_expression_trees(self) -> None:
        """A switch's expression is stored as the expression tree, never as code."""
        data = json.loads(dumps(_random()))
        expr = data["space"]["momentum"]["expr"]
        assert expr["type"] == "binary"
        assert expr["left"] == {"type": "col", "name": "opt"}

    def test_one_of_round_trip(self) -> None:
        """A one_of space round-trips."""
        space = one_of("k", {"a": {"x": uniform(0, 1)}, "b": {"x": uniform(1, 2)}}, weights=[1, 3])
        src = random(space, 50, seed=4)
        assert loads(dumps(src)) == src

    @pytest.mark.parametrize(
        ("edit", "message"),
        [
            (lambda d: d["spec"]["momentum"].update(branches=[]), "at least one branch"),
            (lambda d: d.update(total_cases=7), "the manifest says 7 cases"),
            (lambda d: d["spec"]["momentum"].pop("expr"), "required field of a switch"),
            (lambda d: d["spec"]["momentum"].update(extra=1), "unknown field of a switch"),
            (
                lambda d: d["spec"]["momentum"]["branches"][0].update(then={"type": "Uniform"}),
                r"branches\[0\]\.then\.type",
            ),
        ],
    )
    def test_bad_manifests(self, edit: object, message: str) -> None:
        """A damaged switch node is a ManifestError naming where."""
        data = json.loads(dumps(_grid()))
        edit(data)  # type: ignore[operator]
        with pytest.raises(ManifestError, match=message):
            loads(json.dumps(data))


class TestShow:
    """metalab show draws each switch as its branches."""

    def test_show_draws_branches(self, tmp_path: Path) -> None:
        """Each branch is a line with its condition and its law or values."""
        path = tmp_path / "sweep.json"
        path.write_text(dumps(_random() + _grid()))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["show", str(path), "-n", "0"])
        text = out.getvalue()
        assert code == 0
        for line in (
            "lr: when col('opt') == 'adam' ~ loguniform(0.0001, 0.01)",
            "lr: when col('opt') == 'sgd' ~ loguniform(0.001, 0.1)",
            "momentum: when col('opt') == 'sgd' ~ uniform(0.8, 0.99)",
            "momentum: when col('opt') == 'sgd': [0.9, 0.99]",
            "w: when col('opt') == 'adam': range(0, 2)",
            "opt ~ choice(['adam', 'sgd'])",
        ):
            assert line in text


class TestPlot:
    """metalab plot reads absent parameters as missing, never the data under the mask."""

    def test_absent_values_are_missing(self) -> None:
        """A conditional parameter is NaN (numbers) or None (labels) where it is absent."""
        from metalab._cli.plot import sample_coverage

        src = _random()
        coverage = sample_coverage(src, max_points=1000)
        absent = [("momentum" not in c.params) for c in src]
        assert np.isnan(coverage.numeric["momentum"]).tolist() == absent
        present = [c.params["momentum"] for c in src if "momentum" in c.params]
        kept = coverage.numeric["momentum"][~np.isnan(coverage.numeric["momentum"])]
        assert kept.tolist() == present
