using System.Runtime.InteropServices;

namespace FineTuneAgent.Torch.Interop;

/// <summary>Exports of native/src/runtime.cpp.</summary>
internal static partial class RuntimeInterop
{
    private const string Lib = NativeLibraryLoader.LibraryName;

    [LibraryImport(Lib)] internal static partial int fta_error_message(out IntPtr message);
    [LibraryImport(Lib)] internal static partial int fta_runtime_abi_version(out int version);
    [LibraryImport(Lib)] internal static partial int fta_runtime_torch_version(out int major, out int minor, out int patch);
    [LibraryImport(Lib)] internal static partial int fta_runtime_build_features(out int cuda, out int gloo, out int nccl);
    [LibraryImport(Lib)] internal static partial int fta_runtime_config(out IntPtr text);
    [LibraryImport(Lib)] internal static partial int fta_runtime_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial int fta_runtime_get_num_threads(out int n);
    [LibraryImport(Lib)] internal static partial int fta_runtime_manual_seed(long seed);
    [LibraryImport(Lib)] internal static partial int fta_runtime_get_rng_state(out IntPtr state);
    [LibraryImport(Lib)] internal static partial int fta_runtime_set_rng_state(TensorHandle state);
    [LibraryImport(Lib)] internal static partial int fta_cuda_is_available(out int available);
    [LibraryImport(Lib)] internal static partial int fta_cuda_device_count(out int count);
    [LibraryImport(Lib)] internal static partial int fta_cuda_memory_info(int device, out long allocated, out long reserved, out long total, out long free);
    [LibraryImport(Lib)] internal static partial int fta_cpu_allocator_stats(out int active, out long live, out long cached, out long peak, out long hits, out long resized, out long misses);
    [LibraryImport(Lib)] internal static partial int fta_cpu_allocator_reset_peak();
    [LibraryImport(Lib)] internal static partial int fta_cpu_allocator_set_limit(long bytes);
    [LibraryImport(Lib)] internal static partial int fta_cpu_allocator_empty_cache();
    [LibraryImport(Lib)] internal static partial int fta_cpu_allocator_set_trading(int on);
    [LibraryImport(Lib)] internal static partial int fta_cuda_device_properties(int device, out IntPtr name, out int major, out int minor);
    [LibraryImport(Lib)] internal static partial int fta_cuda_synchronize(int device);
    [LibraryImport(Lib)] internal static partial int fta_cuda_empty_cache();
    [LibraryImport(Lib)] internal static partial int fta_cuda_get_rng_state(int device, out IntPtr state);
    [LibraryImport(Lib)] internal static partial int fta_cuda_set_rng_state(int device, TensorHandle state);
    [LibraryImport(Lib)] internal static partial int fta_autograd_is_grad_enabled(out int enabled);
    [LibraryImport(Lib)] internal static partial int fta_autograd_set_grad_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial int fta_autocast_get(int deviceType, out int enabled, out int dtype);
    [LibraryImport(Lib)] internal static partial int fta_autocast_set(int deviceType, int enabled, int dtype, int enter);
}
