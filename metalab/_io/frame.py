"""`to_frame`: a sweep as a pandas DataFrame (pandas is the optional extra ``metalab[frame]``).

The frame has one row per case, in order, indexed ``0 .. size - 1`` (the index is named
``index``); one column per parameter, in sorted order, with the dtypes of
`ParamSource.columns` (``int64``, ``float64``, ``bool``, strings, or ``object`` for
mixed values, lists, dicts and parameters some cases lack, which hold ``None``); then
``case_id`` (the 16-hex fingerprint, to join results on) and ``tags`` (a tuple of str
per case).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import numpy as np

from metalab.errors import UnsupportedOperationError

if TYPE_CHECKING:
    import pandas as pd

    from metalab._sources.base import ParamSource

__all__ = ["FRAME_COLUMNS", "to_frame"]

FRAME_COLUMNS: Final = ("case_id", "tags")
"""The columns added after the parameters."""


def _import_pandas() -> object:
    try:
        import pandas as pd
    except ImportError as error:
        msg = (
            "to_frame() needs pandas, an optional dependency: "
            "run pip install '.[frame]' in a metalab checkout"
        )
        raise ImportError(msg, name="pandas") from error
    return pd


def to_frame(source: ParamSource) -> pd.DataFrame:
    """All cases of ``source`` as a DataFrame: one row per case, one column per parameter.

    Raises:
        ImportError: pandas is not installed.
        UnsupportedOperationError: a parameter is named ``case_id`` or ``tags``.

    >>> from metalab import grid
    >>> frame = grid(lr=[0.1, 0.01], depth=[2, 4]).to_frame()
    >>> frame[["depth", "lr"]].to_dict("list")
    {'depth': [2, 2, 4, 4], 'lr': [0.1, 0.01, 0.1, 0.01]}
    >>> list(frame.columns), frame.index.name
    (['depth', 'lr', 'case_id', 'tags'], 'index')
    """
    _import_pandas()
    import pandas as pd

    clash = sorted(set(source.keys) & set(FRAME_COLUMNS))
    if clash:
        msg = (
            f"to_frame: parameter {clash[0]!r} has the name of a column the frame adds "
            f"({', '.join(FRAME_COLUMNS)})"
        )
        raise UnsupportedOperationError(msg)
    size = len(source)
    columns = source.columns()
    ids = np.empty(size, dtype=object)
    tags = np.empty(size, dtype=object)
    for i, case in enumerate(source):
        ids[i] = case.case_id
        tags[i] = case.tags
    index = pd.RangeIndex(size, name="index")
    data = {key: _series(pd, column, index) for key, column in columns.items()}
    data["case_id"] = pd.Series(ids, index=index, dtype=str)
    data["tags"] = pd.Series(tags, index=index, dtype=object)
    return pd.DataFrame(data, index=index)


def _series(pd: Any, column: np.ndarray[Any, Any], index: Any) -> Any:
    """One parameter's column as a Series; a conditional one's absent cases missing.

    A masked column (a conditional parameter) becomes pandas' own missing values, made
    here rather than left to pandas' reading of masked arrays: ints stay ints (the
    nullable ``Int64``), bools ``boolean``, floats get NaN and other values None.
    Object columns stay object: pandas would otherwise turn a None among strings into
    NaN.
    """
    if not isinstance(column, np.ma.MaskedArray):
        return pd.Series(column, index=index, dtype=object if column.dtype == object else None)
    mask = np.ma.getmaskarray(column)
    values = np.ma.getdata(column)
    kind = values.dtype.kind
    if kind in "iu":
        return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64), mask), index=index)
    if kind == "b":
        return pd.Series(pd.arrays.BooleanArray(values, mask), index=index)
    if kind == "f":
        return pd.Series(np.where(mask, np.nan, values), index=index)
    out = values.astype(object)
    out[mask] = None
    return pd.Series(out, index=index, dtype=object)
