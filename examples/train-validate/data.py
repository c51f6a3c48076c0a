"""The toy problem of the train-validate example, shared by its steps:
points (x1, x2) in the unit square, labelled 1 above the line x1 + x2 = 1,
with a few labels flipped."""
import random


def examples(n, seed):
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        x1, x2 = rng.random(), rng.random()
        label = 1 if x1 + x2 > 1 else 0
        if rng.random() < 0.03:
            label = 1 - label
        rows.append((x1, x2, label))
    return rows


def predict(w, x1, x2):
    return 1 if w[0] + w[1] * x1 + w[2] * x2 >= 0 else 0
