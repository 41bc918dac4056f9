"""How far the masked sparse path is from itself: the tolerance any sparse kernel must be judged against.

transformers runs the model with `SparseLinear`s twice on the same text: one forward over each whole block, and token
by token with a KV cache (what a decoder does). In exact arithmetic the two are equal; in floating point they differ
by rounding, and a threshold turns a rounding-sized change of an input near it into a change of the whole input (a
flipped mask), which the next layers and the later tokens (through the cache) carry on. Printed, dense and sparse:
the per-token relative difference of the logits and their top-1 agreement (overall, and per quarter of the block),
the perplexity of each way, and the same difference for a forward whose input embeddings were perturbed by a relative
1e-6. Writes JSON.

    python scripts/decode_tolerance.py --out experiments/kernels/tolerance-cpu.json          # SmolLM2-135M, s = 0.5, fp32, CPU
"""
import argparse, json, math, time
import torch
import torch.nn.functional as F
from transformers import DynamicCache
from spon_extensions.models import load_model
from spon_extensions.data import load_blocks
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan, dense_mode
from spon_extensions.results import environment

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--sparsity', type=float, default=0.5)
p.add_argument('--dtype', default='float32')
p.add_argument('--device', default='cpu')
p.add_argument('--blocks', type=int, default=4, help='WikiText-2 test blocks compared')
p.add_argument('--block-size', type=int, default=256)
p.add_argument('--out', default=None)
a = p.parse_args()

model, tok = load_model(a.model, dtype=torch.float32, device=a.device)   # thresholds calibrated in float32
cal = calibrate(model, load_blocks('wikitext-2', tok, 'valid', block_size=512, max_blocks=8), progress=False)
apply_thresholds(model, cal.thresholds(uniform_plan(model, a.sparsity)))
model.to(getattr(torch, a.dtype))
blocks = load_blocks('wikitext-2', tok, 'test', block_size=a.block_size, max_blocks=a.blocks).ids.to(a.device)

@torch.no_grad()
def incremental(ids):
    "Logits of each token fed one at a time through transformers' KV cache."
    cache = DynamicCache()
    return torch.stack([model(ids[None, i:i+1], past_key_values=cache, use_cache=True).logits[0, -1] for i in range(len(ids))]).float()

@torch.no_grad()
def perturbed(ids, eps=1e-6, seed=0):
    "Logits of one forward whose input embeddings are scaled by `1 + eps * N(0, 1)`, elementwise."
    emb = model.get_input_embeddings()(ids[None])
    noise = torch.randn(emb.shape, generator=torch.Generator().manual_seed(seed)).to(emb)
    return model(inputs_embeds=emb * (1 + eps * noise)).logits[0].float()

def compare(ref, got):
    rel = (got - ref).norm(dim=-1) / ref.norm(dim=-1)
    top1 = (got.argmax(-1) == ref.argmax(-1)).float()
    quarters = [slice(q * len(rel) // 4, (q + 1) * len(rel) // 4) for q in range(4)]
    return dict(rel_err_median=rel.median().item(), rel_err_max=rel.max().item(), top1_agreement=top1.mean().item(),
                rel_err_median_by_quarter=[rel[q].median().item() for q in quarters],
                top1_by_quarter=[top1[q].mean().item() for q in quarters])

def nll(logits, ids): return F.cross_entropy(logits[:-1], ids[1:], reduction='sum').item()

def measure():
    t0, full, inc, pert, nll_full, nll_inc = time.perf_counter(), [], [], [], 0.0, 0.0
    for ids in blocks:
        with torch.no_grad(): f = model(ids[None]).logits[0].float()
        i = incremental(ids)
        full.append(f); inc.append(i); pert.append(perturbed(ids))
        nll_full += nll(f, ids); nll_inc += nll(i, ids)
    n = blocks.numel() - len(blocks)
    full, inc, pert = torch.cat(full), torch.cat(inc), torch.cat(pert)
    return dict(full_vs_incremental=compare(full, inc), full_vs_perturbed=compare(full, pert),
                perplexity_full=math.exp(nll_full / n), perplexity_incremental=math.exp(nll_inc / n), seconds=time.perf_counter() - t0)

with dense_mode(model): dense = measure()
sparse = measure()
res = dict(model=a.model, sparsity=a.sparsity, dtype=a.dtype, device=a.device, environment=environment(),
           text=f"WikiText-2 test, first {a.blocks} blocks of {a.block_size} tokens, no BOS; thresholds from 8 x 512 tokens of WikiText-2 valid",
           dense=dense, sparse=sparse)
for name, r in (('dense', dense), ('sparse', sparse)):
    fi, fp = r['full_vs_incremental'], r['full_vs_perturbed']
    print(f"{name:6s}: full vs incremental: rel err median {fi['rel_err_median']:.2e} (by quarter {', '.join(f'{x:.2e}' for x in fi['rel_err_median_by_quarter'])}), "
          f"top-1 {fi['top1_agreement']:.3f}; perplexity {r['perplexity_full']:.4f} vs {r['perplexity_incremental']:.4f} "
          f"({r['perplexity_incremental'] / r['perplexity_full'] - 1:+.3%}); embeddings x (1 + 1e-6 noise): rel err median {fp['rel_err_median']:.2e}, "
          f"top-1 {fp['top1_agreement']:.3f}", flush=True)
if a.out:
    with open(a.out, 'w') as f: json.dump(res, f, indent=1)
