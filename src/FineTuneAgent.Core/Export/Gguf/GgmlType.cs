namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>The ggml tensor types this exporter writes, with ggml's numbers (ggml.h enum ggml_type).</summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}

/// <summary>Block geometry of the ggml types (ggml-common.h: block_q4_0, block_q8_0).</summary>
public static class GgmlTypes
{
    /// <summary>Elements per block: 32 for Q4_0 and Q8_0, 1 for the float types.</summary>
    public static int BlockSize(GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 => 1,
        GgmlType.Q4_0 or GgmlType.Q8_0 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this exporter knows"),
    };

    /// <summary>Bytes per block: fp16 scale + 32 int8 (Q8_0), fp16 scale + 16 nibble pairs (Q4_0).</summary>
    public static int BlockBytes(GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 => 2,
        GgmlType.Q4_0 => 18,
        GgmlType.Q8_0 => 34,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a ggml type this exporter knows"),
    };

    public static bool IsKnown(uint type) => Enum.IsDefined(typeof(GgmlType), type);

    /// <summary>Bytes of a tensor whose fastest axis (ne[0]) has <paramref name="rowLength"/> elements.</summary>
    public static long ByteSize(GgmlType type, long elements, long rowLength)
    {
        var block = BlockSize(type);
        if (rowLength % block != 0)
            throw new ArgumentException($"a {type} row must be a multiple of {block} elements, not {rowLength}");
        return elements / block * BlockBytes(type);
    }
}
