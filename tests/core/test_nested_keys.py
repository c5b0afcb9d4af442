"""Dotted keys: `ParamCase.nested`, and a key that is also a branch refused by every source."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given

import metalab
from metalab import (
    ParamCase,
    grid,
    manual,
    random,
    replicates,
    uniform,
)
from metalab._core.values import check_key_paths, key_path_clashes, nest_keys
from metalab.errors import ManifestError, ParamError
from metalab.manifest import from_manifest, to_manifest
from metalab.testing import sources

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalab import ParamSource


def _flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    # The levels nested() builds are plain dicts; a mapping value is the case's read-only one.
    out: dict[str, Any] = {}
    for key, value in nested.items():
        if type(value) is dict:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


class TestNested:
    """`case.nested()` turns dotted keys into nested dicts."""

    def test_dotted_keys_become_nested_dicts(self) -> None:
        """{"model.lr": 0.1} gives {"model": {"lr": 0.1}}, at any depth, other keys as they are."""
        case = ParamCase({"model.lr": 0.1, "model.opt.name": "adam", "seed": 3})
        assert case.nested() == {"model": {"lr": 0.1, "opt": {"name": "adam"}}, "seed": 3}

    def test_levels_are_sorted_and_plain_dicts(self) -> None:
        """Every level is a fresh plain dict whose keys come in sorted order."""
        case = ParamCase({"b.z": 1, "b.a": 2, "a": 3})
        nested = case.nested()
        assert list(nested) == ["a", "b"]
        assert list(nested["b"]) == ["a", "z"]
        assert type(nested) is dict
        assert type(nested["b"]) is dict
        nested["b"]["a"] = 99
        assert case.nested()["b"]["a"] == 2

    def test_values_stay_the_cases_own(self) -> None:
        """A value that is itself a mapping is a value, not split further: only keys are paths."""
        case = ParamCase({"opt": {"a.b": 1}, "x.y": (1, 2)})
        assert case.nested() == {"opt": {"a.b": 1}, "x": {"y": (1, 2)}}

    def test_a_case_without_dots_gives_a_copy_of_its_params(self) -> None:
        """Without dotted keys, nested() equals the params, as a plain dict."""
        case = grid(lr=[0.1], seed=[1])[0]
        assert case.nested() == {"lr": 0.1, "seed": 1}
        assert type(case.nested()) is dict

    def test_the_nested_config_dumps_to_json(self) -> None:
        """The nested dict of a grid case is JSON, as a config file for a training script."""
        case = grid({"model.lr": [0.1], "data.batch": [32]})[0]
        assert json.loads(json.dumps(case.nested())) == {
            "data": {"batch": 32},
            "model": {"lr": 0.1},
        }

    @given(source=sources(keys=["model.lr", "model.depth", "opt.name", "seed"], max_size=8))
    def test_nested_flattens_back_to_the_params(self, source: ParamSource) -> None:
        """For every case of every kind of source, flattening nested() gives the params back."""
        for case in source:
            assert _flatten(case.nested()) == dict(case.params)

    def test_nest_keys_is_what_nested_uses(self) -> None:
        """The helper nests any mapping the same way."""
        assert nest_keys({"a.b.c": 1, "a.d": 2}) == {"a": {"b": {"c": 1}, "d": 2}}


def _raises(build: Callable[[], object], where: str) -> str:
    with pytest.raises(ParamError) as info:
        build()
    message = str(info.value)
    assert message.startswith(where), message
    return message


class TestBranchAndLeafRefused:
    """A key that is also the branch of a dotted key is a ParamError when the sweep is defined."""

    @pytest.mark.parametrize(
        ("build", "where"),
        [
            (lambda: grid({"model": ["a"], "model.lr": [0.1]}), "grid"),
            (lambda: grid({"model.lr": [0.1]}, model=["a"]), "grid"),
            (lambda: random({"model": uniform(0, 1), "model.lr": uniform(0, 1)}, 4, 0), "random"),
            (lambda: metalab.zip({"m": [1], "m.x.y": [2]}), "zip"),
            (lambda: manual([{"model": "a", "model.lr": 0.1}]), "manual cases"),
            (lambda: manual([{"model": "a"}, {"model.lr": 0.1}]), "manual cases"),
            (lambda: grid(model=["a"]) * grid({"model.lr": [0.1]}), "cannot cross"),
            (lambda: grid(a=[1]) * replicates(2, seed=0, key="a.seed"), "cannot cross"),
            (lambda: grid(model=["a"]) + grid({"model.lr": [0.1]}), "cannot concatenate"),
            (
                lambda: grid(x=[1]) + grid(model=["a"]) + grid({"model.lr": [0.1]}),
                "cannot concatenate",
            ),
            (lambda: ParamCase({"model": "a", "model.lr": 0.1}), "ParamCase params"),
            (lambda: grid(a=[1]) * grid(b=[1]) * grid({"a.x": [1]}), "cannot cross"),
            (lambda: grid({"a.x": [1]}) * grid(b=[1]) * grid(a=[1]), "cannot cross"),
            (lambda: grid({"a.x.y": [1]}) + grid(b=[1]) + grid({"a.x": [1]}), "cannot concatenate"),
        ],
        ids=[
            "grid",
            "grid-mixed",
            "random",
            "zip",
            "manual-one-case",
            "manual-across-cases",
            "product",
            "product-replicates",
            "concat",
            "concat-chain",
            "case",
            "product-chain-branch-last",
            "product-chain-leaf-last",
            "concat-chain-deeper-first",
        ],
    )
    def test_every_source_refuses_a_leaf_that_is_a_branch(
        self, build: Callable[[], object], where: str
    ) -> None:
        """Each source names the clash: the leaf, the dotted key, and what dotted keys mean."""
        message = _raises(build, where)
        assert "is also the branch of the dotted key" in message
        assert "nested config" in message

    def test_message_names_both_keys(self) -> None:
        """The message names the leaf and the dotted key it clashes with."""
        message = _raises(lambda: grid({"m": [1], "m.lr": [2]}), "grid")
        assert "parameter 'm' is also the branch of the dotted key 'm.lr'" in message

    def test_a_manifest_with_the_clash_is_refused(self) -> None:
        """Loading a manifest whose grid has both keys raises the manifest's own error."""
        data = to_manifest(grid({"model.lr": [0.1]}))
        data["spec"]["model"] = ["a"]
        with pytest.raises(ManifestError, match="is also the branch of the dotted key"):
            from_manifest(data)

    @pytest.mark.parametrize(
        "keys",
        [
            ["model.lr", "model.depth"],
            ["model", "model_lr", "model-x", "modelx.y"],
            ["a.b", "a.c.d", "b"],
            ["x.", ".y", "z"],
        ],
    )
    def test_keys_without_a_clash_are_accepted(self, keys: list[str]) -> None:
        """Keys that share a prefix but not a dotted branch are fine, as are odd dotted names."""
        check_key_paths(keys, "grid")
        assert key_path_clashes(keys) == []
        assert grid({key: [1] for key in keys}).size == 1

    def test_clashes_are_found_at_any_depth(self) -> None:
        """A leaf clashes with every dotted key below it; one pair per leaf, sorted."""
        assert key_path_clashes(["a.b.c", "a", "a.b"]) == [("a", "a.b"), ("a.b", "a.b.c")]

    def test_a_concatenation_of_distinct_branches_is_fine(self) -> None:
        """Parts may hold different dotted keys of one config; nested() differs by case."""
        sweep = grid({"model.lr": [0.1]}) + grid({"model.depth": [2]})
        assert [case.nested() for case in sweep] == [
            {"model": {"lr": 0.1}},
            {"model": {"depth": 2}},
        ]
