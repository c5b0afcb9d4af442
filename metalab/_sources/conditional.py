"""Random spaces with conditional parameters: `ConditionalRandomSource`.

A space may hold `Switch` values (`metalab._sources.switch`) next to distributions.
Parameters are drawn in dependency order (a switch reads the parameters its expression
names, which may be conditional themselves), and each parameter still draws from its
own stream ``(seed, name)`` at trial ``i``, exactly as in a `RandomSource`: the value
of a parameter in a trial where it is active is the value the same distribution gives
there in a space without conditions, so adding, removing or re-weighting a conditional
parameter never changes the others.

A parameter is absent from a trial when its switch's expression takes no branch's
value there, or reads a parameter that is absent itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast, final

import attrs
import numpy as np

from metalab._core.case import ParamCase, make_case
from metalab._core.codegen import (
    CASE_NAMESPACE,
    case_source,
    compile_functions,
    name_literal,
    source_of,
)
from metalab._core.intstr import int_to_str
from metalab._core.values import FrozenDict, FrozenParams, ParamValue, check_int, describe, show
from metalab._expr import Col, compile_case, evaluate_columns, expression_code, failure
from metalab._sources.base import (
    Description,
    Indices,
    KeyScan,
    KeySets,
    ParamSource,
    Raw,
    bulk,
    check_seed,
    paused,
)
from metalab._sources.distributions import Choice, Distribution, ScalarCode, inline_draw
from metalab._sources.random import CHUNK, COLUMN_CHUNK, RandomSource, _index_array
from metalab._sources.rng import Lanes, Stream, Work, golden_multiple
from metalab._sources.switch import Switch
from metalab.errors import ExpressionError, ParamError

if TYPE_CHECKING:
    import numpy.typing as npt

    from metalab._sources.switch import BranchKey

__all__ = ["KEY_SCAN", "ConditionalRandomSource", "dependency_order", "match_branch"]

_ERRORS: Final = (ArithmeticError, ValueError, TypeError, KeyError, IndexError)
"""What evaluating an expression on a trial may raise (turned into metalab's errors)."""

KEY_SCAN: Final = 2**20
"""The most trials whose key sets a typed view's check reads (the first ones)."""

_CHECKED_TRIALS: Final = 16
"""Trials on which every switch is evaluated when the space is defined (type clashes)."""


def dependency_order(
    entries: Mapping[str, object], names_of: Callable[[object], tuple[str, ...]], what: str
) -> tuple[str, ...]:
    """The names in an order where each comes after every name it reads (ties sorted).

    Raises:
        ParamError: a name reads one that is not in ``entries``, or the reads form a cycle
            (the message lists it).
    """
    reads = {name: names_of(entry) for name, entry in entries.items()}
    for name, needed in reads.items():
        for other in needed:
            if other not in entries:
                listed = ", ".join(map(repr, sorted(entries)))
                msg = (
                    f"{what} {name!r}: its condition reads {other!r}, which is no parameter "
                    f"of the {what} (it has: {listed})"
                )
                raise ParamError(msg)
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: placed

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            msg = f"{what}: the conditions form a cycle: {' -> '.join(map(repr, cycle))}"
            raise ParamError(msg)
        state[name] = 1
        for other in sorted(reads[name]):
            visit(other, [*path, name])
        state[name] = 2
        order.append(name)

    for name in sorted(entries):
        visit(name, [])
    return tuple(order)


def match_branch(values: npt.NDArray[Any], key: BranchKey) -> npt.NDArray[np.bool_]:
    """Where ``values`` (a column an expression gave) equal ``key`` in type and value."""
    kind = values.dtype.kind
    wanted = {bool: "b", int: "iu", float: "f", str: "U"}.get(type(key), "")
    if kind in wanted and kind != "O":
        out: npt.NDArray[np.bool_] = np.asarray(values == key, dtype=np.bool_)
        return out
    if kind == "O":
        return np.fromiter(
            (type(v) is type(key) and v == key for v in values.tolist()),
            dtype=np.bool_,
            count=len(values),
        )
    return np.zeros(len(values), dtype=np.bool_)


def _to_space(space: object) -> FrozenDict[str, Distribution | Switch]:
    if not isinstance(space, Mapping) or not space:
        msg = (
            "random space must be a non-empty mapping of names to distributions, "
            f"got {describe(space)}"
        )
        raise ParamError(msg)
    items: list[tuple[str, Distribution | Switch]] = []
    for name in sorted(space):
        if not isinstance(name, str):
            msg = f"random space names must be str, got {describe(name)}"
            raise ParamError(msg)
        entry = space[name]
        if isinstance(entry, Switch):
            for key, payload in entry.branches:
                if not isinstance(payload, Distribution):
                    msg = (
                        f"random space {name!r}: switch branch {show(key)} must be a "
                        f"distribution such as uniform(0, 1), got the values {show(payload)} "
                        "(value lists are for grids)"
                    )
                    raise ParamError(msg)
        elif not isinstance(entry, Distribution):
            msg = (
                f"random space {name!r}: expected a distribution such as uniform(0, 1) or a "
                f"switch, got {describe(entry)}"
            )
            raise ParamError(msg)
        items.append((name, entry))
    return FrozenDict(items)


def _check_branches(space: Mapping[str, Distribution | Switch]) -> None:
    """A branch keyed by a value the switched parameter never takes is a mistake."""
    for name, entry in space.items():
        if not isinstance(entry, Switch) or not isinstance(entry.expr, Col):
            continue
        read = space[entry.expr.name]
        if isinstance(read, Choice) and not isinstance(read.options, range):
            options = {(type(v), v) for v in read.options if isinstance(v, str | int | float)}
            for key, _ in entry.branches:
                if (type(key), key) not in options:
                    msg = (
                        f"random space {name!r}: switch branch {show(key)} is never taken: "
                        f"{entry.expr.name!r} draws from {show(list(read.options))}"
                    )
                    raise ParamError(msg)


@final
@attrs.frozen(init=False, repr=False)
class ConditionalRandomSource(ParamSource):
    """``n_trials`` replayable draws from a space with conditional parameters.

    Built by `metalab.random` when the space holds a `Switch`; case ``i`` is tagged
    ``trial_{i}`` and has the parameters active in trial ``i``.

    >>> from metalab import choice, col, random, uniform
    >>> m = uniform(0, 1).when(col("opt") == "sgd")
    >>> src = random({"opt": choice(["adam", "sgd"]), "m": m}, 8, seed=0)
    >>> all(("m" in c.params) == (c.params["opt"] == "sgd") for c in src)
    True
    """

    manifest_type: ClassVar[str] = "ConditionalRandomSource"

    space: Mapping[str, Distribution | Switch]
    """The distribution or switch of each parameter, names sorted."""
    n_trials: int
    seed: int

    _order: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    _streams: dict[str, Stream] = attrs.field(init=False, eq=False, repr=False)
    # Per switch, in dependency order: its name, itself, its compiled expression, the
    # names it reads, the kernel of each branch and the bits of its stream.
    _plan: tuple[Any, ...] = attrs.field(init=False, eq=False, repr=False)
    _base: RandomSource | None = attrs.field(init=False, eq=False, repr=False)
    # The written-out functions of one trial (see `_compile_case`), built on first use.
    _functions: tuple[Callable[[int], ParamCase], Callable[[int], Raw]] | None = attrs.field(
        init=False, eq=False, repr=False
    )

    def __init__(
        self, space: Mapping[str, Distribution | Switch], n_trials: int, seed: int
    ) -> None:
        """Validate the space (names, cycles, branches), the number of trials and the seed."""
        frozen = _to_space(space)
        order = dependency_order(
            frozen,
            lambda entry: entry.names() if isinstance(entry, Switch) else (),
            "random space",
        )
        _check_branches(frozen)
        trials = check_int(n_trials, "random n_trials")
        if not 0 <= trials <= 2**64:
            msg = f"random n_trials must be in [0, 2**64], got {trials}"
            raise ParamError(msg)
        seed_ = check_seed(seed, "random seed")
        del order  # checked here, before any stream is built; kept by __attrs_post_init__
        self.__attrs_init__(frozen, trials, seed_)
        self._check_expressions()

    def __attrs_post_init__(self) -> None:
        """One stream per parameter, as a `RandomSource` has, and the per-trial plan."""
        streams = {name: Stream(self.seed, name) for name in self.space}
        object.__setattr__(self, "_streams", streams)
        order = dependency_order(
            self.space, lambda e: e.names() if isinstance(e, Switch) else (), "random space"
        )
        object.__setattr__(self, "_order", order)
        plain = {k: v for k, v in self.space.items() if isinstance(v, Distribution)}
        # The unconditional parameters draw what a plain random source of them draws,
        # from the same streams: its written-out functions give them (the fast path).
        base = RandomSource(plain, self.n_trials, self.seed) if plain else None
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_functions", None)
        plan: list[Any] = []
        for name in order:
            entry = self.space[name]
            if not isinstance(entry, Switch):
                continue
            stream = streams[name]
            kernels = {
                (type(key), key): payload.kernel(stream)
                for key, payload in entry.branches
                if isinstance(payload, Distribution)
            }
            fn = compile_case(entry.expr)
            reads = frozenset(entry.names())
            plan.append((name, entry, fn, reads, kernels, stream.bits_function()))
        object.__setattr__(self, "_plan", tuple(plan))

    def _check_expressions(self) -> None:
        """Evaluate every switch on a few trials now, so a type clash is found here."""
        for i in range(min(_CHECKED_TRIALS, max(self.n_trials, 1))):
            try:
                self._values(i)
            except ExpressionError:
                raise
            except _ERRORS as error:  # pragma: no cover - _values turns these into errors
                raise ExpressionError(str(error)) from None

    @property
    def size(self) -> int:
        """The number of trials."""
        return self.n_trials

    @property
    def keys(self) -> tuple[str, ...]:
        """Every parameter a trial can have, sorted."""
        return tuple(self.space)

    @property
    def conditional_keys(self) -> tuple[str, ...]:
        """The parameters that some trials lack (those defined by a switch), sorted."""
        return tuple(k for k, v in self.space.items() if isinstance(v, Switch))

    # -- one trial ------------------------------------------------------------------
    def _values(self, i: int) -> dict[str, ParamValue]:
        base = self._base
        values: dict[str, ParamValue] = {} if base is None else base.raw(i)[0]
        for name, switch, fn, reads, kernels, bits in self._plan:
            if not values.keys() >= reads:
                continue  # it reads an absent parameter
            try:
                value = fn(values)
            except TypeError as error:
                types = ", ".join(f"{r!r} is {describe(values[r], 30)}" for r in sorted(reads))
                msg = (
                    f"random space {name!r}: the switch on {switch.expr!r} does not fit the "
                    f"space's values: {error} (on trial {int_to_str(i)}, where {types})"
                )
                raise ExpressionError(msg) from None
            except _ERRORS:
                raise failure(switch.expr, values, i) from None
            try:
                branch = kernels.get((type(value), value))
            except TypeError:
                branch = None
            if branch is not None:
                values[name] = branch(i, bits(i))
        return values

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict, sorted) and tags of trial ``i``, ``0 <= i < size``."""
        functions = self._functions
        if functions is None:
            functions = self._compile()
        return functions[1](i)

    def _case(self, i: int) -> ParamCase:
        functions = self._functions
        if functions is None:
            functions = self._compile()
        return functions[0](i)

    def _compile(self) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
        functions = _compile_case(self)
        object.__setattr__(self, "_functions", functions)
        return functions

    def _generated_code(self) -> str:
        return source_of(self._functions[0] if self._functions else self._compile()[0])

    # -- many trials ----------------------------------------------------------------
    def columns(self, indices: Indices | None = None) -> dict[str, npt.NDArray[Any]]:
        """One NumPy array per parameter over the trials at ``indices`` (default: all).

        A conditional parameter's column is a ``numpy.ma.MaskedArray`` whose mask marks
        the trials where it is absent; the others are plain arrays, as `RandomSource`
        gives. Values are those of indexing, drawn by the distributions' array kernels.

        >>> from metalab import choice, col, random, uniform
        >>> m = uniform(0, 1).when(col("opt") == "b")
        >>> src = random({"opt": choice(["a", "b"]), "m": m}, 6, seed=0)
        >>> cols = src.columns()
        >>> cols["m"].mask.tolist() == [c.params["opt"] == "a" for c in src]
        True
        """
        index = None if indices is None else _index_array(indices, self.n_trials)
        count = len(self) if index is None else len(index)  # len(): a clear error when huge
        data = {name: np.empty(count, dtype=_dtype(entry)) for name, entry in self.space.items()}
        present = {name: np.ones(count, dtype=np.bool_) for name in self.conditional_keys}
        size = min(count, COLUMN_CHUNK)
        work, golden = Work(size), np.empty(size, dtype=np.uint64)
        buffers = {name: np.empty(size, dtype=_dtype(entry)) for name, entry in self.space.items()}
        # In chunks, as a plain random source fills its columns: the temporaries stay in
        # cache, and every parameter shares the chunk's ``index * G``.
        for start in range(0, count, COLUMN_CHUNK):
            stop = min(start + COLUMN_CHUNK, count)
            m = stop - start
            part = np.arange(start, stop, dtype=np.uint64) if index is None else index[start:stop]
            ig = golden_multiple(part, out=golden[:m])
            chunk_work = work.head(m)
            chunk = {name: column[start:stop] for name, column in data.items()}
            for name, entry in self.space.items():
                if not isinstance(entry, Switch):
                    entry.fill(self._streams[name], ig, chunk[name], chunk_work)
            for name in self._order:
                entry = self.space[name]
                if isinstance(entry, Switch):
                    self._fill_switch(
                        name,
                        entry,
                        chunk=chunk,
                        present=present,
                        span=(start, stop),
                        part=part,
                        ig=ig,
                        work=chunk_work,
                        buffers=buffers,
                    )
        out: dict[str, npt.NDArray[Any]] = {}
        for name in self.space:
            if name in present:
                out[name] = np.ma.MaskedArray(data[name], mask=~present[name])
            else:
                out[name] = data[name]
        return out

    def _fill_switch(  # noqa: PLR0913 - the state of one chunk, shared by every switch
        self,
        name: str,
        entry: Switch,
        *,
        chunk: Mapping[str, npt.NDArray[Any]],
        present: Mapping[str, npt.NDArray[np.bool_]],
        span: tuple[int, int],
        part: npt.NDArray[np.uint64],
        ig: npt.NDArray[np.uint64],
        work: Work,
        buffers: Mapping[str, npt.NDArray[Any]],
    ) -> None:
        """Draw one switched parameter over a chunk: its condition, then each branch."""
        start, stop = span
        m = stop - start
        reads = entry.names()
        mine = present[name][start:stop]
        masks = [present[r][start:stop] for r in reads if r in present]
        rows: npt.NDArray[np.intp] | None = None
        if masks:
            active = np.logical_and.reduce(masks) if len(masks) > 1 else masks[0]
            if not active.all():
                rows = np.flatnonzero(active)
        if rows is None:
            sub = {r: chunk[r] for r in reads}
            positions = part.astype(np.int64)
        else:
            sub = {r: chunk[r][rows] for r in reads}
            positions = part[rows].astype(np.int64)
        values = self._switch_values(name, entry, sub, positions, m if rows is None else len(rows))
        stream, out, buffer = self._streams[name], chunk[name], buffers[name]
        mine[:] = False
        boxed = out.dtype.kind == "O"
        # Each branch taken in the chunk draws over the whole chunk, the first straight
        # into the column, the others into a buffer copied where they are taken: a full
        # draw and a masked copy cost less than gathering and scattering the rows
        # (rows a branch does not take are masked, whatever they hold).
        # The branches are distributions (checked when the space was defined); no
        # isinstance here: a check against the Distribution protocol is slow.
        for key, dist in cast("tuple[tuple[BranchKey, Distribution], ...]", entry.branches):
            hit = match_branch(values, key)
            if rows is not None:
                hit = _spread(rows, hit, m)
            if not hit.any():
                continue
            if not boxed and not mine.any() and dist.dtype == out.dtype:
                dist.fill(stream, ig, out, work)
            else:
                draws = buffer if dist.dtype == buffer.dtype else np.empty(m, dist.dtype)
                draws = draws[:m]
                dist.fill(stream, ig, draws, work)
                if boxed:
                    out[hit] = draws[hit].astype(object)
                else:
                    np.putmask(out, hit, draws)
            mine |= hit

    def _switch_values(
        self,
        name: str,
        entry: Switch,
        sub: Mapping[str, npt.NDArray[Any]],
        positions: npt.NDArray[np.int64],
        count: int,
    ) -> npt.NDArray[Any]:
        if not entry.names():
            value = compile_case(entry.expr)({})
            column = np.empty(count, dtype=object)
            column[:] = [value] * count
            return column
        try:
            return evaluate_columns(entry.expr, sub, positions=positions)
        except ExpressionError as error:  # pragma: no cover - names are checked when defined
            msg = f"random space {name!r}: {error}"
            raise ExpressionError(msg) from None

    @bulk
    def take(self, indices: Indices) -> list[ParamCase]:
        """The cases at many indices, drawn in vectorized passes (same as indexing)."""
        return list(self._from_columns(self.columns(indices), self._numbers(indices)))

    def _numbers(self, indices: Indices) -> list[int]:
        numbers: list[int] = _index_array(indices, self.n_trials).tolist()
        return numbers

    def _from_columns(
        self, columns: Mapping[str, npt.NDArray[Any]], numbers: Sequence[int]
    ) -> Iterator[ParamCase]:
        for params, i in zip(_rows(columns, len(numbers)), numbers, strict=True):
            yield make_case(FrozenParams(params), (f"trial_{i}",))

    def __iter__(self) -> Iterator[ParamCase]:
        """Every case in order, drawn in vectorized chunks (memory does not grow)."""
        for start in range(0, self.n_trials, CHUNK):
            stop = min(start + CHUNK, self.n_trials)
            index = np.arange(start, stop, dtype=np.uint64)
            # Built with the collector paused, as a plain random source's chunks are.
            yield from paused(list, self._from_columns(self.columns(index), range(start, stop)))

    def dicts(self) -> Iterator[dict[str, ParamValue]]:
        """Every case's params as a fresh plain dict, drawn in vectorized chunks."""
        for start in range(0, self.n_trials, CHUNK):
            stop = min(start + CHUNK, self.n_trials)
            yield from _rows(self.columns(np.arange(start, stop, dtype=np.uint64)), stop - start)

    # -- what the layers above ask ------------------------------------------------------
    def describe(self) -> Description:
        """A ``random`` node: its seed, each law, each switch with its branches."""
        lines: list[tuple[str, str, object]] = []
        for key, entry in self.space.items():
            if isinstance(entry, Switch):
                lines.extend((key, ":", text) for text in entry.branch_texts())
            else:
                lines.append((key, "~", entry))
        return Description("random", (f"seed {self.seed}", "conditional"), tuple(lines))

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """The options of each unconditional choice (all certainly drawn)."""
        if self.size == 0:
            return
        for key, entry in self.space.items():
            if isinstance(entry, Choice) and not isinstance(entry.options, range):
                for value in entry.options:
                    yield key, value, f"random draws for {key!r} from {entry!r}"

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key sets of the trials at ``indices``, read from their columns.

        At most `KEY_SCAN` trials are read, the first ones: the sets found are real
        (a typed view reports a problem with one at once), and a set that only later
        trials have is caught when such a trial is read.
        """
        unconditional = frozenset(k for k in self.space if k not in self.conditional_keys)
        if not self.conditional_keys:
            return {unconditional}
        found: KeySets = set()
        for start in range(0, min(len(indices), KEY_SCAN), CHUNK):
            part = indices[start : min(start + CHUNK, KEY_SCAN)]
            index = np.arange(part.start, part.stop, part.step, dtype=np.uint64)
            columns = self.columns(index)
            masks = [(k, ~np.ma.getmaskarray(columns[k])) for k in self.conditional_keys]
            rows = np.stack([m for _, m in masks], axis=1)
            for row in np.unique(rows, axis=0).tolist():
                found.add(unconditional | {k for (k, _), on in zip(masks, row, strict=True) if on})
            found = scan.limited(found)
        return found

    def __reduce__(self) -> tuple[Callable[..., ConditionalRandomSource], tuple[Any, ...]]:
        """Pickle the defining fields; the streams and kernels are derived again."""
        return ConditionalRandomSource, (dict(self.space), self.n_trials, self.seed)

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        space = ", ".join(f"{k!r}: {v!r}" for k, v in self.space.items())
        return f"random({{{space}}}, n_trials={self.n_trials}, seed={self.seed})"


_ABSENT: Final = object()
"""The placeholder of a parameter not (yet) drawn, inside the written-out functions."""


def _compile_case(
    source: ConditionalRandomSource,
) -> tuple[Callable[[int], ParamCase], Callable[[int], Raw]]:
    """Trial ``i`` of a conditional space, as functions written out for its parameters.

    As for a plain random source (`metalab._sources.random`), the bits of every
    parameter are mixed in one pass and each built-in law's draw is written inline, so
    an unconditional parameter gets exactly the value a plain source draws. The params
    dict is written once, in sorted order, with a placeholder for each conditional
    parameter; each switch then fills its own in dependency order, and the placeholders
    left are removed. For ``{"opt": choice(["adam", "sgd"]), "m": uniform(0,
    1).when(col("opt") == "sgd")}`` the case function reads::

        def case(i):
            z = (i * lanes_gamma + lanes_offsets) & lanes_mask
            ...
            b0, b1, = lanes_unpack(...)
            v1 = d1_options[b1 & d1_mask]
            p = {'m': _ABSENT, 'opt': v1}
            if p['opt'] is not _ABSENT:
                try:
                    v = (p['opt'] == _c0)  # the condition, written inline
                    k = k0_True if v is True else None  # else: k0.get((type(v), v))
                except _ERRORS:
                    return slow(i)
                if k is not None:
                    p['m'] = k(i, b0)
            if p['m'] is _ABSENT:
                del p['m']
            case = _new_case(_ParamCase)
            ...

    A condition that fails goes to the generic path (`ConditionalRandomSource._values`),
    which raises the error naming the expression and the trial. Names enter the text
    only as literals of their exact ``str`` (`name_literal`).
    """
    names = tuple(source.space)
    streams = [source._streams[name] for name in names]  # noqa: SLF001 - its own parts
    codes = [ScalarCode(j) for j in range(len(names))]
    mixing, constants = Lanes(streams).source([code.bits for code in codes])
    namespace: dict[str, Any] = {
        **CASE_NAMESPACE,
        **constants,
        "_ABSENT": _ABSENT,
        "_ERRORS": _ERRORS,
        "slow": source._values,  # noqa: SLF001 - the generic path of the same source
    }
    lines = mixing.splitlines()
    entries = []
    for name, code, stream in zip(names, codes, streams, strict=True):
        entry = source.space[name]
        if isinstance(entry, Switch):
            entries.append(f"{name_literal(name)}: _ABSENT")
            continue
        if not inline_draw(entry, stream, code):
            kernel = code.const("kernel", entry.kernel(stream))
            code.line(f"{code.value} = {kernel}(i, {code.bits})")
        lines += code.lines
        namespace.update(code.namespace)
        entries.append(f"{name_literal(name)}: {code.value}")
    lines.append("p = {" + ", ".join(entries) + "}")
    bits_of = {name: code.bits for name, code in zip(names, codes, strict=True)}
    for j, (name, switch, _, reads, kernels, _bits) in enumerate(source._plan):  # noqa: SLF001
        indent = "    " if reads else ""
        if reads:
            checks = (f"p[{name_literal(r)}] is not _ABSENT" for r in sorted(reads))
            lines.append("if " + " and ".join(checks) + ":")
        lines += [
            f"{indent}try:",
            f"{indent}    v = {expression_code(switch.expr, 'p', namespace)}",
            f"{indent}    k = {_kernel_choice(j, kernels, namespace)}",
            f"{indent}except _ERRORS:",
            f"{indent}    return slow(i)",
            f"{indent}if k is not None:",
            f"{indent}    p[{name_literal(name)}] = k(i, {bits_of[name]})",
        ]
    for name in source.conditional_keys:
        lines += [f"if p[{name_literal(name)}] is _ABSENT:", f"    del p[{name_literal(name)}]"]
    body = "".join(f"    {line}\n" for line in lines)
    # A case takes its trial number for its tags, and writes trial_{i} when they are read.
    text = (
        f"def case(i):\n{body}{case_source('p', 'i', 'None', '    ')}    return case\n"
        f'def raw(i):\n{body}    return p, (f"trial_{{i}}",)\n'
    )
    compile_functions(text, namespace, "conditional random case")
    return namespace["case"], namespace["raw"]


def _kernel_choice(
    j: int, kernels: Mapping[tuple[type, Any], Any], namespace: dict[str, Any]
) -> str:
    """The text choosing switch ``j``'s draw from its value ``v`` (None: left out).

    A switch on a bool (``when``, or two branches True/False) tests ``v is True`` and
    ``v is False``: the same choice as looking ``(type(v), v)`` up, without building the
    key; any other switch looks it up.
    """
    if kernels and all(kind is bool for kind, _ in kernels):
        namespace.update({f"k{j}_{key}": kernel for (_, key), kernel in kernels.items()})
        tests = [f"k{j}_{key} if v is {key}" for (_, key) in sorted(kernels, key=repr)]
        return " else ".join(tests) + " else None"
    namespace[f"k{j}"] = kernels
    return f"k{j}.get((type(v), v))"


def _spread(
    rows: npt.NDArray[np.intp], hit: npt.NDArray[np.bool_], m: int
) -> npt.NDArray[np.bool_]:
    """A mask over ``m`` rows, true at the ``rows`` where ``hit`` is."""
    out = np.zeros(m, dtype=np.bool_)
    out[rows[hit]] = True
    return out


def _dtype(entry: Distribution | Switch) -> np.dtype[Any]:
    """The column dtype of a parameter: its law's, or the one all its branches share.

    Branches of different kinds (an int law and a float law) give an object column,
    so each value stays as drawn.
    """
    if not isinstance(entry, Switch):
        return entry.dtype
    dtypes = {cast("Distribution", dist).dtype for _, dist in entry.branches}
    if len(dtypes) == 1:
        return next(iter(dtypes))
    if {dtype.kind for dtype in dtypes} == {"U"}:
        return np.result_type(*dtypes)
    return np.dtype(object)


def _rows(columns: Mapping[str, npt.NDArray[Any]], count: int) -> Iterator[dict[str, ParamValue]]:
    """The params of each row of ``columns`` (masked entries left out), keys sorted."""
    names = sorted(columns)
    values = [np.ma.getdata(columns[k]).tolist() for k in names]
    masks = [
        np.ma.getmaskarray(columns[k]).tolist()
        if isinstance(columns[k], np.ma.MaskedArray)
        else None
        for k in names
    ]
    for r in range(count):
        yield {
            k: v[r] for k, v, m in zip(names, values, masks, strict=True) if m is None or not m[r]
        }
