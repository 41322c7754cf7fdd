// AdamW's update of one contiguous CPU parameter in one pass over its four tensors (float32 or bfloat16).
//
// Why: the eager update (optim.cpp, as PyTorch 1.13's single-tensor AdamW) runs six ops, each a pass over the
// parameter's size, and denom = (exp_avg_sq.sqrt() / c).add_(eps) makes two temporaries as large as the parameter:
// for Full on Qwen3-0.6B, 2 × 311 MB beside the bfloat16 embedding (the training step's memory peak) and several
// seconds of memory traffic per step. Here each element is read once and written once, and nothing is allocated.
//
// Rounding as eager, bit for bit: each op's result is rounded to the tensors' dtype where the eager op stores it
// (bfloat16: after the decay, the lerp, v·β2, the addcmul, the sqrt, the division, + eps and the addcdiv, the scalar
// operands of mul, div and add rounded to bfloat16 as those ops round them), in the
// eager ops' order of operations, with a fused multiply-add exactly where ATen's vectorised kernels use one (lerp:
// w·(g − m) + m; addcmul: (s·g)·g + v; found against libtorch 1.13's ops element by element, and held by
// OptimizerTests). Built with -ffp-contract=off so no other a*b+c is fused. The AVX2/AVX-512 clones turn std::fma
// into one instruction, as ATen's AVX kernels do; the default clone calls libm's (same result, slower).
#include "adamw_fused.h"

#include "fused_rows.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace {

constexpr int64_t kGrain = 1 << 14;

inline float load(const float* p, int64_t i) { return p[i]; }
inline float load(const c10::BFloat16* p, int64_t i) {
    uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(p)[i]) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
// Values already rounded (round_bf16) are stored by their high half.
inline void store(float* p, int64_t i, float v) { p[i] = v; }
inline void store(c10::BFloat16* p, int64_t i, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    reinterpret_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(bits >> 16);
}

template <typename T>
inline float R(float v) {
    if constexpr (std::is_same_v<T, c10::BFloat16>) return round_bf16(v);
    return v;
}

template <typename T, bool kAmsgrad, bool kMaximize>
FTA_CLONES void update_range(T* __restrict param, const T* __restrict grad, T* __restrict avg, T* __restrict avg_sq,
                             T* __restrict max_sq, int64_t begin, int64_t end, fta::AdamWScalars s) {
    for (int64_t i = begin; i < end; ++i) {
        float g = load(grad, i);
        if constexpr (kMaximize) g = -g;
        float p = R<T>(load(param, i) * s.decay);                       // param.mul_(1 − lr·wd)
        float m = load(avg, i);
        m = R<T>(std::fma(s.one_minus_beta1, g - m, m));                // exp_avg.lerp_(grad, 1 − β1), weight < ½
        float v = R<T>(load(avg_sq, i) * s.beta2);                      // exp_avg_sq.mul_(β2)
        v = R<T>(std::fma(s.one_minus_beta2 * g, g, v));                //   .addcmul_(grad, grad, 1 − β2)
        float second = v;
        if constexpr (kAmsgrad) {
            float old = load(max_sq, i);
            second = old > v ? old : v;                                 // maximum_out(max_sq, max_sq, exp_avg_sq)
            store(max_sq, i, second);
        }
        float denom = R<T>(std::sqrt(second));                          // .sqrt()
        denom = R<T>(denom / s.bias_correction2_sqrt);                  // / √(1 − β2ᵗ)
        denom = R<T>(denom + s.eps);                                    // .add_(eps)
        p = R<T>(p + s.neg_step_size * m / denom);                      // param.addcdiv_(exp_avg, denom, −step size)
        store(param, i, p);
        store(avg, i, m);
        store(avg_sq, i, v);
    }
}

template <typename T, bool kAmsgrad, bool kMaximize>
void update(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
            const fta::AdamWScalars& s) {
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* m = avg.data_ptr<T>();
    T* v = avg_sq.data_ptr<T>();
    T* mx = kAmsgrad ? max_sq->data_ptr<T>() : nullptr;
    at::parallel_for(0, param.numel(), kGrain,
                     [&](int64_t begin, int64_t end) { update_range<T, kAmsgrad, kMaximize>(p, g, m, v, mx, begin, end, s); });
}

template <typename T>
void dispatch(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
              const fta::AdamWScalars& s, bool maximize) {
    if (max_sq != nullptr)
        maximize ? update<T, true, true>(param, grad, avg, avg_sq, max_sq, s) : update<T, true, false>(param, grad, avg, avg_sq, max_sq, s);
    else
        maximize ? update<T, false, true>(param, grad, avg, avg_sq, max_sq, s) : update<T, false, false>(param, grad, avg, avg_sq, max_sq, s);
}

bool fusable(const at::Tensor& t, const at::Tensor& like) {
    return t.defined() && t.device().is_cpu() && t.scalar_type() == like.scalar_type() && t.is_contiguous() &&
           t.numel() == like.numel() && !t.is_sparse();
}

}  // namespace

namespace fta {

bool adamw_fused_step(at::Tensor& param, const at::Tensor& grad, at::Tensor& avg, at::Tensor& avg_sq, at::Tensor* max_sq,
                      const AdamWScalars& s, bool maximize) {
    auto type = param.scalar_type();
    if (type != at::kFloat && type != at::kBFloat16) return false;
    if (!fusable(param, param) || !fusable(grad, param) || !fusable(avg, param) || !fusable(avg_sq, param)) return false;
    if (max_sq != nullptr && !fusable(*max_sq, param)) return false;
    // A gradient sharing the parameter's storage would be read after the parameter's element is written; eager
    // would read it after the whole decay pass. Not a case training produces; left to the eager ops.
    if (grad.data_ptr() == param.data_ptr()) return false;
    if (type == at::kFloat) {
        dispatch<float>(param, grad, avg, avg_sq, max_sq, s, maximize);
    } else {
        // On bfloat16 tensors libtorch 1.13's mul, div and add round their Scalar operand to bfloat16 first;
        // lerp's weight and addcmul's and addcdiv's values stay float (each checked element by element).
        AdamWScalars b = s;
        b.decay = round_bf16(s.decay);
        b.beta2 = round_bf16(s.beta2);
        b.bias_correction2_sqrt = round_bf16(s.bias_correction2_sqrt);
        b.eps = round_bf16(s.eps);
        dispatch<c10::BFloat16>(param, grad, avg, avg_sq, max_sq, b, maximize);
    }
    // In-place updates, as the eager ops' would: autograd sees the tensors changed.
    param.unsafeGetTensorImpl()->bump_version();
    avg.unsafeGetTensorImpl()->bump_version();
    avg_sq.unsafeGetTensorImpl()->bump_version();
    if (max_sq != nullptr) max_sq->unsafeGetTensorImpl()->bump_version();
    return true;
}

}  // namespace fta
