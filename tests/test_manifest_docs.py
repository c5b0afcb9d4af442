"""The manifest format page: its examples run, and its JSON is what metalab reads and writes."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path
from typing import Any

import pytest

from metalab.manifest import SOURCE_TYPES, converter, loads, to_manifest
from metalab.params.distributions import DISTRIBUTIONS, Distribution

PAGE = Path(__file__).resolve().parent.parent / "docs" / "manifest.md"
DISTRIBUTION: Any = Distribution  # a Protocol, which mypy refuses as a type argument
_DISTRIBUTION_TAGS = {cls.manifest_type for cls in DISTRIBUTIONS}


def _json_blocks() -> list[Any]:
    text = PAGE.read_text(encoding="utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


BLOCKS = _json_blocks()


def _tags(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["type"]} if isinstance(node.get("type"), str) else set()
        return own.union(*(_tags(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_tags(v) for v in node))
    return set()


class TestManifestPage:
    """docs/manifest.md cannot go stale."""

    def test_examples_give_the_printed_output(self) -> None:
        """Every ``>>>`` example of the page prints exactly the output written under it."""
        result = doctest.testfile(
            str(PAGE),
            module_relative=False,
            # The module name test_docs runs the page under: a class the page registers
            # is then the same definition run again, which replaces the earlier one.
            globs={"__name__": "__docs_manifest__"},
            optionflags=doctest.ELLIPSIS,
            verbose=False,
        )
        assert result.attempted >= 10
        assert result.failed == 0

    def test_every_type_has_a_json_example(self) -> None:
        """Each source type, each distribution and the range axis appear in a JSON example."""
        shown = set().union(*(_tags(block) for block in BLOCKS))
        expected = {cls.manifest_type for cls in SOURCE_TYPES} | _DISTRIBUTION_TAGS | {"range"}
        assert expected <= shown

    @pytest.mark.parametrize("block", BLOCKS, ids=[str(i) for i in range(len(BLOCKS))])
    def test_json_examples_are_what_metalab_writes(self, block: dict[str, Any]) -> None:
        """Each example loads; one with a format version is exactly what metalab writes."""
        if block["type"] in _DISTRIBUTION_TAGS:
            dist = converter.structure(block, DISTRIBUTION)
            assert converter.unstructure(dist, Distribution) == block
            return
        source = loads(json.dumps(block))
        if "format_version" in block:
            assert to_manifest(source) == block
        else:
            assert to_manifest(source)["format_version"] == "1.0"
