"""The reproducibility page: its examples run, and its algorithm is the one in the code."""

from __future__ import annotations

import doctest
from pathlib import Path

from metalab.params import _rng
from metalab.params.random import ALGORITHM, LEGACY_ALGORITHM

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reproducibility.md"


class TestReproducibilityPage:
    """docs/reproducibility.md cannot go stale."""

    def test_examples_give_the_printed_output(self) -> None:
        """Every ``>>>`` example of the page prints exactly the output written under it."""
        result = doctest.testfile(str(PAGE), module_relative=False, verbose=False)
        assert result.attempted >= 8
        assert result.failed == 0

    def test_page_states_the_kernel_constants(self) -> None:
        """The mixer's constants, the golden gamma and the name-hash key are written out."""
        text = PAGE.read_text(encoding="utf-8")
        for constant in (_rng.M1, _rng.M2, _rng.GOLDEN):
            assert f"0x{constant:016X}" in text
        assert "z ^= z >> 30" in text
        assert "z ^= z >> 27" in text
        assert "z ^= z >> 31" in text
        assert 'b"metalab.name"' in text

    def test_page_names_both_algorithms(self) -> None:
        """Both algorithm names and the golden file appear on the page."""
        text = PAGE.read_text(encoding="utf-8")
        assert f"`{ALGORITHM}`" in text
        assert f"`{LEGACY_ALGORITHM}`" in text
        assert f"tests/golden/{ALGORITHM}.json" in text
