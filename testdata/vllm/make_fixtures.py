"""Writes the vLLM fixtures in this folder. No vLLM run is involved: each file
is written with the same json.dump / prometheus_client / logger format
strings as the vLLM source named beside it (see README.md), filled with
synthetic but self-consistent numbers from a fixed seed. Run from this folder
with python3 (stdlib only); the output is deterministic."""
import json
import random

rng = random.Random(7)


def r(x, s=0.1):
    return x * (1 + rng.uniform(-s, s))


# --- vllm bench latency ----------------------------------------------------
def latency(path, with_std):
    lat = [r(1.62, 0.03) for _ in range(30)]
    lat_sorted = sorted(lat)

    def pct(p):  # numpy.percentile, linear
        k = (len(lat_sorted) - 1) * p / 100
        f = int(k)
        c = min(f + 1, len(lat_sorted) - 1)
        return lat_sorted[f] + (lat_sorted[c] - lat_sorted[f]) * (k - f)

    mean = sum(lat) / len(lat)
    res = {"avg_latency": mean}
    if with_std:
        res["std_latency"] = (sum((x - mean) ** 2 for x in lat) / len(lat)) ** 0.5
    res["latencies"] = lat
    res["percentiles"] = dict(zip([10, 25, 50, 75, 90, 99], [pct(p) for p in [10, 25, 50, 75, 90, 99]]))
    with open(path, "w") as f:
        json.dump(res, f, indent=4)


latency("latency_v0.6.json", with_std=False)
latency("latency_v0.11.json", with_std=True)

# --- vllm bench throughput -------------------------------------------------
elapsed = 41.73
res = {
    "elapsed_time": elapsed,
    "num_requests": 1000,
    "total_num_tokens": 1000 * (512 + 128),
    "requests_per_second": 1000 / elapsed,
    "tokens_per_second": 1000 * (512 + 128) / elapsed,
}
with open("throughput_v0.11.json", "w") as f:
    json.dump(res, f, indent=4)


# --- vllm bench serve --save-result ----------------------------------------
def serve_outputs(n, out_len, fail=()):
    outs = []
    t = 0.0
    for i in range(n):
        ok = i not in fail
        ttft = r(0.085, 0.3) if ok else 0.0
        itl = [r(0.0121, 0.15) for _ in range(out_len - 1)] if ok else []
        lat = ttft + sum(itl) if ok else 0.0
        outs.append(dict(ok=ok, ttft=ttft, itl=itl, latency=lat, start=t, prompt_len=512,
                         out=out_len if ok else 0, err="" if ok else "ClientConnectorError: Cannot connect to host"))
        t += 0.01
    return outs


def stats(values, percentiles):
    v = sorted(values) or [0.0]
    n = len(v)
    mean = sum(v) / n
    std = (sum((x - mean) ** 2 for x in v) / n) ** 0.5
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2

    def pct(p):
        k = (n - 1) * p / 100
        f = int(k)
        c = min(f + 1, n - 1)
        return v[f] + (v[c] - v[f]) * (k - f)

    return mean * 1000, med * 1000, std * 1000, [(p, pct(p) * 1000) for p in percentiles]


def serve(path, new, percentiles, metrics):
    n, out_len = 16, 64
    outs = serve_outputs(n, out_len, fail=(5,) if new else ())
    good = [o for o in outs if o["ok"]]
    dur = max(o["start"] + o["latency"] for o in good) + 0.2
    total_in = sum(o["prompt_len"] for o in good)
    total_out = sum(o["out"] for o in good)
    # Setup/traffic keys first, as main() builds result_json, then the benchmark() result.
    res = {"date": "20261120-140321", "backend": "vllm" if not new else "openai"}
    if new:
        res["label"] = None
    res.update({"model_id": "meta-llama/Llama-3.1-8B-Instruct", "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct",
                "num_prompts": n})
    if not new:
        # benchmark_serving.py deletes the detailed fields *before* merging the
        # result in, so they survive without --save-detailed.
        res.update({"request_rate": "inf", "burstiness": 1.0, "max_concurrency": 4})
    else:
        res.update({"request_rate": "inf", "burstiness": 1.0, "max_concurrency": 4})
    b = {"duration": dur, "completed": len(good)}
    if new:
        b["failed"] = n - len(good)
    b.update({"total_input_tokens": total_in, "total_output_tokens": total_out,
              "request_throughput": len(good) / dur})
    b["request_goodput" if new else "request_goodput:"] = None
    b.update({"output_throughput": total_out / dur, "total_token_throughput": (total_in + total_out) / dur,
              "input_lens": [o["prompt_len"] for o in outs], "output_lens": [o["out"] for o in outs],
              "ttfts": [o["ttft"] for o in outs], "itls": [o["itl"] for o in outs]})
    if new:
        b.update({"latencies": [o["latency"] for o in outs], "start_times": [o["start"] for o in outs],
                  "queue_times": [0.0 for o in outs]})
    b.update({"generated_texts": ["" if not o["ok"] else " the" * o["out"] for o in outs],
              "errors": [o["err"] for o in outs]})
    if new:
        b.update({"max_output_tokens_per_s": 332.0, "max_concurrent_requests": 4, "rtfx": 0.0})
    series = {
        "ttft": [o["ttft"] for o in good],
        "tpot": [(o["latency"] - o["ttft"]) / (o["out"] - 1) for o in good],
        "itl": [x for o in good for x in o["itl"]],
        "e2el": [o["latency"] for o in good],
    }
    for m in metrics:
        mean, med, std, pcts = stats(series[m], percentiles)
        b[f"mean_{m}_ms"] = mean
        b[f"median_{m}_ms"] = med
        b[f"std_{m}_ms"] = std
        for p, v in pcts:
            p_word = str(int(p)) if int(p) == p else str(p)
            b[f"p{p_word}_{m}_ms"] = v
    res = {**res, **b}
    if new:  # serve.py pops these without --save-detailed
        for k in ["input_lens", "output_lens", "start_times", "ttfts", "itls", "generated_texts", "errors"]:
            res.pop(k, None)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(res, f)


# benchmark_serving.py defaults: --percentile-metrics ttft,tpot,itl --metric-percentiles 99
serve("serve_v0.8.json", new=False, percentiles=[99.0], metrics=["ttft", "tpot", "itl"])
# vllm bench serve --percentile-metrics ttft,tpot,itl,e2el --metric-percentiles 50,90,99,99.9
serve("serve_v0.11.json", new=True, percentiles=[50.0, 90.0, 99.0, 99.9], metrics=["ttft", "tpot", "itl", "e2el"])


# --- /metrics (prometheus_client text exposition) ---------------------------
def fl(x):  # prometheus_client floatToGoString
    if x == float("inf"):
        return "+Inf"
    return repr(float(x))


def labels(d):
    return "{" + ",".join(f'{k}="{v}"' for k, v in sorted(d.items())) + "}" if d else ""


def hist(lines, name, doc, buckets, obs, lab):
    lines.append(f"# HELP {name} {doc}")
    lines.append(f"# TYPE {name} histogram")
    for b in list(buckets) + [float("inf")]:
        c = sum(1 for o in obs if o <= b)
        lines.append(f"{name}_bucket{labels({**lab, 'le': fl(b)})} {fl(c)}")
    lines.append(f"{name}_count{labels(lab)} {fl(len(obs))}")
    lines.append(f"{name}_sum{labels(lab)} {fl(sum(obs))}")


def simple(lines, name, typ, doc, value, lab):
    lines.append(f"# HELP {name} {doc}")
    lines.append(f"# TYPE {name} {typ}")
    lines.append(f"{name}{labels(lab)} {fl(value)}")


def process_metrics(lines):
    lines += [
        "# HELP python_gc_objects_collected_total Objects collected during gc",
        "# TYPE python_gc_objects_collected_total counter",
        'python_gc_objects_collected_total{generation="0"} 12873.0',
        'python_gc_objects_collected_total{generation="1"} 3360.0',
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        "process_resident_memory_bytes 2.147012608e+09",
    ]


N = 200
ttft = [r(0.09, 0.5) for _ in range(N)]
itl = [r(0.012, 0.3) for _ in range(N * 20)]
e2e = [t + sum(itl[i * 20:(i + 1) * 20]) * 6 for i, t in enumerate(ttft)]
queue = [r(0.004, 0.9) for _ in range(N)]
prefill = [t - q if t > q else t * 0.5 for t, q in zip(ttft, queue)]
decode = [e - t for e, t in zip(e2e, ttft)]
infer = [p + d for p, d in zip(prefill, decode)]
TTFT_V0 = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
TPOT_V0 = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]
REQ_LAT = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0]

# vLLM 0.6 (V0 engine, vllm/engine/metrics.py): labels model_name only.
lab = {"model_name": "meta-llama/Llama-3.1-8B-Instruct"}
L = []
process_metrics(L)
L += ["# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig",
      "# TYPE vllm:cache_config_info gauge",
      'vllm:cache_config_info{block_size="16",cache_dtype="auto",cpu_offload_gb="0",enable_prefix_caching="False",gpu_memory_utilization="0.9",is_attention_free="False",num_cpu_blocks="2048",num_gpu_blocks="27035",num_gpu_blocks_override="None",sliding_window="None",swap_space_bytes="4294967296"} 1.0']
simple(L, "vllm:num_requests_running", "gauge", "Number of requests currently running on GPU.", 0, lab)
simple(L, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", 0, lab)
simple(L, "vllm:num_requests_swapped", "gauge", "Number of requests swapped to CPU.", 0, lab)
simple(L, "vllm:gpu_cache_usage_perc", "gauge", "GPU KV-cache usage. 1 means 100 percent usage.", 0.0327, lab)
simple(L, "vllm:cpu_cache_usage_perc", "gauge", "CPU KV-cache usage. 1 means 100 percent usage.", 0.0, lab)
simple(L, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", 3, lab)
simple(L, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", N * 512, lab)
simple(L, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", N * 128, lab)
hist(L, "vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
     [1, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 256, 512, 1024, 2048, 4096, 8192],
     [rng.choice([8, 16, 16, 32, 512, 2048]) for _ in range(N * 8)], lab)
hist(L, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_V0, ttft, lab)
hist(L, "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", TPOT_V0, itl, lab)
hist(L, "vllm:e2e_request_latency_seconds", "Histogram of end to end request latency in seconds.", REQ_LAT, e2e, lab)
hist(L, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", REQ_LAT, queue, lab)
hist(L, "vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", REQ_LAT, infer, lab)
hist(L, "vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", REQ_LAT, prefill, lab)
hist(L, "vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQ_LAT, decode, lab)
hist(L, "vllm:request_prompt_tokens", "Number of prefill tokens processed.", [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], [512] * N, lab)
hist(L, "vllm:request_generation_tokens", "Number of generation tokens processed.", [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000], [128] * N, lab)
L += ["# HELP vllm:request_success_total Count of successfully processed requests.",
      "# TYPE vllm:request_success_total counter",
      f'vllm:request_success_total{labels({**lab, "finished_reason": "length"})} {fl(N - 12)}',
      f'vllm:request_success_total{labels({**lab, "finished_reason": "stop"})} {fl(12)}']
simple(L, "vllm:avg_prompt_throughput_toks_per_s", "gauge", "Average prefill throughput in tokens/s.", 0.0, lab)
simple(L, "vllm:avg_generation_throughput_toks_per_s", "gauge", "Average generation throughput in tokens/s.", 0.0, lab)
with open("metrics_v0.6.prom", "w") as f:
    f.write("\n".join(L) + "\n")

# vLLM 0.11 (V1 engine, vllm/v1/metrics/loggers.py): labels engine and
# model_name, renamed families, two engines (data parallel 2).
TTFT_V1 = TTFT_V0 + [20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
TPOT_V1 = TPOT_V0 + [5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
REQ_V1 = REQ_LAT + [120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0]
L = []
process_metrics(L)


def per_engine(fn, name, typ, doc, values):
    L.append(f"# HELP {name} {doc}")
    L.append(f"# TYPE {name} {typ}")
    for e, v in enumerate(values):
        L.append(f"{name}{labels({'engine': str(e), 'model_name': 'Qwen/Qwen3-8B'})} {fl(v)}")


per_engine(None, "vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", [0, 0])
per_engine(None, "vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", [0, 0])
per_engine(None, "vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.", [0.021, 0.019])
per_engine(None, "vllm:prefix_cache_queries_total", "counter", "Prefix cache queries, in terms of number of queried tokens.", [51200, 51200])
per_engine(None, "vllm:prefix_cache_hits_total", "counter", "Prefix cache hits, in terms of number of cached tokens.", [20480, 18432])
per_engine(None, "vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.", [0, 1])
per_engine(None, "vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", [N // 2 * 512, N // 2 * 512])
per_engine(None, "vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", [N // 2 * 128, N // 2 * 128])
L += ["# HELP vllm:request_success_total Count of successfully processed requests.",
      "# TYPE vllm:request_success_total counter"]
for e in range(2):
    for reason, c in [("stop", 6), ("length", N // 2 - 6), ("abort", 0)]:
        L.append(f'vllm:request_success_total{labels({"engine": str(e), "finished_reason": reason, "model_name": "Qwen/Qwen3-8B"})} {fl(c)}')
for name, doc, b, obs in [
    ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_V1, ttft),
    ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", TPOT_V1, itl),
    ("vllm:request_time_per_output_token_seconds", "Histogram of time_per_output_token_seconds per request.", TPOT_V1,
     [(e_ - t) / 127 for e_, t in zip(e2e, ttft)]),
    ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQ_V1, e2e),
    ("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", REQ_V1, queue),
    ("vllm:request_inference_time_seconds", "Histogram of time spent in RUNNING phase for request.", REQ_V1, infer),
    ("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", REQ_V1, prefill),
    ("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQ_V1, decode),
]:
    L.append(f"# HELP {name} {doc}")
    L.append(f"# TYPE {name} histogram")
    for e in range(2):
        part = obs[e::2]
        lab = {"engine": str(e), "model_name": "Qwen/Qwen3-8B"}
        for bb in list(b) + [float("inf")]:
            L.append(f"{name}_bucket{labels({**lab, 'le': fl(bb)})} {fl(sum(1 for o in part if o <= bb))}")
        L.append(f"{name}_count{labels(lab)} {fl(len(part))}")
        L.append(f"{name}_sum{labels(lab)} {fl(sum(part))}")
with open("metrics_v0.11.prom", "w") as f:
    f.write("\n".join(L) + "\n")


# --- logs -----------------------------------------------------------------
# vLLM 0.6 (V0): vllm/logger.py format "%(levelname)s %(asctime)s
# %(filename)s:%(lineno)d] %(message)s", datefmt "%m-%d %H:%M:%S"; the stats
# line of vllm/engine/metrics.py LoggingStatLogger, the prefix-cache line and
# the scheduler's preemption warning (every 50th, with the running total).
def v0_stats(ts, p, g, run, sw, pend, gkv, ckv):
    return (f"INFO 11-20 {ts} metrics.py:351] Avg prompt throughput: {p:.1f} tokens/s, "
            f"Avg generation throughput: {g:.1f} tokens/s, Running: {run} reqs, Swapped: {sw} reqs, "
            f"Pending: {pend} reqs, GPU KV cache usage: {gkv:.1f}%, CPU KV cache usage: {ckv:.1f}%.")


lines = [
    "INFO 11-20 14:02:51 api_server.py:528] vLLM API server version 0.6.4.post1",
    "INFO 11-20 14:02:58 gpu_executor.py:122] # GPU blocks: 27035, # CPU blocks: 2048",
    "INFO 11-20 14:03:05 model_runner.py:1518] Graph capturing finished in 11 secs, took 0.31 GiB",
    "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    v0_stats("14:03:11", 0.0, 0.0, 0, 0, 0, 0.0, 0.0),
]
t = 21
for i in range(12):
    p = r(5120.0, 0.2) if i % 3 == 0 else r(410.0, 0.3)
    g = r(1650.0, 0.08)
    lines.append('INFO:     127.0.0.1:51234 - "POST /v1/completions HTTP/1.1" 200 OK')
    lines.append(v0_stats(f"14:03:{t:02d}", p, g, rng.randint(30, 40), 0, rng.randint(0, 6), r(61.0, 0.2), 0.0))
    lines.append(f"INFO 11-20 14:03:{t:02d} metrics.py:367] Prefix cache hit rate: GPU: {r(42.0, 0.1):.2f}%, CPU: 0.00%")
    if i == 6:
        lines.append("WARNING 11-20 14:03:%02d scheduler.py:1481] Sequence group cmpl-5b1c0ad1e1d34d3b9f8e0b3a2c3f1c2d-0 is "
                     "preempted by PreemptionMode.RECOMPUTE mode because there is not enough KV cache space. This can "
                     "affect the end-to-end performance. Increase gpu_memory_utilization or tensor_parallel_size to "
                     "provide more KV cache memory. total_num_cumulative_preemption=1" % t)
    t += 1 if t < 59 else 0
lines.append(v0_stats("14:03:40", 0.0, 0.0, 0, 0, 0, 0.0, 0.0))
with open("log_v0.6.txt", "w") as f:
    f.write("\n".join(lines) + "\n")

# vLLM 0.12 (V1): "(APIServer pid=N) " process prefix, "[file:line]", the
# stats line of vllm/v1/metrics/loggers.py with "Engine 000: " and the
# optional "Preemptions: %d", the MFU line of vllm/v1/metrics/perf.py and the
# CUDA-graph table of vllm/compilation/cuda_graph.py (CUDAGraphLogging),
# which logs as one multi-line message.
def v1_stats(ts, p, g, run, wait, pre, kv, hit):
    parts = [f"Avg prompt throughput: {p:.1f} tokens/s", f"Avg generation throughput: {g:.1f} tokens/s",
             f"Running: {run} reqs", f"Waiting: {wait} reqs"]
    if pre > 0:
        parts.append(f"Preemptions: {pre}")
    parts += [f"GPU KV cache usage: {kv:.1f}%", f"Prefix cache hit rate: {hit:.1f}%"]
    return f"(APIServer pid=81234) INFO 11-20 {ts} [loggers.py:248] Engine 000: " + ", ".join(parts)


def cg_table(rows):
    head = ["Unpadded Tokens", "Padded Tokens", "Num Paddings", "Runtime Mode", "Count"]
    srows = [[str(a), str(b), str(b - a), m, str(c)] for a, b, m, c in rows]
    w = [max(len(h), *(len(r_[i]) for r_ in srows)) for i, h in enumerate(head)]
    out = ["(APIServer pid=81234) INFO 11-20 14:03:%02d [cuda_graph.py:109] **CUDAGraph Config Settings:**" % t, "",
           "- Mode: CUDAGraphMode.FULL_AND_PIECEWISE",
           "- Capture sizes: [1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 144, 152, 160, 168, 176, 184, 192, 200, 208, 216, 224, 232, 240, 248, 256, 272, 288, 304, 320, 336, 352, 368, 384, 400, 416, 432, 448, 464, 480, 496, 512]",
           "", "**CUDAGraph Stats:**", "",
           "| " + " | ".join(h.ljust(x) for h, x in zip(head, w)) + " |",
           "|" + "|".join("-" * (x + 2) for x in w) + "|"]
    out += ["| " + " | ".join(v.ljust(x) for v, x in zip(r_, w)) + " |" for r_ in srows]
    return out


lines = [
    "(APIServer pid=81234) INFO 11-20 14:02:40 [api_server.py:1885] vLLM API server version 0.12.0",
    "(EngineCore_DP0 pid=81302) INFO 11-20 14:02:58 [gpu_model_runner.py:3480] Graph capturing finished in 9 secs, took 0.52 GiB",
    "(APIServer pid=81234) INFO:     Started server process [81234]",
]
t = 10
for i in range(10):
    p = r(4800.0, 0.2) if i % 2 == 0 else r(520.0, 0.3)
    g = r(2210.0, 0.08)
    lines.append('(APIServer pid=81234) INFO:     127.0.0.1:40112 - "POST /v1/completions HTTP/1.1" 200 OK')
    lines.append(v1_stats(f"14:03:{t:02d}", p, g, rng.randint(28, 36), rng.randint(0, 4), 2 if i == 4 else 0,
                          r(48.0, 0.2), r(38.0, 0.1)))
    lines.append(f"(APIServer pid=81234) INFO 11-20 14:03:{t:02d} [perf.py:1212] Engine 000: MFU: {r(310.0, 0.1):.1f} TF/s/GPU {r(2900.0, 0.1):.1f} GB/s/GPU")
    if i in (3, 8):
        lines += cg_table([(32, 32, "FULL", 118), (30, 32, "FULL", 64), (17, 24, "FULL", 21), (600, 600, "NONE", 9),
                           (517, 520, "PIECEWISE", 12)])
    t += 10 if t < 50 else 0
lines.append(v1_stats("14:04:00", 0.0, 0.0, 0, 0, 0, 0.0, 38.0))
with open("log_v0.12.txt", "w") as f:
    f.write("\n".join(lines) + "\n")

# gate's own user-metrics JSON (DESIGN.md "extra").
with open("user_metrics.json", "w") as f:
    json.dump({"metrics": [
        {"name": "bench.tokens_per_s", "value": 4177.3, "unit": "tok/s", "better": "higher"},
        {"name": "bench.prefill_ms_median", "value": 48.91, "unit": "ms", "better": "lower",
         "samples": [48.2, 48.91, 49.3]},
    ]}, f, indent=2)
