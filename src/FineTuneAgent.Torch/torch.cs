using System.Runtime.InteropServices;
using FineTuneAgent.Torch.Interop;

namespace FineTuneAgent.Torch;

/// <summary>
/// The binding's entry point, mirroring TorchSharp's <c>torch</c> class (and so PyTorch's
/// <c>torch</c> module): snake_case names and PyTorch's argument order, so code written
/// against it ports to TorchSharp by changing a <c>using</c>. See README.md in this folder.
/// </summary>
public static partial class torch
{
    /// <summary>at::ScalarType codes (the same numbers TorchSharp and c10 use).</summary>
    public enum ScalarType : sbyte
    {
        Byte = 0,
        Int8 = 1,
        Int16 = 2,
        Int32 = 3,
        Int64 = 4,
        Float16 = 5,
        Float32 = 6,
        Float64 = 7,
        ComplexFloat32 = 9,
        ComplexFloat64 = 10,
        Bool = 11,
        BFloat16 = 15,
    }

    public const ScalarType uint8 = ScalarType.Byte;
    public const ScalarType int8 = ScalarType.Int8;
    public const ScalarType int16 = ScalarType.Int16;
    public const ScalarType int32 = ScalarType.Int32;
    public const ScalarType int64 = ScalarType.Int64;
    public const ScalarType float16 = ScalarType.Float16;
    public const ScalarType half = ScalarType.Float16;
    public const ScalarType bfloat16 = ScalarType.BFloat16;
    public const ScalarType float32 = ScalarType.Float32;
    public const ScalarType @float = ScalarType.Float32;
    public const ScalarType float64 = ScalarType.Float64;
    public const ScalarType @double = ScalarType.Float64;
    public const ScalarType @bool = ScalarType.Bool;

    /// <summary>The device new tensors go to when none is named.</summary>
    public static Device CPU { get; } = new(DeviceType.CPU, -1);

    public static Device CUDA { get; } = new(DeviceType.CUDA, -1);

    public static Device device(string description) => new(description);

    public static Device device(DeviceType type, int index = -1) => new(type, index);

    /// <summary>Opens a dispose scope on this thread (see <see cref="DisposeScope"/>).</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Sets libtorch's intra-op thread count (default: every core, or FTA_NUM_THREADS).</summary>
    public static void set_num_threads(int threads) => Status.Check(RuntimeInterop.fta_runtime_set_num_threads(threads));

    public static int get_num_threads()
    {
        Status.Check(RuntimeInterop.fta_runtime_get_num_threads(out var n));
        return n;
    }

    /// <summary>Seeds libtorch's default generators (CPU and, where present, CUDA).</summary>
    public static void manual_seed(long seed) => Status.Check(RuntimeInterop.fta_runtime_manual_seed(seed));

    /// <summary>The default CPU generator's state as a uint8 tensor (torch.get_rng_state()); the caller owns it.</summary>
    public static Tensor get_rng_state()
    {
        return Tensor.Result(RuntimeInterop.fta_runtime_get_rng_state(out var state), state);
    }

    /// <summary>Restores the default CPU generator from what <see cref="get_rng_state"/> returned (torch.set_rng_state).</summary>
    public static void set_rng_state(Tensor new_state) => Status.Check(RuntimeInterop.fta_runtime_set_rng_state(new_state.NativeHandle));

    /// <summary>The libtorch version the shim was compiled against, e.g. "1.13.0".</summary>
    public static string __version__
    {
        get
        {
            Status.Check(RuntimeInterop.fta_runtime_torch_version(out var major, out var minor, out var patch));
            return $"{major}.{minor}.{patch}";
        }
    }

    /// <summary>libtorch's build configuration (BLAS, OpenMP, CPU capability), as torch.__config__.show().</summary>
    public static string show_config()
    {
        Status.Check(RuntimeInterop.fta_runtime_config(out var text));
        return Marshal.PtrToStringUTF8(text) ?? "";
    }

    /// <summary>What the loaded native shim was built with.</summary>
    public static (int AbiVersion, bool Cuda, bool Gloo, bool Nccl) BuildFeatures()
    {
        Status.Check(RuntimeInterop.fta_runtime_abi_version(out var abi));
        Status.Check(RuntimeInterop.fta_runtime_build_features(out var cuda, out var gloo, out var nccl));
        return (abi, cuda != 0, gloo != 0, nccl != 0);
    }

    /// <summary>Size in bytes of one element of a dtype.</summary>
    public static int ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool is_floating_point(ScalarType dtype) =>
        dtype is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    public static bool is_integral(ScalarType dtype, bool includeBool = false) =>
        dtype is ScalarType.Byte or ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 ||
        (includeBool && dtype == ScalarType.Bool);
}
