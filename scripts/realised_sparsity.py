"""Realised sparsity on WikiText-2 test of TEAL (dense) and sequential calibration on WikiText-2 valid.

    python scripts/realised_sparsity.py --model smollm2-135m --sparsities 0.25 0.5 0.7 --out realised.csv
"""
import argparse, time
import pandas as pd, torch
from spon_extensions.data import load_blocks
from spon_extensions.models import load_model
from spon_extensions.sparsify import calibrate, calibrate_sequential, apply_thresholds, measure_sparsity, uniform_plan

p = argparse.ArgumentParser()
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--sparsities', type=float, nargs='+', default=[0.25, 0.5, 0.7])
p.add_argument('--block', type=int, default=1024); p.add_argument('--batch', type=int, default=8)
p.add_argument('--calib-blocks', type=int, default=None, help='cap on calibration blocks (default: all of wiki.valid)')
p.add_argument('--eval-blocks', type=int, default=None, help='cap on evaluation blocks (default: all of wiki.test)')
p.add_argument('--dtype', default='float32'); p.add_argument('--out', default=None)
a = p.parse_args()

model, tok = load_model(a.model, dtype=getattr(torch, a.dtype))
valid = load_blocks('wikitext-2', tok, 'valid', block_size=a.block, max_blocks=a.calib_blocks)
test = load_blocks('wikitext-2', tok, 'test', block_size=a.block, max_blocks=a.eval_blocks)
print(f"model={a.model} dtype={a.dtype} device={model.device} calibration={valid.n_tokens} tokens of wiki.valid, "
      f"evaluation={test.n_tokens} tokens of wiki.test, {a.block}-token blocks, no BOS")
t0 = time.time(); calib = calibrate(model, valid, a.batch, progress=False)
rows = []
for s in a.sparsities:
    plan = uniform_plan(model, s)
    for method, th in [('dense (TEAL)', calib.thresholds(plan)), ('sequential', calibrate_sequential(model, valid, plan, a.batch, progress=False))]:
        apply_thresholds(model, th)
        for split, blocks in [('valid (calibration)', valid), ('test', test)]:
            r = measure_sparsity(model, blocks, a.batch).realised
            rows.append(dict(target=s, calibration=method, measured_on=split, mean=r.mean(), site_std=r.std(), site_min=r.min(), site_max=r.max()))
            print(f"s={s} {method:13s} on {split:20s} realised mean {r.mean():.4f} (sites {r.min():.4f}..{r.max():.4f})", flush=True)
df = pd.DataFrame(rows)
print(df.to_string(index=False, float_format='%.4f'))
print(f"total {time.time()-t0:.0f} s")
if a.out: df.to_csv(a.out, index=False)
