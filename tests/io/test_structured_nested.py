"""Typed views of dotted keys: nested attrs classes, dataclasses and TypedDicts."""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import attrs
import pytest

from metalab import ParamInput, choice, grid, manual, random, uniform
from metalab.errors import SchemaError


@attrs.frozen
class Optimizer:
    """An optimizer, two levels down."""

    name: str
    beta: float = 0.9


@dataclasses.dataclass(frozen=True)
class Model:
    """A model: a dataclass holding an attrs class."""

    lr: float
    depth: int
    opt: Optimizer


@attrs.frozen
class Config:
    """The top-level config, with an optional nested schema."""

    model: Model
    seed: int
    extra: Optimizer | None = None


class ModelDict(TypedDict):
    """A nested TypedDict."""

    lr: float


class DictConfig(TypedDict):
    """A TypedDict with a nested TypedDict and a dict field."""

    model: ModelDict
    weights: dict[str, float]


@attrs.frozen
class Flat:
    """A schema whose field is no config."""

    model: float


_FULL: dict[str, list[ParamInput]] = {
    "model.lr": [0.1, 0.01],
    "model.depth": [2],
    "model.opt.name": ["adam"],
    "seed": [0],
}


class TestNestedViews:
    """Dotted keys fill the fields of nested schemas, at any depth."""

    def test_grid_cases_become_nested_instances(self) -> None:
        """model.opt.name fills Config.model.opt.name; defaults fill the rest."""
        view = grid(_FULL).structured(Config)
        assert view[1] == Config(Model(0.01, 2, Optimizer("adam")), seed=0)
        assert list(view) == [view[0], view[1]]

    def test_an_optional_nested_schema_is_filled_when_its_keys_are_there(self) -> None:
        """A field typed Optimizer | None is built from its dotted keys, or left at None."""
        with_extra = grid({**_FULL, "extra.name": ["sgd"]}).structured(Config)
        assert with_extra[0].extra == Optimizer("sgd")
        assert grid(_FULL).structured(Config)[0].extra is None

    def test_random_and_manual_sources_nest_too(self) -> None:
        """Every kind of source gives nested instances: draws and listed cases alike."""
        space = {
            "model.lr": uniform(0, 1),
            "model.depth": choice([1, 2]),
            "model.opt.name": choice(["a"]),
        }
        drawn = (random(space, 5, seed=1) * grid(seed=[7])).structured(Config)
        assert all(0 <= c.model.lr < 1 and c.model.opt == Optimizer("a") for c in drawn)
        cases = manual([{"model.lr": 0.5, "model.depth": 3, "model.opt.name": "x", "seed": 1}])
        assert cases.structured(Config)[0].model == Model(0.5, 3, Optimizer("x"))

    def test_typed_dicts_nest(self) -> None:
        """A TypedDict field and a dict field are both built from dotted keys."""
        view = grid({"model.lr": [0.1], "weights.a": [1.0], "weights.b": [2.0]})
        assert view.structured(DictConfig)[0] == {
            "model": {"lr": 0.1},
            "weights": {"a": 1.0, "b": 2.0},
        }

    def test_a_typed_dict_with_a_dotted_field_keeps_it_whole(self) -> None:
        """A key the schema declares as it is, dots included, is not split."""
        dotted = TypedDict("dotted", {"model.lr": float})
        assert grid({"model.lr": [0.1]}).structured(dotted)[0] == {"model.lr": 0.1}


class TestNestedChecksAtDefinition:
    """A sweep whose dotted keys do not fit the nested schemas is refused when viewed."""

    @pytest.mark.parametrize(
        ("spec", "schema", "message"),
        [
            (
                {"model.lr": [0.1], "model.opt.name": ["a"], "seed": [0]},
                Config,
                "in 'model' (Model): missing required field 'depth'",
            ),
            (
                {**_FULL, "model.opt.nme": ["a"]},
                Config,
                (
                    "in 'model' (Model): in 'opt' (Optimizer): unexpected key 'nme' "
                    "(did you mean 'name'?)"
                ),
            ),
            (
                {**_FULL, "extra.bta": [0.5], "extra.name": ["a"]},
                Config,
                "in 'extra' (Optimizer): unexpected key 'bta'",
            ),
            (
                {"model.lr": [0.1]},
                Flat,
                (
                    "field 'model' is a float, not a nested config, but the sweep has dotted "
                    "keys under it ('model.lr')"
                ),
            ),
        ],
        ids=["missing", "misspelt", "optional", "not-a-schema"],
    )
    def test_key_problems_name_the_nested_field(
        self, spec: dict[str, list[ParamInput]], schema: type, message: str
    ) -> None:
        """The message says in which nested schema the key is missing or unexpected."""
        with pytest.raises(SchemaError) as info:
            grid(spec).structured(schema)
        assert message in str(info.value)

    def test_listed_values_are_checked_against_the_nested_field(self) -> None:
        """A grid value of the wrong type for model.depth is refused, naming the dotted key."""
        with pytest.raises(SchemaError, match=r"field 'model.depth' of Config: expected an int"):
            grid({**_FULL, "model.depth": [2, "deep"]}).structured(Config)

    def test_values_of_a_dict_field_are_checked_when_read(self) -> None:
        """A dotted key into a dict field is checked as the dict's values, naming the key."""
        view = grid({"model.lr": [0.1], "weights.a": ["heavy"]}).structured(DictConfig)
        with pytest.raises(SchemaError, match=r"case 0: field \"weights\['a'\]\" of DictConfig"):
            view[0]
