#!/bin/sh
# `make demo`: a tour of modelreg on a copy of the bundled registry_example/, so the
# committed files are never modified. Usage: sh scripts/demo.sh DEMO_DIR
set -eu
DEMO="$1"
rm -rf "$DEMO"
cp -R registry_example "$DEMO"
export MODELREG_REGISTRY="$DEMO"
export MODELREG_USER="${MODELREG_USER:-demo@example.com}"

step() {
  printf '\n\033[1m$ %s\033[0m\n' "$*"
  "$@"
}

echo "modelreg demo on a copy of registry_example/ in $DEMO"
step modelreg list
step modelreg list churn-predictor
step modelreg describe churn-predictor@champion
step modelreg resolve models:/churn-predictor/Production
step modelreg search "metrics.accuracy >= 0.9 OR metrics.auc >= 0.96" --format plain

# A new training run produces a better model: register it, promote it, move the alias.
mkdir -p "$DEMO/artifacts/churn-predictor/v4"
printf '{"kind": "logistic-regression", "weights": [0.6, -0.3, 1.25, 0.2], "bias": 0.1}\n' \
  > "$DEMO/artifacts/churn-predictor/v4/model.json"
step modelreg register churn-predictor "$DEMO/artifacts/churn-predictor/v4" \
  --run-id e5f6a7b8c9 --metric accuracy=0.94 --metric f1=0.91 --param C=0.25 --format plain
step modelreg register churn-predictor "$DEMO/artifacts/churn-predictor/v4" --format plain
step modelreg transition churn-predictor 4 Production --archive-existing \
  --comment "beats v2 on November data"
step modelreg alias churn-predictor champion 4 --format plain
step modelreg history churn-predictor 4
step modelreg check
printf '\nVERSION=$(modelreg resolve churn-predictor@champion) -> %s\n' \
  "$(modelreg resolve churn-predictor@champion)"
