"""Converters between metalab sweeps and the tools researchers come from.

Each converter lives in a private module of its own and is loaded on first use, so
``import metalab.interop`` imports no third-party package; a converter that needs a
package which is not installed raises `metalab.errors.MissingExtraError` naming the
extra to install (``pip install '.[wandb]'`` in a metalab checkout, ``[hydra]``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # Converters of metalab.interop, one sorted block per tool.
    from metalab.interop._hydra import from_hydra, hydra_override, to_hydra
    from metalab.interop._wandb import from_wandb, to_wandb

_LAZY: Final[dict[str, str]] = {
    # Converters of metalab.interop, one sorted block per tool.
    "from_hydra": "metalab.interop._hydra",
    "hydra_override": "metalab.interop._hydra",
    "to_hydra": "metalab.interop._hydra",
    "from_wandb": "metalab.interop._wandb",
    "to_wandb": "metalab.interop._wandb",
}
"""Each public name and the module that defines it, imported when the name is first asked."""

__all__ = [
    "from_hydra",
    "from_wandb",
    "hydra_override",
    "to_hydra",
    "to_wandb",
]


# Hidden from type checkers, so that a misspelt name is still a type error there.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Import the converter ``name`` from its module on first use."""
        module = _LAZY.get(name)
        if module is None:
            msg = f"module 'metalab.interop' has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        """The public names, loaded or not, and the module's dunders (not its helpers)."""
        dunders = (name for name in globals() if name.startswith("__") and name.endswith("__"))
        return sorted({*__all__, *dunders})
