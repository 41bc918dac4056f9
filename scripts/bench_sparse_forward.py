"""Benchmark: cost of the sparse forward (threshold and top-k modes) relative to dense, same model and batch, one run.

    python scripts/bench_sparse_forward.py --model smollm2-135m            # the packaged default (CPU here)
    python scripts/bench_sparse_forward.py --model llama-3.2-1b --random   # Llama-3.2-1B shape, random weights (GPU)
"""
import argparse, platform
import torch
from spon_extensions.data import load_blocks, make_blocks
from spon_extensions.models import load_model, random_llama, default_device, default_dtype
from spon_extensions.sparsify import calibrate, uniform_plan, time_forward

p = argparse.ArgumentParser()
p.add_argument('--model', default='smollm2-135m')
p.add_argument('--random', action='store_true', help='build the named LLAMA_SHAPES shape with random weights')
p.add_argument('--batch', type=int, default=4); p.add_argument('--tokens', type=int, default=256)
p.add_argument('--sparsity', type=float, default=0.5); p.add_argument('--repeats', type=int, default=10)
a = p.parse_args()

device = default_device(); dtype = default_dtype(device)
if a.random:
    model = random_llama(a.model, device=device, dtype=dtype)
    ids = torch.randint(0, model.config.vocab_size, (a.batch, a.tokens), generator=torch.Generator().manual_seed(0))
    calib_blocks = make_blocks(torch.randint(0, model.config.vocab_size, (16 * a.tokens,)), a.tokens, source='random tokens')
    data = 'random tokens'
else:
    model, tok = load_model(a.model)
    ids = load_blocks('wikitext-2', tok, 'test', block_size=a.tokens, max_blocks=a.batch).ids
    calib_blocks = load_blocks('wikitext-2', tok, 'valid', block_size=a.tokens, max_blocks=16)
    data = 'WikiText-2 (calibration: valid, timing: test)'
calib = calibrate(model, calib_blocks, progress=False)
t = time_forward(model, ids.to(device), uniform_plan(model, a.sparsity), calib, repeats=a.repeats)
dev = torch.cuda.get_device_name() if device.type == 'cuda' else f'{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads'
print(f"model={a.model}{' (random weights)' if a.random else ''} dtype={dtype} device={dev} batch={a.batch}x{a.tokens} "
      f"whole-model s={a.sparsity} data={data} torch={torch.__version__}")
for mode, sec in t.items():
    print(f"  {mode:9s} {sec*1e3:9.2f} ms/forward  {a.batch*a.tokens/sec:10.0f} tokens/s  ratio to dense {sec/t['dense']:.3f}")
