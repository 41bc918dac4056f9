"""Importance scores of one model's layers and sites, written as `scores-<method>-<unit>-s<sparsity>.json` files.

A command-line door to `spon_extensions.importance.score_model` (the code behind `nbs/22_importance.ipynb`): the
sweep's data and calibration, the scores measured on its held-out blocks, a UNIF-ALL checkpoint trained in --out
for the SPON methods unless --spon gives one. Files already in --out are read back, not recomputed (--force).

    python scripts/importance_scores.py --preset quick --methods leave-one-out,cornerstone,sensitivity,gradient --units layer,site --tokens 512
    python scripts/importance_scores.py --preset full --out results/importance --sparsity 0.6          # GPU: every method
"""
import argparse, time
from spon_extensions.importance import METHODS, score_model

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--model', default='smollm2-135m', help='packaged name, HF id or folder, .gguf file')
p.add_argument('--methods', default=','.join(METHODS), help=f'comma-separated, of {", ".join(METHODS)}')
p.add_argument('--units', default='site', help="players of sensitivity, gradient, gates: 'layer', 'site' or both")
p.add_argument('--shapley-unit', default='layer', help="players of spon-shapley")
p.add_argument('--sparsity', type=float, default=0.5)
p.add_argument('--preset', default='auto', help='the sweep preset: auto, full or quick')
p.add_argument('--tokens', type=int, default=None, help='held-out tokens to measure on (default: all the sweep holds out)')
p.add_argument('--n-permutations', type=int, default=20); p.add_argument('--tolerance', type=float, default=None)
p.add_argument('--spon', default=None, help='a UNIF-ALL checkpoint for spon-shapley and gates (default: train one)')
p.add_argument('--out', default='results/importance'); p.add_argument('--force', action='store_true')
a = p.parse_args()
t0 = time.perf_counter()
for name, s in score_model(a.model, a.methods, a.out, a.sparsity, a.units.split(','), a.shapley_unit, a.spon, a.n_permutations,
                           a.tolerance, a.tokens, a.preset, force=a.force).items():
    print(f"{name}: {s.n_evaluations} evaluations, {s.seconds:.1f} s; top {s.ranking()[:5]}", flush=True)
print(f"done in {time.perf_counter() - t0:.0f} s")
