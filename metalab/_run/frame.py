"""`Results.to_frame`: the records of a results directory as a pandas DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from metalab._io.frame import _import_pandas
from metalab._run.store import FRAME_COLUMNS
from metalab.errors import UnsupportedOperationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from metalab._run.store import CaseResult

__all__ = ["results_frame"]


def results_frame(records: Sequence[CaseResult]) -> pd.DataFrame:
    """One row per record: the parameters (sorted), then `FRAME_COLUMNS`, indexed by case.

    Raises:
        ImportError: pandas is not installed.
        UnsupportedOperationError: a parameter has the name of an added column.
    """
    _import_pandas()
    import pandas as pd

    keys = sorted({key for record in records for key in record.params})
    clash = sorted(set(keys) & set(FRAME_COLUMNS))
    if clash:
        msg = (
            f"to_frame: parameter {clash[0]!r} has the name of a column the frame adds "
            f"({', '.join(FRAME_COLUMNS)})"
        )
        raise UnsupportedOperationError(msg)
    index = pd.Index([r.index for r in records], name="index", dtype="int64")

    def column(values: list[object]) -> pd.Series:
        # A dtype only where every value is of one type: pandas would turn the ints of
        # [1, None] or [1, 2.5] into floats; object keeps each value as it is.
        series = pd.Series(values, index=index, dtype=object)
        return series.infer_objects() if len({type(v) for v in values}) == 1 else series

    data: dict[str, pd.Series] = {key: column([r.params.get(key) for r in records]) for key in keys}
    data["case_id"] = pd.Series([r.case_id for r in records], index=index, dtype=str)
    data["tags"] = pd.Series([r.tags for r in records], index=index, dtype=object)
    data["status"] = pd.Series([r.status for r in records], index=index, dtype=str)
    # What fn returned stays as it was (a dict stays a dict): object, never inferred.
    data["result"] = pd.Series([r.result for r in records], index=index, dtype=object)
    data["error_type"] = pd.Series(
        [None if r.error is None else r.error.type for r in records], index=index, dtype=object
    )
    data["error_message"] = pd.Series(
        [None if r.error is None else r.error.message for r in records], index=index, dtype=object
    )
    for key in ("started", "finished"):
        data[key] = pd.to_datetime(
            pd.Series([getattr(r, key) for r in records], index=index, dtype=object),
            utc=True,
            format="ISO8601",
        )
    data["duration"] = pd.Series([r.duration for r in records], index=index, dtype="float64")
    return pd.DataFrame(data, index=index)
