"""`pairplot`: the coverage of a sweep at a glance (matplotlib is the extra ``metalab[plot]``).

Every pair of numeric parameters gets a scatter plot and every numeric parameter a
histogram on the diagonal, for at most `MAX_PARAMS` numeric parameters (the first ones,
or those chosen). An axis is logarithmic when the parameter is drawn from a log
distribution anywhere in the sweep, or when its listed values (a grid, a choice, manual
cases) are positive, span three decades or more and are spaced evenly on a log scale
rather than a linear one; a grid axis given as a ``range`` is always linear. The first
categorical parameter with at most `MAX_COLORS` values colours the points, and points
of different colours that fall on the same spot are set side by side so that none is
hidden; the other categorical parameters (at most `MAX_PARAMS`) are drawn as bar
charts of counts. Large sweeps are plotted from a seeded sample of their cases, so the
work is bounded whatever the sweep's size. The figure is built without pyplot, so it
never opens a window and never touches global state.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import random as _stdlib_random
from collections import Counter
from typing import TYPE_CHECKING, Any, Final

import attrs
import numpy as np

from metalab._cli.nodes import distributions_by_key, format_value, walk
from metalab._core.intstr import counted as count_text
from metalab.errors import ParamError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from pathlib import Path

    import numpy.typing as npt
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from rich.console import Console

    from metalab._sources.base import ParamSource

__all__ = [
    "LOG_DISTRIBUTIONS",
    "MAX_COLORS",
    "MAX_PARAMS",
    "Coverage",
    "check_output",
    "draw_coverage",
    "pairplot",
    "plot_indices",
    "plot_progress",
    "render",
    "sample_coverage",
]

MAX_COLORS: Final = 10
"""A categorical parameter with more values than this is drawn as counts, not colours."""
MAX_PARAMS: Final = 8
"""At most this many numeric parameters make the pair plot, and as many are counted."""
LOG_DISTRIBUTIONS: Final = frozenset({"LogUniform", "LogUniformInt", "LogNormal"})
"""The distributions whose parameters get a logarithmic axis."""
MAX_BARS: Final = 20
"""A bar chart of counts shows at most this many values (the most frequent)."""
_LOG_SPAN: Final = 1000.0
_BINS: Final = 30
_SAMPLE_SEED: Final = 0
"""Counts with more digits than this are shown in scientific notation."""
_NAMES_SHOWN: Final = 10
"""How many left-out parameters a note names."""
_LABEL_CHARS: Final = 16
_MARKER_AREA: Final = 12.0
"""Marker area in points squared; small, since up to 10,000 points share a panel."""
_DODGE_SPACING: Final = 1.5
"""Coinciding markers of different colours sit this many diameters apart."""

# The geometry of the figure, in inches. The layout is fixed rather than computed by
# a layout engine: an engine draws the figure once more to measure it, which doubled
# the time of a plot.
_PANEL: Final = 1.9
_GAP: Final = 0.55
_LEFT: Final = 0.85
_RIGHT: Final = 0.3
_TOP: Final = 0.55
_BOTTOM: Final = 0.7
_LEGEND: Final = 1.5
_COUNT_TOP: Final = 0.35
_COUNT_BOTTOM: Final = 1.25


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


def check_output(path: Path, *, force: bool) -> str:
    """Check that an image can be written at ``path`` and return its format (its suffix).

    Cheap and done before any work, so a bad path fails at once.

    Raises:
        ImportError: matplotlib is not installed.
        ParamError: the suffix names no format matplotlib writes, the file exists and
            ``force`` is false, or its folder is missing or not writable.
    """
    _import_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    supported = FigureCanvasBase.get_supported_filetypes()
    fmt = path.suffix.removeprefix(".").lower()
    if fmt not in supported:
        what = f"suffix {path.suffix!r} is not an image format" if fmt else "has no suffix"
        listed = ", ".join(f".{name}" for name in sorted(supported))
        msg = f"output {str(path)!r}: {what}; the format is chosen by the suffix: {listed}"
        raise ParamError(msg)
    if path.exists() and not force:
        msg = f"output {str(path)!r} already exists; pass --force to overwrite it"
        raise ParamError(msg)
    folder = path.parent
    if not folder.is_dir():
        msg = f"output {str(path)!r}: no such folder {str(folder)!r}"
        raise ParamError(msg)
    if not os.access(folder, os.W_OK):
        msg = f"output {str(path)!r}: the folder {str(folder)!r} is not writable"
        raise ParamError(msg)
    return fmt


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


@attrs.frozen(eq=False)
class Coverage:
    """The sampled cases of a sweep, split into what the figure draws."""

    size: int
    """The sweep's number of cases."""
    shown: int
    """How many of them are drawn."""
    numeric: dict[str, npt.NDArray[np.float64]]
    """The pair plot's parameters and their values (NaN where a case lacks one)."""
    log: dict[str, bool]
    """Which of them get a logarithmic axis."""
    hue: str | None
    """The categorical parameter that colours the points, if any."""
    categorical: dict[str, list[str]]
    """The hue and the counted parameters, their values as labels."""
    left_out: tuple[str, ...]
    """The parameters that did not fit (more than `MAX_PARAMS` of a kind)."""

    @property
    def counted(self) -> list[str]:
        """The categorical parameters drawn as bar charts."""
        return [key for key in self.categorical if key != self.hue]


def sample_coverage(
    source: ParamSource, *, max_points: int = 10_000, params: Sequence[str] | None = None
) -> Coverage:
    """Sample at most ``max_points`` cases and choose what to draw of them.

    Args:
        source: The sweep.
        max_points: Draw at most this many cases (a seeded sample of them).
        params: The parameters to draw, in order (default: all, in the sweep's order,
            the first `MAX_PARAMS` numeric and categorical ones).

    Raises:
        ParamError: the sweep has no cases or no parameters, ``params`` names a
            parameter the sweep does not have, or more numeric ones than fit.
    """
    if source.size == 0 or not source.keys:
        what = "cases" if source.size == 0 else "parameters"
        msg = f"nothing to plot: the sweep has no {what}"
        raise ParamError(msg)
    keys = _chosen_keys(source.keys, params)
    indices = plot_indices(source.size, max_points)
    columns = {key: _unmasked(column) for key, column in source.columns(indices).items()}
    numeric: dict[str, npt.NDArray[np.float64]] = {}
    categorical: dict[str, list[str]] = {}
    for key in keys:
        values = _as_numeric(columns[key])
        if values is None:
            categorical[key] = _labels(columns[key])
        else:
            numeric[key] = values
    if params is not None and len(numeric) > MAX_PARAMS:
        msg = (
            f"params names {len(numeric)} numeric parameters; "
            f"at most {MAX_PARAMS} fit in the pair plot"
        )
        raise ParamError(msg)
    left_out = [*list(numeric)[MAX_PARAMS:]]
    numeric = dict(list(numeric.items())[:MAX_PARAMS])
    hue = next(
        (k for k, v in categorical.items() if 1 < len(set(v)) <= MAX_COLORS and numeric), None
    )
    counted = [k for k in categorical if k != hue]
    left_out += counted[MAX_PARAMS:]
    kept = {hue, *counted[:MAX_PARAMS]}
    categorical = {k: v for k, v in categorical.items() if k in kept}
    log = _log_axes(source, numeric)
    return Coverage(
        size=source.size,
        shown=len(indices),
        numeric=numeric,
        log=log,
        hue=hue,
        categorical=categorical,
        left_out=tuple(k for k in source.keys if k in set(left_out)),
    )


def _chosen_keys(keys: tuple[str, ...], params: Sequence[str] | None) -> list[str]:
    if params is None:
        return list(keys)
    unknown = [p for p in params if p not in keys]
    if unknown:
        msg = f"params: the sweep has no parameter {unknown[0]!r}; it has {', '.join(keys)}"
        raise ParamError(msg)
    if not params:
        msg = "params: name at least one parameter"
        raise ParamError(msg)
    return list(dict.fromkeys(params))


def _unmasked(column: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A conditional parameter's masked column as the plot reads missing values.

    Numbers become floats with NaN where the parameter is absent, anything else an
    object column with None there: the data under a mask is no value of any case.
    """
    if not isinstance(column, np.ma.MaskedArray):
        return column
    if column.dtype.kind in "iuf":
        return np.ma.filled(column.astype(np.float64), math.nan)
    out = np.empty(len(column), dtype=object)
    out[:] = column.tolist()
    return out


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
    try:
        return np.array([math.nan if v is None else v for v in column.tolist()], dtype=np.float64)
    except OverflowError:
        return None  # integers beyond any float have no place on an axis: count them


def _label(value: object) -> str:
    if value is None:
        return "(missing)"
    text = value if isinstance(value, str) else format_value(value)
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def _labels(column: npt.NDArray[Any]) -> list[str]:
    return [_label(v) for v in column.tolist()]


def _log_axes(source: ParamSource, numeric: dict[str, npt.NDArray[np.float64]]) -> dict[str, bool]:
    dists = distributions_by_key(source)
    ranges = {
        key
        for node in walk(source)
        for _, key, axis in node.product_factors()
        if key is not None and isinstance(axis, range)
    }
    return {k: _log_axis(v, dists.get(k, []), k in ranges) for k, v in numeric.items()}


def _log_axis(values: npt.NDArray[np.float64], dists: Iterable[object], in_range: bool) -> bool:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() <= 0:
        return False
    names = {type(d).__name__ for d in dists}
    if names & LOG_DISTRIBUTIONS:
        return True
    if in_range or names - {"Choice"}:
        # Values drawn from a linear distribution, or a range: linear, whatever their span.
        return False
    distinct = np.unique(finite)
    if distinct[-1] / distinct[0] < _LOG_SPAN:
        return False
    return _spread(np.diff(np.log(distinct))) <= _spread(np.diff(distinct))


def _spread(gaps: npt.NDArray[np.float64]) -> float:
    """How uneven the gaps are (their coefficient of variation; 0 for none or one)."""
    if gaps.size < 2:
        return 0.0
    return float(gaps.std() / gaps.mean())


def _bins(values: npt.NDArray[np.float64], log: bool) -> list[float] | int:
    """Histogram bin edges: geometric on a log axis, whole numbers for integer values.

    Equal-width bins over integers put two values in some bins and one in others, which
    draws a comb where the counts are even; integer bins are centred on the values, each
    one or more whole numbers wide.
    """
    finite = values[np.isfinite(values)]
    if not finite.size or finite.min() == finite.max():
        return _BINS
    low, high = float(finite.min()), float(finite.max())
    if log:
        edges: list[float] = np.geomspace(low, high, _BINS + 1).tolist()
        return edges
    if high - low < 2**53 and bool(np.all(finite == np.round(finite))):
        # The values' own step (3 for range(0, 300, 3)), so each bin holds as many of them.
        unit = int(np.gcd.reduce((finite - low).astype(np.int64)))
        positions = int((high - low) // unit) + 1
        width = unit * -(-positions // _BINS)
        count = -(-positions * unit // width)
        integer_edges: list[float] = (low - unit / 2 + width * np.arange(count + 1)).tolist()
        return integer_edges
    return _BINS


def pairplot(
    source: ParamSource,
    *,
    max_points: int = 10_000,
    title: str | None = None,
    params: Sequence[str] | None = None,
) -> Figure:
    """A figure of the sweep's coverage (see the module docstring for what is drawn).

    Raises:
        ImportError: matplotlib is not installed.
        ParamError: the sweep has no cases or no parameters, or ``params`` is wrong.
    """
    _import_matplotlib()
    coverage = sample_coverage(source, max_points=max_points, params=params)
    return draw_coverage(coverage, title=title)


def draw_coverage(coverage: Coverage, *, title: str | None = None) -> Figure:
    """The figure of a sampled coverage."""
    _import_matplotlib()
    from matplotlib.figure import Figure

    numeric, counted, hue = coverage.numeric, coverage.counted, coverage.hue
    n, m = len(numeric), len(counted)
    cols = max(n, m, 1)
    pairs_height = n * _PANEL + (n - 1) * _GAP + _BOTTOM if n else 0.0
    counts_height = _COUNT_TOP + _PANEL + _COUNT_BOTTOM if m else 0.0
    width = _LEFT + cols * _PANEL + (cols - 1) * _GAP + _RIGHT + (_LEGEND if hue else 0.0)
    height = _TOP + pairs_height + counts_height
    figure = Figure(figsize=(width, height))

    def panel(left: float, top: float) -> Axes:
        box = (left / width, (height - top - _PANEL) / height, _PANEL / width, _PANEL / height)
        return figure.add_axes(box)

    groups = _groups(coverage.categorical[hue] if hue else None, coverage.shown)
    keys = list(numeric)
    for r, ykey in enumerate(keys):
        for c, xkey in enumerate(keys):
            ax = panel(_LEFT + c * (_PANEL + _GAP), _TOP + r * (_PANEL + _GAP))
            logs = (coverage.log[xkey], coverage.log[ykey])
            if r == c:
                _histogram(ax, numeric[xkey], groups, logs[0])
            else:
                _scatter(ax, (numeric[xkey], numeric[ykey]), groups, logs, figure)
            _label_axes(ax, xkey if r == n - 1 else None, ykey if c == 0 else None)
    for c, key in enumerate(counted):
        ax = panel(_LEFT + c * (_PANEL + _GAP), _TOP + pairs_height + _COUNT_TOP)
        _counts(ax, key, coverage.categorical[key], first=c == 0)
    if hue is not None:
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], marker="o", linestyle="", color=color, label=label)
            for label, (color, _) in groups.items()
        ]
        anchor = ((width - _RIGHT - _LEGEND + 0.15) / width, (height - _TOP) / height)
        figure.legend(
            handles=handles, title=hue, loc="upper left", bbox_to_anchor=anchor, fontsize="small"
        )
    shown = (
        f"all {count_text(coverage.size, 'case')}"
        if coverage.shown == coverage.size
        else f"a sample of {coverage.shown:,} of {count_text(coverage.size, 'case')}"
    )
    figure.suptitle(f"{title}: {shown}" if title else shown, y=1 - 0.2 / height)
    return figure


def render(figure: Figure, fmt: str) -> bytes:
    """The image of ``figure`` in the format ``fmt`` (a suffix, e.g. ``png``)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()


@contextlib.contextmanager
def plot_progress(console: Console | None) -> Iterator[Callable[[str], None]]:
    """A function that shows the current step on ``console`` (a spinner), or does nothing."""
    if console is None:
        yield lambda _step: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("metalab plot: {task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)
        # Refreshed at once: a step that takes seconds must show while it runs.
        yield lambda step: progress.update(task, description=step, refresh=True)


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
        _log_scale(ax, "x")


def _shared_points(
    xy: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    groups: dict[str, tuple[Any, npt.NDArray[np.bool_]]],
) -> npt.NDArray[np.bool_]:
    """Which points lie exactly where a point of another group lies."""
    masks = [mask for _, mask in groups.values()]
    if len(masks) < 2:
        return np.zeros(len(xy[0]), dtype=np.bool_)
    group = np.select(masks, list(range(len(masks))), default=-1)
    _, spot = np.unique(np.column_stack(xy), axis=0, return_inverse=True)
    spot = spot.reshape(-1)
    pairs = np.unique(np.column_stack((spot, group)), axis=0)
    groups_per_spot = np.bincount(pairs[:, 0], minlength=spot.max() + 1)
    shared: npt.NDArray[np.bool_] = groups_per_spot[spot] > 1
    return shared


def _dodge(index: int, count: int) -> tuple[float, float]:
    """The offset in points of group ``index`` of ``count`` around a shared spot."""
    spacing = _DODGE_SPACING * math.sqrt(_MARKER_AREA)
    radius = spacing / (2 * math.sin(math.pi / count))
    angle = math.pi / 2 + 2 * math.pi * index / count
    return radius * math.cos(angle), radius * math.sin(angle)


def _scatter(
    ax: Axes,
    xy: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    groups: dict[str, tuple[Any, npt.NDArray[np.bool_]]],
    logs: tuple[bool, bool],
    figure: Figure,
) -> None:
    from matplotlib.transforms import offset_copy

    x, y = xy
    shared = _shared_points(xy, groups)
    for color, mask in groups.values():
        where = mask & ~shared
        if where.any():
            _points(ax, x[where], y[where], color)
    for i, (color, mask) in enumerate(groups.values()):
        where = mask & shared
        if where.any():
            # Shifted on the page, not in the data, so the axes keep their true limits.
            dx, dy = _dodge(i, len(groups))
            points = _points(ax, x[where], y[where], color)
            points.set_offset_transform(
                offset_copy(ax.transData, fig=figure, x=dx, y=dy, units="points")
            )
    if logs[0]:
        _log_scale(ax, "x")
    if logs[1]:
        _log_scale(ax, "y")


def _points(
    ax: Axes, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], color: Any
) -> PathCollection:
    points = ax.scatter(x, y, s=_MARKER_AREA, alpha=0.6, color=color, linewidths=0)
    points.set_rasterized(True)
    # Thousands of points never stick out of the axes, so no need to measure them.
    points.set_in_layout(False)
    return points


def _log_scale(ax: Axes, which: str) -> None:
    from matplotlib.ticker import LogLocator

    # Minor ticks at 2 and 5 only: eight per decade made most of a plot's drawing time.
    minor = LogLocator(base=10, subs=(2.0, 5.0))
    if which == "x":
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(minor)
    else:
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(minor)


def _counts(ax: Axes, key: str, labels: list[str], *, first: bool) -> None:
    common = Counter(labels).most_common(MAX_BARS)
    names = [name for name, _ in common]
    ax.bar(range(len(common)), [n for _, n in common], color="tab:gray")
    ax.set_xticks(range(len(common)), names, rotation=45, ha="right", fontsize="small")
    ax.set_title(
        key if len(set(labels)) <= MAX_BARS else f"{key} (top {MAX_BARS})", fontsize="small"
    )
    ax.tick_params(labelsize="x-small")
    if first:
        ax.set_ylabel("count")


def _label_axes(ax: Axes, xlabel: str | None, ylabel: str | None) -> None:
    ax.tick_params(labelsize="x-small")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
