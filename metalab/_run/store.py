"""The results directory: one JSON document per finished case, named by its case_id.

Every way of running a sweep (`metalab.run`, a job array, a Dask cluster) leaves the
same layout, so `metalab.results` reads any of them and ``metalab array --done-dir``
resumes any of them. A document is written to a temporary file in the same directory,
flushed to disk (``fsync``) and renamed over its final name (``os.replace``), so a
reader on a shared cluster filesystem sees either the whole document or none: a task
killed mid-write leaves only a hidden ``.<case_id>.*.tmp`` file, which readers skip.

The format (version 1) is documented in docs/running.md; every key is always present::

    {"format": "metalab.result", "version": 1, "index": 7, "case_id": "0f3c...",
     "params": {...}, "tags": [...], "status": "done" | "failed",
     "result": <the value fn returned, or null>,
     "error": null | {"type": "ValueError", "message": "...", "traceback": "..."},
     "started": "2026-12-02T03:51:39.123456+00:00", "finished": "...", "duration": 0.25}

Documents are read by hand-written checks rather than the manifest converter: a result
is any JSON value (NaN included), which is no parameter value, and a document is no
source; the params go through `ParamCase`, which normalizes and validates them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import traceback
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TypeGuard, final, overload

import attrs

from metalab._core.case import ParamCase, fingerprint
from metalab.errors import MetalabError, ResultsError, UnserializableResultError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMAT",
    "FRAME_COLUMNS",
    "VERSION",
    "CaseError",
    "CaseResult",
    "Results",
    "Status",
    "case_record",
    "done_case_ids",
    "error_record",
    "jsonable",
    "now",
    "open_store",
    "parse_record",
    "read_record",
    "read_store",
    "results",
    "write_record",
]

FORMAT: Final = "metalab.result"
"""The value of ``"format"`` in every result document: what tells it from other JSON."""
VERSION: Final = 1
"""The version of the result document this metalab writes, and the newest it reads."""

Status = Literal["done", "failed"]
"""Whether ``fn`` returned (``"done"``) or raised (``"failed"``) for the case."""

_KEYS: Final = (
    "format",
    "version",
    "index",
    "case_id",
    "params",
    "tags",
    "status",
    "result",
    "error",
    "started",
    "finished",
    "duration",
)
_ERROR_KEYS: Final = ("type", "message", "traceback")
_NAME: Final = re.compile(r"([0-9a-f]{16})\.json")
_SHOWN: Final = 60
"""How much of a bad value an error message quotes."""


@final
@attrs.frozen
class CaseError:
    """What a case that raised left behind.

    Attributes:
        type: The exception's qualified name, e.g. ``"ValueError"`` or
            ``"mypackage.errors.Diverged"`` (builtins without their module).
        message: ``str()`` of the exception.
        traceback: The formatted traceback, as Python prints it.
    """

    type: str
    message: str
    traceback: str


@final
@attrs.frozen
class CaseResult:
    """One finished case, as its result document holds it.

    Attributes:
        index: The case's index in the sweep it was run from (for a selection, slice or
            shard of a sweep, in that sweep).
        case_id: The case's fingerprint, also the document's file name.
        params: The case's params.
        tags: The case's tags.
        status: ``"done"`` if ``fn`` returned, ``"failed"`` if it raised.
        result: What ``fn`` returned, as JSON data (lists for tuples and arrays); None
            when it failed.
        error: The exception, when it failed; else None.
        started: When the case started, an ISO 8601 time in UTC.
        finished: When it finished, an ISO 8601 time in UTC.
        duration: How long ``fn`` ran, in seconds (a monotonic clock, not the two times).
    """

    index: int
    case_id: str
    params: Mapping[str, Any]
    tags: tuple[str, ...]
    status: Status
    result: Any
    error: CaseError | None
    started: str
    finished: str
    duration: float

    @property
    def ok(self) -> bool:
        """Whether ``fn`` returned for this case."""
        return self.status == "done"

    @property
    def case(self) -> ParamCase:
        """The case itself, as the sweep gave it to ``fn``."""
        return ParamCase(self.params, self.tags)


FRAME_COLUMNS: Final = (
    "case_id",
    "tags",
    "status",
    "result",
    "error_type",
    "error_message",
    "started",
    "finished",
    "duration",
)
"""The columns of `Results.to_frame` after the parameters."""


@final
@attrs.frozen
class Results(Sequence[CaseResult]):
    """The documents of a results directory, in the order of their index.

    A sequence of `CaseResult`; records of cases with the same index (from different
    sweeps run into one directory) follow each other in case_id order.

    Attributes:
        directory: The directory read.
        records: Every document found, in order.
    """

    directory: Path
    records: tuple[CaseResult, ...]

    @property
    def done(self) -> tuple[CaseResult, ...]:
        """The records of the cases whose ``fn`` returned."""
        return tuple(r for r in self.records if r.ok)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        """The records of the cases whose ``fn`` raised."""
        return tuple(r for r in self.records if not r.ok)

    def __len__(self) -> int:
        """How many documents the directory holds."""
        return len(self.records)

    def __iter__(self) -> Iterator[CaseResult]:
        """The records, in order."""
        return iter(self.records)

    @overload
    def __getitem__(self, i: int) -> CaseResult: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[CaseResult, ...]: ...
    def __getitem__(self, i: int | slice) -> CaseResult | tuple[CaseResult, ...]:
        """The record at position ``i`` (not the case index), or a tuple of them."""
        return self.records[i]

    def to_frame(self) -> pd.DataFrame:
        """The records as a DataFrame: one row per case, one column per parameter.

        Columns: the parameters (sorted; None where a case lacks one), then
        `FRAME_COLUMNS`: ``result`` holds what ``fn`` returned, ``error_type`` and
        ``error_message`` are None for cases that did not fail, ``started`` and
        ``finished`` are timezone-aware timestamps. The index is the case index,
        named ``index``.

        Raises:
            ImportError: pandas is not installed (the ``frame`` extra).
            UnsupportedOperationError: a parameter has the name of an added column.
        """
        from metalab._run.frame import results_frame

        return results_frame(self.records)


# -- writing ---------------------------------------------------------------------------
def now() -> str:
    """The current time, ISO 8601 in UTC with microseconds."""
    return datetime.now(UTC).isoformat()


def _type_name(cls: type[BaseException]) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def error_record(error: BaseException) -> dict[str, str]:
    """The ``"error"`` object of a document for an exception that was raised."""
    return {
        "type": _type_name(type(error)),
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
    }


def jsonable(value: Any, path: str = "result") -> Any:
    """``value`` as JSON data: tuples and NumPy arrays become lists, NumPy scalars Python's.

    Raises:
        UnserializableResultError: something in ``value`` has no JSON form (an object,
            a set, bytes, a mapping key that is not a str); the message gives its path.
    """
    cls = type(value)
    if value is None or cls in (bool, int, float, str):
        return value
    if isinstance(value, bool | int | float | str):
        # Subclasses (IntEnum, numpy.float64) are written as the plain value.
        for base in (bool, int, float, str):
            if isinstance(value, base):
                return base(value)
    if isinstance(value, list | tuple):
        return [jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                msg = (
                    f"{path} has the key {_shorten(key)} of type {type(key).__name__}; "
                    "JSON keys are strings, so return str keys"
                )
                raise UnserializableResultError(msg)
            out[key] = jsonable(item, f"{path}[{key!r}]")
        return out
    tolist = getattr(value, "tolist", None)
    if cls.__module__ == "numpy" and callable(tolist):
        # A NumPy scalar or array: tolist() gives Python scalars, exactly.
        return jsonable(tolist(), path)
    msg = (
        f"{path} is a {cls.__qualname__}, which has no JSON form; return None, bools, "
        "numbers, strings, lists and dicts with str keys"
    )
    raise UnserializableResultError(msg)


def case_record(  # noqa: PLR0913 - one argument per field of the document
    index: int,
    case: ParamCase,
    *,
    result: Any = None,
    error: BaseException | None = None,
    started: str,
    finished: str,
    duration: float,
) -> dict[str, Any]:
    """The document of one finished case, as JSON data.

    A result without a JSON form makes the document that of a failed case, whose
    error is the `UnserializableResultError` saying why.
    """
    if error is None:
        try:
            result = jsonable(result)
        except UnserializableResultError as problem:
            error = problem
    return {
        "format": FORMAT,
        "version": VERSION,
        "index": index,
        "case_id": case.case_id,
        "params": case.params,
        "tags": list(case.tags),
        "status": "done" if error is None else "failed",
        "result": result if error is None else None,
        "error": None if error is None else error_record(error),
        "started": started,
        "finished": finished,
        "duration": duration,
    }


def open_store(store: str | os.PathLike[str]) -> Path:
    """The results directory ``store``, created (with its parents) if missing.

    Raises:
        ResultsError: ``store`` is a file, or cannot be created.
    """
    directory = Path(store)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        msg = f"results store {str(directory)!r} is a file, not a directory"
        raise ResultsError(msg) from None
    except OSError as error:
        msg = f"cannot create the results store {str(directory)!r}: {error.strerror or error}"
        raise ResultsError(msg) from None
    return directory


def write_record(directory: Path, record: Mapping[str, Any]) -> Path:
    """Write one document atomically: a temporary file, ``fsync``, then ``os.replace``.

    The temporary file is in ``directory`` itself, so the rename never crosses a
    filesystem and is atomic there; a document already present for the case is
    replaced whole. The directory is not synced: a crash of the process (or the node's
    job) cannot lose a rename already made, and a power loss at worst loses the last
    documents, whose cases then simply run again. Safe to call from several threads.

    Returns:
        The document's path, ``directory / f"{case_id}.json"``.
    """
    case_id = record["case_id"]
    # NaN and infinities are written as Python writes them (NaN, Infinity): a diverged
    # loss is a result, and Python's json and pandas read them back.
    data = (json.dumps(record, ensure_ascii=False, allow_nan=True) + "\n").encode("utf-8")
    target = os.path.join(directory, f"{case_id}.json")  # noqa: PTH118 - os.path is cheaper, per case
    # A name no other writer picks (the hidden prefix makes readers skip it); opened
    # with O_EXCL all the same, so two writers can never share one.
    temp = os.path.join(directory, f".{case_id}.{secrets.token_hex(8)}.tmp")  # noqa: PTH118
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)  # noqa: PTH105 - the rename the format promises, per case
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)  # noqa: PTH108
        raise
    return Path(target)


# -- reading ---------------------------------------------------------------------------
def _shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."


class _DocumentError(Exception):
    """A problem of one document, before the file's name is put in front of it."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            msg = f"the key {key!r} appears twice"
            raise _DocumentError(msg)
        out[key] = value
    return out


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int


def _str_field(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if type(value) is not str:
        msg = f"{key!r} must be a string, got {_shorten(value)}"
        raise _DocumentError(msg)
    return value


def _header(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict):
        msg = f"expected a JSON object, got {type(doc).__name__}"
        raise _DocumentError(msg)
    if doc.get("format") != FORMAT:
        msg = f'not a metalab result document (its "format" is {_shorten(doc.get("format"))})'
        raise _DocumentError(msg)
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        msg = f'"version" must be a positive int, got {_shorten(version)}'
        raise _DocumentError(msg)
    if version > VERSION:
        msg = (
            f"written in version {version} of the result format; this metalab reads up "
            f"to version {VERSION}: upgrade metalab"
        )
        raise _DocumentError(msg)
    missing = [k for k in _KEYS if k not in doc]
    unknown = sorted(set(doc) - set(_KEYS))
    if missing or unknown:
        parts = [f"missing {', '.join(map(repr, missing))}"] if missing else []
        parts += [f"unknown {', '.join(map(repr, unknown))}"] if unknown else []
        msg = f"keys {'; '.join(parts)}"
        raise _DocumentError(msg)
    return doc


def _error(value: object) -> CaseError:
    if not isinstance(value, dict) or sorted(value) != sorted(_ERROR_KEYS):
        msg = f'"error" must be an object of {", ".join(_ERROR_KEYS)}, got {_shorten(value)}'
        raise _DocumentError(msg)
    for key in _ERROR_KEYS:
        if type(value[key]) is not str:
            msg = f'"error.{key}" must be a string, got {_shorten(value[key])}'
            raise _DocumentError(msg)
    return CaseError(value["type"], value["message"], value["traceback"])


def _time(doc: Mapping[str, Any], key: str) -> str:
    text = _str_field(doc, key)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        msg = f"{key!r} must be an ISO 8601 time, got {_shorten(text)}"
        raise _DocumentError(msg) from None
    return text


def _outcome(doc: Mapping[str, Any]) -> tuple[Status, CaseError | None]:
    status = doc["status"]
    if status == "failed":
        return "failed", _error(doc["error"])
    if status != "done":
        msg = f'"status" must be "done" or "failed", got {_shorten(status)}'
        raise _DocumentError(msg)
    if doc["error"] is not None:
        msg = '"error" must be null for a case that is done'
        raise _DocumentError(msg)
    return "done", None


def _record(doc: dict[str, Any], stem: str) -> CaseResult:
    index = doc["index"]
    if not _is_int(index) or index < 0:
        msg = f'"index" must be a non-negative int, got {_shorten(index)}'
        raise _DocumentError(msg)
    case_id = _str_field(doc, "case_id")
    if case_id != stem:
        msg = f'"case_id" is {case_id!r}, but the file is named for {stem!r}'
        raise _DocumentError(msg)
    params, tags = doc["params"], doc["tags"]
    if not isinstance(params, dict):
        msg = f'"params" must be an object, got {_shorten(params)}'
        raise _DocumentError(msg)
    if not isinstance(tags, list) or not all(type(t) is str for t in tags):
        msg = f'"tags" must be a list of strings, got {_shorten(tags)}'
        raise _DocumentError(msg)
    try:
        case = ParamCase(params, tags)
    except MetalabError as problem:
        raise _DocumentError(str(problem)) from None
    if fingerprint(case.params) != case_id:
        msg = f"the params are not those of case {case_id} (edited, or corrupt)"
        raise _DocumentError(msg)
    status, error = _outcome(doc)
    duration = doc["duration"]
    if type(duration) not in (int, float) or not math.isfinite(duration) or duration < 0:
        msg = f'"duration" must be a non-negative number of seconds, got {_shorten(duration)}'
        raise _DocumentError(msg)
    return CaseResult(
        index=index,
        case_id=case_id,
        params=case.params,
        tags=case.tags,
        status=status,
        result=doc["result"] if error is None else None,
        error=error,
        started=_time(doc, "started"),
        finished=_time(doc, "finished"),
        duration=float(duration),
    )


def parse_record(doc: dict[str, Any]) -> CaseResult:
    """The record of a document metalab just wrote (it is checked all the same).

    Raises:
        ResultsError: the document is not one of the format.
    """
    try:
        return _record(_header(doc), str(doc.get("case_id")))
    except _DocumentError as error:
        msg = f"result document of case {doc.get('case_id')!r}: {error}"
        raise ResultsError(msg) from None


def _read_one(path: Path, stem: str) -> CaseResult:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"result file {str(path)!r} is not UTF-8 text (a foreign or corrupt file?)"
        raise ResultsError(msg) from None
    except OSError as error:
        msg = f"cannot read result file {str(path)!r}: {error.strerror or error}"
        raise ResultsError(msg) from None
    try:
        return _record(_header(json.loads(text, object_pairs_hook=_unique)), stem)
    except json.JSONDecodeError as error:
        msg = (
            f"result file {str(path)!r} is not JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}): corrupt, or cut short outside metalab?"
        )
        raise ResultsError(msg) from None
    except (_DocumentError, RecursionError) as error:
        msg = f"result file {str(path)!r}: {error}"
        raise ResultsError(msg) from None


def _entries(directory: Path) -> list[tuple[Path, str]]:
    """The result files of ``directory``, sorted by name, with their case_ids."""
    try:
        names = sorted(entry.name for entry in directory.iterdir())
    except FileNotFoundError:
        msg = f"no results directory at {str(directory)!r}"
        raise ResultsError(msg) from None
    except NotADirectoryError:
        msg = f"results store {str(directory)!r} is a file, not a directory"
        raise ResultsError(msg) from None
    except OSError as error:
        msg = f"cannot list the results directory {str(directory)!r}: {error.strerror or error}"
        raise ResultsError(msg) from None
    out: list[tuple[Path, str]] = []
    for name in names:
        if name.startswith("."):
            # Hidden: the temporary files of writes in progress (or cut short).
            continue
        found = _NAME.fullmatch(name)
        if found is None:
            msg = (
                f"results directory {str(directory)!r} holds {name!r}, which is no result "
                "file (<case_id>.json, 16 lowercase hex digits); move it elsewhere"
            )
            raise ResultsError(msg)
        out.append((directory / name, found.group(1)))
    return out


def read_record(directory: Path, case_id: str) -> CaseResult | None:
    """The document of case ``case_id`` in ``directory``, or None if it has none.

    Raises:
        ResultsError: the document is corrupt, foreign or newer than this metalab reads.
    """
    path = directory / f"{case_id}.json"
    if not path.is_file():
        return None
    return _read_one(path, case_id)


def read_store(directory: str | os.PathLike[str]) -> list[CaseResult]:
    """Every document of ``directory``, in file-name order.

    Raises:
        ResultsError: the directory is missing, or a file in it is corrupt, foreign or
            newer than this metalab reads; the message names the file.
    """
    return [_read_one(path, stem) for path, stem in _entries(Path(directory))]


def results(directory: str | os.PathLike[str]) -> Results:
    """Read a results directory, as `metalab.run` or a job array leaves it.

    Args:
        directory: the directory of one JSON document per finished case.

    Returns:
        The records, ordered by case index (then case_id).

    Raises:
        ResultsError: the directory is missing, or a file in it is corrupt, foreign
            or newer than this metalab reads; the message names the file.
    """
    records = read_store(directory)
    records.sort(key=lambda r: (r.index, r.case_id))
    return Results(Path(directory), tuple(records))


def done_case_ids(directory: str | os.PathLike[str]) -> list[str]:
    """The case_ids of the cases done in ``directory`` (failed ones are not done).

    What ``metalab array --done-dir`` (and ``metalab pending --done-dir``) take as
    finished: a case whose ``fn`` raised runs again.

    Raises:
        ResultsError: as `results`.
    """
    return [r.case_id for r in read_store(directory) if r.ok]
