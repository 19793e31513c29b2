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

# The example pipeline: train -> register -> validate (Staging, runs the holdout check)
# -> promote (Production: needs a reviewer's approval, then the check again). The checks
# are commands from registry.yaml: they run once this machine trusts them (reviewed here:
# the holdout check of example/).
step modelreg trust
step make --no-print-directory -C example validate REGISTRY="$DEMO"
VERSION=$(cat example/build/version)
# Lineage to the training data: which versions were trained on this file?
step modelreg search --dataset example/data/train.csv --columns name,version,datasets.train.digest \
  --format plain
step modelreg promote churn-predictor "$VERSION" Production || echo "(refused: exit $?)"
step env MODELREG_USER=bob@example.com modelreg approve churn-predictor "$VERSION" Production \
  --comment "reviewed the holdout numbers" --format plain
step make --no-print-directory -C example promote REGISTRY="$DEMO"
step modelreg alias churn-predictor champion "$VERSION" --format plain
step modelreg history churn-predictor "$VERSION"
step modelreg check --rules
printf '\nMODEL=$(modelreg resolve churn-predictor@champion) -> %s\n' \
  "$(modelreg resolve churn-predictor@champion)"
