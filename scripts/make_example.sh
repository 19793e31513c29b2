#!/bin/sh
# Rebuilds registry_example/ from scratch with the modelreg command line, the way a team's
# training scripts and CI would have written it. Run from the repository root:
#   sh scripts/make_example.sh
set -eu
ROOT=registry_example
rm -rf "$ROOT/models" "$ROOT/registry.yaml" "$ROOT/.gitignore"
modelreg init "$ROOT" >/dev/null
export MODELREG_REGISTRY="$ROOT"
mr() { modelreg "$@" --format plain >/dev/null; }

artifact() {  # artifact MODEL VERSION WEIGHTS... : a small linear model as JSON
  dir="$ROOT/artifacts/$1/v$2"
  mkdir -p "$dir"
  shift 2
  printf '{"kind": "logistic-regression", "weights": [%s], "bias": 0.1}\n' "$(echo "$@" | tr ' ' ',')" > "$dir/model.json"
  echo "$dir"
}

export MODELREG_USER=alice@example.com
mr create churn-predictor --description "Predicts which customers cancel within 30 days" \
  --tag team=growth --tag owner=alice
mr register churn-predictor "$(artifact churn-predictor 1 0.4 -0.2 1.1)" --run-id 3f9a1c0d2b \
  --metric accuracy=0.86 --metric f1=0.81 --param C=1.0 --param features=12 --tag data=2026-09
mr register churn-predictor "$(artifact churn-predictor 2 0.5 -0.1 1.3)" --run-id 7b2e4d9a11 \
  --metric accuracy=0.89 --metric f1=0.85 --param C=0.5 --param features=12 --tag data=2026-10
mr transition churn-predictor 1 Production --comment "first model in production"
mr transition churn-predictor 2 Staging --comment "shadow traffic"
export MODELREG_USER=bob@example.com
mr transition churn-predictor 2 Production --archive-existing --comment "beats v1 on October data"
mr register churn-predictor "$(artifact churn-predictor 3 0.6 -0.3 1.2 0.2)" --run-id c4d1e8f203 \
  --metric accuracy=0.93 --metric f1=0.90 --param C=0.5 --param features=16 --tag data=2026-11 \
  --description "Adds tenure and support-ticket features"
mr transition churn-predictor 3 Staging
mr alias churn-predictor champion 2 --comment "serving"
mr alias churn-predictor challenger 3
mr tag churn-predictor 3 fairness=passed

export MODELREG_USER=carol@example.com
mr create fraud-detector --description "Real-time fraud detection for payment transactions" \
  --tag team=payments --tag priority=critical
mr register fraud-detector "$(artifact fraud-detector 1 2.1 0.3)" --run-id 9e8d7c6b5a \
  --metric auc=0.95 --metric precision=0.91 --param threshold=0.7
mr register fraud-detector "$(artifact fraud-detector 2 2.4 0.2 0.1)" --run-id 1a2b3c4d5e \
  --metric auc=0.97 --metric precision=0.93 --param threshold=0.65 --stage Production --alias champion
mr register fraud-detector "$(artifact fraud-detector 3 2.5 0.2 0.15)" --run-id 5f6e7d8c9b \
  --metric auc=0.96 --metric precision=0.94 --param threshold=0.6
mr archive fraud-detector 1 --comment "superseded by v2"

export MODELREG_USER=dave@example.com
mr create demand-forecast --description "Daily demand per store, 14 days ahead" --tag team=supply
mr register demand-forecast "$(artifact demand-forecast 1 0.9 0.05)" --run-id aa11bb22cc \
  --metric mape=0.112 --param horizon=14 --stage Production
mr register demand-forecast "$(artifact demand-forecast 2 0.95 0.04)" --run-id dd33ee44ff \
  --metric mape=0.098 --param horizon=14 --stage Staging --alias challenger
echo "rebuilt $ROOT"
