namespace FineTuneAgent.Core.Quantization;

/// <summary>How base projections are stored: NF4 (blocksize, double quantization) or row-wise int8.</summary>
public sealed record QuantizationScheme(string Type, int BlockSize = 64, bool DoubleQuant = true)
{
    public static QuantizationScheme Nf4 { get; } = new("nf4");

    public static QuantizationScheme Int8 { get; } = new("int8", 0, false);

    /// <summary>A short stable name, part of the cache key: "nf4-b64-dq", "nf4-b64", "int8".</summary>
    public string Key => Type == "nf4" ? $"nf4-b{BlockSize}{(DoubleQuant ? "-dq" : "")}" : Type;

    public void Validate()
    {
        if (Type is not ("nf4" or "int8"))
            throw new ArgumentException($"quantization type must be nf4 or int8, not '{Type}'", nameof(Type));
        if (Type == "nf4" && !Modeling.Quantization.NormalFloat4.Blocksizes.Contains(BlockSize))
            throw new ArgumentException($"NF4 blocksize {BlockSize} is not one of {string.Join(", ", Modeling.Quantization.NormalFloat4.Blocksizes)}", nameof(BlockSize));
    }
}

/// <summary>One step of building a quantized base, for progress displays.</summary>
public sealed record QuantizationProgress(string Tensor, int Done, int Total, bool FromCache);
