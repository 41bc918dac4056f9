"""Benchmark: SPON training and sparse evaluation throughput against dense baselines, measured in one run.

    python scripts/bench_spon_training.py --model llama-3.2-1b --batch 8 --tokens 512            # on a GPU
    python scripts/bench_spon_training.py --model llama-3.2-1b --batch 8 --tokens 512 --compile  # also torch.compile'd

Baselines: a frozen-weight dense forward+backward (gradients flow through every layer to the input embeddings,
no weight gradients) and a dense forward for evaluation. SPON training: the trainer's step (cached dense teacher,
sparse student forward, chunked KL, backward into the SPON vectors, AdamW) in steady state, i.e. after the first
pass over the batches has filled the teacher cache. With `--compile` every measurement is repeated with the model
forward (and the trainer's KL chunks) through `torch.compile`, and ratios are given like for like.
"""
import argparse, contextlib
import torch, torch.nn.functional as F
from torch.utils.benchmark import Timer
from spon_extensions.data import make_blocks
from spon_extensions.models import random_llama, default_device, default_dtype
from spon_extensions.sparsify import calibrate, apply_thresholds, uniform_plan, dense_mode
from spon_extensions.train import SPONTrainer, SPONConfig, TrainingArgs

p = argparse.ArgumentParser()
p.add_argument('--model', default='llama-3.2-1b'); p.add_argument('--batch', type=int, default=8)
p.add_argument('--tokens', type=int, default=512); p.add_argument('--sparsity', type=float, default=0.5)
p.add_argument('--space', default='input'); p.add_argument('--n-batches', type=int, default=4); p.add_argument('--rounds', type=int, default=5)
p.add_argument('--compile', action='store_true'); p.add_argument('--kl-chunk', type=int, default=1024)
p.add_argument('--passes', type=int, default=5, help='passes over the batches per timed round (the trainer runs hundreds of steps)')
a = p.parse_args()
dev = default_device(); dtype = default_dtype(dev)
model = random_llama(a.model, device=dev, dtype=dtype)
V = model.config.vocab_size
g = torch.Generator().manual_seed(0)
batches = [torch.randint(0, V, (a.batch, a.tokens), generator=g) for _ in range(a.n_batches)]
apply_thresholds(model, calibrate(model, make_blocks(torch.randint(0, V, (16 * a.tokens,), generator=g), a.tokens), progress=False)
                 .thresholds(uniform_plan(model, a.sparsity)))
for q in model.parameters(): q.requires_grad_(False)

def dense_loss(model, emb, ids):
    logits = model(inputs_embeds=emb, use_cache=False).logits
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())

def eval_forward(model, ids): return model(ids, use_cache=False).logits

def measure(compile):
    "Median tokens/s of the four workloads, interleaved over rounds."
    loss_fn, fwd = (torch.compile(dense_loss), torch.compile(eval_forward)) if compile else (dense_loss, eval_forward)
    trainer = SPONTrainer(model, SPONConfig(), a.sparsity, TrainingArgs(space=a.space, max_steps=10**9, warmup_steps=1,
                                                                      progress=False, compile=compile, kl_chunk=a.kl_chunk))
    class Loader:
        def __iter__(self): return iter(batches)
    def spon_round():
        trainer.args.max_steps = a.passes * len(batches); trainer.train(Loader())
    def dense_fwd_bwd():
        with dense_mode(model):
            for ids in batches * a.passes:
                ids = ids.to(dev); emb = model.get_input_embeddings()(ids).detach().requires_grad_()
                loss_fn(model, emb, ids).backward()
    @torch.no_grad()
    def forward(dense):
        with dense_mode(model) if dense else contextlib.nullcontext():
            for ids in batches * a.passes: fwd(model, ids.to(dev))
    work = {'dense fwd+bwd (frozen)': dense_fwd_bwd, 'SPON train step': spon_round,
            'dense eval forward': lambda: forward(True), 'sparse eval forward': lambda: forward(False)}
    for f in work.values(): f(); f()                       # warm-up: compiles, fills the teacher cache
    times = {k: [] for k in work}
    for _ in range(a.rounds):                              # interleaved, so drift affects every workload alike
        for k, f in work.items(): times[k].append(Timer('f()', globals={'f': f}).timeit(1).median)   # syncs CUDA around the call
    tok = a.batch * a.tokens * len(batches) * a.passes
    return {k: tok / sorted(v)[len(v) // 2] for k, v in times.items()}

print(f"model={a.model} (random weights) dtype={dtype} device={torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'} "
      f"batch={a.batch}x{a.tokens} kl_chunk={a.kl_chunk} steps/round={a.passes * a.n_batches} whole-model s={a.sparsity} space={a.space} torch={torch.__version__}")
for compile in ([False, True] if a.compile else [False]):
    tps = measure(compile)
    print('torch.compile' if compile else 'eager')
    for k, v in tps.items(): print(f"  {k:24s} {v:10.0f} tokens/s")
    print(f"  SPON training / frozen dense fwd+bwd = {tps['SPON train step']/tps['dense fwd+bwd (frozen)']:.3f}")
    print(f"  sparse eval / dense eval            = {tps['sparse eval forward']/tps['dense eval forward']:.3f}", flush=True)
