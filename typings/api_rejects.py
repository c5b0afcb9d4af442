"""Lines of metalab code that a type checker must reject, each with its mypy error code.

mypy checks this file with the project's configuration and is never run. Every line
below the definitions ends in an ignore comment naming the expected error code: with
``warn_unused_ignores`` (part of ``--strict``), the file passes only if each line fails
with exactly that code. ``tests/test_typing.py`` also checks the file with the comments
stripped and asserts that each expected error appears on its line and no other error
does. Keep each rejected expression on one line.
"""

from __future__ import annotations

import attrs
import submitit

import metalab
import metalab.interop
from metalab import ParamSource, choice, grid, manual, normal, randint, random, uniform
from metalab.interop import case_of, from_sklearn, grid_sampler, to_hydra, to_sklearn, to_wandb
from metalab.manifest import dumps, from_manifest, loads, to_manifest


@attrs.frozen
class Config:
    lr: float


g = grid(lr=[0.1, 0.01])
space = {"lr": uniform(0.0, 1.0)}
case = g[0]
source: ParamSource = g

# Factories take what they document, not anything.
uniform("a", 1)  # type: ignore[arg-type]
randint(0.5, 3)  # type: ignore[arg-type]
choice(1)  # type: ignore[arg-type]
normal(0, 1, 0.5)  # type: ignore[call-arg]
normal(0, 1, step="0.5")  # type: ignore[arg-type]
grid(x=1)  # type: ignore[call-overload]
grid(x={1, 2})  # type: ignore[call-overload]
metalab.zip(lr=0.1, warmup=[100])  # type: ignore[arg-type]
grid(x=[object()])  # type: ignore[list-item]
grid(["lr"])  # type: ignore[call-overload]
manual({"x": 1})  # type: ignore[arg-type]
manual([{1: 2}])  # type: ignore[dict-item]
random(space, "10", seed=0)  # type: ignore[call-overload]
random({"lr": [0.1, 0.2]}, 10, seed=0)  # type: ignore[dict-item]
random(space, 10)  # type: ignore[call-overload]
metalab.replicates(5, 42)  # type: ignore[call-arg]

# Sources compose with sources only.
grid(x=[1]) + 3  # type: ignore[operator]
g * [1, 2]  # type: ignore[operator]
3 + g  # type: ignore[operator]

# Indexing takes ints and slices; the result is a ParamCase, not a dict.
source[1.5]  # type: ignore[call-overload]
source["lr"]  # type: ignore[call-overload]
label: str = source[0]  # type: ignore[assignment]
source.take(1)  # type: ignore[arg-type]
source.select("0-9")  # type: ignore[arg-type]
source.shard("0", 2)  # type: ignore[arg-type]
source.index_of(["lr"])  # type: ignore[arg-type]

# Cases and sources are immutable.
case.params["x"] = 1  # type: ignore[index]
del case.params["lr"]  # type: ignore[attr-defined]
case.tags.append("x")  # type: ignore[attr-defined]
case.params = {}  # type: ignore[misc]
g.spec = {}  # type: ignore[misc]

# A manifest is a mapping and gives back a ParamSource, whose subclass is unknown.
to_manifest({"type": "GridSource"})  # type: ignore[arg-type]
loads(g)  # type: ignore[arg-type]
from_manifest(dumps(g))  # type: ignore[arg-type]
from_manifest(to_manifest(g)).spec  # type: ignore[attr-defined]

# Typed schemas: classes with fields only, and their items have the schema's type.
g.structured(int)  # type: ignore[type-var]
g.structured(Config)[0].missing  # type: ignore[attr-defined]
bad: int = g.structured(Config)[0]  # type: ignore[assignment]

# The top-level module's names are all known to the checker, the lazily imported included.
metalab.Structure  # type: ignore[attr-defined]

# metalab.interop: a param_grid is a dict or a list of dicts, and names are checked.
from_sklearn(3)  # type: ignore[call-overload]
to_sklearn({"C": [1]})  # type: ignore[arg-type]
metalab.interop.from_keras  # type: ignore[attr-defined]
grid_sampler(manual([{"x": 1}]))  # type: ignore[arg-type]
case_of(grid(n=[1]), [0])  # type: ignore[arg-type]

# where takes bool expressions only; derive takes expressions.
g.where(metalab.col("lr", float) + 1)  # type: ignore[arg-type]
g.where(True)  # type: ignore[arg-type]
g.derive(x=1)  # type: ignore[arg-type]
metalab.col("lr", float).cast(list)  # type: ignore[arg-type]

# metalab.run takes the store by keyword, and a function of a case.
metalab.run(print, g, "results")  # type: ignore[call-arg]
metalab.run(lambda case: case.lower(), g, store="r")  # type: ignore[attr-defined]
metalab.results("r")[0].status = "done"  # type: ignore[misc]
metalab.run_case(print, g, "3", store="r")  # type: ignore[arg-type]
# metalab.submit takes a submitit executor, by keyword, and a chunk that is an int.
metalab.submit(print, g, store="r")  # type: ignore[call-arg]
metalab.submit(print, g, executor=None, store="r")  # type: ignore[arg-type]
metalab.submit(print, g, executor=submitit.DebugExecutor("l"), store="r", chunk=None)  # type: ignore[arg-type]
# Hydra's basic sweeper runs grids only: to_hydra takes a GridSource.
to_hydra(random(space, 3, seed=0))  # type: ignore[arg-type]
to_wandb(g, seed=0)  # type: ignore[call-arg]
# A condition is an expression of a bool, not a plain value.
metalab.when(True, [1])  # type: ignore[arg-type]
uniform(0, 1).when(metalab.col("x") + 1)  # type: ignore[arg-type]
