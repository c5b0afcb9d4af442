"""``source.to_frame()`` and the plot module behind ``metalab plot``."""

from __future__ import annotations

import sys
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given

from metalab import Distribution, choice, grid, loguniform, manual, random, uniform
from metalab.errors import UnsupportedOperationError
from metalab.testing import sources

pd = pytest.importorskip("pandas")


class TestToFrame:
    """A frame has one row per case and one column per parameter, then case_id and tags."""

    @given(sources(max_size=15))
    def test_rows_are_the_cases(self, source: Any) -> None:
        """Row i holds case i: its params (None where absent), case_id and tags."""
        frame = source.to_frame()
        assert list(frame.columns) == [*source.keys, "case_id", "tags"]
        assert frame.index.tolist() == list(range(source.size))
        assert frame.index.name == "index"
        for i, case in enumerate(source):
            row = frame.iloc[i]
            assert row["case_id"] == case.case_id
            assert row["tags"] == case.tags
            for key in source.keys:
                value = row[key]
                if key in case.params:
                    assert value == case.params[key]
                else:
                    assert value is None or pd.isna(value)

    def test_dtypes_follow_the_values(self) -> None:
        """Homogeneous columns get numeric, bool and string dtypes; mixed ones are object."""
        frame = (
            grid(i=[1, 2], f=[0.5], b=[True]) + manual([{"i": 3, "f": 1.5, "b": False}])
        ).to_frame()
        assert frame["i"].dtype == np.int64
        assert frame["f"].dtype == np.float64
        assert frame["b"].dtype == np.bool_
        assert (grid(i=[1]) + grid(i=["a"])).to_frame()["i"].dtype == object

    def test_a_parameter_named_like_an_added_column(self) -> None:
        """A parameter named case_id or tags cannot share the frame with those columns."""
        with pytest.raises(UnsupportedOperationError, match="'tags'"):
            grid(tags=[1]).to_frame()

    def test_without_pandas(self) -> None:
        """Without pandas, the ImportError says how to install it."""
        with (
            mock.patch.dict(sys.modules, {"pandas": None}),
            pytest.raises(ImportError, match=r"pip install '\.\[frame\]' in a metalab checkout"),
        ):
            grid(x=[1]).to_frame()


class TestPairplot:
    """What the coverage plot draws."""

    def test_log_axes_for_log_distributions(self) -> None:
        """A log-uniform parameter gets log axes, a uniform one linear axes."""
        pytest.importorskip("matplotlib")
        from metalab._plot import pairplot

        sweep = random({"lr": loguniform(1e-5, 1.0), "p": uniform(0, 1)}, 50, seed=0)
        figure = pairplot(sweep)
        scales = [(ax.get_xscale(), ax.get_yscale()) for ax in figure.axes]
        # Row by row: histogram of lr, p against lr, lr against p, histogram of p.
        assert scales == [
            ("log", "linear"),
            ("linear", "log"),
            ("log", "linear"),
            ("linear", "linear"),
        ]

    def test_listed_values_spanning_decades_get_a_log_axis(self) -> None:
        """Grid values spanning three decades or more are drawn on a log axis."""
        pytest.importorskip("matplotlib")
        from metalab._plot import pairplot

        figure = pairplot(grid(lr=[1e-4, 1e-3, 1e-2, 1e-1]))
        assert figure.axes[0].get_xscale() == "log"
        assert pairplot(grid(n=[1, 2, 3])).axes[0].get_xscale() == "linear"

    def test_a_categorical_parameter_colours_and_the_others_are_counted(self) -> None:
        """The first small categorical parameter is the legend; the others get bar charts."""
        pytest.importorskip("matplotlib")
        from metalab._plot import pairplot

        space: dict[str, Distribution] = {
            "x": uniform(0, 1),
            "act": choice(["relu", "gelu"]),
            "opt": choice(["a", "b"]),
        }
        figure = pairplot(random(space, 40, seed=1))
        assert [text.get_text() for text in figure.legends[0].get_texts()] == ["gelu", "relu"]
        assert figure.legends[0].get_title().get_text() == "act"
        assert [ax.get_title() for ax in figure.axes if ax.get_title()] == ["opt"]

    def test_large_sweeps_are_sampled(self) -> None:
        """A sweep larger than max_points is drawn from a seeded sample, and says so."""
        pytest.importorskip("matplotlib")
        from metalab._plot import pairplot, plot_indices

        indices = plot_indices(10**6, 100)
        assert len(set(indices)) == 100
        assert indices == sorted(indices)
        assert indices == plot_indices(10**6, 100)
        figure = pairplot(grid(x=range(1000)), max_points=10)
        assert "a sample of 10 of 1,000 cases" in figure.get_suptitle()

    def test_no_parameters(self) -> None:
        """A sweep of empty cases has nothing to plot."""
        pytest.importorskip("matplotlib")
        from metalab._plot import pairplot

        with pytest.raises(ValueError, match="no parameters"):
            pairplot(grid())
