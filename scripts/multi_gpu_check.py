"""Check (issue #16): calibration, SPON training and evaluation on a model spread over several GPUs.

    python scripts/multi_gpu_check.py                  # 8B shape on 1 GPU and across 2, then 70B across 2
    python scripts/multi_gpu_check.py --shape 8b       # only the 8B comparison
    python scripts/multi_gpu_check.py --shape 70b      # only the 70B run (2 GPUs, no 1-GPU reference)
    python scripts/multi_gpu_check.py --shape tiny     # the same code path on the CPU (a smoke test, no GPU)

Random bf16 weights of Llama-3-8B's and Llama-3-70B's published shapes (`random_llama`, built on the meta device and
created tensor by tensor on its GPU, seeded by name, so both placements hold the same model), random token ids:
no hub, no tokenizer. For each placement: calibrate TEAL thresholds, apply them, measure dense and TEAL perplexity,
train SPON (all 7 projections of every layer) for `--steps` steps, then measure SPON's perplexity and its KL and top-1
agreement with the dense model. For the 8B shape it prints the largest differences between the 1-GPU and the 2-GPU
runs (thresholds, SPON vectors, losses, metrics); for every run, tokens/s of each stage, the peak memory per GPU and
the process's peak host memory (`ru_maxrss`). `--head-apart` adds an 8B run with the LM head on GPU 0 and the final
norm on GPU 1 (where a tied head sits), which needs the final hidden states moved to the head's device. A stage that fails is reported with its traceback, and the script goes
on with the next run; the exit status is 1 when any run failed or the placements disagree.
"""
import argparse, gc, math, os, resource, sys, time, traceback
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from spon_extensions.data import Blocks, block_loader
from spon_extensions.divergence import agreement_with_dense
from spon_extensions.evaluate import compute_perplexity
from spon_extensions.models import LLAMA_SHAPES, random_llama, input_device, head_device, model_fingerprint
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan, dense_mode
from spon_extensions.spon import SPONConfig, spon_modules
from spon_extensions.train import SPONTrainer, TrainingArgs

SHAPES = {'tiny': 'tiny', '8b': 'llama-3-8b', '70b': 'llama-3-70b'}

def say(*a): print(*a, flush=True)

def sync():
    for d in range(torch.cuda.device_count()): torch.cuda.synchronize(d)

def timed(fn):
    "fn's result and its wall time in seconds, the GPUs drained before and after."
    sync(); t = time.perf_counter(); out = fn(); sync()
    return out, time.perf_counter() - t

def host_peak_gib() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # ru_maxrss is in KiB on Linux

def random_blocks(n:int, length:int, vocab:int, seed:int) -> Blocks:
    g = torch.Generator().manual_seed(seed)
    return Blocks(torch.randint(0, vocab, (n, length), generator=g), source=f'random token ids (seed {seed})', bos=False)

def placement_summary(model) -> str:
    "Which modules went where, e.g. `cuda:0: embed_tokens + layers 0-13 | cuda:1: layers 14-31 + norm, lm_head`."
    where = getattr(model, 'hf_device_map', None) or {'': str(input_device(model))}
    by_device = {}
    for name, dev in where.items(): by_device.setdefault(str(dev), []).append(name)
    def short(names):
        layers = [int(n.split('.')[2]) for n in names if n.startswith('model.layers.')]
        rest = [n.split('.')[-1] or 'everything' for n in names if not n.startswith('model.layers.')]
        return ' + '.join(([f'layers {min(layers)}-{max(layers)}'] if layers else []) + ([', '.join(rest)] if rest else []))
    return ' | '.join(f'{d}: {short(n)}' for d, n in by_device.items())

def stages(res:dict, build, a):
    "Build the model, calibrate, evaluate, train SPON, evaluate again, recording into `res` (its 'stage' names the current one)."
    res['stage'] = 'build'
    model, res['build_s'] = timed(build)
    res['fingerprint'] = model_fingerprint(model)   # a fixed sample of every weight tensor
    say(f"built in {res['build_s']:.1f} s; {placement_summary(model)}; inputs on {input_device(model)}, LM head on {head_device(model)}")
    V = model.config.vocab_size
    calib, train, held_out = (random_blocks(n, a.block, V, seed) for seed, n in enumerate((a.calib_blocks, a.train_blocks, a.eval_blocks), 1))

    res['stage'] = 'calibration'
    c, s = timed(lambda: calibrate(model, calib, batch_size=a.batch, progress=False))
    thresholds = c.thresholds(uniform_plan(model, a.sparsity))
    apply_thresholds(model, thresholds)
    res['thresholds'] = torch.tensor([thresholds.values[k] for k in thresholds.plan], dtype=torch.float64)
    say(f"calibration: {calib.n_tokens / s:,.0f} tokens/s ({calib.n_tokens} tokens, {len(thresholds.plan)} sites)")

    res['stage'] = 'dense and TEAL perplexity'
    with dense_mode(model): dense = compute_perplexity(model, held_out, a.batch).perplexity
    teal, s = timed(lambda: compute_perplexity(model, held_out, a.batch))
    say(f"perplexity: dense {dense:.4f}, TEAL {teal.perplexity:.4f} (sparse evaluation {held_out.n_tokens / s:,.0f} tokens/s)")

    res['stage'] = 'SPON training'
    args = TrainingArgs(max_steps=a.steps, warmup_steps=min(2, a.steps), log_every=5, progress=False)
    trainer = SPONTrainer(model, SPONConfig(), a.sparsity, args)
    history, s = timed(lambda: trainer.train(block_loader(train, a.batch, shuffle=True)))
    losses = history[next(c for c in ('train_loss', 'train_kl') if c in history)].dropna()   # the column's name changed in the trainer's history
    res['train_loss'] = torch.tensor(losses.values, dtype=torch.float64)
    res['vectors'] = {k: m.vector.detach().float().cpu() for k, m in spon_modules(model).items()}
    say(f"SPON training: {history['tokens'].iloc[-1] / s:,.0f} tokens/s over {a.steps} steps (teacher cached after the first pass); "
        f"train loss {losses.iloc[0]:.5f} -> {losses.iloc[-1]:.5f}; vectors on {sorted({str(v.device) for v in trainer.params})}")

    res['stage'] = 'SPON evaluation'
    spon, s = timed(lambda: compute_perplexity(model, held_out, a.batch))
    agreement = agreement_with_dense(model, held_out, batch_size=a.batch)
    res['metrics'] = dict(dense_ppl=dense, teal_ppl=teal.perplexity, spon_ppl=spon.perplexity, kl=agreement['kl'], top1=agreement['top1_agreement'])
    say(f"SPON: perplexity {spon.perplexity:.4f} ({held_out.n_tokens / s:,.0f} tokens/s), KL to dense {agreement['kl']:.5f}, top-1 agreement {agreement['top1_agreement']:.4f}")

def run(label:str, build, a) -> dict:
    "One placement's `stages`, the failing stage reported with its traceback; then peak memory, and the model freed."
    for d in range(torch.cuda.device_count()): torch.cuda.reset_peak_memory_stats(d)
    res = dict(label=label)
    say(f"\n=== {label}")
    try: stages(res, build, a)
    except Exception as e:
        res['failed'] = f"{res['stage']}: {type(e).__name__}: {str(e)[:300]}"
        say(f"FAILED at {res['failed']}"); traceback.print_exc(); sys.stderr.flush()
    res['peak_gib'] = {d: torch.cuda.max_memory_allocated(d) / 2**30 for d in range(torch.cuda.device_count())}
    res['host_peak_gib'] = host_peak_gib()
    say('peak GPU memory: ' + (', '.join(f'cuda:{d} {g:.1f} GiB' for d, g in res['peak_gib'].items()) or 'no GPU')
        + f"; process peak host memory (ru_maxrss) {res['host_peak_gib']:.1f} GiB")
    gc.collect(); torch.cuda.empty_cache()   # a dispatched model sits in reference cycles (accelerate's hooks)
    return res

def head_apart_map(n_layers:int) -> dict:
    "First half of the layers, the embeddings and the LM head on GPU 0; the rest and the final norm on GPU 1 (as a tied head would be)."
    return {'model.embed_tokens': 0, **{f'model.layers.{i}': int(i >= n_layers // 2) for i in range(n_layers)},
            'model.norm': 1, 'model.rotary_emb': 1, 'lm_head': 0}

def max_abs(x, y) -> float: return (x - y).abs().max().item() if x.numel() else 0.0

def compare(one:dict, two:dict, a) -> bool:
    "Print the largest differences between two runs of one model; True when they agree within tolerance."
    if 'failed' in one or 'failed' in two: say("\ncomparison skipped: a run failed"); return False
    rows = dict(thresholds=(max_abs(one['thresholds'], two['thresholds']), one['thresholds'].abs().max().item()),
                spon_vectors=(max(max_abs(v, two['vectors'][k]) for k, v in one['vectors'].items()),
                              max(v.abs().max().item() for v in one['vectors'].values())),
                train_loss=(max_abs(one['train_loss'], two['train_loss']), one['train_loss'].abs().max().item()))
    rows.update({k: (abs(v - two['metrics'][k]), abs(v)) for k, v in one['metrics'].items()})
    say(f"\n=== {one['label']} vs {two['label']}: max |difference| (relative to the largest value)")
    ok = one['fingerprint'] == two['fingerprint']
    say(f"  weights       {'same' if ok else 'DIFFERENT'} fingerprint ({one['fingerprint']}, {two['fingerprint']})")
    for k, (diff, scale) in rows.items():
        rel = diff / scale if scale else diff
        ok &= rel <= a.rtol
        say(f"  {k:13s} {diff:.3e}  ({rel:.2e}){'  > rtol' if rel > a.rtol else ''}")
    say(f"  => {'equal within' if ok else 'NOT equal within'} rtol {a.rtol:g}" + (' (bitwise identical)' if all(d == 0 for d, _ in rows.values()) else ''))
    return ok

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--shape', choices=['all', *SHAPES], default='all', help="'all': 8b on 1 and 2 GPUs, then 70b on 2")
    p.add_argument('--sparsity', type=float, default=0.5)
    p.add_argument('--steps', type=int, default=20, help='SPON optimiser steps')
    p.add_argument('--block', type=int, default=512, help='tokens per block')
    p.add_argument('--batch', type=int, default=None, help='blocks per batch (default: 4 for 8b and tiny, 2 for 70b)')
    p.add_argument('--calib-blocks', type=int, default=8)
    p.add_argument('--train-blocks', type=int, default=8)
    p.add_argument('--eval-blocks', type=int, default=4)
    p.add_argument('--memory-8b', default='10GiB', help='max_memory per GPU that forces the 8B shape (16 GB) across 2 GPUs')
    p.add_argument('--memory-70b', default='80GiB', help='max_memory per GPU for the 70B shape (141 GB)')
    p.add_argument('--head-apart', action='store_true', help='also run 8b with the LM head on GPU 0 and the final norm on GPU 1')
    p.add_argument('--rtol', type=float, default=1e-3, help='largest relative difference between placements counted as equal')
    args = p.parse_args()
    n_gpus = torch.cuda.device_count()
    say(f"{n_gpus} GPU(s): {[torch.cuda.get_device_name(d) for d in range(n_gpus)]}; torch {torch.__version__}")
    shapes = ['8b', '70b'] if args.shape == 'all' else [args.shape]
    ok = True
    for shape in shapes:
        a = argparse.Namespace(**{**vars(args), 'batch': args.batch or (2 if shape == '70b' else 4)})
        build = lambda **placement: (lambda: random_llama(SHAPES[shape], seed=0, dtype=torch.bfloat16, **placement))
        if shape == 'tiny' or n_gpus == 0:
            if shape != 'tiny': say(f"\n{shape}: needs CUDA GPUs; skipped"); ok = False; continue
            one, two = run('tiny on the CPU, whole', build(device_map='cpu'), a), run('tiny on the CPU, auto', build(device_map='auto', max_memory={'cpu': '4GiB'}), a)
            ok &= compare(one, two, a)
        elif shape == '8b':
            one = run('8b on 1 GPU', build(device_map={'': 0}), a)
            ok &= 'failed' not in one
            if n_gpus < 2: say("\n8b across 2 GPUs: only 1 GPU visible; skipped"); ok = False
            else: ok &= compare(one, run('8b across 2 GPUs', build(device_map='auto', max_memory={0: a.memory_8b, 1: a.memory_8b}), a), a)
            if a.head_apart and n_gpus >= 2:
                n_layers = LLAMA_SHAPES[SHAPES[shape]]['num_hidden_layers']
                ok &= compare(one, run('8b across 2 GPUs, LM head apart from the final norm', build(device_map=head_apart_map(n_layers)), a), a)
        else:
            if n_gpus < 2: say("\n70b: needs 2 GPUs; skipped"); ok = False; continue
            ok &= 'failed' not in run('70b across 2 GPUs', build(device_map='auto', max_memory={0: a.memory_70b, 1: a.memory_70b}), a)
    say(f"\n{'ALL OK' if ok else 'SOME CHECKS FAILED (see above)'}")
    sys.exit(0 if ok else 1)

if __name__ == '__main__': main()
