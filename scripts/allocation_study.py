"""The allocation study: does TOP-50 reach 95% of UNIF-ALL's improvement over TEAL with half the SPON parameters?

SmolLM2-135M (the packaged default) with the sweep's `full` preset: TEAL thresholds and input-space SPON on all of
wiki.valid, perplexity on every 1024-token window of wiki.test, 300 steps of 8 blocks, 3 seeds, s = 0.5 and 0.6.
Whole-model configs UNIF-ALL, TOP-25/50/75, BOTTOM-50, ATTN-ONLY, HYBRID-OD; module-isolated scopes (only down_proj,
only o_proj sparsified) with UNIF-ALL and TOP-50. Every unit is a run of `spon_extensions.pipeline.run_sweep`, one
sweep per scope, so an interrupted study resumes where it stopped and finished units are never trained again.

    python scripts/allocation_study.py --out results/allocation-study                       # every unit, one after another
    python scripts/allocation_study.py --out results/allocation-study --executor ray        # a Ray task (one GPU) per unit
    python scripts/allocation_study.py --out results/allocation-study --param lr=0.003,0.01 --configs UNIF-ALL,TOP-50
    python scripts/allocation_study.py --out results/allocation-study --aggregate            # tables and figures

A unit is one config x sparsity x scope x learning rate x seed. With `--executor ray` the units of each scope run as
Ray tasks, one GPU each, on the cluster `RAY_ADDRESS` names or on a local one started for the study (every GPU of
this machine); a unit whose worker dies is retried. Several local studies started into the same --out also share the
units (each unit is claimed by one process). `--aggregate` reports every learning rate tried and, where a config was
run at several, the rate chosen per config on held-out KL (`best_lr_aggregate`), paired with UNIF-ALL at its own
chosen rate. Runs that differ only in their data (set through --param) belong in another --out folder.
"""
import argparse, time, yaml
from spon_extensions.pipeline import sweep_params, run_sweep, as_list
from spon_extensions.results import ExperimentManager, aggregate, best_lr_aggregate

WHOLE = ['UNIF-ALL', 'TOP-25', 'TOP-50', 'TOP-75', 'BOTTOM-50', 'ATTN-ONLY', 'HYBRID-OD']
SCOPES = {'whole': WHOLE, 'down_proj': ['UNIF-ALL', 'TOP-50'], 'o_proj': ['UNIF-ALL', 'TOP-50']}   # configs per scope
COLUMNS = ['sparsity', 'scope', 'config', 'lr', 'n_seeds', 'relative_params', 'ppl_mean', 'ppl_lo', 'ppl_hi',
           'dr_mean', 'share_of_ref_mean', 'share_of_ref_lo', 'share_of_ref_hi', 'p_vs_ref']

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/allocation-study')
p.add_argument('--seeds', default='0,1,2'); p.add_argument('--sparsities', default='0.5,0.6'); p.add_argument('--preset', default='full')
p.add_argument('--configs', default=None, help='only these configs (comma-separated)')
p.add_argument('--scopes', default=None, help='only these scopes (comma-separated: whole, down_proj, o_proj)')
p.add_argument('--executor', default='local', help="'local' (this process) or 'ray' (a Ray task per unit)")
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
    t0 = time.perf_counter()
    for scope in as_list(a.scopes) if a.scopes else SCOPES:
        configs = [c for c in SCOPES[scope] if a.configs is None or c in as_list(a.configs)]
        if not configs: continue
        run_sweep(sweep_params(a.preset, **{**extra, 'config': configs, 'sparsity': a.sparsities, 'scope': scope, 'seeds': a.seeds,
                                            'output_dir': a.out, 'progress': False, 'executor': a.executor}))
    print(f"study wall time {time.perf_counter() - t0:.0f} s ({a.executor} executor)", flush=True)
