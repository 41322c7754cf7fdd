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
#define FTA_ABI_VERSION 7

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

// ---- Quantization (src/quant.cpp): bitsandbytes NF4 / 8-bit blockwise / int8 row-wise --------
// Quantized tensors are uint8 (NF4 codes, two per byte, first element in the high nibble; 8-bit
// blockwise codes) or int8 (row-wise); scales are float32. A null nested_* handle means "no
// double quantization". dtype codes are at::ScalarType values.
fta_status fta_quant_nf4_quantize(fta_tensor input, int64_t blocksize, fta_tensor* packed, fta_tensor* absmax);
fta_status fta_quant_nf4_dequantize(fta_tensor packed, fta_tensor absmax, fta_tensor nested_absmax, fta_tensor nested_code,
                                    fta_tensor nested_offset, int64_t blocksize, int64_t nested_blocksize, const int64_t* shape,
                                    int64_t ndim, int32_t dtype, fta_tensor* out);
fta_status fta_quant_blockwise_quantize(fta_tensor input, fta_tensor code, int64_t blocksize, fta_tensor* q, fta_tensor* absmax);
fta_status fta_quant_blockwise_dequantize(fta_tensor q, fta_tensor absmax, fta_tensor code, int64_t blocksize, int32_t dtype, fta_tensor* out);
fta_status fta_quant_int8_quantize(fta_tensor input, fta_tensor* q, fta_tensor* row_stats);
fta_status fta_quant_int8_dequantize(fta_tensor q, fta_tensor row_stats, int32_t dtype, fta_tensor* out);
// y = input W^T + bias with W dequantized into input's dtype on the fly; differentiable in input
// (and bias), never in the quantized tensors, which are all the autograd node keeps.
fta_status fta_quant_nf4_linear(fta_tensor input, fta_tensor packed, fta_tensor absmax, fta_tensor nested_absmax, fta_tensor nested_code,
                                fta_tensor nested_offset, fta_tensor bias, int64_t blocksize, int64_t nested_blocksize,
                                int64_t out_features, int64_t in_features, fta_tensor* out);
fta_status fta_quant_int8_linear(fta_tensor input, fta_tensor q, fta_tensor row_stats, fta_tensor bias, fta_tensor* out);
// Test hooks: take the device-agnostic ATen path on CPU (this thread); list a quantized linear
// output's saved tensors.
fta_status fta_quant_set_portable(int32_t enabled);
fta_status fta_quant_saved_tensors(fta_tensor output, fta_tensor* out, int64_t capacity, int64_t* count);

#ifdef __cplusplus
}
#endif
