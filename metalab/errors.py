"""The exceptions metalab raises.

Every error metalab raises on purpose derives from [`MetalabError`][metalab.errors.MetalabError],
and also from the builtin exception a caller would naturally catch (``ValueError``,
``IndexError``, ...), so ``except ValueError`` keeps working.
"""

import typing as _typing

if _typing.TYPE_CHECKING:
    from metalab._run.submit import Submission

__all__ = [
    "CaseIndexError",
    "CaseNotFoundError",
    "EvaluationError",
    "ExpressionError",
    "IndexTypeError",
    "ManifestError",
    "MetalabError",
    "MissingExtraError",
    "ParamError",
    "ResultsError",
    "SchemaError",
    "SizeOverflowError",
    "SubmissionError",
    "UnserializableResultError",
    "UnsupportedOperationError",
]


class MetalabError(Exception):
    """Base class of every error metalab raises on purpose."""


class ParamError(MetalabError, ValueError):
    """A sweep was defined with bad input: raised when the source is built, never later."""


class SchemaError(ParamError):
    """A sweep does not fit the typed schema it is structured into."""


class ManifestError(MetalabError, ValueError):
    """A manifest cannot be read: malformed, of an unknown type, or from a newer format.

    The message starts with the JSON path of the problem, e.g.
    ``space.lr.low: expected a number, got "abc"``.
    """


class CaseIndexError(MetalabError, IndexError):
    """An index lies outside a source."""


class IndexTypeError(MetalabError, TypeError):
    """An index or a slice bound is not an int: ``source[1.5]``, ``source["a"]``, ``source[::0.5]``.

    As for Python's lists, any object with ``__index__`` (e.g. ``numpy.int64``) is an int;
    unlike lists, bools are refused, as they are wherever metalab takes an int.
    """


class CaseNotFoundError(MetalabError, LookupError):
    """``index_of`` was asked for params that no case of the source has."""


class UnsupportedOperationError(MetalabError, TypeError):
    """An operation is not defined for this kind of source (e.g. ``index_of`` on random draws)."""


class SizeOverflowError(MetalabError, OverflowError):
    """``len()`` was asked of a source larger than ``sys.maxsize``; use ``source.size``."""


class MissingExtraError(MetalabError, ImportError):
    """A converter of `metalab.interop`, or `metalab.submit`, needs a package not installed.

    The message names the optional extra that installs it, e.g.
    ``pip install '.[optuna]'`` in a metalab checkout.
    """


class ExpressionError(ParamError):
    """An expression is malformed or does not fit its source: raised when it is built or used.

    The message names the expression: a column the source does not have, a type clash
    its values rule out (``col("model") + 1`` where ``model`` is a str), ``bool(expr)``.
    """


class EvaluationError(MetalabError, ArithmeticError):
    """An expression failed on one case (a division by zero, the log of a negative number).

    The message names the expression and the index of the case.
    """


class ResultsError(MetalabError, ValueError):
    """A results directory cannot be read: a file in it is corrupt, foreign or newer.

    The message names the file and what is wrong with it.
    """


class UnserializableResultError(MetalabError, TypeError):
    """A case's result cannot be written as JSON (e.g. an object, a set, a non-str key).

    `metalab.run` records the case as failed with this error, so nothing is lost
    silently, and goes on with the other cases.
    """


class SubmissionError(MetalabError, RuntimeError):
    """`metalab.submit` could not submit every job array: the scheduler refused one.

    Its ``submission`` holds the arrays submitted before the refused one (maybe none),
    which run: wait for them (``error.submission.wait()``) or cancel their jobs, then
    submit again, and with ``resume`` only the cases not done are submitted. The
    scheduler's own error is the ``__cause__``.
    """

    # A module of the lowest layer: the type is named, never imported, at run time.
    def __init__(self, message: str, submission: "Submission") -> None:
        """An error saying ``message``, with the arrays submitted before it."""
        super().__init__(message)
        self.submission: Submission = submission
