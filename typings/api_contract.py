"""The typing contract: what a user's type checker sees of metalab's public API.

mypy checks this file with the project's configuration (``mypy --strict``); it is never
run. Each ``assert_type`` pins the exact type of an expression, so a change that widens
a public type to ``Any`` or to a vaguer union fails the checks. Lines that must be
rejected live in ``api_rejects.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, assert_type

import attrs
import numpy as np
import numpy.typing as npt
import optuna
import submitit
from hypothesis.strategies import SearchStrategy

import metalab
from metalab import (
    Choice,
    ConcatSource,
    Description,
    Distribution,
    GridSource,
    LogNormal,
    LogUniform,
    LogUniformInt,
    ManualSource,
    Normal,
    ParamCase,
    ParamSource,
    ParamValue,
    ProductSource,
    RandInt,
    RandomSource,
    Raw,
    ReplicateSource,
    SelectSource,
    ShuffledSource,
    SliceSource,
    Structured,
    Uniform,
    ZipSource,
    choice,
    errors,
    grid,
    lognormal,
    loguniform,
    loguniform_int,
    manual,
    normal,
    randint,
    random,
    replicates,
    uniform,
    when,
)
from metalab.interop import (
    INDEX_ATTR,
    INDEX_KEY,
    SklearnGrid,
    case_of,
    enqueue,
    from_hydra,
    from_optuna,
    from_sklearn,
    from_sklearn_distributions,
    from_tune,
    from_wandb,
    grid_sampler,
    hydra_override,
    to_hydra,
    to_optuna,
    to_sklearn,
    to_tune,
    to_wandb,
)
from metalab.jobarray import (
    MAX_ID_SCAN,
    array_spec,
    chunk_ranges,
    parse_case_ids,
    parse_indices,
    pending_indices,
    pending_ranges,
    ranges_spec,
    split_ranges,
)
from metalab.manifest import (
    deserialize_param_source,
    dumps,
    from_manifest,
    loads,
    register,
    to_manifest,
)
from metalab.testing import (
    conditional_grids,
    conditional_random_sources,
    distributions,
    grids,
    manual_sources,
    param_names,
    param_values,
    random_sources,
    sources,
)

# -- factories ---------------------------------------------------------------------------
g = grid(lr=[0.1, 0.01], seed=range(3))
assert_type(g, GridSource)
assert_type(grid({"model.lr": [0.1, 0.01]}), GridSource)
assert_type(grid(x=np.linspace(0.0, 1.0, 5), shape=[[1, 2], [3, 4]], cfg=[{"a": [1]}]), GridSource)
assert_type(GridSource(x=[1, 2]), GridSource)

m = manual([{"lr": 0.1}, {"lr": 0.3, "warmup": 10}], tags=["baseline"])
assert_type(m, ManualSource)
assert_type(ManualSource([{"x": None}]), ManualSource)

assert_type(uniform(0, 1), Uniform)
assert_type(loguniform(1e-4, 1e-1), LogUniform)
assert_type(randint(0, 9), RandInt)
assert_type(loguniform_int(16, 512), LogUniformInt)
assert_type(choice(["adam", "sgd"]), Choice)
# Every built-in law answers whether a value is one of its draws.
assert_type(uniform(0, 1).contains(0.5), bool)
assert_type(loguniform(1e-4, 1e-1).contains(1e-3), bool)
assert_type(randint(0, 9).contains(3), bool)
assert_type(loguniform_int(16, 512).contains(32), bool)
assert_type(choice(["adam", "sgd"]).contains("adam"), bool)
assert_type(normal(0, 1).contains(0.0), bool)
assert_type(lognormal(0, 1).contains(1.0), bool)
assert_type(normal(0, 1, step=0.5), Normal)
assert_type(lognormal(-2.0, 1.0, step=0.01), LogNormal)
space: dict[str, Distribution] = {"lr": loguniform(1e-4, 1e-1), "opt": choice(["adam", "sgd"])}
r = random(space, 10, seed=0)
assert_type(r, RandomSource)
assert_type(random({"x": uniform(0, 1)}, 4, seed=1, algorithm="splitmix64-v1"), RandomSource)
assert_type(r.space, Mapping[str, Distribution])
# A space written as an unannotated dict of mixed distributions is accepted as it is.
mixed = {"lr": loguniform(1e-5, 1e-1), "layers": randint(1, 8), "opt": choice(["adam", "sgd"])}
assert_type(random(mixed, 10, seed=0), RandomSource)

assert_type(metalab.__version__, str)

z = metalab.zip(lr=[0.1, 0.01], warmup=[100, 1000])
assert_type(z, ZipSource)
rep = replicates(5, seed=42)
assert_type(rep, ReplicateSource)

# -- operators ---------------------------------------------------------------------------
assert_type(g + m, ConcatSource)
assert_type(g * r, ProductSource)
assert_type((g + m) * r, ProductSource)
assert_type(z * rep + g, ConcatSource)
source: ParamSource = g * r
assert_type(source + source, ConcatSource)

# -- sequence protocol -------------------------------------------------------------------
case = g[0]
assert_type(case, ParamCase)
assert_type(g[-1], ParamCase)
assert_type(source[10**30 % 7], ParamCase)
assert_type(case.params, Mapping[str, ParamValue])
assert_type(case.params["lr"], ParamValue)
assert_type(case.tags, tuple[str, ...])
assert_type(case.case_id, str)

# -- the extension API a new source type implements or overrides --------------------------
assert_type(source.raw(0), Raw)
raw_params, raw_tags = source.raw(0)
assert_type(raw_params, dict[str, ParamValue])
assert_type(raw_tags, tuple[str, ...])
assert_type(source.children(), tuple[tuple[str, ParamSource], ...])
assert_type(source.describe(), Description)
assert_type(register(ZipSource), type[ZipSource])
assert_type(ParamCase({"lr": 0.1, "layers": [64, 64]}, ("x",)), ParamCase)
assert_type(case.nested(), dict[str, Any])
assert_type(g[1:3], SliceSource)
assert_type(source[::2][0], ParamCase)
assert_type(len(g), int)
assert_type(g.size, int)
assert_type(g.keys, tuple[str, ...])
assert_type(bool(g), bool)
assert_type(iter(g), Iterator[ParamCase])
assert_type(list(source), list[ParamCase])
assert_type(source.dicts(), Iterator[dict[str, ParamValue]])

# -- batches, lookup, shards -------------------------------------------------------------
assert_type(source.take([0, 1]), list[ParamCase])
assert_type(source.take(np.arange(2)), list[ParamCase])
assert_type(source.columns(), dict[str, npt.NDArray[Any]])
assert_type(source.columns(range(3)), dict[str, npt.NDArray[Any]])
assert_type(g.index_of({"lr": 0.1, "seed": 0}), int)
assert_type(source.shard(0, 4), SliceSource)
assert_type(source.shuffled(seed=0), ShuffledSource)
assert_type(source.select([3, range(5, 9)]), SelectSource)
assert_type(source.select(np.arange(2)), SelectSource)
assert_type(source.select([3]).runs, tuple[range, ...])
assert_type(source.select([3]).position(0), int)

# -- generated code ----------------------------------------------------------------------
assert_type(metalab.generated_code(g), str)

# -- manifests ---------------------------------------------------------------------------
assert_type(to_manifest(source), dict[str, Any])
assert_type(source.to_manifest_dict(), dict[str, Any])
assert_type(from_manifest(to_manifest(source)), ParamSource)
assert_type(deserialize_param_source(to_manifest(source)), ParamSource)
assert_type(GridSource.from_manifest_dict(to_manifest(g)), GridSource)
assert_type(dumps(source), str)
assert_type(loads(dumps(source)), ParamSource)
assert_type(loads(dumps(source).encode()), ParamSource)


# -- typed schemas -----------------------------------------------------------------------
@attrs.frozen
class Model:
    depth: int
    width: int = 64


@attrs.frozen
class Config:
    lr: float
    seed: int
    model: Model | None = None


@dataclasses.dataclass(frozen=True)
class DataConfig:
    lr: float
    seed: int


class DictConfig(TypedDict):
    lr: float
    seed: NotRequired[int]


configs = g.structured(Config)
assert_type(configs, Structured[Config])
assert_type(configs[0], Config)
assert_type(configs[-1].model, Model | None)
assert_type(configs[1:], Structured[Config])
assert_type(iter(configs), Iterator[Config])
assert_type(list(configs), list[Config])
assert_type(configs.take([0, 2]), list[Config])
assert_type(configs.source, ParamSource)
assert_type(configs.schema, type[Config])
assert_type(configs.size, int)
assert_type(len(configs), int)
assert_type(g.structured(DataConfig)[0], DataConfig)
assert_type(g.structured(DictConfig)[0], DictConfig)
assert_type(g.structured(DictConfig)[0]["lr"], float)
assert_type(Structured(g, Config), Structured[Config])
assert_type(loads(dumps(g)).structured(Config)[0].lr, float)

# -- job arrays ------------------------------------------------------------------------
assert_type(array_spec([0, 1, 2, 7], max_running=4), str)
assert_type(pending_indices(source, done_indices=[0], done_ids=[case.case_id]), list[int])
assert_type(parse_indices(["0", "3"]), list[int])
assert_type(parse_indices("0\n3\n"), list[int])
assert_type(pending_ranges(source, done_indices=[0]), list[range])
assert_type(ranges_spec([range(3)], max_running=2), str)
assert_type(chunk_ranges([range(3)], 2), list[range])
assert_type(split_ranges([range(3)], 64, most=10), list[tuple[int, list[range]]])
assert_type(parse_case_ids([case.case_id]), list[str])
max_scan: int = MAX_ID_SCAN

# -- errors ------------------------------------------------------------------------------
assert_type(errors.SchemaError("x"), errors.SchemaError)
schema_error: errors.ParamError = errors.SchemaError("x")
value_error: ValueError = errors.ParamError("x")
index_error: IndexError = errors.CaseIndexError("x")
type_error: TypeError = errors.IndexTypeError("x")
metalab_error: errors.MetalabError = errors.IndexTypeError("x")
manifest_error: ValueError = errors.ManifestError("x")

# -- metalab.testing strategies ----------------------------------------------------------
assert_type(param_names(), SearchStrategy[str])
assert_type(param_values(), SearchStrategy[ParamValue])
assert_type(distributions(), SearchStrategy[Distribution])
assert_type(grids(), SearchStrategy[GridSource])
assert_type(manual_sources(), SearchStrategy[ManualSource])
assert_type(random_sources(), SearchStrategy[RandomSource])
assert_type(sources(), SearchStrategy[ParamSource])

# metalab.interop: converters from and to other tools, typed although loaded lazily.
assert_type(from_sklearn({"C": [1, 10], "kernel": ["rbf"]}), GridSource)
assert_type(from_sklearn([{"C": [1, 10]}, {"kernel": ["rbf"]}]), ParamSource)
assert_type(from_sklearn({"alpha": np.logspace(-2, 0, 3)}), GridSource)
assert_type(from_sklearn_distributions({"k": [1, 2]}, 2, seed=0), ParamSource)
assert_type(to_sklearn(grid(C=[1, 10])), SklearnGrid)
assert_type(from_optuna({}), dict[str, Distribution])
index_attr: str = INDEX_ATTR
assert_type(enqueue(optuna.create_study(), grid(n=[1])), None)
assert_type(grid_sampler(grid(n=[1, 2])), optuna.samplers.GridSampler)
assert_type(to_optuna(r), dict[str, optuna.distributions.BaseDistribution])
assert_type(from_tune({"x": 1}, 1, seed=0), ParamSource)
assert_type(to_tune(grid(n=[1, 2])), dict[str, Any])
assert_type(to_tune(r, indices=True), dict[str, Any])
assert_type(case_of(grid(n=[1, 2]), {INDEX_KEY: 0}), ParamCase)

# Expressions: col(name, type) is typed, operators follow Python's numeric rules.
width = metalab.col("width", int)
assert_type(width, metalab.Expr[int])
assert_type(metalab.col("width"), metalab.Expr[Any])
assert_type(width + width, metalab.Expr[int])
assert_type(width + 1, metalab.Expr[int])
assert_type(2 * width, metalab.Expr[int])
assert_type(width // 2, metalab.Expr[int])
assert_type(width / 2, metalab.Expr[float])
assert_type(metalab.col("lr", float) * 10, metalab.Expr[float])
assert_type(-width, metalab.Expr[int])
assert_type(width > 1, metalab.Expr[bool])
assert_type(width == 64, metalab.Expr[bool])
assert_type((width > 1) & (width < 9), metalab.Expr[bool])
assert_type(~(width > 1), metalab.Expr[bool])
assert_type(width.isin([64, 128]), metalab.Expr[bool])
assert_type(metalab.col("lr", float).floor(), metalab.Expr[int])
assert_type(metalab.col("lr", float).log(), metalab.Expr[float])
assert_type(width.cast(str), metalab.Expr[str])
assert_type(metalab.fmt("{model}-{width}"), metalab.Expr[str])
assert_type(metalab.lit(3), metalab.Expr[int])
assert_type(metalab.if_else(width > 1, width, 0), metalab.Expr[Any])
assert_type((width > 1).same(width > 1), bool)

# derive and where: sources, the predicates bool expressions.
assert_type(grid(width=[64]).derive(half=width // 2), metalab.DeriveSource)
assert_type(grid(width=[64]).where(width > 32), ParamSource)
assert_type(grid(width=[64]).where(metalab.col("width") > 32, width < 128), ParamSource)
assert_type(metalab.with_resolver(grid(width=[64]), lambda _, p: p), metalab.ResolverSource)

# Running a sweep into a results directory, and reading it back.
report = metalab.run(lambda case: case.params["x"], g, store="results")
assert_type(report, metalab.RunReport)
assert_type(report.done, int)
assert_type(report.total, int)
assert_type(metalab.run(print, g, store=Path("r"), chunk=4, resume=False), metalab.RunReport)
found = metalab.results("results")
assert_type(found, metalab.Results)
assert_type(found[0], metalab.CaseResult)
assert_type(found[:2], tuple[metalab.CaseResult, ...])
assert_type(found.failed, tuple[metalab.CaseResult, ...])
assert_type(found[0].error, metalab.CaseError | None)
assert_type(found[0].status, Literal["done", "failed"])
assert_type(found[0].case, ParamCase)
assert_type(list(found), list[metalab.CaseResult])
assert_type(metalab.run_case(lambda case: case.case_id, g, 3, store="results"), metalab.CaseResult)
# Submitting it as submitit job arrays, and waiting for them.
executor = submitit.AutoExecutor(folder="logs", cluster="debug")
submission = metalab.submit(lambda case: case.params["x"], g, executor=executor, store="r")
assert_type(submission, metalab.Submission)
assert_type(submission.arrays, tuple[tuple[submitit.Job[metalab.RunReport], ...], ...])
assert_type(submission.jobs[0].result(), metalab.RunReport)
assert_type(submission.tasks[0][0], tuple[int, ParamCase])
assert_type(submission.wait(), metalab.RunReport)
assert_type(
    metalab.submit(print, g, executor=executor, store=Path("r"), chunk=8, max_array_size=64),
    metalab.Submission,
)
try:
    metalab.submit(print, g, executor=submitit.DebugExecutor("logs"), store="r", resume=False)
except metalab.errors.SubmissionError as refused:
    assert_type(refused.submission, metalab.Submission)
# -- metalab.interop: W&B and Hydra ------------------------------------------------------
assert_type(from_wandb({"method": "grid", "parameters": {"x": {"value": 1}}}), ParamSource)
assert_type(from_wandb("sweep.yaml", n_trials=10, seed=0), ParamSource)
assert_type(to_wandb(g), dict[str, Any])
assert_type(from_hydra(["lr=0.1,0.01", "seed=range(0,5)"]), ParamSource)
assert_type(to_hydra(g, add=["seed"]), list[str])
assert_type(hydra_override("lr", 0.1, prefix="+"), str)
missing_extra: ImportError = errors.MissingExtraError("x")
# -- conditional parameters ----------------------------------------------------------------
assert_type(when(metalab.col("opt") == "sgd", [0.9, 0.99]), metalab.Switch)
assert_type(uniform(0.8, 0.99).when(metalab.col("opt") == "sgd"), metalab.Switch)
assert_type(metalab.switch(metalab.col("opt"), {"sgd": uniform(0, 1)}), metalab.Switch)
assert_type(
    metalab.one_of("opt", {"sgd": {"m": uniform(0, 1)}}, weights=[1.0]),
    dict[str, Distribution | metalab.Switch],
)
assert_type(
    random(
        {"opt": choice(["adam", "sgd"]), "m": uniform(0, 1).when(metalab.col("opt") == "sgd")},
        10,
        seed=0,
    ),
    metalab.ConditionalRandomSource,
)
assert_type(
    grid(opt=["adam", "sgd"], m=when(metalab.col("opt") == "sgd", [0.9])),
    metalab.ConditionalGridSource,
)
conditional_space: dict[str, Distribution | metalab.Switch] = metalab.one_of("k", {"a": {}})
assert_type(random(conditional_space, 5, seed=0), metalab.ConditionalRandomSource)
assert_type(random({"x": uniform(0, 1)}, 5, seed=0), RandomSource)
assert_type(conditional_random_sources(), SearchStrategy[metalab.ConditionalRandomSource])
assert_type(conditional_grids(), SearchStrategy[metalab.ConditionalGridSource])
