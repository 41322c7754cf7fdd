#!/usr/bin/env python3
"""Plain-PyTorch LoRA training throughput, the other side of `fta bench lora-vs-torch`.

A Qwen3-0.6B-shaped model (hidden 1024, intermediate 3072, 16 heads, 8 kv heads, head_dim 128,
vocab 151936, tied embedding; --layers of them) with random fp32 weights, frozen; LoRA A/B
(r, alpha = 2r, no dropout, B zero as PEFT) on the 7 projections of every layer; the forward is
tests/compat/reference_model.py's (the maths the parity tests check ours against); causal-LM loss;
AdamW over the adapters. Prints one JSON line: tokens/s (median step after warm-up), peak RSS.

usage: lora_train.py [--layers 28] [--seq-len 512] [--batch 1] [--steps 3] [--warmup 1] [--rank 16] [--threads 2]
"""
import argparse, json, math, os, resource, sys, time
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "compat"))
from reference_model import forward  # noqa: E402

PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=28)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = {"model_type": "qwen3", "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": a.layers,
           "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936,
           "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True}
    h, inter, hd, v = 1024, 3072, 128, 151936
    shapes = {"self_attn.q_proj": (16 * hd, h), "self_attn.k_proj": (8 * hd, h), "self_attn.v_proj": (8 * hd, h),
              "self_attn.o_proj": (h, 16 * hd), "mlp.gate_proj": (inter, h), "mlp.up_proj": (inter, h), "mlp.down_proj": (h, inter)}
    w = {"model.embed_tokens.weight": torch.randn(v, h) * 0.02, "model.norm.weight": torch.ones(h)}
    for i in range(a.layers):
        p = f"model.layers.{i}."
        for name, shape in shapes.items():
            w[p + name + ".weight"] = torch.randn(*shape) * 0.02
        for name, size in [("input_layernorm", h), ("post_attention_layernorm", h), ("self_attn.q_norm", hd), ("self_attn.k_norm", hd)]:
            w[p + name + ".weight"] = torch.ones(size)
    parameters = sum(t.numel() for t in w.values())

    scale = 2.0  # alpha / r with alpha = 2r
    adapters, trainable = {}, []
    for i in range(a.layers):
        for name, (out_f, in_f) in shapes.items():
            A = torch.empty(a.rank, in_f)
            torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5))
            A.requires_grad_(True)
            B = torch.zeros(out_f, a.rank, requires_grad=True)
            trainable += [A, B]
            def lora(x, weight, bias, A=A, B=B):
                return torch.nn.functional.linear(x, weight, bias) + torch.nn.functional.linear(torch.nn.functional.linear(x, A), B) * scale
            adapters[f"model.layers.{i}.{name}"] = lora
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, v, (a.batch, a.seq_len))

    times = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        logits = forward(cfg, w, ids, None, adapters)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, v).float(), ids[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        del logits, loss
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    step_s = times[len(times) // 2]
    print(json.dumps({
        "side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(), "layers": a.layers,
        "parameters": parameters, "trainable": sum(t.numel() for t in trainable),
        "seq_len": a.seq_len, "batch": a.batch, "steps": a.steps, "step_ms": step_s * 1000,
        "step_ms_all": [t * 1000 for t in times],
        "tokens_per_s": a.batch * a.seq_len / step_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
