namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// The memory a plan must fit in: free (not total) memory of the device, less what the framework
/// takes before any tensor (the CUDA context and libraries: over a gigabyte on a GPU; libtorch's own
/// code and allocator pools on a CPU), less a headroom share for fragmentation and spikes.
/// </summary>
public sealed record MemoryBudget(string Device, long FreeBytes, long FrameworkOverheadBytes, double Headroom = 0.10)
{
    /// <summary>What CUDA's context, cuBLAS/cuDNN workspaces and the caching allocator's slack take on a GPU.</summary>
    public const long CudaOverheadBytes = 1400L << 20;

    /// <summary>libtorch's code, OpenMP pools and the .NET runtime in this process on a CPU.</summary>
    public const long CpuOverheadBytes = 600L << 20;

    /// <summary>What a plan's estimate may reach.</summary>
    public long UsableBytes => Math.Max(0, (long)((FreeBytes - FrameworkOverheadBytes) * (1 - Headroom)));

    public static MemoryBudget Gpu(string name, long freeBytes) => new(name, freeBytes, CudaOverheadBytes);

    public static MemoryBudget Cpu(string name, long availableBytes) => new(name, availableBytes, CpuOverheadBytes) { OnCpu = true };

    /// <summary>The budget is the CPU's memory: runs there take the shim's fused kernels (TrainingShape.FusedCpuKernels).</summary>
    public bool OnCpu { get; init; }
}
