"""Conditional parameters: `Switch`, and the `switch`, `when` and `one_of` that build them.

A `Switch` is the definition of a parameter that exists only in some cases: an
expression over the other parameters of the case, and one branch per value of it. In a
random space a branch is a distribution, in a grid a list of values. A case whose
value of the expression matches no branch has no such parameter (it is absent from the
case's params, not ``None``); so is a case in which the expression reads a parameter
that is itself absent, so that conditions nest the way the branches of a tree do.

A branch is matched by the exact value: ``1`` does not match ``1.0`` or ``True``, as
``index_of`` does not find ``{"x": 1.0}`` among cases of ``{"x": 1}``.

>>> from metalab import col, uniform
>>> s = switch(col("opt"), {"sgd": uniform(0.8, 0.99)})
>>> s.branch("sgd"), s.branch("adam")
(uniform(0.8, 0.99), None)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, final

import attrs
import numpy as np

from metalab._core.case import encode_value
from metalab._core.values import ParamValue, describe, normalize_value, show
from metalab._expr import Expr, col
from metalab._sources.distributions import Distribution, choice
from metalab.errors import ParamError

if TYPE_CHECKING:
    from metalab._sources.distributions import Choice

__all__ = ["Branch", "BranchKey", "Switch", "one_of", "switch", "when"]

BranchKey: TypeAlias = "str | int | float | bool | None"
"""The value of a switch's expression that selects a branch: a scalar parameter value."""

Branch: TypeAlias = "Distribution | tuple[ParamValue, ...] | range"
"""What a branch holds: a distribution (random spaces) or the values of an axis (grids)."""

_SCALARS: Final = (str, int, float, bool, type(None))


def _branch_key(value: object, where: str) -> BranchKey:
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, _SCALARS):
        msg = (
            f"{where}: a branch is selected by a str, int, float, bool or None, "
            f"got {describe(value)}"
        )
        raise ParamError(msg)
    key = normalize_value(value, where)
    assert isinstance(key, _SCALARS)
    if isinstance(key, float) and math.isnan(key):
        msg = f"{where}: nan selects no branch (it equals no value), so it cannot be a branch"
        raise ParamError(msg)
    return key


def _values(values: object, where: str) -> tuple[ParamValue, ...] | range:
    """The values of a grid branch: a non-empty sequence (or range), normalized."""
    if isinstance(values, range):
        if not values:
            msg = f"{where} must be non-empty, got an empty {show(values)}"
            raise ParamError(msg)
        return values
    if isinstance(values, np.ndarray) and values.ndim == 1:
        values = values.tolist()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        msg = (
            f"{where} must be a distribution (random spaces) or a non-empty list of values "
            f"(grids), got {describe(values)}"
        )
        raise ParamError(msg)
    out = tuple(normalize_value(v, where) for v in values)
    if not out:
        msg = f"{where} must be a non-empty list of values, got an empty {type(values).__name__}"
        raise ParamError(msg)
    return out


def _payload(value: object, where: str) -> Branch:
    if isinstance(value, Switch):
        msg = (
            f"{where} is itself a switch; give the inner parameter its own name, or one "
            "switch whose expression combines both conditions"
        )
        raise ParamError(msg)
    if isinstance(value, Distribution):
        return value
    return _values(value, where)


def _payload_key(payload: Branch) -> object:
    # Value lists compare by their type-tagged encoding (1, 1.0 and True differ).
    if isinstance(payload, range):
        return ("range", payload.start, payload.stop, payload.step)
    if isinstance(payload, tuple):
        return encode_value(payload)
    return payload


def _branches_key(branches: tuple[tuple[BranchKey, Branch], ...]) -> object:
    return tuple((encode_value(k), _payload_key(v)) for k, v in branches)


def _expr_key(expr: Expr[Any]) -> bytes:
    return expr.key()


def _exact(value: object) -> tuple[type, object]:
    return (type(value), value)


@final
@attrs.frozen(repr=False)
class Switch:
    """A parameter whose distribution or values depend on ``expr`` in the same case.

    ``branches`` pairs each value of ``expr`` with its distribution (in a random space)
    or its list of values (in a grid), in the order given; a case where ``expr`` takes
    no listed value has no such parameter. Build one with `switch` or `when`.
    """

    manifest_type: ClassVar[str] = "Switch"

    expr: Expr[Any] = attrs.field(eq=_expr_key)
    branches: tuple[tuple[BranchKey, Branch], ...] = attrs.field(eq=_branches_key)
    # Exact-typed lookup of a branch by the value of `expr`.
    _lookup: dict[tuple[type, object], Branch] = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        """Check the branches: at least one, no value twice, all of one kind."""
        expr: object = self.expr
        if not isinstance(expr, Expr):
            msg = f"switch needs an expression built from col(...), got {describe(expr)}"
            raise ParamError(msg)
        if not self.branches:
            msg = f"switch on {self.expr!r} needs at least one branch, got none"
            raise ParamError(msg)
        lookup: dict[tuple[type, object], Branch] = {}
        for key, payload in self.branches:
            if _exact(key) in lookup:
                msg = f"switch on {self.expr!r}: branch {show(key)} is given twice"
                raise ParamError(msg)
            lookup[_exact(key)] = payload
        kinds = {isinstance(payload, Distribution) for _, payload in self.branches}
        if len(kinds) > 1:
            msg = (
                f"switch on {self.expr!r} mixes distributions and value lists; its branches "
                "are all distributions (in a random space) or all value lists (in a grid)"
            )
            raise ParamError(msg)
        object.__setattr__(self, "_lookup", lookup)

    @property
    def random(self) -> bool:
        """Whether the branches are distributions (else value lists, for a grid)."""
        return isinstance(self.branches[0][1], Distribution)

    def names(self) -> tuple[str, ...]:
        """The parameters the expression reads."""
        return self.expr.names()

    def branch(self, value: object) -> Branch | None:
        """The branch ``value`` selects (matched by exact type and value), or None."""
        try:
            return self._lookup.get(_exact(value))
        except TypeError:  # an unhashable value (a tuple of lists, a dict) selects none
            return None

    def branch_texts(self) -> list[str]:
        """One line per branch, for ``metalab show``: its condition, then its law or values.

        >>> from metalab import col, uniform
        >>> switch(col("opt"), {"sgd": uniform(0, 1)}).branch_texts()
        ["when col('opt') == 'sgd' ~ uniform(0, 1)"]
        """
        out = []
        single = len(self.branches) == 1 and self.branches[0][0] is True
        for key, payload in self.branches:
            condition = repr(self.expr) if single else f"{self.expr!r} == {show(key)}"
            if isinstance(payload, Distribution):
                out.append(f"when {condition} ~ {payload!r}")
            else:
                out.append(f"when {condition}: {_show_payload(payload)}")
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the defining fields; the lookup is built again."""
        return Switch, (self.expr, self.branches)

    def __repr__(self) -> str:
        """The call that builds this switch (``when`` for a single ``True`` branch)."""
        if len(self.branches) == 1 and self.branches[0][0] is True:
            payload = self.branches[0][1]
            if isinstance(payload, Distribution):
                return f"{payload!r}.when({self.expr!r})"
            return f"when({self.expr!r}, {_show_payload(payload)})"
        shown = ", ".join(f"{show(k)}: {_show_payload(v)}" for k, v in self.branches)
        return f"switch({self.expr!r}, {{{shown}}})"


def _show_payload(payload: Branch) -> str:
    if isinstance(payload, tuple):
        return show(list(payload))
    return show(payload) if isinstance(payload, range) else repr(payload)


def switch(expr: Expr[Any], branches: Mapping[Any, Any]) -> Switch:
    """A parameter whose distribution or values depend on the value of ``expr``.

    ``branches`` maps each value of ``expr`` to a distribution (in a random space) or
    a list of values (in a grid); where ``expr`` takes no listed value, the parameter
    is absent from the case.

    >>> from metalab import col, loguniform, random, choice
    >>> lr = switch(col("opt"), {"adam": loguniform(1e-4, 1e-2), "sgd": loguniform(1e-3, 1e-1)})
    >>> random({"opt": choice(["adam", "sgd"]), "lr": lr}, 10, seed=0).keys
    ('lr', 'opt')

    Raises:
        ParamError: ``expr`` is no expression, ``branches`` is empty or not a mapping,
            a branch value is no scalar, or a branch is neither a distribution nor a
            non-empty list of values.
    """
    given: object = branches
    if not isinstance(given, Mapping):
        msg = f"switch branches must map values of {expr!r} to branches, got {describe(given)}"
        raise ParamError(msg)
    items = tuple(
        (
            _branch_key(key, f"switch on {expr!r}"),
            _payload(value, f"switch on {expr!r}, branch {show(key)}"),
        )
        for key, value in given.items()
    )
    return Switch(expr, items)


def when(predicate: Expr[bool], values_or_distribution: Any) -> Switch:
    """A parameter that exists only in the cases where ``predicate`` is true.

    ``values_or_distribution`` is its distribution (in a random space) or its values
    (in a grid); ``dist.when(predicate)`` is the same for a distribution.

    >>> from metalab import col
    >>> when(col("opt") == "sgd", [0.9, 0.99])
    when(col('opt') == 'sgd', [0.9, 0.99])

    Raises:
        ParamError: ``predicate`` is no expression, or the branch is neither a
            distribution nor a non-empty list of values.
    """
    given: object = predicate
    if not isinstance(given, Expr):
        msg = f"when needs a predicate built from col(...), got {describe(given)}"
        raise ParamError(msg)
    return Switch(predicate, ((True, _payload(values_or_distribution, f"when({predicate!r})")),))


def one_of(
    key: str,
    branches: Mapping[Any, Mapping[str, Any]],
    weights: Sequence[float] | Mapping[Any, float] | None = None,
) -> dict[str, Distribution | Switch]:
    """Tree-shaped random spaces: ``key`` picks a branch, each branch its own sub-space.

    Returns the mapping to put in (or merge into) a ``random(...)`` space: a `choice`
    of the branch names for ``key`` (weighted by ``weights``, a sequence in the order of
    the branches or a mapping by name) and, for every parameter of the sub-spaces, a
    `switch` on ``key`` (a name may appear in several branches, with different laws).

    >>> from metalab import random, uniform, loguniform
    >>> adam = {"lr": loguniform(1e-4, 1e-2)}
    >>> sgd = {"lr": loguniform(1e-3, 1e-1), "momentum": uniform(0.8, 0.99)}
    >>> space = one_of("opt", {"adam": adam, "sgd": sgd})
    >>> sorted(space)
    ['lr', 'momentum', 'opt']

    Raises:
        ParamError: ``branches`` is empty, a sub-space is no mapping of distributions,
            names ``key`` itself, or the weights do not match the branches.
    """
    key_given: object = key
    if not isinstance(key_given, str):
        msg = f"one_of key must be a str, got {describe(key_given)}"
        raise ParamError(msg)
    given: object = branches
    if not isinstance(given, Mapping) or not given:
        msg = f"one_of({key!r}, ...) needs a non-empty mapping of branch names to sub-spaces"
        raise ParamError(msg)
    names = [_branch_key(name, f"one_of({key!r}, ...)") for name in given]
    per_param: dict[str, dict[BranchKey, Distribution]] = {}
    for name, sub in zip(names, given.values(), strict=True):
        where = f"one_of({key!r}, ...) branch {show(name)}"
        if not isinstance(sub, Mapping):
            msg = (
                f"{where} must be a mapping of parameter names to distributions, "
                f"got {describe(sub)}"
            )
            raise ParamError(msg)
        for param, dist in sub.items():
            if param == key:
                msg = f"{where} names {key!r}, the key that picks the branch"
                raise ParamError(msg)
            if not isinstance(param, str):
                msg = f"{where}: parameter names must be str, got {describe(param)}"
                raise ParamError(msg)
            if not isinstance(dist, Distribution):
                msg = f"{where}, parameter {param!r}: expected a distribution, got {describe(dist)}"
                raise ParamError(msg)
            per_param.setdefault(param, {})[name] = dist
    picker: Choice = choice(names, weights=_weights(key, names, weights))
    space: dict[str, Distribution | Switch] = {key: picker}
    for param in sorted(per_param):
        space[param] = Switch(col(key), tuple(per_param[param].items()))
    return space


def _weights(
    key: str, names: list[BranchKey], weights: Sequence[float] | Mapping[Any, float] | None
) -> Sequence[float] | None:
    if weights is None or not isinstance(weights, Mapping):
        return weights
    wanted = {_exact(name) for name in names}
    given = {_exact(name) for name in weights}
    if given != wanted:
        msg = (
            f"one_of({key!r}, ...) weights must name each branch once: got "
            f"{sorted(map(show, weights))}, branches {sorted(map(show, names))}"
        )
        raise ParamError(msg)
    by_name = {_exact(name): w for name, w in weights.items()}
    return [by_name[_exact(name)] for name in names]
