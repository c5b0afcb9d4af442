"""Explicit cases, in the order given.

The code lives in `metalab._sources.manual`; this path is the public one.
"""

from metalab._sources.manual import (
    ManualSource,
    manual,
)

__all__ = [
    "ManualSource",
    "manual",
]
