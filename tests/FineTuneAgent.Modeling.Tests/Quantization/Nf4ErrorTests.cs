using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>Quantize → dequantize on Gaussian weights, against bounds derived from the code tables.</summary>
public class Nf4ErrorTests
{
    private static (float[] w, Nf4Weight q) Gaussian(long seed, int blocksize, bool doubleQuant, ScalarType dtype = ScalarType.Float32)
    {
        manual_seed(seed);
        using var weight = randn([256, 256], dtype);
        return (weight.ToArray<float>(), Nf4Quantizer.Quantize(weight, blocksize, doubleQuant));
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(64, false)]
    [InlineData(256, true)]
    public void Dequantize_EqualsReconstructionFromStoredTensors(int blocksize, bool doubleQuant)
    {
        var (_, q) = Gaussian(1, blocksize, doubleQuant);
        using (q)
        {
            using var ours = q.Dequantize(ScalarType.Float32);
            Assert.Equal(QuantReference.Dequantize(q), ours.data<float>());
        }
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(64, false)]
    [InlineData(128, true)]
    public void Dequantize_EveryElementWithinHalfTheLargestCodeGapTimesAbsmax(int blocksize, bool doubleQuant)
    {
        var (w, q) = Gaussian(2, blocksize, doubleQuant);
        using (q)
        {
            var trueAbsmax = QuantReference.TrueAbsmax(w, blocksize);
            var storedAbsmax = QuantReference.BlockAbsmax(q);
            var back = QuantReference.Dequantize(q);
            var halfGap = QuantReference.Nf4HalfGap;
            for (var i = 0; i < w.Length; i++)
            {
                var b = i / blocksize;
                // |code·a' − x| ≤ |code·a − x| + |code|·|a' − a| ≤ a·halfGap + |a' − a|, plus float rounding.
                var bound = trueAbsmax[b] * halfGap + Math.Abs(storedAbsmax[b] - trueAbsmax[b]) + 1e-6f * trueAbsmax[b];
                Assert.True(Math.Abs(back[i] - w[i]) <= bound, $"element {i}: {w[i]} → {back[i]}, bound {bound}");
            }
        }
    }

    [Fact]
    public void DoubleQuant_AbsmaxErrorWithinHalfTheLargestDynamicMapGapTimesNestedAbsmax()
    {
        var (w, q) = Gaussian(3, 64, true);
        using (q)
        {
            var map = q.NestedCode!.data<float>();
            var halfGap = 0f;
            for (var k = 0; k + 1 < map.Length; k++)
                halfGap = Math.Max(halfGap, (map[k + 1] - map[k]) / 2);
            var trueAbsmax = QuantReference.TrueAbsmax(w, 64);
            var stored = QuantReference.BlockAbsmax(q);
            var absmax2 = q.NestedAbsmax!.data<float>();
            // The offset is the mean of the true absmax values.
            Assert.Equal(trueAbsmax.Average(), q.NestedOffset!.item<float>(), 1e-5);
            for (var b = 0; b < trueAbsmax.Length; b++)
                Assert.True(Math.Abs(stored[b] - trueAbsmax[b]) <= absmax2[b / 256] * halfGap + 1e-6f, $"block {b}");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Dequantize_GaussianRmsErrorAboutNinePercentOfSigma(ScalarType dtype)
    {
        // NF4 with blocks of 64 on N(0, 1) weights: ≈ 0.092 σ RMS (measured with bnb_reference.py).
        var (w, q) = Gaussian(4, 64, true, dtype);
        using (q)
        {
            var back = QuantReference.Dequantize(q);
            var mean = w.Average();
            var sigma = Math.Sqrt(w.Select(x => (x - mean) * (x - mean)).Average());
            var rms = Math.Sqrt(w.Zip(back, (a, b) => (double)(a - b) * (a - b)).Average());
            Assert.InRange(rms / sigma, 0.085, 0.10);
        }
    }

    [Fact]
    public void Int8_EveryElementWithinHalfAStepOfItsRow()
    {
        manual_seed(5);
        using var weight = randn(64, 96);
        var w = weight.data<float>();
        using var q = Int8RowwiseQuantizer.Quantize(weight);
        var back = QuantReference.DequantizeInt8(q.Data.data<sbyte>(), q.RowStats.data<float>(), 96);
        var rowStats = q.RowStats.data<float>();
        for (var i = 0; i < w.Length; i++)
        {
            var row = i / 96;
            var trueMax = w.Skip(row * 96).Take(96).Max(Math.Abs);
            Assert.Equal(trueMax, rowStats[row]);
            Assert.True(Math.Abs(back[i] - w[i]) <= trueMax / 127.0 / 2 * 1.0001, $"element {i}");
        }
        using var ours = q.Dequantize();
        var oursValues = ours.data<float>();
        for (var i = 0; i < w.Length; i++)
            Assert.Equal(back[i], oursValues[i], 1e-6);
    }
}
