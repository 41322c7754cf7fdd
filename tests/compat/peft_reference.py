"""PEFT adapters in plain PyTorch, written from PEFT's documented behaviour (no peft package here).

  peft_reference.py apply MODEL_DIR ADAPTER_DIR INPUT_JSON OUTPUT_BIN
      Loads ADAPTER_DIR as PeftModel.from_pretrained would: LoraConfig from adapter_config.json
      (unknown keys ignored), LoRA layers injected where target_modules match (a list matches a
      module path equal to or ending in ".name"; a string is a full-match regex), rank and alpha
      from rank_pattern / alpha_pattern, tensors renamed to the in-memory names
      (...lora_A.weight -> ...lora_A.default.weight, ...lora_magnitude_vector ->
      ...lora_magnitude_vector.default.weight) and loaded strictly (a key that matches nothing, or
      an injected layer without its tensors, is an error). Writes float32 logits.

  peft_reference.py write MODEL_DIR ADAPTER_DIR SEED {lora|dora|rslora-pattern}
      Writes an adapter the way PEFT's save_pretrained lays it out, with random non-zero A, B
      (and magnitude), a config holding fields of a recent PEFT release, some our reader does not
      know. Prints nothing; run `apply` on it for the expected logits.
"""
import json, math, os, re, sys
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_model as ref

PREFIX = "base_model.model."


def save_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    names = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype != torch.float32 else t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def targets(cfg, path):
    t = cfg["target_modules"]
    if isinstance(t, str):
        return re.fullmatch(t, path) is not None
    return any(path == n or path.endswith("." + n) for n in t)


def pattern_value(patterns, path, default):
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", path):
            return value
    return default


def linear_paths(model_cfg):
    names = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
    return [f"model.layers.{i}.{n}" for i in range(model_cfg["num_hidden_layers"]) for n in names]


def load_adapter(model_cfg, adapter_dir):
    cfg = json.load(open(os.path.join(adapter_dir, "adapter_config.json")))
    assert cfg["peft_type"] == "LORA", cfg["peft_type"]
    state = ref.load_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"))
    in_memory = {}
    for key, value in state.items():
        assert key.startswith(PREFIX), key
        k = key[len(PREFIX):]
        if k.endswith(".lora_magnitude_vector"):
            k += ".default.weight"
        else:
            k = re.sub(r"\.(lora_A|lora_B)\.weight$", r".\1.default.weight", k)
        in_memory[k] = value.float()
    layers = {}
    expected = set()
    r_default, alpha_default = cfg["r"], cfg.get("lora_alpha", 8)
    for path in linear_paths(model_cfg):
        if not targets(cfg, path):
            continue
        r = pattern_value(cfg.get("rank_pattern") or {}, path, r_default)
        alpha = pattern_value(cfg.get("alpha_pattern") or {}, path, alpha_default)
        scaling = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
        a_key, b_key = path + ".lora_A.default.weight", path + ".lora_B.default.weight"
        m_key = path + ".lora_magnitude_vector.default.weight"
        keys = [a_key, b_key] + ([m_key] if cfg.get("use_dora") else [])
        for k in keys:
            if k not in in_memory:
                raise SystemExit(f"missing adapter tensor for injected layer: {k}")
        expected.update(keys)
        A, B = in_memory[a_key], in_memory[b_key]
        if tuple(A.shape)[0] != r or tuple(B.shape)[1] != r:
            raise SystemExit(f"size mismatch for {path}: A {tuple(A.shape)}, B {tuple(B.shape)}, r {r}")
        layers[path] = (A, B, scaling, in_memory.get(m_key))
    unexpected = set(in_memory) - expected
    if unexpected:
        raise SystemExit(f"unexpected adapter keys: {sorted(unexpected)}")
    return layers


def make_adapter_fn(A, B, scaling, magnitude):
    def fn(x, W, bias):
        result = torch.nn.functional.linear(x, W, bias)
        lora = torch.nn.functional.linear(torch.nn.functional.linear(x, A), B)
        if magnitude is None:
            return result + lora * scaling
        # PEFT DoraLinearLayer (eval, no dropout): base_result = result - bias.
        weight_norm = torch.linalg.norm(W + scaling * (B @ A), dim=1).detach()
        scale = (magnitude / weight_norm).view(1, -1)
        base = result - bias if bias is not None else result
        return result + (scale - 1) * base + scale * lora * scaling
    return fn


def apply(model_dir, adapter_dir, input_path, output_path):
    torch.set_grad_enabled(False)
    cfg = json.load(open(f"{model_dir}/config.json"))
    weights = {k: v.float() for k, v in ref.load_weights(model_dir).items()}
    layers = load_adapter(cfg, adapter_dir)
    adapters = {p: make_adapter_fn(*v) for p, v in layers.items()}
    inputs = json.load(open(input_path))
    ids = torch.tensor(inputs["input_ids"], dtype=torch.long)
    logits = ref.forward(cfg, weights, ids, None, adapters)
    with open(output_path, "wb") as f:
        f.write(logits.contiguous().numpy().astype("<f4").tobytes())


def write(model_dir, adapter_dir, seed, kind):
    cfg = json.load(open(f"{model_dir}/config.json"))
    weights = ref.load_weights(model_dir)
    g = torch.Generator().manual_seed(int(seed))
    r, alpha = 4, 8
    target = ["v_proj", "q_proj", "down_proj"]  # PEFT stores a set: order is arbitrary
    rank_pattern, alpha_pattern = {}, {}
    if kind == "rslora-pattern":
        rank_pattern = {"down_proj": 2}
        alpha_pattern = {"model.layers.1.self_attn.q_proj": 3}
    tensors = {}
    for path in linear_paths(cfg):
        if not any(path.endswith("." + t) for t in target):
            continue
        W = weights[path + ".weight"].float()
        rr = pattern_value(rank_pattern, path, r)
        tensors[PREFIX + path + ".lora_A.weight"] = torch.randn(rr, W.shape[1], generator=g) * 0.3
        tensors[PREFIX + path + ".lora_B.weight"] = torch.randn(W.shape[0], rr, generator=g) * 0.3
        if kind == "dora":
            tensors[PREFIX + path + ".lora_magnitude_vector"] = W.norm(dim=1) * (1 + 0.2 * torch.rand(W.shape[0], generator=g))
    os.makedirs(adapter_dir, exist_ok=True)
    save_safetensors(os.path.join(adapter_dir, "adapter_model.safetensors"), tensors, {"format": "pt"})
    config = {
        "alpha_pattern": alpha_pattern, "auto_mapping": None, "base_model_name_or_path": model_dir, "bias": "none",
        "corda_config": None, "eva_config": None, "exclude_modules": None, "fan_in_fan_out": False, "inference_mode": True,
        "init_lora_weights": True, "layer_replication": None, "layers_pattern": None, "layers_to_transform": None,
        "loftq_config": {}, "lora_alpha": alpha, "lora_bias": False, "lora_dropout": 0.05, "megatron_config": None,
        "megatron_core": "megatron.core", "modules_to_save": None, "peft_type": "LORA", "peft_version": "0.17.1", "r": r,
        "rank_pattern": rank_pattern, "revision": None, "target_modules": target, "target_parameters": None,
        "task_type": "CAUSAL_LM", "trainable_token_indices": None, "use_dora": kind == "dora", "use_qalora": False,
        "qalora_group_size": 16, "use_rslora": kind == "rslora-pattern",
    }
    with open(os.path.join(adapter_dir, "adapter_config.json"), "w") as f:
        f.write(json.dumps(config, indent=2, sort_keys=True))


if __name__ == "__main__":
    if sys.argv[1] == "apply":
        apply(*sys.argv[2:6])
    elif sys.argv[1] == "write":
        write(*sys.argv[2:6])
    else:
        raise SystemExit(__doc__)
