using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Hand-built weights whose codes are known, and their packed bytes written out literally.</summary>
public class Nf4PackingTests
{
    [Fact]
    public void Quantize_KnownCodesAndTies_PacksFirstElementInHighNibble()
    {
        // absmax 1, so x / absmax = x. Codes: -1 → 0, 1 → 15, 0 → 7, 0.5626… → 13, -0.0910… → 6;
        // the midpoint of codes 7 and 8 → 7 and of 6 and 7 → 6 (bucketize, right=False: ties go down).
        float mid78 = (0f + 0.07958029955625534f) / 2, mid67 = (-0.09105003625154495f + 0f) / 2;
        float[] w = [-1f, 1f, 0f, 0.5626170039176941f, -0.09105003625154495f, mid78, mid67];
        using var weight = tensor(w);
        using var q = Nf4Quantizer.Quantize(weight, blocksize: 32, doubleQuant: false);
        // (0, 15) (7, 13) (6, 7) (6, pad 0)
        Assert.Equal(new byte[] { 0x0F, 0x7D, 0x67, 0x60 }, q.Packed.bytes);
        Assert.Equal(new long[] { 4, 1 }, q.Packed.shape);
        Assert.Equal(new[] { 1f }, q.Absmax.data<float>());
    }

    [Fact]
    public void Quantize_SecondBlockOfOneElement_GetsItsOwnAbsmaxAndHighNibble()
    {
        // 33 elements, blocksize 32: block 0 = 0.5 repeated (code 15 under absmax 0.5), block 1 = {-2.5}.
        var w = Enumerable.Repeat(0.5f, 32).Append(-2.5f).ToArray();
        using var weight = tensor(w);
        using var q = Nf4Quantizer.Quantize(weight, blocksize: 32, doubleQuant: false);
        var expected = Enumerable.Repeat((byte)0xFF, 16).Append((byte)0x00).ToArray();
        Assert.Equal(expected, q.Packed.bytes);
        Assert.Equal(new[] { 0.5f, 2.5f }, q.Absmax.data<float>());
    }

    [Fact]
    public void Quantize_BlockOfZeros_HasZeroAbsmaxAndCodeSeven()
    {
        using var weight = zeros(2, 32);
        using var q = Nf4Quantizer.Quantize(weight, blocksize: 32, doubleQuant: false);
        Assert.All(q.Packed.bytes, b => Assert.Equal(0x77, b));
        Assert.All(q.Absmax.data<float>(), a => Assert.Equal(0f, a));
        using var back = q.Dequantize();
        Assert.All(back.data<float>(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Quantize_ValuesBeyondCodesScaledByAbsmax_RoundToNearestCode()
    {
        // absmax 2: 2·0.75 = 1.5 → nearest of 0.7229… (14) and 1 (15) is 14; 2·0.9 = 1.8 → 15.
        using var weight = tensor(new[] { 2f, 1.5f, 1.8f, -0.5f });
        using var q = Nf4Quantizer.Quantize(weight, blocksize: 32, doubleQuant: false);
        // -0.5 / 2 = -0.25: between -0.2844 (4) and -0.1848 (5), nearer 4.
        Assert.Equal(new byte[] { 0xFE, 0xF4 }, q.Packed.bytes);
    }
}
