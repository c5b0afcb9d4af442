"""How cases leave the command: JSON records, JSON lines, CSV and rich tables.

A case is written as the record ``{"index", "case_id", "params", "tags"}``, the same
for ``metalab case`` and every line of ``metalab list --format jsonl``. CSV has one
column per parameter between ``index``/``case_id`` and ``tags``, and reads back with
``pandas.read_csv`` unchanged: scalars are written as Python writes them (``True``,
``0.1``), a missing parameter or ``None`` is an empty cell, and lists, dicts and the
tags are JSON text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any, Final

from metalab._cli._load import CliError
from metalab._cli._nodes import format_value

if TYPE_CHECKING:
    from rich.table import Table

    from metalab._case import ParamCase
    from metalab.params._base import ParamSource

__all__ = ["CSV_COLUMNS", "case_record", "cases_table", "dumps_record", "iter_cases", "write_csv"]

CSV_COLUMNS: Final = ("index", "case_id", "tags")
"""The columns CSV adds around the parameters; no parameter may take these names."""


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
    """A record as JSON text (tuples become lists, mappings objects)."""
    return json.dumps(record, indent=indent, ensure_ascii=True, allow_nan=False)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, tuple | Mapping):
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
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
                index,
                case.case_id,
                *(_cell(params.get(k)) for k in keys),
                json.dumps(list(case.tags), ensure_ascii=False),
            )
        )


def _table_cell(value: object) -> str:
    # Tables are for reading: floats get 6 significant digits (jsonl and csv are exact).
    if isinstance(value, float):
        return f"{value:.6g}"
    return format_value(value)


def cases_table(
    keys: tuple[str, ...], rows: Iterable[tuple[int, ParamCase]], *, title: str | None = None
) -> Table:
    """A rich table of cases: index, one column per parameter, tags and case_id."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    for key in keys:
        table.add_column(key, overflow="fold")
    table.add_column("tags", style="magenta", overflow="fold")
    table.add_column("case_id", style="dim", no_wrap=True)
    for index, case in rows:
        params = case.params
        cells = [
            Text(_table_cell(params[k])) if k in params else Text("-", style="dim") for k in keys
        ]
        table.add_row(str(index), *cells, Text(", ".join(case.tags)), case.case_id)
    return table
