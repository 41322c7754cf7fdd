// Views, reshaping, indexing and joining.
#include "common.h"

using namespace fta;

FTA_EXPORT fta_status fta_tensor_view(fta_tensor t, const int64_t* shape, int64_t ndim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).view(dims(shape, ndim))); });
}

FTA_EXPORT fta_status fta_tensor_reshape(fta_tensor t, const int64_t* shape, int64_t ndim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).reshape(dims(shape, ndim))); });
}

FTA_EXPORT fta_status fta_tensor_flatten(fta_tensor t, int64_t start_dim, int64_t end_dim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).flatten(start_dim, end_dim)); });
}

FTA_EXPORT fta_status fta_tensor_transpose(fta_tensor t, int64_t dim0, int64_t dim1, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).transpose(dim0, dim1)); });
}

FTA_EXPORT fta_status fta_tensor_permute(fta_tensor t, const int64_t* order, int64_t ndim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).permute(dims(order, ndim))); });
}

FTA_EXPORT fta_status fta_tensor_contiguous(fta_tensor t, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).contiguous()); });
}

FTA_EXPORT fta_status fta_tensor_narrow(fta_tensor t, int64_t dim, int64_t start, int64_t length, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).narrow(dim, start, length)); });
}

FTA_EXPORT fta_status fta_tensor_slice(fta_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).slice(dim, start, end, step)); });
}

FTA_EXPORT fta_status fta_tensor_select(fta_tensor t, int64_t dim, int64_t index, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).select(dim, index)); });
}

FTA_EXPORT fta_status fta_tensor_index_select(fta_tensor t, int64_t dim, fta_tensor index, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).index_select(dim, T(index))); });
}

FTA_EXPORT fta_status fta_tensor_gather(fta_tensor t, int64_t dim, fta_tensor index, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).gather(dim, T(index))); });
}

FTA_EXPORT fta_status fta_tensor_scatter(fta_tensor t, int64_t dim, fta_tensor index, fta_tensor src, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).scatter(dim, T(index), T(src))); });
}

FTA_EXPORT fta_status fta_tensor_index_copy_(fta_tensor t, int64_t dim, fta_tensor index, fta_tensor src) {
    return guard([&] { T(t).index_copy_(dim, T(index), T(src)); });
}

// t[index] for a boolean mask or an integer index tensor along dim 0 (advanced indexing).
FTA_EXPORT fta_status fta_tensor_index(fta_tensor t, fta_tensor index, fta_tensor* out) {
    return guard([&] {
        c10::List<c10::optional<at::Tensor>> idx;
        idx.push_back(T(index));
        *out = wrap(at::index(T(t), idx));
    });
}

FTA_EXPORT fta_status fta_tensor_index_put_(fta_tensor t, fta_tensor index, fta_tensor values, int32_t accumulate) {
    return guard([&] {
        c10::List<c10::optional<at::Tensor>> idx;
        idx.push_back(T(index));
        T(t).index_put_(idx, T(values), accumulate != 0);
    });
}

FTA_EXPORT fta_status fta_tensor_masked_fill(fta_tensor t, fta_tensor mask, fta_scalar value, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).masked_fill(T(mask), S(value))); });
}

FTA_EXPORT fta_status fta_tensor_masked_fill_(fta_tensor t, fta_tensor mask, fta_scalar value) {
    return guard([&] { T(t).masked_fill_(T(mask), S(value)); });
}

FTA_EXPORT fta_status fta_tensor_masked_select(fta_tensor t, fta_tensor mask, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).masked_select(T(mask))); });
}

FTA_EXPORT fta_status fta_tensor_where(fta_tensor condition, fta_tensor x, fta_tensor y, fta_tensor* out) {
    return guard([&] { *out = wrap(at::where(T(condition), T(x), T(y))); });
}

FTA_EXPORT fta_status fta_tensor_where_scalar(fta_tensor condition, fta_tensor x, fta_scalar y, fta_tensor* out) {
    return guard([&] { *out = wrap(at::where(T(condition), T(x), S(y))); });
}

FTA_EXPORT fta_status fta_tensor_cat(const fta_tensor* list, int64_t n, int64_t dim, fta_tensor* out) {
    return guard([&] { *out = wrap(at::cat(tensors(list, n), dim)); });
}

FTA_EXPORT fta_status fta_tensor_stack(const fta_tensor* list, int64_t n, int64_t dim, fta_tensor* out) {
    return guard([&] { *out = wrap(at::stack(tensors(list, n), dim)); });
}

// Results go into out[0..count); count is returned so the caller can free what it got.
FTA_EXPORT fta_status fta_tensor_chunk(fta_tensor t, int64_t chunks, int64_t dim, fta_tensor* out, int64_t capacity, int64_t* count) {
    return guard([&] {
        auto parts = T(t).chunk(chunks, dim);
        wrap_all(parts, out, capacity);
        *count = static_cast<int64_t>(parts.size());
    });
}

FTA_EXPORT fta_status fta_tensor_split(fta_tensor t, int64_t split_size, int64_t dim, fta_tensor* out, int64_t capacity, int64_t* count) {
    return guard([&] {
        auto parts = T(t).split(split_size, dim);
        wrap_all(parts, out, capacity);
        *count = static_cast<int64_t>(parts.size());
    });
}

FTA_EXPORT fta_status fta_tensor_split_with_sizes(fta_tensor t, const int64_t* sizes, int64_t n, int64_t dim, fta_tensor* out, int64_t capacity, int64_t* count) {
    return guard([&] {
        auto parts = T(t).split_with_sizes(dims(sizes, n), dim);
        wrap_all(parts, out, capacity);
        *count = static_cast<int64_t>(parts.size());
    });
}

FTA_EXPORT fta_status fta_tensor_unsqueeze(fta_tensor t, int64_t dim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).unsqueeze(dim)); });
}

// has_dim = 0 squeezes every size-1 dimension.
FTA_EXPORT fta_status fta_tensor_squeeze(fta_tensor t, int32_t has_dim, int64_t dim, fta_tensor* out) {
    return guard([&] { *out = wrap(has_dim ? T(t).squeeze(dim) : T(t).squeeze()); });
}

FTA_EXPORT fta_status fta_tensor_expand(fta_tensor t, const int64_t* shape, int64_t ndim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).expand(dims(shape, ndim))); });
}

FTA_EXPORT fta_status fta_tensor_repeat(fta_tensor t, const int64_t* repeats, int64_t ndim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).repeat(dims(repeats, ndim))); });
}

FTA_EXPORT fta_status fta_tensor_repeat_interleave(fta_tensor t, int64_t repeats, int64_t dim, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).repeat_interleave(repeats, dim)); });
}

FTA_EXPORT fta_status fta_tensor_tril(fta_tensor t, int64_t diagonal, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).tril(diagonal)); });
}

FTA_EXPORT fta_status fta_tensor_triu(fta_tensor t, int64_t diagonal, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).triu(diagonal)); });
}

FTA_EXPORT fta_status fta_tensor_flip(fta_tensor t, const int64_t* dim_list, int64_t n, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).flip(dims(dim_list, n))); });
}

FTA_EXPORT fta_status fta_tensor_detach(fta_tensor t, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).detach()); });
}

FTA_EXPORT fta_status fta_tensor_detach_(fta_tensor t) {
    return guard([&] { T(t).detach_(); });
}
