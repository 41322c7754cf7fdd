// The fused attention core's bfloat16 implementation (attention_bf16.cpp), which the export in attention.cpp runs
// for bfloat16 inputs once it has checked them.
#pragma once
#include <ATen/ATen.h>

namespace fta {

// softmax(q·kᵀ·scale, keys where allowed is false masked)·v as one autograd node keeping no probabilities. q
// (B, S, nH, hd), k and v (B, T, nKV, hd), all bfloat16 on the CPU; allowed (B, 1, S, T) bool. Returns (B, S, nH, hd),
// contiguous.
at::Tensor attention_bf16(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& allowed, double scale);

}  // namespace fta
