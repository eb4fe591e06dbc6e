#!/usr/bin/env python3
"""Writes the reference fixtures of the OPT variants that opt-tiny-pre-ln does not cover.

opt-tiny-pre-ln (copied from the shared fixtures) is a pre-LN model with biases, tied head and float32 weights. The
variants here exercise every other switch a real OPT checkpoint sets, each in the storage layout real ones use:

  opt-tiny-post-ln  OPT-350m's arrangement: LayerNorm after each block, no decoder final norm, word_embed_proj_dim
                    (16) below hidden_size (32) so project_in / project_out exist; keys stored as "decoder.*" with
                    no lm_head, as the hub's opt-350m files are; pytorch_model.bin and model.safetensors.
  opt-tiny-no-bias  enable_bias = false and layer_norm_elementwise_affine = false (no biases, no LayerNorm
                    parameters); float16 storage ("torch_dtype": "float16"); a sharded pytorch_model.bin and
                    model.safetensors.
  opt-tiny-untied   tie_word_embeddings = false with its own lm_head, _remove_final_layer_norm = true (no decoder
                    final norm in a pre-LN model), bfloat16 storage under the newer "dtype" key; sharded safetensors.

and shapes other than 3 layers of 32 × 128 with 4 heads:

  opt-tiny-odd-shapes   2 layers, hidden 48 in 6 heads of 8, ffn 96, a vocabulary of 1001 (not a multiple of 8), and
                        max_position_embeddings 16, which the longest stats sequence fills; no lm_head stored;
                        model.safetensors and pytorch_model.bin.
  opt-tiny-one-layer    a single post-LN layer (its first half is itself), hidden 24 in 2 heads, 40-wide embeddings
                        that project_in narrows (350m's widens them), float16; "decoder.*" keys with the tied lm_head
                        stored as well; a sharded pytorch_model.bin.
  opt-tiny-deep-narrow  7 layers of one 16-wide head, ffn 40, untied head, "decoder.*" keys; sharded safetensors,
                        and a sharded pytorch_model.bin in torch.save's legacy (non-zip) format, which PyTorch wrote
                        before 1.6 and still writes with _use_new_zipfile_serialization=False.

and one reference computed in half precision, as HuggingFace computes when a model is loaded with
torch_dtype=torch.bfloat16:

  opt-tiny-bf16-compute  125m's arrangement stored in bfloat16, with its logits and activations computed in bfloat16
                         and written as bfloat16 files; its expected values carry bfloat16's rounding, which the C#
                         tests tolerate (ReferenceFixture.Tolerance) rather than reproduce.

The expected values come from the forward pass below: HuggingFace's OPT computation (modeling_opt.py with eager
attention) written out with torch.nn.functional, in float32 (bfloat16 where a variant says so) from the stored
(rounded) weights. It is checked first
against opt-tiny-pre-ln's expected values, which HuggingFace's own code computed, and refuses to write anything if
they differ. Run it from the repository root with a python3 that imports torch (Debian: python3-torch):

    /usr/bin/python3 tests/Fixtures/make_variants.py

The weights are deterministic (seeded draws); the expected values may differ in their last bits on another CPU or
torch build, and the legacy files' storage keys are memory addresses: after a rerun, keep the committed files that a
change did not mean to touch (git checkout). The committed fixtures were made with torch 1.13.
"""
import json
import os
import struct
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from pytorch_baseline import read_safetensors, write_safetensors  # noqa: E402  the project's safetensors codec

TOLERANCE = 1e-4   # float32 against float32, as the C# tests compare
MIN_MARGIN = 1e-5  # no counted pre-activation may sit closer to 0 than this (float32 rounding moves them ~1e-6)

BASE = {
    "_remove_final_layer_norm": False, "activation_dropout": 0.0, "activation_function": "relu",
    "architectures": ["OPTForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 2, "do_layer_norm_before": True,
    "dropout": 0.1, "enable_bias": True, "eos_token_id": 2, "ffn_dim": 128, "hidden_size": 32, "init_std": 0.02,
    "layer_norm_elementwise_affine": True, "layerdrop": 0.0, "max_position_embeddings": 64, "model_type": "opt",
    "num_attention_heads": 4, "num_hidden_layers": 3, "pad_token_id": 1, "prefix": "</s>", "torch_dtype": "float32",
    "use_cache": True, "vocab_size": 1024, "word_embed_proj_dim": 32,
}

VARIANTS = {
    "opt-tiny-post-ln": dict(config={"do_layer_norm_before": False, "word_embed_proj_dim": 16}, seed=21,
                             prefix="decoder.", store_head=False, layouts=["bin", "safetensors"]),
    "opt-tiny-no-bias": dict(config={"enable_bias": False, "layer_norm_elementwise_affine": False, "torch_dtype": "float16"},
                             seed=22, prefix="model.decoder.", store_head=True, layouts=["bin-sharded", "safetensors"]),
    "opt-tiny-untied": dict(config={"tie_word_embeddings": False, "_remove_final_layer_norm": True, "dtype": "bfloat16"},
                            seed=24, prefix="model.decoder.", store_head=True, layouts=["safetensors-sharded"]),
    "opt-tiny-odd-shapes": dict(config={"num_hidden_layers": 2, "hidden_size": 48, "word_embed_proj_dim": 48,
                                        "num_attention_heads": 6, "ffn_dim": 96, "vocab_size": 1001,
                                        "max_position_embeddings": 16},
                                seed=31, prefix="model.decoder.", store_head=False, layouts=["safetensors", "bin"]),
    "opt-tiny-one-layer": dict(config={"do_layer_norm_before": False, "num_hidden_layers": 1, "hidden_size": 24,
                                       "word_embed_proj_dim": 40, "num_attention_heads": 2, "ffn_dim": 72,
                                       "torch_dtype": "float16"},
                               seed=33, prefix="decoder.", store_head=True, layouts=["bin-sharded"]),
    "opt-tiny-deep-narrow": dict(config={"num_hidden_layers": 7, "hidden_size": 16, "word_embed_proj_dim": 16,
                                         "num_attention_heads": 1, "ffn_dim": 40, "tie_word_embeddings": False},
                                 seed=33, prefix="decoder.", store_head=True, layouts=["safetensors-sharded", "bin-sharded-legacy"]),
    "opt-tiny-bf16-compute": dict(config={"torch_dtype": "bfloat16"}, seed=41, prefix="model.decoder.", store_head=False,
                                  layouts=["safetensors"], compute="bfloat16"),
}

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


# ---- the forward pass ------------------------------------------------------------------------------------------------

def storage_dtype(c):
    return c["dtype"] if "dtype" in c else c["torch_dtype"]   # recent releases write "dtype"


def has_final_norm(c):
    return c["do_layer_norm_before"] and not c["_remove_final_layer_norm"]


def forward(c, w, ids, mask):
    """Logits [B, T, V] and every layer's fc1 output [L, B, T, F], whose ReLU (the input of fc2) is the neuron
    activation. `w` uses canonical names."""
    p, pre = "model.decoder.", c["do_layer_norm_before"]
    heads, hidden = c["num_attention_heads"], c["hidden_size"]
    head_dim = hidden // heads

    def linear(x, name):
        return F.linear(x, w[name + ".weight"], w.get(name + ".bias"))

    def norm(x, name):   # without elementwise affine there is no weight and no bias
        return F.layer_norm(x, (hidden,), w.get(name + ".weight"), w.get(name + ".bias"), 1e-5)

    b, t = ids.shape
    x = F.embedding(ids, w[p + "embed_tokens.weight"])
    if p + "project_in.weight" in w:
        x = linear(x, p + "project_in")
    positions = torch.cumsum(mask, 1) * mask - 1          # real tokens count from 0; pads get -1
    x = x + F.embedding(positions + 2, w[p + "embed_positions.weight"])

    allowed = torch.ones(t, t, dtype=torch.bool).tril()[None, None] & mask.bool()[:, None, None, :]
    dtype = x.dtype   # the mask in the computation's dtype, as HuggingFace makes it
    additive = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    split = lambda y: y.view(b, t, heads, head_dim).transpose(1, 2)
    preactivations = []
    for layer in range(c["num_hidden_layers"]):
        q = f"{p}layers.{layer}."
        residual = x
        h = norm(x, q + "self_attn_layer_norm") if pre else x
        query = split(linear(h, q + "self_attn.q_proj") * head_dim ** -0.5)   # scaled after the bias, before q·k
        scores = query @ split(linear(h, q + "self_attn.k_proj")).transpose(-1, -2) + additive
        context = scores.softmax(-1) @ split(linear(h, q + "self_attn.v_proj"))
        x = residual + linear(context.transpose(1, 2).reshape(b, t, hidden), q + "self_attn.out_proj")
        if not pre:
            x = norm(x, q + "self_attn_layer_norm")
        residual = x                                        # post-LN: the FFN's residual is the normed output
        h = norm(x, q + "final_layer_norm") if pre else x
        preactivations.append(linear(h, q + "fc1"))
        x = residual + linear(F.relu(preactivations[-1]), q + "fc2")
        if not pre:
            x = norm(x, q + "final_layer_norm")
    if has_final_norm(c):
        x = norm(x, p + "final_layer_norm")
    if p + "project_out.weight" in w:
        x = linear(x, p + "project_out")
    head = w[p + "embed_tokens.weight"] if c.get("tie_word_embeddings", True) else w["lm_head.weight"]
    return x @ head.T, torch.stack(preactivations)


def neuron_stats(c, w, sequences):
    """The shared fixture's stats.json: per layer and neuron, the tokens (BOS included) whose activation is > 0, and
    how close any fc1 output came to 0 (how far rounding is from flipping a count)."""
    pre = [forward(c, w, ids, torch.ones_like(ids))[1][:, 0] for ids in (torch.tensor([s]) for s in sequences)]
    layers = []
    for layer in range(c["num_hidden_layers"]):
        counts = sum((p[layer] > 0).sum(0) for p in pre)
        layers.append({"layer": layer, "active_token_counts": counts.tolist(), "dead_count": int((counts == 0).sum()),
                       "dead_neurons": torch.nonzero(counts == 0).flatten().tolist(),
                       "min_abs_preactivation": min(p[layer].abs().min().item() for p in pre)})
    return {"num_sequences": len(sequences), "total_tokens": sum(len(s) for s in sequences),
            "num_layers": c["num_hidden_layers"], "ffn_dim": c["ffn_dim"], "layers": layers}


# ---- weights ---------------------------------------------------------------------------------------------------------

def random_weights(c, seed):
    """Every parameter drawn, LayerNorms included, at scales that keep activations O(1) and leave some neurons dead."""
    g = torch.Generator().manual_seed(seed)
    normal = lambda *shape, std=1.0, mean=0.0: torch.randn(*shape, generator=g) * std + mean
    hidden, ffn, proj, bias = c["hidden_size"], c["ffn_dim"], c["word_embed_proj_dim"], c["enable_bias"]
    p = "model.decoder."
    w = {p + "embed_tokens.weight": normal(c["vocab_size"], proj),
         p + "embed_positions.weight": normal(c["max_position_embeddings"] + 2, hidden, std=0.5)}
    if proj != hidden:
        w[p + "project_in.weight"] = normal(hidden, proj, std=proj ** -0.5)
        w[p + "project_out.weight"] = normal(proj, hidden, std=hidden ** -0.5)

    def add_norm(name):
        if c["layer_norm_elementwise_affine"]:
            w[name + ".weight"], w[name + ".bias"] = normal(hidden, std=0.2, mean=1.0), normal(hidden, std=0.2)

    def add_linear(name, fan_out, fan_in, bias_mean=0.0):
        w[name + ".weight"] = normal(fan_out, fan_in, std=fan_in ** -0.5)
        if bias:
            w[name + ".bias"] = normal(fan_out, std=0.3, mean=bias_mean)
    for layer in range(c["num_hidden_layers"]):
        q = f"{p}layers.{layer}."
        for proj_name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            add_linear(q + "self_attn." + proj_name, hidden, hidden)
        add_norm(q + "self_attn_layer_norm")
        add_linear(q + "fc1", ffn, hidden, bias_mean=-0.6)   # a negative bias leaves some neurons dead
        add_linear(q + "fc2", hidden, ffn)
        add_norm(q + "final_layer_norm")
    if has_final_norm(c):
        add_norm(p + "final_layer_norm")
    if not c.get("tie_word_embeddings", True):
        w["lm_head.weight"] = normal(c["vocab_size"], proj, std=0.5)
    dtype = DTYPES[storage_dtype(c)]
    return {k: v.to(dtype).to(torch.float32) for k, v in w.items()}   # the values the stored dtype can hold


def stored(w, c, prefix, store_head):
    """The tensors as the files hold them: stored dtype, the variant's key prefix, lm_head only where asked."""
    dtype = DTYPES[storage_dtype(c)]
    out = {k.replace("model.decoder.", prefix, 1): v.to(dtype) for k, v in w.items()}
    if store_head and c.get("tie_word_embeddings", True):
        out["lm_head.weight"] = out[prefix + "embed_tokens.weight"]   # the tied copy some files carry
    return out


def write_layout(folder, tensors, layout):
    names = sorted(tensors)
    if layout == "safetensors":
        write_safetensors(os.path.join(folder, "model.safetensors"), {k: v.clone() for k, v in tensors.items()})
    elif layout == "bin":
        torch.save(tensors, os.path.join(folder, "pytorch_model.bin"))
    else:   # two shards, split after the first half of the names, and the index that maps each name to its shard
        halves = [names[: len(names) // 2], names[len(names) // 2:]]
        stem, ext = ("model", "safetensors") if layout == "safetensors-sharded" else ("pytorch_model", "bin")
        legacy = layout.endswith("-legacy")
        weight_map = {}
        for i, half in enumerate(halves):
            file = f"{stem}-{i + 1:05d}-of-00002.{ext}"
            part = {k: tensors[k].clone() for k in half}
            if ext == "safetensors":
                write_safetensors(os.path.join(folder, file), part)
            else:
                torch.save(part, os.path.join(folder, file), _use_new_zipfile_serialization=not legacy)
            weight_map.update({k: file for k in half})
        size = sum(t.numel() * t.element_size() for t in tensors.values())
        dump(os.path.join(folder, f"{stem}.{ext}.index.json"), {"metadata": {"total_size": size}, "weight_map": weight_map})


# ---- fixtures --------------------------------------------------------------------------------------------------------

def reference_inputs(c, seed):
    """A 4×12 batch (unpadded, right-padded, left-padded, and row 1's tokens left-padded) and 15 stats sequences."""
    g = torch.Generator().manual_seed(seed)
    token = lambda n: torch.randint(3, c["vocab_size"], (n,), generator=g).tolist()
    a, b, d = [2] + token(11), [2] + token(6), [2] + token(8)
    ids = [a, b + [1] * 5, [1] * 3 + d, [1] * 5 + b]
    mask = [[1] * 12, [1] * 7 + [0] * 5, [0] * 3 + [1] * 9, [0] * 5 + [1] * 7]
    lengths = torch.randint(6, 17, (15,), generator=g).tolist()
    return {"batch": {"input_ids": ids, "attention_mask": mask,
                      "rows": ["unpadded", "right-padded", "left-padded", "row 1 tokens left-padded"]},
            "stats_sequences": [[2] + token(n - 1) for n in lengths]}


def dump(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2 if path.endswith("config.json") else None)


def write_expected(folder, c, w, inputs, note, compute):
    longest = max(len(s) for s in inputs["stats_sequences"])
    if longest > c["max_position_embeddings"]:
        raise SystemExit(f"{folder}: a stats sequence of {longest} tokens exceeds max_position_embeddings")
    ids, mask = torch.tensor(inputs["batch"]["input_ids"]), torch.tensor(inputs["batch"]["attention_mask"])
    w = {k: v.to(DTYPES[compute]) for k, v in w.items()}
    with torch.no_grad():
        logits, pre = forward(c, w, ids, mask)
        stats = neuron_stats(c, w, inputs["stats_sequences"])
    acts = F.relu(pre)
    margin = min(layer["min_abs_preactivation"] for layer in stats["layers"])
    # Half-precision rounding flips counts near 0 whatever the margin; the C# tests tolerate that for such references.
    if compute == "float32" and margin < MIN_MARGIN:
        raise SystemExit(f"{folder}: a pre-activation lies {margin:.2e} from 0; choose another seed")
    expected = os.path.join(folder, "expected")
    os.makedirs(expected, exist_ok=True)
    for name, t in (("logits.bin", logits), ("activations.bin", acts)):
        with open(os.path.join(expected, name), "wb") as f:
            if compute == "float32":
                f.write(struct.pack(f"<{t.numel()}f", *t.flatten().tolist()))
            else:   # the raw 16-bit values, little-endian
                f.write(struct.pack(f"<{t.numel()}h", *t.contiguous().view(torch.int16).flatten().tolist()))
    dims = {"logits.bin": ["batch", "seq", "vocab"], "activations.bin": ["layer", "batch", "seq", "ffn"]}
    dump(os.path.join(expected, "manifest.json"), {
        "preset": os.path.basename(folder), "weights_dtype": storage_dtype(c), "compute_dtype": compute,
        "made_by": note,
        "files": {name: {"dtype": compute, "byte_order": "little", "layout": "row-major", "shape": list(t.shape),
                         "dims": dims[name]} for name, t in (("logits.bin", logits), ("activations.bin", acts))},
        "compare_only_where_attention_mask_is_1": True})
    dump(os.path.join(expected, "inputs.json"), inputs)
    dump(os.path.join(expected, "stats.json"), stats)


def check_against_shared():
    """The forward pass must reproduce opt-tiny-pre-ln, whose expected values HuggingFace's code computed."""
    folder = os.path.join(HERE, "opt-tiny-pre-ln")
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    w = {("model." + k if k.startswith("decoder.") else k): v.float()
         for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    with open(os.path.join(folder, "expected", "inputs.json")) as f:
        inputs = json.load(f)
    ids, mask = torch.tensor(inputs["batch"]["input_ids"]), torch.tensor(inputs["batch"]["attention_mask"])
    with torch.no_grad():
        logits, pre = forward(c, w, ids, mask)
        stats = neuron_stats(c, w, inputs["stats_sequences"])
    acts = F.relu(pre)
    real = mask.bool()
    for name, got in (("logits.bin", logits), ("activations.bin", acts)):
        with open(os.path.join(folder, "expected", name), "rb") as f:
            want = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(got.shape)
        diff = ((want - got)[..., real, :] if name == "activations.bin" else (want - got)[real]).abs().max().item()
        print(f"opt-tiny-pre-ln {name}: max |difference| on real tokens {diff:.2e}")
        if diff > TOLERANCE:
            raise SystemExit(f"the forward pass does not reproduce opt-tiny-pre-ln's {name} ({diff:.2e} > {TOLERANCE})")
    with open(os.path.join(folder, "expected", "stats.json")) as f:
        want = json.load(f)
    if [l["active_token_counts"] for l in want["layers"]] != [l["active_token_counts"] for l in stats["layers"]]:
        raise SystemExit("the forward pass does not reproduce opt-tiny-pre-ln's neuron counts")
    print("opt-tiny-pre-ln stats.json: every count equal")


def main():
    torch.set_num_threads(1)   # one summation order
    check_against_shared()
    note = f"tests/Fixtures/make_variants.py, torch {torch.__version__}"
    for name, v in VARIANTS.items():
        c = dict(BASE, **v["config"])
        if "dtype" in c:
            del c["torch_dtype"]
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        w = random_weights(c, v["seed"])
        dump(os.path.join(folder, "config.json"), c)
        for layout in v["layouts"]:
            write_layout(folder, stored(w, c, v["prefix"], v["store_head"]), layout)
        write_expected(folder, c, w, reference_inputs(c, v["seed"]), note, v.get("compute", "float32"))
        print(f"{name}: {', '.join(v['layouts'])}")


if __name__ == "__main__":
    main()
