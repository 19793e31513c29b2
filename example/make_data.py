"""Writes the example's synthetic churn data (deterministic): example/data/train.csv and
registry_example/validation/holdout.csv. Run once; the CSV files are committed."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

FEATURES = ["tenure_years", "monthly_charges", "support_tickets", "contract_monthly"]
TRUE_WEIGHTS = [-1.1, 0.9, 1.4, 1.6]
TRUE_BIAS = -1.2


def rows(count: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        x = [
            round(rng.uniform(0, 6), 2),
            round(rng.gauss(0, 1), 3),
            float(rng.choice([0, 0, 0, 1, 1, 2, 3])),
            float(rng.random() < 0.5),
        ]
        z = TRUE_BIAS + sum(w * v for w, v in zip(TRUE_WEIGHTS, x, strict=True))
        churned = 1.0 if rng.random() < 1 / (1 + math.exp(-3 * z)) else 0.0
        out.append([*x, churned])
    return out


def write(path: Path, data: list[list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*FEATURES, "churned"])
        writer.writerows(data)


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    write(root / "example" / "data" / "train.csv", rows(1200, seed=1))
    write(root / "registry_example" / "validation" / "holdout.csv", rows(400, seed=2))
