using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch;

/// <summary>Sizes of the safetensors dtypes and their mapping to libtorch's scalar types.</summary>
public static class SafetensorsDTypes
{
    /// <summary>The dtypes that load into libtorch tensors, in the writer's order (widest first).</summary>
    public static IReadOnlyList<SafetensorsDType> Loadable { get; } =
    [
        SafetensorsDType.F64, SafetensorsDType.I64, SafetensorsDType.F32, SafetensorsDType.I32,
        SafetensorsDType.BF16, SafetensorsDType.F16, SafetensorsDType.I16, SafetensorsDType.I8,
        SafetensorsDType.U8, SafetensorsDType.BOOL,
    ];

    /// <summary>Bits per element; sub-byte types (F4, F6_*) make byte sizes depend on the element count.</summary>
    public static int BitSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F4 => 4,
        SafetensorsDType.F6_E2M3 or SafetensorsDType.F6_E3M2 => 6,
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8_E5M2
            or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E8M0 or SafetensorsDType.F8_E4M3FNUZ
            or SafetensorsDType.F8_E5M2FNUZ => 8,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 16,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 32,
        SafetensorsDType.C64 or SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>The libtorch scalar type the dtype loads as, or null when this binding cannot hold it.</summary>
    public static ScalarType? ToScalarType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.I64 => ScalarType.Int64,
        SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.I16 => ScalarType.Int16,
        SafetensorsDType.I8 => ScalarType.Int8,
        SafetensorsDType.U8 => ScalarType.Byte,
        SafetensorsDType.BOOL => ScalarType.Bool,
        _ => null,
    };

    /// <summary>The safetensors dtype a libtorch tensor is saved as, or null when the format has none we write.</summary>
    public static SafetensorsDType? FromScalarType(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => SafetensorsDType.F64,
        ScalarType.Float32 => SafetensorsDType.F32,
        ScalarType.Float16 => SafetensorsDType.F16,
        ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Int64 => SafetensorsDType.I64,
        ScalarType.Int32 => SafetensorsDType.I32,
        ScalarType.Int16 => SafetensorsDType.I16,
        ScalarType.Int8 => SafetensorsDType.I8,
        ScalarType.Byte => SafetensorsDType.U8,
        ScalarType.Bool => SafetensorsDType.BOOL,
        _ => null,
    };

    /// <summary>Parses a header's dtype string; exact spelling only, as the reference's deserializer.</summary>
    public static bool TryParse(string text, out SafetensorsDType dtype)
    {
        // Enum.TryParse would also accept numbers and other casings; headers must match exactly.
        foreach (var candidate in Enum.GetValues<SafetensorsDType>())
        {
            if (string.Equals(candidate.ToString(), text, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }
}
