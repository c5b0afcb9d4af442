"""Typed schemas: `Structured` views over sources, and the errors that come before any job."""

from __future__ import annotations

import dataclasses
import enum
import pickle
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, NewType, NotRequired, TypedDict

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import metalab
from metalab import (
    ParamInput,
    ParamSource,
    Structured,
    choice,
    grid,
    loguniform,
    manual,
    randint,
    random,
    replicates,
    uniform,
)
from metalab.errors import (
    CaseIndexError,
    IndexTypeError,
    ManifestError,
    ParamError,
    SchemaError,
)
from metalab.manifest import converter, dumps, from_manifest, loads, to_manifest
from metalab.testing import sources


@attrs.frozen
class Model:
    """A nested schema."""

    depth: int
    width: int = 64


@attrs.frozen
class Config:
    """An attrs schema with a nested, an optional and a sequence field."""

    lr: float
    opt: str = "adam"
    model: Model | None = None
    layers: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """A dataclass schema."""

    lr: float
    seed: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)


class DictConfig(TypedDict):
    """A TypedDict schema with a NotRequired key."""

    lr: float
    warmup: NotRequired[int]


@attrs.frozen
class Optimizer:
    """The schema of a conditional sweep: each optimizer has its own fields."""

    opt: str
    beta1: float | None = None
    momentum: float | None = None
    seed: int = 0


@attrs.frozen
class Adam:
    """A schema that fits only the adam part of a conditional sweep."""

    opt: str
    beta1: float


class Activation(enum.Enum):
    """An enum field's type."""

    RELU = "relu"
    GELU = "gelu"


Width = NewType("Width", int)


@attrs.frozen
class Kinds:
    """A schema with every field type metalab checks."""

    act: Activation
    mode: Literal["train", "eval"] = "train"
    width: Width = Width(8)
    extra: dict[str, float] = attrs.field(factory=dict)
    anything: Any = None
    models: list[Model] = attrs.field(factory=list)
    pair: tuple[int, str] = (0, "")


def _positive(_instance: object, _attribute: object, value: float) -> None:
    if value <= 0:
        msg = f"lr must be positive, got {value}"
        raise ValueError(msg)


@attrs.frozen
class Checked:
    """A schema with a validator of its own."""

    lr: float = attrs.field(validator=_positive)


@attrs.frozen
class Tree:
    """A recursive schema."""

    value: int
    children: tuple[Tree, ...] = ()


@attrs.frozen
class Pair:
    """Two required fields of different types."""

    a: int
    b: str


@attrs.frozen
class NeedsAB:
    """One required field and two optional ones."""

    a: int
    b: int = 0
    c: int = 0


@attrs.frozen
class Sgd:
    """A schema told apart from `Adam` by its one field."""

    momentum: float


@attrs.frozen
class EitherOptimizer:
    """A schema whose field is a union of two schemas, and a mapping and a sequence."""

    optimizer: Adam | Sgd
    sizes: Sequence[int] = ()
    scales: Mapping[str, float] = attrs.field(factory=dict)


class TestStructuring:
    """Cases read as instances of the schema, through the one converter."""

    def test_union_of_schemas_and_containers(self) -> None:
        """A union of schemas gets the class that fits; mappings and sequences keep cattrs' way."""
        view = manual(
            [
                {"optimizer": {"opt": "adam", "beta1": 0.9}, "sizes": [1, 2], "scales": {"b": 1}},
                {"optimizer": {"momentum": 0.5}},
            ]
        ).structured(EitherOptimizer)
        assert view[0] == EitherOptimizer(Adam("adam", 0.9), (1, 2), {"b": 1.0})
        assert view[1] == EitherOptimizer(Sgd(0.5))
        assert type(view[0].scales["b"]) is float

    def test_attrs_class(self) -> None:
        """Each case becomes an attrs instance; absent optional fields take their defaults."""
        view = grid(lr=[0.1, 0.01], opt=["adam", "sgd"]).structured(Config)
        assert view[3] == Config(lr=0.01, opt="sgd")
        assert view[0].model is None
        assert view[0].layers == ()

    def test_dataclass(self) -> None:
        """Dataclasses work the same way, default factories included."""
        view = manual([{"lr": 0.1, "tags": ["a", "b"]}, {"lr": 1, "seed": 3}]).structured(
            DataConfig
        )
        assert list(view) == [DataConfig(0.1, 0, ["a", "b"]), DataConfig(1.0, 3, [])]

    def test_typed_dict_with_not_required_key(self) -> None:
        """A TypedDict's NotRequired keys may be absent, even under postponed annotations."""
        view = manual([{"lr": 0.1, "warmup": 10}, {"lr": 1}]).structured(DictConfig)
        assert list(view) == [{"lr": 0.1, "warmup": 10}, {"lr": 1.0}]
        assert type(view[1]["lr"]) is float

    def test_int_values_fill_float_fields_as_floats(self) -> None:
        """An int given for a float field is structured to a float, as mypy allows."""
        value = grid(lr=[1]).structured(Config)[0].lr
        assert value == 1.0
        assert type(value) is float

    def test_nested_attrs_field_from_a_dict_value(self) -> None:
        """A dict value becomes the nested class; a tuple becomes the declared sequence."""
        view = grid(lr=[0.1], model=[{"depth": 2}, {"depth": 4, "width": 8}]).structured(Config)
        assert [c.model for c in view] == [Model(2), Model(4, 8)]
        layers = manual([{"lr": 0.1, "layers": [64, 32]}]).structured(Config)[0].layers
        assert layers == (64, 32)

    def test_enum_literal_newtype_dict_any_and_nested_lists(self) -> None:
        """Enums from their values, literals, NewTypes, dicts, Any and lists of classes."""
        case: dict[str, ParamInput] = {
            "act": "gelu",
            "mode": "eval",
            "width": 16,
            "extra": {"a": 1},
            "anything": [1, "x"],
            "models": [{"depth": 1}, {"depth": 2, "width": 3}],
            "pair": [1, "x"],
        }
        kinds = manual([case]).structured(Kinds)[0]
        assert kinds == Kinds(
            Activation.GELU,
            "eval",
            Width(16),
            {"a": 1.0},
            (1, "x"),
            [Model(1), Model(2, 3)],
            (1, "x"),
        )

    def test_recursive_schema(self) -> None:
        """A schema that contains itself is checked and structured to any depth."""
        view = manual([{"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}])
        tree = view.structured(Tree)[0]
        assert tree == Tree(1, (Tree(2, (Tree(3),)),))
        bad = manual([{"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}])
        with pytest.raises(SchemaError, match=r"'children\[0\]\.children\[0\]\.value'"):
            bad.structured(Tree)

    def test_iteration_agrees_with_indexing(self) -> None:
        """list(view) equals [view[i] for i in range(len(view))]."""
        view = (grid(opt=["adam", "sgd"]) * random({"lr": uniform(0, 1)}, 3, seed=0)).structured(
            Config
        )
        assert list(view) == [view[i] for i in range(len(view))]

    def test_negative_index_and_bounds(self) -> None:
        """Negative indices count back; out-of-range indices raise CaseIndexError."""
        view = grid(lr=[0.1, 0.2, 0.3]).structured(Config)
        assert view[-1] == view[2] == Config(0.3)
        with pytest.raises(CaseIndexError):
            view[3]
        with pytest.raises(TypeError):
            view[1.0]  # type: ignore[call-overload]

    def test_slices_are_views(self) -> None:
        """A slice of a view is a view of the slice."""
        source = grid(lr=[0.1, 0.2, 0.3, 0.4])
        view = source.structured(Config)[1::2]
        assert isinstance(view, Structured)
        assert view.source == source[1::2]
        assert list(view) == [Config(0.2), Config(0.4)]

    def test_take(self) -> None:
        """Take gives the instances at many indices, negative ones included."""
        view = grid(lr=[0.1, 0.2, 0.3]).structured(Config)
        assert view.take([2, 0, -1]) == [Config(0.3), Config(0.1), Config(0.3)]

    @pytest.mark.parametrize("indices", [[True], "ab", np.array([1.5]), [3]], ids=repr)
    def test_take_validates_indices_as_its_source_does(self, indices: Any) -> None:
        """A bad index list raises from a view exactly what its source's take raises."""
        source = grid(lr=[0.1, 0.2, 0.3])
        with pytest.raises((IndexTypeError, CaseIndexError)) as expected:
            source.take(indices)
        with pytest.raises(expected.type, match=f"^{re.escape(str(expected.value))}$"):
            source.structured(Config).take(indices)

    def test_size_len_and_bool(self) -> None:
        """size, len and truthiness follow the source."""
        view = grid(lr=[0.1, 0.2]).structured(Config)
        assert (view.size, len(view), bool(view)) == (2, 2, True)
        empty = random({"lr": uniform(0, 1)}, 0, seed=0).structured(Config)
        assert (empty.size, list(empty), bool(empty)) == (0, [], False)

    def test_huge_sweeps_index_without_enumerating(self) -> None:
        """A view over 2 * 10**40 cases is checked and indexed without enumerating."""
        view = (grid(lr=[0.1, 0.2]) * grid(seed=range(10**40))).structured(DataConfig)
        assert view.size == 2 * 10**40
        assert view[-1] == DataConfig(0.2, 10**40 - 1)
        assert view[10**40 + 5] == DataConfig(0.2, 5)

    def test_equality_hash_repr_and_pickle(self) -> None:
        """Views are values: equal when source and schema are, and they pickle."""
        a = grid(lr=[0.1]).structured(Config)
        b = grid(lr=[0.1]).structured(Config)
        assert a == b
        assert hash(a) == hash(b)
        assert a != grid(lr=[0.2]).structured(Config)
        assert repr(a) == "grid(lr=[0.1]).structured(Config)"
        assert pickle.loads(pickle.dumps(a)) == a  # noqa: S301 - our own bytes

    @given(st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=5, unique=True))
    def test_values_are_the_params(self, values: list[int]) -> None:
        """Each instance holds exactly the params of the case at that index."""
        view = grid(a=values, b=["x", "y"]).structured(Pair)
        for i, item in enumerate(view):
            assert (item.a, item.b) == (view.source[i].params["a"], view.source[i].params["b"])


class TestKeysAtDefinition:
    """Missing and unexpected keys are errors when the view is built, naming them."""

    def test_missing_required_field(self) -> None:
        """A required field no case provides is named."""
        with pytest.raises(SchemaError, match="missing required field 'lr'"):
            grid(opt=["adam"]).structured(Config)

    def test_unexpected_key_with_hint(self) -> None:
        """A key the schema lacks is named, with the closest field as a hint."""
        with pytest.raises(SchemaError, match=r"unexpected key 'lrr' \(did you mean 'lr'\?\)"):
            grid(lr=[0.1], lrr=[0.2]).structured(Config)

    def test_several_problems_in_one_message(self) -> None:
        """All missing fields and unexpected keys are listed at once."""
        with pytest.raises(SchemaError) as info:
            grid(x=[1], y=[2]).structured(NeedsAB)
        assert "missing required field 'a'" in str(info.value)
        assert "unexpected key 'x'" in str(info.value)
        assert "unexpected key 'y'" in str(info.value)

    def test_is_a_param_error(self) -> None:
        """SchemaError is a ParamError and a ValueError, raised before any case is read."""
        with pytest.raises(ParamError):
            grid(x=[1]).structured(Config)
        with pytest.raises(ValueError, match="missing required field"):
            grid(x=[1]).structured(Config)

    def test_conditional_sweep_fits_when_each_kind_of_case_fits(self) -> None:
        """A concatenation with different keys per part is checked part by part."""
        sweep = grid(opt=["adam"]) * grid(beta1=[0.9, 0.99]) + grid(opt=["sgd"]) * grid(
            momentum=[0.0, 0.9]
        )
        view = sweep.structured(Optimizer)
        assert [o.beta1 for o in view] == [0.9, 0.99, None, None]
        assert [o.momentum for o in view] == [None, None, 0.0, 0.9]

    def test_the_part_that_does_not_fit_is_named(self) -> None:
        """The key set of the cases that do not fit is shown with the problem."""
        sweep = grid(opt=["adam"], beta1=[0.9]) + grid(opt=["sgd"], momentum=[0.9])
        with pytest.raises(SchemaError) as info:
            sweep.structured(Adam)
        message = str(info.value)
        assert "cases with keys 'momentum', 'opt'" in message
        assert "missing required field 'beta1'" in message
        assert "unexpected key 'momentum'" in message

    def test_slices_and_shards_check_only_the_cases_they_hold(self) -> None:
        """A slice or shard that holds only fitting cases fits; its complement does not."""
        sweep = grid(opt=["adam"], beta1=[0.9, 0.99]) + grid(opt=["sgd"], momentum=[0.9])
        assert len(sweep[:2].structured(Adam)) == 2
        assert len(sweep.shard(0, 2).structured(Adam)) == 2
        assert len(sweep[::-1][1:].structured(Adam)) == 2
        with pytest.raises(SchemaError):
            sweep[1:].structured(Adam)

    def test_products_check_the_rows_a_slice_reaches(self) -> None:
        """In (a + b) * c, a slice within a's rows checks only a's keys."""
        source = (manual([{"a": 1}, {"x": 2}]) + manual([{"a": 5}])) * grid(b=[1, 2, 3])
        assert [item.a for item in source[:3].structured(NeedsAB)] == [1, 1, 1]
        assert [item.a for item in source[6:].structured(NeedsAB)] == [5, 5, 5]
        with pytest.raises(SchemaError, match="cases with keys 'b', 'x'"):
            source[2:4].structured(NeedsAB)

    def test_manual_cases_are_checked_one_by_one(self) -> None:
        """A manual source's cases may use different keys; each must fit."""
        assert len(manual([{"a": 1}, {"a": 2, "b": 3}]).structured(NeedsAB)) == 2
        with pytest.raises(SchemaError, match="cases with keys 'b' have missing required"):
            manual([{"a": 1}, {"b": 3}]).structured(NeedsAB)

    def test_replicates_and_zip(self) -> None:
        """Zip and replicates contribute their keys like any source."""
        view = (
            metalab.zip(opt=["adam", "sgd"], beta1=[0.9, 0.8]) * replicates(2, seed=0)
        ).structured(Optimizer)
        assert [o.opt for o in view] == ["adam", "adam", "sgd", "sgd"]
        assert len({o.seed for o in view}) == 2
        with pytest.raises(SchemaError, match="unexpected key 'rep'"):
            (grid(opt=["a"]) * replicates(2, seed=0, key="rep")).structured(Optimizer)

    def test_nested_keys_at_definition(self) -> None:
        """A nested field's missing and unexpected keys are named with the path."""
        source = grid(lr=[0.1], model=[{"dpth": 3}])
        with pytest.raises(SchemaError) as info:
            source.structured(Config)
        assert "field 'model' of Config: does not fit Model" in str(info.value)
        assert "missing required field 'depth'" in str(info.value)
        assert "unexpected key 'dpth' (did you mean 'depth'?)" in str(info.value)

    @given(st.data())
    def test_definition_check_is_exact_for_concatenations_and_slices(
        self, data: st.DataObject
    ) -> None:
        """The view is refused at definition iff some case it holds lacks a required field."""
        key_sets = st.sampled_from([("a",), ("a", "b"), ("b",), ("c",), ("a", "c")])
        leaves = st.lists(key_sets, max_size=5).map(
            lambda sets: manual([dict.fromkeys(keys, 1) for keys in sets])
        )

        def extend(children: st.SearchStrategy[ParamSource]) -> st.SearchStrategy[ParamSource]:
            concat = st.tuples(children, children).map(lambda ab: ab[0] + ab[1])
            sliced = st.tuples(
                children, st.integers(-6, 6), st.integers(-6, 6), st.sampled_from([1, 2, -1, -3])
            ).map(lambda t: t[0][t[1] : t[2] : t[3]])
            return concat | sliced

        source = data.draw(st.recursive(leaves, extend, max_leaves=6))
        fits = all("a" in case.params for case in source)
        if fits:
            assert len(source.structured(NeedsAB)) == source.size
        else:
            with pytest.raises(SchemaError, match="missing required field 'a'"):
                source.structured(NeedsAB)


class TestValueTypes:
    """Values of the wrong type are errors naming the field and the value (and the case)."""

    @pytest.mark.parametrize(
        ("source", "where"),
        [
            (grid(lr=[0.1, "fast"]), "grid values for 'lr'"),
            (metalab.zip(lr=[0.1, "fast"], opt=["a", "b"]), "zip values for 'lr'"),
            (manual([{"lr": 0.1}, {"lr": "fast"}]), "manual case 1"),
            (random({"lr": choice([0.1, "fast"])}, 2, seed=0), "random draws for 'lr'"),
            (grid(opt=["a"]) * grid(lr=["fast"]) + grid(lr=[0.1]), "grid values for 'lr'"),
            (grid(lr=["fast"]).shuffled(seed=1), "grid values for 'lr'"),
        ],
    )
    def test_listed_values_are_checked_at_definition(self, source: ParamSource, where: str) -> None:
        """A listed value of the wrong type is named with the field and where it is listed."""
        with pytest.raises(SchemaError) as info:
            source.structured(Config)
        message = str(info.value)
        assert "field 'lr' of Config: expected a number, got str 'fast'" in message
        assert where in message

    def test_a_range_of_options_is_checked_by_its_first_value(self) -> None:
        """``choice(range(n))`` holds ints only: one listed value stands for all n of them."""
        source = random({"seed": choice(range(10))}, 3, seed=0)
        assert [value for _, value, _ in source.listed_values()] == [0]
        with pytest.raises(SchemaError, match="'opt' of Config: expected a string, got int"):
            random({"lr": uniform(0, 1), "opt": choice(range(10**18))}, 3, seed=0).structured(
                Config
            )

    def test_distributions_are_checked_against_field_types(self) -> None:
        """Floats drawn into an int field, or ints into a str field, fail at definition."""
        with pytest.raises(SchemaError, match="'seed' of DataConfig: expected an int, got float"):
            random({"lr": loguniform(1e-3, 1e-1), "seed": uniform(0, 9)}, 3, seed=0).structured(
                DataConfig
            )
        with pytest.raises(SchemaError, match="'opt' of Config: expected a string, got int"):
            random({"lr": uniform(0, 1), "opt": randint(0, 3)}, 3, seed=0).structured(Config)
        with pytest.raises(SchemaError, match="replicate seeds for 'opt'"):
            (grid(lr=[0.1]) * replicates(2, seed=0, key="opt")).structured(Config)

    def test_nested_value_errors_give_the_path(self) -> None:
        """Errors inside nested fields, lists and dicts name the path to the value."""
        cases: list[tuple[dict[str, Any], str]] = [
            (
                {"lr": 0.1, "model": {"depth": "3"}},
                "field 'model.depth' of Config: expected an int",
            ),
            ({"lr": 0.1, "layers": [1, "a"]}, r"field 'layers\[1\]' of Config: expected an int"),
            ({"lr": 0.1, "model": 3}, "expected Model \\(a mapping of its fields\\), got int 3"),
            ({"lr": True}, "field 'lr' of Config: expected a number, got bool True"),
        ]
        for case, pattern in cases:
            with pytest.raises(SchemaError, match=pattern):
                manual([case]).structured(Config)

    def test_strict_checks_of_other_field_types(self) -> None:
        """Enums, literals, NewTypes, dicts, fixed tuples and lists of classes are strict."""
        base: dict[str, Any] = {"act": "relu"}
        cases: list[tuple[dict[str, Any], str]] = [
            ({"act": "tanh"}, "field 'act' of Kinds: expected a value of Activation"),
            (
                {**base, "mode": "test"},
                r"field 'mode' of Kinds: expected Literal\['train', 'eval'\]",
            ),
            ({**base, "width": 1.5}, "field 'width' of Kinds: expected an int, got float 1.5"),
            ({**base, "extra": {"a": "x"}}, r"field \"extra\['a'\]\" of Kinds: expected a number"),
            ({**base, "pair": [1, 2]}, r"field 'pair\[1\]' of Kinds: expected a string, got int 2"),
            ({**base, "pair": [1]}, r"field 'pair' of Kinds: expected tuple\[int, str\]"),
            ({**base, "models": [{"depth": 1}, {}]}, r"field 'models\[1\]' of Kinds: does not fit"),
        ]
        for case, pattern in cases:
            with pytest.raises(SchemaError, match=pattern):
                manual([case]).structured(Kinds)

    def test_read_errors_name_the_index_field_and_value(self) -> None:
        """A value met only when its case is read is named with the case index."""
        # A slice may leave values out, so its listed values are checked as cases are read.
        view = grid(lr=[0.1, 0.2, "fast", 0.4])[1:].structured(Config)
        assert view[0] == Config(0.2)
        with pytest.raises(
            SchemaError, match="case 1: field 'lr' of Config: expected a number, got str"
        ):
            view[1]
        with pytest.raises(SchemaError, match="case 1: field 'lr'"):
            list(view)

    def test_schema_validators_are_schema_errors_with_the_index(self) -> None:
        """A schema's own validator failing on a case is a SchemaError naming the case."""
        view = grid(lr=[0.1, -1.0]).structured(Checked)
        assert view[0] == Checked(0.1)
        with pytest.raises(
            SchemaError, match=r"case 1 does not fit Checked: .*lr must be positive"
        ):
            view[1]


@attrs.frozen
class _IntField:
    x: int


@attrs.frozen
class _FloatField:
    x: float


@attrs.frozen
class _StrField:
    x: str


@attrs.frozen
class _BoolField:
    x: bool


_LEAF_SCHEMAS: Final = {int: _IntField, float: _FloatField, str: _StrField, bool: _BoolField}
_LEAF_VALUES: Final = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


class TestLeavesAgreeWithManifests:
    """A typed view and a manifest judge a leaf value with the converter's one strict hook."""

    @given(value=_LEAF_VALUES, tp=st.sampled_from(sorted(_LEAF_SCHEMAS, key=str)))
    def test_a_view_refuses_exactly_what_the_converter_refuses(self, value: Any, tp: type) -> None:
        """`structured` refuses a leaf value exactly when the manifest converter does."""
        try:
            converter.structure(value, tp)
        except ManifestError:
            refused = True
        else:
            refused = False
        source = manual([{"x": value}])
        if refused:
            with pytest.raises(SchemaError, match=r"field 'x' of _\w+Field: expected "):
                source.structured(_LEAF_SCHEMAS[tp])
        else:
            assert source.structured(_LEAF_SCHEMAS[tp])[0] == _LEAF_SCHEMAS[tp](value)

    def test_the_words_are_the_hooks_and_the_value_is_python(self) -> None:
        """The expectation reads as in a manifest, the value as Python shows it."""
        with pytest.raises(
            SchemaError, match=r"^field 'x' of _IntField: expected an int, got bool"
        ):
            manual([{"x": True}]).structured(_IntField)
        with pytest.raises(
            SchemaError, match=r": expected a bool, got int 1 \(in manual case 0\)$"
        ):
            manual([{"x": 1}]).structured(_BoolField)
        with pytest.raises(ManifestError, match=r"^the manifest: expected true or false, got 1$"):
            converter.structure(1, bool)

    @pytest.mark.parametrize("value", [2**53 + 1, -(2**60) - 1, 10**400])
    def test_an_int_no_float_holds_is_refused_not_rounded(self, value: int) -> None:
        """A float field given an int that would round (or overflow) is an error naming it."""
        with pytest.raises(SchemaError, match=r"'x' of _FloatField: .*a float holds exactly"):
            manual([{"x": value}]).structured(_FloatField)
        assert manual([{"x": 2**53}]).structured(_FloatField)[0].x == 2.0**53


class TestSchemas:
    """What can be a schema, and what is refused."""

    @pytest.mark.parametrize("schema", [int, dict, str, Mapping, object])
    def test_plain_classes_are_refused(self, schema: type[Any]) -> None:
        """Only attrs classes, dataclasses and TypedDicts are schemas."""
        with pytest.raises(SchemaError, match="takes an attrs class, a dataclass or a TypedDict"):
            grid(x=[1]).structured(schema)

    def test_a_source_is_required(self) -> None:
        """Building a view over something that is not a source is refused."""
        with pytest.raises(SchemaError, match="needs a parameter source"):
            Structured([{"lr": 0.1}], Config)  # type: ignore[arg-type]

    def test_unresolvable_annotations_are_refused(self) -> None:
        """A schema whose annotations name an unknown type is refused, naming the schema."""

        @attrs.frozen
        class Broken:
            x: Undefined  # type: ignore[name-defined]  # noqa: F821

        with pytest.raises(SchemaError, match=r"cannot read the field types of .*Broken"):
            grid(x=[1]).structured(Broken)


class TestManifestLoadedSources:
    """Views work the same over sources rebuilt from manifests."""

    def test_loads_dumps(self) -> None:
        """A sweep rebuilt from its JSON manifest gives the same instances."""
        sweep = grid(opt=["adam"]) * grid(beta1=[0.9, 0.99]) + grid(opt=["sgd"]) * grid(
            momentum=[0.0, 0.9]
        )
        loaded = loads(dumps(sweep))
        assert list(loaded.structured(Optimizer)) == list(sweep.structured(Optimizer))

    def test_from_manifest_with_random_draws(self) -> None:
        """Random draws rebuilt from a manifest structure to the same instances."""
        sweep = random({"lr": loguniform(1e-4, 1e-1), "opt": choice(["a", "b"])}, 5, seed=3)
        rebuilt = from_manifest(to_manifest(sweep)).structured(Config)
        assert list(rebuilt) == list(sweep.structured(Config))

    def test_manifest_errors_are_checked_too(self) -> None:
        """A hand-written manifest whose values do not fit the schema fails at definition."""
        text = '{"type": "GridSource", "spec": {"lr": [0.1, "fast"]}}'
        with pytest.raises(SchemaError, match="'lr' of Config: expected a number"):
            loads(text).structured(Config)


def _schema(required: frozenset[str], optional: frozenset[str]) -> type[Any]:
    """An attrs class with a field of type Any per name; the optional ones default to None."""
    fields = {k: attrs.field(type=Any) for k in sorted(required)}
    fields.update({k: attrs.field(type=Any, default=None) for k in sorted(optional)})
    schema: type[Any] = attrs.make_class("Dynamic", fields, kw_only=True, frozen=True)
    return schema


class TestAgainstEveryKindOfSource:
    """The definition-time key check agrees with the cases, for all kinds of source."""

    @given(sources(keys=("a", "b", "c", "d"), max_depth=3, max_size=24))
    def test_keys_check_agrees_with_enumeration(self, source: ParamSource) -> None:
        """A schema fits iff every case fits; the instances hold the cases' params."""
        key_sets = {frozenset(params) for params in source.dicts()}
        every = frozenset.intersection(*key_sets) if key_sets else frozenset()
        union = frozenset[str]().union(*key_sets)
        view = source.structured(_schema(every, union - every))
        for item, params in zip(view, source.dicts(), strict=True):
            assert {k: getattr(item, k) for k in params} == params
        for key in sorted(union - every):
            with pytest.raises(SchemaError, match=f"missing required field '{key}'"):
                source.structured(_schema(every | {key}, union - every - {key}))
        for key in sorted(union):
            with pytest.raises(SchemaError, match=f"unexpected key '{key}'"):
                source.structured(_schema(every - {key}, union - every - {key}))
