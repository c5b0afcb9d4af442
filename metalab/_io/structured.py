"""Typed schemas: `Structured`, a view of a source whose cases are instances of a class.

``source.structured(Config)`` checks, when it is called, that the sweep fits ``Config``
(an attrs class, a dataclass or a ``TypedDict``): every case has every required field
and no key ``Config`` does not declare, and every listed value (grid and zip values,
manual cases, choice options, what a distribution draws) has the field's type. Reading
case ``i`` checks its values strictly against the field types, then structures them
with metalab's one cattrs converter; any mismatch is a `SchemaError` naming the case,
the field and the value.

A leaf field (int, float, str, bool) is judged by the converter's own strict hook
(`metalab._io.manifest.STRICT_LEAVES`), so a typed view and a manifest agree on what
an int is and say it in the same words. The walk over containers, unions, literals,
enums and nested schemas stays here: it names the path into a value
(``field 'model.layers[2]'``) and the schema's missing and unexpected keys, with
suggestions, which cattrs' own container hooks do not (they also take a string for
a list of characters).

>>> import attrs
>>> from metalab import grid
>>> @attrs.frozen
... class Config:
...     lr: float
...     opt: str = "adam"
>>> configs = grid(lr=[0.1, 0.01], opt=["adam", "sgd"]).structured(Config)
>>> configs[3]
Config(lr=0.01, opt='sgd')
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import itertools
import types
import typing
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    MutableSet,
    Sequence,
)
from collections.abc import Set as AbstractSet
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    Literal,
    TypeGuard,
    TypeVar,
    final,
    overload,
)

import attrs

from metalab._core.values import describe, nest_keys
from metalab._io.manifest import STRICT_LEAVES, LeafError
from metalab._sources.base import KeySets, ParamSource, check_index, checked_list
from metalab.errors import ManifestError, SchemaError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from _typeshed import DataclassInstance
    from attrs import AttrsInstance


__all__ = ["SchemaT", "Structured"]

SchemaT = TypeVar("SchemaT", bound="AttrsInstance | DataclassInstance | Mapping[str, object]")
"""A typed schema: an attrs class, a dataclass or a ``TypedDict``."""

_KEY_SET_LIMIT: Final = 4096
"""The most distinct key sets the structural check of a sweep's keys will list."""

_ENUMERATE_LIMIT: Final = 10_000
"""Sweeps up to this size have their keys checked case by case where the structure cannot."""


@attrs.frozen
class _Mismatch:
    """Where in a field's value the problem is (``""``, ``".depth"``, ``"[2]"``) and what."""

    path: str
    problem: str


_Check = Callable[[object], "_Mismatch | None"]
"""A strict check of one value against a field type: ``None`` when it fits."""


@attrs.frozen
class _Field:
    type: Any  # a class or a typing form such as ``list[int]``, as the converter takes it
    required: bool
    check: _Check


@attrs.frozen
class _Plan:
    """What metalab needs to know of a schema: its name and fields, with their checks."""

    name: str
    fields: Mapping[str, _Field]
    required: frozenset[str]
    typed_dict: bool

    def key_problem(self, keys: Collection[str]) -> str | None:
        """What is wrong with a case that has ``keys``, or None when they fit."""
        problems = []
        missing = sorted(self.required.difference(keys))
        if missing:
            noun = "field" if len(missing) == 1 else "fields"
            problems.append(f"missing required {noun} {_names(missing)}")
        for key in sorted(k for k in keys if k not in self.fields):
            close = difflib.get_close_matches(key, list(self.fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unexpected key {key!r}{hint}")
        if not problems:
            return None
        return "; ".join(problems)

    def value_problem(self, params: Mapping[str, object]) -> tuple[str, _Mismatch] | None:
        """The first field (in sorted order) whose value does not fit, with the mismatch."""
        fields = self.fields
        for key in sorted(params):
            mismatch = fields[key].check(params[key])
            if mismatch is not None:
                return key, mismatch
        return None


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _is_schema(schema: object) -> TypeGuard[type]:
    return isinstance(schema, type) and (
        attrs.has(schema) or dataclasses.is_dataclass(schema) or typing.is_typeddict(schema)
    )


def _schema_name(schema: object) -> str:
    name = getattr(schema, "__qualname__", None)
    return name if isinstance(name, str) else repr(schema)


def _plan(schema: object) -> _Plan:
    """What metalab needs to know of ``schema``, or `SchemaError` if it is not a schema."""
    if not _is_schema(schema):
        shown = describe(schema)
        if isinstance(schema, type):
            shown = f"the class {_schema_name(schema)}"
        msg = f"structured() takes an attrs class, a dataclass or a TypedDict, got {shown}"
        raise SchemaError(msg)
    return _compile_plan(schema)


@functools.lru_cache(maxsize=256)
def _compile_plan(schema: type) -> _Plan:
    """Read a schema's fields and compile a strict check for each (once per class)."""
    name = _schema_name(schema)
    try:
        hints = typing.get_type_hints(schema)
    except Exception as exc:  # a missing name in any annotation surfaces as any error
        msg = f"cannot read the field types of {name}: {exc}"
        raise SchemaError(msg) from exc
    required: dict[str, bool] = {}
    typed_dict = typing.is_typeddict(schema)
    if typed_dict:
        required = _typed_dict_required(schema)
    elif attrs.has(schema):
        required = {a.name: a.default is attrs.NOTHING for a in attrs.fields(schema) if a.init}
    else:
        required = {
            f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            for f in dataclasses.fields(schema)
            if f.init
        }
    fields = {
        k: _Field(hints.get(k, object), req, _compile(hints.get(k, object)))
        for k, req in sorted(required.items())
    }
    return _Plan(name, fields, frozenset(k for k, req in required.items() if req), typed_dict)


def _typed_dict_required(schema: type) -> dict[str, bool]:
    """Whether each key of a TypedDict is required.

    ``__required_keys__`` is wrong on Python 3.11 for ``NotRequired[...]`` written under
    ``from __future__ import annotations``; the evaluated annotations are not.
    """
    keys = set(getattr(schema, "__required_keys__", ()))
    hints = typing.get_type_hints(schema, include_extras=True)
    for key, hint in hints.items():
        origin = typing.get_origin(hint)
        if origin is typing.NotRequired:
            keys.discard(key)
        elif origin is typing.Required:
            keys.add(key)
    return {key: key in keys for key in hints}


# -- strict value checks -----------------------------------------------------------------

_SEQUENCES: Final = (
    list,
    Sequence,
    MutableSequence,
    Collection,
    Iterable,
    set,
    frozenset,
    AbstractSet,
    MutableSet,
)
_MAPPINGS: Final = (dict, Mapping, MutableMapping)


def _type_name(tp: object) -> str:
    """How a field type reads in an error message: ``list[int]``, ``float | None``."""
    if tp is None or tp is type(None):
        return "None"
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(map(_type_name, args))
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None and args:
        shown = ", ".join("..." if a is Ellipsis else _type_name(a) for a in args)
        return f"{_type_name(origin)}[{shown}]"
    if isinstance(tp, type):
        return tp.__qualname__
    return repr(tp).removeprefix("typing.")


def _accept(value: object) -> _Mismatch | None:
    del value
    return None


def _scalar(expected: str, fits: Callable[[object], bool]) -> _Check:
    def check(value: object) -> _Mismatch | None:
        if fits(value):
            return None
        return _Mismatch("", f"expected {expected}, got {describe(value)}")

    return check


def _leaf(hook: Callable[[object], object]) -> _Check:
    """A leaf check by the converter's own strict hook, with the value shown as Python's."""

    def check(value: object) -> _Mismatch | None:
        try:
            hook(value)
        except LeafError as error:
            return _Mismatch("", f"expected {error.python}, got {describe(value)}")
        except ManifestError as error:  # a leaf of the right kind the hook still refuses
            return _Mismatch("", str(error.args[0]))
        return None

    return check


_SCALAR_CHECKS: Final[Mapping[object, _Check]] = {
    **{tp: _leaf(hook) for tp, hook in STRICT_LEAVES.items()},
    type(None): _scalar("None", lambda v: v is None),
    None: _scalar("None", lambda v: v is None),
}


def _same(a: object, b: object) -> bool:
    # 1, 1.0 and True are equal in Python but different parameter values.
    return type(a) is type(b) and a == b


def _compile(tp: object) -> _Check:  # noqa: C901, PLR0911
    """A strict check for values of field type ``tp``.

    Types metalab cannot check (any other class) are left to the converter, whose
    errors are reported the same way.
    """
    if tp is Any or tp is object:
        return _accept
    if tp in _SCALAR_CHECKS:
        return _SCALAR_CHECKS[tp]
    if isinstance(tp, typing.NewType):
        return _compile(tp.__supertype__)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        return _scalar(_type_name(tp), lambda v: any(_same(v, a) for a in args))
    if origin is typing.Union or origin is types.UnionType:
        return _union(tp, args)
    cls = origin if origin is not None else tp
    if cls is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _items(tp, _compile(args[0]))
        if args:
            return _fixed_tuple(tp, [_compile(a) for a in args])
        return _items(tp, _accept)
    if cls in _SEQUENCES:
        return _items(tp, _compile(args[0]) if args else _accept)
    if cls in _MAPPINGS:
        key_type, value_type = args or (object, object)
        return _mapping(tp, _compile(key_type), _compile(value_type))
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        allowed = [member.value for member in cls]
        expected = f"a value of {cls.__qualname__} ({_names_any(allowed)})"
        return _scalar(expected, lambda v: any(_same(v, a) for a in allowed))
    if _is_schema(tp):
        return _nested(tp)
    return _accept


def _names_any(values: Iterable[object]) -> str:
    return ", ".join(repr(v) for v in values)


def _union(tp: object, args: Sequence[object]) -> _Check:
    expected = _type_name(tp)
    arms = [_compile(a) for a in args]
    others = [_compile(a) for a in args if a is not None and a is not type(None)]
    # For ``Model | None`` given a mapping, the problem inside the mapping is the news.
    only = others[0] if len(others) == 1 else None

    def check(value: object) -> _Mismatch | None:
        if any(arm(value) is None for arm in arms):
            return None
        if only is not None and value is not None:
            return only(value)
        return _Mismatch("", f"expected {expected}, got {describe(value)}")

    return check


def _items(tp: object, item: _Check) -> _Check:
    expected = _type_name(tp)

    def check(value: object) -> _Mismatch | None:
        if not isinstance(value, tuple | list):
            return _Mismatch("", f"expected {expected}, got {describe(value)}")
        for i, v in enumerate(value):
            mismatch = item(v)
            if mismatch is not None:
                return _Mismatch(f"[{i}]{mismatch.path}", mismatch.problem)
        return None

    return check


def _fixed_tuple(tp: object, items: Sequence[_Check]) -> _Check:
    expected = _type_name(tp)

    def check(value: object) -> _Mismatch | None:
        if not isinstance(value, tuple | list) or len(value) != len(items):
            return _Mismatch("", f"expected {expected}, got {describe(value)}")
        for i, (item, v) in enumerate(zip(items, value, strict=True)):
            mismatch = item(v)
            if mismatch is not None:
                return _Mismatch(f"[{i}]{mismatch.path}", mismatch.problem)
        return None

    return check


def _mapping(tp: object, key: _Check, item: _Check) -> _Check:
    expected = _type_name(tp)

    def check(value: object) -> _Mismatch | None:
        if not isinstance(value, Mapping):
            return _Mismatch("", f"expected {expected}, got {describe(value)}")
        for k in sorted(value):
            mismatch = key(k)
            if mismatch is not None:
                return _Mismatch("", f"expected {expected}, got a key {describe(k)}")
            mismatch = item(value[k])
            if mismatch is not None:
                return _Mismatch(f"[{k!r}]{mismatch.path}", mismatch.problem)
        return None

    return check


def _nested(schema: type) -> _Check:
    name = _schema_name(schema)

    def check(value: object) -> _Mismatch | None:
        if not isinstance(value, Mapping):
            expected = f"{name} (a mapping of its fields)"
            return _Mismatch("", f"expected {expected}, got {describe(value)}")
        plan = _plan(schema)  # looked up here, so that recursive schemas compile
        problem = plan.key_problem(value.keys())
        if problem is not None:
            return _Mismatch("", f"does not fit {name}: {problem}")
        found = plan.value_problem(value)
        if found is None:
            return None
        key, mismatch = found
        return _Mismatch(f".{key}{mismatch.path}", mismatch.problem)

    return check


# -- checks at definition time -----------------------------------------------------------


class _TooManyKeySetsError(Exception):
    """The key sets of a sweep are too many to list."""


@attrs.define
class _KeyScan:
    """The distinct key sets of a source's cases, read from its structure.

    Each source answers for itself (`ParamSource.key_sets`), asking this scan about its
    parts: composites are followed exactly where their index arithmetic allows (a
    concatenation contributes only the parts the indices reach, a product the rows they
    reach, a slice its parent's indices). Where a source approximates (a slice of a
    shuffle counts every case of the shuffled source, a stepped slice of a product every
    case between its first and last, a source type that cannot know its cases' keys),
    it turns ``exact`` off.
    """

    exact: bool = True

    def sets(self, source: ParamSource, indices: range) -> KeySets:
        """The key sets of the cases at ``indices`` (an increasing range within the source)."""
        if not indices:
            return set()
        return source.key_sets(indices, self)

    def limited(self, sets: KeySets) -> KeySets:
        """``sets``, or `_TooManyKeySetsError` if they are more than ``_KEY_SET_LIMIT``."""
        self.check_count(len(sets))
        return sets

    def check_count(self, count: int) -> None:
        """`_TooManyKeySetsError` if ``count`` is more than ``_KEY_SET_LIMIT``."""
        if count > _KEY_SET_LIMIT:
            raise _TooManyKeySetsError


# -- dotted keys: nested schemas -----------------------------------------------------------


def _schema_arm(tp: object) -> type | None:
    """The schema a field holds: its type, or the one schema of ``Model | None``."""
    if _is_schema(tp):
        return tp
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        arms = [a for a in typing.get_args(tp) if a is not None and a is not type(None)]
        if len(arms) == 1 and _is_schema(arms[0]):
            return arms[0]
    return None


def _split(plan: _Plan, keys: Iterable[str]) -> tuple[set[str], dict[str, list[str]]]:
    """The top-level keys, and the rest of each dotted key under its first part.

    A key the schema declares as it is (a ``TypedDict`` may have ``"model.lr"``) stays
    whole; any other dotted key names a field of a nested schema.
    """
    top: set[str] = set()
    branches: dict[str, list[str]] = {}
    for key in keys:
        if "." not in key or key in plan.fields:
            top.add(key)
        else:
            head, rest = key.split(".", 1)
            top.add(head)
            branches.setdefault(head, []).append(rest)
    return top, branches


def _nested_key_problem(plan: _Plan, keys: Collection[str]) -> str | None:
    """`_Plan.key_problem`, with dotted keys checked against the nested schemas they name."""
    top, branches = _split(plan, keys)
    problems = []
    problem = plan.key_problem(top)
    if problem is not None:
        problems.append(problem)
    for head in sorted(branches):
        field = plan.fields.get(head)
        if field is None:
            continue  # an unknown key, reported above
        schema = _schema_arm(field.type)
        if schema is None:
            if field.check({}) is not None:
                dotted = ", ".join(repr(f"{head}.{rest}") for rest in sorted(branches[head]))
                problems.append(
                    f"field {head!r} is a {_type_name(field.type)}, not a nested config, "
                    f"but the sweep has dotted keys under it ({dotted})"
                )
            continue  # a mapping field: its nested values are checked as values
        inner = _nested_key_problem(_plan(schema), branches[head])
        if inner is not None:
            problems.append(f"in {head!r} ({_schema_name(schema)}): {inner}")
    return "; ".join(problems) or None


def _leaf_field(plan: _Plan, key: str) -> _Field | None:
    """The field a (dotted) key fills, following nested schemas; None when unknown."""
    field = plan.fields.get(key)
    if field is not None or "." not in key:
        return field
    head, rest = key.split(".", 1)
    outer = plan.fields.get(head)
    schema = None if outer is None else _schema_arm(outer.type)
    return None if schema is None else _leaf_field(_plan(schema), rest)


def _nest(plan: _Plan, params: Mapping[str, object]) -> Mapping[str, object]:
    """The params with their dotted keys as nested mappings (see `ParamCase.nested`)."""
    if not any("." in key for key in params):
        return params
    out: dict[str, object] = {}
    nested: dict[str, dict[str, object]] = {}
    for key in sorted(params):
        if "." not in key or key in plan.fields:
            out[key] = params[key]
        else:
            head, rest = key.split(".", 1)
            nested.setdefault(head, {})[rest] = params[key]
    for head, inner in nested.items():
        out[head] = nest_keys(inner)
    return out


def _key_problems(sets: KeySets, plan: _Plan) -> list[tuple[frozenset[str], str]]:
    found = ((keys, _nested_key_problem(plan, keys)) for keys in sorted(sets, key=sorted))
    return [(keys, problem) for keys, problem in found if problem is not None]


def _check_keys(source: ParamSource, plan: _Plan) -> None:
    """Raise `SchemaError` if some case of ``source`` lacks a required field or has an extra key.

    When the structure gives too many key sets, or only an approximation that does not
    fit, a sweep of at most ``_ENUMERATE_LIMIT`` cases is checked case by case; a larger
    one is left to the check every case gets when it is read.
    """
    scan = _KeyScan()
    try:
        sets: KeySets | None = scan.sets(source, range(source.size))
    except _TooManyKeySetsError:
        sets = None
    problems = [] if sets is None else _key_problems(sets, plan)
    if sets is None or (problems and not scan.exact):
        if source.size > _ENUMERATE_LIMIT:
            return
        sets = {frozenset(params) for params in source.dicts()}
        problems = _key_problems(sets, plan)
    if not problems:
        return
    if len(sets) == 1:
        msg = f"this sweep does not fit {plan.name}: {problems[0][1]}"
    else:
        parts = "; ".join(
            f"cases with keys {_names(sorted(keys)) or '(none)'} have {p}"
            + _first_case(source, keys)
            for keys, p in problems
        )
        msg = f"this sweep does not fit {plan.name}: {parts}"
    raise SchemaError(msg)


def _first_case(source: ParamSource, keys: frozenset[str]) -> str:
    """`` (e.g. case i)`` for the first of the leading cases that has exactly ``keys``.

    Only the first ``_ENUMERATE_LIMIT`` cases are looked at (a sweep may hold
    ``10**40``); when none of them has these keys, the message names none.
    """
    for i, params in enumerate(itertools.islice(source.dicts(), _ENUMERATE_LIMIT)):
        if params.keys() == keys:
            return f" (e.g. case {i})"
    return ""


def _check_listed_values(source: ParamSource, plan: _Plan) -> None:
    for key, value, where in source.listed_values():
        field = _leaf_field(plan, key)
        if field is None:
            continue
        mismatch = field.check(value)
        if mismatch is not None:
            msg = f"field {key + mismatch.path!r} of {plan.name}: {mismatch.problem} (in {where})"
            raise SchemaError(msg)


# -- the view ----------------------------------------------------------------------------


@final
@attrs.frozen(repr=False)
class Structured(Generic[SchemaT]):
    """A source whose cases read as instances of a typed schema.

    Build it with `ParamSource.structured`. ``view[i]`` and iteration give ``schema``
    instances; the sweep was checked against the schema's fields when the view was built.

    Attributes:
        source: The sweep.
        schema: The attrs class, dataclass or ``TypedDict`` each case becomes.
    """

    source: ParamSource
    schema: type[SchemaT]

    def __attrs_post_init__(self) -> None:
        """Check the sweep's keys and listed values against the schema's fields."""
        raw: object = self.source  # checked at run time for untyped callers
        if not isinstance(raw, ParamSource):
            msg = f"structured() needs a parameter source, got {describe(raw)}"
            raise SchemaError(msg)
        plan = _plan(self.schema)
        _check_keys(self.source, plan)
        _check_listed_values(self.source, plan)

    @property
    def size(self) -> int:
        """The exact number of cases (see `ParamSource.size`)."""
        return self.source.size

    def __len__(self) -> int:
        """The number of cases; see `size` for sweeps larger than ``sys.maxsize``."""
        return len(self.source)

    def __bool__(self) -> bool:
        """A view is truthy when its source has at least one case."""
        return self.source.size > 0

    @overload
    def __getitem__(self, index: int) -> SchemaT: ...
    @overload
    def __getitem__(self, index: slice) -> Structured[SchemaT]: ...
    def __getitem__(self, index: int | slice) -> SchemaT | Structured[SchemaT]:
        """Case ``index`` as a ``schema`` instance, or a lazy view of a slice."""
        if isinstance(index, slice):
            return Structured(self.source[index], self.schema)
        i = check_index(index, self.source.size)
        return self._structure(i, self.source[i].params)

    def __iter__(self) -> Iterator[SchemaT]:
        """Every case in order, as ``schema`` instances."""
        structure = self._structure
        for i, params in enumerate(self.source.dicts()):
            yield structure(i, params)

    def take(self, indices: Iterable[int] | npt.NDArray[np.integer[Any]]) -> list[SchemaT]:
        """The ``schema`` instances at many indices at once (same as indexing one by one)."""
        return [self[i] for i in checked_list(indices, self.source.size)]

    def _structure(self, i: int, params: Mapping[str, object]) -> SchemaT:
        from metalab._io.manifest import converter

        plan = _plan(self.schema)
        params = _nest(plan, params)
        problem = plan.key_problem(params.keys())
        if problem is not None:
            msg = f"case {i} does not fit {plan.name}: {problem}"
            raise SchemaError(msg)
        found = plan.value_problem(params)
        if found is not None:
            key, mismatch = found
            msg = f"case {i}: field {key + mismatch.path!r} of {plan.name}: {mismatch.problem}"
            raise SchemaError(msg)
        try:
            if plan.typed_dict:
                # Field by field, with the required keys read correctly (see above).
                fields = plan.fields
                out: SchemaT = typing.cast(
                    "SchemaT",
                    {k: converter.structure(v, fields[k].type) for k, v in params.items()},
                )
            else:
                out = converter.structure(dict(params), self.schema)
        except Exception as exc:  # the schema's own validators may raise anything
            detail = _converter_error(exc)
            msg = f"case {i} does not fit {plan.name}: {detail}"
            raise SchemaError(msg) from exc
        return out

    def __repr__(self) -> str:
        """The expression that builds this view."""
        return f"{self.source!r}.structured({_schema_name(self.schema)})"


def _converter_error(exc: Exception) -> str:
    """The converter's error as one line: what failed where, with the schema's own message."""
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError):
        lines = cattrs.transform_error(exc, format_exception=_format_exception)
        return "; ".join(line.removesuffix(" @ $") for line in lines)
    return f"{type(exc).__name__}: {exc}"


def _format_exception(exc: BaseException, type_: type | None) -> str:
    from cattrs.v import format_exception

    text = format_exception(exc, type_)
    detail = str(exc)
    if detail and not isinstance(exc, KeyError) and detail not in text:
        return f"{text} ({detail})"
    return text
