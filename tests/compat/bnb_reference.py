#!/usr/bin/env python3
"""Plain-PyTorch reference of bitsandbytes' NF4 quantization (with double quantization) and
row-wise int8, written from the algorithm as bitsandbytes describes it (FACTS.md §5), used by the
C# tests as an independent computation. bitsandbytes itself is not needed.

usage: bnb_reference.py INPUT.safetensors OUTPUT.safetensors
  INPUT: tensors to quantize; the header's __metadata__ says how, per tensor NAME:
    "NAME" = "nf4:BLOCKSIZE" | "int8"
  OUTPUT (all tensors contiguous, little endian):
    nf4_code, dynamic_map                       the 16- and 256-entry float32 codes
    NAME.packed  uint8 [(n+1)//2, 1]            codes, first element in the high nibble
    NAME.absmax  float32 [blocks]
    NAME.qabsmax uint8 [blocks]                 double quantization of absmax (blocks of 256)
    NAME.absmax2 float32 [ceil(blocks/256)]
    NAME.offset  float32 []                     absmax.mean()
    NAME.dequant float32 NAME's shape           code[q] * (dynamic_map[qabsmax] * absmax2 + offset)
    NAME.q int8, NAME.row_stats float32         row-wise int8
"""
import json, math, struct, sys
import torch

# bitsandbytes functional.get_4bit_type("nf4")
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
       0.7229568362236023, 1.0]

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8}
NAMES = {v: k for k, v in DTYPES.items()}


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    """bitsandbytes functional.create_dynamic_map."""
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed
                             else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data += [0] * (256 - len(data))
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


def quantize_blocks(values, code, blocksize):
    """One block at a time: absmax, then the nearest code via bucketize on the midpoints.
    A block of zeros scales to 0 (bitsandbytes divides by zero there)."""
    flat = values.reshape(-1).float()
    midpoints = (code[:-1] + code[1:]) / 2
    absmax, q = [], []
    for start in range(0, flat.numel(), blocksize):
        block = flat[start:start + blocksize]
        m = block.abs().max()
        scaled = torch.clamp(block / m, -1, 1) if m > 0 else torch.zeros_like(block)
        absmax.append(m)
        q.append(torch.bucketize(scaled, midpoints, right=False))
    return torch.cat(q).to(torch.uint8), torch.stack(absmax).float()


def nf4(weight, blocksize):
    code = torch.tensor(NF4, dtype=torch.float32)
    q, absmax = quantize_blocks(weight, code, blocksize)
    if q.numel() % 2:
        q = torch.cat([q, torch.zeros(1, dtype=torch.uint8)])
    packed = (q[0::2] << 4) | q[1::2]
    dmap = create_dynamic_map(signed=True)
    offset = absmax.mean()
    qabsmax, absmax2 = quantize_blocks(absmax - offset, dmap, 256)
    # Dequantize from the stored state only.
    absmax_dq = dmap[qabsmax.long()] * absmax2.repeat_interleave(256)[:qabsmax.numel()] + offset
    codes = torch.stack([packed >> 4, packed & 15], dim=1).reshape(-1)[:weight.numel()]
    scale = absmax_dq.repeat_interleave(blocksize)[:weight.numel()]
    dequant = (code[codes.long()] * scale).reshape(weight.shape)
    return {"packed": packed.reshape(-1, 1), "absmax": absmax, "qabsmax": qabsmax, "absmax2": absmax2,
            "offset": offset.reshape(()), "dequant": dequant}


def int8(weight):
    """bitsandbytes int8_vectorwise_quant (default backend), threshold 0."""
    row_stats = torch.max(weight.abs(), dim=1).values.float()
    q = torch.round(weight * (127.0 / row_stats.unsqueeze(-1))).to(torch.int8)
    return {"q": q, "row_stats": row_stats}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        buf = bytearray(data[8 + n + begin:8 + n + end])
        tensors[name] = torch.frombuffer(buf, dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return tensors, header.get("__metadata__", {})


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    tensors, metadata = load(sys.argv[1])
    out = {"nf4_code": torch.tensor(NF4, dtype=torch.float32), "dynamic_map": create_dynamic_map(signed=True)}
    for name, how in metadata.items():
        if how.startswith("nf4:"):
            results = nf4(tensors[name], int(how[4:]))
        elif how == "int8":
            results = int8(tensors[name])
        else:
            raise SystemExit(f"unknown quantization {how!r} for {name}")
        out.update({f"{name}.{k}": v for k, v in results.items()})
    save(sys.argv[2], out)


if __name__ == "__main__":
    main()
