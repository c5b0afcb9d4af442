"""metalab's benchmark suite: metalab and each baseline side by side, in one run.

Every timed comparison interleaves repetitions of metalab and its baseline (alternating
which goes first) and compares medians, so a slow patch of the machine hits both. The
result is a table of ratios (metalab time / baseline time) against the project's
targets, printed and written to ``docs/performance.md``.

Run it with ``nox -s bench`` (installs the ``bench`` dependency group), or directly:
``python benchmarks/bench.py [--quick] [--rounds N] [--output docs/performance.md]``.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import gc
import hashlib
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import metalab
from metalab import choice, grid, loguniform, manual, randint, uniform

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent

# -- the sweeps under test ------------------------------------------------------------
GRID_SPEC: dict[str, list[Any]] = {
    "activation": ["relu", "gelu", "tanh", "silu", "elu", "selu", "mish", "swish", "sigmoid", "id"],
    "depth": list(range(10)),
    "lr": [10.0**-k for k in np.linspace(1, 5, 100).tolist()],
    "width": list(range(16, 1616, 16)),
}
"""A 1,000,000-case grid of 4 parameters (10 x 10 x 100 x 100)."""

N_TRIALS = 100_000
SPACE = {
    "batch": choice([16, 32, 64, 128, 256]),
    "dropout": uniform(0.0, 0.5),
    "layers": randint(1, 8),
    "lr": loguniform(1e-5, 1e-1),
}
OPTIONS = [16, 32, 64, 128, 256]


def drain(iterable: Iterable[object]) -> None:
    """Consume an iterator without keeping its items (the same way for every contender)."""
    collections.deque(iterable, maxlen=0)


@dataclass
class Comparison:
    """One timed comparison: a metalab callable against a baseline callable."""

    target: str
    what: str
    baseline_name: str
    ours: Callable[[], object]
    baseline: Callable[[], object]
    limit: float
    reps: int = 7
    rounds: list[tuple[float, float]] = field(default_factory=list)
    """Per round of the suite: (metalab median, baseline median) in seconds."""

    @property
    def ratios(self) -> list[float]:
        """Metalab median over baseline median, one per round."""
        return [ours / base for ours, base in self.rounds]

    @property
    def ratio(self) -> float:
        """The median of the per-round ratios."""
        return statistics.median(self.ratios)


def _time(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(comparisons: list[Comparison], scale: float) -> None:
    """One round: interleave repetitions of every comparison; record their medians."""
    for comp in comparisons:
        comp.ours()  # warm caches and lazy imports once, untimed
        comp.baseline()
        reps = max(3, round(comp.reps * scale))
        ours: list[float] = []
        base: list[float] = []
        for rep in range(reps):
            pair = [(comp.ours, ours), (comp.baseline, base)]
            if rep % 2:
                pair.reverse()
            for fn, sink in pair:
                sink.append(_time(fn))
        comp.rounds.append((statistics.median(ours), statistics.median(base)))
        print(
            f"  [{comp.target}] {comp.what}: ratio {comp.ratios[-1]:.3f} (limit {comp.limit})",
            flush=True,
        )


# -- 1, 2, 5: grids ---------------------------------------------------------------------
def grid_comparisons() -> list[Comparison]:
    """Targets 1, 2 and 5: streaming, random lookups and case ids of a grid."""
    from sklearn.model_selection import ParameterGrid

    g = grid(**GRID_SPEC)
    pg = ParameterGrid(GRID_SPEC)
    assert g.size == len(pg) == 1_000_000
    rng = random.Random(0)
    lookups = [rng.randrange(g.size) for _ in range(100_000)]
    small = grid(**{**GRID_SPEC, "lr": GRID_SPEC["lr"][:10]})
    assert small.size == 100_000

    def sha_ids() -> None:
        for params in small.dicts():
            hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()

    def case_ids() -> None:
        for case in small:
            _ = case.case_id

    reps = 5
    return [
        Comparison(
            "1a",
            "stream 1,000,000 grid cases as ParamCase",
            "sklearn ParameterGrid iteration",
            lambda: drain(g),
            lambda: drain(pg),
            2.0,
            reps,
        ),
        Comparison(
            "1b",
            "stream 1,000,000 grid cases as dicts (`dicts()`)",
            "sklearn ParameterGrid iteration",
            lambda: drain(g.dicts()),
            lambda: drain(pg),
            1.1,
            reps,
        ),
        Comparison(
            "2",
            "100,000 random-index grid lookups",
            "sklearn ParameterGrid.__getitem__",
            lambda: [g[i] for i in lookups],
            lambda: [pg[i] for i in lookups],
            0.5,
            reps,
        ),
        Comparison(
            "5",
            "iterate 100,000 grid cases reading case_id",
            "dicts + sha256(json.dumps(sort_keys=True))",
            case_ids,
            sha_ids,
            0.5,
            reps,
        ),
    ]


# -- 3, 4: random sources ------------------------------------------------------------
def random_comparisons() -> list[Comparison]:
    """Targets 3 and 4: vectorized columns, batched cases, per-index access."""
    src = metalab.random(SPACE, N_TRIALS, seed=0)
    keys = sorted(SPACE)
    options = np.array(OPTIONS)

    def numpy_columns() -> dict[str, np.ndarray]:
        gen = np.random.default_rng(0)
        return {
            "batch": options[gen.integers(0, len(OPTIONS), N_TRIALS)],
            "dropout": gen.uniform(0.0, 0.5, N_TRIALS),
            "layers": gen.integers(1, 9, N_TRIALS),
            "lr": np.exp(gen.uniform(math.log(1e-5), math.log(1e-1), N_TRIALS)),
        }

    def numpy_dicts() -> list[dict[str, Any]]:
        cols = numpy_columns()
        rows = zip(*(cols[k].tolist() for k in keys), strict=True)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    all_indices = list(range(N_TRIALS))
    rng = random.Random(1)
    shuffled = rng.sample(range(N_TRIALS), 20_000)
    seed = 0
    log_lo, log_hi = math.log(1e-5), math.log(1e-1)

    def python_random_per_index() -> list[dict[str, Any]]:
        out = []
        for i in shuffled:
            r = random.Random(seed * 1_000_000_007 + i)
            out.append(
                {
                    "batch": r.choice(OPTIONS),
                    "dropout": r.uniform(0.0, 0.5),
                    "layers": r.randint(1, 8),
                    "lr": math.exp(r.uniform(log_lo, log_hi)),
                }
            )
        return out

    comps = [
        Comparison(
            "3a",
            "100,000 trials: `columns()`",
            "hand-written numpy (default_rng)",
            src.columns,
            numpy_columns,
            1.5,
            9,
        ),
        Comparison(
            "3b",
            "100,000 trials: iterate ParamCase",
            "hand-written numpy + plain dicts",
            lambda: drain(src),
            numpy_dicts,
            5.0,
            5,
        ),
        Comparison(
            "3c",
            "100,000 trials: `take(all)` ParamCase",
            "hand-written numpy + plain dicts",
            lambda: src.take(all_indices),
            numpy_dicts,
            5.0,
            5,
        ),
        Comparison(
            "4",
            "20,000 shuffled single-index lookups",
            "random.Random seeded per index",
            lambda: [src[i] for i in shuffled],
            python_random_per_index,
            0.6,
            7,
        ),
    ]
    try:
        from scipy import stats
        from sklearn.model_selection import ParameterSampler
    except ImportError:  # pragma: no cover - the bench group installs both
        return comps

    sk_space = {
        "batch": OPTIONS,
        "dropout": stats.uniform(0.0, 0.5),
        "layers": stats.randint(1, 9),
        "lr": stats.loguniform(1e-5, 1e-1),
    }
    comps.append(
        Comparison(
            "3d",
            "100,000 trials: iterate ParamCase",
            "sklearn ParameterSampler + scipy",
            lambda: drain(src),
            lambda: drain(ParameterSampler(sk_space, n_iter=N_TRIALS, random_state=0)),
            0.05,
            3,
        )
    )
    return comps


# -- 6: composites ---------------------------------------------------------------------
def composite_comparisons() -> list[Comparison]:
    """Target 6: composite indexing against indexing its parts; a 10**40-case product."""
    g = grid(depth=[2, 4, 8], width=[64, 128, 256, 512], act=["relu", "gelu"])
    m = manual(
        [{"depth": 1, "width": 32, "act": "relu"}, {"depth": 16, "width": 1024, "act": "gelu"}]
    )
    r = metalab.random({"lr": loguniform(1e-5, 1e-1), "dropout": uniform(0.0, 0.5)}, 50, seed=0)
    sweep = (g + m) * r
    rng = random.Random(2)
    indices = [rng.randrange(sweep.size) for _ in range(50_000)]
    n_r, n_g = r.size, g.size

    def parts() -> list[metalab.ParamCase]:
        out = []
        for i in indices:
            j, k = divmod(i, n_r)
            out.append(g[j] if j < n_g else m[j - n_g])
            out.append(r[k])
        return out

    huge: metalab.ParamSource = grid(a0=list(range(10)))
    for k in range(1, 40):
        huge = huge * grid(**{f"a{k}": list(range(10))})
    assert huge.size == 10**40
    huge_idx = [rng.randrange(huge.size) for _ in range(5_000)]
    g4 = grid(**GRID_SPEC)
    g4_idx = [rng.randrange(g4.size) for _ in range(5_000)]
    return [
        Comparison(
            "6a",
            "(grid + manual) * random: 50,000 lookups",
            "indexing the parts directly",
            lambda: [sweep[i] for i in indices],
            parts,
            1.5,
            7,
        ),
        Comparison(
            "6b",
            "10**40-case product: 5,000 lookups",
            "4-parameter grid: 5,000 lookups",
            lambda: [huge[i] for i in huge_idx],
            lambda: [g4[i] for i in g4_idx],
            10.0,
            7,
        ),
    ]


# -- 7, 8: memory and import time, in fresh interpreters ------------------------------
_RSS_SCRIPT = textwrap.dedent(
    """
    import collections, resource, sys
    import metalab
    g = metalab.grid(a=list(range(100)), b=list(range(100)), c=list(range(100)), d=list(range(10)))
    assert g.size == 10_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    collections.deque(g if sys.argv[1] == "cases" else g.dicts(), maxlen=0)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print((after - before) / 1024)
    """
)

_RANGE_SCRIPT = textwrap.dedent(
    """
    import itertools, sys, tracemalloc
    import metalab
    n = int(sys.argv[1])
    tracemalloc.start()
    g = metalab.grid(step=range(n), lr=[0.1, 0.01])
    cases = [g[i] for i in (0, n // 2, n - 1, -1)]
    first = list(itertools.islice(g, 1000))
    print(tracemalloc.get_traced_memory()[1] / 1024)
    """
)

_IMPORT_SCRIPT = (
    "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
)


def _python(*args: str) -> str:
    # Bytecode caching stays on (a warm-up import writes the .pyc files), so that import
    # times measure importing, as users see it, and not compiling sources every time.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.run(
        [sys.executable, *args], check=True, capture_output=True, text=True, env=env
    ).stdout.strip()


@dataclass
class Figure:
    """A measured quantity that is not a timed ratio (memory, or a ratio of import times)."""

    target: str
    what: str
    values: list[float]
    """One measurement per round."""
    unit: str
    limit: float

    @property
    def value(self) -> float:
        """The median over the rounds."""
        return statistics.median(self.values)

    @property
    def ok(self) -> bool:
        """Whether the figure is within its limit."""
        return self.value <= self.limit


def memory_and_import(scale: float) -> list[Figure]:
    """Targets 7 and 8."""
    figures = [
        Figure(
            "7a",
            "iterate a 10,000,000-case grid (ParamCase): added peak RSS",
            [float(_python("-c", _RSS_SCRIPT, "cases"))],
            "MB",
            50.0,
        ),
        Figure(
            "7b",
            "iterate a 10,000,000-case grid (`dicts()`): added peak RSS",
            [float(_python("-c", _RSS_SCRIPT, "dicts"))],
            "MB",
            50.0,
        ),
    ]
    small = float(_python("-c", _RANGE_SCRIPT, str(10**3)))
    large = float(_python("-c", _RANGE_SCRIPT, str(10**12)))
    figures.append(
        Figure(
            "7c",
            "`range(10**12)` axis: traced peak memory, relative to `range(10**3)`",
            [large / small],
            "x",
            1.5,
        )
    )
    reps = max(5, round(15 * scale))
    ours: list[float] = []
    base: list[float] = []
    for mod in ("metalab", "numpy, attrs, cattrs"):  # untimed: writes missing .pyc files
        _python("-c", _IMPORT_SCRIPT.format(mod=mod))
    for rep in range(reps):
        pair = [("metalab", ours), ("numpy, attrs, cattrs", base)]
        if rep % 2:
            pair.reverse()
        for mod, sink in pair:
            sink.append(float(_python("-c", _IMPORT_SCRIPT.format(mod=mod))))
    figures.append(
        Figure(
            "8",
            "`import metalab` / `import numpy, attrs, cattrs` (fresh interpreter)",
            [statistics.median(ours) / statistics.median(base)],
            "x",
            1.3,
        )
    )
    for fig in figures:
        print(f"  [{fig.target}] {fig.what}: {fig.value:.3f} {fig.unit} (limit {fig.limit})")
    return figures


# -- report ----------------------------------------------------------------------------
def _versions() -> str:
    import attrs
    import sklearn

    try:
        ours = version("metalab")
    except PackageNotFoundError:  # run from a source tree on PYTHONPATH
        ours = "(source tree)"

    return (
        f"Python {platform.python_version()}, NumPy {np.__version__}, attrs {attrs.__version__}, "
        f"scikit-learn {sklearn.__version__}, metalab {ours}"
    )


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f} to {max(values):.3f}" if len(values) > 1 else "(one round)"


def _met(values: list[float], limit: float) -> str:
    within = sum(v <= limit for v in values)
    verdict = "yes" if statistics.median(values) <= limit else "**no**"
    return verdict if len(values) == 1 else f"{verdict} ({within} of {len(values)} rounds)"


def report(comparisons: list[Comparison], figures: list[Figure], rounds: int, quick: bool) -> str:
    """The Markdown page with both tables."""
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Performance",
        "",
        "Measured by `nox -s bench` (`benchmarks/bench.py`): metalab and each baseline run",
        "side by side in one process, repetitions interleaved, medians compared. A ratio is",
        "metalab's time divided by the baseline's; below 1 means metalab is faster. The",
        "whole suite runs several rounds, minutes apart, because a shared virtual machine",
        "speeds up and slows down between them: the ratio shown is the median over the",
        "rounds, the range is the lowest and highest round, and a target counts as met",
        "when the median is within it.",
        "",
        (
            f"Machine: {os.cpu_count()} cores, {cpu}, {platform.system()}. {_versions()}."
            f" {rounds} round{'s' if rounds > 1 else ''},"
            f" finished {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
            f"{' (quick mode)' if quick else ''}."
        ),
        "",
        (
            "| # | metalab | baseline | metalab median | baseline median | ratio | range | "
            "target | met |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {c.target} | {c.what} | {c.baseline_name} | "
        f"{statistics.median(o for o, _ in c.rounds) * 1e3:.1f} ms | "
        f"{statistics.median(b for _, b in c.rounds) * 1e3:.1f} ms | {c.ratio:.3f} | "
        f"{_spread(c.ratios)} | <= {c.limit} | {_met(c.ratios, c.limit)} |"
        for c in comparisons
    )
    lines += [
        "",
        "| # | measured | value | range | target | met |",
        "|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {f.target} | {f.what} | {f.value:.3f} {f.unit} | {_spread(f.values)} | "
        f"<= {f.limit} {f.unit} | {_met(f.values, f.limit)} |"
        for f in figures
    )
    lines += ["", *_WHERE_THE_TIME_GOES]
    return "\n".join(lines) + "\n"


_WHERE_THE_TIME_GOES = (
    "## Where the time goes",
    "",
    "- Grids, random sources and products write out, once per source, the Python code",
    "  that computes case `i`, streams cases and streams dicts, as attrs writes out an",
    "  `__init__`: one `%`/`//` per axis, inline draws, a dict display with constant keys.",
    "  Random batches (`columns()`, iteration, `take`) run NumPy kernels in chunks.",
    "- What is left per case is building it: a `ParamCase` and its read-only params,",
    "  two objects the garbage collector tracks, where the baselines return one plain",
    "  dict that it does not track. Code that keeps many cases in a list (targets 2, 3c",
    "  and 4) also pays for the collections they trigger; the ratios of those targets",
    "  move most from round to round. `take()` pauses the collector while it builds its",
    "  list and scans the new cases once before returning.",
    "- `import metalab` loads neither the manifest machinery (cattrs), the command line",
    "  nor typed views until they are used.",
)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the tables and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--rounds", type=int, default=3, help="times to run the whole suite")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    scale = 0.4 if args.quick else 1.0
    rounds = max(1, args.rounds)

    batches = [build() for build in (grid_comparisons, random_comparisons, composite_comparisons)]
    comparisons = [comp for batch in batches for comp in batch]
    figures: dict[str, Figure] = {}
    for number in range(1, rounds + 1):
        print(f"round {number} of {rounds}", flush=True)
        for batch in batches:
            run(batch, scale)
        for fig in memory_and_import(scale):
            figures.setdefault(fig.target, Figure(fig.target, fig.what, [], fig.unit, fig.limit))
            figures[fig.target].values.extend(fig.values)
    page = report(comparisons, list(figures.values()), rounds, args.quick)
    print()
    print(page)
    args.output.write_text(page, encoding="utf-8")
    missed = [c.target for c in comparisons if c.ratio > c.limit] + [
        f.target for f in figures.values() if not f.ok
    ]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
