"""The SPON result on a real model: dense, TEAL and SPON (input and output space) perplexity on all of WikiText-2 test.

Thresholds (TEAL, dense calibration) and SPON training on wiki.valid (the last 10% of its blocks held out for
early stopping), perplexity on every 1024-token window of wiki.test.

    python scripts/reproduce_spon.py --model smollm2-135m --sparsities 0.5 0.6 --spaces input output --out spon_results
    python scripts/reproduce_spon.py --sparsities 0.5 --spaces input --lrs 3e-4 1e-3 3e-3   # a learning-rate sweep
"""
import argparse, time, warnings
from pathlib import Path
import pandas as pd, torch
from spon_extensions.data import load_blocks, split_blocks, block_loader
from spon_extensions.models import load_model
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan
from spon_extensions.spon import remove_spon, save_spon
from spon_extensions.train import SPONTrainer, SPONConfig, TrainingArgs, DEFAULT_LR
from spon_extensions.evaluate import compute_perplexity, agreement_with_dense
from spon_extensions.pipeline import damage_recovered

p = argparse.ArgumentParser()
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--sparsities', type=float, nargs='+', default=[0.5, 0.6])
p.add_argument('--spaces', nargs='+', default=['input', 'output'])
p.add_argument('--lrs', type=float, nargs='*', default=None, help='learning rates to try (default: DEFAULT_LR of each space)')
p.add_argument('--steps', type=int, default=TrainingArgs.max_steps); p.add_argument('--batch', type=int, default=8)
p.add_argument('--block', type=int, default=1024); p.add_argument('--dtype', default='float32')
p.add_argument('--out', default='spon_results')
a = p.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)

model, tok = load_model(a.model, dtype=getattr(torch, a.dtype))
valid = load_blocks('wikitext-2', tok, 'valid', block_size=a.block)
test = load_blocks('wikitext-2', tok, 'test', block_size=a.block)
train_blocks, heldout = split_blocks(valid, 0.9)
dev = next(model.parameters()).device
print(f"model={a.model} dtype={a.dtype} device={torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'} "
      f"calibration+training: wiki.valid {valid.n_tokens} tokens ({len(train_blocks)} train / {len(heldout)} held-out blocks), "
      f"evaluation: all of wiki.test, {test.n_tokens} tokens in {a.block}-token windows, no BOS", flush=True)
t0 = time.time()
calib = calibrate(model, valid, a.batch, progress=False)
dense = compute_perplexity(model, test, a.batch)
rows = [dict(method='dense', sparsity=0.0, space='', lr=None, ppl=dense.perplexity, damage_recovered=None)]
print(f"dense: {dense}", flush=True)
for s in a.sparsities:
    remove_spon(model); apply_thresholds(model, calib.thresholds(uniform_plan(model, s)))
    teal = compute_perplexity(model, test, a.batch)
    rows.append(dict(method='TEAL', sparsity=s, space='', lr=None, ppl=teal.perplexity, damage_recovered=0.0, **agreement_with_dense(model, heldout)))
    print(f"TEAL s={s}: {teal}", flush=True)
    for space in a.spaces:
        for lr in (a.lrs or [DEFAULT_LR[space]]):
            remove_spon(model)
            args = TrainingArgs(space=space, lr=lr, max_steps=a.steps, progress=False, metrics_csv=str(out/f'metrics_s{s}_{space}_lr{lr:g}.csv'))
            tr = SPONTrainer(model, SPONConfig('UNIF-ALL'), s, args)
            ts = time.time()
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                hist = tr.train(block_loader(train_blocks, a.batch, shuffle=True, seed=0), eval_blocks=heldout)
            spon = compute_perplexity(model, test, a.batch)
            dr = damage_recovered(spon.perplexity, teal.perplexity, dense.perplexity)
            rows.append(dict(method='SPON', sparsity=s, space=space, lr=lr, ppl=spon.perplexity, damage_recovered=dr,
                             best_step=tr.best_step, steps_run=int(hist.step.max()), heldout_kl_teal=tr.start_kl, heldout_kl_best=tr.best_kl,
                             train_seconds=time.time() - ts, warning=' '.join(str(x.message) for x in w), **agreement_with_dense(model, heldout)))
            save_spon(model, out/f'spon_s{s}_{space}_lr{lr:g}.safetensors', config=dict(vars(args)))
            print(f"SPON s={s} {space} lr={lr:g}: PPL {spon.perplexity:.3f}, damage recovered {dr:.3f}, held-out KL "
                  f"{tr.start_kl:.4f} -> {tr.best_kl:.4f} (best step {tr.best_step}/{int(hist.step.max())}), {time.time()-ts:.0f} s", flush=True)
df = pd.DataFrame(rows)
df.to_csv(out/'results.csv', index=False)
print(df[['method', 'sparsity', 'space', 'lr', 'ppl', 'damage_recovered']].to_string(index=False, float_format='%.4f'))
print(f"total {time.time()-t0:.0f} s")
