#!/usr/bin/env python3
"""Plain-PyTorch training throughput and memory, the reference side of `fta bench train --pytorch`.

What a user of eager PyTorch writes for the same run: the model's forward is tests/compat/reference_model.py's
(HF's eager maths, which the parity tests check ours against); whole logits, upcast to float32, then
cross_entropy; AdamW; clip_grad_norm_(1.0) as HF's Trainer does. The weights are random (N(0, 0.02), norms 1).

Methods:
  lora     r, alpha = 2r, no dropout, on the 7 projections of every layer; A Kaiming-uniform, B zero (PEFT).
           Adapters in float32 (PEFT's autocast_adapter_dtype) over a base in --dtype.
  qlora-4  the same LoRA over NF4 projections (blocks of 64, float32 absmax; bitsandbytes' code table),
           dequantized to the compute dtype by plain tensor ops in every forward.
  full     every weight trains, in --dtype.
--dtype bf16 loads the weights in bfloat16 and runs forward under CPU autocast(bfloat16), as LLaMA-Factory's
bf16 runs do; fp32 runs everything in float32.

Peak memory is the process's resident peak (VmHWM) over the training steps, the counter reset once the model is
built (so building fp32 weights before quantizing is not counted), as ours does.

Prints one JSON line.
"""
import argparse, json, math, os, sys, time
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "compat"))
from reference_model import forward  # noqa: E402

PROJECTIONS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])


def vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def quantize_nf4(weight, block=64):
    flat = weight.float().reshape(-1, block)
    absmax = flat.abs().amax(dim=1, keepdim=True)
    scaled = flat / absmax
    codes = (scaled[..., None] - NF4).abs().argmin(dim=-1).to(torch.uint8).reshape(-1)
    packed = (codes[0::2] << 4) | codes[1::2]
    return packed, absmax.reshape(-1)


def dequantize_nf4(packed, absmax, shape, dtype, block=64):
    codes = torch.stack(((packed >> 4) & 15, packed & 15), dim=1).reshape(-1).long()
    values = NF4[codes].reshape(-1, block) * absmax[:, None]
    return values.reshape(shape).to(dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="the model's config.json as a JSON string")
    ap.add_argument("--method", default="lora", choices=["lora", "qlora-4", "full"])
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
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
    cfg = json.loads(a.config)
    dtype = torch.bfloat16 if a.dtype == "bf16" else torch.float32
    h, inter, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or h // heads
    qwen3 = cfg["model_type"] == "qwen3"
    shapes = {"self_attn.q_proj": (heads * hd, h), "self_attn.k_proj": (kv * hd, h), "self_attn.v_proj": (kv * hd, h),
              "self_attn.o_proj": (h, heads * hd), "mlp.gate_proj": (inter, h), "mlp.up_proj": (inter, h), "mlp.down_proj": (h, inter)}

    w = {"model.embed_tokens.weight": (torch.randn(v, h) * 0.02).to(dtype), "model.norm.weight": torch.ones(h, dtype=dtype)}
    if not cfg.get("tie_word_embeddings", False):
        w["lm_head.weight"] = (torch.randn(v, h) * 0.02).to(dtype)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        for name, shape in shapes.items():
            w[p + name + ".weight"] = (torch.randn(*shape) * 0.02).to(dtype)
        norms = [("input_layernorm", h), ("post_attention_layernorm", h)] + ([("self_attn.q_norm", hd), ("self_attn.k_norm", hd)] if qwen3 else [])
        for name, size in norms:
            w[p + name + ".weight"] = torch.ones(size, dtype=dtype)
    parameters = sum(t.numel() for t in w.values())

    adapters, trainable = {}, []
    if a.method == "full":
        for t in w.values():
            t.requires_grad_(True)
        trainable = list(w.values())
    else:
        scale = 2.0  # alpha / r with alpha = 2r
        for i in range(cfg["num_hidden_layers"]):
            for name, (out_f, in_f) in shapes.items():
                path = f"model.layers.{i}.{name}"
                A = torch.empty(a.rank, in_f)
                torch.nn.init.kaiming_uniform_(A, a=math.sqrt(5))
                A.requires_grad_(True)
                B = torch.zeros(out_f, a.rank, requires_grad=True)
                trainable += [A, B]
                if a.method == "qlora-4":
                    packed, absmax = quantize_nf4(w[path + ".weight"])
                    w[path + ".weight"] = None  # the full-precision weight is gone; only the 4-bit codes stay
                    def base(x, packed=packed, absmax=absmax, shape=(out_f, in_f)):
                        return torch.nn.functional.linear(x, dequantize_nf4(packed, absmax, shape, dtype))
                else:
                    def base(x, path=path):
                        return torch.nn.functional.linear(x, w[path + ".weight"])

                def lora(x, weight, bias, A=A, B=B, base=base):
                    out = base(x)
                    update = torch.nn.functional.linear(torch.nn.functional.linear(x.to(A.dtype), A), B) * scale
                    return out + update.to(out.dtype)
                adapters[path] = lora
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    ids = torch.randint(0, v, (a.batch, a.seq_len))

    resident_before = vm("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    times, losses = [], []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.dtype == "bf16"):
            logits = forward(cfg, w, ids, None, adapters)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, v).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
        del logits, loss
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
    times_sorted = sorted(times)
    step_s = times_sorted[len(times_sorted) // 2]
    print(json.dumps({
        "side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "method": a.method, "dtype": a.dtype, "parameters": parameters, "trainable": sum(t.numel() for t in trainable),
        "seq_len": a.seq_len, "batch": a.batch, "steps": a.steps, "step_ms": step_s * 1000,
        "step_ms_all": [t * 1000 for t in times], "losses": losses,
        "tokens_per_s": a.batch * a.seq_len / step_s,
        "peak_memory_gb": vm("VmHWM") / 1e9,
        "resident_before_steps_gb": resident_before / 1e9,
    }))


if __name__ == "__main__":
    main()
