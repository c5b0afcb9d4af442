"""The benchmark's page: rendered from saved results, readable, ordered, with its chart.

These tests run no benchmark: they render ``docs/performance.md`` from the results the
last run saved in ``docs/performance.json``, as ``bench.py --render-only`` does.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from unittest import mock

import pytest

if TYPE_CHECKING:
    import types
    from collections.abc import Iterator

ROOT: Final = Path(__file__).resolve().parent.parent
PAGE: Final = ROOT / "docs" / "performance.md"
RESULTS: Final = ROOT / "docs" / "performance.json"
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_CODE_SPAN: Final = re.compile(r"`[^`\n]*`")


@pytest.fixture(scope="module")
def bench() -> Iterator[types.ModuleType]:
    """benchmarks/bench.py, loaded from its path (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("metalab_bench", ROOT / "benchmarks" / "bench.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while loaded: dataclasses look their module up in sys.modules.
    with mock.patch.dict(sys.modules, {spec.name: module}):
        spec.loader.exec_module(module)
        yield module


@pytest.fixture
def results() -> dict[str, Any]:
    """The results of the last benchmark run, as saved next to the page."""
    data: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    return data


def _table(page: str) -> list[list[str]]:
    """The cells of the page's table rows (header and rule left out)."""
    rows = [line for line in page.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


class TestPage:
    """docs/performance.md as bench.py renders it."""

    def test_the_page_is_rendered_from_the_saved_results(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """The committed page is exactly what the committed results render to."""
        assert bench.report(results, "performance.png") == PAGE.read_text(encoding="utf-8")

    def test_rows_are_in_target_order(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """The table lists targets by number, then letter: 3d before 4, 5 before 6a."""
        targets = [row[0] for row in _table(bench.report(results, None))]
        assert targets == [
            *("1a", "1b", "2", "3a", "3b", "3c", "3d", "4", "5", "6a", "6b"),
            *("7a", "7b", "7c", "8", "9a", "9b", "9c", "10", "11"),
            *("12a", "12b", "12c", "13a", "14a", "14b"),
        ]

    def test_no_markdown_emphasis_outside_code_spans(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """Dunders and powers are in code spans, so `__getitem__` never turns bold."""
        prose = _CODE_SPAN.sub("", bench.report(results, "performance.png"))
        assert "__" not in prose
        assert not re.search(r"\w\*\*\w", prose)

    def test_the_table_is_narrow(self, bench: types.ModuleType, results: dict[str, Any]) -> None:
        """At most six columns; the baselines and times are notes below the table."""
        page = bench.report(results, None)
        assert {len(row) for row in _table(page)} == {6}
        assert re.search(
            r"^- \*\*2\*\*: sklearn `ParameterGrid.__getitem__` .*; metalab [0-9.]+ ms, baseline",
            page,
            re.MULTILINE,
        )

    def test_the_chart_is_shown_above_the_table(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """The page shows the chart before its table, and no chart when there is none."""
        page = bench.report(results, "performance.png")
        assert 0 <= page.index("](performance.png)") < page.index("| # |")
        assert "![" not in bench.report(results, None)

    def test_a_missed_target_is_flagged(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """A target whose median exceeds its limit shows **no** and the rounds within it."""
        data = copy.deepcopy(results)
        data["comparisons"][0]["ratios"] = [2.5, 3.0, 1.5]
        row = _table(bench.report(data, None))[0]
        assert row[0] == "1a"
        assert row[-1] == "**no** (1 of 3)"

    def test_an_unknown_results_format_is_refused(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """A results file of another layout is refused, not rendered wrongly."""
        with pytest.raises(ValueError, match="results format 2"):
            bench.rows({**results, "format": 2})


class TestChart:
    """The PNG of the ratios against their targets."""

    def test_a_png_is_written(
        self, bench: types.ModuleType, results: dict[str, Any], tmp_path: Path
    ) -> None:
        """chart() writes a PNG image at the path given."""
        pytest.importorskip("matplotlib")
        path = tmp_path / "chart.png"
        bench.chart(results, path)
        assert path.read_bytes().startswith(PNG_SIGNATURE)

    def test_render_only_measures_nothing(self, bench: types.ModuleType, tmp_path: Path) -> None:
        """--render-only writes the page and its chart from the results file, running nothing."""
        pytest.importorskip("matplotlib")
        page = tmp_path / "performance.md"
        with mock.patch.object(bench, "_measure", side_effect=AssertionError("measured")):
            code = bench.main(["--render-only", "--output", str(page), "--results", str(RESULTS)])
        assert code == 0
        assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
        assert page.with_suffix(".png").read_bytes().startswith(PNG_SIGNATURE)


class TestPartialRuns:
    """``--only``: some rows measured again, merged into the saved results."""

    def test_merge_replaces_only_the_rows_measured(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """The rows measured again replace theirs; every other row is kept as it was."""
        new = copy.deepcopy(results)
        new["comparisons"] = [
            {**row, "ratios": [9.0]} for row in new["comparisons"] if row["target"] == "1a"
        ]
        new["figures"] = []
        new["rounds"], new["quick"], new["finished"] = 1, True, "2030-01-01 00:00 UTC"
        merged = bench.merge(results, new, {"1a"})
        by_target = {row["target"]: row for row in merged["comparisons"]}
        assert by_target["1a"]["ratios"] == [9.0]
        assert [row for row in merged["comparisons"] if row["target"] != "1a"] == [
            row for row in results["comparisons"] if row["target"] != "1a"
        ]
        assert merged["figures"] == results["figures"]
        assert merged["partial_runs"][-1]["targets"] == ["1a"]

    def test_the_page_names_the_rows_of_a_partial_run(
        self, bench: types.ModuleType, results: dict[str, Any]
    ) -> None:
        """The page says which rows a partial run measured, and drops a run measured over."""
        new = copy.deepcopy(results)
        new["comparisons"], new["figures"] = [], []
        new["rounds"], new["quick"], new["finished"] = 2, False, "2030-01-01 00:00 UTC"
        first = bench.merge({**results, "partial_runs": []}, new, {"2", "5"})
        second = bench.merge(first, {**new, "finished": "2030-01-02 00:00 UTC"}, {"2"})
        page = bench.report(second, None)
        assert "Measured again alone (`--only`): 5; 2 rounds, finished 2030-01-01" in page
        assert "Measured again alone (`--only`): 2; 2 rounds, finished 2030-01-02" in page
        third = bench.merge(second, new, {"5"})
        assert [run["targets"] for run in third["partial_runs"]] == [["2"], ["5"]]


def test_the_machine_line_names_the_processor(bench: types.ModuleType) -> None:
    """The processor (and on Linux its model and caches) goes into the saved results."""
    import platform

    cpu = bench._cpu()
    assert (platform.processor() or platform.machine()) in cpu
    if Path("/proc/cpuinfo").exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("model name")
        ]
        if models:
            assert cpu.startswith(models[0])
