"""Benchmark: SPON training and sparse evaluation throughput against dense baselines, measured in one run.

    python scripts/bench_spon_training.py --model llama-3.2-1b --batch 8 --tokens 512     # on a GPU

Baselines: a frozen-weight dense forward+backward (gradients flow through every layer to the input embeddings,
no weight gradients) and a dense forward for evaluation. SPON training: the trainer's step (cached dense teacher,
sparse student forward, chunked KL, backward into the SPON vectors, AdamW) in steady state, i.e. after the first
pass over the batches has filled the teacher cache.
"""
import argparse, time
import torch, torch.nn.functional as F
from spon_extensions.data import make_blocks
from spon_extensions.models import random_llama, default_device, default_dtype
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan, dense_mode
from spon_extensions.train import SPONTrainer, SPONConfig, TrainingArgs

p = argparse.ArgumentParser()
p.add_argument('--model', default='llama-3.2-1b'); p.add_argument('--batch', type=int, default=8)
p.add_argument('--tokens', type=int, default=512); p.add_argument('--sparsity', type=float, default=0.5)
p.add_argument('--space', default='input'); p.add_argument('--n-batches', type=int, default=4); p.add_argument('--rounds', type=int, default=5)
a = p.parse_args()
dev = default_device(); dtype = default_dtype(dev)
sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
model = random_llama(a.model, device=dev, dtype=dtype)
V = model.config.vocab_size
g = torch.Generator().manual_seed(0)
batches = [torch.randint(0, V, (a.batch, a.tokens), generator=g) for _ in range(a.n_batches)]
apply_thresholds(model, calibrate(model, make_blocks(torch.randint(0, V, (16 * a.tokens,), generator=g), a.tokens), progress=False)
                 .thresholds(uniform_plan(model, a.sparsity)))
for q in model.parameters(): q.requires_grad_(False)

def dense_fwd_bwd(ids):
    with dense_mode(model):
        emb = model.get_input_embeddings()(ids).detach().requires_grad_()
        out = model(inputs_embeds=emb, use_cache=False).logits
        F.cross_entropy(out[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten()).backward()

@torch.no_grad()
def forward(ids, dense):
    if dense:
        with dense_mode(model): model(ids, use_cache=False)
    else: model(ids, use_cache=False)

trainer = SPONTrainer(model, SPONConfig(), a.sparsity, TrainingArgs(space=a.space, max_steps=10**9, warmup_steps=1, progress=False))
def spon_steps(n_rounds):
    class Loader:
        def __iter__(self): return iter(batches)
    trainer.args.max_steps = n_rounds * len(batches)
    trainer.train(Loader())

def timed(f):
    sync(); t = time.perf_counter(); f(); sync(); return time.perf_counter() - t

spon_steps(1)                                              # warm-up and fills the teacher cache
for ids in batches[:2]: dense_fwd_bwd(ids.to(dev)); forward(ids.to(dev), True); forward(ids.to(dev), False)
res = {'dense fwd+bwd (frozen)': [], 'SPON train step': [], 'dense eval forward': [], 'sparse eval forward': []}
for r in range(a.rounds):                                  # interleaved rounds, median
    res['dense fwd+bwd (frozen)'].append(timed(lambda: [dense_fwd_bwd(ids.to(dev)) for ids in batches]))
    res['SPON train step'].append(timed(lambda: spon_steps(1)))
    res['dense eval forward'].append(timed(lambda: [forward(ids.to(dev), True) for ids in batches]))
    res['sparse eval forward'].append(timed(lambda: [forward(ids.to(dev), False) for ids in batches]))
tok = a.batch * a.tokens * len(batches)
tps = {k: tok / sorted(v)[len(v)//2] for k, v in res.items()}
print(f"model={a.model} (random weights) dtype={dtype} device={torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'} "
      f"batch={a.batch}x{a.tokens} whole-model s={a.sparsity} space={a.space} torch={torch.__version__}")
for k, v in tps.items(): print(f"  {k:24s} {v:10.0f} tokens/s")
print(f"  SPON training / frozen dense fwd+bwd = {tps['SPON train step']/tps['dense fwd+bwd (frozen)']:.3f}")
print(f"  sparse eval / dense eval            = {tps['sparse eval forward']/tps['dense eval forward']:.3f}")
