// Optimiser steps and gradient clipping, done here in one call per parameter group so that a
// step costs one crossing of the C ABI instead of a dozen per parameter. The arithmetic follows
// PyTorch 1.13's single-tensor implementations (torch/optim/adamw.py, sgd.py, nn/utils/clip_grad.py).
#include "common.h"
#include "adamw_fused.h"

#include <algorithm>
#include <cmath>

using namespace fta;

// steps[i] is parameter i's step count after this update (the caller increments it). fused: float32 in one pass and
// bfloat16 a piece at a time where the tensors allow it (adamw_fused.h), else always the eager ops over whole tensors.
// max_exp_avg_sqs may be null unless amsgrad is set.
FTA_EXPORT fta_status fta_optim_adamw_step(const fta_tensor* params, const fta_tensor* grads, const fta_tensor* exp_avgs,
                                           const fta_tensor* exp_avg_sqs, const fta_tensor* max_exp_avg_sqs, const int64_t* steps,
                                           int64_t n, double lr, double beta1, double beta2, double eps, double weight_decay,
                                           int32_t amsgrad, int32_t maximize, int32_t fused) {
    return guard([&] {
        at::NoGradGuard no_grad;
        for (int64_t i = 0; i < n; ++i) {
            at::Tensor& param = T(params[i]);
            at::Tensor& exp_avg = T(exp_avgs[i]);
            at::Tensor& exp_avg_sq = T(exp_avg_sqs[i]);
            at::Tensor* max_sq = amsgrad ? &T(max_exp_avg_sqs[i]) : nullptr;
            const double step = static_cast<double>(steps[i]);

            const double bias_correction1 = 1.0 - std::pow(beta1, step);
            const double bias_correction2 = 1.0 - std::pow(beta2, step);
            const double step_size = lr / bias_correction1;
            const double bias_correction2_sqrt = std::sqrt(bias_correction2);

            // The eager ops (PyTorch 1.13's single-tensor AdamW) on tensors or on pieces of them.
            auto eager = [&](at::Tensor p, at::Tensor g, at::Tensor m, at::Tensor v, at::Tensor* mx) {
                if (maximize) g = -g;
                p.mul_(1.0 - lr * weight_decay);
                m.lerp_(g, 1.0 - beta1);
                v.mul_(beta2).addcmul_(g, g, 1.0 - beta2);
                at::Tensor denom;
                if (mx != nullptr) {
                    at::maximum_out(*mx, *mx, v);
                    denom = (mx->sqrt() / bias_correction2_sqrt).add_(eps);
                } else {
                    denom = (v.sqrt() / bias_correction2_sqrt).add_(eps);
                }
                p.addcdiv_(m, denom, -step_size);
            };
            const at::Tensor& grad = T(grads[i]);
            if (fused != 0 && adamw_fusable(param, grad, exp_avg, exp_avg_sq, max_sq)) {
                if (param.scalar_type() == at::kFloat) {
                    // One pass with no temporaries (adamw_fused.cpp), the scalars as the eager ops take them.
                    const AdamWScalars scalars{static_cast<float>(1.0 - lr * weight_decay), static_cast<float>(1.0 - beta1),
                                               static_cast<float>(beta2), static_cast<float>(1.0 - beta2),
                                               static_cast<float>(bias_correction2_sqrt), static_cast<float>(eps),
                                               static_cast<float>(-step_size)};
                    adamw_one_pass(param, grad, exp_avg, exp_avg_sq, max_sq, scalars, maximize != 0);
                    continue;
                }
                if (param.scalar_type() == at::kBFloat16) {
                    // The eager ops a piece at a time: their temporaries are a piece's size and the result is theirs
                    // by construction (155 M elements: 174–207 ms against 148–151 over whole tensors; a one-pass
                    // bfloat16 loop was slower still).
                    const int64_t total = param.numel();
                    auto piece = [](const at::Tensor& t, int64_t at, int64_t len) { return t.view({-1}).narrow(0, at, len); };
                    for (int64_t at = 0; at < total; at += kAdamWPiece) {
                        int64_t len = std::min(kAdamWPiece, total - at);
                        at::Tensor mx;
                        if (max_sq != nullptr) mx = piece(*max_sq, at, len);
                        eager(piece(param, at, len), piece(grad, at, len), piece(exp_avg, at, len), piece(exp_avg_sq, at, len),
                              max_sq != nullptr ? &mx : nullptr);
                    }
                    continue;
                }
            }
            eager(param, grad, exp_avg, exp_avg_sq, max_sq);
        }
    });
}

// momentum_buffers[i] may be null on the first step with momentum; a new buffer is returned in
// new_buffers[i] (null when none was created).
FTA_EXPORT fta_status fta_optim_sgd_step(const fta_tensor* params, const fta_tensor* grads, const fta_tensor* momentum_buffers, int64_t n,
                                         double lr, double momentum, double dampening, double weight_decay, int32_t nesterov,
                                         int32_t maximize, fta_tensor* new_buffers) {
    return guard([&] {
        at::NoGradGuard no_grad;
        for (int64_t i = 0; i < n; ++i) new_buffers[i] = nullptr;
        for (int64_t i = 0; i < n; ++i) {
            at::Tensor& param = T(params[i]);
            at::Tensor d_p = maximize ? -T(grads[i]) : T(grads[i]);
            if (weight_decay != 0) d_p = d_p.add(param, weight_decay);
            if (momentum != 0) {
                at::Tensor buf;
                if (momentum_buffers[i] == nullptr) {
                    buf = d_p.clone().detach();
                    new_buffers[i] = wrap(buf);
                } else {
                    buf = T(momentum_buffers[i]);
                    buf.mul_(momentum).add_(d_p, 1.0 - dampening);
                }
                d_p = nesterov ? d_p.add(buf, momentum) : buf;
            }
            param.add_(d_p, -lr);
        }
    });
}

// Scales the gradients in place so their joint norm is at most max_norm; returns the norm
// before clipping. Parameters without a gradient are skipped. norm_type may be +inf.
FTA_EXPORT fta_status fta_nn_clip_grad_norm(const fta_tensor* params, int64_t n, double max_norm, double norm_type, double* total_norm) {
    return guard([&] {
        at::NoGradGuard no_grad;
        std::vector<at::Tensor> grads;
        for (int64_t i = 0; i < n; ++i) {
            at::Tensor g = T(params[i]).grad();
            if (g.defined()) grads.push_back(g);
        }
        if (grads.empty()) {
            *total_norm = 0.0;
            return;
        }
        at::Tensor total;
        if (std::isinf(norm_type)) {
            std::vector<at::Tensor> maxes;
            for (auto& g : grads) maxes.push_back(g.detach().abs().max());
            total = at::stack(maxes).max();
        } else {
            std::vector<at::Tensor> norms;
            for (auto& g : grads) norms.push_back(at::linalg_vector_norm(g.detach(), norm_type, c10::nullopt, false, c10::nullopt));
            total = at::linalg_vector_norm(at::stack(norms), norm_type, c10::nullopt, false, c10::nullopt);
        }
        at::Tensor clip_coef = max_norm / (total + 1e-6);
        at::Tensor clamped = at::clamp(clip_coef, c10::nullopt, 1.0);
        for (auto& g : grads) g.detach().mul_(clamped.to(g.device()));
        *total_norm = total.item<double>();
    });
}
