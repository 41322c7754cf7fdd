using FineTuneAgent.Modeling.Quantization;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Tests.Quantization;

/// <summary>
/// Independent arithmetic for the quantization tests: the published NF4 table, nibble unpacking
/// and dequantization from the stored tensors, in plain C#.
/// </summary>
internal static class QuantReference
{
    /// <summary>bitsandbytes get_4bit_type("nf4") as published (FACTS §5.1).</summary>
    public static readonly float[] Nf4 =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>Half the largest gap between adjacent NF4 values: the worst rounding error on [-1, 1].</summary>
    public static float Nf4HalfGap
    {
        get
        {
            var gap = 0f;
            for (var k = 0; k + 1 < Nf4.Length; k++)
                gap = Math.Max(gap, Nf4[k + 1] - Nf4[k]);
            return gap / 2;
        }
    }

    /// <summary>Code of element i: high nibble of byte i/2 for even i, low nibble for odd i.</summary>
    public static int[] UnpackCodes(byte[] packed, long count)
    {
        var codes = new int[count];
        for (long i = 0; i < count; i++)
            codes[i] = (i & 1) == 0 ? packed[i >> 1] >> 4 : packed[i >> 1] & 0xF;
        return codes;
    }

    /// <summary>Per-block absmax from the stored state: float32, or code[q] * absmax2 + offset.</summary>
    public static float[] BlockAbsmax(Nf4Weight w)
    {
        if (!w.DoubleQuantized)
            return w.Absmax.data<float>();
        var q = w.Absmax.data<byte>();
        var absmax2 = w.NestedAbsmax!.data<float>();
        var code = w.NestedCode!.data<float>();
        var offset = w.NestedOffset!.item<float>();
        var result = new float[q.Length];
        for (var b = 0; b < q.Length; b++)
        {
            var scaled = code[q[b]] * absmax2[b / w.NestedBlocksize];
            result[b] = scaled + offset;
        }
        return result;
    }

    /// <summary>The weight (flattened, float32) rebuilt from the stored tensors with the published table.</summary>
    public static float[] Dequantize(Nf4Weight w)
    {
        var n = w.Shape.Aggregate(1L, (a, b) => a * b);
        var codes = UnpackCodes(w.Packed.data<byte>(), n);
        var absmax = BlockAbsmax(w);
        var result = new float[n];
        for (long i = 0; i < n; i++)
            result[i] = Nf4[codes[i]] * absmax[i / w.Blocksize];
        return result;
    }

    /// <summary>max |x| of each block of the flattened weight, in float32.</summary>
    public static float[] TrueAbsmax(float[] weight, int blocksize)
    {
        var result = new float[(weight.Length + blocksize - 1) / blocksize];
        for (var i = 0; i < weight.Length; i++)
            result[i / blocksize] = Math.Max(result[i / blocksize], Math.Abs(weight[i]));
        return result;
    }

    /// <summary>W ≈ q · row_stats / 127 in float64, per element.</summary>
    public static double[] DequantizeInt8(sbyte[] q, float[] rowStats, long cols)
    {
        var result = new double[q.Length];
        for (var i = 0; i < q.Length; i++)
            result[i] = q[i] * (double)rowStats[i / cols] / 127.0;
        return result;
    }

    public static Tensor ToTensor(float[] values, IReadOnlyList<long> shape) => tensor(values, shape.ToArray());
}
