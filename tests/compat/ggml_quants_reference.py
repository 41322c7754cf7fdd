"""ggml's reference row quantizers in plain PyTorch float32, for byte-exact tests of our GGUF writer.

Written from the C in ggml-quants.c (quantize_row_q8_0_ref, quantize_row_q4_0_ref), not from our code:
  Q8_0: block of 32: amax = max|x|; d = amax/127; id = 1/d (0 if d == 0); qs = roundf(x*id)
        (round half away from zero); stored { fp16 d; int8 qs[32] }.
  Q4_0: block of 32: max = the x of largest |x| (first one); d = max/-8; id = 1/d (0 if d == 0);
        q = min(15, (int8)(x*id + 8.5)) (C truncation); qs[j] = q[j] | q[j+16] << 4;
        stored { fp16 d; uint8 qs[16] }.
  F16:  IEEE half, round to nearest even.
Every step is a float32 tensor op, as the C does in float.

usage: python3 ggml_quants_reference.py TYPE input.f32 output.bin   (TYPE: q8_0, q4_0, f16)
"""
import sys
import torch


def roundf(v):
    # C roundf: half away from zero, exactly (t and v - t are exact in float32).
    t = torch.trunc(v)
    frac = v - t
    return t + torch.where(frac.abs() >= 0.5, torch.sign(v), torch.zeros_like(v))


def q8_0(x):
    blocks = x.reshape(-1, 32)
    amax = blocks.abs().max(dim=1).values
    d = amax / 127
    id_ = torch.where(d != 0, torch.ones_like(d) / d, torch.zeros_like(d))
    qs = roundf(blocks * id_[:, None]).to(torch.int8)
    out = bytearray()
    for i in range(blocks.shape[0]):
        out += bytes(d[i:i + 1].half().view(torch.uint8).tolist())
        out += bytes(qs[i].view(torch.uint8).tolist())
    return bytes(out)


def q4_0(x):
    blocks = x.reshape(-1, 32)
    idx = blocks.abs().argmax(dim=1)            # first index of the largest magnitude
    mx = blocks.gather(1, idx[:, None])[:, 0]
    d = mx / -8
    id_ = torch.where(d != 0, torch.ones_like(d) / d, torch.zeros_like(d))
    q = torch.trunc(blocks * id_[:, None] + 8.5).clamp(max=15).to(torch.uint8)
    packed = q[:, :16] | (q[:, 16:] << 4)
    out = bytearray()
    for i in range(blocks.shape[0]):
        out += bytes(d[i:i + 1].half().view(torch.uint8).tolist())
        out += bytes(packed[i].tolist())
    return bytes(out)


def f16(x):
    return bytes(x.half().view(torch.uint8).tolist())


def main():
    kind, src, dst = sys.argv[1:4]
    data = open(src, "rb").read()
    x = torch.frombuffer(bytearray(data), dtype=torch.float32).clone()
    out = {"q8_0": q8_0, "q4_0": q4_0, "f16": f16}[kind](x)
    open(dst, "wb").write(out)


if __name__ == "__main__":
    main()
