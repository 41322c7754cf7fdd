using System.Runtime.InteropServices;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

/// <summary>Free functions of the torch namespace that join, select or combine tensors.</summary>
public static unsafe partial class torch
{
    private delegate int ListFn(IntPtr* list, long n, long dim, out IntPtr result);

    private static Tensor JoinList(ListFn fn, IReadOnlyList<Tensor> tensors, long dim)
    {
        using var handles = new HandleArray(tensors);
        fixed (IntPtr* p = handles.Pointers)
            return Tensor.Result(fn(p, tensors.Count, dim, out var r), r);
    }

    public static Tensor cat(IReadOnlyList<Tensor> tensors, long dim = 0) => JoinList(TensorInterop.fta_tensor_cat, tensors, dim);

    public static Tensor stack(IReadOnlyList<Tensor> tensors, long dim = 0) => JoinList(TensorInterop.fta_tensor_stack, tensors, dim);

    public static Tensor where(Tensor condition, Tensor x, Tensor y) =>
        Tensor.Result(TensorInterop.fta_tensor_where(condition.NativeHandle, x.NativeHandle, y.NativeHandle, out var r), r);

    public static Tensor where(Tensor condition, Tensor x, Scalar y) =>
        Tensor.Result(TensorInterop.fta_tensor_where_scalar(condition.NativeHandle, x.NativeHandle, y, out var r), r);

    public static Tensor einsum(string equation, params Tensor[] operands)
    {
        using var handles = new HandleArray(operands);
        fixed (IntPtr* p = handles.Pointers)
            return Tensor.Result(TensorInterop.fta_tensor_einsum(equation, p, operands.Length, out var r), r);
    }

    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);

    public static Tensor mm(Tensor a, Tensor b) => a.mm(b);
    public static Tensor addmm(Tensor input, Tensor a, Tensor b, Scalar? beta = null, Scalar? alpha = null) => input.addmm(a, b, beta, alpha);

    public static Tensor bmm(Tensor a, Tensor b) => a.bmm(b);

    public static Tensor tril(Tensor t, long diagonal = 0) => t.tril(diagonal);

    public static Tensor triu(Tensor t, long diagonal = 0) => t.triu(diagonal);

    public static Tensor clamp(Tensor t, Scalar? min = null, Scalar? max = null) => t.clamp(min, max);

    public static Tensor sqrt(Tensor t) => t.sqrt();

    public static Tensor rsqrt(Tensor t) => t.rsqrt();

    public static Tensor exp(Tensor t) => t.exp();

    public static Tensor log(Tensor t) => t.log();

    public static Tensor abs(Tensor t) => t.abs();

    public static Tensor pow(Tensor t, Scalar exponent) => t.pow(exponent);

    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);

    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);

    public static Tensor outer(Tensor a, Tensor b) => a.outer(b);

    public static Tensor cumsum(Tensor t, long dim) => t.cumsum(dim);

    public static (Tensor values, Tensor indexes) topk(Tensor t, long k, long dim = -1, bool largest = true, bool sorted = true) => t.topk(k, dim, largest, sorted);

    public static (Tensor values, Tensor indices) sort(Tensor t, long dim = -1, bool descending = false, bool stable = false) => t.sort(dim, descending, stable);

    public static Tensor argmax(Tensor t, long dim, bool keepdim = false) => t.argmax(dim, keepdim);

    public static bool allclose(Tensor a, Tensor b, double rtol = 1e-05, double atol = 1e-08) => a.allclose(b, rtol, atol);

    public static bool equal(Tensor a, Tensor b) => a.equal(b);

    public static class linalg
    {
        /// <summary>Singular value decomposition a = U diag(S) Vh (reduced unless full_matrices).</summary>
        public static (Tensor U, Tensor S, Tensor Vh) svd(Tensor a, bool full_matrices = true)
        {
            Status.Check(TensorInterop.fta_linalg_svd(a.NativeHandle, full_matrices ? 1 : 0, out var u, out var s, out var vh));
            return (new Tensor(u), new Tensor(s), new Tensor(vh));
        }

        public static Tensor vector_norm(Tensor a, double ord = 2, long[]? dims = null, bool keepdim = false) =>
            dims is null ? a.norm(ord) : a.norm(dims, keepdim, ord);
    }

    /// <summary>CUDA devices as libtorch sees them; all false/zero on a CPU-only build or machine.</summary>
    public static class cuda
    {
        public static bool is_available()
        {
            Status.Check(RuntimeInterop.fta_cuda_is_available(out var a));
            return a != 0;
        }

        public static int device_count()
        {
            Status.Check(RuntimeInterop.fta_cuda_device_count(out var n));
            return n;
        }

        /// <summary>Whether the shim was compiled against a CUDA build of libtorch.</summary>
        public static bool is_built()
        {
            Status.Check(RuntimeInterop.fta_runtime_build_features(out var c, out _, out _));
            return c != 0;
        }

        public static long memory_allocated(int device = 0) => MemoryInfo(device).allocated;

        public static long memory_reserved(int device = 0) => MemoryInfo(device).reserved;

        /// <summary>(free, total) bytes as the driver reports them, as torch.cuda.mem_get_info.</summary>
        public static (long free, long total) mem_get_info(int device = 0)
        {
            var m = MemoryInfo(device);
            return (m.free, m.total);
        }

        private static (long allocated, long reserved, long total, long free) MemoryInfo(int device)
        {
            Status.Check(RuntimeInterop.fta_cuda_memory_info(device, out var a, out var r, out var t, out var f));
            return (a, r, t, f);
        }

        public static (string name, int major, int minor) get_device_properties(int device)
        {
            Status.Check(RuntimeInterop.fta_cuda_device_properties(device, out var name, out var major, out var minor));
            return (Marshal.PtrToStringUTF8(name) ?? "", major, minor);
        }

        public static void synchronize(int device = 0) => Status.Check(RuntimeInterop.fta_cuda_synchronize(device));

        public static void empty_cache() => Status.Check(RuntimeInterop.fta_cuda_empty_cache());

        /// <summary>The device's default generator state (torch.cuda.get_rng_state(device)); the caller owns it.</summary>
        public static Tensor get_rng_state(int device = 0) => Tensor.Result(RuntimeInterop.fta_cuda_get_rng_state(device, out var state), state);

        /// <summary>Restores what <see cref="get_rng_state"/> returned (torch.cuda.set_rng_state(state, device)).</summary>
        public static void set_rng_state(Tensor new_state, int device = 0) => Status.Check(RuntimeInterop.fta_cuda_set_rng_state(device, new_state.NativeHandle));
    }
}
