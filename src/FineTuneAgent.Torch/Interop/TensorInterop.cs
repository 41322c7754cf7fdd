using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>
/// Exports of native/src/tensor*.cpp: lifetime, metadata, creation, views and arithmetic.
/// </summary>
internal static unsafe partial class TensorInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;
    private const StringMarshalling Utf8 = StringMarshalling.Utf8;

    // tensor.cpp
    [LibraryImport(Lib)] internal static partial int fta_tensor_free(IntPtr t);
    [LibraryImport(Lib)] internal static partial int fta_tensor_alias(TensorHandle t, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_dim(TensorHandle t, out long dim);
    [LibraryImport(Lib)] internal static partial int fta_tensor_shape(TensorHandle t, long* shape, long capacity);
    [LibraryImport(Lib)] internal static partial int fta_tensor_stride(TensorHandle t, long* stride, long capacity);
    [LibraryImport(Lib)] internal static partial int fta_tensor_numel(TensorHandle t, out long numel);
    [LibraryImport(Lib)] internal static partial int fta_tensor_dtype(TensorHandle t, out int dtype);
    [LibraryImport(Lib)] internal static partial int fta_tensor_element_size(TensorHandle t, out long size);
    [LibraryImport(Lib)] internal static partial int fta_tensor_device(TensorHandle t, out int type, out int index);
    [LibraryImport(Lib)] internal static partial int fta_tensor_is_contiguous(TensorHandle t, out int contiguous);
    [LibraryImport(Lib)] internal static partial int fta_tensor_data_ptr(TensorHandle t, out IntPtr data);
    [LibraryImport(Lib)] internal static partial int fta_tensor_copy_to_buffer(TensorHandle t, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int fta_tensor_from_buffer(void* src, long nbytes, long* shape, long ndim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_item_double(TensorHandle t, out double value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_item_int64(TensorHandle t, out long value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_to_string(TensorHandle t, out IntPtr text);
    [LibraryImport(Lib)] internal static partial int fta_tensor_to_dtype(TensorHandle t, int dtype, int copy, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_to_device(TensorHandle t, int type, int index, int nonBlocking, int copy, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_clone(TensorHandle t, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_copy_(TensorHandle dst, TensorHandle src, int nonBlocking);
    [LibraryImport(Lib)] internal static partial int fta_tensor_fill_(TensorHandle t, Scalar value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_zero_(TensorHandle t);
    [LibraryImport(Lib)] internal static partial int fta_tensor_set_data(TensorHandle t, TensorHandle data);

    // tensor_create.cpp
    [LibraryImport(Lib)] internal static partial int fta_tensor_empty(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_zeros(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ones(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_full(long* shape, long ndim, Scalar value, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_rand(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_randn(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_randint(long low, long high, long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_arange(Scalar start, Scalar end, Scalar step, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_linspace(double start, double end, long steps, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_eye(long n, long m, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_like(TensorHandle t, int kind, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_full_like(TensorHandle t, Scalar value, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_uniform_(TensorHandle t, double from, double to);
    [LibraryImport(Lib)] internal static partial int fta_tensor_normal_(TensorHandle t, double mean, double std);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bernoulli_(TensorHandle t, double p);
    [LibraryImport(Lib)] internal static partial int fta_tensor_multinomial(TensorHandle probs, long numSamples, int replacement, out IntPtr result);

    // tensor_view.cpp
    [LibraryImport(Lib)] internal static partial int fta_tensor_view(TensorHandle t, long* shape, long ndim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_reshape(TensorHandle t, long* shape, long ndim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_flatten(TensorHandle t, long startDim, long endDim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_transpose(TensorHandle t, long dim0, long dim1, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_permute(TensorHandle t, long* order, long ndim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_contiguous(TensorHandle t, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_narrow(TensorHandle t, long dim, long start, long length, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_slice(TensorHandle t, long dim, long start, long end, long step, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_select(TensorHandle t, long dim, long index, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_index_select(TensorHandle t, long dim, TensorHandle index, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_gather(TensorHandle t, long dim, TensorHandle index, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_scatter(TensorHandle t, long dim, TensorHandle index, TensorHandle src, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_index_copy_(TensorHandle t, long dim, TensorHandle index, TensorHandle src);
    [LibraryImport(Lib)] internal static partial int fta_tensor_index(TensorHandle t, TensorHandle index, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_index_put_(TensorHandle t, TensorHandle index, TensorHandle values, int accumulate);
    [LibraryImport(Lib)] internal static partial int fta_tensor_masked_fill(TensorHandle t, TensorHandle mask, Scalar value, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_masked_fill_(TensorHandle t, TensorHandle mask, Scalar value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_masked_select(TensorHandle t, TensorHandle mask, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_where(TensorHandle condition, TensorHandle x, TensorHandle y, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_where_scalar(TensorHandle condition, TensorHandle x, Scalar y, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_cat(IntPtr* list, long n, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_stack(IntPtr* list, long n, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_chunk(TensorHandle t, long chunks, long dim, IntPtr* results, long capacity, out long count);
    [LibraryImport(Lib)] internal static partial int fta_tensor_split(TensorHandle t, long splitSize, long dim, IntPtr* results, long capacity, out long count);
    [LibraryImport(Lib)] internal static partial int fta_tensor_split_with_sizes(TensorHandle t, long* sizes, long n, long dim, IntPtr* results, long capacity, out long count);
    [LibraryImport(Lib)] internal static partial int fta_tensor_unsqueeze(TensorHandle t, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_squeeze(TensorHandle t, int hasDim, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_expand(TensorHandle t, long* shape, long ndim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_repeat(TensorHandle t, long* repeats, long ndim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_repeat_interleave(TensorHandle t, long repeats, long dim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_tril(TensorHandle t, long diagonal, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_triu(TensorHandle t, long diagonal, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_flip(TensorHandle t, long* dims, long n, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_detach(TensorHandle t, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_detach_(TensorHandle t);

    // tensor_math.cpp: binary ops (tensor and scalar forms)
    [LibraryImport(Lib)] internal static partial int fta_tensor_add(TensorHandle a, TensorHandle b, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_add_scalar(TensorHandle a, Scalar b, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_add_(TensorHandle a, TensorHandle b, Scalar alpha);
    [LibraryImport(Lib)] internal static partial int fta_tensor_add_scalar_(TensorHandle a, Scalar b, Scalar alpha);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sub(TensorHandle a, TensorHandle b, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sub_scalar(TensorHandle a, Scalar b, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sub_(TensorHandle a, TensorHandle b, Scalar alpha);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sub_scalar_(TensorHandle a, Scalar b, Scalar alpha);
    [LibraryImport(Lib)] internal static partial int fta_tensor_rsub_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_rdiv_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mul(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mul_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mul_(TensorHandle a, TensorHandle b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mul_scalar_(TensorHandle a, Scalar b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_div(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_div_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_div_(TensorHandle a, TensorHandle b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_div_scalar_(TensorHandle a, Scalar b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_pow(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_pow_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_pow_(TensorHandle a, TensorHandle b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_pow_scalar_(TensorHandle a, Scalar b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_remainder(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_remainder_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_eq(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_eq_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ne(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ne_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_lt(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_lt_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_le(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_le_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_gt(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_gt_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ge(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ge_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_and(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_and_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_and_(TensorHandle a, TensorHandle b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_and_scalar_(TensorHandle a, Scalar b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_or(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_or_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_or_(TensorHandle a, TensorHandle b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_or_scalar_(TensorHandle a, Scalar b);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_xor(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_xor_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_left_shift(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_left_shift_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_right_shift(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_right_shift_scalar(TensorHandle a, Scalar b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_maximum(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_minimum(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_logical_and(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_logical_or(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_addcmul_(TensorHandle a, TensorHandle t1, TensorHandle t2, Scalar value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_addcdiv_(TensorHandle a, TensorHandle t1, TensorHandle t2, Scalar value);
    [LibraryImport(Lib)] internal static partial int fta_tensor_lerp_(TensorHandle a, TensorHandle end, Scalar weight);

    // tensor_math.cpp: unary ops
    [LibraryImport(Lib)] internal static partial int fta_tensor_neg(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_abs(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sqrt(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_rsqrt(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_exp(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_log(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_log1p(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sin(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_cos(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_tanh(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sigmoid(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_relu(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_silu(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_erf(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_reciprocal(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_square(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_floor(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_ceil(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_round(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sign(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_logical_not(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bitwise_not(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_isnan(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_isinf(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_isfinite(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sqrt_(TensorHandle a);
    [LibraryImport(Lib)] internal static partial int fta_tensor_neg_(TensorHandle a);
    [LibraryImport(Lib)] internal static partial int fta_tensor_gelu(TensorHandle a, int approximate, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_clamp(TensorHandle a, int hasMin, Scalar min, int hasMax, Scalar max, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_clamp_(TensorHandle a, int hasMin, Scalar min, int hasMax, Scalar max);

    // tensor_math.cpp: reductions
    [LibraryImport(Lib)] internal static partial int fta_tensor_sum(TensorHandle a, long* dims, long ndim, int keepdim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mean(TensorHandle a, long* dims, long ndim, int keepdim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_var(TensorHandle a, long* dims, long ndim, int unbiased, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_amax(TensorHandle a, long* dims, long ndim, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_logsumexp(TensorHandle a, long* dims, long ndim, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_max_all(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_min_all(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_max_dim(TensorHandle a, long dim, int keepdim, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial int fta_tensor_min_dim(TensorHandle a, long dim, int keepdim, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial int fta_tensor_argmax(TensorHandle a, int hasDim, long dim, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_argmin(TensorHandle a, int hasDim, long dim, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_topk(TensorHandle a, long k, long dim, int largest, int sorted, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial int fta_tensor_sort(TensorHandle a, long dim, int descending, int stable, out IntPtr values, out IntPtr indices);
    [LibraryImport(Lib)] internal static partial int fta_tensor_argsort(TensorHandle a, long dim, int descending, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_norm(TensorHandle a, double p, long* dims, long ndim, int keepdim, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_cumsum(TensorHandle a, long dim, int dtype, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_any(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_all(TensorHandle a, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_allclose(TensorHandle a, TensorHandle b, double rtol, double atol, out int result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_equal(TensorHandle a, TensorHandle b, out int result);

    // tensor_nn.cpp: products
    [LibraryImport(Lib)] internal static partial int fta_tensor_matmul(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_mm(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_bmm(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_baddbmm(TensorHandle input, TensorHandle a, TensorHandle b, Scalar beta, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_addmm(TensorHandle input, TensorHandle a, TensorHandle b, Scalar beta, Scalar alpha, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_tensor_outer(TensorHandle a, TensorHandle b, out IntPtr result);
    [LibraryImport(Lib, StringMarshalling = Utf8)] internal static partial int fta_tensor_einsum(string equation, IntPtr* list, long n, out IntPtr result);
    [LibraryImport(Lib)] internal static partial int fta_linalg_svd(TensorHandle a, int fullMatrices, out IntPtr u, out IntPtr s, out IntPtr vh);
}
