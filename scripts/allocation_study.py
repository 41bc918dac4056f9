"""The allocation study: does TOP-50 reach 95% of UNIF-ALL's improvement over TEAL with half the SPON parameters?

SmolLM2-135M (the packaged default) with the sweep's `full` preset: TEAL thresholds and input-space SPON on all of
wiki.valid, perplexity on every 1024-token window of wiki.test, 300 steps of 8 blocks, 3 seeds, s = 0.5 and 0.6.
Whole-model configs UNIF-ALL, TOP-25/50/75, BOTTOM-50, ATTN-ONLY, HYBRID-OD; module-isolated scopes (only down_proj,
only o_proj sparsified) with UNIF-ALL and TOP-50. Every unit is a run of `spon_extensions.pipeline.run_sweep`, so
workers can share one output folder and an interrupted study resumes where it stopped.

    python scripts/allocation_study.py --out results/allocation-study                         # all units, one process
    python scripts/allocation_study.py --out results/allocation-study --worker 1 --workers 4  # every 4th unit not done yet
    python scripts/allocation_study.py --out results/allocation-study --param lr=0.003,0.01 --configs UNIF-ALL,TOP-50
    python scripts/allocation_study.py --out results/allocation-study --aggregate              # tables and figures

A unit is one config x sparsity x scope x learning rate x seed. Workers started together split the units not yet done
round-robin. `--aggregate` reports every learning rate tried and, where a config was run at several, the rate chosen
per config on held-out KL (`best_lr_aggregate`), paired with UNIF-ALL at its own chosen rate. Which units are done is
read from the folder's finished runs with the same model, space, steps and batch size (runs that differ only in
their data, set through --param, belong in another --out folder); `run_sweep` checks each unit again by its full
identity, so a unit is never trained twice.
"""
import argparse, yaml
from spon_extensions.pipeline import sweep_params, run_sweep, as_list
from spon_extensions.results import ExperimentManager, aggregate, best_lr_aggregate
from spon_extensions.train import DEFAULT_LR

WHOLE = ['UNIF-ALL', 'TOP-25', 'TOP-50', 'TOP-75', 'BOTTOM-50', 'ATTN-ONLY', 'HYBRID-OD']
SPARSITIES = [0.5, 0.6]
JOBS = ([(s, 'whole', c) for s in SPARSITIES for c in WHOLE] +
        [(s, scope, c) for scope in ('down_proj', 'o_proj') for s in SPARSITIES for c in ('UNIF-ALL', 'TOP-50')])
COLUMNS = ['sparsity', 'scope', 'config', 'lr', 'n_seeds', 'relative_params', 'ppl_mean', 'ppl_lo', 'ppl_hi',
           'dr_mean', 'share_of_ref_mean', 'share_of_ref_lo', 'share_of_ref_hi', 'p_vs_ref']

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/allocation-study')
p.add_argument('--worker', type=int, default=0); p.add_argument('--workers', type=int, default=1)
p.add_argument('--seeds', default='0,1,2'); p.add_argument('--preset', default='full')
p.add_argument('--configs', default=None, help='only these configs (comma-separated)')
p.add_argument('--scopes', default=None, help='only these scopes (comma-separated: whole, down_proj, o_proj)')
p.add_argument('--param', action='append', default=[], help='any other sweep parameter, as key=value (e.g. lr=0.003,0.01)')
p.add_argument('--aggregate', action='store_true', help='only aggregate the folder and draw the figures')
a = p.parse_args()

if a.aggregate:
    from spon_extensions.plots import plot_all
    agg = aggregate(ExperimentManager(a.out))
    plot_all(agg, a.out)
    print("Every learning rate:\n" + agg.statistics[COLUMNS].to_string(index=False))
    tuned = best_lr_aggregate(agg)
    print("\nLearning rate chosen per config on held-out KL:\n" + tuned.statistics[COLUMNS].to_string(index=False))
else:
    extra = {k: yaml.safe_load(v) for k, v in (kv.split('=', 1) for kv in a.param)}
    lrs = as_list(extra.pop('lr'), float) if 'lr' in extra else [DEFAULT_LR[extra.get('space', 'input')]]
    configs, scopes = (as_list(x) if x else None for x in (a.configs, a.scopes))
    units = [(s, scope, c, lr, seed) for s, scope, c in JOBS if (configs is None or c in configs) and (scopes is None or scope in scopes)
             for lr in lrs for seed in as_list(a.seeds, int)]
    sp, em = sweep_params(a.preset, **extra), ExperimentManager(a.out)
    runs = em.results() if em.finished_runs() else None
    done = set() if runs is None else {(r.sparsity, r.scope, r.config, r.lr, int(r.seed)) for r in runs.itertuples()
                                       if r.config != 'BASELINE-TEAL' and (r.model, r.space, r.steps, r.batch_size) ==
                                       (sp.model, sp.space, sp.steps, sp.batch_size)}
    todo = [u for u in units if u not in done]
    print(f"{len(units)} units, {len(units) - len(todo)} done; worker {a.worker} of {a.workers} takes {len(todo[a.worker::a.workers])}", flush=True)
    for s, scope, c, lr, seed in todo[a.worker::a.workers]:
        run_sweep(sweep_params(a.preset, config=c, sparsity=s, scope=scope, seeds=seed, lr=lr, output_dir=a.out, progress=False, **extra))
