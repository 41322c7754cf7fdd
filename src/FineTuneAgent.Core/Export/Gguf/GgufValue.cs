using System.Collections;
using System.Globalization;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or an array of one element type (arrays may
/// nest). <see cref="Value"/> holds the CLR value of the type (uint for UInt32, string for String,
/// an <see cref="IList"/> of element values for Array).
/// </summary>
public sealed record GgufValue
{
    private GgufValue(GgufValueType type, object value, GgufValueType elementType = default)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    public object Value { get; }

    /// <summary>For arrays, the type of every element.</summary>
    public GgufValueType ElementType { get; }

    public static GgufValue UInt8(byte v) => new(GgufValueType.UInt8, v);
    public static GgufValue Int8(sbyte v) => new(GgufValueType.Int8, v);
    public static GgufValue UInt16(ushort v) => new(GgufValueType.UInt16, v);
    public static GgufValue Int16(short v) => new(GgufValueType.Int16, v);
    public static GgufValue UInt32(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Int32(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Float32(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Bool(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue String(string v) => new(GgufValueType.String, v);
    public static GgufValue UInt64(ulong v) => new(GgufValueType.UInt64, v);
    public static GgufValue Int64(long v) => new(GgufValueType.Int64, v);
    public static GgufValue Float64(double v) => new(GgufValueType.Float64, v);

    /// <summary>An array; every element must be the CLR type of <paramref name="elementType"/> (a GgufValue of that type for nested arrays).</summary>
    public static GgufValue Array(GgufValueType elementType, IList elements)
    {
        foreach (var e in elements)
            if (!Fits(elementType, e))
                throw new ArgumentException($"array of {elementType} holds a {e?.GetType().Name ?? "null"}", nameof(elements));
        return new(GgufValueType.Array, elements, elementType);
    }

    public static GgufValue Strings(IReadOnlyList<string> v) => Array(GgufValueType.String, v.ToList());
    public static GgufValue Int32s(IReadOnlyList<int> v) => Array(GgufValueType.Int32, v.ToArray());
    public static GgufValue Float32s(IReadOnlyList<float> v) => Array(GgufValueType.Float32, v.ToArray());
    public static GgufValue UInt32s(IReadOnlyList<uint> v) => Array(GgufValueType.UInt32, v.ToArray());

    public IList AsArray() => Type == GgufValueType.Array ? (IList)Value : throw Mismatch("an array");

    public string AsString() => Value as string ?? throw Mismatch("a string");

    /// <summary>Any integer type as a long (llama.cpp writes counts as uint32, the spec suggests uint64).</summary>
    public long AsInteger() => Type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
            or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Int64 => Convert.ToInt64(Value, CultureInfo.InvariantCulture),
        GgufValueType.UInt64 => checked((long)(ulong)Value),
        _ => throw Mismatch("an integer"),
    };

    public double AsFloat() => Type switch
    {
        GgufValueType.Float32 => (float)Value,
        GgufValueType.Float64 => (double)Value,
        _ => throw Mismatch("a float"),
    };

    public bool AsBool() => Type == GgufValueType.Bool ? (bool)Value : throw Mismatch("a bool");

    private InvalidOperationException Mismatch(string wanted) => new($"GGUF value is {Type}, not {wanted}");

    internal static bool Fits(GgufValueType type, object? value) => type switch
    {
        GgufValueType.UInt8 => value is byte,
        GgufValueType.Int8 => value is sbyte,
        GgufValueType.UInt16 => value is ushort,
        GgufValueType.Int16 => value is short,
        GgufValueType.UInt32 => value is uint,
        GgufValueType.Int32 => value is int,
        GgufValueType.Float32 => value is float,
        GgufValueType.Bool => value is bool,
        GgufValueType.String => value is string,
        GgufValueType.UInt64 => value is ulong,
        GgufValueType.Int64 => value is long,
        GgufValueType.Float64 => value is double,
        GgufValueType.Array => value is GgufValue { Type: GgufValueType.Array },
        _ => false,
    };

    public override string ToString() => Type == GgufValueType.Array
        ? $"{ElementType}[{AsArray().Count}]"
        : Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "";
}
