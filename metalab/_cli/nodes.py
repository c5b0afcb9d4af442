"""What a sweep is made of: each node's kind, size, parameters and children.

Used by ``metalab show`` to draw the composition tree and by ``metalab plot`` to find
the distributions behind each parameter. Each source says what it is
(`ParamSource.describe`) and what it is built from (`ParamSource.children`); the
generic defaults describe any source from its attrs fields, so a new kind of node is
shown sensibly without a change here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, cast

import attrs

from metalab._core.intstr import digit_count, format_count, int_to_str

if TYPE_CHECKING:
    from metalab._sources.base import ParamSource
    from metalab._sources.distributions import Distribution

__all__ = [
    "Node",
    "describe_node",
    "distributions_by_key",
    "format_value",
    "printable",
]

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

    What to say is the source's own `ParamSource.describe` and `ParamSource.children`;
    this only formats it.

    >>> from metalab import grid
    >>> node = describe_node(grid(x=[1, 2], y=range(3)))
    >>> node.kind, node.size, node.lines
    ('grid', 6, ('x: [1, 2]', 'y: range(0, 3)'))
    """
    description = source.describe()
    lines = tuple(_format_line(*line) for line in description.lines)
    return Node(
        description.kind,
        source.size,
        source.keys,
        description.details,
        lines,
        source.children(),
    )


def _format_line(key: str, relation: str, shown: object) -> str:
    if isinstance(shown, str):
        text = shown
    elif relation == "~":
        text = format_distribution(cast("Distribution", shown))
    else:
        text = _format_values(cast("Sequence[object]", shown))
    sep = " ~ " if relation == "~" else ": "
    return f"{printable(key)}{sep}{text}"


def walk(source: ParamSource) -> Iterator[ParamSource]:
    """Every node of a sweep, depth first, the sweep itself first."""
    stack = [source]
    while stack:
        node = stack.pop()
        yield node
        children = [child for _, child in node.children()]
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
        for key, relation, dist in node.describe().lines:
            if relation == "~":
                found.setdefault(key, []).append(cast("Distribution", dist))
    return found
