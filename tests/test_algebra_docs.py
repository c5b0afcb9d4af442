"""The examples of the algebra documentation page run and print what the page says."""

from __future__ import annotations

import doctest
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "algebra.md"


class TestAlgebraPage:
    """docs/algebra.md is checked like a doctest, so its examples cannot go stale."""

    def test_examples_give_the_printed_output(self) -> None:
        """Every ``>>>`` example of the page prints exactly the output written under it."""
        result = doctest.testfile(
            str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
        )
        assert result.attempted > 30
        assert result.failed == 0
