using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// bitsandbytes' "dynamic tree" 8-bit code (<c>create_dynamic_map</c>), used to quantize the NF4
/// absmax values (double quantization). For each exponent i, the midpoints of
/// <c>torch.linspace(0.1, 1, k)</c> scaled by 10^(i − (maxExponentBits − 1)), with their negatives
/// when signed, then 0 and 1, padded with zeros and sorted. The linspace is libtorch's own, as
/// bitsandbytes calls it, so the map matches theirs bit for bit on the same libtorch.
/// </summary>
public static class DynamicMap
{
    /// <summary>The sorted 2^totalBits float32 values (256 for the default 8 bits).</summary>
    public static float[] Create(bool signed = true, int maxExponentBits = 7, int totalBits = 8)
    {
        if (totalBits < 2 || totalBits > 8)
            throw new ArgumentOutOfRangeException(nameof(totalBits), totalBits, "totalBits must be between 2 and 8");
        var nonSignBits = totalBits - 1;
        if (maxExponentBits < 1 || maxExponentBits > nonSignBits)
            throw new ArgumentOutOfRangeException(nameof(maxExponentBits), maxExponentBits, $"maxExponentBits must be between 1 and {nonSignBits}");

        var data = new List<float>();
        var additionalItems = (1 << (nonSignBits - maxExponentBits)) - 1;
        for (var i = 0; i < maxExponentBits; i++)
        {
            var fractionItems = signed ? (1 << (i + nonSignBits - maxExponentBits)) + 1 : (1 << (i + nonSignBits - maxExponentBits + 1)) + 1;
            AddMeans(data, fractionItems, -(maxExponentBits - 1) + i, signed);
        }
        if (additionalItems > 0)
            AddMeans(data, additionalItems + 1, 0, signed);  // bitsandbytes reuses the last exponent (i = maxExponentBits − 1)
        data.Add(0f);
        data.Add(1f);
        var size = 1 << totalBits;
        if (data.Count > size)
            throw new InvalidOperationException($"dynamic map has {data.Count} values for {size} codes");
        while (data.Count < size)
            data.Add(0f);
        data.Sort();
        return [.. data];
    }

    // Python: ((10 ** exponent) * means) with means = (b[:-1] + b[1:]) / 2 of a float32 linspace;
    // a float32 tensor times a Python number multiplies in float32.
    private static void AddMeans(List<float> data, int boundaries, int exponent, bool signed)
    {
        float[] b;
        using (var boundary = linspace(0.1, 1, boundaries, ScalarType.Float32))
            b = boundary.data<float>();
        var scale = (float)Math.Pow(10, exponent);
        var means = new float[b.Length - 1];
        for (var k = 0; k < means.Length; k++)
            means[k] = (b[k] + b[k + 1]) / 2f;
        foreach (var m in means)
            data.Add(scale * m);
        if (signed)
            foreach (var m in means)
                data.Add(-scale * m);
    }
}
