"""`ParamCase`, one configuration of a sweep, and its stable fingerprint ``case_id``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, final

import attrs

from metalab._core.hashing import blake2b
from metalab._core.intstr import int_to_str
from metalab._core.values import (
    FrozenParams,
    ParamInput,
    ParamValue,
    as_tuple_of_str,
    check_key_paths,
    nest_keys,
    normalize_mapping,
    show,
)
from metalab.errors import ParamError

__all__ = [
    "ParamCase",
    "encode_item",
    "fingerprint",
]

CASE_ID_PERSON: Final = b"metalab.case.v1"
"""Personalization of the BLAKE2b hash behind ``case_id``; changing it changes every id."""

_SHORT_INT: Final = 10**600
"""Ints below this in magnitude are formatted with ``%d`` under any int-to-str limit."""


def _encode_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"s%d:%b" % (len(raw), raw)


def encode_value(value: ParamValue) -> bytes:  # noqa: PLR0911
    """The canonical, self-delimiting, type-tagged bytes of one value.

    ``1``, ``1.0``, ``"1"`` and ``True`` all encode differently; floats are encoded
    exactly (``float.hex``), so the encoding is the same on every platform.
    """
    if type(value) is str:
        return _encode_str(value)
    if type(value) is int:
        if -_SHORT_INT < value < _SHORT_INT:
            return b"i%d;" % value
        # The same decimal digits, without Python's int-to-str limit (see `int_to_str`).
        return b"i" + int_to_str(value).encode("ascii") + b";"
    if type(value) is float:
        return b"d" + value.hex().encode("ascii") + b";"
    if type(value) is bool:
        return b"T" if value else b"F"
    if value is None:
        return b"N"
    if isinstance(value, tuple):
        return b"[%d:" % len(value) + b"".join(map(encode_value, value)) + b"]"
    if isinstance(value, Mapping):
        body = b"".join(encode_item(k, value[k]) for k in sorted(value))
        return b"{%d:" % len(value) + body + b"}"
    msg = f"cannot fingerprint a {type(value).__name__}"  # pragma: no cover - normalized earlier
    raise TypeError(msg)  # pragma: no cover


def encode_item(key: str, value: ParamValue) -> bytes:
    """The canonical bytes of one ``key=value`` pair of a case."""
    return _encode_str(key) + encode_value(value)


_ID_HASH: Final = blake2b(digest_size=8, person=CASE_ID_PERSON)
"""An empty keyed hash to copy per id: cheaper than passing the parameters each time."""


def digest(parts: Iterable[bytes]) -> str:
    """Hash already-encoded items (in sorted key order) into a 16-hex-digit id."""
    h = _ID_HASH.copy()
    h.update(b"".join(parts))
    return h.hexdigest()


def fingerprint(params: Mapping[str, ParamValue]) -> str:
    """The stable 16-hex-character fingerprint of a case's params.

    It depends only on the params (not on dict order, the process or the platform) and
    tells apart values that Python considers equal but that mean different things.

    >>> fingerprint({"lr": 0.1, "seed": 1}) == fingerprint({"seed": 1, "lr": 0.1})
    True
    >>> len({fingerprint({"x": v}) for v in (1, 1.0, "1", True)})
    4
    """
    return digest(encode_item(k, params[k]) for k in sorted(params))


def _to_params(value: Mapping[str, ParamInput]) -> FrozenParams:
    if type(value) is FrozenParams:
        return value
    raw: object = value  # checked at run time for untyped callers
    if not isinstance(raw, Mapping):
        msg = f"ParamCase params must be a mapping, got {type(value).__name__}"
        raise ParamError(msg)
    params = normalize_mapping(raw, "ParamCase params")
    check_key_paths(params, "ParamCase params")
    return params


def _to_tags(value: Iterable[str]) -> tuple[str, ...]:
    return as_tuple_of_str(value, "ParamCase tags")


def _tags_key(tags: tuple[str, ...] | int) -> tuple[str, ...]:
    """The tags a `ParamCase` slot stands for (a trial number stands for ``trial_{i}``)."""
    return (f"trial_{tags}",) if type(tags) is int else tags  # type: ignore[return-value]


@final
@attrs.frozen(repr=False)
class ParamCase:
    """One configuration of a sweep: its params, a stable id and tags.

    Two cases are equal when their tags are equal and their params are the same values of
    the same types: ``{"x": 1}`` and ``{"x": True}`` are different cases, as their ids say.

    >>> case = ParamCase({"lr": 0.1}, ("baseline",))
    >>> case.params == {"lr": 0.1}, case.tags, len(case.case_id)
    (True, ('baseline',), 16)
    """

    __match_args__ = ("params", "tags")

    # Equality and hashing compare encodings, so {"x": 1} and {"x": True} are different
    # cases (they have different ids), although the two params dicts compare equal.
    # A source stores a fresh exact dict of its own here, never handed out: CPython's
    # collector does not track a dict of atomic values (a dict subclass it always does),
    # so a case kept in a list is one tracked object, not two, and a list of 100,000
    # cases costs the collections it triggers no more than a list of plain dicts. The
    # read-only view `params` is made from it when first read and then replaces it.
    _params: Mapping[str, ParamValue] = attrs.field(
        converter=_to_params, eq=encode_value, alias="params"
    )
    # The tags, or the number i of a random source's trial, whose one tag "trial_{i}" is
    # written when first read: a random lookup then formats no text for a case whose
    # tags are never read (equality and hashing compare the tags it stands for).
    _tags: tuple[str, ...] | int = attrs.field(
        default=(), converter=_to_tags, alias="tags", eq=_tags_key
    )
    # Pre-encoded items a source may hand over so the id is cheap; never part of equality.
    # One slot serves the id: None until read (then computed from the params), or the
    # pre-encoded items a source handed over, or the id itself once computed. A plain
    # slot keeps building a case cheap and reading the id cheaper than a cached_property.
    _id: str | tuple[bytes, ...] | None = attrs.field(
        default=None, init=False, eq=False, hash=False, repr=False
    )

    @property
    def params(self) -> Mapping[str, ParamValue]:
        """The parameter values: a read-only mapping equal to the plain dict.

        It is a ``dict`` subclass, so ``json.dumps`` and ``dict(...)`` accept it; every
        mutating method raises ``TypeError``. The same object on every read.
        """
        params = self._params
        if type(params) is dict:
            params = _FrozenParams(params)
            _set_params(self, params)
        return params

    @property
    def tags(self) -> tuple[str, ...]:
        """Labels of where the case came from, e.g. ``("manual_0",)`` or ``("trial_3",)``."""
        tags = self._tags
        if type(tags) is int:
            tags = (f"trial_{tags}",)
            _set_tags(self, tags)
        return tags  # type: ignore[return-value]

    @property
    def case_id(self) -> str:
        """A stable 16-hex-character fingerprint of the params (see `fingerprint`)."""
        state = self._id
        if type(state) is str:
            return state
        case_id = fingerprint(self._params) if state is None else digest(state)  # type: ignore[arg-type]
        _set_id(self, case_id)
        return case_id

    def nested(self) -> dict[str, Any]:
        """The params as nested dicts, a dotted key a path: ``"model.lr"`` is ``lr`` in ``model``.

        A fresh dict each call (the values themselves are the case's immutable ones), with
        keys in sorted order at every level; a case without dotted keys gives a plain copy
        of its params. No source has a key that is also the branch of a dotted key
        (``"model"`` next to ``"model.lr"``): that is refused when the sweep is defined.

        >>> ParamCase({"model.lr": 0.1, "model.depth": 4, "seed": 0}).nested()
        {'model': {'depth': 4, 'lr': 0.1}, 'seed': 0}
        """
        return nest_keys(self.params)

    def __repr__(self) -> str:
        """Show params and tags, the two fields that define the case."""
        return f"ParamCase(params={show(dict(self._params))}, tags={self.tags!r})"

    def __getstate__(self) -> dict[str, Any]:
        """Pickle params (as a plain dict) and tags only; the id is recomputed on demand."""
        return {"params": dict(self._params), "tags": self.tags}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore a pickled case (one pickled as its read-only params, too)."""
        params = state["params"]
        _set_params(self, params if type(params) is FrozenParams else dict(params))
        _set_tags(self, state["tags"])
        _set_id(self, None)


_new: Final = object.__new__
_FrozenParams: Final = FrozenParams
_set_params: Final = ParamCase._params.__set__  # type: ignore[attr-defined]  # noqa: SLF001
_set_tags: Final = ParamCase._tags.__set__  # type: ignore[union-attr]  # noqa: SLF001
_set_id: Final = ParamCase._id.__set__  # type: ignore[union-attr]  # noqa: SLF001


def make_case(
    params: dict[str, ParamValue] | FrozenParams,
    tags: tuple[str, ...],
    encoded: tuple[bytes, ...] | None = None,
) -> ParamCase:
    """Build a case from already-normalized parts, skipping validation (the hot path).

    Sources call this with params they built themselves: a fresh exact ``dict`` of
    normalized values, sorted by key, that nothing else holds (the case owns it and
    hands out only its read-only view), or a `FrozenParams` that may be shared.
    ``encoded`` are the `encode_item` bytes of the params in sorted key order, when
    the source has them.
    """
    case: ParamCase = _new(ParamCase)
    _set_params(case, params)
    _set_tags(case, tags)
    _set_id(case, encoded)
    return case


def params_of(case: ParamCase) -> Mapping[str, ParamValue]:
    """The params of ``case`` without making its read-only view: for reading only.

    Composites that merge the params of their parts' cases read them through this, so
    a part's case they drop never builds a view. The mapping must not be changed.
    """
    return case._params  # noqa: SLF001 - the read-only accessor of the private slot
