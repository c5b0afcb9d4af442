"""What the converters share: the axes of a grid, or of a product of grids."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metalab.params import GridSource, ProductSource

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["grid_axes"]


def grid_axes(source: object) -> list[tuple[str, Sequence[Any] | range]] | None:
    """The axes of a grid, or of a product of grids, slowest first; None for other sources.

    A product of grids runs its axes as one mixed radix (`ParamSource.product_factors`),
    the first axis slowest: Hydra's basic sweeper and W&B's grid cross theirs the same way.
    """
    if isinstance(source, GridSource):
        factors = list(source.product_factors())
    elif isinstance(source, ProductSource):
        factors = [f for part in source.parts for f in part.product_factors()]
    else:
        return None
    if any(key is None for _, key, _ in factors):
        return None
    return [(key, payload) for _, key, payload in factors if key is not None]
