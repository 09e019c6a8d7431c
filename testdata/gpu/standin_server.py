"""A vLLM stand-in that does real GPU work per request, for `gate profile --server` on a GPU
machine without vLLM.

It speaks the endpoints gate's server mode uses, as vLLM's OpenAI-compatible server does:
GET /health (503 while the model loads, then 200), GET /v1/models, POST /v1/completions (plain,
and streamed as server-sent events with a final usage chunk), GET /metrics (vLLM V1 Prometheus
names), POST /start_profile and /stop_profile (cudaProfilerStart/Stop, so that
`nsys --capture-range=cudaProfilerApi` records only the load), and prints vLLM's periodic
statistics line. Each request runs on the GPU: one prefill of its prompt through the model of
llm_workload.py (NVTX range "prefill"), then one decode step per output token (range "decode",
a CUDA-graph replay by default), with the KV cache of that model. Requests take the GPU one at a
time; the rest wait, as in a server with batch size 1. Standard library plus PyTorch only.

    python3 standin_server.py --port 8000 [--workload .gpu/llm_workload.py] [--graphs none]

On the H200 (the lead's device script), from the repository root with .gpu/ holding
../shared/device and the gate binary:

    NSYS=$(bash .gpu/nsys-setup.sh | tail -1)
    .gpu/gate profile --server --nsys "$NSYS" --out "$OUT/server" \
        --requests 24 --concurrency 4 --prompt-tokens 256 --output-tokens 48 --seed 1 \
        -- python3 testdata/gpu/standin_server.py --port 8000 --workload .gpu/llm_workload.py
"""
import argparse
import importlib.util
import json
import os
import signal
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import torch


def load_workload(path):
    spec = importlib.util.spec_from_file_location("llm_workload", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Hist:
    """A Prometheus histogram as prometheus_client writes it."""

    def __init__(self, name, doc, buckets):
        self.name, self.doc, self.buckets = name, doc, buckets
        self.counts = [0] * len(buckets)
        self.n, self.sum = 0, 0.0

    def observe(self, v):
        self.n += 1
        self.sum += v
        for i, b in enumerate(self.buckets):
            if v <= b:
                self.counts[i] += 1

    def text(self, labels):
        out = [f"# HELP {self.name} {self.doc}", f"# TYPE {self.name} histogram"]
        for b, c in zip(self.buckets, self.counts):
            out.append(f'{self.name}_bucket{{engine="0",le="{float(b)!r}",model_name="standin"}} {float(c)!r}')
        out.append(f'{self.name}_bucket{{engine="0",le="+Inf",model_name="standin"}} {float(self.n)!r}')
        out.append(f"{self.name}_count{{{labels}}} {float(self.n)!r}")
        out.append(f"{self.name}_sum{{{labels}}} {float(self.sum)!r}")
        return out


TTFT_B = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
          80.0, 160.0, 640.0, 2560.0]
ITL_B = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]
REQ_B = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
         960.0, 1920.0, 7680.0]
LABELS = 'engine="0",model_name="standin"'


def sdpa_reference(q, k, v, attn_mask=None, is_causal=False):
    """Plain attention, for CPU dry runs on a PyTorch without F.scaled_dot_product_attention."""
    s = (q.float() @ k.float().transpose(-2, -1)) / (q.shape[-1] ** 0.5)
    if is_causal:
        L, S = q.shape[-2], k.shape[-2]
        s = s.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(S - L + 1), float("-inf"))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float("-inf"))
    return (torch.softmax(s, -1) @ v.float()).to(q.dtype)


class Engine:
    """The model, its KV cache and decode graph, and the server's statistics."""

    def __init__(self, args):
        self.args = args
        self.ready = False
        self.gpu = threading.Lock()  # one request on the GPU at a time
        self.stats = threading.Lock()
        self.running = self.waiting = 0
        self.prompt_tokens = self.gen_tokens = 0
        self.interval_prompt = self.interval_gen = 0
        self.success = 0
        self.preemptions = 0
        self.h = {k: Hist(*v) for k, v in {
            "ttft": ("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TTFT_B),
            "itl": ("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ITL_B),
            "e2e": ("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", REQ_B),
            "queue": ("vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.", REQ_B),
            "prefill": ("vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.", REQ_B),
            "decode": ("vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.", REQ_B),
        }.items()}

    def load(self):
        a = self.args
        wl = load_workload(a.workload)
        if a.device == "cpu" and not hasattr(wl.F, "scaled_dot_product_attention"):
            wl.F.scaled_dot_product_attention = sdpa_reference  # dry runs on PyTorch < 2.0
        self.nvtx = torch.cuda.nvtx if a.device == "cuda" else None
        ns = argparse.Namespace(layers=a.layers, d_model=a.d_model, d_ff=a.d_ff, heads=a.heads, vocab=a.vocab,
                                experts=0, topk=2, batch=1, prompt=a.max_prompt, steps=a.max_output, dtype="bf16",
                                graphs=a.graphs, regress="none", names="plain", extra_ops=0, layer_ranges=False,
                                seed=a.seed, json="")
        dev = torch.device(a.device)
        torch.manual_seed(a.seed)
        self.m = wl.Model(ns, dev)
        S = a.max_prompt + a.max_output
        self.tok = torch.zeros(1, 1, dtype=torch.long, device=dev)
        self.pos = torch.zeros(1, dtype=torch.long, device=dev)
        self.mask = torch.zeros(1, 1, 1, S, dtype=torch.bool, device=dev)
        self.graph, self.out = None, None
        with torch.no_grad():
            ids = torch.randint(0, a.vocab, (1, a.max_prompt), device=dev)
            self.m.forward(ids, self.pos, True, None)
            self.mask.zero_()
            self.mask[..., : a.max_prompt + 1] = True
            self.pos.fill_(a.max_prompt)
            self.decode_once()
            if a.graphs == "decode" and a.device == "cuda":
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        self.decode_once()
                torch.cuda.current_stream().wait_stream(s)
                self.graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(self.graph):
                    self.out = self.decode_once()
            if a.device == "cuda":
                torch.cuda.synchronize()
        self.ready = True
        print(f"INFO standin_server: model ready on {a.device} (graphs: {a.graphs})", flush=True)

    def decode_once(self):
        return self.m.forward(self.tok, self.pos, False, self.mask)

    def push(self, name):
        if self.nvtx:
            self.nvtx.range_push(name)

    def pop(self):
        if self.nvtx:
            self.nvtx.range_pop()

    def tokens(self, prompt):
        ids = [zlib.crc32(w.encode()) % self.args.vocab for w in prompt.split()][: self.args.max_prompt]
        return ids or [0]

    def generate(self, prompt, max_tokens, emit):
        """Runs one request; emit(text) is called per generated token."""
        a = self.args
        max_tokens = max(1, min(max_tokens, a.max_output))
        ids = self.tokens(prompt)
        T = len(ids)
        t_arrive = time.perf_counter()
        with self.stats:
            self.waiting += 1
        with self.gpu:
            t_start = time.perf_counter()
            with self.stats:
                self.waiting -= 1
                self.running += 1
            try:
                itls = []
                with torch.no_grad():
                    self.push("prefill")
                    x = torch.tensor([ids], dtype=torch.long, device=a.device)
                    nxt = self.m.forward(x, self.pos, True, None)
                    first = int(nxt.reshape(-1)[0].item())
                    self.pop()
                    t_first = time.perf_counter()
                    emit(f" t{first}")
                    last = t_first
                    self.tok.copy_(nxt.reshape(1, 1))
                    for i in range(max_tokens - 1):
                        self.push("decode")
                        p = T + i
                        self.pos.fill_(p)
                        self.mask.zero_()
                        self.mask[..., : p + 1] = True
                        if self.graph is not None:
                            self.graph.replay()
                            nxt = self.out
                        else:
                            nxt = self.decode_once()
                        self.tok.copy_(nxt.reshape(1, 1))
                        t = int(nxt.reshape(-1)[0].item())
                        self.pop()
                        now = time.perf_counter()
                        itls.append(now - last)
                        last = now
                        emit(f" t{t}")
            finally:
                with self.stats:
                    self.running -= 1
        t_end = time.perf_counter()
        with self.stats:
            self.prompt_tokens += T
            self.gen_tokens += max_tokens
            self.interval_prompt += T
            self.interval_gen += max_tokens
            self.success += 1
            self.h["ttft"].observe(t_first - t_arrive)
            for v in itls:
                self.h["itl"].observe(v)
            self.h["e2e"].observe(t_end - t_arrive)
            self.h["queue"].observe(t_start - t_arrive)
            self.h["prefill"].observe(t_first - t_start)
            self.h["decode"].observe(t_end - t_first)
        return T, max_tokens

    def metrics(self):
        with self.stats:
            out = []

            def simple(name, typ, doc, v):
                out.extend([f"# HELP {name} {doc}", f"# TYPE {name} {typ}", f"{name}{{{LABELS}}} {float(v)!r}"])

            simple("vllm:num_requests_running", "gauge", "Number of requests in model execution batches.", self.running)
            simple("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", self.waiting)
            S = self.args.max_prompt + self.args.max_output
            simple("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage.",
                   self.running * 1.0 / max(1, S))
            simple("vllm:num_preemptions_total", "counter", "Cumulative number of preemption from the engine.",
                   self.preemptions)
            simple("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", self.prompt_tokens)
            simple("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", self.gen_tokens)
            out += ["# HELP vllm:request_success_total Count of successfully processed requests.",
                    "# TYPE vllm:request_success_total counter",
                    f'vllm:request_success_total{{engine="0",finished_reason="length",model_name="standin"}} {float(self.success)!r}']
            for h in self.h.values():
                out += h.text(LABELS)
            return "\n".join(out) + "\n"

    def log_loop(self, stop):
        last = time.monotonic()
        while not stop.wait(self.args.log_interval):
            now = time.monotonic()
            dt = now - last
            last = now
            with self.stats:
                p, g = self.interval_prompt / dt, self.interval_gen / dt
                self.interval_prompt = self.interval_gen = 0
                run, wait = self.running, self.waiting
            if p == 0 and g == 0 and run == 0 and wait == 0:
                continue  # vLLM logs idle intervals at debug level only
            kv = 100.0 * run / max(1, self.args.max_prompt + self.args.max_output)
            print(f"INFO {time.strftime('%m-%d %H:%M:%S')} [loggers.py:248] Engine 000: Avg prompt throughput: "
                  f"{p:.1f} tokens/s, Avg generation throughput: {g:.1f} tokens/s, Running: {run} reqs, "
                  f"Waiting: {wait} reqs, GPU KV cache usage: {kv:.1f}%, Prefix cache hit rate: 0.0%", flush=True)


def handler_for(engine):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            pass

        def send(self, code, body, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self.send(200 if engine.ready else 503, "" if engine.ready else "loading")
            elif self.path == "/v1/models":
                self.send(200, json.dumps({"object": "list", "data": [{"id": "standin", "object": "model"}]}))
            elif self.path == "/metrics":
                self.send(200, engine.metrics(), "text/plain; version=0.0.4; charset=utf-8")
            else:
                self.send(404, '{"error":"not found"}')

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.path in ("/start_profile", "/stop_profile"):
                with engine.gpu:
                    if engine.args.device == "cuda":
                        torch.cuda.synchronize()
                        (torch.cuda.profiler.start if self.path == "/start_profile" else torch.cuda.profiler.stop)()
                print(f"INFO standin_server: {self.path[1:]}", flush=True)
                self.send(200, "")
                return
            if self.path != "/v1/completions":
                self.send(404, '{"error":"not found"}')
                return
            if not engine.ready:
                self.send(503, '{"error":"loading"}')
                return
            try:
                req = json.loads(body or b"{}")
                prompt, max_tokens = str(req.get("prompt", "")), int(req.get("max_tokens", 16))
            except (ValueError, TypeError) as e:
                self.send(400, json.dumps({"error": str(e)}))
                return
            model = req.get("model", "standin")
            if req.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()

                def emit(text):
                    chunk = {"object": "text_completion", "model": model,
                             "choices": [{"index": 0, "text": text, "finish_reason": None}]}
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()

                T, n_out = engine.generate(prompt, max_tokens, emit)
                usage = {"prompt_tokens": T, "completion_tokens": n_out, "total_tokens": T + n_out}
                final = {"object": "text_completion", "model": model,
                         "choices": [{"index": 0, "text": "", "finish_reason": "length"}], "usage": usage}
                self.wfile.write(b"data: " + json.dumps(final).encode() + b"\n\ndata: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True
            else:
                parts = []
                T, n_out = engine.generate(prompt, max_tokens, parts.append)
                self.send(200, json.dumps({"object": "text_completion", "model": model,
                                           "choices": [{"index": 0, "text": "".join(parts), "finish_reason": "length"}],
                                           "usage": {"prompt_tokens": T, "completion_tokens": n_out,
                                                     "total_tokens": T + n_out}}))

    return Handler


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_wl = next((p for p in [".gpu/llm_workload.py", os.path.join(here, "../../.gpu/llm_workload.py"),
                                   "/work/shared/device/llm_workload.py"] if os.path.exists(p)), "llm_workload.py")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workload", default=default_wl, help="path of llm_workload.py (its Model is used)")
    p.add_argument("--device", default="cuda", help="cuda; cpu only for a dry run of the HTTP side")
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--d-model", type=int, default=2048)
    p.add_argument("--d-ff", type=int, default=5632)
    p.add_argument("--heads", type=int, default=16)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--max-prompt", type=int, default=512)
    p.add_argument("--max-output", type=int, default=128)
    p.add_argument("--graphs", default="decode", choices=["none", "decode"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-interval", type=float, default=1.0)
    args = p.parse_args()

    engine = Engine(args)
    srv = ThreadingHTTPServer((args.host, args.port), handler_for(engine))
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print(f"INFO standin_server: listening on http://{args.host}:{args.port}, loading the model", flush=True)

    stop = threading.Event()

    def on_signal(sig, _frame):
        print(f"INFO standin_server: signal {sig}, shutting down", flush=True)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    threading.Thread(target=engine.log_loop, args=(stop,), daemon=True).start()
    engine.load()
    while not stop.wait(0.5):
        pass
    srv.shutdown()
    print("INFO standin_server: stopped", flush=True)


if __name__ == "__main__":
    main()
