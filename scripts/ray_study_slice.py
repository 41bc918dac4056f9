"""A slice of the allocation study through Ray on every GPU of this machine, against the same slice on one GPU.

SmolLM2-135M, the `full` preset at 100 steps, UNIF-ALL and TOP-50 at whole-model s = 0.5, seeds 0 and 1: 4 units, each
a Ray task holding one GPU. The slice runs twice, each time into a fresh folder under --out and on a fresh local Ray
cluster: first with one GPU visible (CUDA_VISIBLE_DEVICES=0), then with all of them. It prints both wall times (each
includes starting Ray, loading the model in every worker, and the shared calibration and baselines), the speed-up, and
the largest relative difference between the two runs' perplexities.

    python scripts/ray_study_slice.py --out /tmp/ray-slice           # on a machine with 2 GPUs: about 10 minutes
"""
import argparse, os, subprocess, sys, time
from pathlib import Path
import pandas as pd
import torch

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--out', default='results/ray-slice')
p.add_argument('--steps', type=int, default=100)
a = p.parse_args()
n_gpus = torch.cuda.device_count()
if n_gpus < 2: sys.exit(f"This comparison needs at least 2 GPUs; this machine has {n_gpus}.")

walls, summaries = {}, {}
for gpus in (1, n_gpus):
    folder = Path(a.out)/f'{gpus}-gpu'
    if folder.exists(): sys.exit(f"{folder} exists; give a fresh --out so both runs train every unit.")
    env = {**os.environ, 'CUDA_VISIBLE_DEVICES': ','.join(map(str, range(gpus)))}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(Path(__file__).parent/'allocation_study.py'), '--out', str(folder), '--executor', 'ray',
                    '--configs', 'UNIF-ALL,TOP-50', '--scopes', 'whole', '--sparsities', '0.5', '--seeds', '0,1',
                    '--param', f'steps={a.steps}'], env=env, check=True)
    walls[gpus] = time.perf_counter() - t0
    summaries[gpus] = pd.read_csv(folder/'aggregated'/'summary.csv').set_index('run_id').sort_index()

one, many = summaries[1], summaries[n_gpus]
diff = ((many.perplexity - one.perplexity).abs() / one.perplexity).max()
print(f"\n{len(one)} runs (TEAL and {len(one) - 1} SPON units) on {torch.cuda.get_device_name(0)}:")
print(f"  1 GPU:  {walls[1]:.0f} s wall\n  {n_gpus} GPUs: {walls[n_gpus]:.0f} s wall  (speed-up {walls[1] / walls[n_gpus]:.2f}x)")
print(f"  same runs in both: {sorted(one.index) == sorted(many.index)}; largest relative perplexity difference {diff:.2e}")
print(many[['config', 'seed', 'perplexity', 'train_seconds']].to_string())
