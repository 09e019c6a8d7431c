"""A tensor-parallel version of the LLM-inference-shaped workload behind the fixtures.

The same model as ../../../shared/device/llm_workload.py (8 decoder layers, d_model 2048,
16 heads, d_ff 5632, vocab 32000, bf16, batch 16, prompt 512, random weights), split
Megatron-style over the ranks of a torch.distributed NCCL group:

- attention: wqkv is column-parallel (each rank holds heads/world of the heads and their
  KV cache), wo row-parallel, then one all-reduce of the attention output;
- MLP: the gate/up projection is column-parallel, the down projection row-parallel, then
  one all-reduce of the MLP output;
- embedding, norms and the LM head are replicated, so every rank samples the same token.

So a step runs 2 all-reduces per layer. NVTX ranges as in llm_workload.py: `benchmark`
around the measured part, `prefill` and `decode` per step, on every rank.

--regress extra-allreduce adds one more all-reduce per layer (on a scratch buffer the size
of the attention output: the numbers are unchanged, the communication is not).
--regress imbalance gives the last rank one extra GEMM per layer (load imbalance).

Decode runs eagerly by default (--graphs none). --graphs decode captures decode, NCCL
all-reduces included, in a CUDA graph; untested here, kept for experiments.

Launch with 2 GPUs:
    python3 -m torch.distributed.run --standalone --nproc-per-node 2 tp_workload.py
"""
import argparse
import json
import os
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torch.cuda.nvtx as nvtx


def rms_norm(x, w, eps=1e-6):
    v = x.float().pow(2).mean(-1, keepdim=True)
    return (x.float() * torch.rsqrt(v + eps)).to(x.dtype) * w


class TPModel:
    """One rank's shard of the model. Weights are drawn whole on the CPU from one seed and
    sliced, so the shards of all ranks together are the single-GPU model's weights."""

    def __init__(self, a, dev, rank, world):
        g = torch.Generator(device="cpu").manual_seed(a.seed)
        dt = torch.float16 if a.dtype == "fp16" else torch.bfloat16
        self.a, self.dt, self.dev, self.rank, self.world = a, dt, dev, rank, world

        def w(*shape, scale=0.02):
            return torch.randn(*shape, generator=g) * scale

        d, ff, h = a.d_model, a.d_ff, a.heads
        if h % world or ff % world:
            raise SystemExit(f"--heads {h} and --d-ff {ff} must divide by the world size {world}")
        self.hd = d // h
        self.h_local = h // world
        self.d_local = self.h_local * self.hd
        self.ff_local = ff // world
        r, dl, fl = rank, self.d_local, self.ff_local

        def put(t):
            return t.contiguous().to(dev, dt)

        self.emb = put(w(a.vocab, d))
        self.layers = []
        for _ in range(a.layers):
            wqkv = w(d, 3 * d)
            wo = w(d, d)
            wgu = w(d, 2 * ff)
            wd = w(ff, d)
            cols = slice(r * dl, (r + 1) * dl)
            L = {
                "n1": torch.ones(d, device=dev, dtype=dt),
                "n2": torch.ones(d, device=dev, dtype=dt),
                # column-parallel: this rank's heads of q, k and v
                "wqkv": put(torch.cat([wqkv[:, i * d:(i + 1) * d][:, cols] for i in range(3)], dim=1)),
                # row-parallel: the rows that multiply this rank's heads
                "wo": put(wo[cols, :]),
                # column-parallel gate and up, row-parallel down
                "wgu": put(torch.cat([wgu[:, :ff][:, r * fl:(r + 1) * fl],
                                      wgu[:, ff:][:, r * fl:(r + 1) * fl]], dim=1)),
                "wd": put(wd[r * fl:(r + 1) * fl, :]),
            }
            if a.regress == "imbalance" and rank == world - 1:
                # its own generator, so that the shared weights stay the same
                gx = torch.Generator(device="cpu").manual_seed(a.seed + 2)
                L["wx"] = put(torch.randn(d, d, generator=gx) * 0.02)
            self.layers.append(L)
        self.nf = torch.ones(d, device=dev, dtype=dt)
        self.head = put(w(d, a.vocab))
        shape = (a.layers, a.batch, self.h_local, a.prompt + a.steps, self.hd)
        self.k = torch.zeros(shape, device=dev, dtype=dt)
        self.v = torch.zeros(shape, device=dev, dtype=dt)

    def all_reduce(self, t):
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def mlp(self, L, x):
        gu = x @ L["wgu"]
        g_, u = gu.chunk(2, dim=-1)
        y = (F.silu(g_) * u) @ L["wd"]
        return self.all_reduce(y)

    def layer(self, i, L, x, pos, prefill, mask):
        a = self.a
        B, T, d = x.shape
        h = rms_norm(x, L["n1"])
        q, k, v = (h @ L["wqkv"]).split(self.d_local, dim=-1)
        q = q.view(B, T, self.h_local, self.hd).transpose(1, 2)
        k = k.view(B, T, self.h_local, self.hd).transpose(1, 2)
        v = v.view(B, T, self.h_local, self.hd).transpose(1, 2)
        if prefill:
            self.k[i, :, :, :T].copy_(k)
            self.v[i, :, :, :T].copy_(v)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            self.k[i].index_copy_(2, pos, k)
            self.v[i].index_copy_(2, pos, v)
            o = F.scaled_dot_product_attention(q, self.k[i], self.v[i], attn_mask=mask)
        o = o.transpose(1, 2).reshape(B, T, self.d_local) @ L["wo"]
        o = self.all_reduce(o)
        if a.regress == "extra-allreduce":
            self.all_reduce(torch.empty_like(o))
        if "wx" in L:
            o = o + (o @ L["wx"]) * 0.0
        x = x + o
        return x + self.mlp(L, rms_norm(x, L["n2"]))

    def forward(self, tokens, pos, prefill, mask):
        x = self.emb[tokens]
        for i, L in enumerate(self.layers):
            x = self.layer(i, L, x, pos, prefill, mask)
        x = rms_norm(x[:, -1:], self.nf)
        logits = (x @ self.head).float()
        return torch.argmax(logits, dim=-1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--d-model", type=int, default=2048)
    p.add_argument("--d-ff", type=int, default=5632)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--prompt", type=int, default=512)
    p.add_argument("--steps", type=int, default=48)
    p.add_argument("--requests", type=int, default=2, help="prefill+decode rounds")
    p.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    p.add_argument("--graphs", default="none", choices=["none", "decode"])
    p.add_argument("--regress", default="none", choices=["none", "extra-allreduce", "imbalance"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default="", help="rank 0 writes its results here")
    a = p.parse_args()

    # NVLink multicast stays off (a shared host's GPUs can be put out of service by it): keep
    # what the machine set, default a missing variable to off, refuse one that is on.
    for k, v in (("NCCL_NVLS_ENABLE", "0"), ("TORCH_SYMM_MEM_DISABLE_MULTICAST", "1"),
                 ("NVSHMEM_DISABLE_NVLS", "1")):
        if os.environ.setdefault(k, v) != v:
            raise SystemExit(f"{k}={os.environ[k]}: NVLink multicast must stay off (want {v})")

    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    torch.cuda.set_device(local)
    dev = torch.device("cuda", local)
    dist.init_process_group("nccl", device_id=dev)
    torch.manual_seed(a.seed)
    m = TPModel(a, dev, rank, world)
    S = a.prompt + a.steps

    tok = torch.zeros(a.batch, 1, dtype=torch.long, device=dev)
    pos = torch.zeros(1, dtype=torch.long, device=dev)
    mask = torch.zeros(a.batch, 1, 1, S, dtype=torch.bool, device=dev)

    def decode_once():
        return m.forward(tok, pos, False, mask)

    # Warm up (NCCL communicators, cuBLAS handles), then optionally capture decode.
    # Every rank draws the same prompts from the same CPU generator.
    gen = torch.Generator(device="cpu").manual_seed(a.seed + 1)
    prompts = torch.randint(0, a.vocab, (a.batch, a.prompt), generator=gen).to(dev)
    with torch.no_grad():
        m.forward(prompts, pos, True, None)
        mask.zero_(); mask[..., : a.prompt + 1] = True; pos.fill_(a.prompt)
        decode_once()
        graph, out = None, None
        if a.graphs == "decode":
            s = torch.cuda.Stream()
            s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(2):
                    decode_once()
            torch.cuda.current_stream().wait_stream(s)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = decode_once()
        torch.cuda.synchronize()
        dist.barrier()

        times = {"prefill_ms": [], "decode_ms": []}
        t_all = time.perf_counter()
        nvtx.range_push("benchmark")
        for r in range(a.requests):
            prompts = torch.randint(0, a.vocab, (a.batch, a.prompt), generator=gen).pin_memory()
            t0 = time.perf_counter()
            nvtx.range_push("prefill")
            ids = prompts.to(dev, non_blocking=True)
            nxt = m.forward(ids, pos, True, None)
            first = nxt.cpu()
            nvtx.range_pop()
            times["prefill_ms"].append((time.perf_counter() - t0) * 1e3)
            tok.copy_(nxt)
            for i in range(a.steps):
                t0 = time.perf_counter()
                nvtx.range_push("decode")
                p_ = a.prompt + i
                pos.fill_(p_)
                mask.zero_()
                mask[..., : p_ + 1] = True
                if graph is not None:
                    graph.replay()
                    nxt = out
                else:
                    nxt = decode_once()
                tok.copy_(nxt)
                if i == a.steps - 1:
                    _ = nxt.cpu()
                nvtx.range_pop()
                times["decode_ms"].append((time.perf_counter() - t0) * 1e3)
            torch.cuda.synchronize()
        nvtx.range_pop()
        total = time.perf_counter() - t_all
    res = {
        "config": vars(a),
        "world_size": world,
        "rank": rank,
        "wall_s": total,
        "tokens_per_s": a.requests * a.batch * a.steps / total,
        "prefill_ms_median": sorted(times["prefill_ms"])[len(times["prefill_ms"]) // 2],
        "decode_ms_median": sorted(times["decode_ms"])[len(times["decode_ms"]) // 2],
        "first_token": int(first[0, 0]),
    }
    if rank == 0:
        print(json.dumps(res), flush=True)
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
