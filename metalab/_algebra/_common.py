"""Shared pieces of the composite sources: batch index checks, columns, repr and seeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from metalab._core.case import encode_value
from metalab._core.values import INT64_MAX, ParamValue, column_array, describe, normalize_value

# The index and seed checks live with the base, which every source shares; the
# composites import them from here with the rest of their shared pieces.
from metalab._sources.base import Indices, ParamSource, check_seed, checked_array, checked_list
from metalab.errors import ParamError

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
    "increasing_matches",
    "matcher",
]

_VECTOR_KINDS: Final = frozenset("biuU")
"""Column dtype kinds that concatenate without changing meaning (object columns do not)."""


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


def matcher(source: ParamSource, params: Mapping[str, ParamValue]) -> Callable[[int], bool]:
    """A test of whether case ``i`` of ``source`` has exactly ``params`` (as `index_of` means)."""
    target = encode_value(normalize_value(dict(params), "index_of"))
    raw = source.raw

    def matches(i: int) -> bool:
        return encode_value(raw(i)[0]) == target

    return matches


def increasing_matches(
    candidates: Iterator[int | None],
    matches: Callable[[int], bool],
    size: int,
    *,
    ordered: bool = False,
) -> Iterator[int]:
    """The indices of a view's matches in increasing order, learnt from its source's.

    A shuffle or a slice learns its matches from its source's, as ``candidates``: the
    view index of each source match in the source's order, or ``None`` for a source
    match outside the view. Sorting them all first made ``index_of`` on a shuffle of a
    million duplicates collect a million indices, and skipping the matches before a
    slice's start could take as long. Instead, each candidate pulled pays for one step
    of a scan of the view's own positions ``0, 1, 2, ...`` with ``matches``; the scan
    yields every match below its position, in order. When the candidates run out, the
    rest are those past the scan. So the first index costs at most about twice the
    smaller of the number of source matches and the index itself: duplicates are
    either few (a short enumeration) or many (an early hit of the scan).

    With ``ordered``, the candidates come in increasing order and each is yielded as
    it arrives (the scan then only shortens runs of ``None``).
    """
    seen: list[int] = []
    position = 0
    for candidate in candidates:
        if candidate is not None:
            if not ordered:
                seen.append(candidate)
            elif candidate >= position:  # else the scan has yielded it already
                yield candidate
                position = candidate + 1
                continue
        if position < size:
            if matches(position):
                yield position
            position += 1
    seen.sort()
    yield from (i for i in seen if i >= position)


def parts_listed_values(
    source: ParamSource, parts: Iterable[ParamSource]
) -> Iterator[tuple[str, object, str]]:
    """The listed values of every part, for a composite whose cases reach every part.

    A concatenation visits each part, and every row of a product holds a case of each;
    a non-empty such composite therefore holds every value its parts certainly hold.
    """
    if source.size > 0:
        for part in parts:
            yield from part.listed_values()
