#!/usr/bin/env python3
"""PyTorch eager baseline for bench/throughput.sh and bench/gpu.sh.

What a HuggingFace user would write to count active FFN neurons: load the checkpoint, register a forward hook on
every layer's ReLU that adds (act > 0).sum(dim=(0, 1)) to a per-layer count, and run the whole model (every layer and
the LM head) under torch.inference_mode(). With transformers importable it is transformers' OPTForCausalLM; otherwise
OPT's decoder written out in plain torch below (modeling_opt.py's computation and parameter names, pre-LN OPTs only).

Reads the snapshot the C# side wrote (config.json + model.safetensors) and the same token ids; writes one JSON object
(--out) with the median time per dtype. --make-checkpoint writes such a snapshot when no .NET is there to do it.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
SAFETENSORS = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64}


def read_safetensors(path):
    """name -> tensor, by hand (u64 header length, JSON header, raw little-endian bytes): no safetensors package needed."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())   # writable, so torch.frombuffer shares it without a warning
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = SAFETENSORS[meta["dtype"]]
        t = torch.frombuffer(data, dtype=dtype, count=(end - start) // torch.tensor([], dtype=dtype).element_size(), offset=start)
        tensors[name] = t.reshape(meta["shape"])
    return tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    names = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}
    for name in sorted(tensors):
        t = tensors[name].contiguous().cpu()
        blob = t.view(torch.int16 if t.element_size() == 2 else torch.int32).numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    temp = f"{path}.{os.getpid()}.tmp"   # renamed into place once whole: a killed run never leaves half a checkpoint
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(temp, path)


# ---- OPT in plain torch (used when transformers is not importable) --------------------------------------------------

class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, additive_mask, causal_only):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, self.head_dim).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):   # torch >= 2.0: what transformers' default "sdpa" runs
            q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
            if causal_only:
                context = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=additive_mask.to(q.dtype))
        else:   # transformers' "eager" OPT attention
            q, k, v = split(self.q_proj(x) * self.scaling), split(self.k_proj(x)), split(self.v_proj(x))
            scores = q @ k.transpose(2, 3) + additive_mask.to(q.dtype)
            probs = scores.softmax(-1, dtype=torch.float32).to(q.dtype) if q.dtype == torch.float16 else scores.softmax(-1)
            context = probs @ v
        return self.out_proj(context.transpose(1, 2).reshape(b, t, d))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn = Attention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, ffn), nn.Linear(ffn, d)
        self.activation_fn = nn.ReLU()   # its own module, as in transformers: the hook point
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, x, additive_mask, causal_only):
        h = x + self.self_attn(self.self_attn_layer_norm(x), additive_mask, causal_only)
        return h + self.fc2(self.activation_fn(self.fc1(self.final_layer_norm(h))))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.embed_tokens = nn.Embedding(c["vocab_size"], d, padding_idx=c.get("pad_token_id", 1))
        self.embed_positions = nn.Embedding(c["max_position_embeddings"] + 2, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.layers = nn.ModuleList(DecoderLayer(d, c["num_attention_heads"], c["ffn_dim"]) for _ in range(c["num_hidden_layers"]))

    def forward(self, ids, mask):
        positions = (mask.cumsum(1) * mask - 1) + 2            # OPT's learned positions: pads read row 1
        x = self.embed_tokens(ids) + self.embed_positions(positions)
        t = ids.shape[1]
        causal_only = bool(mask.all())
        allowed = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()[None, None] & mask.bool()[:, None, None, :]
        additive = torch.zeros(allowed.shape, device=ids.device).masked_fill(~allowed, torch.finfo(torch.float32).min)
        for layer in self.layers:
            x = layer(x, additive, causal_only)
        return self.final_layer_norm(x)


class Wrapper(nn.Module):
    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder


class PlainOPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = Wrapper(Decoder(c))
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.model.decoder.embed_tokens.weight   # tied, as in every OPT

    def forward(self, input_ids, attention_mask):
        return self.lm_head(self.model.decoder(input_ids, attention_mask))


def load_model(snapshot, dtype, device, impl):
    """(model, its decoder layers, description), on device in dtype, in eval mode."""
    with open(os.path.join(snapshot, "config.json")) as f:
        config = json.load(f)
    if impl in ("auto", "transformers"):
        try:
            import transformers
            from transformers import OPTForCausalLM
            try:
                model = OPTForCausalLM.from_pretrained(snapshot, dtype=dtype)
            except TypeError:
                model = OPTForCausalLM.from_pretrained(snapshot, torch_dtype=dtype)
            attention = getattr(model.config, "_attn_implementation", "?")
            model = model.to(device=device, dtype=dtype).eval()   # older releases take dtype= as a config field
            return model, model.model.decoder.layers, f"transformers {transformers.__version__} OPTForCausalLM, attention {attention}"
        except Exception as e:   # not installed, or refused the snapshot: fall back, and say so
            if impl == "transformers":
                raise
            reason = f"transformers unavailable ({type(e).__name__}: {str(e).splitlines()[0][:80] if str(e) else ''})"
    else:
        reason = "plain torch requested"
    if not config.get("do_layer_norm_before", True) or config.get("word_embed_proj_dim") not in (None, config["hidden_size"]):
        sys.exit("the plain-torch OPT here covers pre-LN models without projections (not 350m)")
    model = PlainOPT(config)
    state = read_safetensors(os.path.join(snapshot, "model.safetensors"))
    missing, unexpected = model.load_state_dict(state, strict=False)
    if [m for m in missing if m != "lm_head.weight"] or unexpected:
        sys.exit(f"checkpoint does not match: missing {missing}, unexpected {unexpected}")
    del state
    model = model.to(device=device, dtype=dtype).eval()
    attention = "sdpa" if hasattr(F, "scaled_dot_product_attention") else "eager"
    return model, model.model.decoder.layers, f"plain torch OPT ({reason}), attention {attention}"


def attach_counters(layers, counts):
    """A forward hook on each layer's ReLU module adding the per-neuron count of active (token) positions."""
    handles, modules = [], set()
    for i, layer in enumerate(layers):
        if id(layer.activation_fn) in modules:   # one ReLU shared by layers would count twice: give each its own
            layer.activation_fn = nn.ReLU()
        modules.add(id(layer.activation_fn))
        handles.append(layer.activation_fn.register_forward_hook(counter(counts[i])))
    return handles


def counter(count):
    def hook(module, inputs, out):
        # [B, T, F], or [B·T, F] where the layer flattens tokens first (transformers 5 OPT): count over all but F
        count.add_((out > 0).reshape(-1, out.shape[-1]).sum(0))   # returns None: a hook's return value would replace the output
    return hook


def gemm_peak(c, m, dtype, device, repeats):
    """The same GEMM mix as the C# side: 4 × (M×d·d×d), M×d·d×F, M×F·F×d, via F.linear; total FLOPs / total time."""
    d, f = c["hidden_size"], c["ffn_dim"]
    flops = seconds = 0.0
    with torch.inference_mode():
        for inputs, outputs, count in ((d, d, 4), (d, f, 1), (f, d, 1)):
            x, w = torch.randn(m, inputs, device=device, dtype=dtype), torch.randn(outputs, inputs, device=device, dtype=dtype)
            F.linear(x, w)
            sync(device)
            probe = time.perf_counter()
            F.linear(x, w)
            sync(device)
            calls = int(min(1000, max(1, 0.1 / max(time.perf_counter() - probe, 1e-6))))
            times = []
            for _ in range(max(3, repeats)):
                start = time.perf_counter()
                for _ in range(calls):
                    F.linear(x, w)
                sync(device)
                times.append((time.perf_counter() - start) / calls)
            flops += count * 2.0 * m * inputs * outputs
            seconds += count * statistics.median(times)
    return flops / seconds


def projected_seconds(c, t, runs, tokens, dtype, device):
    """How long the timed runs would take, from one F.linear of fc1's shape on 64 rows: every layer's and the LM head's
    FLOPs at that rate. Quick even where a dtype has no fast kernel (PyTorch 1.13's bfloat16 GEMM on a CPU without
    AVX-512 runs at about 1 GFLOP/s), and an overestimate where it has one, since 64 rows keep a GEMM below its peak."""
    d, f = c["hidden_size"], c["ffn_dim"]
    x, w = torch.randn(64, d, device=device, dtype=dtype), torch.randn(f, d, device=device, dtype=dtype)
    with torch.inference_mode():
        F.linear(x, w)
        sync(device)
        start = time.perf_counter()
        F.linear(x, w)
        sync(device)
    rate = 2.0 * 64 * d * f / max(time.perf_counter() - start, 1e-9)
    work = c["num_hidden_layers"] * layer_flops(d, f, t) + 2.0 * d * c["vocab_size"]
    return runs * tokens * work / rate, rate


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_checkpoint(args):
    """A snapshot of the shape the C# prepare step writes (OPT init, fc1 bias for ~density active), from torch's RNG."""
    c = {"model_type": "opt", "vocab_size": 50272, "hidden_size": args.hidden, "num_hidden_layers": args.layers,
         "ffn_dim": args.ffn, "num_attention_heads": args.heads, "max_position_embeddings": 2048,
         "do_layer_norm_before": True, "activation_function": "relu", "enable_bias": True, "pad_token_id": 1,
         "bos_token_id": 2, "eos_token_id": 2, "tie_word_embeddings": True, "torch_dtype": args.storage,
         "word_embed_proj_dim": args.hidden}
    g = torch.Generator().manual_seed(args.seed)
    std, d = 0.02, args.hidden
    shift = std * math.sqrt(d) * math.sqrt(2) * torch.erfinv(torch.tensor(2 * args.density - 1.0)).item()
    dtype = DTYPES[args.storage]
    w = {}
    def normal(*shape):
        return (torch.randn(*shape, generator=g) * std).to(dtype)
    p = "model.decoder."
    w[p + "embed_tokens.weight"] = normal(50272, d)
    w[p + "embed_positions.weight"] = normal(2050, d)
    w[p + "final_layer_norm.weight"], w[p + "final_layer_norm.bias"] = torch.ones(d, dtype=dtype), torch.zeros(d, dtype=dtype)
    for i in range(args.layers):
        q = f"{p}layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[q + f"self_attn.{proj}.weight"], w[q + f"self_attn.{proj}.bias"] = normal(d, d), torch.zeros(d, dtype=dtype)
        for norm in ("self_attn_layer_norm", "final_layer_norm"):
            w[q + norm + ".weight"], w[q + norm + ".bias"] = torch.ones(d, dtype=dtype), torch.zeros(d, dtype=dtype)
        w[q + "fc1.weight"], w[q + "fc1.bias"] = normal(args.ffn, d), torch.full((args.ffn,), shift, dtype=dtype)
        w[q + "fc2.weight"], w[q + "fc2.bias"] = normal(d, args.ffn), torch.zeros(d, dtype=dtype)
    os.makedirs(args.model, exist_ok=True)
    with open(os.path.join(args.model, "config.json"), "w") as f:
        json.dump(c, f)
    write_safetensors(os.path.join(args.model, "model.safetensors"), w)   # last: its presence means the snapshot is whole
    if not os.path.exists(args.ids):
        ids = torch.randint(3, 50265, (args.sequences, args.length), generator=g)
        ids[:, 0] = 2
        os.makedirs(os.path.dirname(os.path.abspath(args.ids)), exist_ok=True)
        with open(args.ids, "w") as f:
            json.dump({"input_ids": ids.tolist()}, f)
    print(f"pytorch_baseline: wrote {args.model} and {args.ids} with torch's RNG (seed {args.seed})", file=sys.stderr)


def layer_flops(d, f, t):
    """FLOPs per token of one layer, as the C# report counts them: 2 per weight of the six matrices + 4·T·d attention."""
    return 2.0 * (4 * d * d + 2 * d * f) + 4.0 * t * d


def summarize(result, c, t, project):
    """This side's rates and share of its own GEMM peak; with project, OPT-66b's time at the same FLOP rate."""
    d, v = c["hidden_size"], c["vocab_size"]
    work = c["num_hidden_layers"] * layer_flops(d, c["ffn_dim"], t) + 2.0 * d * v   # every layer + the LM head
    work66 = 64 * layer_flops(9216, 36864, t) + 2.0 * 9216 * v
    for name, row in result["rows"].items():
        if "median_s" not in row:
            continue
        rate = result["tokens"] / row["median_s"]
        line = f"PyTorch eager + hook, {name}: {rate:,.1f} tokens/s, {rate * work / row['gemm_peak_flops']:.0%} of its GEMM peak"
        if project:
            hours = project / rate * work66 / work / 3600
            line += (f"; OPT-66b over {project:,.0f} tokens of length {t}: {hours:.1f} h "
                     f"(per-token FLOPs x{work66 / work:.1f}, assuming 66b runs at this FLOP rate; weights streamed from host not counted)")
        print(line, file=sys.stderr)


def blas_description():
    line = next((l for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l), "")
    info = next((p.split("=")[1] for p in line.replace(",", " ").split() if p.startswith("BLAS_INFO=")), "?")
    if info == "generic" and os.path.exists("/usr/lib/x86_64-linux-gnu/libblas.so.3"):
        info += " -> " + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    return info


def main():
    a = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("--model", required=True, help="snapshot folder: config.json + model.safetensors")
    a.add_argument("--ids", required=True, help='JSON {"input_ids": [[...]]}, all of one length')
    a.add_argument("--out", help="write the results here as JSON")
    a.add_argument("--device", default="cpu")
    a.add_argument("--dtypes", default="float32,bfloat16")
    a.add_argument("--batch", type=int, default=8)
    a.add_argument("--threads", type=int, default=0, help="torch threads (0: every core)")
    a.add_argument("--repeats", type=int, default=5)
    a.add_argument("--warmup", type=int, default=1)
    a.add_argument("--impl", choices=("auto", "transformers", "plain"), default="auto")
    a.add_argument("--make-checkpoint", action="store_true", help="write --model and --ids when missing, then exit")
    a.add_argument("--project", type=float, help="also print the projected time of OPT-66b over this many tokens")
    a.add_argument("--budget", type=float, default=float(os.environ.get("BENCH_BASELINE_BUDGET", 900)),
                   help="skip a dtype whose timed runs would take longer than this many seconds "
                        "(default $BENCH_BASELINE_BUDGET or 900)")
    for name, default in (("layers", 12), ("hidden", 768), ("heads", 12), ("ffn", 3072), ("sequences", 8), ("length", 512), ("seed", 1)):
        a.add_argument("--" + name, type=int, default=default)
    a.add_argument("--density", type=float, default=0.05)
    a.add_argument("--storage", default="float32", choices=tuple(DTYPES))
    args = a.parse_args()
    if args.make_checkpoint:
        if not os.path.exists(os.path.join(args.model, "model.safetensors")):
            make_checkpoint(args)
        return

    torch.set_num_threads(args.threads if args.threads > 0 else os.cpu_count())
    device = torch.device(args.device)
    with open(args.ids) as f:
        ids_all = torch.tensor(json.load(f)["input_ids"], dtype=torch.long)
    batches = [ids_all[i:i + args.batch] for i in range(0, len(ids_all), args.batch)]
    tokens = ids_all.numel()
    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
              "blas": blas_description() if device.type == "cpu" else f"cuBLAS (CUDA {torch.version.cuda})",
              "tokens": tokens, "rows": {}}
    for name in args.dtypes.split(","):
        try:
            dtype = DTYPES[name]
            runs = args.warmup + args.repeats
            estimate, rate = projected_seconds(config, ids_all.shape[1], runs, tokens, dtype, device)
            if estimate > args.budget:
                why = (f"not run: its GEMM runs at {rate / 1e9:.1f} GFLOP/s here (F.linear, 64 rows of fc1's shape), so "
                       f"{runs} runs of {tokens:,} tokens would take about {estimate / 60:,.0f} min, over the "
                       f"{args.budget:,.0f} s budget (--budget, BENCH_BASELINE_BUDGET)")
                result["rows"][name] = {"error": why}
                print(f"pytorch_baseline: {name}: {why}", file=sys.stderr)
                continue
            model, layers, impl = load_model(args.model, dtype, device, args.impl)
            result["impl"] = impl
            counts = [torch.zeros(config["ffn_dim"], dtype=torch.long, device=device) for _ in layers]
            handles = attach_counters(layers, counts)
            placed = [(b.to(device), torch.ones_like(b).to(device)) for b in batches]
            times = []
            with torch.inference_mode():
                for i in range(args.warmup + args.repeats):
                    sync(device)
                    start = time.perf_counter()
                    for ids, mask in placed:
                        model(input_ids=ids, attention_mask=mask)   # logits of every position, as a plain call gives
                    sync(device)
                    if i >= args.warmup:
                        times.append(time.perf_counter() - start)
            for h in handles:
                h.remove()
            active = sum(int(c.sum()) for c in counts)
            result["rows"][name] = {
                "seconds": times, "median_s": statistics.median(times),
                "density": active / (runs * tokens * len(layers) * config["ffn_dim"]),
                "gemm_peak_flops": gemm_peak(config, args.batch * ids_all.shape[1], dtype, device, args.repeats),
            }
            print(f"pytorch_baseline: {name}: {tokens / statistics.median(times):,.1f} tokens/s ({impl})", file=sys.stderr)
            del model, placed
            if device.type == "cuda":
                torch.cuda.empty_cache()
        except Exception as e:   # one dtype failing (bf16 on an old CPU build, say) leaves the others
            result["rows"][name] = {"error": f"{type(e).__name__}: {e}"}
            print(f"pytorch_baseline: {name} failed: {type(e).__name__}: {e}", file=sys.stderr)
            traceback.print_exc()
    result.setdefault("impl", "?")
    summarize(result, config, ids_all.shape[1], args.project)
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
