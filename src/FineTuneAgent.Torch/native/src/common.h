// Shared by every shim source: the export macro, the guard that keeps C++ exceptions on this side
// of the C ABI, and conversions between ABI types and ATen types.
#pragma once
#include "pch.h"
#include "fta_torch.h"

#define FTA_EXPORT extern "C" __attribute__((visibility("default")))

namespace fta {

// Records the message of a failure for fta_error_message; thread-local because libtorch and
// the C# caller may run ops on several threads at once.
void set_error(const char* message);

// Thrown by shim code for c10d failures so the caller can tell them from tensor errors.
struct DistributedError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Thrown when this libtorch build lacks a feature (CUDA, NCCL).
struct NotSupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs body and maps every exception to a status. Every export's body is `return guard(...)`;
// tests/FineTuneAgent.Torch.Tests checks that no export escapes this rule.
template <class F>
inline fta_status guard(F&& body) noexcept {
    try {
        body();
        return FTA_OK;
    } catch (const c10::OutOfMemoryError& e) {
        set_error(e.what_without_backtrace());
        return FTA_OUT_OF_MEMORY;
    } catch (const c10::NotImplementedError& e) {
        set_error(e.what_without_backtrace());
        return FTA_NOT_SUPPORTED;
    } catch (const c10::ValueError& e) {
        set_error(e.what_without_backtrace());
        return FTA_ARGUMENT_ERROR;
    } catch (const c10::IndexError& e) {
        set_error(e.what_without_backtrace());
        return FTA_ARGUMENT_ERROR;
    } catch (const c10::TypeError& e) {
        set_error(e.what_without_backtrace());
        return FTA_ARGUMENT_ERROR;
    } catch (const c10::Error& e) {
        set_error(e.what_without_backtrace());
        return FTA_ERROR;
    } catch (const std::bad_alloc& e) {
        set_error("out of memory (std::bad_alloc)");
        return FTA_OUT_OF_MEMORY;
    } catch (const DistributedError& e) {
        set_error(e.what());
        return FTA_DISTRIBUTED_ERROR;
    } catch (const NotSupported& e) {
        set_error(e.what());
        return FTA_NOT_SUPPORTED;
    } catch (const std::invalid_argument& e) {
        set_error(e.what());
        return FTA_ARGUMENT_ERROR;
    } catch (const std::out_of_range& e) {
        set_error(e.what());
        return FTA_ARGUMENT_ERROR;
    } catch (const std::exception& e) {
        set_error(e.what());
        return FTA_ERROR;
    } catch (...) {
        set_error("unknown C++ exception");
        return FTA_UNKNOWN_ERROR;
    }
}

inline at::Tensor& T(fta_tensor t) {
    if (t == nullptr) throw std::invalid_argument("tensor handle is null");
    return *static_cast<at::Tensor*>(t);
}

// Optional tensor argument: null handle means "none".
inline c10::optional<at::Tensor> opt(fta_tensor t) {
    if (t == nullptr) return c10::nullopt;
    return *static_cast<at::Tensor*>(t);
}

// Moves a result into a new handle; an undefined tensor (e.g. a missing gradient) becomes null.
inline fta_tensor wrap(at::Tensor t) {
    if (!t.defined()) return nullptr;
    return new at::Tensor(std::move(t));
}

inline at::Scalar S(const fta_scalar& s) {
    switch (s.kind) {
        case 0: return at::Scalar(s.f);
        case 1: return at::Scalar(static_cast<int64_t>(s.i));
        case 2: return at::Scalar(s.i != 0);
        default: throw std::invalid_argument("scalar kind must be 0 (float), 1 (int) or 2 (bool)");
    }
}

inline at::IntArrayRef dims(const int64_t* p, int64_t n) {
    if (n < 0 || (n > 0 && p == nullptr)) throw std::invalid_argument("invalid dimension list");
    return at::IntArrayRef(p, static_cast<size_t>(n));
}

inline at::ScalarType dtype(int32_t code) {
    if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::NumOptions))
        throw std::invalid_argument("unknown dtype code " + std::to_string(code));
    return static_cast<at::ScalarType>(code);
}

inline at::Device device(int32_t type, int32_t index) {
    return at::Device(static_cast<c10::DeviceType>(type), static_cast<c10::DeviceIndex>(index));
}

// ATen factories ignore requires_grad in TensorOptions (torch:: factories apply it afterwards),
// so creation exports pass it to leaf() instead.
inline at::TensorOptions options(int32_t dtype_code, int32_t device_type, int32_t device_index) {
    return at::TensorOptions().dtype(dtype(dtype_code)).device(device(device_type, device_index));
}

inline at::Tensor leaf(at::Tensor t, bool requires_grad) {
    if (requires_grad) t.set_requires_grad(true);
    return t;
}

inline std::vector<at::Tensor> tensors(const fta_tensor* handles, int64_t n) {
    if (n < 0 || (n > 0 && handles == nullptr)) throw std::invalid_argument("invalid tensor list");
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v.push_back(T(handles[i]));
    return v;
}

// Writes a list of results into caller-provided handle slots (the caller knows the count).
inline void wrap_all(const std::vector<at::Tensor>& v, fta_tensor* out, int64_t capacity) {
    if (static_cast<int64_t>(v.size()) > capacity) throw std::out_of_range("result list larger than the caller's buffer");
    for (size_t i = 0; i < v.size(); ++i) out[i] = wrap(v[i]);
}

}  // namespace fta
