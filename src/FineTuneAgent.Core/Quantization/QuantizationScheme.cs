namespace FineTuneAgent.Core.Quantization;

/// <summary>How base projections are stored: NF4 (blocksize, double quantization) or row-wise int8.</summary>
public sealed record QuantizationScheme(string Type, int BlockSize = 64, bool DoubleQuant = true)
{
    public static QuantizationScheme Nf4 { get; } = new("nf4");

    public static QuantizationScheme Int8 { get; } = new("int8", 0, false);

    /// <summary>A short stable name, part of the cache key: "nf4-b64-dq", "nf4-b64", "int8".</summary>
    public string Key => Type == "nf4" ? $"nf4-b{BlockSize}{(DoubleQuant ? "-dq" : "")}" : Type;

    /// <summary>
    /// The base storage a method's settings ask for: their <c>quant_type</c> (with <c>blocksize</c> and
    /// <c>double_quant</c> for nf4), as QLoRA's settings write them; null when the settings quantize nothing.
    /// Read from the settings' JSON because the settings type belongs to the method's plugin.
    /// </summary>
    public static QuantizationScheme? FromMethodSettings(System.Text.Json.Nodes.JsonObject settings)
    {
        if (settings["quant_type"] is not System.Text.Json.Nodes.JsonValue type)
            return null;
        var scheme = type.GetValue<string>() switch
        {
            "int8" => Int8,
            var t => new QuantizationScheme(t, settings["blocksize"]?.GetValue<int>() ?? Nf4.BlockSize, settings["double_quant"]?.GetValue<bool>() ?? Nf4.DoubleQuant),
        };
        scheme.Validate();
        return scheme;
    }

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
