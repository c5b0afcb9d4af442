"""`check_source`: assert, on one sweep, the laws metalab promises for every source.

The laws are checked at sampled indices (the first, the last and seeded random ones),
so a sweep of ``10**40`` cases is checked as quickly as one of ten.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
from itertools import islice
from typing import TYPE_CHECKING, Any, Final, TypeVar

from metalab._core.case import encode_value
from metalab._core.intstr import counted
from metalab._sources.base import ParamSource

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from metalab._core.case import ParamCase
    from metalab._io.structured import Structured

__all__ = ["check_source"]

T = TypeVar("T")

ITERATION_LIMIT: Final = 10_000
"""Sources up to this size are iterated in full to check indexing against iteration."""

PREFIX: Final = 64
"""How many leading cases are compared with iteration for larger sources."""

_CHILD_TIMEOUT: Final = 300

# The fresh interpreter: rebuild the source from its manifest text through its class's
# ``from_manifest_dict``, then describe the requested cases exactly as the parent does.
_CHILD: Final = """
import importlib, json, sys
payload = json.load(sys.stdin)
sys.path[:] = payload["path"]
from metalab._core.case import encode_value
cls = importlib.import_module(payload["module"])
for name in payload["qualname"].split("."):
    cls = getattr(cls, name)
source = cls.from_manifest_dict(json.loads(payload["manifest"]))
def describe(case):
    return [encode_value(case.params).hex(), list(case.tags), case.case_id]
json.dump(
    {"size": source.size, "cases": [describe(source[i]) for i in payload["indices"]]},
    sys.stdout,
)
"""


def _fail(law: str, detail: str) -> AssertionError:
    return AssertionError(f"check_source: law {law!r} fails: {detail}")


def _describe(case: ParamCase) -> list[Any]:
    """A case as comparable plain data: encoded params (types kept apart), tags, id."""
    return [encode_value(case.params).hex(), list(case.tags), case.case_id]


def _same(case: ParamCase, other: ParamCase) -> bool:
    return _describe(case) == _describe(other)


def _compare(law: str, i: int, what: str, expected: ParamCase, got: ParamCase) -> None:
    if not _same(expected, got):
        msg = f"at index {i}, source[{i}] is {expected!r} but {what} gives {got!r}"
        raise _fail(law, msg)


def _call(law: str, what: str, fn: Callable[..., T], *args: Any) -> T:
    """Run one step of a law; an exception is a failure of that law."""
    try:
        return fn(*args)
    except Exception as error:
        msg = f"{what} raised {type(error).__name__}: {error}"
        raise _fail(law, msg) from error


def sample_indices(size: int, samples: int, seed: int) -> list[int]:
    """The first and last index and ``samples - 2`` seeded random ones, sorted, distinct.

    >>> sample_indices(10**40, 4, seed=0)[:1], sample_indices(10**40, 4, seed=0)[-1] == 10**40 - 1
    ([0], True)
    """
    if size <= 0:
        return []
    if size <= samples:
        return list(range(size))
    rng = random.Random(seed)  # noqa: S311 - sampling, not security
    picked = {0, size - 1}
    while len(picked) < samples:
        picked.add(rng.randrange(size))
    return sorted(picked)


def _check_iteration(source: ParamSource, indices: Sequence[int]) -> None:
    law = "indexing agrees with iteration"
    size = source.size
    limit = size if size <= ITERATION_LIMIT else PREFIX
    iterated = _call(law, "iterating the source", lambda: list(islice(iter(source), limit)))
    if len(iterated) != limit:
        msg = f"iteration gave {counted(len(iterated), 'case')}, but the source has size {size}"
        raise _fail(law, msg)
    checked = [i for i in indices if i < limit] + list(range(min(limit, 3)))
    for i in sorted(set(checked)):
        case = _call(law, f"source[{i}]", source.__getitem__, i)
        _compare(law, i, "iteration", case, iterated[i])
    for i in indices:
        case = source[i]
        taken = _call(law, f"source.take([{i}])", source.take, [i])
        _compare(law, i, f"source.take([{i}])", case, taken[0])
        tail = _call(law, f"source[{i}:]", _first_from, source, i)
        _compare(law, i, f"iterating source[{i}:]", case, tail)


def _first_from(source: ParamSource, i: int) -> ParamCase:
    return next(iter(source[i:]))


def _check_negative(source: ParamSource, indices: Sequence[int]) -> None:
    law = "negative indices"
    size = source.size
    for i in indices:
        got = _call(law, f"source[{i - size}]", source.__getitem__, i - size)
        _compare(law, i, f"source[{i - size}]", source[i], got)


def _check_bounds(source: ParamSource) -> None:
    law = "indices out of range raise IndexError"
    size = source.size
    for index in (size, -size - 1):
        try:
            got = source[index]
        except IndexError:
            continue
        except Exception as error:
            msg = f"source[{index}] raised {type(error).__name__} ({error}), not IndexError"
            raise _fail(law, msg) from error
        msg = f"at index {index}, source[{index}] gave {got!r} for a source of size {size}"
        raise _fail(law, msg)


def _check_copy(law: str, source: ParamSource, copy: object, indices: Sequence[int]) -> None:
    if not isinstance(copy, ParamSource) or copy != source:
        msg = f"the source is {source!r} but the copy is {copy!r}"
        raise _fail(law, msg)
    if copy.size != source.size:
        msg = f"the source has size {source.size} but the copy has size {copy.size}"
        raise _fail(law, msg)
    for i in indices:
        got = _call(law, f"copy[{i}]", copy.__getitem__, i)
        _compare(law, i, f"the copy's [{i}]", source[i], got)


def _check_pickle(source: ParamSource, indices: Sequence[int]) -> None:
    law = "pickle round trip"
    copy = _call(law, "pickling", lambda: pickle.loads(pickle.dumps(source)))  # noqa: S301
    _check_copy(law, source, copy, indices)


def manifest_text(source: ParamSource) -> str:
    """The manifest as JSON text, written as `metalab._io.manifest.dumps` writes it."""
    return json.dumps(
        source.to_manifest_dict(),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    )


def _check_manifest(source: ParamSource, indices: Sequence[int]) -> str:
    law = "manifest round trip"
    cls = type(source)
    rebuilt = _call(
        law,
        "to_manifest_dict/from_manifest_dict",
        lambda: cls.from_manifest_dict(source.to_manifest_dict()),
    )
    _check_copy(law, source, rebuilt, indices)
    law = "manifest round trip through JSON text"
    text: str = _call(law, "writing the manifest as JSON", lambda: manifest_text(source))
    rebuilt = _call(
        law, "reading the manifest's JSON text", lambda: cls.from_manifest_dict(json.loads(text))
    )
    _check_copy(law, source, rebuilt, indices)
    again = _call(law, "writing the rebuilt source's manifest", lambda: manifest_text(rebuilt))
    if again != text:
        msg = f"the manifest text is {text!r} but the rebuilt source writes {again!r}"
        raise _fail(law, msg)
    return text


def _child_hash_seed() -> str:
    """A PYTHONHASHSEED other than this process's."""
    current = os.environ.get("PYTHONHASHSEED", "")
    if current.isdigit():
        return str((int(current) + 1) % 2**32)
    return "3141"


def _check_fresh_process(source: ParamSource, text: str, indices: Sequence[int]) -> None:
    law = "same cases in a fresh process"
    cls = type(source)
    payload = {
        "path": sys.path,
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "manifest": text,
        "indices": list(indices),
    }
    hash_seed = _child_hash_seed()
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _CHILD],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        check=False,
        timeout=_CHILD_TIMEOUT,
    )
    if done.returncode != 0:
        msg = f"the fresh process (PYTHONHASHSEED={hash_seed}) failed:\n{done.stderr}"
        raise _fail(law, msg)
    result = json.loads(done.stdout)
    if result["size"] != source.size:
        msg = f"the source has size {source.size} here but {result['size']} in the fresh process"
        raise _fail(law, msg)
    for i, theirs in zip(indices, result["cases"], strict=True):
        ours = _describe(source[i])
        if theirs != ours:
            msg = (
                f"at index {i}, this process gives {ours!r} but a fresh process "
                f"(PYTHONHASHSEED={hash_seed}) gives {theirs!r} "
                "(encoded params, tags, case_id)"
            )
            raise _fail(law, msg)


def _check_structured(view: Structured[Any], indices: Sequence[int]) -> None:
    law = "every case structures"
    size = view.size
    for i in indices:
        value = _call(law, f"at index {i}, view[{i}]", view.__getitem__, i)
        again = _call(law, f"at index {i}, view[{i - size}]", view.__getitem__, i - size)
        if value != again:
            msg = f"at index {i}, view[{i}] is {value!r} but view[{i - size}] is {again!r}"
            raise _fail(law, msg)


def check_source(
    source: ParamSource | Structured[Any],
    *,
    samples: int = 16,
    seed: int = 0,
    fresh_process: bool = True,
) -> None:
    """Assert the laws metalab promises on one sweep, at sampled indices.

    The indices are the first, the last and seeded random ones (``samples`` in all), so
    sweeps of any size, ``10**40`` cases included, are checked quickly. The laws:

    1. *indexing agrees with iteration*: ``source[i]`` is the ``i``-th case iterated
       (sources up to 10,000 cases are iterated in full, larger ones up to a prefix),
       and so are ``source.take([i])`` and the first case of ``source[i:]``;
    2. *negative indices*: ``source[i - size]`` is ``source[i]``;
    3. *indices out of range raise IndexError*: ``source[size]`` and ``source[-size - 1]``;
    4. *pickle round trip*: the unpickled source is equal and has the same cases;
    5. *manifest round trip*, in-process and through JSON text: the rebuilt source is
       equal, has the same cases and writes the same text;
    6. *same cases in a fresh process* (unless ``fresh_process=False``): a new Python
       interpreter with another ``PYTHONHASHSEED`` rebuilds the source from its manifest
       text and gives the same params, tags and case ids;
    7. for a view from ``source.structured(Schema)``, *every case structures*.

    Cases are compared by their encoded params (``1``, ``1.0`` and ``True`` differ),
    tags and ``case_id``.

    Args:
        source: The sweep, or a structured view of it.
        samples: How many indices to check (at least the first and the last).
        seed: Seeds the choice of random indices.
        fresh_process: Whether to check law 6, which starts one Python interpreter.

    Raises:
        AssertionError: A law does not hold; the message names the law and the index
            and shows both values.

    >>> from metalab import grid
    >>> check_source(grid(x=range(10**20), opt=["adam", "sgd"]))
    """
    if samples < 2:
        msg = f"check_source(samples=...) must be at least 2, got {samples}"
        raise ValueError(msg)
    from metalab._io.structured import Structured

    view = source if isinstance(source, Structured) else None
    plain: object = view.source if view is not None else source
    if not isinstance(plain, ParamSource):
        msg = f"check_source takes a source or a structured view, got {type(plain).__name__}"
        raise TypeError(msg)
    indices = sample_indices(plain.size, samples, seed)
    _check_iteration(plain, indices)
    _check_negative(plain, indices)
    _check_bounds(plain)
    _check_pickle(plain, indices)
    text = _check_manifest(plain, indices)
    if fresh_process:
        _check_fresh_process(plain, text, indices)
    if view is not None:
        _check_structured(view, indices)
