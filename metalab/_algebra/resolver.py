"""`ResolverSource`: the callable form of derived parameters, ``with_resolver``.

Code written against the original metalab computes derived parameters with a function
``resolver(context_meta, params) -> params``. `with_resolver` keeps that working, with
O(1) indexing added; as a function cannot be stored as data, such a source has no
manifest form, and ``dumps`` names ``derive`` as the serializable way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final, final

import attrs

from metalab._algebra._expressions import sample_indices
from metalab._core.intstr import int_to_str
from metalab._core.values import describe, normalize_mapping
from metalab._sources.base import Description, ParamSource, Raw
from metalab.errors import EvaluationError, ParamError

__all__ = ["ResolverSource", "with_resolver"]

Resolver = Callable[[Any, dict[str, Any]], Mapping[str, Any]]
"""``resolver(context_meta, params) -> params``: a case's final params from its own."""

_KEY_SAMPLE: Final = 8


@final
@attrs.frozen(repr=False)
class ResolverSource(ParamSource):
    """The cases of ``source``, each passed through ``resolver(context_meta, params)``.

    ``keys`` are those the resolver gives on the first cases (a function cannot say
    which names it may give elsewhere); tags are the source's.
    """

    manifest_type: ClassVar[str] = "ResolverSource"
    no_manifest: ClassVar[str] = (
        "a source built by with_resolver holds a Python function, which cannot go into a "
        "manifest; compute derived parameters with source.derive(name=expr, ...) to make "
        "the sweep serializable"
    )

    source: ParamSource
    resolver: Resolver = attrs.field(eq=attrs.cmp_using(eq=lambda a, b: a is b))
    context_meta: Any = attrs.field(default=None, eq=attrs.cmp_using(eq=lambda a, b: a is b))

    _keys: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Check the arguments and learn the keys from the first cases."""
        source: object = self.source
        resolver: object = self.resolver
        if not isinstance(source, ParamSource):
            msg = f"with_resolver takes a source, got {describe(source)}"
            raise ParamError(msg)
        if not callable(resolver):
            msg = f"with_resolver takes a callable resolver, got {describe(resolver)}"
            raise ParamError(msg)
        keys: set[str] = set()
        for i in sample_indices(self.source.size)[:_KEY_SAMPLE]:
            keys.update(self.raw(i)[0])
        object.__setattr__(self, "_keys", tuple(sorted(keys or self.source.keys)))

    @property
    def size(self) -> int:
        """The source's number of cases."""
        return self.source.size

    @property
    def keys(self) -> tuple[str, ...]:
        """The names the resolver gives on the first cases, sorted."""
        return self._keys

    def raw(self, i: int) -> Raw:
        params, tags = self.source.raw(i)
        out: object = self.resolver(self.context_meta, params)
        if not isinstance(out, Mapping):
            msg = (
                f"the resolver must return a mapping of params, got {describe(out)} "
                f"on case {int_to_str(i)}"
            )
            raise EvaluationError(msg)
        resolved = normalize_mapping(out, f"resolver result of case {int_to_str(i)}")
        return dict(sorted(resolved.items())), tags

    def describe(self) -> Description:
        """A ``with_resolver`` node, naming the function."""
        name = getattr(self.resolver, "__qualname__", type(self.resolver).__name__)
        return Description("with_resolver", (str(name),))

    def __repr__(self) -> str:
        """``with_resolver(source, resolver)``."""
        name = getattr(self.resolver, "__qualname__", type(self.resolver).__name__)
        return f"with_resolver({self.source!r}, {name})"


def with_resolver(
    source: ParamSource, resolver: Resolver, context_meta: Any = None
) -> ResolverSource:
    """``source`` with each case's params replaced by ``resolver(context_meta, params)``.

    The callable form of `ParamSource.derive`, for code written against the original
    metalab; it indexes in O(1) but has no manifest form.

    >>> from metalab import grid
    >>> from metalab.params import with_resolver
    >>> s = with_resolver(grid(w=[64]), lambda meta, p: {**p, "half": p["w"] // 2})
    >>> s[0].params
    {'half': 32, 'w': 64}
    """
    return ResolverSource(source, resolver, context_meta)
