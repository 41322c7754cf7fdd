using FineTuneAgent.Core.Export.Gguf;

namespace FineTuneAgent.Core.Tests.Export.Gguf;

/// <summary>
/// Our Q8_0 / Q4_0 / F16 bytes against tests/compat/ggml_quants_reference.py, ggml's reference
/// row quantizers written independently in float32 PyTorch.
/// </summary>
public sealed class GgmlQuantizerTests
{
    /// <summary>Random blocks plus the edge cases: an all-zero block, exact .5 ties, a negative extreme, tiny and huge scales.</summary>
    private static float[] Values()
    {
        var random = new Random(5);
        var values = new List<float>();
        for (var i = 0; i < 32 * 40; i++)
            values.Add((float)(random.NextDouble() * 2 - 1) * (i / 32 % 5 == 0 ? 1e-3f : i / 32 % 7 == 0 ? 300f : 1f));
        values.AddRange(new float[32]);                                                        // d = 0
        values.AddRange([127f, 0.5f, 1.5f, -2.5f, 2.5f, -0.5f, 126.5f, .. Enumerable.Repeat(3f, 25)]);   // Q8_0 ties at d = 1
        values.AddRange([-8f, -0.5f, 0.5f, 7.5f, -7.5f, 3.5f, .. Enumerable.Repeat(0.25f, 26)]);        // Q4_0 with max negative
        values.AddRange([8f, -8f, 1f, .. Enumerable.Repeat(-0.75f, 29)]);                               // tie in |max|: the first wins
        return values.ToArray();
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, "q8_0")]
    [InlineData(GgmlType.Q4_0, "q4_0")]
    [InlineData(GgmlType.F16, "f16")]
    public void Encode_MatchesGgmlReferenceByteForByte(GgmlType type, string name)
    {
        var values = Values();
        var dir = Directory.CreateTempSubdirectory("fta-ggml-").FullName;
        try
        {
            var input = Path.Combine(dir, "in.f32");
            File.WriteAllBytes(input, GgmlQuantizer.Encode(values, 32, GgmlType.F32));
            var output = Path.Combine(dir, "out.bin");
            CompatProcess.Python("ggml_quants_reference.py", name, input, output);
            var expected = File.ReadAllBytes(output);
            var actual = GgmlQuantizer.Encode(values, 32, type);
            Assert.Equal(expected.Length, actual.Length);
            var firstDiff = Enumerable.Range(0, actual.Length).FirstOrDefault(i => actual[i] != expected[i], -1);
            Assert.True(firstDiff < 0, $"first differing byte {firstDiff} (block {firstDiff / GgmlTypes.BlockBytes(type)}): ours {(firstDiff < 0 ? 0 : actual[firstDiff])}, reference {(firstDiff < 0 ? 0 : expected[firstDiff])}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 127)]
    [InlineData(GgmlType.Q4_0, 8)]
    public void Decode_IsWithinAQuantizationStepOfTheInput(GgmlType type, int levels)
    {
        var values = Values()[..(32 * 40)];
        var decoded = GgmlQuantizer.Decode(GgmlQuantizer.Encode(values, 32, type), values.Length, type);
        for (var b = 0; b < values.Length / 32; b++)
        {
            var block = values.AsSpan(b * 32, 32);
            var amax = 0f;
            foreach (var v in block)
                amax = Math.Max(amax, Math.Abs(v));
            var step = amax / levels;
            for (var j = 0; j < 32; j++)
            {
                // Half a step (Q4_0: a whole one, its codes reach only 7/8 of amax on the side opposite the
                // extreme), plus the fp16 rounding of the scale (subnormal for tiny blocks) times the code.
                var tolerance = step * (type == GgmlType.Q4_0 ? 1f : 0.5f) + levels * Math.Abs(step - (float)(Half)step) + 1e-6f * amax;
                Assert.True(Math.Abs(decoded[b * 32 + j] - block[j]) <= tolerance, $"block {b} element {j}: {block[j]} decoded as {decoded[b * 32 + j]}");
            }
        }
    }

    [Fact]
    public void Encode_RowNotAMultipleOfTheBlock_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => GgmlQuantizer.Encode(new float[48], 48, GgmlType.Q8_0));
        Assert.Contains("multiple of 32", e.Message);
    }
}
