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
import errno
import io
import os
import sys
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    import click

__all__ = ["main"]

USAGE_EXIT: Final = 2
"""The exit status of a wrong command line."""
ERROR_EXIT: Final = 1
"""The exit status of a bad sweep, a bad file, or any other failure."""
INTERRUPTED_EXIT: Final = 130


def _fail(message: str, code: int) -> int:
    """Write ``error: MESSAGE``: its first line, then any further lines indented under it."""
    first, *rest = [line.strip() for line in message.strip().splitlines() if line.strip()] or [""]
    text = "".join([first, *(f"\n  {line}" for line in rest)])
    sys.stderr.write(f"error: {text}\n")
    sys.stderr.flush()
    return code


class _ClosedOutput(io.StringIO):
    """Standard output when the process has none (``metalab case ... >&-``).

    Python then sets ``sys.stdout`` to None, which click and rich silently write
    nothing to (or fail on with an AttributeError); this makes every write fail with
    the `OSError` a closed file descriptor gives.
    """

    def write(self, _text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")


def _command() -> click.Group:
    """The click group of every command (imported here, so ``import metalab.cli`` stays light)."""
    from metalab._cli.app import app

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    >>> main(["count", "no-such-sweep.json"])
    1
    """
    args = list(sys.argv[1:] if argv is None else argv)
    closed = sys.stdout is None
    if closed:
        sys.stdout = _ClosedOutput()
    try:
        result = _command().main(args=args, prog_name="metalab", standalone_mode=False)
        # A full disk may only show when the last buffered output is written.
        sys.stdout.flush()
    except KeyboardInterrupt:
        return _fail("interrupted", INTERRUPTED_EXIT)
    except BrokenPipeError:
        # The reader went away (``metalab list ... | head``): stop quietly.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ERROR_EXIT
    except Exception as error:  # noqa: BLE001 - every error becomes one line
        return _report(error, args)
    finally:
        if closed:
            sys.stdout = None  # as it was
    return result if isinstance(result, int) else 0


def _discard_stdout() -> None:
    """Send what is left in standard output's buffer nowhere, so exit adds no traceback."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report(error: Exception, args: Sequence[str]) -> int:  # noqa: C901 - one branch per kind
    """Print ``error`` as one line and return the exit status it calls for."""
    import click

    from metalab._cli.app import Interrupted
    from metalab._cli.load import MEMORY_HINT, CliError, user_code_error
    from metalab.errors import MetalabError

    in_user_code = user_code_error(error)
    if isinstance(error, CliError):
        message, code = str(error), error.exit_code
    elif isinstance(error, MetalabError):
        message, code = str(error), ERROR_EXIT
    elif isinstance(error, Interrupted) or isinstance(error.__cause__, KeyboardInterrupt):
        message, code = "interrupted", INTERRUPTED_EXIT
    elif isinstance(error, click.Abort):
        message, code = "aborted", ERROR_EXIT
    elif isinstance(error, click.ClickException):
        # A wrong command line (unknown option, missing argument, bad value) points at
        # the help of the command it was for.
        message, code = error.format_message(), error.exit_code
        ctx = error.ctx if isinstance(error, click.UsageError) else None
        if ctx is not None:
            message = f"{message} (see '{ctx.command_path} --help')"
    elif os.environ.get("METALAB_TRACEBACK"):
        raise error
    elif in_user_code is not None:
        message, code = str(in_user_code), in_user_code.exit_code
    elif isinstance(error, MemoryError):
        command = next((a for a in args if not a.startswith("-")), "")
        message, code = f"ran out of memory in 'metalab {command}'; {MEMORY_HINT}", ERROR_EXIT
    elif isinstance(error, OSError):
        # Every file metalab reads or writes by name reports its own errors, so what
        # is left is standard output: closed, on a full disk, on a broken device.
        _discard_stdout()
        reason = error.strerror or str(error) or type(error).__name__
        message, code = f"cannot write to standard output: {reason}", ERROR_EXIT
    else:
        text = str(error)
        message = (
            f"unexpected {type(error).__name__}{': ' + text if text else ''} "
            "(set METALAB_TRACEBACK=1 for details)"
        )
        code = ERROR_EXIT
    return _fail(message, code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
