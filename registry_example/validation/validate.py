"""The registry's validation check: evaluates the version's model on the holdout data
shipped beside this script and prints its metrics as JSON on the last line.

modelreg runs it (see `rules` in registry.yaml) with MODELREG_SOURCE set to the
artifact's location. It exits 0 when it could evaluate the model; whether the metrics
are good enough is the rules' `require` expression, not this script's decision.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

HOLDOUT = Path(__file__).resolve().parent / "holdout.csv"


def main() -> int:
    source = Path(os.environ["MODELREG_SOURCE"])
    model_file = source / "model.json" if source.is_dir() else source
    try:
        model = json.loads(model_file.read_text())
        weights, bias = model["weights"], model["bias"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"cannot load a model from {model_file}: {exc}", file=sys.stderr)
        return 1
    with HOLDOUT.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [[float(value) for value in row] for row in reader]
    if len(weights) != len(rows[0]) - 1:
        print(f"model has {len(weights)} weights, data has {len(rows[0]) - 1} features")
        return 1
    tp = fp = fn = tn = 0
    for *features, label in rows:
        predicted = bias + sum(w * x for w, x in zip(weights, features)) > 0
        actual = label == 1
        tp += predicted and actual
        fp += predicted and not actual
        fn += (not predicted) and actual
        tn += (not predicted) and (not actual)
    accuracy = (tp + tn) / len(rows)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    name, version = os.environ.get("MODELREG_NAME"), os.environ.get("MODELREG_VERSION")
    print(f"{name} v{version} on {len(rows)} holdout rows: accuracy {accuracy:.3f}, f1 {f1:.3f}")
    print(json.dumps({"accuracy": round(accuracy, 4), "f1": round(f1, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
