"""Generated code: the one place where metalab writes, compiles and runs Python source.

Grids, products and random sources write out functions for their exact shape (as attrs
writes out an ``__init__``), which saves the generic loops on every case. This module is
all of that machinery, done the way attrs does it (``attr/_make.py``):

- The text is built from validated names only: parameter names through `name_literal`
  (exact ``str``), ints through `int_literal`; every other value is bound in the
  function's namespace, never written into the text.
- Code objects are cached by their text (`compile_functions`), so a second source of
  the same shape costs an ``exec`` of cached code, not a ``compile``.
- Each text is registered with `linecache` under a name derived from its content,
  ``<metalab generated {kind} {digest}>``, so a traceback through generated code shows
  the generated line; the same text always gets the same name, so memory grows with the
  number of distinct texts (bounded by `CACHE_SIZE`), not with the number of sources.
- `generated_code` lets a user read the text written for a source.
"""

from __future__ import annotations

import linecache
import operator
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from metalab._core.case import ParamCase, _new, _set_id, _set_params, _set_tags
from metalab._core.hashing import blake2b

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import CodeType

    from metalab._sources.base import ParamSource

__all__ = [
    "CACHE_SIZE",
    "CASE_NAMESPACE",
    "SOURCE_NAME",
    "case_source",
    "compile_functions",
    "generated_code",
    "int_literal",
    "name_literal",
    "source_of",
]

CACHE_SIZE: Final = 1024
"""The most distinct texts whose code objects (and `linecache` entries) are kept.

Past it, the least recently compiled text is dropped from both: functions already made
from it keep working, only a traceback through them no longer shows the line.
"""

SOURCE_NAME: Final = "__metalab_source__"
"""The namespace entry holding the text the functions of that namespace were made from."""

CASE_NAMESPACE: Final[Mapping[str, object]] = {
    "_new_case": _new,
    "_ParamCase": ParamCase,
    "_set_params": _set_params,
    "_set_tags": _set_tags,
    "_set_id": _set_id,
}
"""The names that `case_source` code uses; a generated function's namespace includes them."""

_LITERAL_INT_MAX: Final = 2**63
"""Ints below this in magnitude are written as literals; larger ones are bound by name,
since the compiler refuses literals beyond Python's int-to-str limit."""

_codes: Final[OrderedDict[str, tuple[CodeType, str]]] = OrderedDict()
"""Text -> (code object, linecache name), least recently used first."""

_lock: Final = threading.Lock()


def name_literal(name: str) -> str:
    """The literal that spells parameter name ``name`` in generated code.

    Only an exact ``str`` is written (its ``repr`` is then a string literal of the same
    text); anything else is a bug in the caller, which must normalize names first, so
    no user-defined ``__repr__`` ever ends up in generated code.

    >>> name_literal("model.lr")
    "'model.lr'"
    """
    if type(name) is not str:
        msg = f"generated code takes exact str names, got {type(name).__name__}"
        raise TypeError(msg)
    return repr(name)


def int_literal(value: int, name: str, namespace: dict[str, object]) -> str:
    """Text for the int ``value`` in generated code: a literal, or ``name`` bound to it.

    >>> ns: dict[str, object] = {}
    >>> int_literal(3, "n0", ns), int_literal(10**5000, "n1", ns), list(ns)
    ('3', 'n1', ['n1'])
    """
    exact = int.__int__(operator.index(value))
    if -_LITERAL_INT_MAX < exact < _LITERAL_INT_MAX:
        return "%d" % exact  # noqa: UP031 - exact int, never a subclass's __format__
    namespace[name] = exact
    return name


def case_source(params: str, tags: str, encoded: str, indent: str) -> str:
    """Source lines that build the local ``case`` as ``make_case`` does, for generated code.

    Sources that write out a function for their exact parameters build cases inline
    with these lines, saving a call per case. ``params`` is an expression giving a fresh
    dict that nothing else holds (the case keeps it as its own, see `make_case`),
    ``tags`` a tuple of str and ``encoded`` the pre-encoded items or ``None``; the
    namespace must hold `CASE_NAMESPACE`.

    >>> print(case_source("{'x': 1}", "()", "None", ""), end="")
    case = _new_case(_ParamCase)
    _set_params(case, {'x': 1})
    _set_tags(case, ())
    _set_id(case, None)
    """
    return (
        f"{indent}case = _new_case(_ParamCase)\n"
        f"{indent}_set_params(case, {params})\n"
        f"{indent}_set_tags(case, {tags})\n"
        f"{indent}_set_id(case, {encoded})\n"
    )


def _filename(text: str, kind: str) -> str:
    """A linecache name unique to ``text``: its digest, lengthened on the rare clash."""
    digest = blake2b(text.encode("utf-8"), digest_size=8, person=b"metalab.codegen").hexdigest()
    filename = f"<metalab generated {kind} {digest}>"
    suffix = 1
    lines = text.splitlines(keepends=True)
    while filename in linecache.cache and linecache.getlines(filename) != lines:
        suffix += 1
        filename = f"<metalab generated {kind} {digest}-{suffix}>"
    return filename


def _register(text: str, filename: str) -> None:
    # mtime None: `linecache.checkcache` keeps the entry (there is no file to stat).
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)


def _code(text: str, kind: str) -> CodeType:
    """The code object of ``text``, compiled once and registered with `linecache`."""
    with _lock:
        hit = _codes.get(text)
        if hit is not None:
            _codes.move_to_end(text)
            code, filename = hit
            if filename not in linecache.cache:  # someone called linecache.clearcache()
                _register(text, filename)
            return code
    filename = _filename(text, kind)
    code = compile(text, filename, "exec")
    with _lock:
        _codes[text] = (code, filename)
        _register(text, filename)
        while len(_codes) > CACHE_SIZE:
            _, (_, old) = _codes.popitem(last=False)
            linecache.cache.pop(old, None)
    return code


def compile_functions(text: str, namespace: dict[str, Any], kind: str) -> dict[str, Any]:
    r"""Run the generated ``text`` in ``namespace`` and return it, holding the new functions.

    ``kind`` names the generator in the linecache name (``"grid"``, ``"product"``, ...).
    The code object is compiled once per distinct text; the namespace also gets the text
    itself under `SOURCE_NAME`, which is how `generated_code` finds it again.

    >>> ns = compile_functions("def double(x):\n    return 2 * x\n", {}, "example")
    >>> ns["double"](21), ns["double"].__code__.co_filename.startswith("<metalab generated")
    (42, True)
    """
    namespace[SOURCE_NAME] = text
    exec(_code(text, kind), namespace)  # noqa: S102 - the text holds validated names only
    return namespace


def source_of(*functions: Callable[..., Any] | None) -> str:
    r"""The texts ``functions`` were generated from, each once, in order ('' for none).

    >>> ns = compile_functions("def f():\n    return 1\n", {}, "example")
    >>> print(source_of(ns["f"], None, ns["f"]), end="")
    def f():
        return 1
    """
    texts: list[str] = []
    for function in functions:
        text = getattr(function, "__globals__", {}).get(SOURCE_NAME)
        if isinstance(text, str) and text not in texts:
            texts.append(text)
    return "\n".join(texts)


def generated_code(source: ParamSource) -> str:
    """The Python code metalab wrote out for ``source`` itself, or '' if it uses none.

    Grids, products and random sources write out functions for their exact shape (the
    way attrs writes out an ``__init__``), so looking up a case runs no generic loop.
    This is their text, as tracebacks show it. Values never appear in it: they are
    bound by name (``a0`` is the first axis). The code of a composite's parts is their
    own: call this on each part.

    >>> from metalab import generated_code, grid, manual
    >>> print(generated_code(grid(lr=[0.1, 0.01], seed=[0, 1, 2])))  # doctest: +ELLIPSIS
    def lookup(i):
        v1 = a1[i % 3]
        i //= 3
        v0 = a0[i]
        case = _new_case(_ParamCase)
        _set_params(case, {'lr': v0, 'seed': v1})
        ...
    >>> generated_code(manual([{"x": 1}]))
    ''
    """
    return source._generated_code()  # noqa: SLF001 - the per-source hook behind this function
