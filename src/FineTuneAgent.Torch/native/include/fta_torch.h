// The C ABI of libfta_torch.so. Every export is named fta_<area>_<verb>, takes fixed-width
// arguments, returns an fta_status and hands results back through out-parameters. No C++
// exception crosses this boundary: each body runs inside fta_guard (src/common.h), which turns
// it into a status plus a thread-local message read with fta_error_message on the same thread.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped whenever an export changes signature or meaning; the C# side refuses a mismatch.
#define FTA_ABI_VERSION 1

typedef int32_t fta_status;
enum {
    FTA_OK = 0,
    FTA_ERROR = 1,            // c10::Error or std::exception without a finer class
    FTA_OUT_OF_MEMORY = 2,    // c10::OutOfMemoryError, std::bad_alloc
    FTA_ARGUMENT_ERROR = 3,   // c10::ValueError/IndexError/TypeError, std::invalid_argument/out_of_range
    FTA_NOT_SUPPORTED = 4,    // c10::NotImplementedError, or a feature this libtorch build lacks
    FTA_UNKNOWN_ERROR = 5,    // anything else thrown
    FTA_DISTRIBUTED_ERROR = 6 // c10d failures (timeouts, lost peers)
};

// Opaque handles. Each is a heap-allocated C++ object owned by the caller until freed.
typedef void* fta_tensor;       // at::Tensor*
typedef void* fta_store;        // c10::intrusive_ptr<c10d::Store>*
typedef void* fta_process_group;// c10::intrusive_ptr<c10d::ProcessGroup>*

// A scalar passed by value: kind 0 = floating (f), 1 = integer (i), 2 = boolean (i != 0).
typedef struct {
    double f;
    int64_t i;
    int32_t kind;
    int32_t reserved;
} fta_scalar;

#ifdef __cplusplus
}
#endif
