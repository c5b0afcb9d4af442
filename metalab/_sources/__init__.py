"""The sources and their distributions: grids, random draws and explicit cases.

`base` is `ParamSource` and its extension API; `rng` and `permutation` are the
counter-based streams that random draws and shuffles read; `distributions` are the
laws of a random search; `grid`, `random` (with `random_legacy`, the earlier
algorithm) and `manual` are the source types. The public paths are
``metalab.params.grid``, ``metalab.params.random``, ``metalab.params.manual`` and
``metalab.params.distributions``.
"""
