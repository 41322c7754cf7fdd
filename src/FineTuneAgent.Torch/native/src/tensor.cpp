// Tensor handles: lifetime, metadata, and copies between managed memory and tensors.
#include "common.h"

#include <cstring>
#include <sstream>

using namespace fta;

FTA_EXPORT fta_status fta_tensor_free(fta_tensor t) {
    return guard([&] { delete static_cast<at::Tensor*>(t); });
}

// A second handle to the same tensor (shares storage and autograd identity).
FTA_EXPORT fta_status fta_tensor_alias(fta_tensor t, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t)); });
}

FTA_EXPORT fta_status fta_tensor_dim(fta_tensor t, int64_t* out) {
    return guard([&] { *out = T(t).dim(); });
}

// Writes up to capacity sizes into out; the caller asks fta_tensor_dim first.
FTA_EXPORT fta_status fta_tensor_shape(fta_tensor t, int64_t* out, int64_t capacity) {
    return guard([&] {
        auto sizes = T(t).sizes();
        if (static_cast<int64_t>(sizes.size()) > capacity) throw std::out_of_range("shape buffer too small");
        for (size_t i = 0; i < sizes.size(); ++i) out[i] = sizes[i];
    });
}

FTA_EXPORT fta_status fta_tensor_stride(fta_tensor t, int64_t* out, int64_t capacity) {
    return guard([&] {
        auto strides = T(t).strides();
        if (static_cast<int64_t>(strides.size()) > capacity) throw std::out_of_range("stride buffer too small");
        for (size_t i = 0; i < strides.size(); ++i) out[i] = strides[i];
    });
}

FTA_EXPORT fta_status fta_tensor_numel(fta_tensor t, int64_t* out) {
    return guard([&] { *out = T(t).numel(); });
}

FTA_EXPORT fta_status fta_tensor_dtype(fta_tensor t, int32_t* out) {
    return guard([&] { *out = static_cast<int32_t>(T(t).scalar_type()); });
}

FTA_EXPORT fta_status fta_tensor_element_size(fta_tensor t, int64_t* out) {
    return guard([&] { *out = static_cast<int64_t>(T(t).element_size()); });
}

FTA_EXPORT fta_status fta_tensor_device(fta_tensor t, int32_t* type, int32_t* index) {
    return guard([&] {
        auto d = T(t).device();
        *type = static_cast<int32_t>(d.type());
        *index = d.index();
    });
}

FTA_EXPORT fta_status fta_tensor_is_contiguous(fta_tensor t, int32_t* out) {
    return guard([&] { *out = T(t).is_contiguous() ? 1 : 0; });
}

FTA_EXPORT fta_status fta_tensor_data_ptr(fta_tensor t, void** out) {
    return guard([&] { *out = T(t).data_ptr(); });
}

// Copies the tensor's elements (row-major, any device, any layout) into dst, which holds
// exactly numel * element_size bytes.
FTA_EXPORT fta_status fta_tensor_copy_to_buffer(fta_tensor t, void* dst, int64_t nbytes) {
    return guard([&] {
        auto src = T(t).detach().to(at::kCPU).contiguous();
        int64_t need = src.numel() * static_cast<int64_t>(src.element_size());
        if (need != nbytes) throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes, tensor needs " + std::to_string(need));
        if (need > 0) std::memcpy(dst, src.data_ptr(), static_cast<size_t>(need));
    });
}

// A new CPU tensor of the given dtype and shape holding a copy of src (nbytes must match).
FTA_EXPORT fta_status fta_tensor_from_buffer(const void* src, int64_t nbytes, const int64_t* shape, int64_t ndim, int32_t dtype_code, fta_tensor* out) {
    return guard([&] {
        auto t = at::empty(dims(shape, ndim), at::TensorOptions().dtype(dtype(dtype_code)));
        int64_t need = t.numel() * static_cast<int64_t>(t.element_size());
        if (need != nbytes) throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes, shape and dtype need " + std::to_string(need));
        if (need > 0) std::memcpy(t.data_ptr(), src, static_cast<size_t>(need));
        *out = wrap(std::move(t));
    });
}

FTA_EXPORT fta_status fta_tensor_item_double(fta_tensor t, double* out) {
    return guard([&] { *out = T(t).item<double>(); });
}

FTA_EXPORT fta_status fta_tensor_item_int64(fta_tensor t, int64_t* out) {
    return guard([&] { *out = T(t).item<int64_t>(); });
}

// at::print's rendering, kept per thread until the next call on it.
FTA_EXPORT fta_status fta_tensor_to_string(fta_tensor t, const char** out) {
    return guard([&] {
        static thread_local std::string text;
        std::ostringstream os;
        os << T(t);
        text = os.str();
        *out = text.c_str();
    });
}

FTA_EXPORT fta_status fta_tensor_to_dtype(fta_tensor t, int32_t dtype_code, int32_t copy, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).to(dtype(dtype_code), false, copy != 0)); });
}

FTA_EXPORT fta_status fta_tensor_to_device(fta_tensor t, int32_t device_type, int32_t device_index, int32_t non_blocking, int32_t copy, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).to(device(device_type, device_index), non_blocking != 0, copy != 0)); });
}

FTA_EXPORT fta_status fta_tensor_clone(fta_tensor t, fta_tensor* out) {
    return guard([&] { *out = wrap(T(t).clone()); });
}

FTA_EXPORT fta_status fta_tensor_copy_(fta_tensor dst, fta_tensor src, int32_t non_blocking) {
    return guard([&] { T(dst).copy_(T(src), non_blocking != 0); });
}

FTA_EXPORT fta_status fta_tensor_fill_(fta_tensor t, fta_scalar value) {
    return guard([&] { T(t).fill_(S(value)); });
}

FTA_EXPORT fta_status fta_tensor_zero_(fta_tensor t) {
    return guard([&] { T(t).zero_(); });
}

// Replaces t's data (dtype, device, storage) in place while keeping its identity, as
// `param.data = x` does in PyTorch; modules use it for to(dtype/device).
FTA_EXPORT fta_status fta_tensor_set_data(fta_tensor t, fta_tensor data) {
    return guard([&] { T(t).set_data(T(data)); });
}
