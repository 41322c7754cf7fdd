#!/usr/bin/env python3
"""Plain-PyTorch reference of HF Qwen3ForCausalLM / LlamaForCausalLM forward, written from
transformers' modeling_qwen3.py / modeling_llama.py / modeling_rope_utils.py (see FACTS.md §2-3),
used by the C# parity tests as an independent computation.

usage: reference_model.py MODEL_DIR INPUT_JSON OUTPUT_BIN
  INPUT_JSON: {"input_ids": [[...], ...], "attention_mask": [[...], ...] | null, "labels": [[...]] | null}
  OUTPUT_BIN: float32 little-endian logits (B, S, V), then (if labels) one float32 loss.
"""
import json, math, struct, sys
import torch


def load_safetensors(path):
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
              "I64": torch.int64, "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(buf, dtype=dtypes[info["dtype"]]) if end > begin else torch.empty(0, dtype=dtypes[info["dtype"]])
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors


def load_weights(model_dir):
    import os
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        weights = {}
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            weights.update(load_safetensors(os.path.join(model_dir, shard)))
        return weights
    return load_safetensors(os.path.join(model_dir, "model.safetensors"))


def rms_norm(x, weight, eps):
    dtype = x.dtype
    x32 = x.to(torch.float32)
    variance = x32.pow(2).mean(-1, keepdim=True)
    x32 = x32 * torch.rsqrt(variance + eps)
    return weight * x32.to(dtype)


def inv_freq_for(cfg, head_dim):
    base = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    rs = cfg.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "linear":
            inv = inv / rs["factor"]
        elif kind == "llama3":
            factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
            old = rs["original_max_position_embeddings"]
            low_wl, high_wl = old / low, old / high
            wavelen = 2 * math.pi / inv
            scaled = torch.where(wavelen > low_wl, inv / factor, inv)
            smooth = (old / wavelen - low) / (high - low)
            smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
            inv = torch.where(medium, smoothed, scaled)
    return inv


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(h, n_rep):
    b, kv, s, d = h.shape
    if n_rep == 1:
        return h
    return h[:, :, None, :, :].expand(b, kv, n_rep, s, d).reshape(b, kv * n_rep, s, d)


def forward(cfg, w, input_ids, attention_mask, adapters=None):
    """adapters: optional {module path: fn(x, weight, bias) -> output} replacing that linear."""
    qwen3 = cfg["model_type"] == "qwen3"
    hidden = cfg["hidden_size"]
    n_heads = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_heads
    head_dim = cfg.get("head_dim") or hidden // n_heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    b, s = input_ids.shape
    if attention_mask is None:
        attention_mask = torch.ones(b, s, dtype=torch.long)
    # As HF generate(): positions count real tokens, so left padding starts each row at 0.
    position_ids = attention_mask.long().cumsum(-1) - 1
    position_ids.masked_fill_(attention_mask == 0, 1)
    inv = inv_freq_for(cfg, head_dim)
    freqs = position_ids[:, :, None].float() * inv[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    causal = torch.tril(torch.ones(s, s, dtype=torch.bool))
    allowed = causal[None, None] & attention_mask.bool()[:, None, None, :]
    mask = torch.zeros(b, 1, s, s).masked_fill(~allowed, torch.finfo(torch.float32).min)

    x = w["model.embed_tokens.weight"][input_ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        def lin(t, name, p=p):
            path = p + name
            if adapters and path in adapters:
                return adapters[path](t, w[path + ".weight"], w.get(path + ".bias"))
            return torch.nn.functional.linear(t, w[path + ".weight"], w.get(path + ".bias"))
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, "self_attn.q_proj").view(b, s, n_heads, head_dim)
        k = lin(h, "self_attn.k_proj").view(b, s, n_kv, head_dim)
        v = lin(h, "self_attn.v_proj").view(b, s, n_kv, head_dim).transpose(1, 2)
        if qwen3:
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, n_heads // n_kv), repeat_kv(v, n_heads // n_kv)
        scores = torch.matmul(q, k.transpose(2, 3)) * head_dim ** -0.5 + mask
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        attn = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, n_heads * head_dim)
        x = x + lin(attn, "self_attn.o_proj")
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        mlp = lin(torch.nn.functional.silu(lin(h, "mlp.gate_proj")) * lin(h, "mlp.up_proj"), "mlp.down_proj")
        x = x + mlp
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight")
    if head is None or cfg.get("tie_word_embeddings", False):
        head = w["model.embed_tokens.weight"]
    return torch.nn.functional.linear(x, head)


def main():
    model_dir, input_path, output_path = sys.argv[1:4]
    torch.set_grad_enabled(False)
    cfg = json.load(open(f"{model_dir}/config.json"))
    weights = {k: v.float() for k, v in load_weights(model_dir).items()}
    inputs = json.load(open(input_path))
    ids = torch.tensor(inputs["input_ids"], dtype=torch.long)
    mask = torch.tensor(inputs["attention_mask"], dtype=torch.long) if inputs.get("attention_mask") else None
    logits = forward(cfg, weights, ids, mask)
    out = logits.contiguous().numpy().astype("<f4").tobytes()
    if inputs.get("labels"):
        labels = torch.tensor(inputs["labels"], dtype=torch.long)
        shift_logits = logits[:, :-1].reshape(-1, logits.shape[-1]).float()
        shift_labels = labels[:, 1:].reshape(-1)
        loss = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100)
        out += struct.pack("<f", loss.item())
    with open(output_path, "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
