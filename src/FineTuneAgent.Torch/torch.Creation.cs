using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

public static unsafe partial class torch
{
    /// <summary>Default dtype for floating-point creation functions, as in PyTorch.</summary>
    public static ScalarType DefaultDType { get; set; } = ScalarType.Float32;

    private delegate int CreateFn(long* shape, long ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);

    private static Tensor Create(CreateFn fn, ReadOnlySpan<long> size, ScalarType? dtype, Device? device, bool requires_grad)
    {
        var d = device ?? CPU;
        fixed (long* p = size)
            return Tensor.Result(fn(p, size.Length, (int)(dtype ?? DefaultDType), (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    public static Tensor empty(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Create(TensorInterop.fta_tensor_empty, size, dtype, device, requires_grad);

    public static Tensor empty(params long[] size) => empty(size, null);

    public static Tensor zeros(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Create(TensorInterop.fta_tensor_zeros, size, dtype, device, requires_grad);

    public static Tensor zeros(params long[] size) => zeros(size, null);

    public static Tensor ones(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Create(TensorInterop.fta_tensor_ones, size, dtype, device, requires_grad);

    public static Tensor ones(params long[] size) => ones(size, null);

    public static Tensor rand(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Create(TensorInterop.fta_tensor_rand, size, dtype, device, requires_grad);

    public static Tensor rand(params long[] size) => rand(size, null);

    public static Tensor randn(long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        Create(TensorInterop.fta_tensor_randn, size, dtype, device, requires_grad);

    public static Tensor randn(params long[] size) => randn(size, null);

    /// <summary>A tensor filled with value; its dtype follows the value (int64 for integers) unless given.</summary>
    public static Tensor full(long[] size, Scalar value, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? CPU;
        var dt = dtype ?? (value.IsFloatingPoint ? DefaultDType : value.IsBoolean ? ScalarType.Bool : ScalarType.Int64);
        fixed (long* p = size)
            return Tensor.Result(TensorInterop.fta_tensor_full(p, size.Length, value, (int)dt, (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    /// <summary>Integers uniformly drawn from [low, high).</summary>
    public static Tensor randint(long low, long high, long[] size, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? CPU;
        fixed (long* p = size)
            return Tensor.Result(TensorInterop.fta_tensor_randint(low, high, p, size.Length, (int)(dtype ?? ScalarType.Int64), (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    public static Tensor randint(long high, long[] size, ScalarType? dtype = null, Device? device = null) => randint(0, high, size, dtype, device);

    /// <summary>Values from start to end (exclusive) by step; integer arguments give int64, as in PyTorch.</summary>
    public static Tensor arange(Scalar start, Scalar end, Scalar step, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? CPU;
        var dt = dtype ?? (start.IsFloatingPoint || end.IsFloatingPoint || step.IsFloatingPoint ? DefaultDType : ScalarType.Int64);
        return Tensor.Result(TensorInterop.fta_tensor_arange(start, end, step, (int)dt, (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    public static Tensor arange(Scalar start, Scalar end, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        arange(start, end, 1, dtype, device, requires_grad);

    public static Tensor arange(Scalar end, ScalarType? dtype = null, Device? device = null, bool requires_grad = false) =>
        arange(0, end, 1, dtype, device, requires_grad);

    public static Tensor linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? CPU;
        return Tensor.Result(TensorInterop.fta_tensor_linspace(start, end, steps, (int)(dtype ?? DefaultDType), (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    public static Tensor eye(long n, long m = -1, ScalarType? dtype = null, Device? device = null, bool requires_grad = false)
    {
        var d = device ?? CPU;
        return Tensor.Result(TensorInterop.fta_tensor_eye(n, m < 0 ? n : m, (int)(dtype ?? DefaultDType), (int)d.type, d.index, requires_grad ? 1 : 0, out var r), r);
    }

    public static Tensor empty_like(Tensor t) => Tensor.Result(TensorInterop.fta_tensor_like(t.NativeHandle, 0, out var r), r);

    public static Tensor zeros_like(Tensor t) => Tensor.Result(TensorInterop.fta_tensor_like(t.NativeHandle, 1, out var r), r);

    public static Tensor ones_like(Tensor t) => Tensor.Result(TensorInterop.fta_tensor_like(t.NativeHandle, 2, out var r), r);

    public static Tensor rand_like(Tensor t) => Tensor.Result(TensorInterop.fta_tensor_like(t.NativeHandle, 3, out var r), r);

    public static Tensor randn_like(Tensor t) => Tensor.Result(TensorInterop.fta_tensor_like(t.NativeHandle, 4, out var r), r);

    public static Tensor full_like(Tensor t, Scalar value) => Tensor.Result(TensorInterop.fta_tensor_full_like(t.NativeHandle, value, out var r), r);

    /// <summary>Draws num_samples indices per row from the (unnormalised) probabilities.</summary>
    public static Tensor multinomial(Tensor probs, long num_samples, bool replacement = false) =>
        Tensor.Result(TensorInterop.fta_tensor_multinomial(probs.NativeHandle, num_samples, replacement ? 1 : 0, out var r), r);
}
