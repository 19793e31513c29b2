"""Trains the example churn model: logistic regression by gradient descent, standard
library only. Usage: python example/train.py OUT_DIR [--epochs N] [--lr LR] [--features K]

Writes OUT_DIR/model.json and prints the training accuracy. Fewer features or epochs
give a weaker model, which is how the example produces versions that fail validation.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "train.csv"


def load(path: Path) -> tuple[list[list[float]], list[float]]:
    with path.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [[float(value) for value in row] for row in reader]
    return [row[:-1] for row in rows], [row[-1] for row in rows]


def train(xs: list[list[float]], ys: list[float], epochs: int, lr: float, features: int):
    weights = [0.0] * len(xs[0])
    bias = 0.0
    for _ in range(epochs):
        grad_w = [0.0] * len(weights)
        grad_b = 0.0
        for x, y in zip(xs, ys, strict=True):
            z = bias + sum(w * v for w, v in zip(weights, x, strict=True))
            error = 1 / (1 + math.exp(-z)) - y
            for i in range(features):
                grad_w[i] += error * x[i]
            grad_b += error
        weights = [w - lr * g / len(xs) for w, g in zip(weights, grad_w, strict=True)]
        bias -= lr * grad_b / len(xs)
    return weights, bias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--features", type=int, default=4)
    args = parser.parse_args()
    xs, ys = load(DATA)
    weights, bias = train(xs, ys, args.epochs, args.lr, args.features)
    args.out.mkdir(parents=True, exist_ok=True)
    model = {"kind": "logistic-regression", "weights": [round(w, 4) for w in weights],
             "bias": round(bias, 4)}
    (args.out / "model.json").write_text(json.dumps(model) + "\n")
    correct = sum(
        (bias + sum(w * v for w, v in zip(weights, x, strict=True)) > 0) == (y == 1)
        for x, y in zip(xs, ys, strict=True)
    )
    print(f"trained {args.out / 'model.json'}: training accuracy {correct / len(xs):.3f}")


if __name__ == "__main__":
    main()
