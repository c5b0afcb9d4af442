"""Random search: `RandomSource`, replayable draws from distributions.

The value of parameter ``name`` in trial ``i`` is a pure function of
``(seed, name, i, distribution)`` (see `metalab._sources.rng`), so trial ``i`` is the same
whatever else was drawn, in whatever order, in whatever process; adding a parameter to
the space leaves the values of the others unchanged.

Many trials at once (`RandomSource.take`, `RandomSource.columns`, iteration and
`RandomSource.dicts`) go through the distributions' NumPy kernels in bounded chunks;
single trials go through their scalar kernels, which give the same bits.

That is the current algorithm, `ALGORITHM`. Each algorithm is an engine (`_Engine`):
the current one is written here, the earlier format's (``python-random-v0``) in
`metalab._sources.random_legacy`. A source picks its engine by ``algorithm`` once, when
it is built, so no code path of the current algorithm tests for the other one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, final, overload

import attrs
import numpy as np

from metalab._core.codegen import (
    CASE_NAMESPACE,
    case_source,
    compile_functions,
    name_literal,
    source_of,
)
from metalab._core.values import (
    INT64_MAX,
    FrozenDict,
    ParamValue,
    check_int,
    check_key_paths,
    describe,
    named_items,
)
from metalab._sources.base import (
    Description,
    Indices,
    KeyScan,
    KeySets,
    ParamSource,
    Raw,
    bulk,
    check_seed,
    checked_array,
    checked_list,
    paused,
)
from metalab._sources.distributions import (
    Choice,
    Distribution,
    LogNormal,
    LogUniform,
    LogUniformInt,
    Normal,
    RandInt,
    ScalarCode,
    Uniform,
    choice,
    inline_draw,
    lognormal,
    loguniform,
    loguniform_int,
    normal,
    randint,
    uniform,
)
from metalab._sources.random_legacy import (
    LEGACY_ALGORITHM,
    LEGACY_DISTRIBUTIONS,
    LEGACY_SEED_MULTIPLIER,
    LegacyEngine,
)
from metalab._sources.rng import (
    ALGORITHM,
    Lanes,
    Stream,
    Work,
    golden_multiple,
)
from metalab._sources.switch import Switch
from metalab.errors import ParamError

if TYPE_CHECKING:
    import numpy.typing as npt

    from metalab._algebra import SliceSource
    from metalab._core.case import ParamCase
    from metalab._sources.conditional import ConditionalRandomSource
    from metalab._sources.rng import U64

__all__ = [
    "ALGORITHM",
    "LEGACY_ALGORITHM",
    # The earlier format's names, re-exported: they stay importable from here.
    "LEGACY_DISTRIBUTIONS",
    "LEGACY_SEED_MULTIPLIER",
    "Choice",
    "Distribution",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "RandInt",
    "RandomSource",
    "Uniform",
    "choice",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "normal",
    "randint",
    "random",
    "uniform",
]

CHUNK: Final = 8192
"""Trials per NumPy pass when iterating or taking cases: bounds the memory in use."""

COLUMN_CHUNK: Final = 32768
"""Trials per NumPy pass when filling columns (the temporaries stay in cache)."""

_FIRST_CHUNK: Final = 256
"""Iteration starts with a small chunk, so the first case comes at once."""


def _to_space(space: object) -> FrozenDict[str, Distribution]:
    if not isinstance(space, Mapping):
        msg = f"random space must map parameter names to distributions, got {describe(space)}"
        raise ParamError(msg)
    if not space:
        msg = "random space must have at least one parameter"
        raise ParamError(msg)
    items = named_items(space, "random space")
    check_key_paths((k for k, _ in items), "random space")
    for name, dist in items:
        if not isinstance(dist, Distribution):
            hint = (
                "; use choice([...]) for a list of options"
                if isinstance(dist, list | tuple)
                else ""
            )
            msg = (
                f"random space {name!r}: expected a distribution such as uniform(0, 1), "
                f"got {describe(dist)}{hint}"
            )
            raise ParamError(msg)
    return FrozenDict(items)


def _compile_case(
    names: tuple[str, ...],
    dists: tuple[Distribution, ...],
    streams: tuple[Stream, ...],
    lanes: Lanes,
) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
    """Case ``i`` of a random source, as one function written out for its parameters.

    Like the ``__init__`` that attrs and dataclasses generate, the function is spelled
    out for the exact parameters, so a single lookup calls no generic code: the bits of
    every parameter are mixed in one pass (`Lanes.source`), each built-in law's draw is
    written inline (`inline_draw`; a law defined outside metalab calls its kernel), and
    the case is built the way `make_case` builds it. For the space
    ``{"lr": loguniform(1e-5, 1e-1), "n": randint(1, 8), "x": law}``, with ``law``
    defined outside metalab, it reads::

        def case(i):
            z = (i * lanes_gamma + lanes_offsets) & lanes_mask
            z = ((z ^ (z >> 30)) & lanes_mask) * lanes_m1 & lanes_mask
            z = ((z ^ (z >> 27)) & lanes_mask) * lanes_m2 & lanes_mask
            b0, b1, b2, = lanes_unpack((z ^ (z >> 31)).to_bytes(lanes_nbytes, "little"))
            v0 = float(d0_exp(d0_log_lo + (b0 >> 11) * d0_scale))
            v0 = d0_lo if v0 < d0_lo else d0_top if v0 > d0_top else v0
            v1 = d1_low + (b1 & d1_mask)
            v2 = d2_kernel(i, b2)
            case = _new_case(_ParamCase)
            _set_params(case, {'lr': v0, 'n': v1, 'x': v2})
            _set_tags(case, i)
            _set_id(case, None)
            return case

    A second function, ``raw(i)``, has the same body and returns the params dict and
    the tags instead of a case: composites (products, concatenations) call it.

    Parameter names enter the source only as literals of their exact ``str``
    (`name_literal`); every other value is bound in the function's namespace.
    """
    codes = [ScalarCode(j) for j in range(len(names))]
    mixing, constants = lanes.source([code.bits for code in codes])
    namespace: dict[str, Any] = dict(constants)
    lines = mixing.splitlines()
    for code, dist, stream in zip(codes, dists, streams, strict=True):
        if not inline_draw(dist, stream, code):
            kernel = code.const("kernel", dist.kernel(stream))
            code.line(f"{code.value} = {kernel}(i, {code.bits})")
        lines += code.lines
        namespace.update(code.namespace)
    params = (
        "{" + ", ".join(f"{name_literal(n)}: {c.value}" for n, c in zip(names, codes, strict=True))
    ) + "}"
    body = "".join(f"    {line}\n" for line in lines)
    # A case takes its trial number for its tags, and writes trial_{i} when they are read.
    source = (
        f"def case(i):\n{body}{case_source(params, 'i', 'None', '    ')}    return case\n"
        f'def raw(i):\n{body}    return {params}, (f"trial_{{i}}",)\n'
    )
    namespace.update(CASE_NAMESPACE)
    compile_functions(source, namespace, "random case")
    return namespace["case"], namespace["raw"]


def _compile_batches(
    names: tuple[str, ...],
) -> tuple[Callable[..., list[ParamCase]], Callable[..., list[dict[str, ParamValue]]]]:
    """Cases and plain dicts from the columns of a batch, written out for the names.

    The columns are lists (``ndarray.tolist()``), one per parameter; for ``lr`` and ``n``::

        def cases(c0, c1, numbers):
            out = []
            append = out.append
            for v0, v1, i in zip(c0, c1, numbers):
                case = _new_case(_ParamCase)
                ...  (the lines of `case_source`, with the trial number i for tags)
                append(case)
            return out

        def dicts(c0, c1):
            return [{'lr': v0, 'n': v1} for v0, v1 in zip(c0, c1)]

    A batch's cases are built into a list with the collector `paused` (`_case_batches`):
    collected as they come, cases a caller keeps (``list(source)``) would be promoted
    through the generations, 700 at a time, and scanned again in full collections of
    the heap; paused, each batch costs one young collection, whether its cases are
    kept or dropped. Names enter the source only as literals of their exact ``str``
    (`name_literal`).
    """
    columns = "".join(f"c{j}, " for j in range(len(names)))
    values = "".join(f"v{j}, " for j in range(len(names)))
    params = "{" + ", ".join(f"{name_literal(name)}: v{j}" for j, name in enumerate(names)) + "}"
    source = (
        f"def cases({columns}numbers):\n"
        "    out = []\n"
        "    append = out.append\n"
        f"    for {values}i in zip({columns}numbers):\n"
        + case_source(params, "i", "None", "        ")
        + "        append(case)\n"
        "    return out\n"
        f"def dicts({columns}):\n"
        f"    return [{params} for {values}in zip({columns})]\n"
    )
    namespace: dict[str, Any] = {**CASE_NAMESPACE}
    compile_functions(source, namespace, "random batch")
    return namespace["cases"], namespace["dicts"]


def _chunks(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    while start < stop:
        end = min(start + size, stop)
        yield start, end
        start = end


def _growing_chunks(stop: int) -> Iterator[tuple[int, int]]:
    start, size = 0, _FIRST_CHUNK
    while start < stop:
        end = min(start + size, stop)
        yield start, end
        start, size = end, min(2 * size, CHUNK)


class _Engine(Protocol):
    """How a random algorithm draws the trials of a `RandomSource` (one per algorithm).

    `RandomSource` picks its engine by ``algorithm`` once, when it is built, and hands
    every draw to it: no code path tests which algorithm it runs.
    """

    def single(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        """Case ``i`` and the raw form of trial ``i``, as functions of ``i``."""
        ...

    def iterate(self, source: RandomSource) -> Iterator[ParamCase]:
        """Every case of ``source`` in order."""
        ...

    def dicts(self, source: RandomSource) -> Iterator[dict[str, ParamValue]]:
        """Every case's params of ``source`` as fresh dicts."""
        ...

    def take(self, source: RandomSource, indices: Indices) -> list[ParamCase]:
        """The cases of ``source`` at ``indices``."""
        ...

    def columns(self, source: RandomSource, indices: Indices | None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter of ``source`` over ``indices`` (default: all)."""
        ...

    def generated_code(self) -> str:
        """The code written out for the draws; '' for none."""
        ...


@final
@attrs.frozen(repr=False)
class _SplitMixEngine:
    """The draws of the current algorithm, `ALGORITHM`, for one space and seed.

    One random stream per parameter (`Stream`); single trials go through functions
    written out for the space (`_compile_case`), batches through the distributions'
    NumPy kernels in bounded chunks.
    """

    space: Mapping[str, Distribution]
    seed: int

    _names: tuple[str, ...] = attrs.field(init=False, eq=False)
    _streams: tuple[Stream, ...] = attrs.field(init=False, eq=False)
    _lanes: Lanes = attrs.field(init=False, eq=False)
    # The written-out functions (see `_compile_case`, `_compile_batches`), built on first use.
    _single: tuple[Callable[[int], ParamCase], Callable[[int], Raw]] | None = attrs.field(
        init=False, eq=False
    )
    _batch_function_cache: (
        tuple[Callable[..., list[ParamCase]], Callable[..., list[dict[str, ParamValue]]]] | None
    ) = attrs.field(init=False, eq=False)

    @staticmethod
    def check(space: Mapping[str, Distribution], n_trials: int, seed: object) -> int:
        """The seed, checked, once the number of trials is known to fit the algorithm."""
        del space  # every distribution has a draw in the current algorithm
        seed_ = check_seed(seed, "random seed")
        if n_trials > 2**64:
            msg = f"random n_trials must be <= 2**64, got {n_trials}"
            raise ParamError(msg)
        return seed_

    def __attrs_post_init__(self) -> None:
        """Derive one random stream per parameter."""
        streams = tuple(Stream(self.seed, name) for name in self.space)
        object.__setattr__(self, "_names", tuple(self.space))
        object.__setattr__(self, "_streams", streams)
        object.__setattr__(self, "_lanes", Lanes(streams))
        object.__setattr__(self, "_single", None)
        object.__setattr__(self, "_batch_function_cache", None)

    # -- one trial ------------------------------------------------------------------
    def single(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        """Case ``i`` and the raw form of trial ``i``, written out for the space."""
        functions = self._single
        if functions is None:
            dists = tuple(self.space.values())
            functions = _compile_case(self._names, dists, self._streams, self._lanes)
            object.__setattr__(self, "_single", functions)
        return functions

    def generated_code(self) -> str:
        """The single-trial and the batch functions, as written out."""
        return source_of(self.single()[0], *self._batch_functions())

    # -- many trials ----------------------------------------------------------------
    def _batches(
        self,
        spans: Iterable[tuple[int, int]],
        index: U64 | None,
        size: int,
        outputs: list[npt.NDArray[Any]] | None = None,
    ) -> Iterator[tuple[int, int, list[npt.NDArray[Any]]]]:
        """Fill one column per parameter for each span of trials (or of ``index``).

        Yields ``(start, stop, columns)``. The columns are slices of ``outputs`` when
        given, else views of buffers reused for the next span, so memory stays bounded
        by ``size`` trials.
        """
        dists = tuple(self.space.values())
        work = Work(size)
        golden = np.empty(size, dtype=np.uint64)
        buffers = outputs or [np.empty(size, dtype=dist.dtype) for dist in dists]
        for start, stop in spans:
            m = stop - start
            part = np.arange(start, stop, dtype=np.uint64) if index is None else index[start:stop]
            ig = golden_multiple(part, out=golden[:m])
            chunk_work = work.head(m)
            if outputs is None:
                columns = [buffer[:m] for buffer in buffers]
            else:
                columns = [output[start:stop] for output in outputs]
            for dist, stream, column in zip(dists, self._streams, columns, strict=True):
                dist.fill(stream, ig, column, chunk_work)
            yield start, stop, columns

    def _case_batches(
        self, spans: Iterable[tuple[int, int]], index: U64 | None, size: int
    ) -> Iterator[list[ParamCase]]:
        """The cases of each span, one list per span, each built with the collector paused."""
        cases = self._batch_functions()[0]
        for start, stop, columns in self._batches(spans, index, size):
            numbers = range(start, stop) if index is None else index[start:stop].tolist()
            yield paused(cases, *[column.tolist() for column in columns], numbers)

    def iterate(self, source: RandomSource) -> Iterator[ParamCase]:
        """Every case in order, drawn in vectorized chunks (memory does not grow)."""
        batches = self._case_batches(_growing_chunks(source.n_trials), None, CHUNK)
        return chain.from_iterable(batches)

    def dicts(self, source: RandomSource) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict, drawn in vectorized chunks."""
        dicts = self._batch_functions()[1]
        for _, _, columns in self._batches(_growing_chunks(source.n_trials), None, CHUNK):
            yield from dicts(*[column.tolist() for column in columns])

    def _batch_functions(
        self,
    ) -> tuple[Callable[..., list[ParamCase]], Callable[..., list[dict[str, ParamValue]]]]:
        functions = self._batch_function_cache
        if functions is None:
            functions = _compile_batches(self._names)
            object.__setattr__(self, "_batch_function_cache", functions)
        return functions

    def take(self, source: RandomSource, indices: Indices) -> list[ParamCase]:
        """The cases at many indices, drawn in one vectorized pass (same as indexing)."""
        index = _index_array(indices, source.n_trials)
        size = min(len(index), CHUNK)
        spans = _chunks(0, len(index), CHUNK)
        return list(chain.from_iterable(self._case_batches(spans, index, size)))

    def columns(self, source: RandomSource, indices: Indices | None) -> dict[str, npt.NDArray[Any]]:
        """One array per parameter straight from the distributions' kernels, no cases."""
        index = None if indices is None else _index_array(indices, source.n_trials)
        n = len(source) if index is None else len(index)  # len(): a clear error when huge
        out = {name: np.empty(n, dtype=dist.dtype) for name, dist in self.space.items()}
        spans = _chunks(0, n, COLUMN_CHUNK)
        for _ in self._batches(spans, index, min(n, COLUMN_CHUNK), list(out.values())):
            pass
        return out


def _index_array(indices: Indices, size: int) -> U64:
    """Validated trial indices (negative ones count back) as a ``uint64`` array."""
    if size <= INT64_MAX:
        return checked_array(indices, size).astype(np.uint64)
    return np.array(checked_list(indices, size), dtype=np.uint64)


_ENGINES: Final[Mapping[str, type[_SplitMixEngine | LegacyEngine]]] = {
    ALGORITHM: _SplitMixEngine,
    LEGACY_ALGORITHM: LegacyEngine,
}
"""The engine of each algorithm metalab can replay, newest first."""

ALGORITHMS: Final = tuple(_ENGINES)
"""Every random algorithm metalab can replay, newest first."""


@final
@attrs.frozen(init=False, repr=False)
class RandomSource(ParamSource):
    """``n_trials`` replayable random draws from ``space``; case ``i`` is tagged ``trial_{i}``.

    >>> src = RandomSource({"lr": loguniform(1e-4, 1e-1)}, n_trials=4, seed=0)
    >>> src[2] == RandomSource({"lr": loguniform(1e-4, 1e-1)}, 4, seed=0)[2]
    True
    """

    manifest_type: ClassVar[str] = "RandomSource"

    space: Mapping[str, Distribution]
    """The distribution of each parameter, names sorted."""
    n_trials: int
    seed: int
    algorithm: str
    """The name of the algorithm that turns (seed, name, trial) into values."""

    _names: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    # Chosen by `algorithm` once, here: every draw goes through it (see `_Engine`).
    _engine: _Engine = attrs.field(init=False, eq=False, repr=False)
    # The engine's functions of one trial, fetched on first use: indexing calls them
    # straight from these slots.
    _written_case: Callable[[int], ParamCase] | None = attrs.field(init=False, eq=False, repr=False)
    _written_raw: Callable[[int], Raw] | None = attrs.field(init=False, eq=False, repr=False)

    def __init__(
        self,
        space: Mapping[str, Distribution],
        n_trials: int,
        seed: int,
        *,
        algorithm: str = ALGORITHM,
    ) -> None:
        """Validate the space, the number of trials, the seed and the algorithm."""
        frozen = _to_space(space)
        if algorithm not in ALGORITHMS:
            msg = f"random algorithm must be one of {list(ALGORITHMS)}, got {describe(algorithm)}"
            raise ParamError(msg)
        engine = _ENGINES[algorithm]
        trials = check_int(n_trials, "random n_trials")
        if trials < 0:
            msg = f"random n_trials must be >= 0, got {trials}"
            raise ParamError(msg)
        seed_ = engine.check(frozen, trials, seed)
        self.__attrs_init__(frozen, trials, seed_, algorithm)

    def __attrs_post_init__(self) -> None:
        """Build the engine of the algorithm."""
        engine: _Engine = _ENGINES[self.algorithm](self.space, self.seed)
        object.__setattr__(self, "_names", tuple(self.space))
        object.__setattr__(self, "_engine", engine)
        object.__setattr__(self, "_written_case", None)
        object.__setattr__(self, "_written_raw", None)

    @property
    def size(self) -> int:
        """The number of trials."""
        return self.n_trials

    @property
    def keys(self) -> tuple[str, ...]:
        """The parameter names, sorted."""
        return self._names

    # -- one trial ------------------------------------------------------------------
    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        raw = self._written_raw
        if raw is None:
            raw = self._compile()[1]
        return raw(i)

    def _case(self, i: int) -> ParamCase:
        case = self._written_case
        if case is None:
            case = self._compile()[0]
        return case(i)

    def _case_function(self) -> Callable[[int], ParamCase]:
        return self._written_case or self._compile()[0]

    def _raw_function(self) -> Callable[[int], Raw]:
        return self._written_raw or self._compile()[1]

    def _compile(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        case, raw = self._engine.single()
        object.__setattr__(self, "_written_case", case)
        object.__setattr__(self, "_written_raw", raw)
        return case, raw

    def _generated_code(self) -> str:
        return self._engine.generated_code()

    @overload
    def __getitem__(self, index: int) -> ParamCase: ...
    @overload
    def __getitem__(self, index: slice) -> SliceSource: ...
    def __getitem__(self, index: int | slice) -> ParamCase | SliceSource:
        """Case ``index`` (negative counts from the end), or a lazy slice of the source."""
        if type(index) is int and 0 <= index < self.n_trials:
            case = self._written_case
            return self._case(index) if case is None else case(index)
        return super().__getitem__(index)

    # -- many trials ----------------------------------------------------------------
    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order, drawn in vectorized chunks (memory does not grow)."""
        return self._engine.iterate(self)

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict, drawn in vectorized chunks."""
        return self._engine.dicts(self)

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at many indices, drawn in one vectorized pass (same as indexing).

        >>> src = random({"x": uniform(0, 1)}, 100, seed=1)
        >>> src.take([5, -1]) == [src[5], src[99]]
        True
        """
        return self._engine.take(self, indices)

    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One NumPy array per parameter over the trials at ``indices`` (default: all).

        No case objects are built: each column comes straight from its distribution's
        vectorized kernel (float64 for continuous laws, int64 for integer laws, and the
        options' own dtype for `choice`).

        >>> cols = random({"x": uniform(0, 1), "n": randint(1, 3)}, 1000, seed=0).columns()
        >>> cols["x"].dtype, cols["n"].dtype, len(cols["n"])
        (dtype('float64'), dtype('int64'), 1000)
        """
        return self._engine.columns(self, indices)

    # -- what the layers above ask ------------------------------------------------------
    def describe(self) -> Description:
        """A ``random`` node: its seed, its algorithm if not the current one, each law."""
        algorithm = () if self.algorithm == ALGORITHM else (f"algorithm {self.algorithm}",)
        lines = tuple((key, "~", dist) for key, dist in self.space.items())
        return Description("random", (f"seed {self.seed}", *algorithm), lines)

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """Choice options and the lower bound of each bounded law (all certainly drawn)."""
        if self.size == 0:
            return
        for key, dist in self.space.items():
            where = f"random draws for {key!r} from {dist!r}"
            if isinstance(dist, Choice):
                options = dist.options
                # A range holds ints only: its first value stands for all of them.
                for value in (options.start,) if isinstance(options, range) else options:
                    yield key, value, where
            elif isinstance(dist, Uniform | LogUniform):
                yield key, float(dist.low), where
            elif isinstance(dist, RandInt | LogUniformInt):
                yield key, int(dist.low), where

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """Every trial has every key."""
        del indices, scan
        return {frozenset(self.keys)}

    def __reduce__(self) -> tuple[Callable[..., RandomSource], tuple[Any, ...]]:
        """Pickle the defining fields; the streams and kernels are derived again."""
        return _rebuild, (dict(self.space), self.n_trials, self.seed, self.algorithm)

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        space = ", ".join(f"{k!r}: {v!r}" for k, v in self.space.items())
        algo = "" if self.algorithm == ALGORITHM else f", algorithm={self.algorithm!r}"
        return f"random({{{space}}}, n_trials={self.n_trials}, seed={self.seed}{algo})"


def _rebuild(
    space: Mapping[str, Distribution], n_trials: int, seed: int, algorithm: str
) -> RandomSource:
    return RandomSource(space, n_trials, seed, algorithm=algorithm)


@overload
def random(  # type: ignore[overload-overlap] # a space with no switch matches this first
    space: Mapping[str, Distribution], n_trials: int, seed: int, *, algorithm: str = ALGORITHM
) -> RandomSource: ...
@overload
def random(
    space: Mapping[str, Distribution | Switch],
    n_trials: int,
    seed: int,
    *,
    algorithm: str = ALGORITHM,
) -> ConditionalRandomSource: ...
def random(
    space: Mapping[str, Distribution | Switch],
    n_trials: int,
    seed: int,
    *,
    algorithm: str = ALGORITHM,
) -> RandomSource | ConditionalRandomSource:
    """``n_trials`` replayable random draws from ``space``, a mapping of distributions.

    A space that holds conditional parameters (`metalab.switch`, `metalab.when`,
    ``dist.when(...)``) gives a `ConditionalRandomSource`, whose unconditional
    parameters draw exactly what they draw here.

    >>> src = random({"lr": loguniform(1e-4, 1e-1), "opt": choice(["adam", "sgd"])}, 10, seed=0)
    >>> len(src), src[3].tags
    (10, ('trial_3',))
    """
    given: object = space
    if isinstance(given, Mapping) and any(isinstance(v, Switch) for v in given.values()):
        # Imported here: the conditional source is built on this module's draws.
        from metalab._sources.conditional import ConditionalRandomSource

        if algorithm != ALGORITHM:
            msg = (
                f"random: conditional parameters are drawn with the current algorithm "
                f"{ALGORITHM!r} only, got algorithm={algorithm!r}"
            )
            raise ParamError(msg)
        return ConditionalRandomSource(space, n_trials, seed)
    return RandomSource(space, n_trials, seed, algorithm=algorithm)  # type: ignore[arg-type]
