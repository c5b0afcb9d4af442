"""A small sweep: a conditional grid over optimizers, crossed with random learning rates."""

from metalab import choice, grid, loguniform, manual, random

space = {"lr": loguniform(1e-4, 1e-1), "batch_size": choice([32, 64, 128])}

sweep = grid(model=["mlp", "cnn"], depth=[2, 4]) * random(space, n_trials=5, seed=0)
"""20 cases: 4 architectures, each with the same 5 random draws of lr and batch size."""

baselines = manual([{"model": "linear", "depth": 0}], tags=["baseline"])
