"""Benchmark: batch-1 greedy decode through the sparse decoder (spon_extensions.kernels) against transformers, one GPU.

    python scripts/bench_decode.py --out experiments/kernels/decode.json            # random Llama-3-8B / Llama-3.2-1B shapes
    python scripts/bench_decode.py --real MODEL.gguf --sweep SWEEP_DIR --out experiments/kernels/smollm2.json

Tokens/s of HF `generate` (static cache, its own compilation, dense), of the decoder in dense mode, and of the decoder
at each sparsity; the agreement of the kernel path with the masked path (`SparseLinear`): per-step logits fed the same
tokens, and greedy generations. With --real: a real model with the thresholds and the SPON checkpoint of a sweep
(folded), and perplexity through the kernel path and the masked path.
"""
import argparse, copy, json, statistics, time
from pathlib import Path
import torch, torch.nn.functional as F
from spon_extensions.data import make_blocks, load_blocks
from spon_extensions.evaluate import compute_perplexity
from spon_extensions.models import random_llama, load_model
from spon_extensions.sparsify import calibrate, uniform_plan, apply_thresholds, dense_mode, Calibration
from spon_extensions.spon import load_spon, fold_spon
from spon_extensions.kernels import SparseDecoder, LLAMA_3_8B, generate, step_logits

def timed(fn, repeats=3):
    "Median wall seconds of `fn()` after one warm-up call, the GPU synchronised around each."
    fn(); times = []
    for _ in range(repeats):
        torch.cuda.synchronize(); t0 = time.perf_counter(); fn(); torch.cuda.synchronize(); times.append(time.perf_counter() - t0)
    return statistics.median(times)

def hf_tokens_per_s(model, prompt, n):
    "Transformers' static-cache greedy generate (compiled by transformers itself), tokens/s."
    kw = dict(max_new_tokens=n, min_new_tokens=n, do_sample=False, cache_implementation='static', pad_token_id=0)
    model.generate(prompt[None], **kw)   # the first call compiles
    return n / timed(lambda: model.generate(prompt[None], **kw))

def decoder_tokens_per_s(dec, prompt, n): return n / timed(lambda: generate(dec, prompt, n))

def logits_agreement(model, dec, ids):
    "Per-step relative error and top-1 agreement of the kernel path's logits against the model's (fed the same tokens)."
    ref, got = model(ids[None]).logits[0].float(), step_logits(dec, ids).float()
    rel = ((got - ref).norm(dim=-1) / ref.norm(dim=-1))
    return dict(steps=len(ids), rel_err_median=rel.median().item(), rel_err_max=rel.max().item(),
                top1_agreement=(got.argmax(-1) == ref.argmax(-1)).float().mean().item())

def greedy_agreement(model, dec, prompts, n=64):
    "Share of prompts whose n greedy tokens agree between the masked path (transformers' generate) and the decoder, and where they part."
    firsts = []
    for p in prompts:
        ref = model.generate(p[None], max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=0)[0, len(p):]
        got = generate(dec, p, n)
        diff = (ref != got).nonzero()
        firsts.append(int(diff[0]) if len(diff) else None)
    return dict(prompts=len(prompts), new_tokens=n, identical_share=sum(f is None for f in firsts) / len(firsts), first_divergence=firsts)

def agreement(model, dec, ids, prompts):
    "Kernel path vs masked path (sparse), and the same comparison in dense mode as the tolerance of bf16 itself."
    sparse = dict(logits=logits_agreement(model, dec, ids), greedy=greedy_agreement(model, dec, prompts))
    dec.set_sparse(False)
    with dense_mode(model): dense = dict(logits=logits_agreement(model, dec, ids))
    dec.set_sparse(True)
    return dict(sparse=sparse, dense_mode=dense)

def bench_random(name, model, sparsities, prompt_len=16, n=128, n_prompts=8):
    g = torch.Generator().manual_seed(0)
    V, dev = model.config.vocab_size, 'cuda'
    prompt = torch.randint(0, V, (prompt_len,), generator=g).to(dev)
    res = dict(model=name, prompt_tokens=prompt_len, new_tokens=n, hf_static_tokens_per_s=hf_tokens_per_s(model, prompt, n))
    print(f"{name}: HF static generate {res['hf_static_tokens_per_s']:.1f} tokens/s", flush=True)
    cal = calibrate(model, make_blocks(torch.randint(0, V, (8 * 128,), generator=g), 128, source='random tokens'), progress=False)
    dec = SparseDecoder(model, max_len=prompt_len + n); dec.set_sparse(False)
    res['decoder_dense_tokens_per_s'] = decoder_tokens_per_s(dec, prompt, n); del dec
    print(f"{name}: decoder dense {res['decoder_dense_tokens_per_s']:.1f} tokens/s ({res['decoder_dense_tokens_per_s']/res['hf_static_tokens_per_s']:.3f}x HF)", flush=True)
    res['sparse'] = []
    for s in sparsities:
        apply_thresholds(model, cal.thresholds(uniform_plan(model, s)))
        dec = SparseDecoder(model, max_len=max(prompt_len + n, 80))
        tps = decoder_tokens_per_s(dec, prompt, n)
        row = dict(sparsity=s, tokens_per_s=tps, speedup_vs_hf=tps / res['hf_static_tokens_per_s'], speedup_vs_decoder_dense=tps / res['decoder_dense_tokens_per_s'])
        print(f"{name}: s={s:.2f} decoder {tps:.1f} tokens/s ({row['speedup_vs_hf']:.2f}x HF, {row['speedup_vs_decoder_dense']:.2f}x decoder dense)", flush=True)
        if s == 0.5:
            prompts = [torch.randint(0, V, (prompt_len,), generator=g).to(dev) for _ in range(n_prompts)]
            ids = torch.cat([prompt, generate(dec, prompt, 64)])
            row['agreement'] = agreement(model, dec, ids, prompts)
            print(f"{name}: s=0.5 agreement {json.dumps(row['agreement'])}", flush=True)
        res['sparse'].append(row)
        del dec; torch.cuda.empty_cache()
    return res

def bench_real(path, sweep, s=0.5, n=128, n_prompts=16, n_blocks=16, block=512):
    model, tok = load_model(path, dtype=torch.float32, device='cuda')
    hf = copy.deepcopy(model).to(torch.bfloat16)
    blocks = load_blocks('wikitext-2', tok, 'test', block_size=block, max_blocks=n_blocks)
    prompt = blocks.ids[0, :32].cuda()
    res = dict(model=path, sparsity=s, new_tokens=n, hf_static_tokens_per_s=hf_tokens_per_s(hf, prompt, n)); del hf
    cal = Calibration.load(next(Path(sweep).glob('cache/calibration-*.safetensors')), model)
    apply_thresholds(model, cal.thresholds(uniform_plan(model, s)))
    ckpt = next(Path(sweep).glob('runs/UNIF-ALL*/spon.safetensors'))
    meta = load_spon(model, ckpt)
    fold_spon(model.to(torch.bfloat16))
    res.update(spon_checkpoint=str(ckpt.relative_to(sweep)), spon_config=meta['config'].get('config'), spon_space=meta['space'])
    dec = SparseDecoder(model, max_len=block)
    res['decoder_sparse_tokens_per_s'] = decoder_tokens_per_s(dec, prompt, n)
    dec.set_sparse(False)
    res['decoder_dense_tokens_per_s'] = decoder_tokens_per_s(dec, prompt, n)
    dec.set_sparse(True)
    print(f"{path}: HF static {res['hf_static_tokens_per_s']:.1f}, decoder dense {res['decoder_dense_tokens_per_s']:.1f}, "
          f"sparse s={s} + SPON {res['decoder_sparse_tokens_per_s']:.1f} tokens/s", flush=True)
    masked = compute_perplexity(model, blocks, batch_size=4)
    nll = sum(F.cross_entropy(step_logits(dec, ids).float()[:-1], ids[1:].cuda(), reduction='sum').item() for ids in blocks.ids)
    kernel_ppl = float(torch.tensor(nll / (blocks.n_tokens - len(blocks))).exp())
    res['perplexity'] = dict(masked=masked.perplexity, kernel=kernel_ppl, relative_difference=kernel_ppl / masked.perplexity - 1,
                             protocol=f"WikiText-2 test, first {n_blocks} non-overlapping blocks of {block} tokens, no BOS, {masked.n_tokens} predicted tokens, bf16")
    print(f"perplexity: masked {masked.perplexity:.4f}, kernel {kernel_ppl:.4f} ({res['perplexity']['relative_difference']:+.4%})", flush=True)
    prompts = [b[:32].cuda() for b in load_blocks('wikitext-2', tok, 'test', block_size=block, max_blocks=n_blocks + n_prompts).ids[n_blocks:]]
    res['agreement'] = agreement(model, dec, blocks.ids[0].cuda(), prompts)
    print(f"agreement {json.dumps(res['agreement'])}", flush=True)
    return res

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='experiments/kernels/decode.json')
    p.add_argument('--sparsities', default='0,0.4,0.5,0.6')
    p.add_argument('--shapes', default='llama-3-8b,llama-3.2-1b')
    p.add_argument('--real', help='a model spec (e.g. a GGUF path) to run with a sweep\'s thresholds and SPON checkpoint')
    p.add_argument('--sweep', help='the output folder of that sweep')
    a = p.parse_args()
    env = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, dtype='bfloat16', batch=1, greedy=True)
    if a.real: out = dict(env, **bench_real(a.real, a.sweep))
    else:
        models = []
        for name in a.shapes.split(','):
            model = random_llama('llama-3.2-1b', device='cuda', dtype=torch.bfloat16, **(LLAMA_3_8B if name == 'llama-3-8b' else {}))
            model.config.name_or_path = f'random-{name}'
            models.append(bench_random(name, model, [float(s) for s in a.sparsities.split(',')]))
            del model; torch.cuda.empty_cache()
        out = dict(env, weights='random (transformers init), thresholds calibrated on 8x128 random tokens', models=models)
    json.dump(out, open(a.out, 'w'), indent=1)
    print(f"wrote {a.out}")
