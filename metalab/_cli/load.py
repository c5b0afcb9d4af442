"""Turn the SWEEP argument into a source: a manifest file, or a name defined in code.

A manifest is data and is only ever parsed. ``path/to/file.py:NAME`` runs that file
(the user's own code, as ``python path/to/file.py`` would, but under a private module
name, so its ``if __name__ == "__main__":`` block does not run) and
``package.module:NAME`` imports that module; ``NAME`` may be dotted
(``module:sweeps.small``).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import sysconfig
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Final

from metalab.errors import ManifestError, MetalabError

if TYPE_CHECKING:
    from types import ModuleType, TracebackType

    from metalab._sources.base import ParamSource

__all__ = ["MEMORY_HINT", "CliError", "article", "load_sweep", "user_code_error"]

SWEEP_FORMS: Final = "a manifest JSON file, path/to/file.py:NAME or package.module:NAME"
_MODULE_NAME: Final = "__metalab_sweep__"
"""The module name a sweep file runs under (never ``__main__``)."""
MEMORY_HINT: Final = (
    "the sweep or its values are too large for this machine's memory: "
    "try a smaller sweep, fewer cases at a time, or a machine with more memory"
)
"""What to try after a `MemoryError`."""
_PACKAGE_DIR: Final = str(Path(__file__).resolve().parent.parent) + os.sep
"""Frames in files under this folder are metalab's own code, never the user's."""


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
        if Path(target).is_file() and Path(target).suffix != ".py":
            msg = (
                f"{target} is a manifest, which holds exactly one sweep: give {target} "
                f"without {':' + name!r} (a :NAME picks a sweep out of Python code)"
            )
            raise CliError(msg, 2)
        # The user's prints would land in the middle of the JSON that `case` and
        # `manifest` write to standard output, so they go to standard error.
        with contextlib.redirect_stdout(sys.stderr):
            return _load_code(spec, target, name)
    if path.suffix == ".py":
        msg = f"{spec} is Python code: name the sweep defined in it, e.g. {spec}:sweep"
        raise CliError(msg, 2)
    if not path.exists():
        msg = f"no such file: {spec} (SWEEP is {SWEEP_FORMS})"
        raise CliError(msg)
    return _load_manifest(path)


def _load_manifest(path: Path) -> ParamSource:
    from metalab._io.manifest import loads

    try:
        text = path.read_bytes()
    except OSError as error:
        msg = f"cannot read {path}: {error.strerror or error}"
        raise CliError(msg) from None
    try:
        return loads(text)
    except ManifestError as error:
        problems = str(error).splitlines()
        if len(problems) == 1:
            msg = f"{path}: {problems[0]}"
        else:  # one line per problem, under a line that counts them
            msg = "\n".join([f"{path}: {len(problems)} problems", *problems])
        raise CliError(msg) from None


def _load_code(spec: str, target: str, name: str) -> ParamSource:
    if not target or not name or not all(part.isidentifier() for part in name.split(".")):
        msg = f"{spec!r} is not {SWEEP_FORMS}"
        raise CliError(msg, 2)
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    module = _run_file(spec, Path(target)) if is_file else _import_module(spec, target)
    value: object = module
    for i, part in enumerate(name.split(".")):
        try:
            value = getattr(value, part)
        except AttributeError:
            where = target if i == 0 else f"{target}:{'.'.join(name.split('.')[:i])}"
            msg = f"{where} has no attribute {part!r}{_hint(module) if i == 0 else ''}"
            raise CliError(msg) from None
        except Exception as error:  # a property of the user's object may raise anything
            where = f"{target}:{'.'.join(name.split('.')[: i + 1])}"
            raise _code_error(where, error) from error
    from metalab._sources.base import ParamSource

    if not isinstance(value, ParamSource):
        kind = type(value).__name__
        msg = (
            f"{spec} is {article(kind)} {kind}, not a sweep (a metalab source such as "
            f"grid(...)){_hint(module)}"
        )
        raise CliError(msg)
    return value


def article(word: str) -> str:
    """The indefinite article of ``word``: ``an`` before a vowel (``an int``), else ``a``.

    >>> article("int"), article("list")
    ('an', 'a')
    """
    return "an" if word[:1].lower() in "aeiou" and word else "a"


def _hint(module: ModuleType) -> str:
    from metalab._sources.base import ParamSource

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
            manifest = (
                f"; no such file: {target} either (a manifest takes no :NAME)"
                if target.endswith(".json")
                else ""
            )
            msg = (
                f"no module named {error.name!r} (in SWEEP {spec!r}, which is "
                f"{SWEEP_FORMS}){manifest}"
            )
            raise CliError(msg) from None
        raise _code_error(target, error) from error
    except (Exception, SystemExit) as error:  # the user's code may raise anything
        raise _code_error(target, error) from error


def _code_error(where: str, error: BaseException) -> Exception:
    """One line saying what the user's code raised, and where in it."""
    if isinstance(error, SyntaxError) and error.filename:
        # str() of a SyntaxError already ends with its location; say it once.
        location = f" ({error.filename}, line {error.lineno})"
        return CliError(f"running {where} raised SyntaxError: {error.msg}{location}")
    location = _location(error.__traceback__)
    if isinstance(error, MetalabError):
        # metalab's own message, and the line of the user's code that made the call.
        return CliError(f"{error}{location}") if location else error
    if isinstance(error, MemoryError):
        return CliError(f"running {where} ran out of memory{location}; {MEMORY_HINT}")
    return CliError(f"running {where} raised {_describe(error)}{location}")


def user_code_error(error: BaseException) -> CliError | None:
    """The error of ``error`` as the user's code's, if it was raised in the user's code.

    A sweep is the user's code as much as metalab's: a source they defined, a property
    of their object. What that code raises is not a bug of metalab's.
    """
    location = _location(error.__traceback__, library=False)
    if not location:
        return None
    if isinstance(error, MemoryError):
        return CliError(f"your code ran out of memory{location}; {MEMORY_HINT}")
    return CliError(f"your code raised {_describe(error)}{location}")


def _describe(error: BaseException) -> str:
    text = _one_line(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _one_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return lines[0] if lines else ""


def _location(tb: TracebackType | None, *, library: bool = True) -> str:
    """`` (file, line N)`` of the innermost frame of the user's code in ``tb``, or ``""``.

    The user's code is every file outside metalab, Python's standard library and the
    installed packages (a frame in numpy says less than the user's line that called
    it). With ``library``, a file among the installed packages counts as the user's
    when nothing else does (an installed package of sweeps, ``package.module:NAME``).
    """
    stdlib, installed = (
        tuple(str(Path(sysconfig.get_path(k)).resolve()) + os.sep for k in keys)
        for keys in (("stdlib", "platstdlib"), ("purelib", "platlib"))
    )
    files = [
        (str(Path(f.filename).resolve()), f)
        for f in traceback.extract_tb(tb)
        if not f.filename.startswith("<")
    ]
    frames = [(path, f) for path, f in files if not path.startswith(_PACKAGE_DIR)]
    own = [f for path, f in frames if not path.startswith(stdlib + installed)]
    if not own and library:
        own = [f for path, f in frames if not path.startswith(stdlib)]
    return f" ({own[-1].filename}, line {own[-1].lineno})" if own else ""
