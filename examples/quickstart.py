"""A small sweep: four architectures, each with the same five random draws, and a baseline.

The architectures are two models at two depths; the draws pick the learning rate and
the batch size. See the sweep with ``metalab show examples/quickstart.py:sweep`` and
one case of it with ``metalab case examples/quickstart.py:sweep 3``.
"""

from metalab import choice, grid, loguniform, manual, random

architectures = grid(model=["mlp", "cnn"], depth=[2, 4])
search = random({"lr": loguniform(1e-4, 1e-1), "batch_size": choice([32, 64, 128])}, 5, seed=0)
baseline = manual(
    [{"model": "linear", "depth": 0, "lr": 0.01, "batch_size": 64}], tags=["baseline"]
)

sweep = architectures * search + baseline
"""21 cases: every architecture with every draw (4 x 5), then the baseline."""
