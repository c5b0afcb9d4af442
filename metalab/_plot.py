"""`pairplot`: the coverage of a sweep at a glance (matplotlib is the extra ``metalab[plot]``).

Every pair of numeric parameters gets a scatter plot and every numeric parameter a
histogram on the diagonal. An axis is logarithmic when the parameter is drawn from a
log distribution anywhere in the sweep (or, for listed values, when they are positive
and span three decades or more). The first categorical parameter with at most
`MAX_COLORS` values colours the points; the other categorical parameters are drawn as
bar charts of counts. Large sweeps are plotted from a seeded sample of their cases.
The figure is built without pyplot, so it never opens a window and never touches
global state.
"""

from __future__ import annotations

import math
import random as _stdlib_random
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from metalab._cli._nodes import distributions_by_key, format_size, format_value

if TYPE_CHECKING:
    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from metalab.params._base import ParamSource

__all__ = ["LOG_DISTRIBUTIONS", "MAX_COLORS", "pairplot", "plot_indices"]

MAX_COLORS: Final = 10
"""A categorical parameter with more values than this is drawn as counts, not colours."""
LOG_DISTRIBUTIONS: Final = frozenset({"LogUniform", "LogUniformInt", "LogNormal"})
"""The distributions whose parameters get a logarithmic axis."""
MAX_BARS: Final = 20
"""A bar chart of counts shows at most this many values (the most frequent)."""
_LOG_SPAN: Final = 1000.0
_BINS: Final = 30
_CELL_INCHES: Final = 2.4
_SAMPLE_SEED: Final = 0


def _import_matplotlib() -> None:
    try:
        import matplotlib as mpl
    except ImportError as error:
        msg = (
            "plotting needs matplotlib, an optional dependency: "
            "run pip install '.[plot]' in a metalab checkout"
        )
        raise ImportError(msg, name="matplotlib") from error
    del mpl


def plot_indices(size: int, max_points: int) -> list[int]:
    """The indices to plot: all of them, or a seeded sample of ``max_points``, sorted.

    A sample rather than a stride: a stride through a product can hit one value of
    the fastest-varying parameter only, and would misrepresent the coverage.

    >>> plot_indices(5, 10)
    [0, 1, 2, 3, 4]
    >>> len(plot_indices(10**30, 100)), plot_indices(10**30, 3) == plot_indices(10**30, 3)
    (100, True)
    """
    if size <= max_points:
        return list(range(size))
    rng = _stdlib_random.Random(_SAMPLE_SEED)  # noqa: S311 - a plot sample, not a secret
    chosen: set[int] = set()
    while len(chosen) < max_points:
        chosen.add(rng.randrange(size))
    return sorted(chosen)


def _as_numeric(column: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    if column.dtype.kind in "iuf":
        return column.astype(np.float64)
    if column.dtype.kind != "O":
        return None
    values = [v for v in column.tolist() if v is not None]
    if not values or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        return None
    return np.array([math.nan if v is None else v for v in column.tolist()], dtype=np.float64)


def _label(value: object) -> str:
    if value is None:
        return "(missing)"
    return value if isinstance(value, str) else format_value(value)


def _labels(column: npt.NDArray[Any]) -> list[str]:
    return [_label(v) for v in column.tolist()]


def _log_axis(key: str, values: npt.NDArray[np.float64], source: ParamSource) -> bool:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() <= 0:
        return False
    dists = distributions_by_key(source).get(key)
    if dists:
        return any(type(d).__name__ in LOG_DISTRIBUTIONS for d in dists)
    return bool(finite.max() / finite.min() >= _LOG_SPAN)


def _bins(values: npt.NDArray[np.float64], log: bool) -> list[float] | int:
    finite = values[np.isfinite(values)]
    if log and finite.size and finite.min() < finite.max():
        edges: list[float] = np.geomspace(finite.min(), finite.max(), _BINS + 1).tolist()
        return edges
    return _BINS


def pairplot(source: ParamSource, *, max_points: int = 10_000, title: str | None = None) -> Figure:
    """A figure of the sweep's coverage (see the module docstring for what is drawn).

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: the sweep has no cases or no parameters.
    """
    _import_matplotlib()
    from matplotlib.figure import Figure

    if source.size == 0 or not source.keys:
        msg = (
            "nothing to plot: the sweep has no cases"
            if source.size == 0
            else ("nothing to plot: the sweep has no parameters")
        )
        raise ValueError(msg)
    indices = plot_indices(source.size, max_points)
    columns = source.columns(indices)
    numeric: dict[str, npt.NDArray[np.float64]] = {}
    categorical: dict[str, list[str]] = {}
    for key, column in columns.items():
        values = _as_numeric(column)
        if values is None:
            categorical[key] = _labels(column)
        else:
            numeric[key] = values
    hue = next(
        (k for k, v in categorical.items() if 1 < len(set(v)) <= MAX_COLORS and numeric), None
    )
    counted = [k for k in categorical if k != hue]
    log = {k: _log_axis(k, v, source) for k, v in numeric.items()}

    n = len(numeric)
    rows = n + (1 if counted else 0)
    cols = max(n, len(counted), 1)
    figure = Figure(figsize=(max(4.0, _CELL_INCHES * cols), max(3.0, _CELL_INCHES * rows)))
    grid = figure.add_gridspec(rows, cols)
    groups = _groups(categorical[hue] if hue else None, len(indices))
    keys = list(numeric)
    for r, ykey in enumerate(keys):
        for c, xkey in enumerate(keys):
            ax = figure.add_subplot(grid[r, c])
            if r == c:
                _histogram(ax, numeric[xkey], groups, log[xkey])
            else:
                _scatter(ax, (numeric[xkey], numeric[ykey]), groups, (log[xkey], log[ykey]))
            _label_axes(ax, xkey if r == n - 1 else None, ykey if c == 0 else None)
    for c, key in enumerate(counted):
        _counts(figure.add_subplot(grid[rows - 1, c]), key, categorical[key])
    if hue is not None:
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], marker="o", linestyle="", color=color, label=label)
            for label, (color, _) in groups.items()
        ]
        figure.legend(handles=handles, title=hue, loc="outside right upper", fontsize="small")
    shown = (
        f"all {format_size(source.size)} cases"
        if len(indices) == source.size
        else (f"a sample of {len(indices):,} of {format_size(source.size)} cases")
    )
    figure.suptitle(f"{title}: {shown}" if title else shown)
    figure.set_layout_engine("tight" if hue is None else "constrained")
    return figure


def _groups(labels: list[str] | None, count: int) -> dict[str, tuple[Any, npt.NDArray[np.bool_]]]:
    """Colour and mask of each hue value (one group of everything without a hue)."""
    from matplotlib import colormaps

    if labels is None:
        return {"": ("tab:blue", np.ones(count, dtype=np.bool_))}
    palette = colormaps["tab10"]
    array = np.array(labels, dtype=object)
    ordered = sorted(set(labels))
    return {label: (palette(i), array == label) for i, label in enumerate(ordered)}


def _histogram(
    ax: Axes,
    values: npt.NDArray[np.float64],
    groups: dict[str, tuple[Any, npt.NDArray[np.bool_]]],
    log: bool,
) -> None:
    finite = np.isfinite(values)
    data = [values[mask & finite] for _, mask in groups.values()]
    colors = [color for color, _ in groups.values()]
    ax.hist(data, bins=_bins(values, log), stacked=True, color=colors, histtype="stepfilled")
    if log:
        ax.set_xscale("log")


def _scatter(
    ax: Axes,
    xy: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    groups: dict[str, tuple[Any, npt.NDArray[np.bool_]]],
    logs: tuple[bool, bool],
) -> None:
    x, y = xy
    for color, mask in groups.values():
        points = ax.scatter(
            x[mask], y[mask], s=6, alpha=0.6, color=color, rasterized=True, linewidths=0
        )
        # Thousands of points make the layout engine slow, and never stick out of the axes.
        points.set_in_layout(False)
    if logs[0]:
        ax.set_xscale("log")
    if logs[1]:
        ax.set_yscale("log")


def _counts(ax: Axes, key: str, labels: list[str]) -> None:
    common = Counter(labels).most_common(MAX_BARS)
    names = [name for name, _ in common]
    ax.bar(range(len(common)), [n for _, n in common], color="tab:gray")
    ax.set_xticks(range(len(common)), names, rotation=45, ha="right", fontsize="small")
    ax.set_title(
        key if len(set(labels)) <= MAX_BARS else f"{key} (top {MAX_BARS})", fontsize="small"
    )
    ax.set_ylabel("count")


def _label_axes(ax: Axes, xlabel: str | None, ylabel: str | None) -> None:
    ax.tick_params(labelsize="x-small")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
