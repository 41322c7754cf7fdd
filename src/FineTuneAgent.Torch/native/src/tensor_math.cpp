// Element-wise arithmetic, comparisons, bitwise ops and reductions.
#include "common.h"

using namespace fta;

// Tensor-tensor and tensor-scalar forms of a binary op, plus the in-place forms.
#define FTA_BINARY(name, call)                                                                      \
    FTA_EXPORT fta_status fta_tensor_##name(fta_tensor a, fta_tensor b, fta_tensor* out) {          \
        return guard([&] { *out = wrap(call(T(a), T(b))); });                                       \
    }                                                                                               \
    FTA_EXPORT fta_status fta_tensor_##name##_scalar(fta_tensor a, fta_scalar b, fta_tensor* out) { \
        return guard([&] { *out = wrap(call(T(a), S(b))); });                                       \
    }
#define FTA_BINARY_INPLACE(name, method)                                                  \
    FTA_EXPORT fta_status fta_tensor_##name##_(fta_tensor a, fta_tensor b) {              \
        return guard([&] { T(a).method(T(b)); });                                         \
    }                                                                                     \
    FTA_EXPORT fta_status fta_tensor_##name##_scalar_(fta_tensor a, fta_scalar b) {       \
        return guard([&] { T(a).method(S(b)); });                                         \
    }

FTA_BINARY(mul, at::mul)
FTA_BINARY(div, at::div)
FTA_BINARY(pow, at::pow)
FTA_BINARY(remainder, at::remainder)
FTA_BINARY(eq, at::eq)
FTA_BINARY(ne, at::ne)
FTA_BINARY(lt, at::lt)
FTA_BINARY(le, at::le)
FTA_BINARY(gt, at::gt)
FTA_BINARY(ge, at::ge)
FTA_BINARY(bitwise_and, at::bitwise_and)
FTA_BINARY(bitwise_or, at::bitwise_or)
FTA_BINARY(bitwise_xor, at::bitwise_xor)
FTA_BINARY(bitwise_left_shift, at::bitwise_left_shift)
FTA_BINARY(bitwise_right_shift, at::bitwise_right_shift)
FTA_BINARY_INPLACE(mul, mul_)
FTA_BINARY_INPLACE(div, div_)
FTA_BINARY_INPLACE(pow, pow_)
FTA_BINARY_INPLACE(bitwise_and, bitwise_and_)
FTA_BINARY_INPLACE(bitwise_or, bitwise_or_)

// add and sub carry alpha: a + alpha * b.
FTA_EXPORT fta_status fta_tensor_add(fta_tensor a, fta_tensor b, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::add(T(a), T(b), S(alpha))); });
}
FTA_EXPORT fta_status fta_tensor_add_scalar(fta_tensor a, fta_scalar b, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::add(T(a), S(b), S(alpha))); });
}
FTA_EXPORT fta_status fta_tensor_add_(fta_tensor a, fta_tensor b, fta_scalar alpha) {
    return guard([&] { T(a).add_(T(b), S(alpha)); });
}
FTA_EXPORT fta_status fta_tensor_add_scalar_(fta_tensor a, fta_scalar b, fta_scalar alpha) {
    return guard([&] { T(a).add_(S(b), S(alpha)); });
}
FTA_EXPORT fta_status fta_tensor_sub(fta_tensor a, fta_tensor b, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::sub(T(a), T(b), S(alpha))); });
}
FTA_EXPORT fta_status fta_tensor_sub_scalar(fta_tensor a, fta_scalar b, fta_scalar alpha, fta_tensor* out) {
    return guard([&] { *out = wrap(at::sub(T(a), S(b), S(alpha))); });
}
FTA_EXPORT fta_status fta_tensor_sub_(fta_tensor a, fta_tensor b, fta_scalar alpha) {
    return guard([&] { T(a).sub_(T(b), S(alpha)); });
}
FTA_EXPORT fta_status fta_tensor_sub_scalar_(fta_tensor a, fta_scalar b, fta_scalar alpha) {
    return guard([&] { T(a).sub_(S(b), S(alpha)); });
}
// scalar - a
FTA_EXPORT fta_status fta_tensor_rsub_scalar(fta_tensor a, fta_scalar b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::rsub(T(a), S(b))); });
}
// scalar / a
FTA_EXPORT fta_status fta_tensor_rdiv_scalar(fta_tensor a, fta_scalar b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::reciprocal(T(a)).mul_(S(b))); });
}
FTA_EXPORT fta_status fta_tensor_maximum(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::maximum(T(a), T(b))); });
}
FTA_EXPORT fta_status fta_tensor_minimum(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::minimum(T(a), T(b))); });
}
FTA_EXPORT fta_status fta_tensor_logical_and(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::logical_and(T(a), T(b))); });
}
FTA_EXPORT fta_status fta_tensor_logical_or(fta_tensor a, fta_tensor b, fta_tensor* out) {
    return guard([&] { *out = wrap(at::logical_or(T(a), T(b))); });
}
// a + value * t1 * t2 and a + value * t1 / t2, in place (optimisers).
FTA_EXPORT fta_status fta_tensor_addcmul_(fta_tensor a, fta_tensor t1, fta_tensor t2, fta_scalar value) {
    return guard([&] { T(a).addcmul_(T(t1), T(t2), S(value)); });
}
FTA_EXPORT fta_status fta_tensor_addcdiv_(fta_tensor a, fta_tensor t1, fta_tensor t2, fta_scalar value) {
    return guard([&] { T(a).addcdiv_(T(t1), T(t2), S(value)); });
}
FTA_EXPORT fta_status fta_tensor_lerp_(fta_tensor a, fta_tensor end, fta_scalar weight) {
    return guard([&] { T(a).lerp_(T(end), S(weight)); });
}

#define FTA_UNARY(name, call)                                                   \
    FTA_EXPORT fta_status fta_tensor_##name(fta_tensor a, fta_tensor* out) {    \
        return guard([&] { *out = wrap(call(T(a))); });                         \
    }

FTA_UNARY(neg, at::neg)
FTA_UNARY(abs, at::abs)
FTA_UNARY(sqrt, at::sqrt)
FTA_UNARY(rsqrt, at::rsqrt)
FTA_UNARY(exp, at::exp)
FTA_UNARY(log, at::log)
FTA_UNARY(log1p, at::log1p)
FTA_UNARY(sin, at::sin)
FTA_UNARY(cos, at::cos)
FTA_UNARY(tanh, at::tanh)
FTA_UNARY(sigmoid, at::sigmoid)
FTA_UNARY(relu, at::relu)
FTA_UNARY(silu, at::silu)
FTA_UNARY(erf, at::erf)
FTA_UNARY(reciprocal, at::reciprocal)
FTA_UNARY(square, at::square)
FTA_UNARY(floor, at::floor)
FTA_UNARY(ceil, at::ceil)
FTA_UNARY(round, at::round)
FTA_UNARY(sign, at::sign)
FTA_UNARY(logical_not, at::logical_not)
FTA_UNARY(bitwise_not, at::bitwise_not)
FTA_UNARY(isnan, at::isnan)
FTA_UNARY(isinf, at::isinf)
FTA_UNARY(isfinite, at::isfinite)

FTA_EXPORT fta_status fta_tensor_sqrt_(fta_tensor a) {
    return guard([&] { T(a).sqrt_(); });
}
FTA_EXPORT fta_status fta_tensor_neg_(fta_tensor a) {
    return guard([&] { T(a).neg_(); });
}

// approximate: 0 = exact erf form, 1 = tanh approximation.
FTA_EXPORT fta_status fta_tensor_gelu(fta_tensor a, int32_t approximate, fta_tensor* out) {
    return guard([&] { *out = wrap(at::gelu(T(a), approximate ? "tanh" : "none")); });
}

FTA_EXPORT fta_status fta_tensor_clamp(fta_tensor a, int32_t has_min, fta_scalar min, int32_t has_max, fta_scalar max, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(S(min)) : c10::nullopt;
        c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(S(max)) : c10::nullopt;
        *out = wrap(at::clamp(T(a), lo, hi));
    });
}

FTA_EXPORT fta_status fta_tensor_clamp_(fta_tensor a, int32_t has_min, fta_scalar min, int32_t has_max, fta_scalar max) {
    return guard([&] {
        c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(S(min)) : c10::nullopt;
        c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(S(max)) : c10::nullopt;
        T(a).clamp_(lo, hi);
    });
}

// Reductions over a dimension list; ndim = 0 reduces over every element. dtype_code < 0 keeps
// PyTorch's default result dtype.
FTA_EXPORT fta_status fta_tensor_sum(fta_tensor a, const int64_t* dim_list, int64_t ndim, int32_t keepdim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::ScalarType> dt = dtype_code >= 0 ? c10::optional<at::ScalarType>(dtype(dtype_code)) : c10::nullopt;
        *out = wrap(ndim == 0 ? at::sum(T(a), dt) : at::sum(T(a), dims(dim_list, ndim), keepdim != 0, dt));
    });
}

FTA_EXPORT fta_status fta_tensor_mean(fta_tensor a, const int64_t* dim_list, int64_t ndim, int32_t keepdim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::ScalarType> dt = dtype_code >= 0 ? c10::optional<at::ScalarType>(dtype(dtype_code)) : c10::nullopt;
        *out = wrap(ndim == 0 ? at::mean(T(a), dt) : at::mean(T(a), dims(dim_list, ndim), keepdim != 0, dt));
    });
}

FTA_EXPORT fta_status fta_tensor_var(fta_tensor a, const int64_t* dim_list, int64_t ndim, int32_t unbiased, int32_t keepdim, fta_tensor* out) {
    return guard([&] {
        *out = wrap(ndim == 0 ? at::var(T(a), unbiased != 0) : at::var(T(a), dims(dim_list, ndim), unbiased != 0, keepdim != 0));
    });
}

FTA_EXPORT fta_status fta_tensor_amax(fta_tensor a, const int64_t* dim_list, int64_t ndim, int32_t keepdim, fta_tensor* out) {
    return guard([&] { *out = wrap(at::amax(T(a), dims(dim_list, ndim), keepdim != 0)); });
}

FTA_EXPORT fta_status fta_tensor_logsumexp(fta_tensor a, const int64_t* dim_list, int64_t ndim, int32_t keepdim, fta_tensor* out) {
    return guard([&] { *out = wrap(at::logsumexp(T(a), dims(dim_list, ndim), keepdim != 0)); });
}

FTA_EXPORT fta_status fta_tensor_max_all(fta_tensor a, fta_tensor* out) {
    return guard([&] { *out = wrap(at::max(T(a))); });
}

FTA_EXPORT fta_status fta_tensor_min_all(fta_tensor a, fta_tensor* out) {
    return guard([&] { *out = wrap(at::min(T(a))); });
}

FTA_EXPORT fta_status fta_tensor_max_dim(fta_tensor a, int64_t dim, int32_t keepdim, fta_tensor* values, fta_tensor* indices) {
    return guard([&] {
        auto r = at::max(T(a), dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}

FTA_EXPORT fta_status fta_tensor_min_dim(fta_tensor a, int64_t dim, int32_t keepdim, fta_tensor* values, fta_tensor* indices) {
    return guard([&] {
        auto r = at::min(T(a), dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}

// has_dim = 0: index into the flattened tensor.
FTA_EXPORT fta_status fta_tensor_argmax(fta_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, fta_tensor* out) {
    return guard([&] {
        *out = wrap(at::argmax(T(a), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0));
    });
}

FTA_EXPORT fta_status fta_tensor_argmin(fta_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, fta_tensor* out) {
    return guard([&] {
        *out = wrap(at::argmin(T(a), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0));
    });
}

FTA_EXPORT fta_status fta_tensor_topk(fta_tensor a, int64_t k, int64_t dim, int32_t largest, int32_t sorted, fta_tensor* values, fta_tensor* indices) {
    return guard([&] {
        auto r = at::topk(T(a), k, dim, largest != 0, sorted != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}

FTA_EXPORT fta_status fta_tensor_sort(fta_tensor a, int64_t dim, int32_t descending, int32_t stable, fta_tensor* values, fta_tensor* indices) {
    return guard([&] {
        auto r = at::sort(T(a), c10::optional<bool>(stable != 0), dim, descending != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}

FTA_EXPORT fta_status fta_tensor_argsort(fta_tensor a, int64_t dim, int32_t descending, fta_tensor* out) {
    return guard([&] { *out = wrap(at::argsort(T(a), dim, descending != 0)); });
}

// p-norm over dims (ndim = 0: over all elements), as torch.linalg.vector_norm.
FTA_EXPORT fta_status fta_tensor_norm(fta_tensor a, double p, const int64_t* dim_list, int64_t ndim, int32_t keepdim, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::IntArrayRef> d = ndim == 0 ? c10::nullopt : c10::optional<at::IntArrayRef>(dims(dim_list, ndim));
        *out = wrap(at::linalg_vector_norm(T(a), p, d, keepdim != 0, c10::nullopt));
    });
}

FTA_EXPORT fta_status fta_tensor_cumsum(fta_tensor a, int64_t dim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        c10::optional<at::ScalarType> dt = dtype_code >= 0 ? c10::optional<at::ScalarType>(dtype(dtype_code)) : c10::nullopt;
        *out = wrap(at::cumsum(T(a), dim, dt));
    });
}

FTA_EXPORT fta_status fta_tensor_any(fta_tensor a, fta_tensor* out) {
    return guard([&] { *out = wrap(at::any(T(a))); });
}

FTA_EXPORT fta_status fta_tensor_all(fta_tensor a, fta_tensor* out) {
    return guard([&] { *out = wrap(at::all(T(a))); });
}

FTA_EXPORT fta_status fta_tensor_allclose(fta_tensor a, fta_tensor b, double rtol, double atol, int32_t* out) {
    return guard([&] { *out = at::allclose(T(a), T(b), rtol, atol) ? 1 : 0; });
}

FTA_EXPORT fta_status fta_tensor_equal(fta_tensor a, fta_tensor b, int32_t* out) {
    return guard([&] { *out = at::equal(T(a), T(b)) ? 1 : 0; });
}
