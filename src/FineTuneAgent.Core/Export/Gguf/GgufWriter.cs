using System.Text;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// Writes a GGUF v3 file: header, metadata, tensor infos, then each tensor's bytes at its
/// aligned offset. Tensors are declared first (the header holds their offsets) and their data is
/// asked for one at a time while writing, so a model never has to be in memory whole.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _tensors = new();
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private long _dataSize;

    /// <param name="alignment">Data alignment; written as general.alignment when not the default 32.</param>
    public GgufWriter(uint alignment = GgufFormat.DefaultAlignment)
    {
        if (alignment == 0 || alignment % 8 != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "GGUF alignment must be a positive multiple of 8");
        Alignment = alignment;
        if (alignment != GgufFormat.DefaultAlignment)
            Add(GgufFormat.AlignmentKey, GgufValue.UInt32(alignment));
    }

    public uint Alignment { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    public IReadOnlyList<(string Key, GgufValue Value)> Metadata => _metadata;

    /// <summary>Adds a metadata entry; keys are unique.</summary>
    public void Add(string key, GgufValue value)
    {
        if (string.IsNullOrEmpty(key) || Encoding.UTF8.GetByteCount(key) > ushort.MaxValue)
            throw new ArgumentException($"GGUF key '{key}' must be 1..65535 bytes", nameof(key));
        if (!_keys.Add(key))
            throw new ArgumentException($"GGUF key '{key}' is already set", nameof(key));
        _metadata.Add((key, value));
    }

    /// <summary>Declares a tensor; <paramref name="ggmlDimensions"/> are in ggml order (PyTorch shape reversed).</summary>
    public GgufTensorInfo AddTensor(string name, IReadOnlyList<long> ggmlDimensions, GgmlType type)
    {
        if (Encoding.UTF8.GetByteCount(name) is 0 or > GgufFormat.MaxTensorNameBytes)
            throw new ArgumentException($"GGUF tensor name '{name}' must be 1..{GgufFormat.MaxTensorNameBytes} bytes", nameof(name));
        if (!_tensorNames.Add(name))
            throw new ArgumentException($"GGUF tensor '{name}' is already declared", nameof(name));
        if (ggmlDimensions.Count is 0 or > GgufFormat.MaxDimensions || ggmlDimensions.Any(d => d <= 0))
            throw new ArgumentException($"GGUF tensor '{name}': dimensions [{string.Join(", ", ggmlDimensions)}] must be 1..4 positive sizes", nameof(ggmlDimensions));
        var info = new GgufTensorInfo(name, ggmlDimensions.ToArray(), type, _dataSize);
        _dataSize = GgufFormat.Align(_dataSize + info.ByteSize, Alignment);   // ByteSize checks the row length
        _tensors.Add(info);
        return info;
    }

    /// <summary>
    /// Writes the file. <paramref name="tensorData"/> is called once per tensor, in declaration
    /// order, and must return exactly that tensor's bytes.
    /// </summary>
    public void WriteTo(Stream output, Func<GgufTensorInfo, ReadOnlyMemory<byte>> tensorData)
    {
        var header = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        header.Write(GgufFormat.Magic);
        header.Write(GgufFormat.Version);
        header.Write((ulong)_tensors.Count);
        header.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            header.Write((uint)value.Type);
            WriteValue(header, value.Type, value.Value, value.ElementType);
        }
        foreach (var t in _tensors)
        {
            WriteString(header, t.Name);
            header.Write((uint)t.Dimensions.Count);
            foreach (var d in t.Dimensions)
                header.Write((ulong)d);
            header.Write((uint)t.Type);
            header.Write((ulong)t.Offset);
        }
        header.Flush();
        long written = 0;
        var headerLength = HeaderLength();
        Pad(output, GgufFormat.Align(headerLength, Alignment) - headerLength);
        foreach (var t in _tensors)
        {
            Pad(output, t.Offset - written);
            var bytes = tensorData(t);
            if (bytes.Length != t.ByteSize)
                throw new InvalidOperationException($"GGUF tensor '{t.Name}' ({t.Type}, [{string.Join(", ", t.Dimensions)}]) needs {t.ByteSize} bytes, got {bytes.Length}");
            output.Write(bytes.Span);
            written = t.Offset + t.ByteSize;
        }
        Pad(output, _dataSize - written);
    }

    /// <summary>Bytes before the data section's alignment padding.</summary>
    private long HeaderLength()
    {
        long n = 4 + 4 + 8 + 8;
        foreach (var (key, value) in _metadata)
            n += StringLength(key) + 4 + ValueLength(value.Type, value.Value, value.ElementType);
        foreach (var t in _tensors)
            n += StringLength(t.Name) + 4 + 8L * t.Dimensions.Count + 4 + 8;
        return n;
    }

    private static long StringLength(string s) => 8 + Encoding.UTF8.GetByteCount(s);

    private static long ValueLength(GgufValueType type, object value, GgufValueType elementType) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => StringLength((string)value),
        GgufValueType.Array => 4 + 8 + ((System.Collections.IList)value).Cast<object>().Sum(e => e is GgufValue nested
            ? ValueLength(nested.Type, nested.Value, nested.ElementType)
            : ValueLength(elementType, e, default)),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown GGUF value type"),
    };

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValueType type, object value, GgufValueType elementType)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((byte)((bool)value ? 1 : 0)); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            case GgufValueType.Array:
                var list = (System.Collections.IList)value;
                w.Write((uint)elementType);
                w.Write((ulong)list.Count);
                foreach (var e in list)
                {
                    if (e is GgufValue nested)
                    {
                        // A nested array is written as its element type, count and elements, without its own type tag.
                        WriteValue(w, nested.Type, nested.Value, nested.ElementType);
                    }
                    else
                    {
                        WriteValue(w, elementType, e, default);
                    }
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unknown GGUF value type");
        }
    }

    private static void Pad(Stream output, long count)
    {
        if (count < 0)
            throw new InvalidOperationException("GGUF writer: negative padding (tensor offsets out of order)");
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        while (count > 0)
        {
            var n = (int)Math.Min(count, zeros.Length);
            output.Write(zeros[..n]);
            count -= n;
        }
    }
}
