"""The ``metalab`` command: inspect, export and schedule sweeps from the shell.

``metalab show|count|case|list|manifest|array|plot SWEEP ...``, where SWEEP is a
manifest JSON file, ``path/to/file.py:NAME`` or ``package.module:NAME``. See
``metalab --help`` and the CLI reference in the documentation.

Every error is one line on standard error, ``error: <message>``, and a non-zero exit
status: 2 when the command line is wrong, 1 when the sweep (or a file it names) is.
Set ``METALAB_TRACEBACK=1`` to see the Python traceback of an unexpected error.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

USAGE_EXIT: Final = 2
"""The exit status of a wrong command line."""
ERROR_EXIT: Final = 1
"""The exit status of a bad sweep, a bad file, or any other failure."""
INTERRUPTED_EXIT: Final = 130


def _fail(message: str, code: int) -> int:
    text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip())
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()
    return code


def _usage_message(error: BaseException) -> str:
    message = str(getattr(error, "format_message", error.__str__)()).strip()
    if not message:
        return ""
    ctx = getattr(error, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return f"{message} (see '{path} --help')" if path else message


@functools.cache
def _command() -> Any:
    """The click command typer builds from the app (built once: it takes a while)."""
    import typer

    from metalab._cli._app import app

    return typer.main.get_command(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    >>> main(["count", "no-such-sweep.json"])
    1
    """
    try:
        result = _command().main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="metalab",
            standalone_mode=False,
        )
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED_EXIT)
    except BrokenPipeError:
        # The reader went away (``metalab list ... | head``): stop quietly.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ERROR_EXIT
    except Exception as error:  # noqa: BLE001 - every error becomes one line
        return _report(error)
    return result if isinstance(result, int) else 0


def _report(error: Exception) -> int:
    """Print ``error`` as one line and return the exit status it calls for."""
    import typer

    from metalab._cli._load import CliError
    from metalab.errors import MetalabError

    if isinstance(error, CliError):
        return _fail(str(error), error.exit_code)
    if isinstance(error, MetalabError):
        return _fail(str(error), ERROR_EXIT)
    if isinstance(error, typer.Abort):
        return _fail("aborted", ERROR_EXIT)
    code = getattr(error, "exit_code", None)
    if isinstance(code, int) and hasattr(error, "format_message"):
        # A usage error of the command-line library (bad option, missing argument); with
        # no arguments at all, the help was printed and the message is empty.
        message = _usage_message(error)
        return _fail(message, code) if message else code
    if os.environ.get("METALAB_TRACEBACK"):
        raise error
    return _fail(
        f"unexpected {type(error).__name__}: {error} (set METALAB_TRACEBACK=1 for details)",
        ERROR_EXIT,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
