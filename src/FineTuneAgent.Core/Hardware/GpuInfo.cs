namespace FineTuneAgent.Core.Hardware;

/// <summary>One NVIDIA GPU: memory, compute capability, and where the figures came from.</summary>
public sealed record GpuInfo
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    public required long TotalMemoryBytes { get; init; }

    /// <summary>Free right now: other processes (a desktop, another training run) hold the rest.</summary>
    public required long FreeMemoryBytes { get; init; }

    public required int ComputeMajor { get; init; }

    public required int ComputeMinor { get; init; }

    /// <summary>"libtorch" when the CUDA build of libtorch saw the device, "nvidia-smi" when only the driver tool did.</summary>
    public required string Source { get; init; }

    /// <summary>Whether libtorch can run on it (the shim was built against a CUDA libtorch that sees it).</summary>
    public required bool UsableByTorch { get; init; }

    /// <summary>bf16 tensor cores: compute capability 8.0 (Ampere) and newer.</summary>
    public bool Bf16 => ComputeMajor >= 8;

    public string ComputeCapability => $"{ComputeMajor}.{ComputeMinor}";
}
