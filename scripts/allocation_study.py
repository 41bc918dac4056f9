"""The allocation study: does TOP-50 reach 95% of UNIF-ALL's improvement over TEAL with half the SPON parameters?

SmolLM2-135M (the packaged default) with the sweep's `full` preset: TEAL thresholds and input-space SPON on all of
wiki.valid, perplexity on every 1024-token window of wiki.test, 300 steps of 8 blocks, 3 seeds, s = 0.5 and 0.6.
Whole-model configs UNIF-ALL, TOP-25/50/75, BOTTOM-50, ATTN-ONLY, HYBRID-OD; module-isolated scopes (only down_proj,
only o_proj sparsified) with UNIF-ALL and TOP-50. Every unit is a run of `spon_extensions.pipeline.run_sweep`, so
workers can share one output folder and an interrupted study resumes where it stopped.

    python scripts/allocation_study.py --out results/allocation-study                         # all units, one process
    python scripts/allocation_study.py --out results/allocation-study --worker 1 --workers 4  # every 4th unit
    python scripts/allocation_study.py --out results/allocation-study --aggregate              # tables and figures
"""
import argparse, itertools, yaml
from spon_extensions.pipeline import sweep_params, run_sweep
from spon_extensions.results import ExperimentManager, aggregate

WHOLE = ['UNIF-ALL', 'TOP-25', 'TOP-50', 'TOP-75', 'BOTTOM-50', 'ATTN-ONLY', 'HYBRID-OD']
SPARSITIES = [0.5, 0.6]
JOBS = ([(s, 'whole', c) for s in SPARSITIES for c in WHOLE] +
        [(s, scope, c) for scope in ('down_proj', 'o_proj') for s in SPARSITIES for c in ('UNIF-ALL', 'TOP-50')])

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/allocation-study')
p.add_argument('--worker', type=int, default=0); p.add_argument('--workers', type=int, default=1)
p.add_argument('--seeds', default='0,1,2'); p.add_argument('--preset', default='full')
p.add_argument('--param', action='append', default=[], help='any other sweep parameter, as key=value (e.g. model=path)')
p.add_argument('--aggregate', action='store_true', help='only aggregate the folder and draw the figures')
a = p.parse_args()

if a.aggregate:
    from spon_extensions.plots import plot_all
    agg = aggregate(ExperimentManager(a.out))
    plot_all(agg, a.out)
    print(agg.statistics[['sparsity', 'scope', 'config', 'n_seeds', 'relative_params', 'ppl_mean', 'ppl_lo', 'ppl_hi',
                          'dr_mean', 'share_of_ref_mean', 'share_of_ref_lo', 'share_of_ref_hi', 'p_vs_ref']].to_string(index=False))
else:
    extra = {k: yaml.safe_load(v) for k, v in (kv.split('=', 1) for kv in a.param)}
    mine = JOBS[a.worker::a.workers]
    for (s, scope), jobs in itertools.groupby(sorted(mine, key=lambda j: (j[1], j[0])), key=lambda j: (j[0], j[1])):
        run_sweep(sweep_params(a.preset, **{'config': [c for _, _, c in jobs], 'sparsity': s, 'scope': scope, 'seeds': a.seeds,
                                            'output_dir': a.out, 'progress': False, **extra}))
