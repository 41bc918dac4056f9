"""Benchmark: batch-1 sparse GEMV (spon_extensions.kernels) against cuBLAS and a TEAL-style kernel, Llama-3-8B shapes, one GPU.

    python scripts/bench_kernels.py --out experiments/kernels/gemv.json
    python scripts/bench_kernels.py --configs '128,128,8,4,3,0;64,128,16,4,3,1'   # also each launch configuration on its own

Each variant is timed as a CUDA graph of calls over rotating weight copies (more bytes than the L2 holds), median of
several timings. Correctness of the kernel (bf16 and fp16, against a float64 masked matmul) is checked first. With
--configs, every configuration of GEMV_CONFIGS and the ones given (BLOCK_N, BLOCK_K, SPLIT_K, warps, stages, gather;
gather 0 loops over every row, 1 over the survivors only, 0 if left out) is also checked against the float64 masked
matmul and timed without the autotuner at s = 0.5 and 0.7, to show whether the autotuner's list holds the fastest.
"""
import argparse, json, math, platform
import torch, torch.nn.functional as F
from torch import nn
import triton, triton.language as tl
from spon_extensions.kernels import FusedSparseLinear, GEMV_SHAPES, GEMV_CONFIGS, MIN_BLOCK_N, MAX_SPLIT_K, rounded_thresholds, sparse_gemv

TEAL_CONFIGS = [(64, 128, 2), (64, 64, 4), (8, 128, 2), (16, 256, 4), (32, 256, 4), (16, 128, 4)]  # (BLOCK_K, BLOCK_N, warps)

@triton.autotune([triton.Config(dict(BLOCK_K=k, BLOCK_N=n), num_warps=w) for k, n, w in TEAL_CONFIGS], key=['K', 'N'], reset_to_zero=['y'])
@triton.jit
def teal_style_gemv(x, wt, t, y, K, N, BLOCK_K: tl.constexpr, BLOCK_N: tl.constexpr):
    "The baseline as TEAL publishes it: a tile of inputs x outputs per program, weight loads masked by |x| > t, atomics into y."
    rows = tl.program_id(1) * BLOCK_K + tl.arange(0, BLOCK_K)
    cols = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    xv = tl.load(x + rows, mask=rows < K, other=0.)
    keep = (tl.abs(xv.to(tl.float32)) > tl.load(t)) & (rows < K)
    w = tl.load(wt + rows[:, None] * N + cols[None, :], mask=keep[:, None] & (cols < N)[None, :], other=0.)
    tl.atomic_add(y + cols, tl.sum(w.to(tl.float32) * xv.to(tl.float32)[:, None], 0), mask=cols < N)

def teal_call(x, wt, t, y):
    y.zero_()
    K, N = wt.shape
    teal_style_gemv[lambda m: (triton.cdiv(N, m['BLOCK_N']), triton.cdiv(K, m['BLOCK_K']))](x, wt, t, y, K, N)
    return y

def fused(sizes, K, dtype):
    "A FusedSparseLinear with random weights (scaled like a trained layer) and random biases."
    lin = FusedSparseLinear([nn.utils.skip_init(nn.Linear, K, n, bias=False, device='cuda', dtype=dtype) for n in sizes])
    lin.wt.normal_(0, K ** -0.5); lin.bias.normal_()
    return lin

def rotating_copies(sizes, K, dtype, l2_bytes=60e6):
    "Enough copies of a random fused layer that cycling through them reads at least 4x the L2 from memory."
    return [fused(sizes, K, dtype) for _ in range(max(2, math.ceil(4 * l2_bytes / (sum(sizes) * K * dtype.itemsize))))]

def check(sizes, K, s, dtype, seed):
    "Relative error of the kernel and of the TEAL-style kernel against a float64 masked matmul; bitwise repeatability."
    torch.manual_seed(seed)
    lin, x = fused(sizes, K, dtype), torch.randn(K, device='cuda').to(dtype)
    lin.thresholds.fill_(rounded_thresholds([x.float().abs().quantile(s).item()], dtype).item())
    y = lin(x)
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    ref = torch.cat([torch.where(x.abs() > t, x, 0).double() @ lin.wt[:, a:a+n].double() for t, a, n in zip(lin.thresholds, starts, sizes)]) + lin.bias.double()
    yt = teal_call(x, lin.wt, lin.thresholds[:1], torch.empty(lin.out_features, device='cuda')) + lin.bias.float()
    rel = lambda a: ((a.double() - ref).norm() / ref.norm()).item()
    return dict(sizes=sizes, K=K, sparsity=s, dtype=str(dtype), rel_err=rel(y), teal_rel_err=rel(yt), repeat_bitwise_equal=torch.equal(lin(x), y))

def graph_time(calls, reps=20, trials=7):
    "Median seconds per call of `calls` (a list of thunks) captured in one CUDA graph and replayed."
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for c in calls: c()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for c in calls: c()
    for _ in range(3): g.replay()
    times = []
    for _ in range(trials):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(reps): g.replay()
        b.record(); torch.cuda.synchronize()
        times.append(a.elapsed_time(b) / 1e3 / (reps * len(calls)))
    return sorted(times)[len(times) // 2]

def bench_shape(name, sizes, K, sparsities, dtype):
    N = sum(sizes); nbytes = N * K * dtype.itemsize
    lins = rotating_copies(sizes, K, dtype)
    Ws = [l.wt.t().contiguous() for l in lins]    # the usual [out, in] layout, what cuBLAS (and transformers) read
    x = torch.randn(K, device='cuda').to(dtype)
    t = torch.zeros(1, device='cuda')
    y32 = torch.empty(N, device='cuda')
    rows = []
    dense = graph_time([lambda W=W: F.linear(x, W) for W in Ws])
    for s in sparsities:
        t.fill_(rounded_thresholds([x.float().abs().quantile(s).item()], dtype).item())
        for l in lins: l.thresholds.fill_(t.item())
        kept = (x.float().abs() > t).float().mean().item()
        ours = graph_time([lambda l=l: l(x) for l in lins])
        teal = graph_time([lambda l=l: teal_call(x, l.wt, t, y32) for l in lins])
        for variant, sec in (('cublas_dense', dense), ('sparse_kernel', ours), ('teal_style', teal)):
            read = nbytes if variant == 'cublas_dense' else kept * nbytes
            rows.append(dict(shape=name, out=N, K=K, sparsity=s, realised_sparsity=1 - kept, variant=variant, us=sec * 1e6,
                             GBps=read / sec / 1e9, speedup_vs_cublas=dense / sec, speedup_vs_teal=teal / sec))
        print(f"{name:20s} s={s:.2f}  cuBLAS {dense*1e6:7.1f} us ({nbytes/dense/1e9:6.0f} GB/s)  ours {ours*1e6:7.1f} us "
              f"({kept*nbytes/ours/1e9:6.0f} GB/s, {dense/ours:.2f}x)  TEAL-style {teal*1e6:7.1f} us ({dense/teal:.2f}x)  ours/TEAL {teal/ours:.2f}x", flush=True)
    del lins, Ws; torch.cuda.empty_cache()
    return rows

def bench_configs(name, sizes, K, sparsities, configs, dtype):
    "Microseconds of each launch configuration, launched directly (no autotuner), on the same rotating copies as `bench_shape`."
    lins, x, rows = rotating_copies(sizes, K, dtype), torch.randn(K, device='cuda').to(dtype), []
    for s in sparsities:
        t = rounded_thresholds([x.float().abs().quantile(s).item()], dtype).item()
        for l in lins: l.thresholds.fill_(t)
        ref = torch.where(x.abs() > t, x, 0).double() @ lins[0].wt.double() + lins[0].bias.double()
        rel = lambda c: ((sparse_gemv(x, lins[0], c).double() - ref).norm() / ref.norm()).item()
        timed = [dict(shape=name, sparsity=s, config=list(c), rel_err=rel(c), us=graph_time([lambda l=l: sparse_gemv(x, l, c) for l in lins]) * 1e6)
                 for c in configs if math.gcd(*sizes) % c[0] == 0]
        assert all(r['rel_err'] < 1e-2 for r in timed), [(r['config'], r['rel_err']) for r in timed if r['rel_err'] >= 1e-2]
        best = min(timed, key=lambda r: r['us'])['config']
        print(f"{name:20s} s={s:.2f}  " + '  '.join(f"{tuple(r['config'])}:{r['us']:.1f}" for r in timed) + f"  best {tuple(best)}", flush=True)
        rows += timed
    del lins; torch.cuda.empty_cache()
    return rows

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--out', default='experiments/kernels/gemv.json')
    p.add_argument('--sparsities', default='0,0.25,0.4,0.5,0.6,0.7,0.8')
    p.add_argument('--configs', default='', help="also time each launch configuration at 0.5 and 0.7: GEMV_CONFIGS and these 'BN,BK,SK,warps,stages[,gather];...' ('default': GEMV_CONFIGS alone)")
    a = p.parse_args()
    checks = [check(sizes, K, s, dt, seed) for sizes, K in [*GEMV_SHAPES.values(), ([576, 192, 192], 576), ([2048, 2048], 8192)]
              for dt in (torch.bfloat16, torch.float16) for s in (0.0, 0.5, 0.9) for seed in (0, 1)]
    worst = max(c['rel_err'] for c in checks)
    print(f"correctness: {len(checks)} checks, worst relative error {worst:.2e} (TEAL-style {max(c['teal_rel_err'] for c in checks):.2e}), "
          f"all repeats bitwise equal: {all(c['repeat_bitwise_equal'] for c in checks)}", flush=True)
    assert worst < 1e-2 and all(c['repeat_bitwise_equal'] for c in checks)
    sparsities = [float(s) for s in a.sparsities.split(',')]
    rows = [r for name, (sizes, K) in GEMV_SHAPES.items() for r in bench_shape(name, sizes, K, sparsities, torch.bfloat16)]
    extra = [(*c, 0)[:6] for c in (tuple(int(v) for v in c.split(',')) for c in a.configs.split(';') if c and c != 'default')]
    if bad := [c for c in extra if len(c) != 6 or c[0] < MIN_BLOCK_N or c[2] > MAX_SPLIT_K or c[5] not in (0, 1)]:
        p.error(f"--configs {bad}: each needs BLOCK_N,BLOCK_K,SPLIT_K,warps,stages[,gather] with BLOCK_N >= {MIN_BLOCK_N}, SPLIT_K <= {MAX_SPLIT_K}, gather 0 or 1")
    per_config = [r for name, (sizes, K) in GEMV_SHAPES.items() for r in bench_configs(name, sizes, K, (0.5, 0.7), GEMV_CONFIGS + extra, torch.bfloat16)] if a.configs else []
    out = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, triton=triton.__version__, python=platform.python_version(),
               dtype='bfloat16', batch=1, protocol='CUDA graph of calls over rotating weight copies (>= 4x L2), median of 7 timings of 20 replays; '
               'x ~ N(0,1), threshold = s-quantile of |x|; cuBLAS = F.linear on [out, in]; TEAL-style includes zeroing its fp32 output',
               correctness=checks, results=rows, per_config=per_config)
    json.dump(out, open(a.out, 'w'), indent=1)
    print(f"wrote {a.out}")
