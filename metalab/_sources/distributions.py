"""Distributions for random sources: frozen values that turn random bits into draws.

Every distribution has a scalar path (one trial: Python ints and floats) and an array
path (many trials: NumPy). Both use the same IEEE operations in the same order, and
NumPy's ``exp``, ``log`` and ``cos`` on both, so ``source[i]``, ``source.take([...])``,
``source.columns()`` and iteration agree bit for bit. The formulas are written out in
``docs/reproducibility.md``.

Bounds: `uniform` and `loguniform` draw from ``[low, high)`` and never return ``high``,
with or without ``step``; the integer laws include both ends. A ``step`` puts the
values on the grid ``low + k * step``; `normal` and `lognormal`, which have no ``low``,
round a draw to the nearest multiple ``k * step``. Equal bounds pin the value: every draw of
``uniform(2.0, 2.0)`` is ``2.0`` (as in metalab's earlier format, whose manifests hold
such pinned laws).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from itertools import accumulate
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Protocol,
    TypeAlias,
    final,
    runtime_checkable,
)

import attrs
import numpy as np

from metalab._core.case import encode_value
from metalab._core.codegen import compile_functions
from metalab._core.values import (
    INT64_MAX,
    INT64_MIN,
    ParamInput,
    ParamValue,
    check_finite_number,
    check_int,
    column_array,
    describe,
    normalize_value,
    show,
)
from metalab._sources.rng import MASK64, TWO_POW_64, UNIT, Work, golden_multiple
from metalab.errors import ParamError, UnsupportedOperationError

if TYPE_CHECKING:
    import random as _stdlib_random
    from collections.abc import Callable

    import numpy.typing as npt

    from metalab._expr import Expr
    from metalab._sources.rng import F64, U64, Stream
    from metalab._sources.switch import Switch

__all__ = [
    "DISTRIBUTIONS",
    "Choice",
    "Distribution",
    "LogNormal",
    "LogUniform",
    "LogUniformInt",
    "Normal",
    "RandInt",
    "Uniform",
    "choice",
    "lognormal",
    "loguniform",
    "loguniform_int",
    "normal",
    "randint",
    "uniform",
]


@runtime_checkable
class Distribution(Protocol):
    """What a random source needs of a distribution.

    A distribution is a frozen value. It draws the value of trial ``index`` from the
    random bits of a `Stream` (the stream's sub-streams ``0, 1, ...`` are its own), one
    trial at a time or many at once, and both paths give identical values.
    """

    manifest_type: ClassVar[str]
    """The stable ``"type"`` tag of this distribution in manifests."""

    def kernel(self, stream: Stream) -> Callable[[int, int], ParamValue]:
        """The scalar path bound to ``stream``: a function of the trial index and its bits.

        The function takes ``(index, stream.bits(index))``: sources mix the bits of all
        their parameters at once, and the kernel turns them into the value (drawing
        from further sub-streams itself when it needs them).
        """
        ...

    def sample(self, stream: Stream, index: int) -> ParamValue:
        """The draw for one trial, as a Python scalar."""
        ...

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of the array path's draws."""
        ...

    def fill(self, stream: Stream, ig: U64, out: npt.NDArray[Any], work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``.

        ``ig`` holds ``index * G`` for each trial (`golden_multiple`); ``work`` is
        scratch space of the same length, shared with the other parameters.
        """
        ...

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[Any]:
        """The draws for many trials, as a new NumPy array (same values as `sample`)."""
        ...

    def sample_legacy(self, rng: _stdlib_random.Random) -> ParamValue:
        """The draw of metalab's earlier format, from that trial's ``random.Random``."""
        ...

    def to_manifest_dict(self) -> dict[str, Any]:
        """The manifest form, ``{"type": ..., ...}``."""
        ...


# NumPy's transcendental functions on both paths: libm and NumPy's SIMD loops may differ
# in the last bit, and a trial must not depend on whether it was drawn alone.
_FLOAT64: Final = np.dtype(np.float64)
_INT64: Final = np.dtype(np.int64)

_exp: Final = np.exp
_log: Final = np.log
_cos: Final = np.cos

TAU_UNIT: Final = math.tau * UNIT
"""``2 * pi * 2**-53``: the angle of one step of a draw's 53-bit integer (exact scaling)."""

MAX_GRID: Final = 2**53
"""The most grid points a continuous ``step`` may give (``k`` stays exact as a float)."""

NORMAL_REACH: Final = 9.0
"""A bound on ``|z|`` of a standard normal draw here (at most ``sqrt(106 * ln 2)``, 8.58)."""

LOG_FLOAT_MAX: Final = 709.0
"""``exp`` of anything up to this is a finite float (the limit is about 709.78)."""


def _ln(value: float) -> float:
    """The natural log, correctly rounded (decimal arithmetic), so constants never vary."""
    import decimal  # only building a distribution needs it

    with decimal.localcontext(prec=40):
        return float(decimal.Decimal(value).ln())


Real: TypeAlias = "float | np.integer[Any] | np.floating[Any]"
"""A real number as a distribution takes it: a Python int or float, or a NumPy scalar."""

Integer: TypeAlias = "int | np.integer[Any]"
"""An integer as a distribution takes it: a Python int or a NumPy integer scalar."""


def _item(value: Any) -> Any:
    # NumPy numbers become the Python scalars they stand for; checks come after. A
    # timedelta64 (an np.integer to NumPy) or datetime64 stays as it is, to be refused.
    if isinstance(value, np.generic) and not isinstance(value, np.timedelta64 | np.datetime64):
        return value.item()
    return value


def _scalar(value: Real) -> int | float:
    out: int | float = _item(value)
    return out


def _optional_scalar(value: Real | None) -> int | float | None:
    return None if value is None else _scalar(value)


def _integer(value: Integer) -> int:
    out: int = _item(value)
    return out


def _optional_integer(value: Integer | None) -> int | None:
    return None if value is None else _integer(value)


def _set(obj: object, **values: object) -> None:
    for name, value in values.items():
        object.__setattr__(obj, name, value)


def _float_member(value: object) -> float | None:
    """``value`` as the float a continuous law could draw, or None if it cannot be one.

    Draws of continuous laws are floats: as in case equality, ``1`` and ``True`` are not
    the float ``1.0``. NumPy floats stand for the Python floats they hold.
    """
    if isinstance(value, np.floating):
        value = value.item()
    if type(value) is not float or not math.isfinite(value):
        return None
    return value


def _int_member(value: object) -> int | None:
    """``value`` as the int an integer law could draw, or None (floats and bools are not)."""
    if isinstance(value, np.integer):
        value = _item(value)  # a timedelta64 (an np.integer) stays as it is, no int
    return value if type(value) is int else None


@final
class ScalarCode:
    """The statements that draw parameter ``j`` inside a function generated for a source.

    A random source writes one function per source for single-trial access (see
    ``metalab._sources.random``). In it, the local ``i`` is the trial index and the local
    `bits` holds the parameter's bits of sub-stream 0; the statements collected here
    assign the draw to the local `value`. Every other name they use is bound in
    `namespace` through `const`, so no value enters the source as text.

    >>> code = ScalarCode(0)
    >>> code.line(f"{code.value} = {code.const('lo', 2.5)} + ({code.bits} >> 11)")
    >>> code.lines, code.namespace
    (['v0 = d0_lo + (b0 >> 11)'], {'d0_lo': 2.5})
    """

    __slots__ = ("bits", "lines", "namespace", "prefix", "value")

    def __init__(self, j: int) -> None:
        """Name the locals of parameter ``j``: ``v{j}``, ``b{j}``, and ``d{j}_`` constants."""
        self.value: Final = f"v{j}"
        self.bits: Final = f"b{j}"
        self.prefix: Final = f"d{j}_"
        self.lines: list[str] = []
        self.namespace: dict[str, object] = {}

    def line(self, statement: str) -> None:
        """Append one statement (built from `value`, `bits`, ``i`` and `const` names)."""
        self.lines.append(statement)

    def const(self, name: str, value: object) -> str:
        """Bind ``value`` in the namespace; return the name to write in the source."""
        key = self.prefix + name
        if key in self.namespace:
            msg = f"constant {name!r} is bound twice"
            raise ValueError(msg)
        self.namespace[key] = value
        return key

    def function(self) -> Callable[[int, int], Any]:
        """The statements as a function ``(i, bits) -> value``: the law's scalar kernel.

        >>> code = ScalarCode(0)
        >>> code.line(f"{code.value} = {code.const('lo', 2.5)} + ({code.bits} >> 11)")
        >>> code.function()(0, 2048)
        3.5
        """
        body = "".join(f"    {line}\n" for line in self.lines)
        text = f"def draw(i, {self.bits}):\n{body}    return {self.value}\n"
        namespace = compile_functions(text, dict(self.namespace), "law")
        draw: Callable[[int, int], Any] = namespace["draw"]
        return draw

    def below(self, stream: Stream, n: int) -> str:
        """An expression for `Stream.below_kernel`: the integer below ``n`` from `bits`.

        Rejected bits (at most a share ``n / 2**64``) go to the kernel, which draws
        again from the next sub-streams; when ``n`` is a power of two nothing is
        rejected and the remainder is a mask.
        """
        b = self.bits
        limit = TWO_POW_64 - TWO_POW_64 % n
        if limit == TWO_POW_64:
            return f"({b} & {self.const('mask', n - 1)})"
        count, top = self.const("n", n), self.const("limit", limit)
        retry = self.const("below", stream.below_kernel(n))
        return f"({b} % {count} if {b} < {top} else {retry}(i, {b}))"


def inline_draw(dist: Distribution, stream: Stream, code: ScalarCode) -> bool:
    """Write the scalar draw of ``dist`` on ``stream`` into ``code``, if it has a written form.

    Every built-in law has one, and its `kernel` is compiled from the same statements;
    for laws defined elsewhere this returns False and the source calls their kernel.

    >>> from metalab._sources.rng import Stream
    >>> code = ScalarCode(0)
    >>> inline_draw(randint(1, 8), Stream(0, "n"), code), code.lines
    (True, ['v0 = d0_low + (b0 & d0_mask)'])
    """
    return isinstance(dist, _Base) and dist._scalar_source(stream, code)  # noqa: SLF001


class _Base:
    """What the built-in distributions share: the scalar wrapper and the manifest form."""

    __slots__ = ()
    manifest_type: ClassVar[str]

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        """Write the statements of the scalar draw into ``code`` (True when written).

        This one text is both the law's `kernel` and its part of the function a random
        source writes out for a trial, so the scalar path is spelled once.
        """
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def kernel(self, stream: Stream) -> Callable[[int, int], ParamValue]:
        """The scalar path bound to ``stream``: ``(index, bits of sub-stream 0) -> value``.

        >>> from metalab._sources.rng import Stream
        >>> stream = Stream(seed=0, name="n")
        >>> randint(1, 8).kernel(stream)(0, stream.bits(0)) in range(1, 9)
        True
        """
        code = ScalarCode(0)
        self._scalar_source(stream, code)
        return code.function()

    def sample(self, stream: Stream, index: int) -> ParamValue:
        """The draw for one trial, as a Python scalar.

        >>> from metalab._sources.rng import Stream
        >>> randint(1, 6).sample(Stream(seed=0, name="die"), 0) in range(1, 7)
        True
        """
        return self.kernel(stream)(index, stream.bits(index))

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of the array path's draws."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def fill(self, stream: Stream, ig: U64, out: npt.NDArray[Any], work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[Any]:
        """The draws for many trials, as a new NumPy array (same values as `sample`).

        >>> from metalab._sources.rng import Stream
        >>> stream, index = Stream(seed=0, name="x"), np.arange(3, dtype=np.uint64)
        >>> dist = uniform(0, 1)
        >>> dist.sample_array(stream, index).tolist() == [dist.sample(stream, i) for i in range(3)]
        True
        """
        out = np.empty(len(index), dtype=self.dtype)
        self.fill(stream, golden_multiple(index), out, Work(len(index)))
        return out

    def sample_legacy(self, rng: _stdlib_random.Random) -> ParamValue:
        """The draw of metalab's earlier format, from that trial's ``random.Random``."""
        raise NotImplementedError  # pragma: no cover - every subclass overrides it

    def to_manifest_dict(self) -> dict[str, Any]:
        """The manifest form of this distribution, through metalab's one converter."""
        from metalab._io.manifest import converter

        out: dict[str, Any] = converter.unstructure(self, Distribution)
        return out

    def when(self, predicate: Expr[bool]) -> Switch:
        """This distribution, drawn only in the trials where ``predicate`` is true.

        The parameter is absent from the other trials (see `metalab._sources.switch`).

        >>> from metalab import col
        >>> uniform(0.8, 0.99).when(col("opt") == "sgd")
        uniform(0.8, 0.99).when(col('opt') == 'sgd')
        """
        from metalab._sources.switch import when

        return when(predicate, self)

    def _no_legacy(self) -> UnsupportedOperationError:
        msg = f"{self!r} has no draw in the legacy algorithm 'python-random-v0'"
        return UnsupportedOperationError(msg)


# -- validation helpers ---------------------------------------------------------------
def _as_float(value: float, where: str) -> float:
    try:
        return float(value)
    except OverflowError:
        msg = f"{where} is beyond the float range, got {describe(value)}"
        raise ParamError(msg) from None


def _value_key(value: ParamValue | range) -> object:
    """What equality and hashing compare for a field: its type-tagged encoding.

    As for cases (``case_id``), ``1``, ``1.0`` and ``True`` differ, and so do ``0.0``
    and ``-0.0``: two distributions are equal exactly when their manifests are.
    """
    if isinstance(value, range):
        return ("range", value.start, value.stop, value.step)
    return encode_value(value)


def _float_bounds(fn: str, low: object, high: object) -> tuple[int | float, int | float]:
    lo = check_finite_number(low, f"{fn}(low=..., high=...): low")
    hi = check_finite_number(high, f"{fn}(low=..., high=...): high")
    lo_f = _as_float(lo, f"{fn}(low=..., high=...): low")
    hi_f = _as_float(hi, f"{fn}(low=..., high=...): high")
    if not lo_f <= hi_f:
        msg = (
            f"{fn}(low={show(lo)}, high={show(hi)}): low must be less than high, or equal to pin it"
        )
        raise ParamError(msg)
    if not math.isfinite(hi_f - lo_f):
        msg = f"{fn}(low={show(lo)}, high={show(hi)}): high - low overflows the float range"
        raise ParamError(msg)
    return lo, hi


MAX_EXACT: Final = 2**53
"""Integers up to this are exact as floats."""

MAX_POWER_OF_TEN: Final = 22
"""``10.0**22`` is the largest power of ten that is exact as a float."""


@attrs.frozen
class FloatGrid:
    """The points ``low + k * step`` for ``0 <= k < count``: every one below ``high``.

    Point ``k`` is ``(num + k * num_step) / denom``. When ``low`` and ``step`` are short
    decimals (their shortest ``repr``), ``denom`` is the power of ten that makes
    ``num = low * denom`` and ``num_step = step * denom`` integers, every numerator is
    exact, and one IEEE division gives the float nearest to the decimal ``low + k*step``
    (``0.1`` steps give ``0.3``, not ``0.30000000000000004``). Otherwise ``num = low``,
    ``num_step = step``, ``denom = 1.0``: float arithmetic.
    """

    count: int
    num: float
    num_step: float
    denom: float

    def point(self, k: int) -> float:
        """Grid point ``k`` (a Python int below `count`)."""
        return (self.num + k * self.num_step) / self.denom

    def holds(self, value: float, low: float, step: float) -> bool:
        """Whether ``value`` is one of the points, exactly (the `point` formula's float).

        The nearest ``k`` by float arithmetic is off by at most one from the point's,
        so its neighbours are checked too.
        """
        k = round((value - low) / step)
        return any(0 <= j < self.count and self.point(j) == value for j in (k - 1, k, k + 1))

    def points(self, k: npt.NDArray[Any], out: F64) -> None:
        """Grid points for the integers ``k`` (held as uint64 or float64), into ``out``."""
        np.multiply(k, self.num_step, out=out)
        out += self.num
        if self.denom != 1.0:
            out /= self.denom


def _holds_float(
    value: object, grid: FloatGrid | None, lo: float, step: float | None, high: float
) -> bool:
    """The ``contains`` of `Uniform` and `LogUniform`: a float of their support.

    A float in ``[lo, high)``, ``lo`` alone when the law is pinned, or one of the
    ``step`` grid's points.
    """
    x = _float_member(value)
    if x is None:
        return False
    if grid is not None and step is not None:
        return grid.holds(x, lo, float(step))
    hi = float(high)
    return x == lo if lo == hi else lo <= x < hi


def _decimal_grid(low: float, step: float, count: int) -> tuple[float, float, float] | None:
    import decimal  # only building a distribution needs it

    lo = decimal.Decimal(repr(low)).normalize()
    st = decimal.Decimal(repr(step)).normalize()
    digits = max(0, -int(lo.as_tuple().exponent), -int(st.as_tuple().exponent))
    if digits > MAX_POWER_OF_TEN:
        return None
    num, num_step = int(lo.scaleb(digits)), int(st.scaleb(digits))
    if abs(num) + count * num_step > MAX_EXACT:
        return None
    return float(num), float(num_step), float(10**digits)


def _float_grid(
    fn: str, given_low: float, given_high: float, step: object
) -> tuple[int | float, FloatGrid]:
    """Check a continuous ``step`` and build the grid of its points below ``high``.

    The count is exact for the floats: a point counts if the kernels' own formula
    (`FloatGrid.point`) puts it below ``high``.
    """
    where = f"{fn}(low={given_low!r}, high={given_high!r}, step=...)"
    low, high = float(given_low), float(given_high)
    st = check_finite_number(step, f"{where}: step")
    st_f = _as_float(st, f"{where}: step")
    if not st_f > 0:
        msg = f"{where}: step must be positive, got {st!r}"
        raise ParamError(msg)
    if low == high:
        msg = f"{where}: a step needs low < high (equal bounds pin the value), got {st!r}"
        raise ParamError(msg)
    from fractions import Fraction  # only building a distribution needs it

    count = math.ceil((Fraction(high) - Fraction(low)) / Fraction(st_f))
    if count > MAX_GRID:
        msg = f"{where}: step {st!r} is too small for the range (more than 2**53 grid points)"
        raise ParamError(msg)
    exact = _decimal_grid(low, st_f, count + 2)
    grid = FloatGrid(count, *(exact or (low, st_f, 1.0)))
    while count > 1 and grid.point(count - 1) >= high:
        count -= 1
    while grid.point(count) < high:
        count += 1
    if count < 2:
        msg = f"{where}: step must be smaller than high - low, got {st!r}"
        raise ParamError(msg)
    return st, attrs.evolve(grid, count=count)


def _check_int_bounds(fn: str, low: object, high: object) -> tuple[int, int]:
    lo = check_int(low, f"{fn}(low=..., high=...): low")
    hi = check_int(high, f"{fn}(low=..., high=...): high")
    if lo > hi:
        msg = f"{fn}(low={show(lo)}, high={show(hi)}): the integer range is empty (low > high)"
        raise ParamError(msg)
    if lo < INT64_MIN or hi > INT64_MAX:
        msg = f"{fn}(low={show(lo)}, high={show(hi)}): bounds must lie within the int64 range"
        raise ParamError(msg)
    return lo, hi


def _int_grid(fn: str, low: int, high: int, step: object) -> tuple[int, int]:
    """Check an integer ``step`` (both bounds must stay reachable); count the grid points."""
    if step is None:
        return 1, high - low + 1
    where = f"{fn}(low={low!r}, high={high!r}, step=...)"
    st = check_int(step, f"{where}: step")
    if st < 1:
        msg = f"{where}: step must be a positive int, got {show(st)}"
        raise ParamError(msg)
    if (high - low) % st:
        msg = (
            f"{where}: high - low must be a multiple of step so that both bounds are "
            f"reachable, got step={show(st)}"
        )
        raise ParamError(msg)
    return st, (high - low) // st + 1


def _step_repr(step: float | None) -> str:
    return "" if step is None else f", step={step!r}"


# -- continuous laws ------------------------------------------------------------------
@final
@attrs.frozen(repr=False)
class Uniform(_Base):
    """Floats uniform over ``[low, high)``; with ``step``, the grid points below ``high``.

    A draw is ``low + k * s`` with ``k`` the draw's 53-bit integer and
    ``s = (high - low) * 2**-53``, lowered to the largest float below ``high`` should it
    round up to ``high``. With ``step``, each of the grid points below ``high`` (see
    `FloatGrid`) is equally likely: point ``j`` for ``j`` an integer draw below their
    number.

    >>> uniform(0.0, 1.0)
    uniform(0.0, 1.0)
    """

    manifest_type: ClassVar[str] = "Uniform"

    low: int | float = attrs.field(converter=_scalar, eq=_value_key)
    high: int | float = attrs.field(converter=_scalar, eq=_value_key)
    step: int | float | None = attrs.field(default=None, converter=_optional_scalar, eq=_value_key)
    _lo: float = attrs.field(init=False, eq=False)
    _scale: float = attrs.field(init=False, eq=False)
    _top: float | None = attrs.field(init=False, eq=False)
    _grid: FloatGrid | None = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the bounds and the step; precompute the kernel's constants."""
        lo, hi = _float_bounds("uniform", self.low, self.high)
        lo_f, hi_f = float(lo), float(hi)
        scale = (hi_f - lo_f) * UNIT
        top = math.nextafter(hi_f, -math.inf)
        grid = None
        if self.step is not None:
            step, grid = _float_grid("uniform", lo, hi, self.step)
            _set(self, step=step)
        _set(
            self,
            low=lo,
            high=hi,
            _lo=lo_f,
            _scale=scale,
            # The clamp only matters when the largest draw rounds up to high (a
            # pinned law, low == high, always draws low and needs none).
            _top=top if scale and lo_f + (2**53 - 1) * scale > top else None,
            _grid=grid,
        )

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        v, b, grid = code.value, code.bits, self._grid
        if grid is not None:
            num, num_step = code.const("num", grid.num), code.const("num_step", grid.num_step)
            k = code.below(stream, grid.count)
            code.line(f"{v} = ({num} + {k} * {num_step}) / {code.const('denom', grid.denom)}")
            return True
        lo, scale = code.const("lo", self._lo), code.const("scale", self._scale)
        code.line(f"{v} = {lo} + ({b} >> 11) * {scale}")
        if self._top is not None:
            top = code.const("top", self._top)
            code.line(f"{v} = {v} if {v} <= {top} else {top}")
        return True

    @property
    def dtype(self) -> np.dtype[np.float64]:
        """Draws are ``float64``."""
        return _FLOAT64

    def fill(self, stream: Stream, ig: U64, out: F64, work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        if self._grid is not None:
            self._grid.points(stream.below_into(ig, self._grid.count, work), out)
            return
        stream.scaled_into(ig, 0, self._scale, out, work)
        out += self._lo
        if self._top is not None:
            np.minimum(out, self._top, out=out)

    def contains(self, value: object) -> bool:
        """Whether ``value`` is in the law's support: a float in ``[low, high)``, or a grid point.

        Draws are floats, so an int is not contained (as in case equality, ``1`` is not
        ``1.0``); a pinned law (``low == high``) contains ``low`` only; with ``step``,
        exactly the grid points below ``high``.

        >>> uniform(0.0, 1.0).contains(0.5), uniform(0.0, 1.0).contains(1.0)
        (True, False)
        >>> uniform(0.0, 1.0, step=0.25).contains(0.75), uniform(0.0, 1.0, step=0.25).contains(0.7)
        (True, False)
        """
        return _holds_float(value, self._grid, self._lo, self.step, self.high)

    def sample_legacy(self, rng: _stdlib_random.Random) -> float:
        """``rng.uniform(low, high)``."""
        if self.step is not None:
            raise self._no_legacy()
        return rng.uniform(self.low, self.high)

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"uniform({self.low!r}, {self.high!r}{_step_repr(self.step)})"


@final
@attrs.frozen(repr=False)
class LogUniform(_Base):
    """Floats whose logarithm is uniform over ``[log low, log high)``; never ``high``.

    A draw is ``x = exp(log(low) + k * s)`` with ``s = (log(high) - log(low)) * 2**-53``,
    clamped into ``[low, high)``. With ``step``, ``x`` is rounded down to the grid (see
    `FloatGrid`): point ``min(floor((x - low) / step), count - 1)``.

    >>> loguniform(1e-4, 1e-1).low
    0.0001
    """

    manifest_type: ClassVar[str] = "LogUniform"

    low: int | float = attrs.field(converter=_scalar, eq=_value_key)
    high: int | float = attrs.field(converter=_scalar, eq=_value_key)
    step: int | float | None = attrs.field(default=None, converter=_optional_scalar, eq=_value_key)
    _lo: float = attrs.field(init=False, eq=False)
    _top: float = attrs.field(init=False, eq=False)
    _log_lo: float = attrs.field(init=False, eq=False)
    _scale: float = attrs.field(init=False, eq=False)
    _grid: FloatGrid | None = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the bounds and the step; precompute the kernel's constants."""
        lo, hi = _float_bounds("loguniform", self.low, self.high)
        lo_f, hi_f = float(lo), float(hi)
        if lo_f <= 0:
            msg = f"loguniform(low={lo!r}, high={hi!r}): bounds must be positive"
            raise ParamError(msg)
        log_lo = _ln(lo_f)
        grid = None
        if self.step is not None:
            step, grid = _float_grid("loguniform", lo, hi, self.step)
            _set(self, step=step)
        _set(
            self,
            low=lo,
            high=hi,
            _lo=lo_f,
            # A pinned law (low == high) is clamped to low: exp(log(low)) may miss it.
            _top=max(lo_f, math.nextafter(hi_f, -math.inf)),
            _log_lo=log_lo,
            _scale=(_ln(hi_f) - log_lo) * UNIT,
            _grid=grid,
        )

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        del stream
        v, b = code.value, code.bits
        exp, log_lo = code.const("exp", _exp), code.const("log_lo", self._log_lo)
        lo, top = code.const("lo", self._lo), code.const("top", self._top)
        code.line(
            f"{v} = float({exp}({log_lo} + ({b} >> 11) * {code.const('scale', self._scale)}))"
        )
        code.line(f"{v} = {lo} if {v} < {lo} else {top} if {v} > {top} else {v}")
        grid = self._grid
        if grid is not None and self.step is not None:
            floor, step = code.const("floor", math.floor), code.const("step", float(self.step))
            kmax = code.const("kmax", grid.count - 1)
            num, num_step = code.const("num", grid.num), code.const("num_step", grid.num_step)
            code.line(f"{v} = {floor}(({v} - {lo}) / {step})")
            code.line(f"{v} = {v} if {v} < {kmax} else {kmax}")
            code.line(f"{v} = ({num} + {v} * {num_step}) / {code.const('denom', grid.denom)}")
        return True

    @property
    def dtype(self) -> np.dtype[np.float64]:
        """Draws are ``float64``."""
        return _FLOAT64

    def fill(self, stream: Stream, ig: U64, out: F64, work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        stream.scaled_into(ig, 0, self._scale, out, work)
        out += self._log_lo
        _exp(out, out=out)
        np.clip(out, self._lo, self._top, out=out)
        if self._grid is not None and self.step is not None:
            out -= self._lo
            out /= float(self.step)
            np.floor(out, out=out)
            np.minimum(out, float(self._grid.count - 1), out=out)
            self._grid.points(out, out)

    def contains(self, value: object) -> bool:
        """Whether ``value`` is in the law's support: a float in ``[low, high)``, or a grid point.

        As for `Uniform`: floats only, ``low`` alone when pinned, the grid points below
        ``high`` with ``step``.

        >>> loguniform(1e-4, 1e-1).contains(1e-3), loguniform(1e-4, 1e-1).contains(0.1)
        (True, False)
        """
        return _holds_float(value, self._grid, self._lo, self.step, self.high)

    def sample_legacy(self, rng: _stdlib_random.Random) -> float:
        """``exp(rng.uniform(log(low), log(high)))``."""
        if self.step is not None:
            raise self._no_legacy()
        return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"loguniform({self.low!r}, {self.high!r}{_step_repr(self.step)})"


def _check_normal(fn: str, mu: object, sigma: object) -> tuple[int | float, int | float]:
    m = check_finite_number(mu, f"{fn}(mu=..., sigma=...): mu")
    s = check_finite_number(sigma, f"{fn}(mu=..., sigma=...): sigma")
    m_f = _as_float(m, f"{fn}(mu=..., sigma=...): mu")
    s_f = _as_float(s, f"{fn}(mu=..., sigma=...): sigma")
    if not s_f > 0:
        msg = f"{fn}(mu={show(m)}, sigma={show(s)}): sigma must be positive"
        raise ParamError(msg)
    reach = abs(m_f) + NORMAL_REACH * s_f
    limit = LOG_FLOAT_MAX if fn == "lognormal" else math.inf
    if not reach < limit:
        what = "exp(mu +- 9 * sigma)" if fn == "lognormal" else "mu +- 9 * sigma"
        msg = f"{fn}(mu={show(m)}, sigma={show(s)}): {what} must stay within the float range"
        raise ParamError(msg)
    return m, s


def _multiples_grid(
    fn: str, mu: float, sigma: float, step: object
) -> tuple[int | float, FloatGrid]:
    """Check the ``step`` of a Gaussian law and build its grid of multiples ``k * step``.

    ``count`` bounds ``|k|`` over every possible draw (``mu +- 9 sigma``, or its ``exp``),
    computed exactly (decimal ``exp``, exact fractions) so that the choice between the
    short-decimal and the float form of the grid never depends on the platform.
    """
    import decimal  # only building a distribution needs it
    from fractions import Fraction

    where = f"{fn}(mu={show(mu)}, sigma={show(sigma)}, step=...)"
    st = check_finite_number(step, f"{where}: step")
    st_f = _as_float(st, f"{where}: step")
    if not st_f > 0:
        msg = f"{where}: step must be positive, got {show(st)}"
        raise ParamError(msg)
    if fn == "lognormal":
        with decimal.localcontext(prec=40):
            top = Fraction(decimal.Decimal(float(mu) + NORMAL_REACH * float(sigma)).exp())
    else:
        top = abs(Fraction(float(mu))) + Fraction(NORMAL_REACH) * Fraction(float(sigma))
    count = math.ceil(top / Fraction(st_f)) + 1
    if count > MAX_GRID:
        msg = (
            f"{where}: step {show(st)} is too small for the law's reach "
            f"(more than 2**53 multiples of step up to {float(top):.6g})"
        )
        raise ParamError(msg)
    exact = _decimal_grid(0.0, st_f, count + 1)
    return st, FloatGrid(count, *(exact or (0.0, st_f, 1.0)))


class _Gaussian(_Base):
    """Box-Muller, shared by `Normal` and `LogNormal`; an optional ``step`` rounds the draw."""

    __slots__ = ()
    mu: int | float
    sigma: int | float
    step: int | float | None
    _grid: FloatGrid | None

    _exponentiated: ClassVar[bool] = False
    """Whether a draw is ``exp`` of the normal one (`LogNormal`)."""

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        """``mu + sigma * sqrt(-2 log u1) * cos(2 pi u2)`` from sub-streams 0 and 1."""
        v, b = code.value, code.bits
        sqrt, log, cos = (
            code.const("sqrt", math.sqrt),
            code.const("log", _log),
            code.const("cos", _cos),
        )
        u1 = f"(({b} >> 11) + 1) * {code.const('unit', UNIT)}"
        bits1, tau_unit = code.const("bits1", stream.bits_function(1)), code.const("tau", TAU_UNIT)
        angle = f"({bits1}(i) >> 11) * {tau_unit}"
        code.line(f"{v} = {sqrt}(-2.0 * float({log}({u1}))) * float({cos}({angle}))")
        mu, sigma = code.const("mu", float(self.mu)), code.const("sigma", float(self.sigma))
        code.line(f"{v} = {mu} + {sigma} * {v}")
        if self._exponentiated:
            code.line(f"{v} = float({code.const('exp', _exp)}({v}))")
        grid = self._grid
        if grid is not None and self.step is not None:
            # round() of a float is an exact int, half to even: NumPy's rint on the array path.
            rnd, step = code.const("round", round), code.const("step", float(self.step))
            num_step, denom = code.const("num_step", grid.num_step), code.const("denom", grid.denom)
            code.line(f"{v} = ({rnd}({v} / {step}) * {num_step}) / {denom}")
        return True

    def _round_fill(self, out: F64) -> None:
        grid = self._grid
        if grid is None or self.step is None:
            return
        out /= float(self.step)
        np.rint(out, out=out)
        # rint keeps the sign of a negative draw that rounds to 0; the scalar path's int
        # 0 gives +0.0, and so does -0.0 + 0.0.
        out += 0.0
        out *= grid.num_step
        if grid.denom != 1.0:
            out /= grid.denom

    def _on_grid(self, x: float) -> bool:
        """Whether ``x`` is a multiple of ``step`` that a draw can be (True without a step).

        A draw is ``(k * num_step) / denom`` for an int ``k`` with ``|k|`` below the
        grid's count; a draw that rounds to zero is ``+0.0``, never ``-0.0``.
        """
        grid = self._grid
        if grid is None or self.step is None:
            return True
        if x == 0.0:
            return math.copysign(1.0, x) > 0
        k = round(x / float(self.step))
        return any(
            abs(j) < grid.count and (j * grid.num_step) / grid.denom == x for j in (k - 1, k, k + 1)
        )

    def _init_gaussian(self, fn: str) -> None:
        mu, sigma = _check_normal(fn, self.mu, self.sigma)
        grid = None
        if self.step is not None:
            step, grid = _multiples_grid(fn, mu, sigma, self.step)
            _set(self, step=step)
        _set(self, mu=mu, sigma=sigma, _grid=grid)

    def _normal_fill(self, stream: Stream, ig: U64, out: F64, work: Work) -> None:
        z = stream.bits_into(ig, 0, work)
        np.right_shift(z, np.uint64(11), out=z)
        np.add(z, np.uint64(1), out=z)
        np.multiply(z, UNIT, out=out)
        _log(out, out=out)
        out *= -2.0
        np.sqrt(out, out=out)
        angle = stream.scaled_into(ig, 1, TAU_UNIT, work.f, work)
        _cos(angle, out=angle)
        out *= angle
        out *= float(self.sigma)
        out += float(self.mu)

    @property
    def dtype(self) -> np.dtype[np.float64]:
        """Draws are ``float64``."""
        return _FLOAT64

    def sample_legacy(self, rng: _stdlib_random.Random) -> float:
        """Not part of the legacy algorithm."""
        del rng
        raise self._no_legacy()


@final
@attrs.frozen(repr=False)
class Normal(_Gaussian):
    """Gaussian floats with mean ``mu`` and standard deviation ``sigma``.

    A draw is ``mu + sigma * sqrt(-2 log u1) * cos(2 pi u2)`` (Box-Muller) with
    ``u1 = (k1 + 1) * 2**-53`` and ``u2 = k2 * 2**-53`` from sub-streams 0 and 1. With
    ``step``, the draw ``x`` is rounded to the nearest multiple of ``step`` (ties to
    even): ``round(x / step) * step``. A Gaussian has no ``low`` to start a grid from,
    so its grid is the multiples of ``step``, not ``mu + k * step``.

    >>> normal(0.0, 1.0)
    normal(0.0, 1.0)
    >>> normal(0.0, 1.0, step=0.5).step
    0.5
    """

    manifest_type: ClassVar[str] = "Normal"

    mu: int | float = attrs.field(converter=_scalar, eq=_value_key)
    sigma: int | float = attrs.field(converter=_scalar, eq=_value_key)
    step: int | float | None = attrs.field(default=None, converter=_optional_scalar, eq=_value_key)
    _grid: FloatGrid | None = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the parameters and the step."""
        self._init_gaussian("normal")

    def contains(self, value: object) -> bool:
        """Whether ``value`` is in the law's support: any finite float, or a multiple of ``step``.

        >>> normal(0.0, 1.0).contains(-3.5), normal(0.0, 1.0).contains(0)
        (True, False)
        >>> normal(0.0, 1.0, step=0.5).contains(-1.5), normal(0.0, 1.0, step=0.5).contains(0.3)
        (True, False)
        """
        x = _float_member(value)
        return x is not None and self._on_grid(x)

    def fill(self, stream: Stream, ig: U64, out: F64, work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        self._normal_fill(stream, ig, out, work)
        self._round_fill(out)

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"normal({self.mu!r}, {self.sigma!r}{_step_repr(self.step)})"


@final
@attrs.frozen(repr=False)
class LogNormal(_Gaussian):
    """Positive floats whose logarithm is normal with mean ``mu`` and deviation ``sigma``.

    A draw is ``exp(n)`` with ``n`` the draw of ``normal(mu, sigma)`` on the same stream.
    With ``step``, ``x = exp(n)`` is rounded to the nearest multiple of ``step`` (ties to
    even): ``round(x / step) * step``, which is ``0.0`` when ``x < step / 2``.

    >>> lognormal(0.0, 0.5)
    lognormal(0.0, 0.5)
    >>> lognormal(0.0, 0.5, step=0.25).step
    0.25
    """

    manifest_type: ClassVar[str] = "LogNormal"
    _exponentiated: ClassVar[bool] = True

    mu: int | float = attrs.field(converter=_scalar, eq=_value_key)
    sigma: int | float = attrs.field(converter=_scalar, eq=_value_key)
    step: int | float | None = attrs.field(default=None, converter=_optional_scalar, eq=_value_key)
    _grid: FloatGrid | None = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the parameters (every draw must be a finite float) and the step."""
        self._init_gaussian("lognormal")

    def contains(self, value: object) -> bool:
        """Whether ``value`` is in the law's support: a finite float above zero.

        With ``step``, a multiple of ``step`` at or above zero (a draw below ``step / 2``
        rounds to ``0.0``).

        >>> lognormal(0.0, 1.0).contains(2.5), lognormal(0.0, 1.0).contains(0.0)
        (True, False)
        >>> lognormal(0.0, 1.0, step=0.5).contains(0.0), lognormal(0.0, 1.0, step=0.5).contains(0.7)
        (True, False)
        """
        x = _float_member(value)
        if x is None:
            return False
        if self.step is None:
            return x > 0
        return x >= 0 and self._on_grid(x)

    def fill(self, stream: Stream, ig: U64, out: F64, work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        self._normal_fill(stream, ig, out, work)
        _exp(out, out=out)
        self._round_fill(out)

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"lognormal({self.mu!r}, {self.sigma!r}{_step_repr(self.step)})"


# -- integer laws ---------------------------------------------------------------------
@final
@attrs.frozen(repr=False)
class RandInt(_Base):
    """Integers uniform over ``[low, high]``, both ends included; or over its ``step`` grid.

    A draw is ``low + j * step`` with ``j`` an integer draw below the number of grid
    points (``step`` defaults to 1 and must divide ``high - low``).

    >>> randint(1, 6)
    randint(1, 6)
    """

    manifest_type: ClassVar[str] = "RandInt"

    low: int = attrs.field(converter=_integer)
    high: int = attrs.field(converter=_integer)
    step: int | None = attrs.field(default=None, converter=_optional_integer)
    _step: int = attrs.field(init=False, eq=False)
    _count: int = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the bounds and the step."""
        lo, hi = _check_int_bounds("randint", self.low, self.high)
        step, count = _int_grid("randint", lo, hi, self.step)
        if self.step is not None:
            _set(self, step=step)
        _set(self, low=lo, high=hi, _step=step, _count=count)

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        k = code.below(stream, self._count)
        if self._step != 1:
            k = f"{k} * {code.const('step', self._step)}"
        code.line(f"{code.value} = {code.const('low', self.low)} + {k}")
        return True

    @property
    def dtype(self) -> np.dtype[np.int64]:
        """Draws are ``int64``."""
        return _INT64

    def fill(self, stream: Stream, ig: U64, out: npt.NDArray[np.int64], work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        offset = stream.below_into(ig, self._count, work)
        if self._step != 1:
            np.multiply(offset, np.uint64(self._step), out=offset)
        # Two's-complement wrap-around makes low + offset exact for any int64 range.
        np.add(offset, np.uint64(self.low & MASK64), out=out.view(np.uint64))

    def contains(self, value: object) -> bool:
        """Whether ``value`` is an int in ``[low, high]`` (both ends) on the ``step`` grid.

        Floats and bools are not contained, even ``3.0``: draws are ints.

        >>> randint(1, 6).contains(6), randint(1, 6).contains(7), randint(1, 6).contains(3.0)
        (True, False, False)
        >>> randint(0, 100, step=25).contains(75), randint(0, 100, step=25).contains(70)
        (True, False)
        """
        k = _int_member(value)
        return k is not None and self.low <= k <= self.high and (k - self.low) % self._step == 0

    def sample_legacy(self, rng: _stdlib_random.Random) -> int:
        """``rng.randint(low, high)``."""
        if self.step is not None:
            raise self._no_legacy()
        return rng.randint(self.low, self.high)

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"randint({self.low!r}, {self.high!r}{_step_repr(self.step)})"


@final
@attrs.frozen(repr=False)
class LogUniformInt(_Base):
    """Integers in ``[low, high]``, log-uniform: ``P(k)`` proportional to ``log((k+1)/k)``.

    A draw takes ``x = exp(log(low) + k * s)``, log-uniform over ``[low, high + step)``
    (``s = (log(high + step) - log(low)) * 2**-53``), and rounds it down to the grid:
    ``low + min(floor((max(x, low) - low) / step), K - 1) * step``. Every grid point is
    reachable, both bounds included; ``step`` defaults to 1 and must divide
    ``high - low``.

    >>> loguniform_int(1, 1024).high
    1024
    """

    manifest_type: ClassVar[str] = "LogUniformInt"

    low: int = attrs.field(converter=_integer)
    high: int = attrs.field(converter=_integer)
    step: int | None = attrs.field(default=None, converter=_optional_integer)
    _step: int = attrs.field(init=False, eq=False)
    _lo: float = attrs.field(init=False, eq=False)
    _log_lo: float = attrs.field(init=False, eq=False)
    _scale: float = attrs.field(init=False, eq=False)
    _jmax: float = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the bounds and the step; precompute the kernel's constants."""
        lo, hi = _check_int_bounds("loguniform_int", self.low, self.high)
        if lo <= 0:
            msg = f"loguniform_int(low={lo!r}, high={hi!r}): bounds must be positive"
            raise ParamError(msg)
        step, count = _int_grid("loguniform_int", lo, hi, self.step)
        if self.step is not None:
            _set(self, step=step)
        jmax = float(count - 1)
        if int(jmax) > count - 1:
            jmax = math.nextafter(jmax, 0.0)
        log_lo = _ln(lo)
        _set(
            self,
            low=lo,
            high=hi,
            _step=step,
            _lo=float(lo),
            _log_lo=log_lo,
            _scale=(_ln(hi + step) - log_lo) * UNIT,
            _jmax=jmax,
        )

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        del stream
        v, b = code.value, code.bits
        exp, log_lo = code.const("exp", _exp), code.const("log_lo", self._log_lo)
        lo, floor = code.const("lo", self._lo), code.const("floor", math.floor)
        step_f, jmax = code.const("step_f", float(self._step)), code.const("jmax", int(self._jmax))
        code.line(
            f"{v} = float({exp}({log_lo} + ({b} >> 11) * {code.const('scale', self._scale)}))"
        )
        # The kernel's max(x, lo) and min(j, jmax), without the calls.
        code.line(f"{v} = {floor}((({v} if {v} > {lo} else {lo}) - {lo}) / {step_f})")
        j = f"({v} if {v} < {jmax} else {jmax})"
        if self._step != 1:
            j = f"{j} * {code.const('step', self._step)}"
        code.line(f"{v} = {code.const('low', self.low)} + {j}")
        return True

    @property
    def dtype(self) -> np.dtype[np.int64]:
        """Draws are ``int64``."""
        return _INT64

    def fill(self, stream: Stream, ig: U64, out: npt.NDArray[np.int64], work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        x = stream.scaled_into(ig, 0, self._scale, work.f, work)
        x += self._log_lo
        _exp(x, out=x)
        np.maximum(x, self._lo, out=x)
        x -= self._lo
        if self._step != 1:
            x /= float(self._step)
        np.floor(x, out=x)
        np.minimum(x, self._jmax, out=x)
        np.copyto(out, x, casting="unsafe")
        if self._step != 1:
            out *= self._step
        out += self.low

    def contains(self, value: object) -> bool:
        """Whether ``value`` is an int in ``[low, high]`` (both ends) on the ``step`` grid.

        >>> loguniform_int(1, 1024).contains(1024), loguniform_int(1, 1024).contains(0)
        (True, False)
        """
        k = _int_member(value)
        return k is not None and self.low <= k <= self.high and (k - self.low) % self._step == 0

    def sample_legacy(self, rng: _stdlib_random.Random) -> int:
        """``int(round(exp(rng.uniform(log(low), log(high)))))``."""
        if self.step is not None:
            raise self._no_legacy()
        return round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        return f"loguniform_int({self.low!r}, {self.high!r}{_step_repr(self.step)})"


# -- categorical ------------------------------------------------------------------------
Options: TypeAlias = "tuple[ParamValue, ...] | range"
"""The options of a `choice`: a tuple of values, or a ``range`` of ints kept lazy."""

MAX_OPTIONS: Final = 2**64
"""The most options a choice may have: an option is picked by a 64-bit integer draw."""


def _range_len(r: range) -> int:
    # len() overflows beyond sys.maxsize; a range's length is exact arithmetic.
    if r.step > 0:
        return max(0, (r.stop - r.start + r.step - 1) // r.step)
    return max(0, (r.start - r.stop - r.step - 1) // -r.step)


def _to_options(value: Sequence[ParamInput] | range | npt.NDArray[Any]) -> Options:
    raw: object = value  # checked at run time for untyped callers
    if isinstance(raw, range):
        # Kept as it is, like a grid axis: a range holds exact ints only, and its
        # options are computed on demand (choice(range(10**7)) stores three ints).
        if not _range_len(raw):
            msg = f"choice(options): options must be non-empty, got an empty {show(raw)}"
            raise ParamError(msg)
        if _range_len(raw) > MAX_OPTIONS:
            msg = f"choice(options): at most 2**64 options can be drawn from, got {show(raw)}"
            raise ParamError(msg)
        return raw
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        msg = f"choice(options): options must be a non-empty list, got {describe(value)}"
        raise ParamError(msg)
    if isinstance(raw, np.ndarray) and raw.ndim != 1:
        msg = f"choice(options): options must be a 1-d sequence, got an array of shape {raw.shape}"
        raise ParamError(msg)
    options = tuple(normalize_value(v, "choice(options)") for v in raw)
    if not options:
        msg = "choice(options): options must be a non-empty list, got an empty one"
        raise ParamError(msg)
    if len(options) > MAX_OPTIONS:  # pragma: no cover - no list is this long
        msg = "choice(options): at most 2**64 options can be drawn from"
        raise ParamError(msg)
    return options


def _to_weights(
    value: Sequence[Real] | npt.NDArray[Any] | None,
) -> tuple[int | float, ...] | None:
    raw: object = value  # checked at run time for untyped callers
    if raw is None:
        return None
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        msg = (
            f"choice(options, weights=...): weights must be a list of numbers, got {describe(raw)}"
        )
        raise ParamError(msg)
    weights = tuple(
        check_finite_number(w, f"choice(options, weights=...): weight {j}")
        for j, w in enumerate(raw)
    )
    for j, w in enumerate(weights):
        if w < 0:
            msg = f"choice(options, weights=...): weight {j} must be >= 0, got {show(w)}"
            raise ParamError(msg)
    return weights


def _cumulative(weights: tuple[int | float, ...]) -> tuple[float, ...]:
    """Each prefix sum over the total, exactly, then rounded once; the last is 1.0."""
    from fractions import Fraction  # only building a distribution needs it

    exact = list(accumulate(Fraction(w) for w in weights))
    total = exact[-1]
    return tuple(float(prefix / total) for prefix in exact)


def _range_dtype(options: range) -> np.dtype[Any]:
    """``int64`` when every option fits, as for the same ints listed; else ``object``."""
    last = options[-1]
    inside = min(options.start, last) >= INT64_MIN and max(options.start, last) <= INT64_MAX
    return _INT64 if inside else np.dtype(object)


@final
@attrs.frozen(repr=False)
class Choice(_Base):
    """One of a list of options: each equally likely, or in proportion to ``weights``.

    Without weights, a draw is ``options[j]`` with ``j`` an integer draw below
    ``len(options)``. With weights (non-negative, not all zero, kept as given), the
    option is the first whose cumulative share ``c_j`` (each prefix sum over the total,
    computed exactly and rounded once) exceeds the unit float ``k * 2**-53``.

    The options may be a ``range``, kept lazy: ``choice(range(n))`` draws exactly what
    ``choice(list(range(n)))`` draws, without listing the ints (the two are different
    definitions, as their manifests are, so they do not compare equal).

    >>> choice(["adam", "sgd"]).options
    ('adam', 'sgd')
    >>> choice(range(10**9)).options
    range(0, 1000000000)
    """

    manifest_type: ClassVar[str] = "Choice"

    options: tuple[ParamValue, ...] | range = attrs.field(converter=_to_options, eq=_value_key)
    weights: tuple[int | float, ...] | None = attrs.field(
        default=None, converter=_to_weights, eq=_value_key
    )
    _count: int = attrs.field(init=False, eq=False)
    # The options as a NumPy array (None for a range, whose draws are computed).
    _typed: npt.NDArray[Any] | None = attrs.field(init=False, eq=False)
    _dtype: np.dtype[Any] = attrs.field(init=False, eq=False)
    _cum: tuple[float, ...] = attrs.field(init=False, eq=False)
    _cum_array: F64 = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the weights; prepare the options and the cumulative table."""
        options = self.options
        count = _range_len(options) if isinstance(options, range) else len(options)
        cum: tuple[float, ...] = ()
        if self.weights is not None:
            m = len(self.weights)
            if m != count:
                msg = (
                    f"choice(options, weights=...): weights must have one entry per option, "
                    f"got {m} weights for {count} options"
                )
                raise ParamError(msg)
            if not any(self.weights):
                msg = "choice(options, weights=...): weights must not all be zero"
                raise ParamError(msg)
            cum = _cumulative(self.weights)
        if isinstance(options, range):
            typed, dtype = None, _range_dtype(options)
        else:
            typed = column_array(options)
            dtype = typed.dtype
        _set(
            self,
            _count=count,
            _typed=typed,
            _dtype=dtype,
            _cum=cum,
            _cum_array=np.array(cum, dtype=np.float64),
        )

    def _scalar_source(self, stream: Stream, code: ScalarCode) -> bool:
        # A range is indexed exactly like the tuple of its ints, at any size.
        options = code.const("options", self.options)
        if self.weights is None:
            code.line(f"{code.value} = {options}[{code.below(stream, self._count)}]")
            return True
        find, cum = code.const("find", bisect.bisect_right), code.const("cum", self._cum)
        unit = f"({code.bits} >> 11) * {code.const('unit', UNIT)}"
        code.line(f"{code.value} = {options}[{find}({cum}, {unit})]")
        return True

    @property
    def dtype(self) -> np.dtype[Any]:
        """The options' column dtype: str, int64, float64, bool, or object if mixed."""
        return self._dtype

    def fill(self, stream: Stream, ig: U64, out: npt.NDArray[Any], work: Work) -> None:
        """The array path: write the draws of a batch of trials into ``out``."""
        picks: npt.NDArray[np.integer[Any]]
        if self.weights is None:
            picks = stream.below_into(ig, self._count, work).view(np.int64)
        else:
            unit = stream.scaled_into(ig, 0, UNIT, work.f, work)
            picks = np.searchsorted(self._cum_array, unit, side="right")
        if self._typed is not None:
            np.take(self._typed, picks, out=out, mode="wrap")
            return
        options = self.options
        assert isinstance(options, range)
        if self._dtype == _INT64:
            # start + j * step in two's-complement uint64 arithmetic: exact, since every
            # option lies within int64, even where j * step alone would not.
            wide = out.view(np.uint64)
            np.multiply(picks.view(np.uint64), np.uint64(options.step & MASK64), out=wide)
            wide += np.uint64(options.start & MASK64)
        else:
            out[:] = [options[j] for j in picks.view(np.uint64).tolist()]

    def contains(self, value: object) -> bool:
        """Whether ``value`` is an option that can be drawn, by metalab's equality of values.

        Values compare as cases do (``1``, ``1.0`` and ``True`` differ; lists are
        tuples); an option of weight zero is never drawn, so it is not contained, and a
        value that cannot be a parameter value is not either.

        >>> choice(["adam", "sgd"]).contains("sgd"), choice([1, 2]).contains(1.0)
        (True, False)
        >>> choice(["a", "b"], weights=[1, 0]).contains("b")
        False
        >>> choice(range(0, 10**12, 2)).contains(10**12 - 2)
        True
        """
        try:
            x = normalize_value(value, "choice.contains(value)")
        except ParamError:
            return False
        options, weights = self.options, self.weights
        if isinstance(options, range):
            if type(x) is not int or x not in options:
                return False
            return weights is None or weights[(x - options.start) // options.step] > 0
        key = encode_value(x)
        return any(
            encode_value(option) == key and (weights is None or weights[j] > 0)
            for j, option in enumerate(options)
        )

    def sample_legacy(self, rng: _stdlib_random.Random) -> ParamValue:
        """``rng.choice(options)``."""
        if self.weights is not None:
            raise self._no_legacy()
        return rng.choice(self.options)

    def __repr__(self) -> str:
        """The factory call that builds this distribution."""
        weights = "" if self.weights is None else f", weights={show(list(self.weights))}"
        options = self.options
        shown = show(options) if isinstance(options, range) else show(list(options))
        return f"choice({shown}{weights})"


# -- factories ----------------------------------------------------------------------------
def uniform(low: Real, high: Real, *, step: Real | None = None) -> Uniform:
    """Floats uniform over ``[low, high)`` (never ``high``), optionally on a ``step`` grid.

    >>> uniform(0, 1)
    uniform(0, 1)
    >>> uniform(0.0, 1.0, step=0.25)
    uniform(0.0, 1.0, step=0.25)
    """
    return Uniform(low, high, step)


def loguniform(low: Real, high: Real, *, step: Real | None = None) -> LogUniform:
    """Floats log-uniform over ``[low, high)``; both bounds positive; optional ``step`` grid.

    >>> loguniform(1e-5, 1e-2)
    loguniform(1e-05, 0.01)
    """
    return LogUniform(low, high, step)


def loguniform_int(low: Integer, high: Integer, *, step: Integer | None = None) -> LogUniformInt:
    """Integers in ``[low, high]``, log-uniform; both bounds positive ints.

    >>> loguniform_int(16, 512)
    loguniform_int(16, 512)
    """
    return LogUniformInt(low, high, step)


def randint(low: Integer, high: Integer, *, step: Integer | None = None) -> RandInt:
    """Integers uniform over ``[low, high]``, both ends included, optionally every ``step``.

    >>> randint(0, 9)
    randint(0, 9)
    >>> randint(0, 100, step=25)
    randint(0, 100, step=25)
    """
    return RandInt(low, high, step)


def choice(
    options: Sequence[ParamInput] | range | npt.NDArray[Any],
    *,
    weights: Sequence[Real] | npt.NDArray[Any] | None = None,
) -> Choice:
    """One of ``options``: uniformly, or in proportion to non-negative ``weights``.

    A ``range`` of options is kept lazy, as a grid axis is.

    >>> choice(["relu", "gelu"])
    choice(['relu', 'gelu'])
    >>> choice(["small", "large"], weights=[3, 1]).weights
    (3, 1)
    """
    return Choice(options, weights)


def normal(mu: Real, sigma: Real, *, step: Real | None = None) -> Normal:
    """Gaussian floats with mean ``mu`` and standard deviation ``sigma > 0``.

    With ``step``, each draw is rounded to the nearest multiple of ``step``.

    >>> normal(0, 0.1)
    normal(0, 0.1)
    >>> normal(0, 1, step=0.5)
    normal(0, 1, step=0.5)
    """
    return Normal(mu, sigma, step)


def lognormal(mu: Real, sigma: Real, *, step: Real | None = None) -> LogNormal:
    """Positive floats ``exp(n)``, ``n`` normal with mean ``mu`` and deviation ``sigma > 0``.

    With ``step``, each draw is rounded to the nearest multiple of ``step`` (so ``0.0``
    can be drawn).

    >>> lognormal(-2.0, 1.0)
    lognormal(-2.0, 1.0)
    """
    return LogNormal(mu, sigma, step)


DISTRIBUTIONS: Final = (Uniform, LogUniform, LogUniformInt, RandInt, Choice, Normal, LogNormal)
"""Every built-in distribution class; the manifest converter registers each of these."""
