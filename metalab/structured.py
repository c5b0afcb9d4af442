"""Typed views: a sweep's cases as instances of attrs classes or dataclasses.

The code lives in `metalab._io.structured`; this path is the public one.
"""

from metalab._io.structured import (
    SchemaT,
    Structured,
)

__all__ = [
    "SchemaT",
    "Structured",
]
