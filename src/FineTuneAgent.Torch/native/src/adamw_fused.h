// AdamW's update in one pass (adamw_fused.cpp), used by fta_optim_adamw_step (optim.cpp) where it applies.
#pragma once
#include <ATen/ATen.h>

namespace fta {

// The step's scalars as the eager ops take them (ATen converts a scalar to float for float32 and bfloat16 tensors).
struct AdamWScalars {
    float decay;                  // 1 − lr · weight_decay
    float one_minus_beta1;        // lerp's weight
    float beta2;
    float one_minus_beta2;        // addcmul's value
    float bias_correction2_sqrt;  // √(1 − β2ᵗ)
    float eps;
    float neg_step_size;          // −lr / (1 − β1ᵗ)
};

// Updates param, avg, avg_sq (and max_sq, for amsgrad, when not null) in place and returns true, or returns false
// and touches nothing when the tensors are not all contiguous CPU tensors of one dtype, float32 or bfloat16.
bool adamw_fused_step(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
                      const AdamWScalars& s, bool maximize);

}  // namespace fta
