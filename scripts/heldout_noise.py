"""How many held-out tokens early stopping needs: the noise of the held-out KL against the gains it judges.

Trains SPON once (one config, one sparsity, one learning rate) on the pipeline's split of the training text, evaluating the
held-out KL per block on a large held-out pool at evenly spaced points, and never stopping early. Then prints, for a
range of held-out sizes, the standard error of the held-out KL (the level, at TEAL) and of the paired difference between
two successive evaluations, next to the gains between successive evaluations: early stopping can only see a gain that
is a few standard errors of the paired difference, so `heldout_tokens` should make that standard error small against
the late gains. Blocks are nearly independent, so a standard error measured on the pool's `n` blocks scales to `T`
held-out tokens as `std_per_block * sqrt(block_size / T)`.

    python scripts/heldout_noise.py                                   # SmolLM2-135M, wikitext-2 valid, UNIF-ALL, s = 0.5 (a GPU)
    python scripts/heldout_noise.py --model /work/shared/data/stories260K/hf --block-size 256 --batch-size 4 \\
        --n-train-blocks 320 --tokens 100000 --heldout-tokens 16384 --lr 1e-2   # stories260K on a CPU, a few minutes
"""
import argparse, math, time, warnings

import torch

from spon_extensions.allocation import resolve_config
from spon_extensions.models import load_model
from spon_extensions.pipeline import SweepParams, sweep_data
from spon_extensions.data import block_loader
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan
from spon_extensions.train import SPONTrainer, TrainingArgs, DEFAULT_LR


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', default='smollm2-135m', help='packaged name, HF id or folder, .gguf file')
    ap.add_argument('--train-data', default='wikitext-2:valid', help='training text, split by the pipeline into training blocks and the held-out pool')
    ap.add_argument('--block-size', type=int, default=1024)
    ap.add_argument('--n-train-blocks', type=int, default=None, help='a seeded sample of this many training blocks, held-out pool included (default: all)')
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--config', default='UNIF-ALL')
    ap.add_argument('--sparsity', type=float, default=0.5)
    ap.add_argument('--space', default='input')
    ap.add_argument('--lr', type=float, default=None, help="default: the space's DEFAULT_LR")
    ap.add_argument('--tokens', type=int, default=300 * 8 * 1024, help='training budget in tokens (default: the full preset, 300 steps of 8x1024)')
    ap.add_argument('--heldout-tokens', type=int, default=65536, help='the held-out pool the noise is measured on (whole blocks)')
    ap.add_argument('--n-evals', type=int, default=12, help='evaluations spread over the schedule')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dtype', default='float32')
    return ap.parse_args()


def stderr(x:torch.Tensor, tokens:int, block_size:int) -> float:
    "Standard error of the mean of per-block values `x` over `tokens` held-out tokens (blocks independent)."
    return x.std().item() * math.sqrt(block_size / tokens)


def main():
    a = parse_args()
    t0 = time.perf_counter()
    model, tok = load_model(a.model, dtype=getattr(torch, a.dtype))
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    model.to(device)
    p = SweepParams(model=a.model, train_data=a.train_data, block_size=a.block_size, batch_size=a.batch_size,
                    heldout_tokens=a.heldout_tokens, n_train_blocks=a.n_train_blocks, n_eval_blocks=1, sparsity=a.sparsity, config=a.config, space=a.space)
    data = sweep_data(p, tok)
    apply_thresholds(model, calibrate(model, data.calibration, a.batch_size, progress=False).thresholds(uniform_plan(model, a.sparsity)))
    alloc = resolve_config(a.config, model)
    lr = a.lr if a.lr is not None else DEFAULT_LR[a.space]
    args = TrainingArgs(space=a.space, lr=lr, max_tokens=a.tokens, warmup_fraction=0.05, n_evals=a.n_evals,
                        patience=a.n_evals + 1, seed=a.seed, progress=False)   # never stop early: the whole curve
    trainer = SPONTrainer(model, alloc.spon_config, a.sparsity, args)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        hist = trainer.train(block_loader(data.train, a.batch_size, shuffle=True, seed=a.seed), eval_blocks=data.heldout)
    evals = hist.dropna(subset=['eval_kl']).reset_index(drop=True)
    kls = trainer.stopper.evaluations                                  # per-block held-out KL at each evaluation
    bs, n = data.heldout.block_size, len(data.heldout)
    print(f"{a.model} on {device}, {a.config} s={a.sparsity:g} {a.space} lr {lr:g}: {trainer.steps} steps of {a.batch_size}x{a.block_size} "
          f"({hist.tokens.max():,} training tokens of {data.train_desc}); held-out pool {n}x{bs} = {n * bs:,} tokens; "
          f"{time.perf_counter() - t0:.0f} s")

    print(f"\nHeld-out KL at each evaluation (gain: paired mean decrease from the evaluation before; SE on the whole pool)")
    print(f"{'step':>6} {'tokens':>11} {'KL':>8} {'SE':>8} {'gain':>9} {'gain SE':>8} {'gain/SE':>8}")
    steps = []
    for i, r in evals.iterrows():
        if i == 0: print(f"{r.step:>6.0f} {r.tokens:>11,.0f} {r.eval_kl:>8.4f} {stderr(kls[0], n * bs, bs):>8.4f}"); continue
        d = kls[i - 1] - kls[i]
        steps.append((d.mean().item(), d.std().item()))
        print(f"{r.step:>6.0f} {r.tokens:>11,.0f} {r.eval_kl:>8.4f} {stderr(kls[i], n * bs, bs):>8.4f} {d.mean().item():>9.5f} "
              f"{stderr(d, n * bs, bs):>8.5f} {d.mean().item() / stderr(d, n * bs, bs):>8.1f}")

    total = kls[0] - kls[-1]
    half = steps[len(steps) // 2:]
    late_gain = sorted(abs(g) for g, _ in half)[len(half) // 2]        # the median gain between successive late evaluations
    late_std = sorted(s for _, s in half)[len(half) // 2]              # and the median per-block spread of those differences
    print(f"\nStandard errors against held-out tokens (per-block std: level at TEAL {kls[0].std().item():.4f}, paired successive "
          f"difference {late_std:.5f} (median over the second half), total gain TEAL -> last {total.std().item():.5f})")
    print(f"{'tokens':>9} {'blocks':>7} {'SE level':>9} {'SE step':>9} {'late gain/SE':>13} {'SE total gain':>14} {'total/SE':>9}")
    sizes = sorted({bs * 2 ** k for k in range(0, 20) if bs * 2 ** k <= n * bs} | {n * bs})
    for T in sizes:
        se_step = late_std * math.sqrt(bs / T)
        print(f"{T:>9,} {T // bs:>7} {stderr(kls[0], T, bs):>9.4f} {se_step:>9.5f} {late_gain / se_step:>13.1f} "
              f"{stderr(total, T, bs):>14.5f} {total.mean().item() / stderr(total, T, bs):>9.1f}")
    need = bs * math.ceil((2 * late_std / late_gain) ** 2) if late_gain > 0 else math.inf
    print(f"\nMedian gain between successive evaluations in the second half: {late_gain:.5f} nats/token; "
          f"telling it from noise at 2 standard errors takes about {need:,} held-out tokens (rounded up to whole blocks of {bs}).")


if __name__ == '__main__': main()
