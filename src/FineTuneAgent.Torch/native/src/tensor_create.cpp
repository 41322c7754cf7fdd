// Tensor creation and in-place random initialisation.
#include "common.h"

using namespace fta;

#define FTA_OPTS dtype_code, device_type, device_index

FTA_EXPORT fta_status fta_tensor_empty(const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::empty(dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_zeros(const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::zeros(dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_ones(const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::ones(dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_full(const int64_t* shape, int64_t ndim, fta_scalar value, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::full(dims(shape, ndim), S(value), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_rand(const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::rand(dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_randn(const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::randn(dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_randint(int64_t low, int64_t high, const int64_t* shape, int64_t ndim, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::randint(low, high, dims(shape, ndim), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_arange(fta_scalar start, fta_scalar end, fta_scalar step, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::arange(S(start), S(end), S(step), options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_linspace(double start, double end, int64_t steps, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::linspace(start, end, steps, options(FTA_OPTS)), requires_grad != 0)); });
}

FTA_EXPORT fta_status fta_tensor_eye(int64_t n, int64_t m, int32_t dtype_code, int32_t device_type, int32_t device_index, int32_t requires_grad, fta_tensor* out) {
    return guard([&] { *out = wrap(leaf(at::eye(n, m, options(FTA_OPTS)), requires_grad != 0)); });
}

// like: 0 empty, 1 zeros, 2 ones, 3 rand, 4 randn; same shape, dtype and device as t.
FTA_EXPORT fta_status fta_tensor_like(fta_tensor t, int32_t kind, fta_tensor* out) {
    return guard([&] {
        switch (kind) {
            case 0: *out = wrap(at::empty_like(T(t))); break;
            case 1: *out = wrap(at::zeros_like(T(t))); break;
            case 2: *out = wrap(at::ones_like(T(t))); break;
            case 3: *out = wrap(at::rand_like(T(t))); break;
            case 4: *out = wrap(at::randn_like(T(t))); break;
            default: throw std::invalid_argument("unknown *_like kind " + std::to_string(kind));
        }
    });
}

FTA_EXPORT fta_status fta_tensor_full_like(fta_tensor t, fta_scalar value, fta_tensor* out) {
    return guard([&] { *out = wrap(at::full_like(T(t), S(value))); });
}

// In-place initialisers run without recording autograd history, as torch.nn.init does.
FTA_EXPORT fta_status fta_tensor_uniform_(fta_tensor t, double from, double to) {
    return guard([&] {
        at::NoGradGuard no_grad;
        T(t).uniform_(from, to);
    });
}

FTA_EXPORT fta_status fta_tensor_normal_(fta_tensor t, double mean, double std) {
    return guard([&] {
        at::NoGradGuard no_grad;
        T(t).normal_(mean, std);
    });
}

FTA_EXPORT fta_status fta_tensor_bernoulli_(fta_tensor t, double p) {
    return guard([&] {
        at::NoGradGuard no_grad;
        T(t).bernoulli_(p);
    });
}

FTA_EXPORT fta_status fta_tensor_multinomial(fta_tensor probs, int64_t num_samples, int32_t replacement, fta_tensor* out) {
    return guard([&] { *out = wrap(at::multinomial(T(probs), num_samples, replacement != 0)); });
}
