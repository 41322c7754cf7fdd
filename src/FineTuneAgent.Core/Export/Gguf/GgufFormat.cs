namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>Constants of the GGUF container (ggml docs/gguf.md, include/gguf.h).</summary>
public static class GgufFormat
{
    /// <summary>"GGUF" as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    public const uint Version = 3;

    public const uint DefaultAlignment = 32;

    public const string AlignmentKey = "general.alignment";

    /// <summary>ggml keeps names in char[GGML_MAX_NAME = 64] including the terminating NUL.</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    public static long Align(long offset, uint alignment) => offset + (alignment - offset % alignment) % alignment;
}
