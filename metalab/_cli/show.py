"""The composition tree that ``metalab show`` draws."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from metalab._cli.nodes import describe_node, printable
from metalab._core.intstr import format_count

if TYPE_CHECKING:
    from rich.text import Text
    from rich.tree import Tree

    from metalab._sources.base import ParamSource

__all__ = ["MAX_CHILDREN", "sweep_tree"]

MAX_CHILDREN: Final = 20
"""A node shows at most this many of its children."""


def _label(source: ParamSource, name: str) -> tuple[Text, list[str], list[tuple[str, ParamSource]]]:
    from rich.text import Text

    node = describe_node(source)
    label = Text()
    if name:
        label.append(f"{printable(name)}: ", style="bold")
    label.append(printable(node.kind), style="bold cyan")
    label.append(f"  {format_count(node.size)} case{'' if node.size == 1 else 's'}", style="green")
    for detail in node.details:
        label.append(f"  {printable(detail)}", style="yellow")
    if node.children and node.keys:
        label.append(f"  params: {', '.join(map(printable, node.keys))}", style="dim")
    return label, list(node.lines), list(node.children)


def sweep_tree(source: ParamSource, title: str) -> Tree:
    """The sweep as a rich tree: each node's kind, size, details and parameters.

    Every piece is plain text (`rich.text.Text`), never markup, with control characters
    escaped: names come from manifests and code.
    """
    from rich.text import Text
    from rich.tree import Tree

    label, lines, children = _label(source, "")
    root = Tree(Text.assemble((printable(title), "bold"), "  ", label))
    stack = [(root, lines, children)]
    while stack:
        branch, lines, children = stack.pop()
        for line in lines:
            branch.add(Text(printable(line)))
        pending = []
        for name, child in children[:MAX_CHILDREN]:
            child_label, child_lines, grandchildren = _label(child, name)
            pending.append((branch.add(child_label), child_lines, grandchildren))
        if len(children) > MAX_CHILDREN:
            branch.add(Text(f"... and {len(children) - MAX_CHILDREN:,} more", style="dim"))
        stack.extend(reversed(pending))
    return root
