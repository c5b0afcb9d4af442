"""The Hydra sweeper ``hydra/sweeper=metalab``: a multirun over the cases of a metalab sweep.

Hydra finds sweepers in the ``hydra_plugins`` namespace package; this one is registered
when Hydra imports `hydra_plugins.metalab_sweeper.metalab_sweeper`.
"""
