#!/bin/sh
# Rebuilds registry_example/ from scratch with the modelreg command line, the way a team's
# training scripts, reviewers and CI would have written it: real models trained by
# example/train.py, validated by registry_example/validation/validate.py, promoted under
# the rules of registry_example/registry.yaml. Run from the repository root:
#   sh scripts/make_example.sh
set -eu
ROOT=registry_example
rm -rf "$ROOT/models" "$ROOT/artifacts" "$ROOT/registry.yaml" "$ROOT/.gitignore"
modelreg init "$ROOT" >/dev/null 2>&1
cat > "$ROOT/registry.yaml" <<'YAML'
modelreg: 2
stages:
- None
- Staging
- Production
- Archived
exclusive_stages:
- Production
lock_timeout: 10
rules:
  allow_force: true
  allow_self_approval: false
  failure_tag:
    validation: failed
  stages:
    Staging:
      from: [None, Archived]
    Production:
      from: [Staging]
      approvals: 1
      archive_existing: true
      protected: true
  models:
    churn-predictor:
      Staging:
        from: [None, Archived]
        require: metrics.accuracy >= 0.85
        checks:
        - name: holdout
          run: python3 validation/validate.py
          timeout: 120
      Production:
        from: [Staging]
        require: metrics.accuracy >= 0.90 AND metrics.f1 >= 0.88
        approvals: 1
        approvers: [bob@example.com, carol@example.com]
        checks:
        - name: holdout
          run: python3 validation/validate.py
          timeout: 120
        archive_existing: true
        protected: true
YAML
export MODELREG_REGISTRY="$ROOT"
mr() { modelreg "$@" --format plain >/dev/null; }
as() { user="$1"; shift; MODELREG_USER="$user" modelreg "$@" --format plain >/dev/null; }
train() {  # train VERSION ARGS...: a real model from example/train.py
  out="$ROOT/artifacts/churn-predictor/v$1"; shift
  python3 example/train.py "$out" "$@" >/dev/null
  echo "$out"
}
json_model() {  # json_model MODEL VERSION WEIGHTS...: a small stand-in artifact
  dir="$ROOT/artifacts/$1/v$2"; shift 2
  mkdir -p "$dir"
  printf '{"kind": "linear", "weights": [%s], "bias": 0.1}\n' "$(echo "$@" | tr ' ' ',')" > "$dir/model.json"
  echo "$dir"
}

# churn-predictor: three training runs; one fails Production, one ships, one fails Staging.
export MODELREG_USER=alice@example.com
mr create churn-predictor --description "Predicts which customers cancel within 30 days" \
  --tag team=growth --tag owner=alice
mr register churn-predictor "$(train 1 --epochs 60)" --run-id 3f9a1c0d2b \
  --param epochs=60 --param lr=0.5 --tag data=2026-09
mr promote churn-predictor 1 Staging --comment "first candidate"
mr request churn-predictor 1 Production --comment "ready for review"
as bob@example.com approve churn-predictor 1 Production --comment "numbers look fine"
mr promote churn-predictor 1 Production 2>/dev/null || true   # f1 below 0.88: refused, tagged
mr register churn-predictor "$(train 2 --epochs 400 --lr 1.0)" --run-id 7b2e4d9a11 \
  --param epochs=400 --param lr=1.0 --tag data=2026-10 \
  --description "Longer training; adds the contract feature"
mr promote churn-predictor 2 Staging
mr request churn-predictor 2 Production --comment "beats v1 on holdout"
as carol@example.com comment churn-predictor 2 "checked the fairness report: ok"
as carol@example.com approve churn-predictor 2 Production --comment "ship it"
mr promote churn-predictor 2 Production --comment "weekly release"
mr alias churn-predictor champion 2 --comment "serving"
mr register churn-predictor "$(train 3 --epochs 5 --features 2)" --run-id c4d1e8f203 \
  --param epochs=5 --param lr=0.5 --tag data=2026-11 --description "Two-feature baseline"
mr promote churn-predictor 3 Staging 2>/dev/null || true     # accuracy below 0.85: refused
mr alias churn-predictor challenger 1

# fraud-detector and demand-forecast: the default rules (one approval for Production).
export MODELREG_USER=carol@example.com
mr create fraud-detector --description "Real-time fraud detection for payment transactions" \
  --tag team=payments --tag priority=critical
mr register fraud-detector "$(json_model fraud-detector 1 2.1 0.3)" --run-id 9e8d7c6b5a \
  --metric auc=0.95 --metric precision=0.91 --param threshold=0.7 --stage Staging
mr request fraud-detector 1 Production
as dave@example.com approve fraud-detector 1 Production
mr transition fraud-detector 1 Production
mr register fraud-detector "$(json_model fraud-detector 2 2.4 0.2 0.1)" --run-id 1a2b3c4d5e \
  --metric auc=0.97 --metric precision=0.93 --param threshold=0.65 --stage Staging
as dave@example.com approve fraud-detector 2 Production --comment "better AUC, same latency"
mr transition fraud-detector 2 Production --comment "rollout"
mr alias fraud-detector champion 2
mr register fraud-detector "$(json_model fraud-detector 3 2.5 0.2 0.15)" --run-id 5f6e7d8c9b \
  --metric auc=0.96 --metric precision=0.94 --param threshold=0.6

export MODELREG_USER=dave@example.com
mr create demand-forecast --description "Daily demand per store, 14 days ahead" --tag team=supply
mr register demand-forecast "$(json_model demand-forecast 1 0.9 0.05)" --run-id aa11bb22cc \
  --metric mape=0.112 --param horizon=14 --stage Staging
as carol@example.com approve demand-forecast 1 Production
mr transition demand-forecast 1 Production
mr register demand-forecast "$(json_model demand-forecast 2 0.95 0.04)" --run-id dd33ee44ff \
  --metric mape=0.098 --param horizon=14 --stage Staging --alias challenger
echo "rebuilt $ROOT"
