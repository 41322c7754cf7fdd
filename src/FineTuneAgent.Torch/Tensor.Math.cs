using FineTuneAgent.Torch.Interop;
using static FineTuneAgent.Torch.Interop.TensorInterop;

namespace FineTuneAgent.Torch;

public static partial class torch
{
    public unsafe partial class Tensor
    {
        private Tensor Done(int status)
        {
            Status.Check(status);
            return this;
        }

        // Binary arithmetic. alpha scales the second operand: a + alpha * b.
        public Tensor add(Tensor other, Scalar? alpha = null) => Result(fta_tensor_add(NativeHandle, other.NativeHandle, alpha ?? 1, out var r), r);
        public Tensor add(Scalar other, Scalar? alpha = null) => Result(fta_tensor_add_scalar(NativeHandle, other, alpha ?? 1, out var r), r);
        public Tensor add_(Tensor other, Scalar? alpha = null) => Done(fta_tensor_add_(NativeHandle, other.NativeHandle, alpha ?? 1));
        public Tensor add_(Scalar other, Scalar? alpha = null) => Done(fta_tensor_add_scalar_(NativeHandle, other, alpha ?? 1));
        public Tensor sub(Tensor other, Scalar? alpha = null) => Result(fta_tensor_sub(NativeHandle, other.NativeHandle, alpha ?? 1, out var r), r);
        public Tensor sub(Scalar other, Scalar? alpha = null) => Result(fta_tensor_sub_scalar(NativeHandle, other, alpha ?? 1, out var r), r);
        public Tensor sub_(Tensor other, Scalar? alpha = null) => Done(fta_tensor_sub_(NativeHandle, other.NativeHandle, alpha ?? 1));
        public Tensor sub_(Scalar other, Scalar? alpha = null) => Done(fta_tensor_sub_scalar_(NativeHandle, other, alpha ?? 1));
        public Tensor mul(Tensor other) => Result(fta_tensor_mul(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor mul(Scalar other) => Result(fta_tensor_mul_scalar(NativeHandle, other, out var r), r);
        public Tensor mul_(Tensor other) => Done(fta_tensor_mul_(NativeHandle, other.NativeHandle));
        public Tensor mul_(Scalar other) => Done(fta_tensor_mul_scalar_(NativeHandle, other));
        public Tensor div(Tensor other) => Result(fta_tensor_div(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor div(Scalar other) => Result(fta_tensor_div_scalar(NativeHandle, other, out var r), r);
        public Tensor div_(Tensor other) => Done(fta_tensor_div_(NativeHandle, other.NativeHandle));
        public Tensor div_(Scalar other) => Done(fta_tensor_div_scalar_(NativeHandle, other));
        public Tensor pow(Tensor exponent) => Result(fta_tensor_pow(NativeHandle, exponent.NativeHandle, out var r), r);
        public Tensor pow(Scalar exponent) => Result(fta_tensor_pow_scalar(NativeHandle, exponent, out var r), r);
        public Tensor pow_(Tensor exponent) => Done(fta_tensor_pow_(NativeHandle, exponent.NativeHandle));
        public Tensor pow_(Scalar exponent) => Done(fta_tensor_pow_scalar_(NativeHandle, exponent));
        public Tensor remainder(Tensor other) => Result(fta_tensor_remainder(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor remainder(Scalar other) => Result(fta_tensor_remainder_scalar(NativeHandle, other, out var r), r);
        public Tensor maximum(Tensor other) => Result(fta_tensor_maximum(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor minimum(Tensor other) => Result(fta_tensor_minimum(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor addcmul_(Tensor tensor1, Tensor tensor2, Scalar? value = null) => Done(fta_tensor_addcmul_(NativeHandle, tensor1.NativeHandle, tensor2.NativeHandle, value ?? 1));
        public Tensor addcdiv_(Tensor tensor1, Tensor tensor2, Scalar? value = null) => Done(fta_tensor_addcdiv_(NativeHandle, tensor1.NativeHandle, tensor2.NativeHandle, value ?? 1));
        public Tensor lerp_(Tensor end, Scalar weight) => Done(fta_tensor_lerp_(NativeHandle, end.NativeHandle, weight));

        // Comparisons give bool tensors.
        public Tensor eq(Tensor other) => Result(fta_tensor_eq(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor eq(Scalar other) => Result(fta_tensor_eq_scalar(NativeHandle, other, out var r), r);
        public Tensor ne(Tensor other) => Result(fta_tensor_ne(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor ne(Scalar other) => Result(fta_tensor_ne_scalar(NativeHandle, other, out var r), r);
        public Tensor lt(Tensor other) => Result(fta_tensor_lt(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor lt(Scalar other) => Result(fta_tensor_lt_scalar(NativeHandle, other, out var r), r);
        public Tensor le(Tensor other) => Result(fta_tensor_le(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor le(Scalar other) => Result(fta_tensor_le_scalar(NativeHandle, other, out var r), r);
        public Tensor gt(Tensor other) => Result(fta_tensor_gt(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor gt(Scalar other) => Result(fta_tensor_gt_scalar(NativeHandle, other, out var r), r);
        public Tensor ge(Tensor other) => Result(fta_tensor_ge(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor ge(Scalar other) => Result(fta_tensor_ge_scalar(NativeHandle, other, out var r), r);
        public Tensor logical_and(Tensor other) => Result(fta_tensor_logical_and(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor logical_or(Tensor other) => Result(fta_tensor_logical_or(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor logical_not() => Result(fta_tensor_logical_not(NativeHandle, out var r), r);

        // Bitwise and shift ops on integer tensors (4-bit packing).
        public Tensor bitwise_and(Tensor other) => Result(fta_tensor_bitwise_and(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bitwise_and(Scalar other) => Result(fta_tensor_bitwise_and_scalar(NativeHandle, other, out var r), r);
        public Tensor bitwise_and_(Tensor other) => Done(fta_tensor_bitwise_and_(NativeHandle, other.NativeHandle));
        public Tensor bitwise_and_(Scalar other) => Done(fta_tensor_bitwise_and_scalar_(NativeHandle, other));
        public Tensor bitwise_or(Tensor other) => Result(fta_tensor_bitwise_or(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bitwise_or(Scalar other) => Result(fta_tensor_bitwise_or_scalar(NativeHandle, other, out var r), r);
        public Tensor bitwise_or_(Tensor other) => Done(fta_tensor_bitwise_or_(NativeHandle, other.NativeHandle));
        public Tensor bitwise_or_(Scalar other) => Done(fta_tensor_bitwise_or_scalar_(NativeHandle, other));
        public Tensor bitwise_xor(Tensor other) => Result(fta_tensor_bitwise_xor(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bitwise_xor(Scalar other) => Result(fta_tensor_bitwise_xor_scalar(NativeHandle, other, out var r), r);
        public Tensor bitwise_not() => Result(fta_tensor_bitwise_not(NativeHandle, out var r), r);
        public Tensor bitwise_left_shift(Tensor other) => Result(fta_tensor_bitwise_left_shift(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bitwise_left_shift(Scalar other) => Result(fta_tensor_bitwise_left_shift_scalar(NativeHandle, other, out var r), r);
        public Tensor bitwise_right_shift(Tensor other) => Result(fta_tensor_bitwise_right_shift(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bitwise_right_shift(Scalar other) => Result(fta_tensor_bitwise_right_shift_scalar(NativeHandle, other, out var r), r);

        // Unary functions.
        public Tensor neg() => Result(fta_tensor_neg(NativeHandle, out var r), r);
        public Tensor neg_() => Done(fta_tensor_neg_(NativeHandle));
        public Tensor abs() => Result(fta_tensor_abs(NativeHandle, out var r), r);
        public Tensor sqrt() => Result(fta_tensor_sqrt(NativeHandle, out var r), r);
        public Tensor sqrt_() => Done(fta_tensor_sqrt_(NativeHandle));
        public Tensor rsqrt() => Result(fta_tensor_rsqrt(NativeHandle, out var r), r);
        public Tensor exp() => Result(fta_tensor_exp(NativeHandle, out var r), r);
        public Tensor log() => Result(fta_tensor_log(NativeHandle, out var r), r);
        public Tensor log1p() => Result(fta_tensor_log1p(NativeHandle, out var r), r);
        public Tensor sin() => Result(fta_tensor_sin(NativeHandle, out var r), r);
        public Tensor cos() => Result(fta_tensor_cos(NativeHandle, out var r), r);
        public Tensor tanh() => Result(fta_tensor_tanh(NativeHandle, out var r), r);
        public Tensor sigmoid() => Result(fta_tensor_sigmoid(NativeHandle, out var r), r);
        public Tensor relu() => Result(fta_tensor_relu(NativeHandle, out var r), r);
        public Tensor silu() => Result(fta_tensor_silu(NativeHandle, out var r), r);
        public Tensor gelu(bool approximate_tanh = false) => Result(fta_tensor_gelu(NativeHandle, approximate_tanh ? 1 : 0, out var r), r);
        public Tensor erf() => Result(fta_tensor_erf(NativeHandle, out var r), r);
        public Tensor reciprocal() => Result(fta_tensor_reciprocal(NativeHandle, out var r), r);
        public Tensor square() => Result(fta_tensor_square(NativeHandle, out var r), r);
        public Tensor floor() => Result(fta_tensor_floor(NativeHandle, out var r), r);
        public Tensor ceil() => Result(fta_tensor_ceil(NativeHandle, out var r), r);
        public Tensor round() => Result(fta_tensor_round(NativeHandle, out var r), r);
        public Tensor sign() => Result(fta_tensor_sign(NativeHandle, out var r), r);
        public Tensor isnan() => Result(fta_tensor_isnan(NativeHandle, out var r), r);
        public Tensor isinf() => Result(fta_tensor_isinf(NativeHandle, out var r), r);
        public Tensor isfinite() => Result(fta_tensor_isfinite(NativeHandle, out var r), r);

        public Tensor clamp(Scalar? min = null, Scalar? max = null) =>
            Result(fta_tensor_clamp(NativeHandle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, out var r), r);
        public Tensor clamp_(Scalar? min = null, Scalar? max = null) =>
            Done(fta_tensor_clamp_(NativeHandle, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0));
        public Tensor clamp_min(Scalar min) => clamp(min, null);
        public Tensor clamp_max(Scalar max) => clamp(null, max);

        // Reductions. An empty dim list reduces over every element.
        private delegate int ReduceFn(TensorHandle a, long* dims, long ndim, int keepdim, int dtype, out IntPtr result);

        private Tensor Reduce(ReduceFn fn, ReadOnlySpan<long> dims, bool keepdim, ScalarType? type)
        {
            fixed (long* p = dims)
                return Result(fn(NativeHandle, p, dims.Length, keepdim ? 1 : 0, type.HasValue ? (int)type.Value : -1, out var r), r);
        }

        public Tensor sum() => Reduce(fta_tensor_sum, [], false, null);
        public Tensor sum(long dim, bool keepdim = false, ScalarType? type = null) => Reduce(fta_tensor_sum, [dim], keepdim, type);
        public Tensor sum(long[] dim, bool keepdim = false, ScalarType? type = null) => Reduce(fta_tensor_sum, dim, keepdim, type);
        public Tensor mean() => Reduce(fta_tensor_mean, [], false, null);
        public Tensor mean(long dim, bool keepdim = false, ScalarType? type = null) => Reduce(fta_tensor_mean, [dim], keepdim, type);
        public Tensor mean(long[] dim, bool keepdim = false, ScalarType? type = null) => Reduce(fta_tensor_mean, dim, keepdim, type);

        public Tensor var(long[]? dim = null, bool unbiased = true, bool keepdim = false)
        {
            var d = dim ?? [];
            fixed (long* p = d)
                return Result(fta_tensor_var(NativeHandle, p, d.Length, unbiased ? 1 : 0, keepdim ? 1 : 0, out var r), r);
        }

        public Tensor amax(long[] dim, bool keepdim = false)
        {
            fixed (long* p = dim)
                return Result(fta_tensor_amax(NativeHandle, p, dim.Length, keepdim ? 1 : 0, out var r), r);
        }

        public Tensor logsumexp(long dim, bool keepdim = false)
        {
            long d = dim;
            return Result(fta_tensor_logsumexp(NativeHandle, &d, 1, keepdim ? 1 : 0, out var r), r);
        }

        public Tensor max() => Result(fta_tensor_max_all(NativeHandle, out var r), r);
        public Tensor min() => Result(fta_tensor_min_all(NativeHandle, out var r), r);

        public (Tensor values, Tensor indexes) max(long dim, bool keepdim = false)
        {
            Status.Check(fta_tensor_max_dim(NativeHandle, dim, keepdim ? 1 : 0, out var v, out var i));
            return (new Tensor(v), new Tensor(i));
        }

        public (Tensor values, Tensor indexes) min(long dim, bool keepdim = false)
        {
            Status.Check(fta_tensor_min_dim(NativeHandle, dim, keepdim ? 1 : 0, out var v, out var i));
            return (new Tensor(v), new Tensor(i));
        }

        public Tensor argmax() => Result(fta_tensor_argmax(NativeHandle, 0, 0, 0, out var r), r);
        public Tensor argmax(long dim, bool keepdim = false) => Result(fta_tensor_argmax(NativeHandle, 1, dim, keepdim ? 1 : 0, out var r), r);
        public Tensor argmin() => Result(fta_tensor_argmin(NativeHandle, 0, 0, 0, out var r), r);
        public Tensor argmin(long dim, bool keepdim = false) => Result(fta_tensor_argmin(NativeHandle, 1, dim, keepdim ? 1 : 0, out var r), r);

        public (Tensor values, Tensor indexes) topk(long k, long dim = -1, bool largest = true, bool sorted = true)
        {
            Status.Check(fta_tensor_topk(NativeHandle, k, dim, largest ? 1 : 0, sorted ? 1 : 0, out var v, out var i));
            return (new Tensor(v), new Tensor(i));
        }

        public (Tensor values, Tensor indices) sort(long dim = -1, bool descending = false, bool stable = false)
        {
            Status.Check(fta_tensor_sort(NativeHandle, dim, descending ? 1 : 0, stable ? 1 : 0, out var v, out var i));
            return (new Tensor(v), new Tensor(i));
        }

        public Tensor argsort(long dim = -1, bool descending = false) => Result(fta_tensor_argsort(NativeHandle, dim, descending ? 1 : 0, out var r), r);

        /// <summary>The p-norm over every element, or over dims (torch.linalg.vector_norm).</summary>
        public Tensor norm(double p = 2) => NormOver(p, [], false);
        public Tensor norm(long dim, bool keepdim = false, double p = 2) => NormOver(p, [dim], keepdim);
        public Tensor norm(long[] dims, bool keepdim = false, double p = 2) => NormOver(p, dims, keepdim);

        private Tensor NormOver(double p, ReadOnlySpan<long> dims, bool keepdim)
        {
            fixed (long* d = dims)
                return Result(fta_tensor_norm(NativeHandle, p, d, dims.Length, keepdim ? 1 : 0, out var r), r);
        }

        public Tensor cumsum(long dim, ScalarType? type = null) => Result(fta_tensor_cumsum(NativeHandle, dim, type.HasValue ? (int)type.Value : -1, out var r), r);
        public Tensor any() => Result(fta_tensor_any(NativeHandle, out var r), r);
        public Tensor all() => Result(fta_tensor_all(NativeHandle, out var r), r);

        public bool allclose(Tensor other, double rtol = 1e-05, double atol = 1e-08)
        {
            Status.Check(fta_tensor_allclose(NativeHandle, other.NativeHandle, rtol, atol, out var r));
            return r != 0;
        }

        /// <summary>True when both have the same shape and exactly the same elements.</summary>
        public bool equal(Tensor other)
        {
            Status.Check(fta_tensor_equal(NativeHandle, other.NativeHandle, out var r));
            return r != 0;
        }

        // Products.
        public Tensor matmul(Tensor other) => Result(fta_tensor_matmul(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor mm(Tensor other) => Result(fta_tensor_mm(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor bmm(Tensor other) => Result(fta_tensor_bmm(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor outer(Tensor other) => Result(fta_tensor_outer(NativeHandle, other.NativeHandle, out var r), r);
        public Tensor baddbmm(Tensor batch1, Tensor batch2, Scalar? beta = null, Scalar? alpha = null) =>
            Result(fta_tensor_baddbmm(NativeHandle, batch1.NativeHandle, batch2.NativeHandle, beta ?? 1, alpha ?? 1, out var r), r);

        /// <summary>beta·this + alpha·(a·b) for 2-D tensors, as one op (autograd and autocast as ATen's addmm).</summary>
        public Tensor addmm(Tensor a, Tensor b, Scalar? beta = null, Scalar? alpha = null) =>
            Result(fta_tensor_addmm(NativeHandle, a.NativeHandle, b.NativeHandle, beta ?? 1, alpha ?? 1, out var r), r);

        public Tensor softmax(long dim, ScalarType? dtype = null) => nn.functional.softmax(this, dim, dtype);
        public Tensor log_softmax(long dim, ScalarType? dtype = null) => nn.functional.log_softmax(this, dim, dtype);
    }
}
