"""Tools to test sweeps: Hypothesis strategies for every kind of source, and `check_source`.

metalab tests itself with these strategies; use them to state properties of your own
code over any sweep, and `check_source` to assert on your own sweeps the laws metalab
promises. This module needs Hypothesis: ``pip install '.[testing]'`` in a metalab
checkout.

>>> from hypothesis import given, settings
>>> from metalab.testing import grids
>>> @settings(max_examples=20, deadline=None)
... @given(grids())
... def test_indexing_agrees_with_iteration(source):
...     assert [source[i] for i in range(len(source))] == list(source)
>>> test_indexing_agrees_with_iteration()
"""

try:
    import hypothesis as _hypothesis
except ImportError as error:  # pragma: no cover - exercised in a subprocess without hypothesis
    msg = (
        "metalab.testing needs Hypothesis, which is not installed; "
        "run pip install '.[testing]' in a metalab checkout"
    )
    raise ImportError(msg, name=error.name) from error

from metalab.testing._check import check_source
from metalab.testing._conditional import conditional_grids, conditional_random_sources
from metalab.testing._expressions import (
    derived_sources,
    expression_grids,
    filtered_sources,
    numeric_expressions,
    predicates,
    str_expressions,
)
from metalab.testing._strategies import (
    distributions,
    grids,
    manual_sources,
    param_names,
    param_values,
    random_sources,
    sources,
)

del _hypothesis

__all__ = [
    "check_source",
    "conditional_grids",
    "conditional_random_sources",
    "derived_sources",
    "distributions",
    "expression_grids",
    "filtered_sources",
    "grids",
    "manual_sources",
    "numeric_expressions",
    "param_names",
    "param_values",
    "predicates",
    "random_sources",
    "sources",
    "str_expressions",
]
