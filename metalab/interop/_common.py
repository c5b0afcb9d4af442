"""What the converters share: loading a tool on first use, and values in plain form."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from metalab.errors import MissingExtraError

if TYPE_CHECKING:
    from types import ModuleType

    from metalab._core.values import ParamValue

__all__ = ["MAX_LISTED", "plain", "require"]

MAX_LISTED: Final = 10_000
"""The most values a converter writes out one by one (e.g. the points of a step grid).

A law that another tool has no native form for is listed as a choice of its values
when it has few; beyond this count the conversion is refused rather than writing a
manifest or a config of millions of entries.
"""


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import ``module`` for ``what``, or raise `MissingExtraError` naming the extra.

    >>> require("json", "none", "a doctest").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = module.partition(".")[0]
        msg = (
            f"{what} needs the package {package!r}, which is not installed; "
            f"run pip install '.[{extra}]' in a metalab checkout"
        )
        raise MissingExtraError(msg) from error


def plain(value: ParamValue) -> Any:
    """A parameter value as plain Python: read-only mappings become ``dict`` (tuples stay).

    >>> from metalab._core.values import FrozenDict
    >>> plain((1, FrozenDict({"a": 2})))
    (1, {'a': 2})
    """
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(plain(item) for item in value)
    return value
