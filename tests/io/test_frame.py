"""``source.to_frame()`` and the plot module behind ``metalab plot``."""

from __future__ import annotations

import contextlib
import io
import sys
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given

import metalab
from metalab import Distribution, choice, grid, loguniform, manual, random, uniform
from metalab.errors import ParamError, UnsupportedOperationError
from metalab.testing import sources

if TYPE_CHECKING:
    from pathlib import Path

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


class TestConditionalColumns:
    """An absent conditional parameter is a missing value of the column's own kind."""

    def test_ints_bools_floats_and_strings(self) -> None:
        """Ints stay Int64, bools boolean, floats get NaN and strings None where absent."""
        pytest.importorskip("pandas")
        from metalab import choice, col, randint, uniform

        on = col("k") == "b"
        space: dict[str, metalab.Distribution | metalab.Switch] = {
            "k": choice(["a", "b"]),
            "n": randint(1, 5).when(on),
            "f": uniform(0, 1).when(on),
            "t": choice([True, False]).when(on),
            "s": choice(["x", "y"]).when(on),
        }
        sweep = metalab.random(space, 40, seed=0)
        frame = sweep.to_frame()
        assert [str(frame[k].dtype) for k in "nft"] == ["Int64", "float64", "boolean"]
        absent = [c.params["k"] == "a" for c in sweep]
        for key in "nfts":
            assert frame[key].isna().tolist() == absent
        assert [v for v in frame["n"] if v is not metalab_na(v)] == [
            c.params["n"] for c in sweep if "n" in c.params
        ]


def metalab_na(value: object) -> object:
    """``value`` if it is pandas' missing value, else a fresh object (never identical)."""
    import pandas as pd

    return value if value is pd.NA else object()


class TestPairplot:
    """What the coverage plot draws."""

    def test_log_axes_for_log_distributions(self) -> None:
        """A log-uniform parameter gets log axes, a uniform one linear axes."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

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
        from metalab._cli.plot import pairplot

        figure = pairplot(grid(lr=[1e-4, 1e-3, 1e-2, 1e-1]))
        assert figure.axes[0].get_xscale() == "log"
        assert pairplot(grid(n=[1, 2, 3])).axes[0].get_xscale() == "linear"

    def test_a_categorical_parameter_colours_and_the_others_are_counted(self) -> None:
        """The first small categorical parameter is the legend; the others get bar charts."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        space: dict[str, Distribution] = {
            "x": uniform(0, 1),
            "act": choice(["relu", "gelu"]),
            "opt": choice(["a", "b"]),
        }
        figure = pairplot(random(space, 40, seed=1))
        assert [text.get_text() for text in figure.legends[0].get_texts()] == ["gelu", "relu"]
        assert figure.legends[0].get_title().get_text() == "act"
        assert [ax.get_title() for ax in figure.axes if ax.get_title()] == ["opt"]

    @pytest.mark.parametrize(("values", "per_bin"), [(range(10), 1), (range(0, 300, 3), 4)])
    def test_integer_histograms_have_whole_number_bins(self, values: range, per_bin: int) -> None:
        """Integer values get bins centred on them, so evenly drawn values get even bars."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        sweep = grid(n=list(values), rep=[0, 1])
        patch = pairplot(sweep, params=["n"]).axes[0].patches[0]
        step = values.step
        vertices = np.asarray(patch.get_path().vertices, dtype=np.float64)
        xs = sorted({round(float(x), 6) for x in vertices[:, 0]})
        assert all((x + step / 2) % step == 0 for x in xs)  # every edge halfway between values
        heights = sorted({round(float(y), 6) for y in vertices[:, 1] if y > 0})
        assert heights == [2 * per_bin]  # one height: each bin holds the same whole numbers

    def test_large_sweeps_are_sampled(self) -> None:
        """A sweep larger than max_points is drawn from a seeded sample, and says so."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot, plot_indices

        indices = plot_indices(10**6, 100)
        assert len(set(indices)) == 100
        assert indices == sorted(indices)
        assert indices == plot_indices(10**6, 100)
        figure = pairplot(grid(x=range(1000)), max_points=10)
        assert "a sample of 10 of 1,000 cases" in figure.get_suptitle()

    def test_no_parameters(self) -> None:
        """A sweep of empty cases has nothing to plot."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        with pytest.raises(ValueError, match="no parameters"):
            pairplot(grid())


def _figure_positions(figure: Any) -> dict[tuple[float, ...], list[tuple[float, float]]]:
    """Draw ``figure`` and return, per marker colour, where its points land in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()  # type: ignore[no-untyped-call]
    positions: dict[tuple[float, ...], list[tuple[float, float]]] = {}
    for ax in figure.axes:
        for points in ax.collections:
            color = tuple(float(c) for c in points.get_facecolor()[0][:3])
            shown = points.get_offset_transform().transform(points.get_offsets())
            positions.setdefault(color, []).extend(map(tuple, shown.tolist()))
    return positions


class TestLogAxisRule:
    """An axis is logarithmic only where the sweep's values are log-scaled."""

    def test_a_plain_range_is_linear(self) -> None:
        """A grid axis given as a range is linear, however many decades it spans."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        assert pairplot(grid(n=range(1, 10_000))).axes[0].get_xscale() == "linear"
        assert pairplot(grid(n=range(1, 10_001, 5000))).axes[0].get_xscale() == "linear"

    def test_evenly_spaced_listed_values_are_linear(self) -> None:
        """Listed values spanning decades but spaced evenly get a linear axis."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        figure = pairplot(grid(n=[1, *range(1000, 10_001, 1000)]))
        assert figure.axes[0].get_xscale() == "linear"

    def test_geometric_listed_values_are_log(self) -> None:
        """Listed values spaced evenly on a log scale, in a grid or a choice, get log axes."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        assert pairplot(grid(n=[1, 10, 100, 1000])).axes[0].get_xscale() == "log"
        sweep = random({"wd": choice([1e-6, 1e-5, 1e-4, 1e-3])}, 40, seed=0)
        assert pairplot(sweep).axes[0].get_xscale() == "log"

    def test_a_linear_distribution_is_linear(self) -> None:
        """Values drawn uniformly over four decades are drawn on a linear axis."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        sweep = random({"x": uniform(1, 10_000)}, 200, seed=0)
        assert pairplot(sweep).axes[0].get_xscale() == "linear"


class TestOverlappingCategories:
    """Points of different colours on the same spot are set side by side."""

    def test_every_category_is_visible(self) -> None:
        """On a grid where every spot holds all three categories, no two colours coincide."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import _MARKER_AREA, pairplot

        figure = pairplot(grid(x=[1, 2, 3], y=[1, 2, 3], opt=["a", "b", "c"]))
        positions = _figure_positions(figure)
        assert len(positions) == 3
        # Marker diameter in pixels: its area is in points squared.
        diameter = np.sqrt(_MARKER_AREA) * figure.dpi / 72
        colors = list(positions)
        for i, first in enumerate(colors):
            for second in colors[i + 1 :]:
                a, b = np.array(positions[first]), np.array(positions[second])
                gaps = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
                assert gaps.min() >= diameter

    def test_points_alone_stay_in_place(self) -> None:
        """A point that no other colour shares is drawn at its exact position."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        figure = pairplot(manual([{"x": 1, "y": 1, "c": "a"}, {"x": 2, "y": 2, "c": "b"}]))
        ax = figure.axes[1]
        for points in ax.collections:
            assert points.get_offset_transform() == ax.transData


class TestParameterCap:
    """At most MAX_PARAMS numeric parameters are paired, and the rest are named."""

    def test_many_parameters_are_capped(self) -> None:
        """Twenty numeric parameters give the first eight a pair plot and name the rest."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import MAX_PARAMS, draw_coverage, sample_coverage

        sweep = grid(**{f"p{i:02d}": [1, 2] for i in range(20)})
        coverage = sample_coverage(sweep, max_points=50)
        assert list(coverage.numeric) == [f"p{i:02d}" for i in range(MAX_PARAMS)]
        assert coverage.left_out == tuple(f"p{i:02d}" for i in range(MAX_PARAMS, 20))
        assert len(draw_coverage(coverage).axes) == MAX_PARAMS**2

    def test_chosen_parameters(self) -> None:
        """The params argument picks the parameters and their order."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import sample_coverage

        sweep = grid(**{f"p{i}": [1, 2] for i in range(12)}, opt=["a", "b"])
        coverage = sample_coverage(sweep, params=["p9", "p3", "opt"])
        assert list(coverage.numeric) == ["p9", "p3"]
        assert coverage.hue == "opt"
        assert coverage.left_out == ()

    def test_bad_choices(self) -> None:
        """An unknown parameter, or more numeric ones than fit, is a ParamError naming it."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import sample_coverage

        sweep = grid(**{f"p{i}": [1, 2] for i in range(12)})
        with pytest.raises(ParamError, match="'nope'"):
            sample_coverage(sweep, params=["p1", "nope"])
        with pytest.raises(ParamError, match="at most 8"):
            sample_coverage(sweep, params=[f"p{i}" for i in range(9)])

    def test_many_categorical_parameters_are_capped(self) -> None:
        """At most MAX_PARAMS categorical parameters get bar charts."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import MAX_PARAMS, sample_coverage

        sweep = grid(**{f"c{i:02d}": ["a"] for i in range(12)})
        coverage = sample_coverage(sweep)
        assert coverage.counted == [f"c{i:02d}" for i in range(MAX_PARAMS)]
        assert coverage.left_out == tuple(f"c{i:02d}" for i in range(MAX_PARAMS, 12))


class TestHugeSweeps:
    """Sizes beyond any float are formatted exactly, and only a bounded sample is read."""

    @pytest.mark.parametrize(
        ("size", "text"),
        [
            (1234567, "1,234,567"),
            (10**24 - 1, f"{10**24 - 1:,}"),
            (10**24, "1.000e+24"),
            (12345 * 10**400, "1.235e+404"),
            (99995 * 10**400, "1.000e+405"),
            (10**5000, "1.000e+5000"),
        ],
        ids=["small", "24 digits", "25 digits", "rounded", "carried", "beyond str"],
    )
    def test_format_count(self, size: int, text: str) -> None:
        """Counts are exact up to 24 digits, then rounded to 4 digits without floats."""
        from metalab._core.intstr import format_count

        assert format_count(size) == text

    def test_a_sweep_larger_than_any_float(self) -> None:
        """A 10**320-case sweep is plotted from a sample, and its size is in the title."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import pairplot

        sweep = grid(**{f"p{i:02d}": range(10**8) for i in range(40)})
        figure = pairplot(sweep, max_points=20)
        assert "a sample of 20 of 1.000e+320 cases" in figure.get_suptitle()

    def test_integers_beyond_floats_are_counted(self) -> None:
        """Integer values too large for a float are drawn as counts, not an error."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import sample_coverage

        coverage = sample_coverage(grid(big=[10**400, 10**401], x=[1, 2]))
        assert list(coverage.numeric) == ["x"]
        assert coverage.counted == ["big"]


class TestOutputCheck:
    """The output path is checked before any work."""

    def test_the_format_is_the_suffix(self, tmp_path: Path) -> None:
        """A known suffix, in any case, is the format."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import check_output

        assert check_output(tmp_path / "a.PNG", force=False) == "png"
        assert check_output(tmp_path / "a.svg", force=False) == "svg"

    @pytest.mark.parametrize("name", ["coverage", "coverage.xyz"])
    def test_no_or_unknown_suffix(self, tmp_path: Path, name: str) -> None:
        """A missing or unknown suffix is refused, listing the formats."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import check_output

        with pytest.raises(ParamError, match=r"\.pdf, .*\.png, .*\.svg"):
            check_output(tmp_path / name, force=False)

    def test_an_existing_file(self, tmp_path: Path) -> None:
        """An existing file is refused unless force is given."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import check_output

        target = tmp_path / "a.png"
        target.write_bytes(b"keep")
        with pytest.raises(ParamError, match="--force"):
            check_output(target, force=False)
        assert check_output(target, force=True) == "png"

    def test_a_missing_folder(self, tmp_path: Path) -> None:
        """A folder that does not exist is refused."""
        pytest.importorskip("matplotlib")
        from metalab._cli.plot import check_output

        with pytest.raises(ParamError, match="no such folder"):
            check_output(tmp_path / "nope" / "a.png", force=False)


class TestProgress:
    """The steps show on a terminal console, and nothing is shown without one."""

    def test_steps_on_a_terminal(self) -> None:
        """Each step appears on the console."""
        from rich.console import Console

        from metalab._cli.plot import plot_progress

        out = io.StringIO()
        with plot_progress(Console(file=out, force_terminal=True)) as step:
            step("sampling 10 cases")
            step("drawing 4 panels")
        assert "sampling 10 cases" in out.getvalue()
        assert "drawing 4 panels" in out.getvalue()

    def test_silent_without_a_console(self) -> None:
        """Without a console, the steps go nowhere."""
        from metalab._cli.plot import plot_progress

        out = io.StringIO()
        with contextlib.redirect_stderr(out), plot_progress(None) as step:
            step("sampling")
        assert out.getvalue() == ""
