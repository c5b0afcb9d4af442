"""Manifests: JSON documents that rebuild a source exactly, in any process, years later.

Every source and distribution is (un)structured by one cattrs converter, `converter`,
built once in `_make_converter`. Sources and distributions are tagged unions
(`cattrs.strategies.configure_tagged_union`): each JSON node names its class under
``"type"`` with the class's stable ``manifest_type``, so renaming a class never changes
a manifest. cattrs generates the hook of each class from its attrs fields (detailed
validation, extra keys forbidden); strict leaf hooks (int, float, str, bool, parameter
values: no ``int("3")``, no ``int(True)``) are registered once, and `_problems` is the
one place that turns cattrs' exception groups into ``path: problem`` lines, all the
problems of a manifest in one `ManifestError`. A new source type is one call,
`register`; a new distribution is added to `metalab._sources.distributions.DISTRIBUTIONS`.

Hand-written code remains only where the JSON layout differs from the fields:

- ``format_version`` (top of a document) and ``total_cases`` (GridSource, ManualSource)
  are keys that are no field: checked by the wrapper in `_generate`, written by
  `_unstructure_fields`;
- a ``range`` is no attrs class and its node is tagged ``"range"``: `_structure_range`;
- RandomSource: a node without ``"algorithm"`` is of the earlier format, whose seed may
  be any int and whose distributions are fewer (`_random_hook`); writing one names the
  parameter of a distribution that has no manifest form (`_unstructure_random`);
- GridSource and ZipSource take ``spec`` positionally, Concat/ProductSource their parts
  spread (`_positional`, `_of`): how they are built, not how they are read;
- the tag check before a union dispatches (`_tagged`), for messages that say which
  types exist (and that a distribution's tag is no source's);
- per-field checks stricter than the field's type (a size is a non-negative int, a
  grid axis a non-empty array or a range), passed as overrides to `_generate`;
- WhereSource: its node records ``total_cases`` and the ``digest`` of the accepted
  positions, keys that are no field, checked against the scan when it is read.

Expressions (`metalab._expr`) are a third tagged union, of plain data: each node names
its operation, and reading one never evaluates or imports anything.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from functools import partial
from itertools import chain
from types import UnionType
from typing import (
    Any,
    Final,
    Generic,
    NoReturn,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

import attrs
import cattrs
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError
from cattrs.gen import (
    make_dict_structure_fn_from_attrs,
    make_dict_unstructure_fn_from_attrs,
    override,
)
from cattrs.strategies import configure_tagged_union

from metalab._algebra import (
    ConcatSource,
    ConditionalGridSource,
    DeriveSource,
    ProductSource,
    ReplicateSource,
    SelectSource,
    ShuffledSource,
    SliceSource,
    WhereSource,
    ZipSource,
)
from metalab._core.intstr import int_to_str, parse_int
from metalab._core.values import (
    FrozenDict,
    FrozenParams,
    ParamValue,
    all_atomic,
    atomic_dicts,
    atomic_items,
    is_integer,
    normalize_value,
)
from metalab._expr import EXPRESSION_TYPES, Expr
from metalab._sources.base import ParamSource, paused
from metalab._sources.conditional import ConditionalRandomSource
from metalab._sources.distributions import DISTRIBUTIONS, Distribution
from metalab._sources.grid import GridSource, range_len
from metalab._sources.manual import ManualSource
from metalab._sources.random import (
    ALGORITHMS,
    LEGACY_ALGORITHM,
    LEGACY_DISTRIBUTIONS,
    RandomSource,
)
from metalab._sources.switch import Switch
from metalab.errors import ManifestError, MetalabError, UnsupportedOperationError

__all__ = [
    "FORMAT_VERSION",
    "MAX_DEPTH",
    "MAX_NODES",
    "SOURCE_TYPES",
    "converter",
    "deserialize_param_source",
    "dumps",
    "from_manifest",
    "from_manifest_of",
    "loads",
    "register",
    "to_manifest",
]

FORMAT_VERSION: Final = "1.0"
"""The format version written at the top of every manifest (``"MAJOR.MINOR"``).

A reader accepts every major version up to its own (a manifest without the field is
of the earlier format, version 0) and refuses a newer major version.
"""

MAX_DEPTH: Final = 100
"""The deepest nesting of JSON arrays and objects a manifest may have."""

MAX_NODES: Final = 1_000_000
"""The most values a manifest that shares objects may expand to.

A dict or list reached from several places (as YAML aliases make them) is read once
per reference, so sharing can make a small object stand for an enormous manifest.
Reading costs time in proportion to the values with sharing expanded; where that is
more than the manifest holds counted without sharing, it may be at most this many
(a manifest without sharing, which JSON text always is, is not limited).
"""

SOURCE_TYPES: Final[tuple[type[ParamSource], ...]] = (
    GridSource,
    ManualSource,
    RandomSource,
    ZipSource,
    ReplicateSource,
    ConcatSource,
    ProductSource,
    SliceSource,
    ShuffledSource,
    DeriveSource,
    WhereSource,
    ConditionalRandomSource,
    ConditionalGridSource,
)
"""Every source class a manifest can hold: the one place a new source type is registered."""

S = TypeVar("S", bound=ParamSource)
T = TypeVar("T")
Check = Callable[[Any], Any]

_VERSION_RE: Final = re.compile(r"([0-9]{1,6})\.([0-9]{1,6})")
_IDENTIFIER_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# -- errors with a JSON path -----------------------------------------------------------
class _PathError(ManifestError):
    """A problem at a path; each enclosing node prepends its key while it propagates."""

    def __init__(self, problem: str, *path: str | int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: tuple[str | int, ...] = path

    def __str__(self) -> str:
        return _message(self.path, self.problem)


class LeafError(_PathError):
    """A leaf of the wrong kind: what was expected and the value, shown either way.

    A manifest shows the value as JSON (``expected an int, got true``);
    `metalab.structured`, whose values are Python's, reads `python` and `value` to say
    ``expected an int, got bool True``. Both are the one hook's verdict.
    """

    def __init__(self, expected: str, value: object, *, python: str | None = None) -> None:
        super().__init__(f"expected {expected}, got {_show(value)}")
        self.value = value
        self.python = expected if python is None else python
        """What was expected, in Python's words (``a bool`` for ``true or false``)."""


class _ProblemsError(ManifestError):
    """Several problems found in one pass, each a `_PathError` relative to the same node."""

    def __init__(self, problems: list[_PathError]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


_ROOT: Final = "the manifest"
"""How an error message names the manifest as a whole, where another names a path."""


def _message(path: tuple[str | int, ...], problem: str) -> str:
    """``path: problem``, or ``the manifest: problem`` for the whole document."""
    return f"{_format_path(path) if path else _ROOT}: {problem}"


def _format_path(path: tuple[str | int, ...]) -> str:
    """Write a path as ``space.lr.low`` or ``parts[1].spec["model.lr"]`` (not empty).

    >>> _format_path(("parts", 1, "spec", "model.lr"))
    'parts[1].spec["model.lr"]'
    """
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER_RE.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def _problems(error: BaseException) -> list[_PathError]:
    """Every problem an error stands for, as path errors: the one place cattrs' errors go.

    cattrs reports the fields of a node together in a `ClassValidationError` whose
    members carry an `AttributeValidationNote` naming the field; a missing field is a
    bare `KeyError` so noted, unknown keys a `ForbiddenExtraKeysError`, and a constructor
    that refuses the fields a metalab error with no note, which is a problem of the node.
    """
    if isinstance(error, _PathError):
        return [error]
    if isinstance(error, _ProblemsError):
        problems: list[_PathError] = error.problems
        return problems
    if isinstance(error, cattrs.ClassValidationError):
        found: list[_PathError] = []
        for member in error.exceptions:
            notes = [
                n
                for n in getattr(member, "__notes__", ())
                if isinstance(n, AttributeValidationNote)
            ]
            if not notes:
                found.extend(_problems(member))
            elif isinstance(member, KeyError) and not isinstance(member, ManifestError):
                name = _LAYOUTS[error.cl].cls.__name__
                found.append(_PathError(f"required field of a {name} is missing", notes[-1].name))
            else:
                found.extend(_prefixed(notes[-1].name, _problems(member)))
        return sorted(found, key=_node_first)
    if isinstance(error, ForbiddenExtraKeysError):
        return [_unknown_fields(_LAYOUTS[error.cl], error.extra_fields)]
    if isinstance(error, MetalabError):
        problem = _PathError(str(error))
        problem.__cause__ = error
        return [problem]
    raise error


def _node_first(problem: _PathError) -> int:
    """Sort key: unknown and missing fields first, as a reader fixes them first."""
    if problem.problem.startswith("unknown field"):
        return 0
    return 1 if problem.problem.startswith("required field") else 2


def _prefixed(key: str | int, problems: list[_PathError]) -> list[_PathError]:
    for problem in problems:
        problem.path = (key, *problem.path)
    return problems


def _raise(problems: list[_PathError]) -> NoReturn:
    if len(problems) == 1:
        raise problems[0]
    raise _ProblemsError(problems)


def _at(key: str | int, check: Callable[[Any], T], value: Any) -> T:
    """``check(value)``, with ``key`` prepended to the path of any error it raises."""
    try:
        return check(value)
    except (ManifestError, cattrs.ClassValidationError) as error:
        _raise(_prefixed(key, _problems(error)))


def _show(value: object) -> str:  # noqa: PLR0911
    """A value as it would look in JSON, shortened, for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value)
        return text if len(text) <= 40 else text[:36] + '..."'
    if isinstance(value, int):
        return str(value) if value.bit_length() <= 256 else f"an int of {value.bit_length()} bits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return repr(value) if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return f"a Python {type(value).__name__}"


# -- strict leaf hooks: registered once, used for every field of their type --------------
def _int(value: Any, _: object = None) -> int:
    if not is_integer(value):
        expected = "an int"
        raise LeafError(expected, value)
    return int(value)


def _size(value: Any, _: object = None) -> int:
    size = _int(value)
    if size < 0:
        msg = f"expected a non-negative int, got {_show(size)}"
        raise _PathError(msg)
    return size


def _step(value: Any, _: object = None) -> int:
    step = _int(value)
    if step == 0:
        msg = "expected a non-zero int, got 0"
        raise _PathError(msg)
    return step


def _number(value: Any, _: object = None) -> int | float:
    if is_integer(value):
        return int(value)
    if not isinstance(value, float):
        expected = "a number"
        raise LeafError(expected, value)
    if not math.isfinite(value):
        msg = f"expected a finite number, got {_show(value)}"
        raise _PathError(msg)
    return float(value)


def _float(value: Any, _: object = None) -> float:
    """A field annotated ``float`` (``int | float`` keeps ints, this does not).

    An int becomes the float of the same value, and one that no float holds exactly
    (``2**53 + 1``, ``10**400``) is refused rather than rounded.
    """
    number = _number(value)
    if isinstance(number, int):
        try:
            exact = float(number)
        except OverflowError:
            exact = math.inf
        if exact != number:
            msg = f"expected a number that a float holds exactly, got {_show(number)}"
            raise _PathError(msg)
        return exact
    return number


def _str(value: Any, _: object = None) -> str:
    if not isinstance(value, str):
        expected = "a string"
        raise LeafError(expected, value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            msg = f"a string with a lone surrogate at position {error.start} is not Unicode text"
            raise _PathError(msg) from None
    return value


def _bool(value: Any, _: object = None) -> bool:
    if not isinstance(value, bool):
        expected = "true or false"
        raise LeafError(expected, value, python="a bool")
    return value


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"expected an object, got {_show(value)}"
        raise _PathError(msg)
    for key in value:
        if not isinstance(key, str):
            msg = f"object keys must be strings, got {_show(key)}"
            raise _PathError(msg)
        _at(key, _str, key)
    return value


def _array(value: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        msg = f"expected an array, got {_show(value)}"
        raise _PathError(msg)
    return value


def _each(items: Iterable[tuple[str | int, Any]], check: Callable[[Any], T]) -> list[T]:
    """``check`` every item, reporting the problems of all of them together."""
    out: list[T] = []
    found: list[_PathError] = []
    for key, item in items:
        try:
            out.append(_at(key, check, item))
        except ManifestError as error:
            found.extend(_problems(error))
    if found:
        _raise(found)
    return out


def _array_of(check: Callable[[Any], T]) -> Callable[..., tuple[T, ...]]:
    def array_of(value: Any, _: object = None) -> tuple[T, ...]:
        return tuple(_each(enumerate(_array(value)), check))

    return array_of


def _object_of(check: Callable[[Any], T]) -> Callable[..., dict[str, T]]:
    """An object whose values ``check`` accepts, as a dict in sorted key order."""

    def object_of(value: Any, _: object = None) -> dict[str, T]:
        data = _object(value)
        names = sorted(data)
        return dict(zip(names, _each(((k, data[k]) for k in names), check), strict=True))

    return object_of


def _non_empty(check: Callable[..., T], problem: str) -> Callable[..., T]:
    def non_empty(value: Any, _: object = None) -> T:
        out = check(value)
        if not out:
            raise _PathError(problem)
        return out

    return non_empty


_JSON_SCALARS: Final = frozenset({int, bool, type(None)})


def _value(value: Any, _: object = None) -> ParamValue:
    """A parameter value from JSON: arrays become tuples, objects sorted `FrozenParams`.

    The constructors normalize values again; this checks them first, to report a path.
    """
    cls = type(value)
    if cls in _JSON_SCALARS:
        return value  # type: ignore[no-any-return]
    if cls is str:
        return _str(value)
    if cls is float:
        if not math.isfinite(value):
            msg = f"NaN and infinite floats cannot go into a manifest, got {_show(value)}"
            if math.isinf(value):
                # JSON has no infinity: in a manifest's text it is a number too large.
                msg += " (a number beyond the float range, such as 1e400, reads as that)"
            raise _PathError(msg)
        return value  # type: ignore[no-any-return]
    if isinstance(value, list | tuple):
        return tuple([_at(i, _value, item) for i, item in enumerate(value)])
    if isinstance(value, Mapping):
        items = _object(value)
        if "" in items:
            msg = "parameter names must be non-empty"
            raise _PathError(msg, "")
        return FrozenParams([(k, _at(k, _value, items[k])) for k in sorted(items)])
    try:
        return normalize_value(value, "value")
    except MetalabError:
        msg = (
            "expected a JSON value (null, true/false, a number, a string, an array or "
            f"an object), got {_show(value)}"
        )
        raise _PathError(msg) from None


def _params(value: Any, _: object = None) -> ParamValue:
    """The params of one case: an object of parameter values."""
    if type(value) is dict:
        atomic = atomic_items(value)  # the usual case: what _value accepts as it is
        if atomic is not None:
            return FrozenParams(atomic)
    return _value(_object(value))


def _cases(value: Any, _: object = None) -> tuple[ParamValue, ...]:
    """The cases of a manual source: an array of params (each an object)."""
    if type(value) is list:
        # The usual manifest: every case a dict already in normal form, with the same
        # keys (taken column by column), or at least each in normal form (case by case).
        flat = atomic_dicts(value)
        if flat is not None:
            return flat
        out: list[ParamValue] = []
        for case in value:
            atomic = atomic_items(case) if type(case) is dict else None
            if atomic is None:
                break
            out.append(FrozenParams(atomic))
        else:
            return tuple(out)
    return _array_of(_params)(value)


def _plain(value: Any) -> Any:
    """A parameter value as JSON-ready data: tuples become lists, mappings dicts.

    The tuples of expressions a node holds (its ``args``, a derive's ``exprs``) come
    here too, as every tuple does: each expression is written by its own hook.
    """
    if type(value) is FrozenParams and all_atomic(tuple(value.values())):
        return dict(value)  # the usual case's params: one copy, no call per value
    if isinstance(value, Expr):
        return converter.unstructure(value, Expr)
    if isinstance(value, tuple):
        if _flat_params(value):
            return list(map(dict.copy, value))  # a manual source's cases: C loops only
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _flat_params(items: tuple[Any, ...]) -> bool:
    """Whether ``items`` are `FrozenParams` of JSON scalars only, each JSON-ready as a dict."""
    return set(map(type, items)) == {FrozenParams} and _LEAVES.issuperset(
        map(type, chain.from_iterable(map(dict.values, items)))
    )


def _check_version(value: Any) -> str:
    text = _str(value)
    match = _VERSION_RE.fullmatch(text)
    if match is None:
        msg = f'expected a version string such as "{FORMAT_VERSION}", got {_show(value)}'
        raise _PathError(msg)
    major = int(match[1])
    ours = int(FORMAT_VERSION.split(".", maxsplit=1)[0])
    if major > ours:
        msg = (
            f"this manifest has format {text}, newer than this metalab can read "
            f"({ours}.x or older); upgrade metalab to load it"
        )
        raise _PathError(msg)
    return text


def _unstructure_range(axis: range) -> dict[str, Any]:
    return {"type": "range", "start": axis.start, "stop": axis.stop, "step": axis.step}


def _structure_range(node: Any, _: object = None) -> range:
    """A range object; hand-written: a range is no attrs class, and its tag is checked."""
    data = _object(node)
    if data.get("type") != "range":
        msg = f'expected "range", got {_show(data.get("type"))}'
        raise _PathError(msg, "type")
    unknown = set(data) - _RANGE.allowed
    if unknown:
        raise _unknown_fields(_RANGE, unknown)
    for key in ("start", "stop", "step"):
        if key not in data:
            msg = "required field of a range is missing"
            raise _PathError(msg, key)
    start, stop, step = (_at(k, _int, data[k]) for k in ("start", "stop", "step"))
    if step == 0:
        msg = "a range step must not be zero"
        raise _PathError(msg, "step")
    axis = range(start, stop, step)
    if range_len(axis) == 0:
        msg = f"the range is empty: range({_show(start)}, {_show(stop)}, {_show(step)})"
        raise _PathError(msg)
    return axis


def _axis(node: Any, _: object = None) -> tuple[ParamValue, ...] | range:
    if isinstance(node, Mapping):
        return _structure_range(node)
    if not isinstance(node, list | tuple):
        msg = f"expected an array of values or a range object, got {_show(node)}"
        raise _PathError(msg)
    if not node:
        msg = "expected a non-empty array of values, got an empty one"
        raise _PathError(msg)
    return _array_of(_value)(node)


def _algorithm(value: Any, _: object = None) -> str:
    name = _str(value)
    if name not in ALGORITHMS:
        known = ", ".join(json.dumps(a) for a in ALGORITHMS)
        msg = (
            f"unknown random algorithm {_show(name)} (this metalab knows {known}); "
            "it may come from a newer metalab"
        )
        raise _PathError(msg)
    return name


# -- types: what each field of a model class holds, read from its annotation ---------------
class _ParamValueType:
    """Stands for `ParamValue` (a recursive alias, written as a string) in resolved fields."""


_ANNOTATION_NAMES: Final[dict[str, Any]] = {
    "Mapping": Mapping,
    "Sequence": Sequence,
    "Callable": Callable,
    "ParamValue": _ParamValueType,
    "ParamSource": ParamSource,
    "Distribution": Distribution,
}
"""Names annotations use that their modules import only for type checking."""


def _resolved_fields(cls: type[Any]) -> list[attrs.Attribute[Any]]:
    """The init fields of ``cls`` with their annotations evaluated to real types.

    Only init fields: the private caches of a source name types its module imports for
    type checking alone. The annotations are this package's (or a registering user's)
    code, never manifest data.
    """
    fields = [f for f in attrs.fields(cls) if f.init]
    holder = _Annotated()
    holder.__annotations__ = {f.name: f.type for f in fields}
    hints = get_type_hints(holder, globalns=_module_names(cls), localns=_ANNOTATION_NAMES)
    return [f.evolve(type=hints[f.name]) for f in fields]


def _module_names(cls: type[Any]) -> dict[str, Any]:
    """The globals of the module ``cls`` was defined in (none, for an unlisted module)."""
    module = sys.modules.get(cls.__module__)
    return dict(vars(module)) if module is not None else {}


class _Annotated:
    """An object that only carries annotations, for `typing.get_type_hints`."""


def _is_tuple_of(t: Any) -> bool:
    """``tuple[X, ...]``: an array, each item checked (cattrs' own would take a string)."""
    args = get_args(t)
    return get_origin(t) is tuple and len(args) == 2 and args[1] is ...


def _is_params_list(t: Any) -> bool:
    """``tuple[Mapping[str, ParamValue], ...]``: a list of cases' params."""
    return bool(t == tuple[Mapping[str, _ParamValueType], ...])


def _is_field_union(t: Any) -> bool:
    """A union of a model class's field that needs metalab's hook: numbers, or with a range.

    Other unions (``X | None`` included) keep cattrs' own handling, which calls the
    strict hooks of their members; `metalab._io.structured` relies on it for user schemas.
    """
    if get_origin(t) not in (Union, UnionType):
        return False
    args = set(get_args(t)) - {type(None)}
    return args == {int, float} or range in args


def _is_mapping(t: Any) -> bool:
    """``Mapping[str, X]``: an object, its keys sorted, each value checked."""
    return get_origin(t) is Mapping


def _union_hook(conv: cattrs.Converter, t: Any) -> Callable[..., Any]:
    """``int | float`` (ints stay ints) and ``values | range`` (choice options)."""
    args = set(get_args(t))
    if type(None) in args:
        inner = _hook_of(conv, Union[tuple(args - {type(None)})])  # noqa: UP007

        def optional(value: Any, _: object = None) -> Any:
            return None if value is None else inner(value)

        return optional
    if args == {int, float}:
        return _number
    array = _hook_of(conv, Union[tuple(args - {range})])  # noqa: UP007

    def array_or_range(value: Any, _: object = None) -> Any:
        return _structure_range(value) if isinstance(value, Mapping) else array(value)

    return array_or_range


STRICT_LEAVES: Final[Mapping[type, Callable[..., Any]]] = {
    bool: _bool,
    float: _float,
    int: _int,
    str: _str,
}
"""The strict structure hooks of the leaf types, which raise `LeafError` on a mismatch.

Registered once on `converter`; `metalab.structured` checks a schema's leaf fields with
the same hooks, so a manifest and a typed view agree on what an int is.
"""


def _register_leaves(conv: cattrs.Converter) -> None:
    """Strict hooks for leaves and containers: no ``int("3")``, no ``int(True)``."""
    for cls, hook in STRICT_LEAVES.items():
        conv.register_structure_hook(cls, hook)
    conv.register_structure_hook(_ParamValueType, _value)
    conv.register_structure_hook(range, _structure_range)
    conv.register_structure_hook_factory(_is_field_union, lambda t: _union_hook(conv, t))
    conv.register_structure_hook_factory(
        _is_tuple_of, lambda t: _array_of(_hook_of(conv, get_args(t)[0]))
    )
    conv.register_structure_hook_factory(
        _is_mapping, lambda t: _object_of(_hook_of(conv, get_args(t)[1]))
    )
    conv.register_unstructure_hook(tuple, _plain)
    conv.register_unstructure_hook(FrozenDict, _plain)
    conv.register_unstructure_hook(range, _unstructure_range)
    conv.register_unstructure_hook(_ParamValueType, _plain)
    # A list of params (a manual source's cases) as one array, not item by item
    # through cattrs' mapping hook: `_plain` writes the usual content in C loops.
    conv.register_unstructure_hook_func(_is_params_list, _plain)


def _drop_type(check: Check, value: Any, _: object) -> Any:
    """A check as a structure hook, which cattrs calls with the type too."""
    return check(value)


def _hook_of(conv: cattrs.Converter, t: Any) -> Check:
    """The structure hook of ``t`` as a one-argument check."""
    hook = conv.get_structure_hook(t)
    return lambda value: hook(value, t)


# -- model classes: hooks generated from the attrs fields ---------------------------------
@attrs.frozen
class _Layout:
    """How one model class maps to its JSON node; the generated hook does the fields."""

    cls: type[Any]
    allowed: frozenset[str]
    """Every key its node may hold: the fields, ``type`` and `extras`."""
    extras: tuple[str, ...]
    """Keys of the node that are no field (the layout differs): checked here, not passed on."""


_RANGE: Final = _Layout(range, frozenset({"type", "start", "stop", "step"}), ())

_LAYOUTS: Final[dict[Any, _Layout]] = {}
"""The layout of each builder (the callable a generated hook constructs with)."""


def _unknown_fields(layout: _Layout, unknown: Iterable[str]) -> _PathError:
    names = sorted(unknown)
    listed = ", ".join(json.dumps(k) for k in names)
    msg = (
        f"unknown field{'s' if len(names) > 1 else ''} {listed} in a {layout.cls.__name__} "
        f"(it has: {', '.join(sorted(layout.allowed))})"
    )
    return _PathError(msg)


class _Lazily(Generic[T]):
    """The function ``make()`` returns, made on the first call (or by `ready`).

    Generating a hook compiles code; a process that reads one manifest (a job-array
    task runs ``metalab case`` once) needs only the hooks of the node types it holds.
    """

    def __init__(self, make: Callable[[], Callable[..., T]]) -> None:
        self._make = make
        self.made: Callable[..., T] | None = None
        """The made function, once it is."""

    def ready(self) -> Callable[..., T]:
        """The made function, making it now if it is not yet."""
        if self.made is None:
            self.made = self._make()
        return self.made

    def __call__(self, *args: Any) -> T:
        """Call the made function."""
        return (self.made or self.ready())(*args)


def _generate(
    conv: cattrs.Converter,
    cls: type[Any],
    *,
    build: Callable[..., Any] | None = None,
    extras: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    **hooks: Any,
) -> _Lazily[Any]:
    """The structure function cattrs generates for ``cls``, detailed and strict.

    ``hooks`` replace the type's hook for fields whose manifest check is stricter than
    their type (a size is a non-negative int); ``optional`` fields may be left out of
    the node, so the constructor's default applies; ``build`` constructs in place of
    ``cls(**fields)``. The annotations are resolved and the code generated on the
    first read of a node of the class, or by ``ready()`` (`register` calls it, to
    refuse a class whose annotations cannot be read when it is registered).
    """
    return _Lazily(lambda: _generated(conv, cls, build, extras, optional, hooks))


def _generated(  # noqa: PLR0913, PLR0917 - `_generate`'s arguments, deferred
    conv: cattrs.Converter,
    cls: type[Any],
    build: Callable[..., Any] | None,
    extras: tuple[str, ...],
    optional: tuple[str, ...],
    hooks: dict[str, Any],
) -> Callable[[Any], Any]:
    """`_generate`'s work: cattrs compiles the hook of ``cls`` from its fields."""
    fields = [f.evolve(default=None) if f.name in optional else f for f in _resolved_fields(cls)]

    def construct(**kwargs: Any) -> Any:
        return (build or cls)(**kwargs)

    construct.__name__ = cls.__name__
    construct.__qualname__ = cls.__qualname__
    keys = {"type", *extras, *(f.alias or f.name for f in fields)}
    layout = _Layout(cls, frozenset(keys), extras)
    _LAYOUTS[construct] = layout
    overrides: dict[str, Any] = {
        name: override(struct_hook=partial(_drop_type, h)) for name, h in hooks.items()
    }
    generated = make_dict_structure_fn_from_attrs(
        fields,
        construct,  # type: ignore[arg-type]
        conv,
        _cattrs_forbid_extra_keys=True,
        _cattrs_detailed_validation=True,
        _cattrs_use_alias=True,
        **overrides,
    )

    def structure(node: Any) -> Any:
        data = _object(node)
        if "type" in data and data["type"] != cls.manifest_type:
            msg = f"expected {json.dumps(cls.manifest_type)}, got {_show(data['type'])}"
            raise _PathError(msg, "type")
        found: list[_PathError] = []
        if "format_version" in data and "format_version" in extras:
            try:
                _at("format_version", _check_version, data["format_version"])
            except ManifestError as error:
                found.extend(_problems(error))
        skip = {"type", *extras}
        try:
            built = generated({k: v for k, v in data.items() if k not in skip}, cls)
        except cattrs.ClassValidationError as error:
            found.extend(_problems(error))
        if found:
            _raise(sorted(found, key=_node_first))
        _check_recorded(data, extras, built)
        return built

    return structure


def _check_recorded(data: Mapping[str, Any], extras: tuple[str, ...], built: Any) -> None:
    """A node's record of its size (and accepted cases) must match what it builds."""
    if "total_cases" in data and "total_cases" in extras:
        total = _at("total_cases", _size, data["total_cases"])
        if total != built.size:
            msg = (
                f"the manifest says {_show(total)} cases, but its definition gives "
                f"{_show(built.size)}"
            )
            raise _PathError(msg, "total_cases")
    if "digest" in data and "digest" in extras:
        recorded = _at("digest", _str, data["digest"])
        if recorded != built.accepted_digest():
            msg = (
                "the manifest's digest of the accepted cases differs from the one its "
                "definition gives: the predicates now accept other cases"
            )
            raise _PathError(msg, "digest")


# -- unions: the "type" of a node picks its class ------------------------------------------
_SOURCES: Final[list[type[ParamSource]]] = list(SOURCE_TYPES)
"""Every source class a manifest can hold: the built-in ones, then those `register`ed."""

_STRUCTURE: Final[dict[type[Any], Callable[[Any], Any]]] = {}
"""The structure function of every model class, by class."""


def _tagged(node: Any, tags: Mapping[str, type[Any]], kind: str, others: Mapping[str, str]) -> str:
    """The ``"type"`` of a node, checked against the known tags of its union."""
    data = _object(node)
    if "type" not in data:
        msg = f"required field is missing (every {kind} names its type)"
        raise _PathError(msg, "type")
    tag = data["type"]
    if not isinstance(tag, str):
        msg = f"expected a string, got {_show(tag)}"
        raise _PathError(msg, "type")
    if tag not in tags:
        hint = f" ({json.dumps(tag)} is a {others[tag]})" if tag in others else ""
        msg = f"unknown {kind} type {_show(tag)}{hint}; known types: {', '.join(sorted(tags))}"
        raise _PathError(msg, "type")
    return tag


def _source_tags() -> dict[str, type[Any]]:
    return {cls.manifest_type: cls for cls in _SOURCES}


_DISTRIBUTION_TAGS: Final = {cls.manifest_type: cls for cls in DISTRIBUTIONS}


def _distribution_tag(node: Any) -> str:
    return _tagged(
        node, _DISTRIBUTION_TAGS, "distribution", dict.fromkeys(_source_tags(), "source")
    )


def _distribution(conv: cattrs.Converter, node: Any, _: object = None) -> Distribution:
    _distribution_tag(node)
    dist: Distribution = conv.structure(node, _union(DISTRIBUTIONS))
    return dist


_VERSIONED: Final[ContextVar[bool | None]] = ContextVar("metalab_manifest_versioned", default=None)
"""Whether the document being read declares a ``format_version`` (None outside one).

Only the top-level node carries the version, but it decides how nested nodes read:
a random source that names no algorithm is of the earlier format only in a document
without a version.
"""


def _source(conv: cattrs.Converter, node: Any, _: object = None) -> ParamSource:
    _tagged(node, _source_tags(), "source", dict.fromkeys(_DISTRIBUTION_TAGS, "distribution"))
    union = _union(tuple(_SOURCES))
    if _VERSIONED.get() is not None:
        source: ParamSource = conv.structure(node, union)
        return source
    token = _VERSIONED.set("format_version" in node)  # the top-level node of a document
    try:
        source = conv.structure(node, union)
    finally:
        _VERSIONED.reset(token)
    return source


_EXPRESSION_TAGS: Final = {cls.manifest_type: cls for cls in EXPRESSION_TYPES}


def _is_expression(t: Any) -> bool:
    return t is Expr or get_origin(t) is Expr


def _expression(conv: cattrs.Converter, node: Any, _: object = None) -> Expr[Any]:
    _tagged(node, _EXPRESSION_TAGS, "expression", dict.fromkeys(_source_tags(), "source"))
    expr: Expr[Any] = conv.structure(node, _union(EXPRESSION_TYPES))
    return expr


def _unstructure_expression(conv: cattrs.Converter, expr: Expr[Any]) -> dict[str, Any]:
    out: dict[str, Any] = conv.unstructure(expr, _union(EXPRESSION_TYPES))
    return out


def _union(classes: tuple[type[Any], ...]) -> Any:
    return Union[classes]  # noqa: UP007 - built from a tuple


def _random_hook(conv: cattrs.Converter) -> Callable[[Any], RandomSource]:
    """RandomSource: hand-written around the generated hook for the earlier format.

    A node without ``"algorithm"`` is of the earlier format (only in a document without
    a version), whose algorithm takes any int seed and knows fewer distributions.
    """
    space = _non_empty(
        _object_of(partial(_distribution, conv)), "a random space needs at least one parameter"
    )
    common: dict[str, Any] = {"space": space, "n_trials": _size, "algorithm": _algorithm}
    current = _generate(conv, RandomSource, extras=("format_version",), seed=_size, **common)
    legacy = _generate(conv, RandomSource, extras=("format_version",), seed=_int, **common)
    legacy_tags = {cls.manifest_type for cls in LEGACY_DISTRIBUTIONS}

    def structure(node: Any) -> RandomSource:
        data = _object(node)
        if "algorithm" in data:
            hook = legacy if data["algorithm"] == LEGACY_ALGORITHM else current
            return hook(data)  # type: ignore[no-any-return]
        versioned = _VERSIONED.get()
        if versioned is None:  # structured on its own, not inside a document
            versioned = "format_version" in data
        if versioned:  # the legacy default would silently change the values
            return current(data)  # type: ignore[no-any-return]
        space_node = data.get("space")
        names = sorted(space_node) if isinstance(space_node, Mapping) else []
        for name in names:
            assert isinstance(space_node, Mapping)
            tag = _at("space", partial(_at, name, _distribution_tag), space_node[name])
            if tag not in legacy_tags:
                msg = (
                    f'{_show(tag)} needs a manifest that names its "algorithm"; one without '
                    f"is of the earlier format, which knows only {', '.join(sorted(legacy_tags))}"
                )
                raise _PathError(msg, "space", name, "type")
        return legacy({**data, "algorithm": LEGACY_ALGORITHM})  # type: ignore[no-any-return]

    return structure


def _unknown_distribution(dist: object, where: str = "") -> UnsupportedOperationError:
    """The error for writing a distribution that is not one of metalab's own.

    An `UnsupportedOperationError`, as for a source type with no manifest form: nothing
    is wrong with a manifest (`ManifestError` is for reading one), the object's type
    simply has no manifest form.
    """
    cls = type(dist)
    known = ", ".join(sorted(c.__name__ for c in DISTRIBUTIONS))
    msg = (
        f"{where}{cls.__module__}.{cls.__qualname__} is a distribution defined outside "
        f"metalab, which cannot go in a manifest: only metalab's own distributions "
        f"({known}) can, and there is no way yet to register others"
    )
    return UnsupportedOperationError(msg)


def _unstructure_distribution(conv: cattrs.Converter, dist: Distribution) -> dict[str, Any]:
    if type(dist) not in DISTRIBUTIONS:
        raise _unknown_distribution(dist)
    out: dict[str, Any] = conv.unstructure(dist, _union(DISTRIBUTIONS))
    return out


def _unstructure_source(conv: cattrs.Converter, source: ParamSource) -> dict[str, Any]:
    refusal = getattr(type(source), "no_manifest", None)
    if isinstance(refusal, str):
        raise UnsupportedOperationError(refusal)
    if type(source) not in _SOURCES:
        msg = (
            f"{type(source).__name__} has no manifest form; a source type is registered "
            "with metalab._io.manifest.register"
        )
        raise UnsupportedOperationError(msg)
    out: dict[str, Any] = conv.unstructure(source, _union(tuple(_SOURCES)))
    return out


def _unstructure_fields(
    conv: cattrs.Converter, cls: type[Any], *, total: bool = False
) -> _Lazily[dict[str, Any]]:
    """The unstructure function cattrs generates for ``cls``; None optionals left out.

    With ``total``, the node also says how many cases the source has (a check for
    readers; the layout differs from the fields). Generated on first use, as `_generate`.
    """

    def make() -> Callable[[Any], dict[str, Any]]:
        fields = _resolved_fields(cls)
        omit: dict[str, Any] = {
            f.name: override(omit_if_default=True) for f in fields if f.default is None
        }
        generated = make_dict_unstructure_fn_from_attrs(fields, cls, conv, **omit)
        tag = {"type": cls.manifest_type}

        def unstructure(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {**tag, **generated(value)}
            if total:
                out["total_cases"] = value.size
            return out

        return unstructure

    return _Lazily(make)


def _unstructure_where(conv: cattrs.Converter) -> Callable[[WhereSource], dict[str, Any]]:
    """WhereSource: the node also records the digest of the accepted positions."""
    generated = _unstructure_fields(conv, WhereSource, total=True)

    def unstructure(source: WhereSource) -> dict[str, Any]:
        return {**generated(source), "digest": source.accepted_digest()}

    return unstructure


def _unstructure_random(conv: cattrs.Converter) -> Callable[[RandomSource], dict[str, Any]]:
    """RandomSource: name the parameter of a distribution that has no manifest form."""
    generated = _unstructure_fields(conv, RandomSource)

    def unstructure(source: RandomSource) -> dict[str, Any]:
        for name, dist in source.space.items():
            if type(dist) not in DISTRIBUTIONS:
                raise _unknown_distribution(dist, f"random space {name!r}: ")
        return generated(source)

    return unstructure


# -- conditional parameters: switches inside a random space or a grid --------------------
_SWITCH_KEYS: Final = frozenset({"type", "expr", "branches"})
_BRANCH_KEYS: Final = frozenset({"when", "then"})


def _switch(
    conv: cattrs.Converter, then: Callable[[Any], Any], node: Any, _: object = None
) -> Switch:
    """A switch node; hand-written: its branches are pairs, ``{"when": v, "then": ...}``.

    A mapping cannot hold the branches, whose values may be any scalar (``1`` and
    ``"1"`` are two branches), so the node lists them in order. ``then`` reads a
    branch's distribution (random spaces) or values (grids).
    """
    data = _object(node)
    unknown = sorted(set(data) - _SWITCH_KEYS)
    if unknown:
        msg = f"unknown field of a switch (it has {', '.join(sorted(_SWITCH_KEYS))})"
        raise _PathError(msg, unknown[0])
    for key in ("expr", "branches"):
        if key not in data:
            msg = "required field of a switch is missing"
            raise _PathError(msg, key)
    expr = _at("expr", partial(_expression, conv), data["expr"])

    def branch(item: Any) -> tuple[Any, Any]:
        pair = _object(item)
        extra = sorted(set(pair) - _BRANCH_KEYS)
        if extra:
            msg = 'unknown field of a switch branch (it has "when" and "then")'
            raise _PathError(msg, extra[0])
        for key in ("when", "then"):
            if key not in pair:
                msg = "required field of a switch branch is missing"
                raise _PathError(msg, key)
        return _at("when", _value, pair["when"]), _at("then", then, pair["then"])

    branches = _at(
        "branches",
        _non_empty(_array_of(branch), "expected at least one branch, got an empty array"),
        data["branches"],
    )
    try:
        return Switch(expr, tuple(branches))
    except MetalabError as error:
        raise _PathError(str(error)) from None


def _space_entry(conv: cattrs.Converter, node: Any, _: object = None) -> Distribution | Switch:
    if isinstance(node, Mapping) and node.get("type") == Switch.manifest_type:
        return _switch(conv, partial(_distribution, conv), node)
    return _distribution(conv, node)


def _grid_entry(conv: cattrs.Converter, node: Any, _: object = None) -> Any:
    if isinstance(node, Mapping) and node.get("type") == Switch.manifest_type:
        return _switch(conv, _axis, node)
    return _axis(node)


def _unstructure_switch(conv: cattrs.Converter, entry: Switch, name: str) -> dict[str, Any]:
    branches = []
    for key, payload in entry.branches:
        if isinstance(payload, range):
            then: Any = _unstructure_range(payload)
        elif isinstance(payload, tuple):
            then = _plain(payload)
        else:
            if type(payload) not in DISTRIBUTIONS:
                raise _unknown_distribution(payload, f"{name!r}: ")
            then = conv.unstructure(payload, Distribution)
        branches.append({"when": key, "then": then})
    return {
        "type": Switch.manifest_type,
        "expr": conv.unstructure(entry.expr, Expr),
        "branches": branches,
    }


def _unstructure_conditional_random(
    conv: cattrs.Converter,
) -> Callable[[ConditionalRandomSource], dict[str, Any]]:
    """ConditionalRandomSource: each entry of the space is a distribution or a switch."""

    def entry(name: str, value: Distribution | Switch) -> dict[str, Any]:
        if isinstance(value, Switch):
            return _unstructure_switch(conv, value, f"random space {name}")
        if type(value) not in DISTRIBUTIONS:
            raise _unknown_distribution(value, f"random space {name!r}: ")
        out: dict[str, Any] = conv.unstructure(value, Distribution)
        return out

    def unstructure(source: ConditionalRandomSource) -> dict[str, Any]:
        return {
            "type": ConditionalRandomSource.manifest_type,
            "space": {k: entry(k, v) for k, v in source.space.items()},
            "n_trials": source.n_trials,
            "seed": source.seed,
        }

    return unstructure


def _unstructure_conditional_grid(
    conv: cattrs.Converter,
) -> Callable[[ConditionalGridSource], dict[str, Any]]:
    """ConditionalGridSource: each axis is its values or a switch; the size is recorded."""

    def entry(name: str, value: Any) -> Any:
        if isinstance(value, Switch):
            return _unstructure_switch(conv, value, f"grid {name}")
        return _unstructure_range(value) if isinstance(value, range) else _plain(value)

    def unstructure(source: ConditionalGridSource) -> dict[str, Any]:
        return {
            "type": ConditionalGridSource.manifest_type,
            "spec": {k: entry(k, v) for k, v in source.spec.items()},
            "total_cases": source.size,
        }

    return unstructure


# -- the converter -----------------------------------------------------------------------
def _predicate(cls: type[Any]) -> Callable[[Any], bool]:
    # Predicate hooks: a class registered directly would have cattrs resolve its
    # annotations itself, which name what its module imports only for type checking.
    return lambda t: t is cls


def _register_class(
    conv: cattrs.Converter,
    cls: type[Any],
    structure: Callable[[Any], Any],
    unstructure: Callable[[Any], Any],
) -> None:
    _STRUCTURE[cls] = structure
    # Each nested node costs these frames, and a deep manifest must still load within
    # Python's recursion limit: the lambdas call the made hook itself, no wrapper between.
    if isinstance(structure, _Lazily):
        lazy = structure
        conv.register_structure_hook_func(
            _predicate(cls), lambda node, _: (lazy.made or lazy.ready())(node)
        )
    else:
        conv.register_structure_hook_func(_predicate(cls), lambda node, _: structure(node))
    if isinstance(unstructure, _Lazily):
        lazy_out = unstructure
        conv.register_unstructure_hook_func(
            _predicate(cls),
            lambda value: (lazy_out.made or lazy_out.ready())(value),  # noqa: PLW0108 - made on first use
        )
    else:
        conv.register_unstructure_hook_func(_predicate(cls), unstructure)


def _configure_unions(conv: cattrs.Converter) -> None:
    """Tagged unions last: `configure_tagged_union` captures the member hooks."""
    configure_tagged_union(
        _union(DISTRIBUTIONS), conv, tag_generator=_manifest_type, tag_name="type"
    )
    configure_tagged_union(
        _union(EXPRESSION_TYPES), conv, tag_generator=_manifest_type, tag_name="type"
    )
    configure_tagged_union(
        _union(tuple(_SOURCES)), conv, tag_generator=_manifest_type, tag_name="type"
    )


def _builtin_hooks(conv: cattrs.Converter) -> None:
    """The built-in sources: generated hooks, with each field's manifest check."""
    source = partial(_source, conv)
    parts = _non_empty(_array_of(source), "expected at least one source, got an empty array")
    values = _non_empty(_array_of(_value), "expected a non-empty array of values, got an empty one")
    versioned = ("format_version",)
    counted = ("format_version", "total_cases")
    structure: dict[type[Any], Callable[[Any], Any]] = {
        GridSource: _generate(
            conv, GridSource, build=_positional(GridSource), extras=counted, spec=_object_of(_axis)
        ),
        ManualSource: _generate(
            conv, ManualSource, extras=counted, optional=("tags",), cases=_cases
        ),
        RandomSource: _random_hook(conv),
        ZipSource: _generate(
            conv, ZipSource, build=_positional(ZipSource), extras=versioned, spec=_object_of(values)
        ),
        ReplicateSource: _generate(
            conv, ReplicateSource, extras=versioned, optional=("key",), n=_size, seed=_size
        ),
        ConcatSource: _generate(
            conv, ConcatSource, build=_of(ConcatSource.of), extras=versioned, parts=parts
        ),
        ProductSource: _generate(
            conv, ProductSource, build=_of(ProductSource.of), extras=versioned, parts=parts
        ),
        SliceSource: _generate(conv, SliceSource, extras=versioned, source=source, step=_step),
        ShuffledSource: _generate(
            conv, ShuffledSource, extras=versioned, source=source, seed=_size
        ),
        DeriveSource: _generate(conv, DeriveSource, extras=versioned, source=source),
        WhereSource: _generate(
            conv,
            WhereSource,
            extras=("format_version", "total_cases", "digest"),
            source=source,
            predicates=_non_empty(
                _array_of(partial(_expression, conv)), "expected at least one predicate"
            ),
        ),
        ConditionalRandomSource: _generate(
            conv,
            ConditionalRandomSource,
            extras=versioned,
            space=_object_of(partial(_space_entry, conv)),
            n_trials=_size,
            seed=_size,
        ),
        ConditionalGridSource: _generate(
            conv,
            ConditionalGridSource,
            extras=counted,
            spec=_object_of(partial(_grid_entry, conv)),
        ),
    }
    for cls in SOURCE_TYPES:
        counts = cls in (GridSource, ManualSource)
        unstructure: Callable[[Any], dict[str, Any]]
        if cls is RandomSource:
            unstructure = _unstructure_random(conv)
        elif cls is WhereSource:
            unstructure = _unstructure_where(conv)
        elif cls is ConditionalRandomSource:
            unstructure = _unstructure_conditional_random(conv)
        elif cls is ConditionalGridSource:
            unstructure = _unstructure_conditional_grid(conv)
        else:
            unstructure = _unstructure_fields(conv, cls, total=counts)
        _register_class(conv, cls, structure[cls], unstructure)


def _positional(factory: Callable[..., ParamSource]) -> Callable[..., ParamSource]:
    """A builder for a constructor whose ``spec`` is positional-only (``**values`` is axes)."""

    def build(spec: Any) -> ParamSource:
        return factory(spec)

    return build


def _of(factory: Callable[..., ParamSource]) -> Callable[..., ParamSource]:
    """A builder from the ``parts`` field for a constructor that takes the parts spread."""
    return lambda parts: factory(*parts)


def _make_converter() -> cattrs.Converter:
    """Build metalab's one converter, registering hooks from the simplest types up."""
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    _register_leaves(conv)
    conv.register_structure_hook_func(_predicate(Distribution), partial(_distribution, conv))
    conv.register_unstructure_hook_func(
        _predicate(Distribution), partial(_unstructure_distribution, conv)
    )
    conv.register_structure_hook_func(_predicate(ParamSource), partial(_source, conv))
    conv.register_unstructure_hook_func(_predicate(ParamSource), partial(_unstructure_source, conv))
    for dist in DISTRIBUTIONS:
        _register_class(conv, dist, _generate(conv, dist), _unstructure_fields(conv, dist))
    conv.register_structure_hook_func(_is_expression, partial(_expression, conv))
    conv.register_unstructure_hook_func(_is_expression, partial(_unstructure_expression, conv))
    for node in EXPRESSION_TYPES:
        _register_class(conv, node, _generate(conv, node), _unstructure_fields(conv, node))
    _builtin_hooks(conv)
    _configure_unions(conv)
    return conv


def _manifest_type(cls: type[Any]) -> str:
    tag: str = cls.manifest_type
    return tag


converter: Final = _make_converter()
"""metalab's one cattrs converter: every manifest is read and written through it."""


def register(cls: type[S]) -> type[S]:
    """Give a source class a manifest form: cattrs-generated hooks, in the source union.

    ``cls`` is a frozen attrs subclass of `ParamSource` with a ``manifest_type``
    ClassVar (its stable tag under ``"type"``) whose init fields are annotated with
    types the converter knows (ints, floats, strings, bools, parameter values, sources,
    distributions, and tuples and mappings of these). Its node holds those fields by
    name, and it is rebuilt with ``cls(**fields)``. Returns ``cls``, so it can decorate.
    A class of the same module and name defined again (a module reloaded) replaces the
    earlier one.

    Raises:
        UnsupportedOperationError: ``cls`` is no attrs source class with a new tag.
    """
    raw: object = cls
    tag = getattr(cls, "manifest_type", None)
    if not (isinstance(raw, type) and issubclass(raw, ParamSource) and attrs.has(raw)):
        msg = f"register takes an attrs subclass of ParamSource, got {raw!r}"
        raise UnsupportedOperationError(msg)
    if not isinstance(tag, str) or not tag:
        msg = f"{cls.__name__} needs a manifest_type ClassVar, a non-empty str"
        raise UnsupportedOperationError(msg)
    if cls in _SOURCES:
        return cls
    taken = _source_tags().get(tag)
    if taken is not None and _same_definition(taken, cls) and taken not in SOURCE_TYPES:
        # The same class defined again (a module reloaded, a notebook cell run twice).
        _SOURCES.remove(taken)
    elif taken is not None or tag in _DISTRIBUTION_TAGS or tag == "range":
        msg = f"{cls.__name__}: the manifest type {tag!r} is already taken"
        raise UnsupportedOperationError(msg)
    structure = _generate(converter, cls, extras=("format_version",))
    unstructure = _unstructure_fields(converter, cls)
    try:  # generated now, so that a class whose fields cannot be read fails here
        structure.ready()
        unstructure.ready()
    except Exception as error:  # an annotation can raise anything when it is evaluated
        msg = f"{cls.__name__}: cannot read its field types: {type(error).__name__}: {error}"
        raise UnsupportedOperationError(msg) from error
    _register_class(converter, cls, structure, unstructure)
    _SOURCES.append(cls)
    _configure_unions(converter)
    return cls


def _same_definition(a: type[Any], b: type[Any]) -> bool:
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


# Sources added after the first manifest format go through the extension API, as a
# user's own type does: their hooks are generated from their fields alone.
register(SelectSource)


# -- public functions ------------------------------------------------------------------
_LEAVES: Final = frozenset({int, float, str, bool, type(None)})


def _is_container(value: Any) -> bool:
    cls = type(value)
    if cls is dict or cls is list:
        return True
    return cls not in _LEAVES and isinstance(value, Mapping | list | tuple)


def _items(node: Any) -> Iterator[tuple[str | int, Any]]:
    return iter(node.items() if isinstance(node, Mapping) else enumerate(node))


@attrs.define
class _Visit:
    """A container on the walk's path, with what is known of it so far."""

    node: Any
    key: str | int
    children: Iterator[tuple[str | int, Any]]
    height: int = 1
    """The most nested arrays and objects on a path from here down, itself included."""
    size: int = 1
    """Its values (itself, every container and scalar below it) with sharing expanded."""
    own: int = 1
    """Itself and its scalar items: what it adds to the manifest counted without sharing."""


def _deepest(node: Any, levels: int, seen: Mapping[int, tuple[int, int]]) -> list[str | int]:
    """The keys that go ``levels`` containers down from ``node``, always to the deepest."""
    path: list[str | int] = []
    for _ in range(levels):
        key, node = max(
            ((k, c) for k, c in _items(node) if _is_container(c)), key=lambda kc: seen[id(kc[1])][0]
        )
        path.append(key)
    return path


def _nests_at_most(data: Any, limit: int) -> bool:
    """Whether the parsed JSON ``data`` (a tree) nests at most ``limit`` arrays and objects."""
    level = [data]
    for _ in range(limit):
        below: list[Any] = []
        for node in level:
            if type(node) is dict:
                node = node.values()  # noqa: PLW2901 - its values are what is walked
            elif type(node) is not list:
                continue
            below += [child for child in node if type(child) is dict or type(child) is list]
        if not below:
            return True
        level = below
    return False


def _check_shape(data: Any) -> None:
    """Refuse deep nesting, cycles and explosive sharing, in time linear in distinct objects.

    An object reached from several places (a YAML alias, a dict reused in Python) is
    walked once: its height and expanded size are remembered by identity.
    """
    if not _is_container(data):
        return
    seen: dict[int, tuple[int, int]] = {}  # id -> (height, expanded size), once walked
    path = [_Visit(data, 0, _items(data))]
    on_path = {id(data)}
    distinct = 0
    while path:
        visit = path[-1]
        for key, child in visit.children:
            if not _is_container(child):
                visit.size += 1
                visit.own += 1
                continue
            known = seen.get(id(child))
            if known is None:
                if id(child) in on_path or len(path) == MAX_DEPTH:
                    keys = [v.key for v in path[1:]]
                    msg = f"the manifest nests more than {MAX_DEPTH} arrays and objects"
                    raise _PathError(msg, *keys, key)
                on_path.add(id(child))
                path.append(_Visit(child, key, _items(child)))
                break
            if len(path) + known[0] > MAX_DEPTH:
                below = _deepest(child, MAX_DEPTH - len(path), seen)
                msg = f"the manifest nests more than {MAX_DEPTH} arrays and objects"
                raise _PathError(msg, *[v.key for v in path[1:]], key, *below)
            visit.height = max(visit.height, known[0] + 1)
            visit.size += known[1]
        else:
            path.pop()
            on_path.discard(id(visit.node))
            seen[id(visit.node)] = (visit.height, visit.size)
            distinct += visit.own
            if path:
                path[-1].height = max(path[-1].height, visit.height + 1)
                path[-1].size += visit.size
            elif visit.size > max(distinct, MAX_NODES):
                msg = (
                    f"objects reached from several places (shared, as YAML aliases make them) "
                    f"expand it to {_show(visit.size)} values, more than MAX_NODES "
                    f"({MAX_NODES:_}); write the shared parts out, or share less"
                )
                raise _PathError(msg)


def to_manifest(source: ParamSource) -> dict[str, Any]:
    """The JSON-ready manifest of ``source``, with the format version at the top.

    >>> from metalab import grid
    >>> to_manifest(grid(x=range(3)))["spec"]
    {'x': {'type': 'range', 'start': 0, 'stop': 3, 'step': 1}}

    Raises:
        UnsupportedOperationError: ``source`` is of a type with no manifest form.
    """
    # Paused collector: a manual source's cases are as many new dicts (see `paused`).
    body: dict[str, Any] = paused(converter.unstructure, source, ParamSource)
    return {"format_version": FORMAT_VERSION, **body}


def from_manifest(data: Mapping[str, Any]) -> ParamSource:
    """Rebuild the source a manifest describes (of any registered type).

    >>> from_manifest({"type": "GridSource", "spec": {"x": [1, 2]}}).size
    2
    >>> from_manifest({"type": "GridSource", "spec": {"x": [1, 2]}, "total_cases": 3})
    Traceback (most recent call last):
    ...
    metalab.errors.ManifestError: total_cases: the manifest says 3 cases, but its definition gives 2

    Raises:
        ManifestError: the manifest is malformed; the message starts with the JSON path.
    """
    return _from_manifest(data, shallow=False)


def _from_manifest(data: Mapping[str, Any], *, shallow: bool) -> ParamSource:
    """`from_manifest`; ``shallow`` when ``data`` is known to pass `_check_shape`.

    Parsed JSON shares no object and has no cycle, so `loads` needs only its depth,
    which it measures faster than the full `_check_shape` walk; that walk still runs,
    for its message, when the depth is over. The collector is `paused` while the
    source is built: a big manual source is as many new mappings.
    """
    try:
        if not shallow:
            _check_shape(data)
        source: ParamSource = paused(converter.structure, data, ParamSource)
    except (_PathError, _ProblemsError) as error:
        problems = _problems(error)
        raise ManifestError(str(error)) from problems[0].__cause__
    except RecursionError:
        msg = f"{_ROOT}: nests too deeply"
        raise ManifestError(msg) from None
    return source


deserialize_param_source: Final = from_manifest
"""Another name of `from_manifest`."""


def from_manifest_of(cls: type[S], data: Mapping[str, Any]) -> S:
    """Rebuild a source of type ``cls`` from its manifest; a manifest of another type fails.

    This is what ``cls.from_manifest_dict(data)`` calls; ``ParamSource`` accepts any type.

    >>> from metalab import GridSource, ManualSource
    >>> from_manifest_of(ManualSource, {"type": "GridSource", "spec": {"x": [1]}})
    Traceback (most recent call last):
    ...
    metalab.errors.ManifestError: type: expected a "ManualSource" manifest, got "GridSource"
    """
    if cls is not ParamSource and cls not in _SOURCES:
        msg = f"{cls.__name__} has no manifest form"
        raise UnsupportedOperationError(msg)
    raw: object = data  # checked at run time: manifests come from files
    if cls is not ParamSource and isinstance(raw, Mapping) and "type" in raw:
        tag = raw["type"]
        if tag != cls.manifest_type:
            msg = f"type: expected a {json.dumps(cls.manifest_type)} manifest, got {_show(tag)}"
            raise ManifestError(msg)
    source = from_manifest(data)
    if not isinstance(source, cls):
        msg = f"{_ROOT}: builds a {type(source).__name__}, not a {cls.__name__}"
        raise ManifestError(msg)
    return source


def dumps(source: ParamSource) -> str:
    """The manifest of ``source`` as JSON text: same source, same bytes, in any process.

    Keys are sorted, separators fixed and the text is ASCII. Integers are written
    exactly at any size, whatever ``sys.get_int_max_str_digits()`` allows.

    >>> from metalab import manual
    >>> dumps(manual([{"x": 1}]))
    '{"cases":[{"x":1}],"format_version":"1.0","tags":[],"total_cases":1,"type":"ManualSource"}'
    """
    data = to_manifest(source)
    try:
        return json.dumps(
            data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
    except ValueError:
        # Python refuses to write an int of more digits than its str limit allows (a
        # grid of many axes has such a total_cases): write the same text without it.
        out: list[str] = []
        _write_json(data, out)
        return "".join(out)


def _write_json(value: Any, out: list[str]) -> None:
    """Append the text `json.dumps` writes with dumps's settings, ints of any size included."""
    if type(value) is int:
        out.append(int_to_str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for k, key in enumerate(sorted(value)):
            out.append(("," if k else "") + json.dumps(key, ensure_ascii=True) + ":")
            _write_json(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for k, item in enumerate(value):
            if k:
                out.append(",")
            _write_json(item, out)
        out.append("]")
    else:  # null, true, false, a float or a string: as dumps writes them
        out.append(json.dumps(value, ensure_ascii=True, allow_nan=False))


def _refuse_constant(name: str) -> Any:
    msg = f"{_ROOT}: {name} is not a JSON number; manifests hold finite numbers only"
    raise ManifestError(msg)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                msg = f"{_ROOT}: the key {_show(key)} appears twice in one JSON object"
                raise ManifestError(msg)
            seen.add(key)
    return out


def loads(text: str | bytes) -> ParamSource:
    """Rebuild a source from manifest JSON text (as written by `dumps`).

    >>> loads('{"type": "GridSource", "spec": {"x": [1, 2]}}')[1].params
    {'x': 2}
    >>> loads('{"type": "GridSource", "spec": {"x": [NaN]}}')  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    metalab.errors.ManifestError: the manifest: NaN is not a JSON number; manifests hold ...
    >>> loads('{"type": "GridSource", "spec": {"x": [1]}, "type": "GridSource"}')
    Traceback (most recent call last):
    ...
    metalab.errors.ManifestError: the manifest: the key "type" appears twice in one JSON object

    Raises:
        ManifestError: the text is not JSON, or not a valid manifest.
    """
    raw: object = text  # checked at run time for untyped callers
    if not isinstance(raw, str | bytes | bytearray):
        msg = f"{_ROOT}: expected manifest JSON text (str or bytes), got {_show(raw)}"
        raise ManifestError(msg)
    try:
        # Bytes are decoded as json.loads decodes them, so that the text can be counted.
        if not isinstance(raw, str):
            raw = raw.decode(json.detect_encoding(raw), "surrogatepass")
        data, shallow = paused(_parse, raw)
    except ManifestError:
        raise
    except RecursionError:
        msg = f"{_ROOT}: nests too deeply"
        raise ManifestError(msg) from None
    except ValueError as error:
        msg = f"{_ROOT}: not valid JSON: {error}"
        raise ManifestError(msg) from None
    return _from_manifest(data, shallow=shallow)


def _parse(text: str) -> tuple[Any, bool]:
    """The JSON value of ``text``, and whether it is known to nest at most `MAX_DEPTH` deep.

    Duplicate keys are refused (`_unique_keys`), but a hook on every object costs
    more than the parse itself. So the text is parsed without one first, and checked
    for duplicates by counting, which is exact: every ``:`` of JSON text outside a
    string separates an object's key from its value, and a duplicate key leaves its
    object one member short (with everything its first value held), so when the
    parsed objects hold as many members as the text has ``:`` characters in all, no
    string holds one and no key is repeated. Otherwise (a ``:`` in some string, or a
    repeated key), or when the text nests too deeply, it is parsed again with the
    hook, which finds any repeated key.
    """
    data = _parse_with(text)
    members, height = _tree_facts(data, text.count("{") + text.count("["))
    if members == text.count(":") and height <= MAX_DEPTH:
        return data, True
    data = _parse_with(text, _unique_keys)
    return data, _nests_at_most(data, MAX_DEPTH)


def _parse_with(text: str, pairs: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """``json.loads`` refusing NaN and the infinities, with ``pairs`` as its pairs hook."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=pairs)
    except json.JSONDecodeError:
        raise
    except ValueError:
        # An int of more digits than Python's str limit: read ints without the limit
        # (slower, so only when needed), the same values in any process.
        return json.loads(
            text, parse_constant=_refuse_constant, object_pairs_hook=pairs, parse_int=parse_int
        )


def _tree_facts(data: Any, bound: int) -> tuple[int, int]:
    """The members of all objects in parsed JSON ``data`` (a tree), and its nesting.

    The nesting is the most arrays and objects on one path (0 for a scalar).
    ``bound`` is at least the number of arrays and objects in ``data`` (the text's
    count of ``[`` and ``{``): once the walk, level by level, has met that many, no
    level below can hold one, so the values of the last level need no look. A manual
    source's cases are thus counted in C loops, with no look at their values.
    """
    members = height = seen = 0
    level: list[Any] = [data] if type(data) is dict or type(data) is list else []
    kinds = set(map(type, level))
    while level:
        height += 1
        seen += len(level)
        objects = _of_kind(level, kinds, dict)
        arrays = _of_kind(level, kinds, list)
        members += sum(map(len, objects))
        if seen >= bound:
            break
        children = [
            *chain.from_iterable(map(dict.values, objects)),
            *chain.from_iterable(arrays),
        ]
        kinds = set(map(type, children))
        if kinds <= _CONTAINERS:
            level = children
        else:
            level = [c for c in children if type(c) is dict or type(c) is list]
            kinds &= _CONTAINERS
    return members, height


_CONTAINERS: Final = frozenset({dict, list})


def _of_kind(nodes: list[Any], kinds: set[type], kind: type) -> list[Any]:
    """The ``nodes`` of type ``kind``, given the set of their types (``kinds``)."""
    if kind not in kinds:
        return []
    return nodes if len(kinds) == 1 else [n for n in nodes if type(n) is kind]
