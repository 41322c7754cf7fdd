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

// Whether param, grad and the states (max_sq when not null) are contiguous CPU tensors of param's dtype and size,
// grad not sharing param's storage: what fta_optim_adamw_step's fused paths take (float32: adamw_one_pass; bfloat16:
// the eager ops kAdamWPiece elements at a time, temporaries of 2 x 8 MiB at most).
bool adamw_fusable(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& avg, const at::Tensor& avg_sq,
                   const at::Tensor* max_sq);

// Updates float32 param, avg, avg_sq (and max_sq, for amsgrad, when not null) that adamw_fusable accepts, in place.
void adamw_one_pass(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
                    const AdamWScalars& s, bool maximize);

constexpr int64_t kAdamWPiece = int64_t{1} << 22;

}  // namespace fta
