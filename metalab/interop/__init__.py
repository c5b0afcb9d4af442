"""Converters between metalab sweeps and the tools researchers come from.

Each converter lives in a private module of its own and is loaded on first use, so
``import metalab.interop`` imports no third-party package; a converter that needs a
package which is not installed raises `metalab.errors.MissingExtraError` naming the
extra to install (``pip install '.[sklearn]'`` in a metalab checkout, ``[optuna]``,
``[tune]``, ``[wandb]``, ``[hydra]``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    # Converters of metalab.interop, one sorted block per tool.
    from metalab.interop._hydra import from_hydra, hydra_override, to_hydra
    from metalab.interop._optuna import INDEX_ATTR, enqueue, from_optuna, grid_sampler, to_optuna
    from metalab.interop._sklearn import (
        SklearnGrid,
        from_sklearn,
        from_sklearn_distributions,
        to_sklearn,
    )
    from metalab.interop._tune import INDEX_KEY, case_of, from_tune, to_tune
    from metalab.interop._wandb import from_wandb, to_wandb

_LAZY: Final[dict[str, str]] = {
    # Converters of metalab.interop, one sorted block per tool.
    "from_hydra": "metalab.interop._hydra",
    "hydra_override": "metalab.interop._hydra",
    "to_hydra": "metalab.interop._hydra",
    "INDEX_ATTR": "metalab.interop._optuna",
    "enqueue": "metalab.interop._optuna",
    "from_optuna": "metalab.interop._optuna",
    "grid_sampler": "metalab.interop._optuna",
    "to_optuna": "metalab.interop._optuna",
    "SklearnGrid": "metalab.interop._sklearn",
    "from_sklearn": "metalab.interop._sklearn",
    "from_sklearn_distributions": "metalab.interop._sklearn",
    "to_sklearn": "metalab.interop._sklearn",
    "INDEX_KEY": "metalab.interop._tune",
    "case_of": "metalab.interop._tune",
    "from_tune": "metalab.interop._tune",
    "to_tune": "metalab.interop._tune",
    "from_wandb": "metalab.interop._wandb",
    "to_wandb": "metalab.interop._wandb",
}
"""Each public name and the module that defines it, imported when the name is first asked."""

__all__ = [
    "INDEX_ATTR",
    "INDEX_KEY",
    "SklearnGrid",
    "case_of",
    "enqueue",
    "from_hydra",
    "from_optuna",
    "from_sklearn",
    "from_sklearn_distributions",
    "from_tune",
    "from_wandb",
    "grid_sampler",
    "hydra_override",
    "to_hydra",
    "to_optuna",
    "to_sklearn",
    "to_tune",
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
