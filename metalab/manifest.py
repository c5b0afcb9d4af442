"""Manifests: JSON documents that rebuild a source exactly, in any process, years later.

Every source and distribution is (un)structured by one cattrs converter, `converter`,
built once in `_make_converter`. Sources and distributions are tagged unions: each JSON
node names its class under ``"type"`` with the class's stable ``manifest_type``, so
renaming a class never changes a manifest. A new source type is registered by adding
its class to `SOURCE_TYPES`; a new distribution by adding it to
`metalab.params.distributions.DISTRIBUTIONS`.

Reading is strict and safe: it never evaluates code, unpickles or imports anything
named in the data, and every malformed manifest raises `metalab.errors.ManifestError`
whose message starts with the JSON path of the problem, e.g.
``space.lr.low: expected a number, got "abc"``; a problem with the document as a whole
starts with ``the manifest:`` instead.

>>> from metalab import grid
>>> text = dumps(grid(lr=[0.1, 0.01]))
>>> text
'{"format_version":"1.0","spec":{"lr":[0.1,0.01]},"total_cases":2,"type":"GridSource"}'
>>> loads(text) == grid(lr=[0.1, 0.01])
True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from functools import partial
from typing import Any, Final, TypeVar, Union

import attrs
import cattrs
from cattrs.strategies import configure_tagged_union

from metalab._intstr import int_to_str, parse_int
from metalab._values import FrozenDict, FrozenParams, ParamValue, is_integer, normalize_value
from metalab.errors import ManifestError, MetalabError, UnsupportedOperationError
from metalab.params._algebra import (
    ConcatSource,
    ProductSource,
    ReplicateSource,
    ShuffledSource,
    SliceSource,
    ZipSource,
)
from metalab.params._base import ParamSource
from metalab.params.distributions import DISTRIBUTIONS, Distribution
from metalab.params.grid import GridSource, range_len
from metalab.params.manual import ManualSource
from metalab.params.random import (
    ALGORITHMS,
    LEGACY_ALGORITHM,
    LEGACY_DISTRIBUTIONS,
    RandomSource,
)

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


def _at(key: str | int, check: Callable[[Any], T], value: Any) -> T:
    """``check(value)``, with ``key`` prepended to the path of any error it raises."""
    try:
        return check(value)
    except _PathError as error:
        error.path = (key, *error.path)
        raise


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


def _build(factory: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a public constructor, turning its own errors into errors at this node."""
    try:
        return factory(*args, **kwargs)
    except _PathError:
        raise
    except MetalabError as error:
        raise _PathError(str(error)) from error


# -- leaf checks -----------------------------------------------------------------------
def _int(value: Any) -> int:
    if not is_integer(value):
        msg = f"expected an int, got {_show(value)}"
        raise _PathError(msg)
    return int(value)


def _size(value: Any) -> int:
    size = _int(value)
    if size < 0:
        msg = f"expected a non-negative int, got {_show(size)}"
        raise _PathError(msg)
    return size


def _number(value: Any) -> int | float:
    if is_integer(value):
        return int(value)
    if not isinstance(value, float):
        msg = f"expected a number, got {_show(value)}"
        raise _PathError(msg)
    if not math.isfinite(value):
        msg = f"expected a finite number, got {_show(value)}"
        raise _PathError(msg)
    return float(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        msg = f"expected a string, got {_show(value)}"
        raise _PathError(msg)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            msg = f"a string with a lone surrogate at position {error.start} is not Unicode text"
            raise _PathError(msg) from None
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"expected true or false, got {_show(value)}"
        raise _PathError(msg)
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


def _array_of(check: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    def array_of(value: Any) -> tuple[T, ...]:
        return tuple(_at(i, check, item) for i, item in enumerate(_array(value)))

    return array_of


def _optional(check: Check) -> Check:
    def optional(value: Any) -> Any:
        return None if value is None else check(value)

    return optional


_JSON_SCALARS: Final = frozenset({int, bool, type(None)})


def _value(value: Any) -> ParamValue:
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


def _params(value: Any) -> ParamValue:
    """The params of one case: an object of parameter values."""
    return _value(_object(value))


def _plain(value: Any) -> Any:
    """A parameter value as JSON-ready data: tuples become lists, mappings dicts."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- node layout -----------------------------------------------------------------------
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


def _fields(
    node: Any,
    tag: str,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    *,
    versioned: bool = True,
) -> Mapping[str, Any]:
    """Check a node's shape: an object of type ``tag``, no missing or unknown fields."""
    data = _object(node)
    if "type" in data and data["type"] != tag:
        msg = f"expected {json.dumps(tag)}, got {_show(data['type'])}"
        raise _PathError(msg, "type")
    allowed = {"type", *required, *optional}
    if versioned:
        allowed.add("format_version")
    unknown = sorted(set(data) - allowed)
    if unknown:
        names = ", ".join(json.dumps(k) for k in unknown)
        msg = (
            f"unknown field{'s' if len(unknown) > 1 else ''} {names} in a {tag} "
            f"(it has: {', '.join(sorted(allowed))})"
        )
        raise _PathError(msg)
    for key in required:
        if key not in data:
            msg = f"required field of a {tag} is missing"
            raise _PathError(msg, key)
    if versioned and "format_version" in data:
        _at("format_version", _check_version, data["format_version"])
    return data


def _check_total(data: Mapping[str, Any], source: ParamSource) -> None:
    """A ``total_cases`` field, when present, must agree with the source."""
    if "total_cases" in data:
        total = _at("total_cases", _size, data["total_cases"])
        if total != source.size:
            msg = (
                f"the manifest says {_show(total)} cases, but its definition gives "
                f"{_show(source.size)}"
            )
            raise _PathError(msg, "total_cases")


# -- grid axes -------------------------------------------------------------------------
def _unstructure_range(axis: range) -> dict[str, Any]:
    return {"type": "range", "start": axis.start, "stop": axis.stop, "step": axis.step}


def _structure_range(node: Any, _: object = None) -> range:
    data = _object(node)
    if data.get("type") != "range":
        msg = f'expected "range", got {_show(data.get("type"))}'
        raise _PathError(msg, "type")
    data = _fields(data, "range", ("start", "stop", "step"), versioned=False)
    start, stop, step = (_at(k, _int, data[k]) for k in ("start", "stop", "step"))
    if step == 0:
        msg = "a range step must not be zero"
        raise _PathError(msg, "step")
    axis = range(start, stop, step)
    if range_len(axis) == 0:
        msg = f"the range is empty: range({_show(start)}, {_show(stop)}, {_show(step)})"
        raise _PathError(msg)
    return axis


def _axis(node: Any) -> tuple[ParamValue, ...] | range:
    if isinstance(node, Mapping):
        return _structure_range(node)
    if not isinstance(node, list | tuple):
        msg = f"expected an array of values or a range object, got {_show(node)}"
        raise _PathError(msg)
    if not node:
        msg = "expected a non-empty array of values, got an empty one"
        raise _PathError(msg)
    return _array_of(_value)(node)


# -- seed sources ----------------------------------------------------------------------
def _unstructure_grid(conv: cattrs.Converter, source: GridSource) -> dict[str, Any]:
    return {
        "type": GridSource.manifest_type,
        "spec": {k: conv.unstructure(axis) for k, axis in source.spec.items()},
        "total_cases": source.size,
    }


def _structure_grid(node: Any, _: object) -> GridSource:
    data = _fields(node, GridSource.manifest_type, ("spec",), ("total_cases",))
    spec = _at("spec", _object, data["spec"])
    axes = {name: _at("spec", partial(_at, name, _axis), spec[name]) for name in sorted(spec)}
    source = _build(GridSource, axes)
    _check_total(data, source)
    return source


def _unstructure_manual(conv: cattrs.Converter, source: ManualSource) -> dict[str, Any]:
    return {
        "type": ManualSource.manifest_type,
        "cases": [conv.unstructure(case) for case in source.cases],
        "tags": list(source.tags),
        "total_cases": source.size,
    }


def _structure_manual(node: Any, _: object) -> ManualSource:
    data = _fields(node, ManualSource.manifest_type, ("cases",), ("tags", "total_cases"))
    cases = _at("cases", _array_of(_params), data["cases"])
    tags = _at("tags", _array_of(_str), data["tags"]) if "tags" in data else ()
    source = _build(ManualSource, cases, tags)
    _check_total(data, source)
    return source


def _unstructure_random(conv: cattrs.Converter, source: RandomSource) -> dict[str, Any]:
    for name, dist in source.space.items():
        if type(dist) not in DISTRIBUTIONS:
            raise _unknown_distribution(dist, f"random space {name!r}: ")
    return {
        "type": RandomSource.manifest_type,
        "space": {k: conv.unstructure(d, Distribution) for k, d in source.space.items()},
        "n_trials": source.n_trials,
        "seed": source.seed,
        "algorithm": source.algorithm,
    }


def _algorithm(value: Any) -> str:
    name = _str(value)
    if name not in ALGORITHMS:
        known = ", ".join(json.dumps(a) for a in ALGORITHMS)
        msg = (
            f"unknown random algorithm {_show(name)} (this metalab knows {known}); "
            "it may come from a newer metalab"
        )
        raise _PathError(msg)
    return name


def _structure_random(conv: cattrs.Converter, node: Any, _: object) -> RandomSource:
    data = _fields(node, RandomSource.manifest_type, ("space", "n_trials", "seed"), ("algorithm",))
    versioned = _VERSIONED.get()
    if versioned is None:  # structured on its own, not inside a document
        versioned = "format_version" in data
    if versioned and "algorithm" not in data:
        # Only the earlier format (no format_version) leaves the algorithm implicit:
        # in a versioned document the legacy default would silently change the values.
        msg = f"required field of a {RandomSource.manifest_type} is missing"
        raise _PathError(msg, "algorithm")
    algorithm = _at("algorithm", _algorithm, data["algorithm"]) if "algorithm" in data else None
    space_node = _at("space", _object, data["space"])
    if not space_node:
        msg = "a random space needs at least one parameter"
        raise _PathError(msg, "space")
    legacy = {cls.manifest_type for cls in LEGACY_DISTRIBUTIONS}
    space = {}
    for name in sorted(space_node):
        node = space_node[name]
        if algorithm is None and (
            (tag := _at("space", partial(_at, name, _distribution_tag), node)) not in legacy
        ):
            msg = (
                f'{_show(tag)} needs a manifest that names its "algorithm"; one without is '
                f"of the earlier format, which knows only {', '.join(sorted(legacy))}"
            )
            raise _PathError(msg, "space", name, "type")
        space[name] = _at("space", partial(_at, name, partial(_distribution, conv)), node)
    n_trials = _at("n_trials", _size, data["n_trials"])
    algorithm = algorithm or LEGACY_ALGORITHM
    # The legacy algorithm takes any int seed (the earlier format wrote negative ones).
    seed = _at("seed", _int if algorithm == LEGACY_ALGORITHM else _size, data["seed"])
    return _build(RandomSource, space, n_trials, seed, algorithm=algorithm)


# -- composite sources -----------------------------------------------------------------
def _unstructure_zip(conv: cattrs.Converter, source: ZipSource) -> dict[str, Any]:
    return {
        "type": ZipSource.manifest_type,
        "spec": {k: conv.unstructure(values) for k, values in source.spec.items()},
    }


def _zip_values(node: Any) -> tuple[ParamValue, ...]:
    values = _array_of(_value)(node)
    if not values:
        msg = "expected a non-empty array of values, got an empty one"
        raise _PathError(msg)
    return values


def _structure_zip(node: Any, _: object) -> ZipSource:
    data = _fields(node, ZipSource.manifest_type, ("spec",))
    spec = _at("spec", _object, data["spec"])
    columns = {
        name: _at("spec", partial(_at, name, _zip_values), spec[name]) for name in sorted(spec)
    }
    return _build(ZipSource, columns)


def _unstructure_replicate(source: ReplicateSource) -> dict[str, Any]:
    return {
        "type": ReplicateSource.manifest_type,
        "n": source.n,
        "seed": source.seed,
        "key": source.key,
    }


def _structure_replicate(node: Any, _: object) -> ReplicateSource:
    data = _fields(node, ReplicateSource.manifest_type, ("n", "seed"), ("key",))
    n = _at("n", _size, data["n"])
    seed = _at("seed", _size, data["seed"])
    if "key" in data:
        return _build(ReplicateSource, n, seed, _at("key", _str, data["key"]))
    return _build(ReplicateSource, n, seed)


def _unstructure_parts(
    conv: cattrs.Converter, source: ConcatSource | ProductSource
) -> dict[str, Any]:
    return {
        "type": source.manifest_type,
        "parts": [conv.unstructure(part, ParamSource) for part in source.parts],
    }


def _parts(conv: cattrs.Converter, node: Any) -> tuple[ParamSource, ...]:
    parts = _array_of(partial(_source, conv))(node)
    if not parts:
        msg = "expected at least one source, got an empty array"
        raise _PathError(msg)
    return parts


def _structure_concat(conv: cattrs.Converter, node: Any, _: object) -> ConcatSource:
    data = _fields(node, ConcatSource.manifest_type, ("parts",))
    return _build(ConcatSource.of, *_at("parts", partial(_parts, conv), data["parts"]))


def _structure_product(conv: cattrs.Converter, node: Any, _: object) -> ProductSource:
    data = _fields(node, ProductSource.manifest_type, ("parts",))
    return _build(ProductSource.of, *_at("parts", partial(_parts, conv), data["parts"]))


def _unstructure_slice(conv: cattrs.Converter, source: SliceSource) -> dict[str, Any]:
    return {
        "type": SliceSource.manifest_type,
        "source": conv.unstructure(source.source, ParamSource),
        "start": source.start,
        "stop": source.stop,
        "step": source.step,
    }


def _structure_slice(conv: cattrs.Converter, node: Any, _: object) -> SliceSource:
    data = _fields(node, SliceSource.manifest_type, ("source", "start", "stop", "step"))
    inner = _at("source", partial(_source, conv), data["source"])
    start, stop, step = (_at(k, _int, data[k]) for k in ("start", "stop", "step"))
    return _build(SliceSource, inner, start, stop, step)


def _unstructure_shuffled(conv: cattrs.Converter, source: ShuffledSource) -> dict[str, Any]:
    return {
        "type": ShuffledSource.manifest_type,
        "source": conv.unstructure(source.source, ParamSource),
        "seed": source.seed,
    }


def _structure_shuffled(conv: cattrs.Converter, node: Any, _: object) -> ShuffledSource:
    data = _fields(node, ShuffledSource.manifest_type, ("source", "seed"))
    inner = _at("source", partial(_source, conv), data["source"])
    seed = _at("seed", _size, data["seed"])
    return _build(ShuffledSource, inner, seed)


# -- distributions ---------------------------------------------------------------------
def _split_union(annotation: str) -> list[str]:
    """Split ``"tuple[int | float, ...] | None"`` on its top-level ``|``."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(annotation):
        depth += (char == "[") - (char == "]")
        if char == "|" and depth == 0:
            parts.append(annotation[start:i].strip())
            start = i + 1
    parts.append(annotation[start:].strip())
    return parts


_TUPLE_RE: Final = re.compile(r"(?:tuple|Sequence)\[(.*),\s*\.\.\.\]")


def _array_or_range(array: Check) -> Check:
    """A range object (``{"type": "range", ...}``), or what ``array`` checks."""

    def check(node: Any) -> Any:
        return _structure_range(node) if isinstance(node, Mapping) else array(node)

    return check


def _check_for(annotation: object) -> Check:  # noqa: PLR0911
    """The JSON check for a distribution field, read from its annotation's text.

    Fields annotated ``int`` refuse floats and bools, ``float`` or ``int | float``
    refuse strings and bools, ``X | None`` also take null, ``tuple[X, ...]`` take an
    array; anything else takes any JSON value, which the constructor then validates.
    """
    if isinstance(annotation, type):
        annotation = annotation.__name__
    text = str(annotation).replace("typing.", "")
    parts = _split_union(text)
    if "None" in parts:
        rest = " | ".join(p for p in parts if p != "None")
        return _optional(_check_for(rest)) if rest else _value
    kinds = set(parts)
    if "range" in kinds:  # choice options: an array of values or a range object
        return _array_or_range(_check_for(" | ".join(p for p in parts if p != "range")))
    if kinds == {"int"}:
        return _int
    if kinds in ({"float"}, {"int", "float"}):
        return _number
    if kinds == {"str"}:
        return _str
    if kinds == {"bool"}:
        return _bool
    if len(parts) == 1 and (match := _TUPLE_RE.fullmatch(parts[0])):
        return _array_of(_check_for(match[1]))
    return _value


@attrs.frozen
class _DistributionLayout:
    """How one distribution class maps to its manifest node: one key per init field."""

    cls: type[Any]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    names: tuple[tuple[str, str], ...]
    """``(manifest key, attribute name)`` of every field, in declaration order."""
    checks: Mapping[str, Check]

    @classmethod
    def of(cls, dist: type[Any]) -> _DistributionLayout:
        """Read the layout off the attrs fields of ``dist``."""
        fields = [f for f in attrs.fields(dist) if f.init]
        return cls(
            cls=dist,
            required=tuple(f.alias for f in fields if f.default is attrs.NOTHING),
            optional=tuple(f.alias for f in fields if f.default is not attrs.NOTHING),
            names=tuple((f.alias, f.name) for f in fields),
            checks={f.alias: _check_for(f.type) for f in fields},
        )

    def unstructure(self, dist: Any) -> dict[str, Any]:
        """The node of ``dist``; optional fields that hold None are left out."""
        out: dict[str, Any] = {"type": self.cls.manifest_type}
        for key, name in self.names:
            value = getattr(dist, name)
            if value is None and key in self.optional:
                continue
            out[key] = _unstructure_range(value) if isinstance(value, range) else _plain(value)
        return out

    def structure(self, node: Any, _: object) -> Any:
        """Build the distribution through its constructor, so every validation runs."""
        tag = self.cls.manifest_type
        data = _fields(node, tag, self.required, self.optional, versioned=False)
        kwargs = {
            key: _at(key, self.checks[key], data[key]) for key, _ in self.names if key in data
        }
        return _build(self.cls, **kwargs)


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


_DISTRIBUTION_TAGS: Final = {cls.manifest_type: cls for cls in DISTRIBUTIONS}
_SOURCE_TAGS: Final = {cls.manifest_type: cls for cls in SOURCE_TYPES}
_DISTRIBUTION_UNION: Final[Any] = Union[DISTRIBUTIONS]  # noqa: UP007 - built from a tuple
_SOURCE_UNION: Final[Any] = Union[SOURCE_TYPES]  # noqa: UP007 - built from a tuple


def _distribution_tag(node: Any) -> str:
    return _tagged(node, _DISTRIBUTION_TAGS, "distribution", dict.fromkeys(_SOURCE_TAGS, "source"))


def _distribution(conv: cattrs.Converter, node: Any) -> Distribution:
    _distribution_tag(node)
    dist: Distribution = conv.structure(node, _DISTRIBUTION_UNION)
    return dist


_VERSIONED: Final[ContextVar[bool | None]] = ContextVar("metalab_manifest_versioned", default=None)
"""Whether the document being read declares a ``format_version`` (None outside one).

Only the top-level node carries the version, but it decides how nested nodes read:
a random source that names no algorithm is of the earlier format only in a document
without a version.
"""


def _source(conv: cattrs.Converter, node: Any, _: object = None) -> ParamSource:
    _tagged(node, _SOURCE_TAGS, "source", dict.fromkeys(_DISTRIBUTION_TAGS, "distribution"))
    if _VERSIONED.get() is not None:
        source: ParamSource = conv.structure(node, _SOURCE_UNION)
        return source
    token = _VERSIONED.set("format_version" in node)  # the top-level node of a document
    try:
        source = conv.structure(node, _SOURCE_UNION)
    finally:
        _VERSIONED.reset(token)
    return source


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
    out: dict[str, Any] = conv.get_unstructure_hook(_DISTRIBUTION_UNION)(dist)
    return out


def _unstructure_source(conv: cattrs.Converter, source: ParamSource) -> dict[str, Any]:
    if type(source) not in SOURCE_TYPES:
        msg = (
            f"{type(source).__name__} has no manifest form; a source type is registered "
            "in metalab.manifest.SOURCE_TYPES"
        )
        raise UnsupportedOperationError(msg)
    out: dict[str, Any] = conv.get_unstructure_hook(_SOURCE_UNION)(source)
    return out


# -- the converter -----------------------------------------------------------------------
def _register(
    conv: cattrs.Converter,
    cls: type[Any],
    structure: Callable[[Any, Any], Any],
    unstructure: Callable[[Any], Any],
) -> None:
    # Predicate hooks: registering an attrs class directly makes cattrs resolve its
    # annotations, which need names the source modules import only for type checking.
    conv.register_structure_hook_func(lambda t: t is cls, structure)
    conv.register_unstructure_hook_func(lambda t: t is cls, unstructure)


def _make_converter() -> cattrs.Converter:
    """Build metalab's one converter, registering hooks from the simplest types up."""
    conv = cattrs.Converter()
    # Parameter values: tuples become arrays and read-only mappings objects.
    conv.register_unstructure_hook(tuple, _plain)
    conv.register_unstructure_hook(FrozenDict, _plain)
    _register(conv, range, _structure_range, _unstructure_range)
    for dist in DISTRIBUTIONS:
        layout = _DistributionLayout.of(dist)
        _register(conv, dist, layout.structure, layout.unstructure)
    # Composites hold sources: their hooks go through the source union at call time.
    source_hooks: dict[type[Any], tuple[Callable[[Any, Any], Any], Callable[[Any], Any]]] = {
        GridSource: (_structure_grid, partial(_unstructure_grid, conv)),
        ManualSource: (_structure_manual, partial(_unstructure_manual, conv)),
        RandomSource: (partial(_structure_random, conv), partial(_unstructure_random, conv)),
        ZipSource: (_structure_zip, partial(_unstructure_zip, conv)),
        ReplicateSource: (_structure_replicate, _unstructure_replicate),
        ConcatSource: (partial(_structure_concat, conv), partial(_unstructure_parts, conv)),
        ProductSource: (partial(_structure_product, conv), partial(_unstructure_parts, conv)),
        SliceSource: (partial(_structure_slice, conv), partial(_unstructure_slice, conv)),
        ShuffledSource: (partial(_structure_shuffled, conv), partial(_unstructure_shuffled, conv)),
    }
    for cls in SOURCE_TYPES:
        if cls not in source_hooks:  # pragma: no cover - caught by the test suite at import
            msg = f"{cls.__name__} is in SOURCE_TYPES but has no hooks in _make_converter"
            raise TypeError(msg)
        _register(conv, cls, *source_hooks[cls])
    # Tagged unions last: they capture the member hooks registered above.
    configure_tagged_union(_DISTRIBUTION_UNION, conv, tag_generator=_manifest_type, tag_name="type")
    configure_tagged_union(_SOURCE_UNION, conv, tag_generator=_manifest_type, tag_name="type")
    _register(
        conv,
        Distribution,
        partial(_distribution_hook, conv),
        partial(_unstructure_distribution, conv),
    )
    _register(conv, ParamSource, partial(_source, conv), partial(_unstructure_source, conv))
    return conv


def _manifest_type(cls: type[Any]) -> str:
    tag: str = cls.manifest_type
    return tag


def _distribution_hook(conv: cattrs.Converter, node: Any, _: object) -> Distribution:
    return _distribution(conv, node)


converter: Final = _make_converter()
"""metalab's one cattrs converter: every manifest is read and written through it."""


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
    body: dict[str, Any] = converter.unstructure(source, ParamSource)
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
    try:
        _check_shape(data)
        source: ParamSource = converter.structure(data, ParamSource)
    except _PathError as error:
        raise ManifestError(str(error)) from error.__cause__
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
    if cls is not ParamSource and cls not in SOURCE_TYPES:
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

    Raises:
        ManifestError: the text is not JSON, or not a valid manifest.
    """
    raw: object = text  # checked at run time for untyped callers
    if not isinstance(raw, str | bytes | bytearray):
        msg = f"{_ROOT}: expected manifest JSON text (str or bytes), got {_show(raw)}"
        raise ManifestError(msg)
    parse = partial(json.loads, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    try:
        try:
            data = parse(text)
        except json.JSONDecodeError:
            raise
        except ValueError:
            # An int of more digits than Python's str limit: read ints without the limit
            # (slower, so only when needed), the same values in any process.
            data = parse(text, parse_int=parse_int)
    except ManifestError:
        raise
    except RecursionError:
        msg = f"{_ROOT}: nests too deeply"
        raise ManifestError(msg) from None
    except ValueError as error:
        msg = f"{_ROOT}: not valid JSON: {error}"
        raise ManifestError(msg) from None
    return from_manifest(data)
