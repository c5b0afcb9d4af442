# ruff: noqa: INP001 - loaded by mkdocstrings from its path, not imported as a package
"""A Griffe extension: the ``>>>`` examples of docstrings render as code in the reference.

metalab's docstrings show examples as bare doctest blocks (run by pytest's
``--doctest-modules``). Markdown would read their ``>>>`` as nested block quotes and
their brackets as links, so this extension fences each block as ``pycon`` code.
"""

from __future__ import annotations

from typing import Any

import griffe

__all__ = ["DoctestBlocks", "fence_doctests"]


def fence_doctests(text: str) -> str:
    r"""Wrap every unindented doctest block of ``text`` in a ``pycon`` code fence.

    A block starts at a line beginning with ``>>>`` and ends at the next blank line;
    lines already inside a fence are left alone.

    >>> text = "Adds.\n\n" + ">" * 3 + " 1 + 1\n2"
    >>> fence_doctests(text).splitlines()
    ['Adds.', '', '```pycon', '>>> 1 + 1', '2', '```']
    """
    out: list[str] = []
    in_fence = in_example = False
    for line in text.splitlines():
        if not in_example and line.lstrip().startswith("```"):
            in_fence = not in_fence
        elif not in_fence and not in_example and line.startswith(">>>"):
            out.append("```pycon")
            in_example = True
        elif in_example and not line.strip():
            out.append("```")
            in_example = False
        out.append(line)
    if in_example:
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples of every docstring Griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of each object as it is created."""
        del kwargs
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
