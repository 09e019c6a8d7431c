"""A Hugging Face transformers generate() with no NVTX: a workload gate has
never seen (random-init Llama, fp16), to check step inference and judgement
on kernels other than llm_workload.py's."""
import argparse, json, time
import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

ap = argparse.ArgumentParser()
ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"])
ap.add_argument("--layers", type=int, default=12)
ap.add_argument("--new", type=int, default=48)
ap.add_argument("--prompt", type=int, default=256)
ap.add_argument("--batch", type=int, default=2)
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--model", default="llama", choices=["llama", "gpt2"])
ap.add_argument("--static", action="store_true", help="static KV cache (transformers compiles decode into CUDA graphs)")
ap.add_argument("--nvtx", action="store_true", help="an NVTX range prefill/decode around each model forward")
a = ap.parse_args()
torch.manual_seed(0)
if a.model == "llama":
    cfg = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=a.layers,
                      num_attention_heads=16, num_key_value_heads=16, vocab_size=32000,
                      max_position_embeddings=2048, attn_implementation=a.attn)
    m = LlamaForCausalLM(cfg)
else:
    cfg = GPT2Config(n_embd=1024, n_layer=a.layers, n_head=16, vocab_size=32000, n_positions=2048,
                     attn_implementation=a.attn)
    m = GPT2LMHeadModel(cfg)
m = m.to("cuda", torch.float16).eval()
if a.static:
    m.generation_config.cache_implementation = "static"
if a.nvtx:
    def pre(mod, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        torch.cuda.nvtx.range_push("prefill" if ids is not None and ids.shape[1] > 1 else "decode")
    m.register_forward_pre_hook(pre, with_kwargs=True)
    def post(mod, args, out):
        torch.cuda.nvtx.range_pop()  # returning None keeps the output
    m.register_forward_hook(post)
ids = torch.randint(0, 32000, (a.batch, a.prompt), device="cuda")
kw = dict(max_new_tokens=a.new, min_new_tokens=a.new, do_sample=False, pad_token_id=0, eos_token_id=None)
with torch.inference_mode():
    m.generate(ids, **kw)  # warm-up
    torch.cuda.synchronize()
    t = time.time()
    for _ in range(a.runs):
        out = m.generate(ids, **kw)
    torch.cuda.synchronize()
print(json.dumps({"attn": a.attn, "tokens": out.shape[1] - a.prompt, "seconds": time.time() - t}))
