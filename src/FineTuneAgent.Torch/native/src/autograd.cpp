// Autograd: gradient flags, backward, torch.autograd.grad.
#include "common.h"

using namespace fta;

FTA_EXPORT fta_status fta_tensor_requires_grad(fta_tensor t, int32_t* out) {
    return guard([&] { *out = T(t).requires_grad() ? 1 : 0; });
}

FTA_EXPORT fta_status fta_tensor_set_requires_grad(fta_tensor t, int32_t requires_grad) {
    return guard([&] { T(t).set_requires_grad(requires_grad != 0); });
}

FTA_EXPORT fta_status fta_tensor_is_leaf(fta_tensor t, int32_t* out) {
    return guard([&] { *out = T(t).is_leaf() ? 1 : 0; });
}

// The accumulated gradient, or null when there is none.
FTA_EXPORT fta_status fta_tensor_grad(fta_tensor t, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).grad()); });
}

// Sets (or, with a null grad, clears) the gradient.
FTA_EXPORT fta_status fta_tensor_set_grad(fta_tensor t, fta_tensor grad) {
    return guard([&] { T(t).mutable_grad() = grad ? T(grad) : at::Tensor(); });
}

FTA_EXPORT fta_status fta_tensor_retain_grad(fta_tensor t) {
    return guard([&] { T(t).retain_grad(); });
}

// gradient may be null for a scalar output.
FTA_EXPORT fta_status fta_tensor_backward(fta_tensor t, fta_tensor gradient, int32_t retain_graph, int32_t create_graph) {
    return guard([&] {
        c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
        T(t).backward(gradient ? T(gradient) : at::Tensor(), retain, create_graph != 0);
    });
}

// torch.autograd.grad: results go into out[0..n_inputs); an unused input gives null when
// allow_unused is set.
FTA_EXPORT fta_status fta_autograd_grad(const fta_tensor* outputs, int64_t n_outputs, const fta_tensor* inputs, int64_t n_inputs,
                                        const fta_tensor* grad_outputs, int64_t n_grad_outputs, int32_t retain_graph,
                                        int32_t create_graph, int32_t allow_unused, fta_tensor* out) {
    return guard([&] {
        auto outs = tensors(outputs, n_outputs);
        auto ins = tensors(inputs, n_inputs);
        std::vector<at::Tensor> grads_out;
        if (n_grad_outputs > 0) {
            if (n_grad_outputs != n_outputs) throw std::invalid_argument("grad_outputs must match outputs in length");
            for (int64_t i = 0; i < n_grad_outputs; ++i) grads_out.push_back(grad_outputs[i] ? T(grad_outputs[i]) : at::Tensor());
        }
        c10::optional<bool> retain = retain_graph < 0 ? c10::nullopt : c10::optional<bool>(retain_graph != 0);
        auto result = torch::autograd::grad(outs, ins, grads_out, retain, create_graph != 0, allow_unused != 0);
        for (size_t i = 0; i < result.size(); ++i) out[i] = wrap(result[i]);
    });
}
