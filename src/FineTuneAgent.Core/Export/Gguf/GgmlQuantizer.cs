using System.Buffers.Binary;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// Encodes float32 values as ggml tensor data, bit for bit as ggml's reference row quantizers
/// (ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref, "for deterministic creation of
/// model files"): the scale is computed in float32, stored as fp16 (round to nearest even), and
/// the codes are computed with the float32 inverse of the unrounded scale.
/// </summary>
public static class GgmlQuantizer
{
    public const int BlockSize = 32;

    /// <summary>Encodes <paramref name="values"/> (rows of <paramref name="rowLength"/> elements, row-major) as <paramref name="type"/>.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, long rowLength, GgmlType type)
    {
        var output = new byte[GgmlTypes.ByteSize(type, values.Length, rowLength)];
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteSingleLittleEndian(output.AsSpan(4 * i), values[i]);
                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                    BinaryPrimitives.WriteHalfLittleEndian(output.AsSpan(2 * i), (Half)values[i]);
                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < values.Length / BlockSize; b++)
                    QuantizeBlockQ8_0(values.Slice(b * BlockSize, BlockSize), output.AsSpan(b * 34, 34));
                break;
            case GgmlType.Q4_0:
                for (var b = 0; b < values.Length / BlockSize; b++)
                    QuantizeBlockQ4_0(values.Slice(b * BlockSize, BlockSize), output.AsSpan(b * 18, 18));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this exporter writes");
        }
        return output;
    }

    /// <summary>Decodes ggml data back to float32 (ggml's dequantize_row_* and fp16 → fp32).</summary>
    public static float[] Decode(ReadOnlySpan<byte> data, long elements, GgmlType type)
    {
        var values = new float[elements];
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < values.Length; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
                break;
            case GgmlType.F16:
                for (var i = 0; i < values.Length; i++)
                    values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(data[(2 * i)..]);
                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < values.Length / BlockSize; b++)
                {
                    var block = data.Slice(b * 34, 34);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < BlockSize; j++)
                        values[b * BlockSize + j] = (sbyte)block[2 + j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (var b = 0; b < values.Length / BlockSize; b++)
                {
                    var block = data.Slice(b * 18, 18);
                    var d = (float)BinaryPrimitives.ReadHalfLittleEndian(block);
                    for (var j = 0; j < BlockSize / 2; j++)
                    {
                        values[b * BlockSize + j] = ((block[2 + j] & 0x0F) - 8) * d;
                        values[b * BlockSize + j + BlockSize / 2] = ((block[2 + j] >> 4) - 8) * d;
                    }
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this reader decodes");
        }
        return values;
    }

    // block_q8_0 { ggml_half d; int8_t qs[32]; }: d = amax/127, q = roundf(x·(1/d)) (half away from zero).
    private static void QuantizeBlockQ8_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        var amax = 0.0f;
        foreach (var v in x)
            amax = MathF.Max(amax, MathF.Abs(v));
        var d = amax / 127;
        var id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        for (var j = 0; j < BlockSize; j++)
            block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    // block_q4_0 { ggml_half d; uint8_t qs[16]; }: d = (signed value of largest magnitude)/−8,
    // q = min(15, (int8)(x·(1/d) + 8.5)) truncated; low nibble element j, high nibble element j+16.
    private static void QuantizeBlockQ4_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0.0f, max = 0.0f;
        foreach (var v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        var d = max / -8;
        var id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteHalfLittleEndian(block, (Half)d);
        for (var j = 0; j < BlockSize / 2; j++)
        {
            var lo = Math.Min(15, (int)(x[j] * id + 8.5f));
            var hi = Math.Min(15, (int)(x[j + BlockSize / 2] * id + 8.5f));
            block[2 + j] = (byte)(lo | (hi << 4));
        }
    }
}
