"""Turn the SWEEP argument into a source: a manifest file, or a name defined in code.

A manifest is data and is only ever parsed. ``path/to/file.py:NAME`` runs that file
(the user's own code, as ``python path/to/file.py`` would, but under a private module
name, so its ``if __name__ == "__main__":`` block does not run) and
``package.module:NAME`` imports that module; ``NAME`` may be dotted
(``module:sweeps.small``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Final

from metalab.errors import ManifestError, MetalabError

if TYPE_CHECKING:
    from types import ModuleType

    from metalab.params._base import ParamSource

__all__ = ["CliError", "load_sweep"]

SWEEP_FORMS: Final = "a manifest JSON file, path/to/file.py:NAME or package.module:NAME"
_MODULE_NAME: Final = "__metalab_sweep__"
"""The module name a sweep file runs under (never ``__main__``)."""


class CliError(Exception):
    """A problem the command reports as one line, with its exit code (2 usage, 1 otherwise)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        """Remember the message and the exit code."""
        super().__init__(message)
        self.exit_code = exit_code


def load_sweep(spec: str) -> ParamSource:
    """The source that SWEEP names; every failure is a `CliError` or a metalab error."""
    if not spec:
        msg = f"SWEEP is empty; give {SWEEP_FORMS}"
        raise CliError(msg, 2)
    path = Path(spec)
    if ":" in spec and not path.is_file():
        target, _, name = spec.rpartition(":")
        return _load_code(spec, target, name)
    if path.suffix == ".py":
        msg = f"{spec} is Python code: name the sweep defined in it, e.g. {spec}:sweep"
        raise CliError(msg, 2)
    if not path.exists():
        msg = f"no such file: {spec} (SWEEP is {SWEEP_FORMS})"
        raise CliError(msg)
    return _load_manifest(path)


def _load_manifest(path: Path) -> ParamSource:
    from metalab.manifest import loads

    try:
        text = path.read_bytes()
    except OSError as error:
        msg = f"cannot read {path}: {error.strerror or error}"
        raise CliError(msg) from None
    try:
        return loads(text)
    except ManifestError as error:
        msg = f"{path}: {error}"
        raise CliError(msg) from None


def _load_code(spec: str, target: str, name: str) -> ParamSource:
    if not target or not name or not all(part.isidentifier() for part in name.split(".")):
        msg = f"{spec!r} is not {SWEEP_FORMS}"
        raise CliError(msg, 2)
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    module = _run_file(spec, Path(target)) if is_file else _import_module(spec, target)
    value: object = module
    for i, part in enumerate(name.split(".")):
        if not hasattr(value, part):
            where = target if i == 0 else f"{target}:{'.'.join(name.split('.')[:i])}"
            msg = f"{where} has no attribute {part!r}{_hint(module) if i == 0 else ''}"
            raise CliError(msg)
        value = getattr(value, part)
    from metalab.params._base import ParamSource

    if not isinstance(value, ParamSource):
        msg = (
            f"{spec} is a {type(value).__name__}, not a sweep (a metalab source such as "
            f"grid(...)){_hint(module)}"
        )
        raise CliError(msg)
    return value


def _hint(module: ModuleType) -> str:
    from metalab.params._base import ParamSource

    names = sorted(k for k, v in vars(module).items() if isinstance(v, ParamSource))
    if not names:
        return "; it defines no sweep"
    return f"; the sweeps it defines: {', '.join(names)}"


def _run_file(spec: str, path: Path) -> ModuleType:
    if not path.is_file():
        msg = f"no such file: {path} (in SWEEP {spec!r})"
        raise CliError(msg)
    module_spec = importlib.util.spec_from_file_location(_MODULE_NAME, path)
    if module_spec is None or module_spec.loader is None:
        msg = f"cannot load {path} as Python code"
        raise CliError(msg)
    module = importlib.util.module_from_spec(module_spec)
    # As for `python path/to/file.py`: the file's folder is importable, so it can import
    # its neighbours, and the module is registered so that dataclasses and attrs work.
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[_MODULE_NAME] = module
    try:
        module_spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:  # the user's code may raise anything
        raise _code_error(str(path), error) from error
    return module


def _import_module(spec: str, target: str) -> ModuleType:
    # As for `python -m`: modules in the working directory are importable.
    cwd = str(Path.cwd())
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as error:
        if error.name is not None and (target == error.name or target.startswith(f"{error.name}.")):
            msg = f"no module named {error.name!r} (in SWEEP {spec!r}, which is {SWEEP_FORMS})"
            raise CliError(msg) from None
        raise _code_error(target, error) from error
    except (Exception, SystemExit) as error:  # the user's code may raise anything
        raise _code_error(target, error) from error


def _code_error(where: str, error: BaseException) -> Exception:
    """One line saying what the user's code raised, and where."""
    if isinstance(error, MetalabError):
        return error
    location = ""
    if isinstance(error, SyntaxError) and error.filename:
        location = f" ({error.filename}, line {error.lineno})"
    else:
        frames = traceback.extract_tb(error.__traceback__)
        user = [f for f in frames if not f.filename.startswith("<") and f.filename != __file__]
        if user:
            location = f" ({user[-1].filename}, line {user[-1].lineno})"
    text = str(error).splitlines()[0] if str(error) else ""
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return CliError(f"running {where} raised {message}{location}")
