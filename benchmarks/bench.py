"""metalab's benchmark suite: metalab and each baseline side by side, in one run.

Every timed comparison interleaves repetitions of metalab and its baseline (alternating
which goes first) and compares medians, so a slow patch of the machine hits both. The
result is a table of ratios (metalab time / baseline time) against the project's
targets. The measurements are saved in ``docs/performance.json``, and the page
``docs/performance.md`` and its chart ``docs/performance.png`` are rendered from them.

Run it with ``nox -s bench`` (installs the ``bench`` dependency group), or directly:
``python benchmarks/bench.py [--quick] [--rounds N] [--output docs/performance.md]``;
``--render-only`` runs nothing and renders the page and chart from the saved results.
"""

from __future__ import annotations

import argparse
import collections
import copy
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
from typing import TYPE_CHECKING, Any, Final

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
    does: str = ""
    """What each side does and keeps, for the page (like must be compared with like)."""
    cleanup: Callable[[], object] | None = None
    """Run after each round's repetitions, untimed (e.g. to delete the files they wrote)."""
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
        if comp.cleanup is not None:
            comp.cleanup()
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
            "sklearn `ParameterGrid` iteration",
            lambda: drain(g),
            lambda: drain(pg),
            2.0,
            reps,
            "both sides build every case and drop it at once",
        ),
        Comparison(
            "1b",
            "stream 1,000,000 grid cases as dicts (`dicts()`)",
            "sklearn `ParameterGrid` iteration",
            lambda: drain(g.dicts()),
            lambda: drain(pg),
            1.1,
            reps,
            "both sides build every dict and drop it at once",
        ),
        Comparison(
            "2",
            "100,000 random-index grid lookups",
            "sklearn `ParameterGrid.__getitem__`",
            lambda: [g[i] for i in lookups],
            lambda: [pg[i] for i in lookups],
            0.5,
            reps,
            "both sides keep the 100,000 results in a list (ParamCase / dict)",
        ),
        Comparison(
            "5",
            "iterate 100,000 grid cases reading `case_id`",
            "dicts + `sha256(json.dumps(sort_keys=True))`",
            case_ids,
            sha_ids,
            0.5,
            reps,
            "metalab reads each case's `case_id`, the baseline hashes each dict; both drop"
            " every case and id at once",
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
            "hand-written numpy (`default_rng`)",
            src.columns,
            numpy_columns,
            1.5,
            9,
            "both sides return four NumPy arrays of 100,000 values",
        ),
        Comparison(
            "3b",
            "100,000 trials kept: `list(source)`",
            "hand-written numpy + a list of plain dicts",
            lambda: list(src),
            numpy_dicts,
            2.0,
            5,
            "both sides keep a list of 100,000 cases (ParamCase / plain dict), the collector"
            " on, as in a user's program",
        ),
        Comparison(
            "3c",
            "100,000 trials kept: `take(all)`",
            "hand-written numpy + a list of plain dicts",
            lambda: src.take(all_indices),
            numpy_dicts,
            2.0,
            5,
            "both sides keep a list of 100,000 cases (ParamCase / plain dict)",
        ),
        Comparison(
            "4",
            "20,000 shuffled single-index lookups",
            "`random.Random` seeded per index",
            lambda: [src[i] for i in shuffled],
            python_random_per_index,
            0.5,
            7,
            "both sides draw each case on its own and keep the 20,000 in a list",
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
            "100,000 trials streamed and dropped: iterate the source",
            "sklearn `ParameterSampler` + scipy",
            lambda: drain(src),
            lambda: drain(ParameterSampler(sk_space, n_iter=N_TRIALS, random_state=0)),
            0.05,
            3,
            "both sides draw every trial and drop it at once (ParamCase / dict)",
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
    indices = [rng.randrange(sweep.size) for _ in range(20_000)]
    n_r, n_g = r.size, g.size

    def parts() -> list[metalab.ParamCase]:
        # Both parts are looked up, as the composite does; one case per lookup is kept,
        # as the composite keeps one, so both sides keep the same number of objects.
        out = []
        for i in indices:
            j, k = divmod(i, n_r)
            left = g[j] if j < n_g else m[j - n_g]
            _ = r[k]
            out.append(left)
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
            "`(grid + manual) * random`: 20,000 lookups kept",
            "indexing its two parts, keeping one of the two cases",
            lambda: [sweep[i] for i in indices],
            parts,
            1.3,
            7,
            "metalab keeps the 20,000 merged cases in a list; the baseline looks up both"
            " parts of each and keeps one of the two: one kept object per lookup on both sides",
        ),
        Comparison(
            "6b",
            "`10**40`-case product: 5,000 lookups",
            "4-parameter grid: 5,000 lookups",
            lambda: [huge[i] for i in huge_idx],
            lambda: [g4[i] for i in g4_idx],
            10.0,
            7,
            "both sides keep the 5,000 cases in a list",
        ),
    ]


# -- 9, 10, 11: manifests, construction, grid columns ----------------------------------
def construction_comparisons() -> list[Comparison]:
    """Targets 9 to 11: big manual manifests, defining a grid, a grid's columns."""
    from metalab import manifest

    cases: list[dict[str, Any]] = [{"a": i, "b": i / 3, "c": f"x{i % 10}"} for i in range(N_TRIALS)]
    big = manual(cases)
    text = manifest.dumps(big)
    data = json.loads(text)
    axes = {
        "activation": GRID_SPEC["activation"],
        "depth": GRID_SPEC["depth"],
        "lr": GRID_SPEC["lr"][:4],
        "width": GRID_SPEC["width"][:4],
    }
    g = grid(a=list(range(10)), b=list(range(20)), c=[0.1, 0.01, 0.001, 1e-4], d=list(range(500)))
    assert g.size == 400_000
    values = [np.array(axis) for axis in g.spec.values()]

    def numpy_columns() -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        inner, outer = g.size, 1
        for key, column in zip(g.spec, values, strict=True):
            inner //= len(column)
            out[key] = np.tile(np.repeat(column, inner), outer)
            outer *= len(column)
        return out

    return [
        Comparison(
            "9a",
            "`loads` of a 100,000-case manual manifest (4 MB)",
            "`json.loads` of the same text",
            lambda: manifest.loads(text),
            lambda: json.loads(text),
            3.0,
            3,
            "both sides parse the same text and keep what they built (a checked source / the"
            " plain JSON value)",
        ),
        Comparison(
            "9b",
            "`manual(cases)` of 100,000 3-parameter dicts",
            "`copy.deepcopy(cases)`",
            lambda: manual(cases),
            lambda: copy.deepcopy(cases),
            1.5,
            3,
            "both sides copy the 100,000 dicts and keep the copy (checked and frozen / plain)",
        ),
        Comparison(
            "9c",
            "`dumps` of a 100,000-case manual source",
            "`json.dumps` of its manifest's plain JSON value",
            lambda: manifest.dumps(big),
            lambda: json.dumps(data, sort_keys=True, separators=(",", ":")),
            1.5,
            3,
            "both sides write the same 4 MB of text, keys sorted",
        ),
        Comparison(
            "10",
            "`grid()` of 4 axes (10 x 10 x 4 x 4 values), 200 times",
            "`manual()` of one case, 200 times",
            lambda: [grid(**axes) for _ in range(200)],
            lambda: [manual([{"lr": 0.1}]) for _ in range(200)],
            3.0,
            5,
            "both sides define 200 sources and keep them in a list",
        ),
        Comparison(
            "11",
            "`GridSource.columns()` of 400,000 cases",
            "hand-written `np.repeat` / `np.tile`",
            g.columns,
            numpy_columns,
            3.0,
            7,
            "both sides return four NumPy arrays of 400,000 values",
        ),
    ]


# -- 12: derived parameters and constraints ------------------------------------------
WHERE_SPEC: dict[str, list[Any]] = {**GRID_SPEC, "width": list(range(16, 16016, 16))}
"""A 10,000,000-case grid of 4 parameters (10 x 10 x 100 x 1000)."""


def expression_comparisons(spec: dict[str, list[Any]] | None = None) -> list[Comparison]:
    """Target 12: building a where, indexing a filtered grid, indexing a derive.

    The where's predicate reads all four parameters, so it is one scan of the grid (no
    push-down); the baseline evaluates the same predicate by hand over the grid's own
    ``columns()``. Both sides keep their result (the accepted positions).
    """
    spec = spec or WHERE_SPEC
    g = grid(**spec)
    col = metalab.col
    predicate = ((col("width") + col("depth")) % 7 == 0) | (
        (col("lr") < 1e-3) & (col("activation") != "relu")
    )

    def numpy_where() -> object:
        c = g.columns()
        return np.flatnonzero(
            ((c["width"] + c["depth"]) % 7 == 0) | ((c["lr"] < 1e-3) & (c["activation"] != "relu"))
        )

    def build_where() -> object:
        filtered = g.where(predicate)
        assert filtered.size > 0
        return filtered

    filtered = g.where(predicate)
    rng = random.Random(9)
    lookups = [rng.randrange(filtered.size) for _ in range(50_000)]
    plain = [rng.randrange(g.size) for _ in range(50_000)]
    derived = g.derive(head=col("width") // (col("depth") + 1), scaled=col("lr") * 10)
    return [
        Comparison(
            "12a",
            f"build a `where` over a {g.size:,}-case 4-parameter grid",
            "hand-written NumPy over `columns()` (`np.flatnonzero`)",
            build_where,
            numpy_where,
            2.0,
            3,
            "both sides evaluate the same predicate over all 10,000,000 cases and keep the"
            " accepted positions (a filtered source / an index array)",
        ),
        Comparison(
            "12b",
            "50,000 random lookups of a filtered grid",
            "50,000 random lookups of the plain grid",
            lambda: [filtered[i] for i in lookups],
            lambda: [g[i] for i in plain],
            2.0,
            7,
            "both sides look up 50,000 random positions and keep the 50,000 cases in a list",
        ),
        Comparison(
            "12c",
            "50,000 random lookups of a grid with 2 derived parameters",
            "50,000 random lookups of the plain grid",
            lambda: [derived[i] for i in plain],
            lambda: [g[i] for i in plain],
            1.5,
            7,
            "both sides look up the same 50,000 positions and keep the 50,000 cases in a list;"
            " metalab also computes the two derived parameters of each",
        ),
    ]


# -- 13: metalab.run on a local process pool ------------------------------------------
RUN_CASES = 10_000
RUN_CHUNK = 64
"""Cases per task on both sides of target 13 (what metalab.run's default picks for this many
cases on up to 39 workers)."""


def _run_trial(case: metalab.ParamCase) -> dict[str, Any]:
    """A trivial experiment, as metalab.run calls it."""
    x = case.params["x"]
    assert isinstance(x, int)
    return {"y": x * 2}


def _map_trial(params: dict[str, Any]) -> dict[str, Any]:
    """The same experiment, as a hand-written ``pool.map`` calls it."""
    return {"y": params["x"] * 2}


def _write_json(directory: str, name: str, value: object) -> None:
    """Write one JSON file the way the results directory does: temp file, fsync, rename."""
    temp = os.path.join(directory, f".{name}.tmp")  # noqa: PTH118
    with open(temp, "w", encoding="utf-8") as out:  # noqa: PTH123
        json.dump(value, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, os.path.join(directory, f"{name}.json"))  # noqa: PTH105, PTH118


def run_comparisons() -> list[Comparison]:
    """Target 13: metalab.run over 10,000 trivial cases against ProcessPoolExecutor.map.

    Both sides start a pool of one worker per core inside the timing, send 64 cases per
    task and keep every result the same way: as one fsync'd JSON file per case, written
    from 16 threads (metalab.run's results directory; a baseline that kept its results
    in memory would do less work). metalab.run also enumerates the sweep, checks the
    store and records timing.
    """
    import atexit
    import concurrent.futures as cf
    import shutil
    import tempfile

    from metalab._run.runner import WRITERS, default_workers

    sweep = grid(x=range(RUN_CASES))
    dicts = list(sweep.dicts())
    workers = default_workers()
    scratch = Path(tempfile.mkdtemp(prefix="metalab-bench-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)

    def cleanup() -> None:
        for directory in scratch.iterdir():
            shutil.rmtree(directory, ignore_errors=True)

    def ours() -> None:
        store = tempfile.mkdtemp(dir=scratch)
        report = metalab.run(_run_trial, sweep, store=store, chunk=RUN_CHUNK)
        assert report.done == RUN_CASES

    def mapped_to_files() -> None:
        directory = tempfile.mkdtemp(dir=scratch)
        with (
            cf.ProcessPoolExecutor(max_workers=workers) as pool,
            cf.ThreadPoolExecutor(WRITERS) as writers,
        ):
            names = (f"{i}" for i in range(RUN_CASES))
            results = pool.map(_map_trial, dicts, chunksize=RUN_CHUNK)
            list(writers.map(_write_json, [directory] * RUN_CASES, names, results))

    return [
        Comparison(
            "13a",
            f"`metalab.run`: {RUN_CASES:,} trivial cases, local pool, into a results directory",
            "`ProcessPoolExecutor.map`, one fsync'd JSON file per result (16 threads)",
            ours,
            mapped_to_files,
            1.3,
            3,
            "both sides start a pool of one worker per core, send 64 cases per task and write"
            " one fsync'd JSON file per result from 16 threads; metalab also enumerates the"
            " sweep, checks the store and records timing",
            cleanup=cleanup,
        ),
    ]


# -- 17: conditional parameters -----------------------------------------------------------
def conditional_comparisons() -> list[Comparison]:
    """Target 17: a random space with two conditional parameters against the same laws plain.

    Both sides draw four parameters for 100,000 trials (or look up the same 20,000
    trials); on the conditional side ``dropout`` exists only for deep nets and ``lr``
    draws from one of two laws by batch size, as in the docs' examples, so it also
    evaluates the two conditions and leaves out the parameter they switch off.
    """
    plain = metalab.random(SPACE, N_TRIALS, seed=0)
    conditional = metalab.random(
        {
            **SPACE,
            "dropout": uniform(0.0, 0.5).when(metalab.col("layers") > 2),
            "lr": metalab.switch(
                metalab.col("batch") >= 64,
                {True: loguniform(1e-4, 1e-1), False: loguniform(1e-5, 1e-2)},
            ),
        },
        N_TRIALS,
        seed=0,
    )
    shuffled = random.Random(3).sample(range(N_TRIALS), 20_000)
    return [
        Comparison(
            "14a",
            "100,000 trials, 2 conditional parameters: `columns()`",
            "the same laws without conditions",
            conditional.columns,
            plain.columns,
            2.0,
            9,
            "both sides return the columns of 100,000 trials; metalab also evaluates the two"
            " conditions and masks the values they switch off",
        ),
        Comparison(
            "14b",
            "2 conditional parameters: 20,000 shuffled single-index lookups",
            "the same laws without conditions",
            lambda: [conditional[i] for i in shuffled],
            lambda: [plain[i] for i in shuffled],
            1.5,
            7,
            "both sides draw the same 20,000 trials one by one and keep them in a list",
        ),
    ]


# -- 7, 8: memory and import time, in fresh interpreters ------------------------------
# The resident set is sampled while the grid streams: the process's peak (ru_maxrss) is
# reached while importing and compiling, before the loop, so it never shows what the loop
# adds. One case in 2**16 samples it; the figure is the largest sample minus the start.
_RSS_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import metalab
    page = os.sysconf("SC_PAGE_SIZE")
    def rss():
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * page
    g = metalab.grid(a=list(range(100)), b=list(range(100)), c=list(range(100)), d=list(range(10)))
    assert g.size == 10_000_000
    it = iter(g) if sys.argv[1] == "cases" else g.dicts()
    next(it)
    before = peak = rss()
    for n, _ in enumerate(it):
        if not n & 0xFFFF:
            peak = max(peak, rss())
    print((max(peak, rss()) - before) / 2**20)
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
            "stream a 10,000,000-case grid (ParamCase): growth of the resident set",
            [float(_python("-c", _RSS_SCRIPT, "cases"))],
            "MB",
            50.0,
        ),
        Figure(
            "7b",
            "stream a 10,000,000-case grid (`dicts()`): growth of the resident set",
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


# -- results, page and chart -------------------------------------------------------------
RESULTS_FORMAT = 1
"""The layout version of the results file (``docs/performance.json``)."""


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


def _cpu() -> str:
    """The processor's model and cache sizes where Linux says them, else its architecture.

    Ratios move between processors (a NumPy kernel may gain more from a newer one than
    Python code does), so the page names the one it was measured on.
    """
    arch = platform.processor() or platform.machine()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return arch
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        arch,
    )
    caches = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text(encoding="utf-8").strip()
            kind = (index / "type").read_text(encoding="utf-8").strip()
            size = (index / "size").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if kind != "Instruction":
            caches.append(f"L{level} {size}")
    return f"{model} ({', '.join(caches)}), {arch}" if caches else f"{model}, {arch}"


def results(
    comparisons: list[Comparison], figures: list[Figure], rounds: int, quick: bool
) -> dict[str, Any]:
    """What a run measured, as JSON: the page and the chart are rendered from this alone."""
    return {
        "format": RESULTS_FORMAT,
        "machine": f"{os.cpu_count()} cores, {_cpu()}, {platform.system()}",
        "versions": _versions(),
        "rounds": rounds,
        "quick": quick,
        "finished": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "comparisons": [
            {
                "target": c.target,
                "what": c.what,
                "baseline": c.baseline_name,
                "does": c.does,
                "limit": c.limit,
                "ratios": c.ratios,
                "metalab_median_s": statistics.median(o for o, _ in c.rounds),
                "baseline_median_s": statistics.median(b for _, b in c.rounds),
            }
            for c in comparisons
        ],
        "figures": [
            {
                "target": f.target,
                "what": f.what,
                "unit": f.unit,
                "limit": f.limit,
                "values": f.values,
            }
            for f in figures
        ],
    }


@dataclass(frozen=True)
class Row:
    """One target of the page: a timed comparison (a ratio) or a measured figure."""

    target: str
    what: str
    unit: str
    """``"x"`` for a ratio (every timed comparison), else the figure's unit."""
    limit: float
    values: list[float]
    """One value per round."""
    baseline: str | None = None
    times: tuple[float, float] | None = None
    """The medians over the rounds of metalab's and the baseline's time, in seconds."""
    does: str = ""
    """What each side does and keeps (results of older runs may not say)."""

    @property
    def value(self) -> float:
        """The median over the rounds."""
        return statistics.median(self.values)

    @property
    def met(self) -> bool:
        """Whether the median is within the target."""
        return self.value <= self.limit

    @property
    def order(self) -> tuple[int, str]:
        """Sort key: by target number, then letter (so 5 comes before 6a, not after 3d)."""
        return _order(self.target)


def _order(target: str) -> tuple[int, str]:
    digits = "".join(ch for ch in target if ch.isdigit())
    return int(digits), target.removeprefix(digits)


def rows(data: dict[str, Any]) -> list[Row]:
    """The page's rows from a results file, sorted by target number."""
    if data.get("format") != RESULTS_FORMAT:
        msg = f"results format {data.get('format')!r} is not {RESULTS_FORMAT}"
        raise ValueError(msg)
    found = [
        Row(
            c["target"],
            c["what"],
            "x",
            c["limit"],
            c["ratios"],
            c["baseline"],
            (c["metalab_median_s"], c["baseline_median_s"]),
            c.get("does", ""),
        )
        for c in data["comparisons"]
    ]
    found += [
        Row(f["target"], f["what"], f["unit"], f["limit"], f["values"]) for f in data["figures"]
    ]
    return sorted(found, key=lambda row: row.order)


def _number(value: float, unit: str) -> str:
    return f"{value:.3f}" if unit == "x" else f"{value:.3f} {unit}"


def _range(row: Row) -> str:
    if len(row.values) == 1:
        return "(one round)"
    return f"{min(row.values):.3f}\u2013{max(row.values):.3f}"


def _met(row: Row) -> str:
    verdict = "yes" if row.met else "**no**"
    if len(row.values) == 1:
        return verdict
    return f"{verdict} ({sum(v <= row.limit for v in row.values)} of {len(row.values)})"


def _limit(row: Row) -> str:
    return f"<= {row.limit:g}" if row.unit == "x" else f"<= {row.limit:g} {row.unit}"


def report(data: dict[str, Any], chart: str | None) -> str:
    """The Markdown page: how it was measured, the chart, one table, a note per row."""
    table = rows(data)
    rounds = data["rounds"]
    lines = [
        "# Performance",
        "",
        "Measured by `nox -s bench` (`benchmarks/bench.py`): metalab and each baseline run",
        "side by side in one process, repetitions interleaved, medians compared. A ratio is",
        "metalab's time divided by the baseline's; below 1 means metalab is faster. The",
        "whole suite runs several rounds, minutes apart, because a shared virtual machine",
        "speeds up and slows down between them: the ratio shown is the median over the",
        "rounds, the range is the lowest and highest round, and a target counts as met",
        "when the median is within it. The measurements are kept in `performance.json`;",
        "`python benchmarks/bench.py --render-only` writes this page and its chart again",
        "from them.",
        "",
        (
            f"Machine: {data['machine']}. {data['versions']}."
            f" {rounds} round{'s' if rounds > 1 else ''}, finished {data['finished']}"
            f"{' (quick mode)' if data['quick'] else ''}."
        ),
        "",
    ]
    for partial in data.get("partial_runs", []):
        count = partial["rounds"]
        lines += [
            (
                f"Measured again alone (`--only`): {', '.join(partial['targets'])}; "
                f"{count} round{'s' if count > 1 else ''}"
                f"{' (quick mode)' if partial['quick'] else ''}, finished {partial['finished']}."
            ),
            "",
        ]
    if chart is not None:
        lines += [
            f"![Each ratio against its target, on a log scale]({chart})",
            "",
            "Each bar runs from 1 to a ratio (the median over the rounds), its whisker from",
            "the lowest to the highest round, and the red mark is its target: a bar to the",
            "left of the dotted line at 1 is a target where metalab is faster than the",
            "baseline (or, for 7c, needs less memory).",
            "",
        ]
    lines += [
        "| # | measured | median | range | target | met |",
        "|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {r.target} | {r.what} | {_number(r.value, r.unit)} | {_range(r)} | {_limit(r)} | "
        f"{_met(r)} |"
        for r in table
    )
    lines += ["", "The baselines, and each side's median time over the rounds:", ""]
    for r in table:
        if r.baseline is not None and r.times is not None:
            ours, base = (f"{seconds * 1e3:.1f} ms" for seconds in r.times)
            does = f" ({r.does})" if r.does else ""
            lines.append(f"- **{r.target}**: {r.baseline}{does}; metalab {ours}, baseline {base}.")
    lines += ["", *_WHERE_THE_TIME_GOES]
    return "\n".join(lines) + "\n"


def chart(data: dict[str, Any], path: Path) -> None:
    """Write a PNG of every ratio against its target: bars, the rounds' range, the target.

    Bars start at 1 (as fast as the baseline), so a bar to the left is a target where
    metalab is faster, one to the right where it is slower; the scale is logarithmic,
    the ratios spanning three decades.
    """
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ratios = [r for r in rows(data) if r.unit == "x"]
    y = list(range(len(ratios)))
    values = [r.value for r in ratios]
    low = [r.value - min(r.values) for r in ratios]
    high = [max(r.values) - r.value for r in ratios]
    fig, ax = plt.subplots(figsize=(6.9, 0.5 * len(ratios) + 1.4), dpi=150, layout="constrained")
    ax.barh(
        y,
        [v - 1.0 for v in values],
        left=1.0,
        xerr=[low, high],
        color=["#3f51b5" if r.met else "#e53935" for r in ratios],
        height=0.6,
        error_kw={"ecolor": "#222222", "capsize": 3, "linewidth": 1},
    )
    ax.scatter(
        [r.limit for r in ratios], y, marker="|", s=300, linewidths=2.5, color="#e53935", zorder=3
    )
    ax.axvline(1.0, color="#666666", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y, [_label(r) for r in ratios], fontsize=7.5)
    ax.invert_yaxis()  # target 1a at the top, as in the table
    ax.set_xlabel("ratio to the baseline (log scale); below 1, metalab is ahead")
    ax.grid(axis="x", which="both", alpha=0.25)
    ax.legend(
        handles=[
            Patch(color="#3f51b5", label="median ratio"),
            Line2D([], [], color="#222222", marker="|", linestyle="-", label="range of the rounds"),
            Line2D(
                [],
                [],
                color="#e53935",
                marker="|",
                markersize=12,
                mew=2.5,
                linestyle="none",
                label="target",
            ),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=3,
        frameon=False,
        fontsize=8,
    )
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _label(row: Row) -> str:
    """A row's tick label: its number and what it measures, then its baseline."""
    what = textwrap.fill(f"{row.target}  {row.what}".replace("`", ""), 44)
    if row.baseline is None:
        return what
    return f"{what}\nvs {row.baseline}".replace("`", "")


def write(data: dict[str, Any], page: Path) -> None:
    """Write the page and, next to it, its chart (``performance.png`` for ``performance.md``)."""
    image = page.with_suffix(".png")
    chart(data, image)
    page.write_text(report(data, image.name), encoding="utf-8")


_WHERE_THE_TIME_GOES = (
    "## Where the time goes",
    "",
    "- Grids, random sources and products write out, once per source, the Python code",
    "  that computes case `i`, streams cases and streams dicts, as attrs writes out an",
    "  `__init__`: one `%`/`//` per axis, inline draws, a dict display with constant keys.",
    "  Random batches (`columns()`, iteration, `take`) run NumPy kernels in chunks.",
    "- What is left per case is building it: one `ParamCase`, the only object per case",
    "  the garbage collector tracks. Its params are an exact dict of atomic values,",
    "  which CPython does not track, read through a read-only view made on first read;",
    "  the baselines' plain dicts are not tracked either, so a list of kept cases costs",
    "  the collections it triggers about what a list of dicts costs. `take()` pauses the",
    "  collector while it builds its list and scans the new cases once before returning.",
    "- `import metalab` loads neither the manifest machinery (cattrs), the command line",
    "  nor typed views until they are used.",
)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark, print the table, save the results and write the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--rounds", type=int, default=3, help="times to run the whole suite")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help="the results file (default: next to --output, performance.json)",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write the page and chart again from the results file",
    )
    parser.add_argument(
        "--only",
        default=None,
        help=(
            "comma-separated targets (e.g. 3b,6a): measure only these and replace their rows"
            " in the results file, which notes the partial run"
        ),
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    results_path: Path = args.results or args.output.with_suffix(".json")
    if args.render_only:
        data = json.loads(results_path.read_text(encoding="utf-8"))
    else:
        only = None if args.only is None else {t.strip() for t in args.only.split(",")}
        data = _measure(max(1, args.rounds), args.quick, only)
        if only is not None:
            data = merge(json.loads(results_path.read_text(encoding="utf-8")), data, only)
        results_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    write(data, args.output)
    print(args.output.read_text(encoding="utf-8"))
    missed = [row.target for row in rows(data) if not row.met]
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 1 if (missed and args.strict) else 0


BUILDERS: Final = (
    grid_comparisons,
    random_comparisons,
    composite_comparisons,
    construction_comparisons,
    expression_comparisons,
    run_comparisons,
    conditional_comparisons,
)
"""The functions that define the timed comparisons, in the order they run."""

FIGURES: Final = frozenset({"7a", "7b", "7c", "8"})
"""The targets `memory_and_import` measures (all at once, in fresh interpreters)."""


def _measure(rounds: int, quick: bool, only: set[str] | None = None) -> dict[str, Any]:
    """Run the suite (or the targets in ``only``) ``rounds`` times; the results."""
    scale = 0.4 if quick else 1.0
    # Every comparison is built and kept until the end, even in a partial run. The data
    # they hold sets when the collector runs a full collection: in the smaller heap of a
    # row measured alone, one runs inside the timed loop, on both sides, and adds the same
    # tens of milliseconds to each, which flatters the ratio (12b read 1.6 alone against
    # 1.9 in the full suite while the unused comparisons were freed here).
    built = [build() for build in BUILDERS]
    batches = built
    if only is not None:
        known = {comp.target for batch in built for comp in batch} | FIGURES
        if only - known:
            msg = f"unknown targets: {', '.join(sorted(only - known))}"
            raise SystemExit(msg)
        batches = [[comp for comp in batch if comp.target in only] for batch in built]
    comparisons = [comp for batch in batches for comp in batch]
    figures: dict[str, Figure] = {}
    for number in range(1, rounds + 1):
        print(f"round {number} of {rounds}", flush=True)
        for batch in batches:
            run(batch, scale)
        if only is not None and not only & FIGURES:
            continue
        for fig in memory_and_import(scale):
            if only is None or fig.target in only:
                figures.setdefault(
                    fig.target, Figure(fig.target, fig.what, [], fig.unit, fig.limit)
                )
                figures[fig.target].values.extend(fig.values)
    del built  # only now: see above
    return results(comparisons, list(figures.values()), rounds, quick)


def merge(old: dict[str, Any], new: dict[str, Any], only: set[str]) -> dict[str, Any]:
    """The results ``old`` with the rows of ``only`` replaced by those of ``new``.

    The header (machine, rounds, date) stays that of the last full run; the partial run
    is listed under ``partial_runs`` so the page says which rows it measured, and when.
    """
    out = dict(old)
    for kind in ("comparisons", "figures"):
        # In place, so the saved rows keep their order; a row new to the file goes last.
        fresh = {row["target"]: row for row in new[kind]}
        rows = [fresh.pop(row["target"], row) for row in old[kind]]
        out[kind] = rows + list(fresh.values())
    # An earlier partial run keeps only the rows measured again since; one with none left
    # is gone.
    runs = [
        {**run, "targets": [t for t in run["targets"] if t not in only]}
        for run in old.get("partial_runs", [])
        if set(run["targets"]) - only
    ]
    out["partial_runs"] = [
        *runs,
        {
            "targets": sorted(only, key=_order),
            "rounds": new["rounds"],
            "quick": new["quick"],
            "finished": new["finished"],
            "versions": new["versions"],
        },
    ]
    return out


if __name__ == "__main__":
    sys.exit(main())
