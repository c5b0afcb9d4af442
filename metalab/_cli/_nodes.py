"""What a sweep is made of: each node's kind, size, parameters and children.

Used by ``metalab show`` to draw the composition tree and by ``metalab plot`` to find
the distributions behind each parameter. Leaves (grid, random, manual) are described
field by field; any other source, including composites this module has never heard
of, is described from its attrs fields: the fields holding sources become children
and the scalar fields become details, so a new kind of node is shown sensibly without
a change here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

import attrs

from metalab._case import encode_value
from metalab._intstr import digit_count, format_count, int_to_str
from metalab.params.grid import GridSource
from metalab.params.manual import ManualSource
from metalab.params.random import ALGORITHM, RandomSource

if TYPE_CHECKING:
    from metalab.params._base import ParamSource
    from metalab.params.distributions import Distribution

__all__ = [
    "Node",
    "describe_node",
    "distributions_by_key",
    "format_value",
    "printable",
]

_KINDS: Final = {
    "ConcatSource": "concat (+)",
    "ProductSource": "product (*)",
    "ShuffledSource": "shuffled",
}
"""Display names of the composites; other classes show under their own name."""

_SHOWN_VALUES: Final = 8
"""How many values of a long grid axis or option list are shown."""
_SHOWN_DIGITS: Final = 100
"""Int values with more digits than this are shown by their ends and their length."""
_END_DIGITS: Final = 8
"""How many leading and trailing digits of such an int are shown."""


@attrs.frozen
class Node:
    """One node of a sweep's composition tree, ready to display."""

    kind: str
    """What the node is: ``grid``, ``random``, ``product (*)``, ... or a class name."""
    size: int
    """Its exact number of cases."""
    keys: tuple[str, ...]
    """The parameters its cases can have."""
    details: tuple[str, ...]
    """Short facts beside the kind, e.g. ``seed 0``."""
    lines: tuple[str, ...]
    """One line per parameter of a leaf, e.g. ``lr ~ loguniform(0.0001, 0.1)``.

    Parameter names in it went through `printable`: plain text, never markup.
    """
    children: tuple[tuple[str, ParamSource], ...]
    """The sources this node is built from, each with a label (empty, or a name)."""


def printable(text: str) -> str:
    r"""``text`` with every control or other non-printable character escaped as ``repr`` does.

    Names, tags and sweep paths come from manifests and code: written raw, an escape
    sequence would drive the terminal. Callers put the result in ``rich.text.Text``,
    never in markup, so brackets stay brackets.

    >>> printable("lr\x1b[31m"), printable("[red]lr[/red]")
    ('lr\\x1b[31m', '[red]lr[/red]')
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def format_value(value: object) -> str:
    """A parameter value as it is written in Python source (tuples shown as lists).

    >>> format_value(("a", 1.5, None))
    "['a', 1.5, None]"
    """
    if isinstance(value, tuple):
        return "[" + ", ".join(map(format_value, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, int) and not isinstance(value, bool):
        return _format_int(value)
    return repr(value)


def _format_int(value: int) -> str:
    # repr() refuses ints beyond 4,300 digits, and no one reads 100 digits anyway.
    digits = digit_count(value)
    if digits <= _SHOWN_DIGITS:
        return int_to_str(value)
    sign = "-" if value < 0 else ""
    head = abs(value) // 10 ** (digits - _END_DIGITS)
    tail = abs(value) % 10**_END_DIGITS
    return f"{sign}{head}...{tail:0{_END_DIGITS}d} ({digits:,} digits)"


def _format_values(values: Sequence[object]) -> str:
    if isinstance(values, range):
        step = "" if values.step == 1 else f", {format_value(values.step)}"
        return f"range({format_value(values.start)}, {format_value(values.stop)}{step})"
    shown = [format_value(v) for v in values[:_SHOWN_VALUES]]
    if len(values) > _SHOWN_VALUES:
        shown.append(f"... ({format_count(len(values))} values)")
    return "[" + ", ".join(shown) + "]"


def format_distribution(dist: Distribution) -> str:
    """A distribution as the factory call that builds it (long option lists cut short).

    >>> from metalab import choice, loguniform
    >>> format_distribution(loguniform(1e-4, 0.1))
    'loguniform(0.0001, 0.1)'
    >>> format_distribution(choice(list(range(100)))), format_distribution(choice(range(100)))
    ('choice([0, 1, 2, 3, 4, 5, 6, 7, ... (100 values)])', 'choice(range(0, 100))')
    """
    options = getattr(dist, "options", None)
    if isinstance(options, tuple) and len(options) > _SHOWN_VALUES:
        return f"choice({_format_values(options)})"
    return repr(dist)


def describe_node(source: ParamSource) -> Node:
    """Describe one node of a sweep (its children are described by calling this again).

    >>> from metalab import grid
    >>> node = describe_node(grid(x=[1, 2], y=range(3)))
    >>> node.kind, node.size, node.lines
    ('grid', 6, ('x: [1, 2]', 'y: range(0, 3)'))
    """
    size, keys = source.size, source.keys
    if isinstance(source, GridSource):
        lines = tuple(f"{printable(k)}: {_format_values(v)}" for k, v in source.spec.items())
        return Node("grid", size, keys, (), lines, ())
    if isinstance(source, RandomSource):
        algorithm = () if source.algorithm == ALGORITHM else (f"algorithm {source.algorithm}",)
        lines = tuple(f"{printable(k)} ~ {format_distribution(d)}" for k, d in source.space.items())
        return Node("random", size, keys, (f"seed {source.seed}", *algorithm), lines, ())
    if isinstance(source, ManualSource):
        tags = (f"tags {list(source.tags)}",) if source.tags else ()
        lines = tuple(f"{printable(k)}: {_format_values(_distinct(source, k))}" for k in keys)
        return Node("manual", size, keys, tags, lines, ())
    return _describe_algebra(source) or _describe_generic(source)


def _distinct(source: ManualSource, key: str) -> list[object]:
    seen: dict[bytes, object] = {}
    for case in source.cases:
        if key in case:
            seen.setdefault(encode_value(case[key]), case[key])
    return list(seen.values())


def _describe_algebra(source: ParamSource) -> Node | None:
    """The composition algebra's nodes that read better than their fields."""
    from metalab.params._base import ParamSource

    name, size, keys = type(source).__name__, source.size, source.keys
    spec = getattr(source, "spec", None)
    if name == "ZipSource" and isinstance(spec, Mapping):
        lines = tuple(f"{printable(str(k))}: {_format_values(v)}" for k, v in spec.items())
        return Node("zip", size, keys, (), lines, ())
    if name == "ReplicateSource":
        lines = tuple(f"{printable(k)}: {format_count(size)} distinct seeds" for k in keys)
        return Node("replicates", size, keys, (f"seed {getattr(source, 'seed', '?')}",), lines, ())
    inner = getattr(source, "source", None)
    if name == "SliceSource" and isinstance(inner, ParamSource):
        bounds = "[{}:{}:{}]".format(*(getattr(source, f, "?") for f in ("start", "stop", "step")))
        return Node("slice", size, keys, (bounds,), (), (("", inner),))
    return None


def _describe_generic(source: ParamSource) -> Node:
    """Any other node, from its attrs fields: sources are children, scalars details."""
    details: list[str] = []
    children: list[tuple[str, ParamSource]] = []
    cls: type[object] = type(source)
    if attrs.has(cls):
        for field in attrs.fields(cls):
            if field.name.startswith("_"):
                continue
            value = getattr(source, field.name)
            found = list(_sources_in(value))
            if found:
                children.extend(found)
            elif value is None or isinstance(value, bool | int | float | str):
                details.append(f"{field.name} {value!r}")
    name = type(source).__name__
    kind = _KINDS.get(name, name)
    return Node(kind, source.size, source.keys, tuple(details), (), tuple(children))


def _sources_in(value: object) -> Iterator[tuple[str, ParamSource]]:
    from metalab.params._base import ParamSource

    if isinstance(value, ParamSource):
        yield "", value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, ParamSource):
                yield str(key), item
    elif isinstance(value, tuple | list):
        for item in value:
            if isinstance(item, ParamSource):
                yield "", item


def walk(source: ParamSource) -> Iterator[ParamSource]:
    """Every node of a sweep, depth first, the sweep itself first."""
    stack = [source]
    while stack:
        node = stack.pop()
        yield node
        children = [child for _, child in describe_node(node).children]
        stack.extend(reversed(children))


def distributions_by_key(source: ParamSource) -> dict[str, list[Distribution]]:
    """The distributions each parameter is drawn from anywhere in the sweep.

    >>> from metalab import grid, loguniform, random
    >>> sweep = grid(x=[1]) * random({"lr": loguniform(1e-3, 1.0)}, 2, seed=0)
    >>> distributions_by_key(sweep) == {"lr": [loguniform(1e-3, 1.0)]}
    True
    """
    found: dict[str, list[Distribution]] = {}
    for node in walk(source):
        if isinstance(node, RandomSource):
            for key, dist in node.space.items():
                found.setdefault(key, []).append(dist)
    return found
