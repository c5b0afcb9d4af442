"""Hand-picked cases: `ManualSource`, an explicit list of parameter dicts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import ClassVar, final

import attrs

from metalab._core.case import ParamCase, encode_value, make_case
from metalab._core.values import (
    FrozenParams,
    ParamInput,
    ParamValue,
    as_tuple_of_str,
    check_key_paths,
    describe,
    normalize_mapping,
    normalize_value,
    show,
)
from metalab._sources.base import Description, KeyScan, KeySets, ParamSource, Raw
from metalab.errors import ParamError

__all__ = ["ManualSource", "manual"]


def _to_cases(cases: object) -> tuple[FrozenParams, ...]:
    if isinstance(cases, Mapping):
        msg = "manual cases must be a list of dicts, got a single dict; wrap it in a list"
        raise ParamError(msg)
    if isinstance(cases, str | bytes) or not isinstance(cases, Sequence):
        msg = f"manual cases must be a list of dicts, got {describe(cases)}"
        raise ParamError(msg)
    if type(cases) is tuple and set(map(type, cases)) == {FrozenParams}:
        return cases  # normalized already (read from a manifest, say)
    out = []
    for i, case in enumerate(cases):
        if type(case) is FrozenParams:  # normalized already (read from a manifest, say)
            out.append(case)
            continue
        if not isinstance(case, Mapping):
            msg = f"manual case {i} must be a mapping of parameter values, got {describe(case)}"
            raise ParamError(msg)
        out.append(normalize_mapping(case, f"manual case {i}"))
    return tuple(out)


def _cases_key(cases: tuple[FrozenParams, ...]) -> tuple[bytes, ...]:
    # Equality and hashing must tell 1, 1.0 and True apart: compare encodings.
    return tuple(encode_value(c) for c in cases)


@final
@attrs.frozen(init=False, repr=False)
class ManualSource(ParamSource):
    """An explicit list of cases; every case carries ``tags`` plus ``manual_{i}``.

    >>> src = ManualSource([{"lr": 0.1}, {"lr": 0.3, "warmup": 10}], tags=["baseline"])
    >>> src[1].params, src[1].tags
    ({'lr': 0.3, 'warmup': 10}, ('baseline', 'manual_1'))
    """

    manifest_type: ClassVar[str] = "ManualSource"

    cases: tuple[Mapping[str, ParamValue], ...] = attrs.field(eq=_cases_key)
    """The cases, as read-only mappings with sorted keys."""
    tags: tuple[str, ...]
    """Tags applied to every case (before its own ``manual_{i}``)."""

    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)
    # Built on the first `index_of`: encoding every case up front was most of the time
    # of defining (or loading) a big manual source, for a lookup few sweeps make.
    _lookup: dict[bytes, list[int]] | None = attrs.field(init=False, eq=False, repr=False)

    def __init__(
        self, cases: Sequence[Mapping[str, ParamInput]], tags: Iterable[str] | None = None
    ) -> None:
        """Validate and freeze the cases and tags; collect the keys of all cases."""
        frozen = _to_cases(cases)
        keys = set(chain.from_iterable(frozen))
        # Across cases too: a sweep where "model" is a value in one case and a branch
        # ("model.lr") in another has no one nested shape.
        check_key_paths(keys, "manual cases")
        self.__attrs_init__(frozen, as_tuple_of_str(tags, "manual tags"))
        object.__setattr__(self, "_keys", tuple(sorted(keys)))
        object.__setattr__(self, "_lookup", None)

    @property
    def size(self) -> int:
        """The number of cases."""
        return len(self.cases)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every parameter name used by any case, sorted."""
        return self._keys

    def describe(self) -> Description:
        """A ``manual`` node: its tags, and the distinct values of each key."""
        tags = (f"tags {list(self.tags)}",) if self.tags else ()
        return Description("manual", tags, tuple((k, ":", self._distinct(k)) for k in self.keys))

    def _distinct(self, key: str) -> list[object]:
        seen: dict[bytes, object] = {}
        for case in self.cases:
            if key in case:
                seen.setdefault(encode_value(case[key]), case[key])
        return list(seen.values())

    def listed_values(self) -> Iterator[tuple[str, object, str]]:
        """Every value of every case."""
        for i, case in enumerate(self.cases):
            for key, value in case.items():
                yield key, value, f"manual case {i}"

    def key_sets(self, indices: range, scan: KeyScan) -> KeySets:
        """The key set of each case at ``indices``: manual cases may differ in keys."""
        return scan.limited({frozenset(self.cases[i]) for i in indices})

    def raw(self, i: int) -> Raw:
        """Params (a fresh dict) and tags of case ``i``, ``0 <= i < size``."""
        return dict(self.cases[i]), (*self.tags, f"manual_{i}")

    def _case(self, i: int) -> ParamCase:
        return make_case(self.cases[i], (*self.tags, f"manual_{i}"))  # type: ignore[arg-type]

    def _indices_of(self, params: Mapping[str, ParamValue]) -> Iterator[int]:
        target = normalize_value(dict(params), "index_of")
        lookup = self._lookup
        if lookup is None:  # two threads may both build it: the same dict either way
            lookup = {}
            for i, case in enumerate(self.cases):
                lookup.setdefault(encode_value(case), []).append(i)
            object.__setattr__(self, "_lookup", lookup)
        return iter(lookup.get(encode_value(target), ()))

    def __repr__(self) -> str:
        """The factory call that builds this source."""
        cases = [dict(c) for c in self.cases]
        if self.tags:
            return f"manual({show(cases)}, tags={list(self.tags)!r})"
        return f"manual({show(cases)})"


def manual(
    cases: Sequence[Mapping[str, ParamInput]], tags: Iterable[str] | None = None
) -> ManualSource:
    """An explicit list of cases, each a dict of parameter values.

    >>> [c.tags for c in manual([{"lr": 0.1}, {"lr": 0.5}], tags=["extra"])]
    [('extra', 'manual_0'), ('extra', 'manual_1')]
    """
    return ManualSource(cases, tags)
