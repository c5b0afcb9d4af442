"""The exceptions metalab raises.

Every error metalab raises on purpose derives from [`MetalabError`][metalab.errors.MetalabError],
and also from the builtin exception a caller would naturally catch (``ValueError``,
``IndexError``, ...), so ``except ValueError`` keeps working.
"""

__all__ = [
    "CaseIndexError",
    "CaseNotFoundError",
    "IndexTypeError",
    "ManifestError",
    "MetalabError",
    "MissingExtraError",
    "ParamError",
    "SchemaError",
    "SizeOverflowError",
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
    """A converter of `metalab.interop` needs a package that is not installed.

    The message names the optional extra that installs it, e.g.
    ``pip install '.[hydra]'`` in a metalab checkout.
    """
