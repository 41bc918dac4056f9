#!/usr/bin/env bash
# What SPON vectors encode on SmolLM2-135M (issue #14), on one GPU.
#
# 1. Trains the checkpoints the interpretability page compares, with the sweep's `full` preset and the allocation
#    study's protocol (input-space SPON, lr 1e-3: the rate the study chose for UNIF-ALL and TOP-50 on held-out KL):
#    UNIF-ALL at s = 0.5 and 0.6 (seed 0), UNIF-ALL at s = 0.5 seed 1, TOP-50 at s = 0.5 seed 0. The four units run
#    as four processes sharing the GPU and one output folder (the calibration and baselines are computed once).
# 2. Runs nbs/23_interpretability.ipynb with papermill on that folder and renders its HTML report.
#
#   bash scripts/interpret_gpu.sh [OUT]          # default OUT: results/interpretability-smollm2-135m
#
# Needs the packaged SmolLM2-135M in the model cache ($SPON_CACHE, as for the allocation study) and SPON_DATA_DIR set
# to the shared data folder (WikiText-2, the text categories). A rerun skips finished units. OUT/interpretability.ipynb,
# OUT/interpretability.html, OUT/findings.json and OUT/figures/ are the results; OUT/sweep/ the runs and checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-results/interpretability-smollm2-135m}
SWEEP="$OUT/sweep"
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TQDM_DISABLE=1
unit() {   # config sparsity seed
  python -c "from spon_extensions.pipeline import sweep_params, run_sweep
run_sweep(sweep_params('full', config='$1', sparsity=$2, seeds=$3, lr=0.001, output_dir='$SWEEP', progress=False))" \
    > "$OUT/train_$1_s$2_seed$3.log" 2>&1
}
t0=$(date +%s)
unit UNIF-ALL 0.5 0 & unit UNIF-ALL 0.6 0 & unit UNIF-ALL 0.5 1 & unit TOP-50 0.5 0 &
wait
echo "checkpoints trained in $(( $(date +%s) - t0 )) s"; grep -h "damage recovered" "$OUT"/train_*.log || true
papermill nbs/23_interpretability.ipynb "$OUT/interpretability.ipynb" --cwd nbs -p checkpoint "$(realpath "$SWEEP")" \
  -p output_dir "$(realpath "$OUT")" -p preset full
python -c "from spon_extensions.report import main; main(['$OUT/interpretability.ipynb'])"
echo "done in $(( $(date +%s) - t0 )) s"
