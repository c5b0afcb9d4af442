"""Distributions for random sources: frozen values that turn random bits into draws.

Every distribution has a scalar path (one trial, Python floats and ints) and an array
path (many trials, NumPy); both use the same IEEE operations in the same order, so
``source[i]``, ``source.take([...])``, ``source.columns()`` and iteration agree bit for
bit. Bounds: continuous laws draw from ``[low, high)`` and never return ``high``;
integer laws include both ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol, final, runtime_checkable

import attrs
import numpy as np

from metalab._values import (
    INT64_MAX,
    INT64_MIN,
    ParamInput,
    ParamValue,
    check_finite_number,
    check_int,
    column_array,
    describe,
    normalize_value,
)
from metalab.errors import ParamError

if TYPE_CHECKING:
    import random as _stdlib_random

    import numpy.typing as npt

    from metalab.params._rng import U64, Stream

__all__ = [
    "Choice",
    "Distribution",
    "LogUniform",
    "LogUniformInt",
    "RandInt",
    "Uniform",
    "choice",
    "loguniform",
    "loguniform_int",
    "randint",
    "uniform",
]


@runtime_checkable
class Distribution(Protocol):
    """What a random source needs of a distribution.

    A distribution is a frozen value. It draws the value of trial ``index`` from the
    random bits of a `Stream` (the sub-streams ``0, 1, ...`` are its own), one trial at
    a time or many at once, and both paths must give identical values.
    """

    manifest_type: ClassVar[str]
    """The stable ``"type"`` tag of this distribution in manifests."""

    def sample(self, stream: Stream, index: int) -> ParamValue:
        """The draw for one trial, as a Python scalar."""
        ...

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[Any]:
        """The draws for many trials, as a NumPy array (same values as `sample`)."""
        ...

    def sample_legacy(self, rng: _stdlib_random.Random) -> ParamValue:
        """The draw of metalab's earlier format, from that trial's ``random.Random``."""
        ...

    def to_manifest_dict(self) -> dict[str, Any]:
        """The manifest form, ``{"type": ..., ...}``."""
        ...


def _as_float_array(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    return values.astype(np.float64, copy=False)


class _Base:
    """Shared manifest method of the built-in distributions."""

    __slots__ = ()

    def to_manifest_dict(self) -> dict[str, Any]:
        """The manifest form of this distribution, through metalab's one converter."""
        from metalab.manifest import converter

        out: dict[str, Any] = converter.unstructure(self, Distribution)
        return out


def _check_bounds(name: str, low: object, high: object) -> tuple[int | float, int | float]:
    lo = check_finite_number(low, f"{name}(low=..., high=...): low")
    hi = check_finite_number(high, f"{name}(low=..., high=...): high")
    if not lo < hi:
        msg = f"{name}(low={lo!r}, high={hi!r}): low must be less than high"
        raise ParamError(msg)
    return lo, hi


def _set_bounds(dist: object, low: float, high: float) -> None:
    # Store NumPy scalars as the Python scalars they stand for.
    object.__setattr__(dist, "low", low)
    object.__setattr__(dist, "high", high)


def _below_high(value: float, high: float) -> float:
    # low + (high - low) * u can round up to high; the convention is [low, high).
    return value if value < high else math.nextafter(high, -math.inf)


def _below_high_array(values: npt.NDArray[np.float64], high: float) -> npt.NDArray[np.float64]:
    top = math.nextafter(high, -math.inf)
    np.minimum(values, top, out=values)
    return values


@final
@attrs.frozen
class Uniform(_Base):
    """Floats uniform over ``[low, high)``.

    >>> uniform(0.0, 1.0)
    Uniform(low=0.0, high=1.0)
    """

    manifest_type: ClassVar[str] = "Uniform"

    low: int | float
    high: int | float

    def __attrs_post_init__(self) -> None:
        """Check the bounds."""
        _set_bounds(self, *_check_bounds("uniform", self.low, self.high))

    def sample(self, stream: Stream, index: int) -> float:
        """The draw for one trial."""
        low = float(self.low)
        return _below_high(low + (float(self.high) - low) * stream.unit(index), float(self.high))

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[np.float64]:
        """The draws for many trials."""
        low = float(self.low)
        u = stream.unit_array(index)
        u *= float(self.high) - low
        u += low
        return _below_high_array(u, float(self.high))

    def sample_legacy(self, rng: _stdlib_random.Random) -> float:
        """``rng.uniform(low, high)``."""
        return rng.uniform(self.low, self.high)


@final
@attrs.frozen
class LogUniform(_Base):
    """Floats whose logarithm is uniform: ``exp(U[log low, log high))``, in ``[low, high)``.

    >>> loguniform(1e-4, 1e-1).low
    0.0001
    """

    manifest_type: ClassVar[str] = "LogUniform"

    low: int | float
    high: int | float

    def __attrs_post_init__(self) -> None:
        """Check the bounds."""
        lo, hi = _check_bounds("loguniform", self.low, self.high)
        _set_bounds(self, lo, hi)
        if lo <= 0:
            msg = f"loguniform(low={lo!r}, high={self.high!r}): bounds must be positive"
            raise ParamError(msg)

    def sample(self, stream: Stream, index: int) -> float:
        """The draw for one trial."""
        u = np.float64(stream.unit(index))
        return float(self._from_unit(u))

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[np.float64]:
        """The draws for many trials."""
        out = self._from_unit(stream.unit_array(index))
        return _below_high_array(np.clip(out, float(self.low), None, out=out), float(self.high))

    def _from_unit(self, u: Any) -> Any:
        # NumPy's exp and log on both paths, so that they agree bit for bit on a machine.
        lo = np.log(np.float64(self.low))
        hi = np.log(np.float64(self.high))
        value = np.exp(lo + (hi - lo) * u)
        if np.ndim(value) == 0:
            value = min(max(float(value), float(self.low)), float(self.high))
            return _below_high(value, float(self.high))
        return value

    def sample_legacy(self, rng: _stdlib_random.Random) -> float:
        """``exp(rng.uniform(log(low), log(high)))``."""
        return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))


def _check_int_bounds(name: str, low: object, high: object) -> tuple[int, int]:
    lo = check_int(low, f"{name}(low=..., high=...): low")
    hi = check_int(high, f"{name}(low=..., high=...): high")
    if lo > hi:
        msg = f"{name}(low={lo!r}, high={hi!r}): the integer range is empty (low > high)"
        raise ParamError(msg)
    if lo < INT64_MIN or hi > INT64_MAX:
        msg = f"{name}(low={lo!r}, high={hi!r}): bounds must lie within the int64 range"
        raise ParamError(msg)
    return lo, hi


@final
@attrs.frozen
class RandInt(_Base):
    """Integers uniform over ``[low, high]``, both ends included.

    >>> randint(1, 6)
    RandInt(low=1, high=6)
    """

    manifest_type: ClassVar[str] = "RandInt"

    low: int
    high: int

    def __attrs_post_init__(self) -> None:
        """Check the bounds."""
        _set_bounds(self, *_check_int_bounds("randint", self.low, self.high))

    def sample(self, stream: Stream, index: int) -> int:
        """The draw for one trial."""
        return self.low + stream.below(index, self.high - self.low + 1)

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[np.int64]:
        """The draws for many trials."""
        offset = stream.below_array(index, self.high - self.low + 1)
        # Two's-complement wrap-around makes low + offset exact for any int64 range.
        offset += np.uint64(self.low & ((1 << 64) - 1))
        return offset.view(np.int64)

    def sample_legacy(self, rng: _stdlib_random.Random) -> int:
        """``rng.randint(low, high)``."""
        return rng.randint(self.low, self.high)


@final
@attrs.frozen
class LogUniformInt(_Base):
    """Integers in ``[low, high]``, log-uniform: ``P(k)`` is proportional to ``log((k+1)/k)``.

    A draw is ``floor(exp(U[log low, log(high + 1))))``, so every integer of the range
    is reachable and each decade gets the same mass.

    >>> loguniform_int(1, 1024).high
    1024
    """

    manifest_type: ClassVar[str] = "LogUniformInt"

    low: int
    high: int

    def __attrs_post_init__(self) -> None:
        """Check the bounds."""
        lo, hi = _check_int_bounds("loguniform_int", self.low, self.high)
        _set_bounds(self, lo, hi)
        if lo <= 0:
            msg = f"loguniform_int(low={lo!r}, high={hi!r}): bounds must be positive"
            raise ParamError(msg)

    def _from_unit(self, u: Any) -> Any:
        lo = np.log(np.float64(self.low))
        hi = np.log(np.float64(self.high) + 1.0)
        return np.clip(np.floor(np.exp(lo + (hi - lo) * u)), self.low, self.high)

    def sample(self, stream: Stream, index: int) -> int:
        """The draw for one trial."""
        return int(self._from_unit(np.float64(stream.unit(index))))

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[np.int64]:
        """The draws for many trials."""
        out: npt.NDArray[np.int64] = self._from_unit(stream.unit_array(index)).astype(np.int64)
        return out

    def sample_legacy(self, rng: _stdlib_random.Random) -> int:
        """``int(round(exp(rng.uniform(log(low), log(high)))))``."""
        return round(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


def _to_options(value: Sequence[ParamInput] | npt.NDArray[Any]) -> tuple[ParamValue, ...]:
    raw: object = value  # checked at run time for untyped callers
    if isinstance(raw, str | bytes) or not isinstance(raw, Sequence | np.ndarray):
        msg = f"choice(options): options must be a non-empty list, got {describe(value)}"
        raise ParamError(msg)
    options = tuple(normalize_value(v, "choice(options)") for v in raw)
    if not options:
        msg = "choice(options): options must be a non-empty list, got an empty one"
        raise ParamError(msg)
    return options


@final
@attrs.frozen
class Choice(_Base):
    """One of a list of options, each equally likely.

    >>> choice(["adam", "sgd"]).options
    ('adam', 'sgd')
    """

    manifest_type: ClassVar[str] = "Choice"

    options: tuple[ParamValue, ...] = attrs.field(converter=_to_options)
    _array: npt.NDArray[Any] = attrs.field(
        init=False, eq=False, hash=False, repr=False, default=attrs.Factory(lambda: None)
    )

    def __attrs_post_init__(self) -> None:
        """Prepare the options as an array for the vectorized path."""
        object.__setattr__(self, "_array", column_array(self.options))

    def sample(self, stream: Stream, index: int) -> ParamValue:
        """The draw for one trial."""
        return self.options[stream.below(index, len(self.options))]

    def sample_array(self, stream: Stream, index: U64) -> npt.NDArray[Any]:
        """The draws for many trials."""
        picks = stream.below_array(index, len(self.options)).astype(np.intp)
        out: npt.NDArray[Any] = self._array[picks]
        return out

    def sample_legacy(self, rng: _stdlib_random.Random) -> ParamValue:
        """``rng.choice(options)``."""
        return rng.choice(self.options)


def uniform(low: float, high: float) -> Uniform:
    """Floats uniform over ``[low, high)``.

    >>> uniform(0, 1)
    Uniform(low=0, high=1)
    """
    return Uniform(low, high)


def loguniform(low: float, high: float) -> LogUniform:
    """Floats log-uniform over ``[low, high)``; both bounds positive.

    >>> loguniform(1e-5, 1e-2)
    LogUniform(low=1e-05, high=0.01)
    """
    return LogUniform(low, high)


def loguniform_int(low: int, high: int) -> LogUniformInt:
    """Integers in ``[low, high]``, log-uniform; both bounds positive ints.

    >>> loguniform_int(16, 512)
    LogUniformInt(low=16, high=512)
    """
    return LogUniformInt(low, high)


def randint(low: int, high: int) -> RandInt:
    """Integers uniform over ``[low, high]``, both ends included.

    >>> randint(0, 9)
    RandInt(low=0, high=9)
    """
    return RandInt(low, high)


def choice(options: Sequence[ParamInput] | npt.NDArray[Any]) -> Choice:
    """One of ``options``, uniformly.

    >>> choice(["relu", "gelu"])
    Choice(options=('relu', 'gelu'))
    """
    return Choice(options)


DISTRIBUTIONS: Final = (Uniform, LogUniform, LogUniformInt, RandInt, Choice)
"""Every built-in distribution class; the manifest converter registers each of these."""
