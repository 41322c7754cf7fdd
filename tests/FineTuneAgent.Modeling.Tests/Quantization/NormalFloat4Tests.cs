using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

public class NormalFloat4Tests
{
    [Fact]
    public void Values_EqualPublishedBitsandbytesTable()
    {
        Assert.Equal(QuantReference.Nf4, NormalFloat4.Values);
    }

    [Fact]
    public void Values_SortedFromMinusOneToOneWithExactZeroAtCodeSeven()
    {
        var v = NormalFloat4.Values;
        for (var k = 0; k + 1 < v.Count; k++)
            Assert.True(v[k] < v[k + 1]);
        Assert.Equal(-1f, v[0]);
        Assert.Equal(0f, v[7]);
        Assert.Equal(1f, v[15]);
    }

    [Fact]
    public void NativeDequantize_EveryCodeWithUnitAbsmax_GivesThePublishedValue()
    {
        // Bytes 0x01, 0x23, …, 0xEF hold the codes 0..15 in order (high nibble first).
        var bytes = Enumerable.Range(0, 8).Select(j => (byte)((2 * j) << 4 | (2 * j + 1))).ToArray();
        using var packed = tensor(bytes, [8, 1]);
        using var absmax = ones(1);
        using var values = ops.bitsandbytes.dequantize_4bit(packed, absmax, 32, "nf4", [16], ScalarType.Float32);
        Assert.Equal(QuantReference.Nf4, values.data<float>());
    }
}
