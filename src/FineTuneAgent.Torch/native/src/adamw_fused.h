// AdamW's update in one pass (adamw_fused.cpp), used by fta_optim_adamw_step (optim.cpp) where it applies.
#pragma once
#include <ATen/ATen.h>

namespace fta {

// The step's scalars as the eager ops take them on float32 tensors (as floats).
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
// and touches nothing when the tensors are not all contiguous float32 CPU tensors of one size.
bool adamw_fused_step(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
                      const AdamWScalars& s, bool maximize);

// Whether the tensors are contiguous CPU bfloat16 ones of one size, which fta_optim_adamw_step updates with the eager
// ops kAdamWPiece elements at a time (temporaries of 2 x 8 MiB at most) instead of in one pass.
bool adamw_piecewise_applies(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& avg, const at::Tensor& avg_sq,
                             const at::Tensor* max_sq);

constexpr int64_t kAdamWPiece = int64_t{1} << 22;

}  // namespace fta
