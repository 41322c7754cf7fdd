// Process-wide state: versions, errors, threads, seeds, devices, grad mode and autocast.
#include "common.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/api/include/torch/version.h>

#ifdef FTA_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace fta {
namespace {
thread_local std::string last_error;
}
void set_error(const char* message) { last_error = message ? message : ""; }
}  // namespace fta

using namespace fta;

#ifndef FTA_WITH_CUDA
namespace {
[[noreturn]] void throw_no_cuda(int32_t device_index) {
    throw NotSupported("cuda:" + std::to_string(device_index) +
                       " requested, but the native shim was built against a libtorch without CUDA; "
                       "set TORCH_DIR to a CUDA build of libtorch and rebuild");
}
}  // namespace
#endif

// The message of the last failed call on this thread; valid until the next failure on it.
FTA_EXPORT fta_status fta_error_message(const char** out) {
    return guard([&] { *out = last_error.c_str(); });
}

FTA_EXPORT fta_status fta_runtime_abi_version(int32_t* out) {
    return guard([&] { *out = FTA_ABI_VERSION; });
}

FTA_EXPORT fta_status fta_runtime_torch_version(int32_t* major, int32_t* minor, int32_t* patch) {
    return guard([&] {
        *major = TORCH_VERSION_MAJOR;
        *minor = TORCH_VERSION_MINOR;
        *patch = TORCH_VERSION_PATCH;
    });
}

// Whether this build was compiled with CUDA and with each collective backend.
FTA_EXPORT fta_status fta_runtime_build_features(int32_t* cuda, int32_t* gloo, int32_t* nccl) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        *cuda = 1;
#else
        *cuda = 0;
#endif
#ifdef USE_C10D_GLOO
        *gloo = 1;
#else
        *gloo = 0;
#endif
#ifdef USE_C10D_NCCL
        *nccl = 1;
#else
        *nccl = 0;
#endif
    });
}

// A human-readable description of how libtorch was configured (BLAS, OpenMP, ISA, ...).
FTA_EXPORT fta_status fta_runtime_config(const char** out) {
    return guard([&] {
        static const std::string config = at::show_config();
        *out = config.c_str();
    });
}

FTA_EXPORT fta_status fta_runtime_set_num_threads(int32_t n) {
    return guard([&] {
        if (n < 1) throw std::invalid_argument("thread count must be at least 1");
        at::set_num_threads(n);
    });
}

FTA_EXPORT fta_status fta_runtime_get_num_threads(int32_t* out) {
    return guard([&] { *out = at::get_num_threads(); });
}

FTA_EXPORT fta_status fta_runtime_manual_seed(int64_t seed) {
    return guard([&] {
        at::manual_seed(static_cast<uint64_t>(seed));
    });
}

// The default CPU generator's state (a uint8 tensor), as torch.get_rng_state(); a checkpoint saves
// it so a resumed run draws the same dropout masks and random numbers as an uninterrupted one.
FTA_EXPORT fta_status fta_runtime_get_rng_state(fta_tensor* out) {
    return guard([&] {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        *out = wrap(gen.get_state());
    });
}

// Restores what fta_runtime_get_rng_state returned, as torch.set_rng_state(state).
FTA_EXPORT fta_status fta_runtime_set_rng_state(fta_tensor state) {
    return guard([&] {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(T(state));
    });
}

// A CUDA device's default generator state, as torch.cuda.get_rng_state(device): gradient
// checkpointing replays a layer's dropout masks in backward from the state before its forward.
FTA_EXPORT fta_status fta_cuda_get_rng_state(int32_t device_index, fta_tensor* out) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
        std::lock_guard<std::mutex> lock(gen.mutex());
        *out = wrap(gen.get_state());
#else
        throw_no_cuda(device_index);
#endif
    });
}

// Restores what fta_cuda_get_rng_state returned, as torch.cuda.set_rng_state(state, device).
FTA_EXPORT fta_status fta_cuda_set_rng_state(int32_t device_index, fta_tensor state) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(T(state));
#else
        (void)state;
        throw_no_cuda(device_index);
#endif
    });
}

FTA_EXPORT fta_status fta_cuda_is_available(int32_t* out) {
    return guard([&] { *out = at::hasCUDA() ? 1 : 0; });
}

FTA_EXPORT fta_status fta_cuda_device_count(int32_t* out) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        *out = at::hasCUDA() ? static_cast<int32_t>(c10::cuda::device_count()) : 0;
#else
        *out = 0;
#endif
    });
}

// Bytes held by live tensors, bytes reserved by the caching allocator, and the device's total
// and free memory as the driver reports them.
FTA_EXPORT fta_status fta_cuda_memory_info(int32_t device_index, int64_t* allocated, int64_t* reserved, int64_t* total, int64_t* free_bytes) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_index);
        *allocated = stats.allocated_bytes[0].current;
        *reserved = stats.reserved_bytes[0].current;
        int previous = 0;
        cudaGetDevice(&previous);
        cudaSetDevice(device_index);
        size_t f = 0, t = 0;
        cudaError_t err = cudaMemGetInfo(&f, &t);
        cudaSetDevice(previous);
        if (err != cudaSuccess) throw std::runtime_error(std::string("cudaMemGetInfo failed: ") + cudaGetErrorString(err));
        *total = static_cast<int64_t>(t);
        *free_bytes = static_cast<int64_t>(f);
#else
        throw_no_cuda(device_index);
#endif
    });
}

FTA_EXPORT fta_status fta_cuda_device_properties(int32_t device_index, const char** name, int32_t* major, int32_t* minor) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        static thread_local std::string device_name;
        cudaDeviceProp prop;
        cudaError_t err = cudaGetDeviceProperties(&prop, device_index);
        if (err != cudaSuccess) throw std::runtime_error(std::string("cudaGetDeviceProperties failed: ") + cudaGetErrorString(err));
        device_name = prop.name;
        *name = device_name.c_str();
        *major = prop.major;
        *minor = prop.minor;
#else
        throw_no_cuda(device_index);
#endif
    });
}

FTA_EXPORT fta_status fta_cuda_synchronize(int32_t device_index) {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        c10::cuda::device_synchronize();
#else
        throw_no_cuda(device_index);
#endif
    });
}

FTA_EXPORT fta_status fta_cuda_empty_cache() {
    return guard([&] {
#ifdef FTA_WITH_CUDA
        c10::cuda::CUDACachingAllocator::emptyCache();
#endif
    });
}

FTA_EXPORT fta_status fta_autograd_is_grad_enabled(int32_t* out) {
    return guard([&] { *out = at::GradMode::is_enabled() ? 1 : 0; });
}

// Grad mode is thread-local in libtorch, as in PyTorch; the C# scopes restore it on dispose.
FTA_EXPORT fta_status fta_autograd_set_grad_enabled(int32_t enabled) {
    return guard([&] { at::GradMode::set_enabled(enabled != 0); });
}

// Autocast state for one device type (0 = CPU, 1 = CUDA), as torch.autocast sets it.
FTA_EXPORT fta_status fta_autocast_get(int32_t device_type, int32_t* enabled, int32_t* dtype_code) {
    return guard([&] {
        if (device_type == 0) {
            *enabled = at::autocast::is_cpu_enabled() ? 1 : 0;
            *dtype_code = static_cast<int32_t>(at::autocast::get_autocast_cpu_dtype());
        } else if (device_type == 1) {
            *enabled = at::autocast::is_enabled() ? 1 : 0;
            *dtype_code = static_cast<int32_t>(at::autocast::get_autocast_gpu_dtype());
        } else {
            throw std::invalid_argument("autocast supports device types cpu and cuda only");
        }
    });
}

// Entering (enter=1) increments autocast nesting; leaving the outermost scope clears the cast
// cache, as torch.autocast.__exit__ does.
FTA_EXPORT fta_status fta_autocast_set(int32_t device_type, int32_t enabled, int32_t dtype_code, int32_t enter) {
    return guard([&] {
        auto dt = dtype(dtype_code);
        if (device_type == 0) {
            at::autocast::set_cpu_enabled(enabled != 0);
            at::autocast::set_autocast_cpu_dtype(dt);
        } else if (device_type == 1) {
            at::autocast::set_enabled(enabled != 0);
            at::autocast::set_autocast_gpu_dtype(dt);
        } else {
            throw std::invalid_argument("autocast supports device types cpu and cuda only");
        }
        if (enter) {
            at::autocast::increment_nesting();
        } else if (at::autocast::decrement_nesting() == 0) {
            at::autocast::clear_cache();
        }
    });
}
