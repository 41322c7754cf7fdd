// Matrix products and the neural-network functions of torch.nn.functional.
#include "common.h"

using namespace fta;

FTA_EXPORT fta_status fta_tensor_matmul(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::matmul(T(a), T(b))); });
}

FTA_EXPORT fta_status fta_tensor_mm(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::mm(T(a), T(b))); });
}

FTA_EXPORT fta_status fta_tensor_bmm(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::bmm(T(a), T(b))); });
}

FTA_EXPORT fta_status fta_tensor_baddbmm(fta_tensor input, fta_tensor a, fta_tensor b, fta_scalar beta, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::baddbmm(T(input), T(a), T(b), S(beta), S(alpha))); });
}

// beta·input + alpha·(a·b) in one op: the product accumulates onto input inside the matmul (LoRA's update onto the
// base layer's output) instead of a product tensor, a scaling pass and an addition pass.
FTA_EXPORT fta_status fta_tensor_addmm(fta_tensor input, fta_tensor a, fta_tensor b, fta_scalar beta, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::addmm(T(input), T(a), T(b), S(beta), S(alpha))); });
}

FTA_EXPORT fta_status fta_tensor_outer(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::outer(T(a), T(b))); });
}

FTA_EXPORT fta_status fta_tensor_einsum(const char* equation, const fta_tensor* list, int64_t n, fta_tensor* out) {
    return guard([&] {
        if (equation == nullptr) throw std::invalid_argument("einsum equation is null");
        *out = wrap(at::einsum(equation, tensors(list, n)));
    });
}

// y = x W^T + b; bias may be null.
FTA_EXPORT fta_status fta_nn_linear(fta_tensor input, fta_tensor weight, fta_tensor bias, fta_tensor* out) {
    return guard([&] { *out = wrap(at::linear(T(input), T(weight), opt(bias))); });
}

// dtype_code < 0 keeps the input dtype.
FTA_EXPORT fta_status fta_nn_softmax(fta_tensor input, int64_t dim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::ScalarType> dt = dtype_code >= 0 ? c10::optional<at::ScalarType>(dtype(dtype_code)) : c10::nullopt;
        *out = wrap(at::softmax(T(input), dim, dt));
    });
}

FTA_EXPORT fta_status fta_nn_log_softmax(fta_tensor input, int64_t dim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::ScalarType> dt = dtype_code >= 0 ? c10::optional<at::ScalarType>(dtype(dtype_code)) : c10::nullopt;
        *out = wrap(at::log_softmax(T(input), dim, dt));
    });
}

FTA_EXPORT fta_status fta_nn_dropout(fta_tensor input, double p, int32_t training, fta_tensor* out) {
    return guard([&] { *out = wrap(at::dropout(T(input), p, training != 0)); });
}

// padding_idx < 0: none.
FTA_EXPORT fta_status fta_nn_embedding(fta_tensor weight, fta_tensor indices, int64_t padding_idx, fta_tensor* out) {
    return guard([&] { *out = wrap(at::embedding(T(weight), T(indices), padding_idx)); });
}

// reduction: 0 none, 1 mean, 2 sum (at::Reduction order). weight may be null.
FTA_EXPORT fta_status fta_nn_cross_entropy(fta_tensor input, fta_tensor target, fta_tensor weight, int32_t reduction, int64_t ignore_index, double label_smoothing, fta_tensor* out) {
    return guard([&] {
        if (reduction < 0 || reduction > 2) throw std::invalid_argument("reduction must be 0 (none), 1 (mean) or 2 (sum)");
        *out = wrap(at::cross_entropy_loss(T(input), T(target), opt(weight), reduction, ignore_index, label_smoothing));
    });
}

FTA_EXPORT fta_status fta_nn_nll_loss(fta_tensor input, fta_tensor target, fta_tensor weight, int32_t reduction, int64_t ignore_index, fta_tensor* out) {
    return guard([&] {
        if (reduction < 0 || reduction > 2) throw std::invalid_argument("reduction must be 0 (none), 1 (mean) or 2 (sum)");
        *out = wrap(at::nll_loss(T(input), T(target), opt(weight), reduction, ignore_index));
    });
}

FTA_EXPORT fta_status fta_nn_mse_loss(fta_tensor input, fta_tensor target, int32_t reduction, fta_tensor* out) {
    return guard([&] {
        if (reduction < 0 || reduction > 2) throw std::invalid_argument("reduction must be 0 (none), 1 (mean) or 2 (sum)");
        *out = wrap(at::mse_loss(T(input), T(target), reduction));
    });
}

FTA_EXPORT fta_status fta_nn_layer_norm(fta_tensor input, const int64_t* shape, int64_t ndim, fta_tensor weight, fta_tensor bias, double eps, fta_tensor* out) {
    return guard([&] { *out = wrap(at::layer_norm(T(input), dims(shape, ndim), opt(weight), opt(bias), eps)); });
}

// Reduced SVD: a = U diag(S) Vh.
FTA_EXPORT fta_status fta_linalg_svd(fta_tensor a, int32_t full_matrices, fta_tensor* u, fta_tensor* s, fta_tensor* vh) {
    return guard([&] {
        auto r = at::linalg_svd(T(a), full_matrices != 0);
        *u = wrap(std::get<0>(r));
        *s = wrap(std::get<1>(r));
        *vh = wrap(std::get<2>(r));
    });
}
