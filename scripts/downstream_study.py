"""The downstream study: zero-shot accuracy of SmolLM2-135M dense, TEAL and SPON at 50% and 60% whole-model sparsity.

Seven lm-eval tasks from the shipped local files (piqa, arc_easy, arc_challenge, boolq, winogrande, lambada_openai,
hellaswag), every example, zero-shot, on the live model of each state: dense; TEAL at s = 0.5 and 0.6; SPON UNIF-ALL
(lr 1e-3) and HYBRID-OD (lr 1e-2), the learning rates the allocation study chose on held-out KL. The SPON vectors are
trained by `spon_extensions.pipeline.run_sweep` (its `full` preset, seed 0) into `<out>/sweep`; each state is then
rebuilt from that folder and evaluated (`spon_extensions.downstream.evaluate_state`), one `<out>/<state>.json` each.
A state already in `<out>` is skipped, so a rerun resumes.

    python scripts/downstream_study.py --out results/downstream                  # every state, one after another
    python scripts/downstream_study.py --out results/downstream --parallel 4     # 4 states at a time, a process each (one GPU)
    python scripts/downstream_study.py --out results/downstream --preset quick   # a CPU preview: 10 examples per task
    python scripts/downstream_study.py --out results/downstream --report         # only print the tables

With --parallel N, each state runs in a child process (N at a time; logs in `<out>/logs/`), so the GPU and the CPU
cores serve several states at once: lm-eval spends much of its time in Python, which one process cannot spread.
GPU memory bounds N: a process evaluating SmolLM2 at batch 64 held 42 GiB at its peak (the longest prompts come
first, with fp32 log-softmax over 49,152 tokens), so 7 at once ran out of the H200's 140 GiB; at the default batch
32, 4 at once fit.
"""
import argparse, os, subprocess, sys, time
from pathlib import Path
import yaml
import pandas as pd
from spon_extensions.downstream import (study_params, study_states, downstream_study, load_study, accuracy_table,
                                        damage_recovered_table)
from spon_extensions.results import ExperimentManager

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/downstream')
p.add_argument('--preset', default='full', help='full or quick')
p.add_argument('--model', default=None); p.add_argument('--configs', default=None); p.add_argument('--sparsities', default=None)
p.add_argument('--lrs', default=None, help='per config, e.g. UNIF-ALL=0.001,HYBRID-OD=0.01')
p.add_argument('--tasks', default=None); p.add_argument('--limit', type=float, default=None)
p.add_argument('--batch-size', type=int, default=None); p.add_argument('--eval-dtype', default=None)
p.add_argument('--param', action='append', default=[], help='a sweep parameter, as key=value (e.g. steps=100)')
p.add_argument('--state', action='append', default=None, help='only this state (repeatable), e.g. dense, TEAL_s0.5, UNIF-ALL_s0.6')
p.add_argument('--parallel', type=int, default=1, help='states evaluated at once, each in its own process')
p.add_argument('--report', action='store_true', help='only print the tables of what is in --out')
a = p.parse_args()

limit = None if a.limit is None else int(a.limit) if a.limit >= 1 else a.limit
sweep = {k: yaml.safe_load(v) for k, v in (kv.split('=', 1) for kv in a.param)}
sp = study_params(a.preset, out=a.out, model=a.model, configs=a.configs, sparsities=a.sparsities, lrs=a.lrs, tasks=a.tasks,
                  limit=limit, batch_size=a.batch_size, eval_dtype=a.eval_dtype, sweep=sweep)
t0 = time.perf_counter()
if a.report: pass
elif a.parallel > 1 and not a.state:
    ExperimentManager(Path(sp.out)/'sweep')              # create the sweep folder before the workers race to
    logs = Path(sp.out)/'logs'; logs.mkdir(parents=True, exist_ok=True)
    names = [s.name for s in study_states(sp) if not (Path(sp.out)/f'{s.name}.json').exists()]
    env = dict(os.environ, PYTORCH_CUDA_ALLOC_CONF='expandable_segments:True', OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 2) // min(a.parallel, max(1, len(names))))))
    running, failed = {}, []
    while names or running:
        while names and len(running) < a.parallel:
            name = names.pop(0)
            cmd = [sys.executable, *sys.argv, '--state', name, '--parallel', '1']
            running[name] = subprocess.Popen(cmd, stdout=open(logs/f'{name}.log', 'w'), stderr=subprocess.STDOUT, env=env)
            print(f"{time.perf_counter() - t0:5.0f} s  started {name}", flush=True)
        time.sleep(2)
        for name, proc in list(running.items()):
            if proc.poll() is None: continue
            del running[name]
            tail = (logs/f'{name}.log').read_text().strip().splitlines()[-1:] or ['']
            print(f"{time.perf_counter() - t0:5.0f} s  {name} {'done' if proc.returncode == 0 else f'FAILED ({proc.returncode})'}: {tail[0][:300]}", flush=True)
            if proc.returncode: failed.append(name)
    if failed: print(f"failed states: {failed}; see {logs}", flush=True)
else:
    downstream_study(sp, a.state)
    if a.state: sys.exit()                               # a worker: the parent reports
print(f"study wall time {time.perf_counter() - t0:.0f} s", flush=True)

scores, states = load_study(sp.out)
pd.set_option('display.width', 250); pd.set_option('display.max_columns', 20)
print("\nacc ± stderr per state and task:\n" + accuracy_table(scores).to_string())
print("\nacc_norm ± stderr:\n" + accuracy_table(scores[scores.task != 'lambada_openai'], 'acc_norm').to_string())
if {'dense', 'BASELINE-TEAL'} <= set(scores.config) and len(set(scores.config)) > 2:
    print("\naccuracy damage recovered, (acc - acc_TEAL) / (acc_dense - acc_TEAL):\n" + damage_recovered_table(scores).round(3).to_string())
cols = [c for c in ('examples', 'seconds', 'examples_per_s', 'batch_size', 'dtype', 'limit', 'wikitext_perplexity', 'hardware') if c in states]
print("\nper state:\n" + states[cols].to_string())
