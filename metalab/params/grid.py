"""Grid search: every combination of the values given for each parameter.

The code lives in `metalab._sources.grid`; this path is the public one.
"""

from metalab._sources.grid import (
    Axis,
    AxisInput,
    GridSource,
    grid,
)

__all__ = [
    "Axis",
    "AxisInput",
    "GridSource",
    "grid",
]
