"""Shared pieces of the composite sources: batch index checks, columns, repr and seeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from metalab._values import INT64_MAX, check_int, column_array, describe
from metalab.errors import ParamError
from metalab.params._base import ParamSource, check_index

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "INT64_MAX",
    "Indices",
    "check_seed",
    "checked_array",
    "checked_list",
    "combine_columns",
    "empty_columns",
]

Indices = Iterable[int] | np.ndarray[Any, np.dtype[np.integer[Any]]]
"""What ``take`` and ``columns`` accept: an iterable of ints or an integer NumPy array."""

_VECTOR_KINDS: Final = frozenset("biuU")
"""Column dtype kinds that concatenate without changing meaning (object columns do not)."""


def check_seed(seed: object, where: str) -> int:
    """A seed: an int (not a bool) in ``[0, 2**64)``, or `ParamError`."""
    value = check_int(seed, where)
    if not 0 <= value < 2**64:
        msg = f"{where} must be an int in [0, 2**64), got {value}"
        raise ParamError(msg)
    return value


def checked_list(indices: Indices, size: int) -> list[int]:
    """The indices as Python ints in ``[0, size)``, each checked like ``source[i]``."""
    if isinstance(indices, np.ndarray):
        if indices.dtype.kind not in "iu":
            msg = f"indices must be integers, got an array of dtype {indices.dtype}"
            raise TypeError(msg)
        values: list[Any] = indices.tolist()
    else:
        raw: object = indices  # checked at run time for untyped callers
        if not isinstance(raw, Iterable) or isinstance(raw, str | bytes | Mapping):
            msg = f"indices must be an iterable of ints, got {describe(indices)}"
            raise TypeError(msg)
        values = list(indices)
    return [check_index(i, size) for i in values]


def checked_array(indices: Indices, size: int) -> npt.NDArray[np.int64]:
    """The checked indices as an ``int64`` array; the source must have ``size <= INT64_MAX``.

    Integer arrays are checked in one vectorized pass; anything else, or an array with
    an index out of range, goes through `checked_list` (which raises the precise error).
    """
    if isinstance(indices, np.ndarray) and indices.dtype.kind in "iu" and indices.ndim == 1:
        if indices.dtype.kind == "u" and indices.size and int(indices.max()) > INT64_MAX:
            return np.array(checked_list(indices, size), dtype=np.int64)
        out = indices.astype(np.int64)
        out[out < 0] += size
        if out.size == 0 or (int(out.min()) >= 0 and int(out.max()) < size):
            return out
    return np.array(checked_list(indices, size), dtype=np.int64)


def empty_columns(keys: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    """The columns of no cases: what ``column_array`` gives for an empty list."""
    return {key: column_array([]) for key in keys}


def combine_columns(
    keys: Sequence[str],
    count: int,
    pieces: Sequence[tuple[npt.NDArray[np.intp], Mapping[str, npt.NDArray[Any]]]],
) -> dict[str, npt.NDArray[Any]]:
    """Assemble ``count`` rows of columns from pieces ``(row positions, columns)``.

    A piece that lacks a key leaves ``None`` in its rows. The dtypes are those
    ``column_array`` gives for the combined values: pieces of the same plain dtype are
    concatenated, anything else is rebuilt from the values.
    """
    if count == 0:
        return empty_columns(keys)
    positions = np.concatenate([rows for rows, _ in pieces])
    out: dict[str, npt.NDArray[Any]] = {}
    for key in keys:
        parts = [columns.get(key) for _, columns in pieces]
        present = [part for part in parts if part is not None]
        kinds = {part.dtype.kind for part in present}
        same = len(present) == len(parts) and len(kinds) == 1 and kinds <= _VECTOR_KINDS
        if same and (kinds == {"U"} or len({part.dtype for part in present}) == 1):
            joined = np.concatenate(present)
            column = np.empty_like(joined)
            column[positions] = joined
            out[key] = column
            continue
        values: list[Any] = [None] * count
        for (rows, _), part in zip(pieces, parts, strict=True):
            if part is not None:
                for row, value in zip(rows.tolist(), part.tolist(), strict=True):
                    values[row] = value
        out[key] = column_array(values)
    return out


def flatten_parts(parts: object, cls: type[ParamSource], noun: str) -> list[ParamSource]:
    """Validate the parts of a composite and splice in nested composites of ``cls``.

    ``noun`` names the composite in messages ("concatenation", "product").
    """
    if isinstance(parts, ParamSource) or not isinstance(parts, Iterable):
        msg = f"a {noun} takes a sequence of sources, got {describe(parts)}"
        raise ParamError(msg)
    out: list[ParamSource] = []
    for i, part in enumerate(parts):
        if not isinstance(part, ParamSource):
            msg = f"{noun} part {i} must be a source, got {describe(part)}"
            raise ParamError(msg)
        if isinstance(part, cls):
            out.extend(part.parts)  # type: ignore[attr-defined]
        else:
            out.append(part)
    if not out:
        msg = f"a {noun} needs at least one source"
        raise ParamError(msg)
    return out
