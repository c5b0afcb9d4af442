"""The results directory: its documents, how they are written, and how they are read."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest

import metalab
from metalab import ParamCase, grid
from metalab._run import store
from metalab._run.store import (
    FORMAT,
    VERSION,
    CaseError,
    CaseResult,
    Results,
    case_record,
    done_case_ids,
    jsonable,
    write_record,
)
from metalab.errors import ResultsError, UnserializableResultError, UnsupportedOperationError

STARTED = "2026-01-02T03:04:05.000006+00:00"
FINISHED = "2026-01-02T03:04:06.500000+00:00"


def document(index: int, case: ParamCase, **kwargs: Any) -> dict[str, Any]:
    """A document of ``case`` with fixed times (``result=`` or ``error=`` in kwargs)."""
    return case_record(index, case, started=STARTED, finished=FINISHED, duration=1.5, **kwargs)


def write(directory: Path, index: int, case: ParamCase, **kwargs: Any) -> Path:
    """Write the document of ``case`` into ``directory``."""
    return write_record(directory, document(index, case, **kwargs))


def _throw(error: Exception) -> None:
    raise error


def raised(error: Exception) -> Exception:
    """``error`` after it was raised, so that it carries a traceback."""
    try:
        _throw(error)
    except Exception as caught:  # noqa: BLE001 - any exception, as fn may raise
        return caught
    return error


class TestDocument:
    """One document holds the case, the result or the error, and the timing."""

    def test_a_done_case(self, tmp_path: Path) -> None:
        """A done case's file is named by its case_id and holds every key of the format."""
        case = ParamCase({"lr": 0.1, "depth": [2, 4]}, ("trial_0",))
        path = write(tmp_path, 7, case, result={"loss": 0.25})
        assert path == tmp_path / f"{case.case_id}.json"
        assert json.loads(path.read_text(encoding="utf-8")) == {
            "format": FORMAT,
            "version": VERSION,
            "index": 7,
            "case_id": case.case_id,
            "params": {"depth": [2, 4], "lr": 0.1},
            "tags": ["trial_0"],
            "status": "done",
            "result": {"loss": 0.25},
            "error": None,
            "started": STARTED,
            "finished": FINISHED,
            "duration": 1.5,
        }

    def test_a_failed_case(self, tmp_path: Path) -> None:
        """A failed case holds the error's qualified type, message and traceback, no result."""
        case = ParamCase({"x": 1})
        write(tmp_path, 0, case, error=raised(UnsupportedOperationError("no way")))
        record = metalab.results(tmp_path)[0]
        assert (record.status, record.result, record.ok) == ("failed", None, False)
        assert record.error is not None
        assert record.error.type == "metalab.errors.UnsupportedOperationError"
        assert record.error.message == "no way"
        assert "Traceback (most recent call last)" in record.error.traceback
        assert "in _throw" in record.error.traceback

    def test_builtin_errors_are_named_without_their_module(self, tmp_path: Path) -> None:
        """A ValueError is recorded as "ValueError", not "builtins.ValueError"."""
        write(tmp_path, 0, ParamCase({"x": 1}), error=raised(ValueError("bad")))
        error = metalab.results(tmp_path)[0].error
        assert error is not None
        assert (error.type, error.message) == ("ValueError", "bad")

    def test_round_trip(self, tmp_path: Path) -> None:
        """Reading a written document gives back every field of the case and its outcome."""
        case = ParamCase({"name": "ünï", "big": 10**30, "flag": True, "none": None}, ("a", "b"))
        write(tmp_path, 3, case, result=[1, "two", None, 2.5])
        (record,) = metalab.results(tmp_path)
        assert record == CaseResult(
            index=3,
            case_id=case.case_id,
            params=case.params,
            tags=("a", "b"),
            status="done",
            result=[1, "two", None, 2.5],
            error=None,
            started=STARTED,
            finished=FINISHED,
            duration=1.5,
        )
        assert record.case == case

    def test_non_finite_floats_are_kept(self, tmp_path: Path) -> None:
        """A NaN or infinite result (a diverged loss) is written and read back as such."""
        write(tmp_path, 0, ParamCase({"x": 1}), result={"loss": math.nan, "grad": -math.inf})
        result = metalab.results(tmp_path)[0].result
        assert math.isnan(result["loss"])
        assert result["grad"] == -math.inf


class TestJsonable:
    """What a result becomes in JSON, and which results have no JSON form."""

    def test_numpy_and_tuples_become_plain_json(self) -> None:
        """NumPy scalars and arrays become Python numbers and lists, tuples lists."""
        value = {"a": np.float32(0.5), "b": np.arange(3), "c": (1, (2,)), "d": np.bool_(True)}
        out = jsonable(value)
        assert out == {"a": 0.5, "b": [0, 1, 2], "c": [1, [2]], "d": True}
        assert [type(v) for v in (out["a"], out["b"][0], out["d"])] == [float, int, bool]

    def test_subclasses_of_scalars_become_the_scalar(self) -> None:
        """An IntEnum or numpy.float64 is written as the plain int or float."""
        import enum

        class Level(enum.IntEnum):
            HIGH = 3

        out = jsonable([Level.HIGH, np.float64(0.25)])
        assert out == [3, 0.25]
        assert [type(v) for v in out] == [int, float]

    @pytest.mark.parametrize(
        ("value", "fragment"),
        [
            ({1, 2}, "result is a set"),
            ({"a": [object()]}, "result['a'][0] is a object"),
            ({1: "x"}, "result has the key 1 of type int"),
            (b"raw", "result is a bytes"),
        ],
    )
    def test_no_json_form_is_an_error_naming_the_path(self, value: object, fragment: str) -> None:
        """A value with no JSON form is refused with its path and type."""
        with pytest.raises(UnserializableResultError, match=fragment.replace("[", r"\[")):
            jsonable(value)

    def test_an_unserializable_result_makes_the_case_failed(self, tmp_path: Path) -> None:
        """The case is recorded as failed with the reason, not lost or silently changed."""
        write(tmp_path, 0, ParamCase({"x": 1}), result={"model": object()})
        (record,) = metalab.results(tmp_path)
        assert record.status == "failed"
        assert record.error is not None
        assert record.error.type == "metalab.errors.UnserializableResultError"
        assert "result['model'] is a object" in record.error.message


class TestAtomicWrite:
    """A document is whole or absent, and writing leaves no temporary file behind."""

    def test_no_temporary_file_is_left(self, tmp_path: Path) -> None:
        """After a write, the directory holds the document only."""
        case = ParamCase({"x": 1})
        write(tmp_path, 0, case, result=1)
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"{case.case_id}.json"]

    def test_the_document_is_synced_before_the_rename(self, tmp_path: Path) -> None:
        """The temporary file is synced with fsync, and renamed only after that."""
        calls: list[str] = []
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            calls.append("fsync")
            real_fsync(fd)

        def replace(source: str, target: str) -> None:
            calls.append(f"replace {Path(source).name[:1]} -> {Path(target).name}")
            real_replace(source, target)

        case = ParamCase({"x": 1})
        with mock.patch("os.fsync", fsync), mock.patch("os.replace", replace):
            write(tmp_path, 0, case, result=1)
        assert calls == ["fsync", f"replace . -> {case.case_id}.json"]

    def test_a_failed_write_keeps_the_old_document_and_no_temporary(self, tmp_path: Path) -> None:
        """A write that fails before the rename leaves the previous document untouched."""
        case = ParamCase({"x": 1})
        path = write(tmp_path, 0, case, result="old")
        with (
            mock.patch("os.fsync", side_effect=OSError(28, "No space left on device")),
            pytest.raises(OSError, match="No space left"),
        ):
            write(tmp_path, 0, case, result="new")
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
        assert metalab.results(tmp_path)[0].result == "old"

    def test_a_rewrite_replaces_the_document(self, tmp_path: Path) -> None:
        """Writing a case again replaces its document whole."""
        case = ParamCase({"x": 1})
        write(tmp_path, 0, case, error=raised(ValueError("flaky")))
        write(tmp_path, 0, case, result="fixed")
        assert [r.result for r in metalab.results(tmp_path)] == ["fixed"]

    def test_temporary_files_of_cut_writes_are_skipped(self, tmp_path: Path) -> None:
        """A hidden temporary file (a write killed before its rename) is not a result."""
        case = ParamCase({"x": 1})
        write(tmp_path, 0, case, result=1)
        (tmp_path / f".{case.case_id}.abc123.tmp").write_text('{"form', encoding="utf-8")
        assert len(metalab.results(tmp_path)) == 1


class TestResults:
    """`metalab.results` reads a directory into ordered, typed records."""

    def test_records_are_ordered_by_index(self, tmp_path: Path) -> None:
        """Records come in index order, whatever their file names."""
        sweep = grid(x=range(20))
        for i in (5, 0, 19, 3):
            write(tmp_path, i, sweep[i], result=i * 10)
        found = metalab.results(tmp_path)
        assert isinstance(found, Results)
        assert [r.index for r in found] == [0, 3, 5, 19]
        assert [r.result for r in found] == [0, 30, 50, 190]
        assert found.directory == tmp_path
        assert len(found) == 4
        assert found[1:3] == found.records[1:3]

    def test_done_and_failed(self, tmp_path: Path) -> None:
        """`done` and `failed` split the records; done_case_ids lists the done ones only."""
        sweep = grid(x=range(4))
        write(tmp_path, 0, sweep[0], result=0)
        write(tmp_path, 1, sweep[1], error=raised(ValueError("x")))
        write(tmp_path, 2, sweep[2], result=2)
        found = metalab.results(tmp_path)
        assert [r.index for r in found.done] == [0, 2]
        assert [r.index for r in found.failed] == [1]
        assert sorted(done_case_ids(tmp_path)) == sorted([sweep[0].case_id, sweep[2].case_id])

    def test_an_empty_directory_has_no_records(self, tmp_path: Path) -> None:
        """An empty directory is an empty result, not an error."""
        assert len(metalab.results(tmp_path)) == 0
        assert done_case_ids(tmp_path) == []

    def test_a_missing_directory_is_an_error(self, tmp_path: Path) -> None:
        """A directory that does not exist is a ResultsError naming it (a typo, most likely)."""
        with pytest.raises(ResultsError, match=r"no results directory at .*nope"):
            metalab.results(tmp_path / "nope")

    def test_a_file_instead_of_a_directory_is_an_error(self, tmp_path: Path) -> None:
        """A path to a file is refused with a message saying so."""
        path = tmp_path / "results.json"
        path.write_text("{}", encoding="utf-8")
        with pytest.raises(ResultsError, match="is a file, not a directory"):
            metalab.results(path)


def _corrupt(tmp_path: Path, change: dict[str, Any] | None = None, drop: str = "") -> Path:
    case = ParamCase({"x": 1})
    doc = document(0, case, result=1)
    doc.update(change or {})
    doc.pop(drop, None)
    path = tmp_path / f"{case.case_id}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


class TestBadFiles:
    """Corrupt, foreign or newer files are errors naming the file and the problem."""

    def test_a_foreign_file_name(self, tmp_path: Path) -> None:
        """A file that is not named <case_id>.json is refused by name."""
        (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
        with pytest.raises(ResultsError, match=r"holds 'notes.txt', which is no result file"):
            metalab.results(tmp_path)

    def test_a_subdirectory(self, tmp_path: Path) -> None:
        """A subdirectory is a foreign entry too."""
        (tmp_path / "logs").mkdir()
        with pytest.raises(ResultsError, match="'logs'"):
            metalab.results(tmp_path)

    def test_a_file_cut_short(self, tmp_path: Path) -> None:
        """Text that is not JSON names the file and where the JSON breaks."""
        path = _corrupt(tmp_path)
        path.write_text(path.read_text(encoding="utf-8")[:40], encoding="utf-8")
        with pytest.raises(ResultsError, match=rf"{path.name}' is not JSON \(.* line 1"):
            metalab.results(tmp_path)

    def test_not_utf8(self, tmp_path: Path) -> None:
        """Binary content is refused as not UTF-8, naming the file."""
        path = _corrupt(tmp_path)
        path.write_bytes(b"\xff\xfe\x00")
        with pytest.raises(ResultsError, match=f"{path.name}' is not UTF-8"):
            metalab.results(tmp_path)

    @pytest.mark.parametrize(
        ("change", "drop", "fragment"),
        [
            ({"format": "something.else"}, "", "not a metalab result document"),
            ({"version": VERSION + 1}, "", f"version {VERSION + 1} of the result format"),
            ({"version": "1"}, "", '"version" must be a positive int'),
            ({}, "duration", "keys missing 'duration'"),
            ({"extra": 1}, "", "keys unknown 'extra'"),
            ({"index": -1}, "", '"index" must be a non-negative int'),
            ({"index": True}, "", '"index" must be a non-negative int'),
            ({"case_id": "0" * 16}, "", "but the file is named for"),
            ({"params": {"x": 2}}, "", "the params are not those of case"),
            ({"params": [1]}, "", '"params" must be an object'),
            ({"tags": "a"}, "", '"tags" must be a list of strings'),
            ({"status": "ok"}, "", '"status" must be "done" or "failed"'),
            ({"status": "failed", "error": {"type": "E"}}, "", '"error" must be an object of'),
            ({"error": {"type": "E", "message": "", "traceback": ""}}, "", '"error" must be null'),
            ({"started": "yesterday"}, "", "'started' must be an ISO 8601 time"),
            ({"duration": -1}, "", '"duration" must be a non-negative number'),
        ],
    )
    def test_bad_documents(
        self, tmp_path: Path, change: dict[str, Any], drop: str, fragment: str
    ) -> None:
        """Each kind of bad document is a ResultsError naming the file and the problem."""
        path = _corrupt(tmp_path, change, drop)
        with pytest.raises(ResultsError) as caught:
            metalab.results(tmp_path)
        assert str(path) in str(caught.value)
        assert fragment in str(caught.value)

    def test_a_json_array(self, tmp_path: Path) -> None:
        """A JSON document that is no object is refused."""
        path = _corrupt(tmp_path)
        path.write_text("[1, 2]", encoding="utf-8")
        with pytest.raises(ResultsError, match="expected a JSON object, got list"):
            metalab.results(tmp_path)

    def test_duplicate_keys(self, tmp_path: Path) -> None:
        """A key given twice is refused, not resolved silently to the last value."""
        path = _corrupt(tmp_path)
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('"index": 0', '"index": 0, "index": 1'), encoding="utf-8")
        with pytest.raises(ResultsError, match="the key 'index' appears twice"):
            metalab.results(tmp_path)


class TestFrame:
    """`Results.to_frame()`: one row per case, the params as columns."""

    def test_columns_and_rows(self, tmp_path: Path) -> None:
        """Params come first (sorted), then the added columns; the index is the case index."""
        sweep = grid(opt=["adam", "sgd"], lr=[0.1, 0.01])
        write(tmp_path, 2, sweep[2], result={"loss": 0.5})
        write(tmp_path, 0, sweep[0], error=raised(ValueError("diverged")))
        frame = metalab.results(tmp_path).to_frame()
        assert list(frame.columns) == ["lr", "opt", *store.FRAME_COLUMNS]
        assert frame.index.tolist() == [0, 2]
        assert frame.index.name == "index"
        assert frame["lr"].tolist() == [sweep[0].params["lr"], sweep[2].params["lr"]]
        assert frame["lr"].dtype == np.float64
        assert frame["status"].tolist() == ["failed", "done"]
        assert frame["result"].tolist() == [None, {"loss": 0.5}]
        assert frame["error_type"].tolist() == ["ValueError", None]
        assert frame["error_message"].tolist() == ["diverged", None]
        assert frame["started"].iloc[0] == pd.Timestamp(STARTED)
        assert frame["duration"].tolist() == [1.5, 1.5]
        assert frame["case_id"].tolist() == [sweep[0].case_id, sweep[2].case_id]

    def test_a_param_some_cases_lack_is_none(self, tmp_path: Path) -> None:
        """Records of different shapes share columns; a missing param is None."""
        write(tmp_path, 0, ParamCase({"a": 1}), result=None)
        write(tmp_path, 1, ParamCase({"b": "x"}), result=None)
        frame = metalab.results(tmp_path).to_frame()
        assert frame["a"].tolist() == [1, None]
        assert frame["b"].tolist() == [None, "x"]

    def test_a_param_named_like_a_column_is_refused(self, tmp_path: Path) -> None:
        """A param called "status" would hide a column: an error naming it."""
        write(tmp_path, 0, ParamCase({"status": 1}), result=None)
        with pytest.raises(UnsupportedOperationError, match="parameter 'status'"):
            metalab.results(tmp_path).to_frame()

    def test_an_empty_frame(self, tmp_path: Path) -> None:
        """No records give a frame with the added columns and no rows."""
        frame = metalab.results(tmp_path).to_frame()
        assert list(frame.columns) == list(store.FRAME_COLUMNS)
        assert len(frame) == 0


class TestPublicNames:
    """The results API is reachable from metalab, lazily."""

    def test_lazy_names_are_the_implementations(self) -> None:
        """metalab.results and the record types are the store's own objects."""
        assert metalab.results is store.results
        assert metalab.Results is Results
        assert metalab.CaseResult is CaseResult
        assert metalab.CaseError is CaseError
