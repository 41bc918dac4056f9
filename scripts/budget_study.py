"""The budget study: how few SPON parameters reach UNIF-ALL's damage recovered, when importance scores choose the sites?

SmolLM2-135M (the packaged default), the sweep's `full` preset. For each sparsity: importance scores on the sweep's
held-out text (`spon_extensions.importance.score_model`, the code behind `nbs/22_importance.ipynb`), written to
`<out>/scores` (the trained-vector methods, `gates` and `spon-shapley`, first train UNIF-ALL at that sparsity); then
one sweep over UNIF-ALL, the hand-picked ATTN-ONLY and HYBRID-OD, the data-driven CRITICAL-ONLY, and
`SITES-<method>-<percent>` and the seeded `RANDOM-SITES-<percent>` control at each budget, into `<out>/sweep`.
Each config's learning rate is chosen on held-out KL: every rate of `--lrs` runs on the `--lr-seeds`, the other seeds
then run at each config's best rate (`results.best_learning_rate`), one seed at a time across all configs. Workers share
the folder (`pipeline.run_sweeps`): each unit is claimed by one process, so N workers split the units and a rerun resumes.

    python scripts/budget_study.py --out results/budget-study --workers 8
    python scripts/budget_study.py --out results/budget-study --methods gradient,sensitivity --budgets 5,10,25 --seeds 0
    python scripts/budget_study.py --out results/budget-study --aggregate          # tables only

`nbs/28_budget_study.ipynb` reads the folder.
"""
import argparse, os, subprocess, sys, time
from dataclasses import replace
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/budget-study')
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--sparsities', default='0.5,0.6')
p.add_argument('--seeds', default='0,1,2')
p.add_argument('--methods', default='gradient,sensitivity', help='site-scoring methods whose budgets are trained')
p.add_argument('--score-methods', default='leave-one-out,cornerstone,sensitivity,gradient', help='scores computed (and reported)')
p.add_argument('--score-tokens', type=int, default=None, help='held-out tokens the scores are measured on (default: all)')
p.add_argument('--shapley-unit', default='site', help="players of spon-shapley: 'site' (what SITES budgets rank) or 'layer'")
p.add_argument('--permutations', type=int, default=20, help='sampled permutations of spon-shapley where exact costs more')
p.add_argument('--budgets', default='5,10,25,50', help='percent of UNIF-ALL parameters')
p.add_argument('--hand-picked', default='UNIF-ALL,ATTN-ONLY,HYBRID-OD,CRITICAL-ONLY')
p.add_argument('--preset', default='full')
p.add_argument('--lrs', default='0.001,0.01', help='learning rates tried on --lr-seeds')
p.add_argument('--lr-seeds', default='0', help='the seeds that run every rate of --lrs; the others run at each config\'s best')
p.add_argument('--workers', type=int, default=1, help='processes training units at once (they claim units from the shared folder)')
p.add_argument('--param', action='append', default=[], help='another sweep parameter, key=value (e.g. tokens=4915200)')
p.add_argument('--stage', default='all', help='all, scores, train or aggregate')
p.add_argument('--aggregate', action='store_true', help='only aggregate the folder')
a = p.parse_args()

import yaml
from spon_extensions.pipeline import sweep_params, run_sweeps, as_list
from spon_extensions.results import ExperimentManager, aggregate, best_learning_rate, best_lr_aggregate

out = Path(a.out); sparsities = as_list(a.sparsities, float)
extra = {k: yaml.safe_load(v) for k, v in (kv.split('=', 1) for kv in a.param)}
judges = as_list(a.lr_seeds, int); rest = [sd for sd in as_list(a.seeds, int) if sd not in judges]
if not set(judges) <= set(as_list(a.seeds, int)): p.error(f"--lr-seeds {a.lr_seeds} must be among --seeds {a.seeds}")
if 'lr' in extra: p.error('give learning rates with --lrs, not --param lr=...')
configs = as_list(a.hand_picked) + [f"{kind}-{b}" for b in as_list(a.budgets)
                                    for kind in [f"SITES-{m}" for m in as_list(a.methods)] + ['RANDOM-SITES']]
stage = 'aggregate' if a.aggregate else a.stage
t0 = time.perf_counter()

def spawn(args, name, env=None):
    "This script again with `args`, logging to `<out>/logs/<name>.log`."
    (out/'logs').mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, *sys.argv, *args], stdout=open(out/'logs'/f'{name}.log', 'w'), stderr=subprocess.STDOUT,
                            env=dict(os.environ, BUDGET_WORKER='1', OMP_NUM_THREADS='1', **(env or {})))

if stage in ('all', 'scores'):
    if a.workers > 1 and len(sparsities) > 1 and not os.environ.get('BUDGET_WORKER'):   # one process per sparsity
        for s, proc in [(s, spawn(['--stage', 'scores', '--sparsities', str(s)], f'scores-s{s:g}')) for s in sparsities]:
            proc.wait(); print(f"{time.perf_counter() - t0:5.0f} s  scores at s = {s:g}: exit {proc.returncode}", flush=True)
    else:
        from spon_extensions.importance import score_model
        for s in sparsities:
            for name, sc in score_model(a.model, a.score_methods, out/'scores', s, units=('site', 'layer'), heldout_tokens=a.score_tokens,
                                        shapley_unit=a.shapley_unit, n_permutations=a.permutations, preset=a.preset, sweep=extra).items():
                print(f"{time.perf_counter() - t0:5.0f} s  {name}: {sc.n_evaluations} evaluations, {sc.seconds:.1f} s; top {sc.ranking()[:5]}", flush=True)
    if os.environ.get('BUDGET_WORKER') and stage == 'scores': sys.exit()

if stage in ('all', 'train'):
    base = sweep_params(a.preset, model=a.model, config=configs, scores_file=str(out/'scores'), output_dir=str(out/'sweep'), progress=False, **extra)
    grid = run_sweeps([replace(base, sparsity=s, seeds=a.lr_seeds, lr=a.lrs) for s in sparsities], a.workers)
    print(f"{time.perf_counter() - t0:5.0f} s  learning-rate grid {a.lrs} on seeds {judges}: done", flush=True)
    if rest:
        chosen = best_learning_rate(grid[-1].summary, judges).query("config != 'BASELINE-TEAL'").groupby(['sparsity', 'lr']).config.unique()
        for (s, lr), cs in chosen.items(): print(f"        s = {s:g}, lr {lr:g}: {', '.join(cs)}", flush=True)
        run_sweeps([replace(base, sparsity=s, config=','.join(cs), lr=str(lr), seeds=str(sd))   # seed by seed: a run cut short leaves whole seeds
                    for sd in rest for (s, lr), cs in chosen.items()], a.workers)

agg = best_lr_aggregate(aggregate(ExperimentManager(out/'sweep')), seeds=judges)   # each config at its chosen rate
cols = [c for c in ('sparsity', 'config', 'lr', 'n_seeds', 'relative_params', 'ppl_mean', 'dr_mean', 'dr_lo', 'dr_hi', 'share_of_ref_mean') if c in agg.statistics]
import pandas as pd
pd.set_option('display.width', 200); pd.set_option('display.max_rows', 200)
print(agg.statistics[cols].sort_values(['sparsity', 'relative_params']).round(4).to_string(index=False))
print(f"budget study: {time.perf_counter() - t0:.0f} s", flush=True)
