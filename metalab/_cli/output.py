"""How cases leave the command: JSON records, JSON lines, CSV and rich tables.

A case is written as the record ``{"index", "case_id", "params", "tags"}``, the same
for ``metalab case`` and every line of ``metalab list --format jsonl``. CSV has one
column per parameter between ``index``/``case_id`` and ``tags``, and reads back with
``pandas.read_csv``: scalars are written as Python writes them (``True``, ``0.1``), a
missing parameter or ``None`` is an empty cell, and lists, dicts and the tags are JSON
text. pandas guesses types, so strings such as ``"NA"`` or ``"1"`` do not come back as
strings (docs/cli.md lists the cases); JSON lines are exact.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any, Final

import attrs

from metalab._cli.load import CliError
from metalab._cli.nodes import format_value, printable
from metalab._core.intstr import int_to_str

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from metalab._core.case import ParamCase
    from metalab._sources.base import ParamSource

__all__ = [
    "CSV_COLUMNS",
    "MAX_CELL",
    "case_record",
    "cases_table",
    "dumps_record",
    "iter_cases",
    "write_csv",
]

CSV_COLUMNS: Final = ("index", "case_id", "tags")
"""The columns CSV adds around the parameters; no parameter may take these names."""
MAX_CELL: Final = 24
"""The widest a table column grows; longer values are cut with an ellipsis."""
_COLUMN_FRAME: Final = 3
"""What a table column adds to its text: a space each side and one border."""
_CASE_ID_CHARS: Final = 16


def iter_cases(source: ParamSource, start: int, stop: int) -> Iterator[tuple[int, ParamCase]]:
    """The cases ``start <= i < stop`` with their indices, one at a time."""
    if start >= stop:
        return iter(())
    cases = source if (start, stop) == (0, source.size) else source[start:stop]
    return zip(range(start, stop), cases, strict=True)


def case_record(index: int, case: ParamCase) -> dict[str, Any]:
    """The JSON record of one case."""
    return {"index": index, "case_id": case.case_id, "params": case.params, "tags": list(case.tags)}


def dumps_record(record: Mapping[str, Any], *, indent: int | None = None) -> str:
    """A record as JSON text (tuples become lists, mappings objects).

    Raises:
        CliError: an int in the record has more digits than Python writes or reads
            as JSON (4,300 by default), so no JSON reader would get it back.
    """
    try:
        return json.dumps(record, indent=indent, ensure_ascii=True, allow_nan=False)
    except ValueError as error:
        if "integer string conversion" not in str(error):
            raise
        msg = (
            f"case {int_to_str(record['index'])} holds an int of more than "
            f"{sys.get_int_max_str_digits():,} digits, which JSON readers refuse; "
            "metalab list SWEEP --format csv writes it"
        )
        raise CliError(msg) from None


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, tuple | Mapping):
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    if isinstance(value, int) and not isinstance(value, bool):
        # The csv module calls str(), which refuses ints beyond 4,300 digits.
        return int_to_str(value)
    return value


def write_csv(out: IO[str], keys: tuple[str, ...], rows: Iterable[tuple[int, ParamCase]]) -> None:
    """Write a header and one CSV row per case."""
    clash = sorted(set(keys) & set(CSV_COLUMNS))
    if clash:
        msg = (
            f"parameter {clash[0]!r} has the name of a column that CSV output adds "
            f"({', '.join(CSV_COLUMNS)}); use --format jsonl"
        )
        raise CliError(msg)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("index", "case_id", *keys, "tags"))
    for index, case in rows:
        params = case.params
        writer.writerow(
            (
                int_to_str(index),
                case.case_id,
                *(_cell(params.get(k)) for k in keys),
                json.dumps(list(case.tags), ensure_ascii=False),
            )
        )


def _table_cell(value: object) -> str:
    """A value for a table: floats exact when short, else to 6 significant digits.

    Tables are for reading (jsonl and csv are exact). A float keeps its point or
    exponent, so 2.0 never reads as the int 2.

    >>> [_table_cell(v) for v in (2.0, 1234567.0, 0.03853236753379218, 123456.789012, 2)]
    ['2.0', '1234567.0', '0.0385324', '1.23457e+05', '2']
    """
    if isinstance(value, float):
        exact = repr(value)
        if len(exact) <= _EXACT_FLOAT_CHARS:
            return exact
        short = f"{value:.6g}"
        # 123456.789 would read as the int 123457: the exponent form says it is rounded.
        return short if any(c in short for c in ".enia") else f"{value:.5e}"
    return format_value(value)


_EXACT_FLOAT_CHARS: Final = 12
"""Floats whose repr is at most this long are shown exactly in tables."""


@attrs.frozen
class _Column:
    header: str
    width: int
    style: str = ""


def cases_table(
    keys: tuple[str, ...],
    rows: Iterable[tuple[int, ParamCase]],
    *,
    title: str | None = None,
    width: int = 80,
) -> RenderableType:
    """Rich tables of cases, ``width`` wide: index, one column per parameter, tags, case_id.

    No value is ever broken across lines: a cell longer than `MAX_CELL` (or than the
    width leaves) ends in an ellipsis, and columns that do not fit side by side are
    folded into further tables below, each starting with the index column. Names,
    values and tags are plain text, never rich markup, and control characters are
    escaped.
    """
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    cells = [_row_cells(keys, index, case) for index, case in rows]
    index_width = max([1, *(row[0].cell_len for row in cells)])
    # What is left for the other columns after the left border and the index column.
    room = max(1 + _COLUMN_FRAME, width - 1 - (index_width + _COLUMN_FRAME))

    def column(n: int, header: str, style: str = "", longest: int = MAX_CELL) -> _Column:
        natural = max([len(header), *(row[n].cell_len for row in cells)])
        return _Column(header, max(1, min(natural, longest, room - _COLUMN_FRAME)), style)

    columns = [column(1 + n, printable(key)) for n, key in enumerate(keys)]
    columns.append(column(1 + len(keys), "tags", "magenta"))
    columns.append(column(2 + len(keys), "case_id", "dim", _CASE_ID_CHARS))
    parts: list[RenderableType] = []
    first = 1
    for group in _fold(columns, room):
        table = Table(title=None if parts else title, title_justify="left", header_style="bold")
        table.add_column("#", justify="right", style="dim", no_wrap=True)
        for spec in group:
            table.add_column(
                Text(spec.header),
                width=spec.width,
                style=spec.style,
                no_wrap=True,
                overflow="ellipsis",
            )
        for row in cells:
            table.add_row(row[0], *row[first : first + len(group)])
        if parts:
            parts.append(Text())
        parts.append(table)
        first += len(group)
    return Group(*parts)


def _row_cells(keys: tuple[str, ...], index: int, case: ParamCase) -> list[Text]:
    from rich.text import Text

    params = case.params

    def cell(text: str, style: str = "") -> Text:
        return Text(printable(text), style=style, no_wrap=True, overflow="ellipsis")

    return [
        cell(int_to_str(index)),
        *(cell(_table_cell(params[k])) if k in params else cell("-", "dim") for k in keys),
        cell(", ".join(case.tags)),
        cell(case.case_id),
    ]


def _fold(columns: list[_Column], room: int) -> list[list[_Column]]:
    """Columns in order, in as few groups as fit side by side in ``room`` characters."""
    groups: list[list[_Column]] = [[]]
    used = 0
    for spec in columns:
        needed = spec.width + _COLUMN_FRAME
        if groups[-1] and used + needed > room:
            groups.append([])
            used = 0
        groups[-1].append(spec)
        used += needed
    return groups
