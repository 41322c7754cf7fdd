namespace FineTuneAgent.Core.Hardware;

/// <summary>
/// The host CPU as training sees it: model, logical cores this process may use, memory, and the
/// instruction sets that decide how fast fp32 and bf16 matrix products run (AVX2, AVX-512, AVX-512
/// BF16, AMX).
/// </summary>
public sealed record CpuInfo
{
    public required string Model { get; init; }

    /// <summary>Logical cores this process may run on (its affinity / cgroup limit), as .NET counts them.</summary>
    public required int LogicalCores { get; init; }

    /// <summary>Threads libtorch uses for intra-op work.</summary>
    public required int TorchThreads { get; init; }

    public required long TotalMemoryBytes { get; init; }

    /// <summary>MemAvailable: what can be allocated without swapping (free plus reclaimable caches).</summary>
    public required long AvailableMemoryBytes { get; init; }

    public required bool Avx2 { get; init; }

    public required bool Avx512 { get; init; }

    /// <summary>AVX-512 BF16 (vdpbf16ps): bf16 dot products in hardware.</summary>
    public required bool Avx512Bf16 { get; init; }

    /// <summary>AMX tiles with bf16 (Sapphire Rapids and later).</summary>
    public required bool AmxBf16 { get; init; }

    /// <summary>bf16 arithmetic in hardware; without it CPU bf16 is emulated and slower than fp32.</summary>
    public bool Bf16 => Avx512Bf16 || AmxBf16;

    /// <summary>The instruction-set names worth showing, in a fixed order.</summary>
    public IReadOnlyList<string> InstructionSets =>
        new[] { ("AVX2", Avx2), ("AVX-512", Avx512), ("AVX-512 BF16", Avx512Bf16), ("AMX BF16", AmxBf16) }.Where(f => f.Item2).Select(f => f.Item1).ToList();
}
