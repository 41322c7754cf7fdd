using System.Text;

namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// A GGUF file's header read and validated: metadata, tensor infos and where the data starts.
/// Tensor bytes are read on demand. Anything truncated, out of range or inconsistent is a
/// <see cref="GgufFormatException"/> naming the file, the byte offset and the field.
/// </summary>
public sealed class GgufFile
{
    // Sanity bounds so a corrupt count fails with a message instead of a huge allocation.
    private const ulong MaxCount = 1UL << 31;

    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string path, uint version, List<(string, GgufValue)> metadata, List<GgufTensorInfo> tensors, uint alignment, long dataOffset, long fileLength)
    {
        Path = path;
        Version = version;
        MetadataInOrder = metadata;
        _metadata = metadata.ToDictionary(kv => kv.Item1, kv => kv.Item2, StringComparer.Ordinal);
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Alignment = alignment;
        DataOffset = dataOffset;
        FileLength = fileLength;
    }

    public string Path { get; }

    public uint Version { get; }

    public IReadOnlyList<(string Key, GgufValue Value)> MetadataInOrder { get; }

    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public uint Alignment { get; }

    /// <summary>Absolute file offset of the data section.</summary>
    public long DataOffset { get; }

    public long FileLength { get; }

    public GgufValue this[string key] => _metadata.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"{Path}: no metadata key '{key}'");

    public GgufTensorInfo Tensor(string name) => _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor '{name}'");

    /// <summary>The stored bytes of one tensor.</summary>
    public byte[] ReadTensorBytes(string name)
    {
        var t = Tensor(name);
        var bytes = new byte[t.ByteSize];
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Position = DataOffset + t.Offset;
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Reads and validates the header of a GGUF file (versions 2 and 3).</summary>
    public static GgufFile Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        var r = new Cursor(stream, path);
        var magic = r.U32("magic");
        if (magic != GgufFormat.Magic)
            throw r.Fail(0, "magic", $"0x{magic:X8} is not \"GGUF\" (0x{GgufFormat.Magic:X8}): not a GGUF file");
        var version = r.U32("version");
        if (version is not (2 or 3))
            throw r.Fail(4, "version", $"{version} is not supported (2 or 3)");
        var tensorCount = r.Count("tensor_count");
        var kvCount = r.Count("metadata_kv_count");

        var metadata = new List<(string, GgufValue)>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var at = r.Position;
            var key = r.String($"metadata[{i}].key");
            if (!keys.Add(key))
                throw r.Fail(at, $"metadata[{i}].key", $"duplicate key '{key}'");
            var type = r.Type($"metadata '{key}' value_type");
            metadata.Add((key, r.Value(type, $"metadata '{key}'")));
        }

        var alignment = GgufFormat.DefaultAlignment;
        var alignmentEntry = metadata.FirstOrDefault(m => m.Item1 == GgufFormat.AlignmentKey);
        if (alignmentEntry.Item2 is { } a)
        {
            if (a.Type != GgufValueType.UInt32 || (uint)a.Value == 0 || (uint)a.Value % 8 != 0)
                throw r.Fail(0, GgufFormat.AlignmentKey, $"must be a uint32 multiple of 8, is {a.Type} {a}");
            alignment = (uint)a.Value;
        }

        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var at = r.Position;
            var name = r.String($"tensor_info[{i}].name");
            if (Encoding.UTF8.GetByteCount(name) > GgufFormat.MaxTensorNameBytes)
                throw r.Fail(at, $"tensor '{name}' name", $"longer than {GgufFormat.MaxTensorNameBytes} bytes");
            if (!names.Add(name))
                throw r.Fail(at, $"tensor '{name}' name", "duplicate tensor name");
            var dimsAt = r.Position;
            var nDims = r.U32($"tensor '{name}' n_dims");
            if (nDims is 0 or > GgufFormat.MaxDimensions)
                throw r.Fail(dimsAt, $"tensor '{name}' n_dims", $"{nDims} is not 1..{GgufFormat.MaxDimensions}");
            var dims = new long[nDims];
            for (var d = 0; d < nDims; d++)
            {
                var size = r.U64($"tensor '{name}' dims[{d}]");
                if (size is 0 or > long.MaxValue / 1024)
                    throw r.Fail(r.Position - 8, $"tensor '{name}' dims[{d}]", $"{size} is not a valid size");
                dims[d] = (long)size;
            }
            var typeAt = r.Position;
            var type = r.U32($"tensor '{name}' type");
            if (!GgmlTypes.IsKnown(type))
                throw r.Fail(typeAt, $"tensor '{name}' type", $"ggml type {type} is not one this reader knows (F32=0, F16=1, Q4_0=2, Q8_0=8)");
            var offsetAt = r.Position;
            var offset = r.U64($"tensor '{name}' offset");
            if (offset % alignment != 0 || offset > long.MaxValue)
                throw r.Fail(offsetAt, $"tensor '{name}' offset", $"{offset} is not a multiple of the alignment {alignment}");
            var rowBlock = GgmlTypes.BlockSize((GgmlType)type);
            if (dims[0] % rowBlock != 0)
                throw r.Fail(dimsAt, $"tensor '{name}' dims[0]", $"{dims[0]} is not a multiple of the {(GgmlType)type} block size {rowBlock}");
            tensors.Add(new GgufTensorInfo(name, dims, (GgmlType)type, (long)offset));
        }

        var dataOffset = GgufFormat.Align(r.Position, alignment);
        var length = stream.Length;
        if (dataOffset > length && tensors.Count > 0)
            throw r.Fail(r.Position, "tensor data", $"file ends at byte {length}, before the data section at {dataOffset}: truncated");
        // Tensors must lie inside the file and not overlap.
        long previousEnd = 0;
        string? previous = null;
        foreach (var t in tensors.OrderBy(t => t.Offset))
        {
            if (t.Offset < previousEnd)
                throw r.Fail(dataOffset + t.Offset, $"tensor '{t.Name}' offset", $"overlaps tensor '{previous}' (which ends at data offset {previousEnd})");
            var end = t.Offset + t.ByteSize;
            if (dataOffset + end > length)
                throw r.Fail(dataOffset + t.Offset, $"tensor '{t.Name}' data", $"needs bytes up to {dataOffset + end}, but the file has {length}: truncated");
            previousEnd = end;
            previous = t.Name;
        }
        return new GgufFile(path, version, metadata, tensors, alignment, dataOffset, length);
    }

    /// <summary>Reads primitives with the position and field in every error.</summary>
    private sealed class Cursor(Stream stream, string path)
    {
        private readonly BinaryReader _reader = new(stream, Encoding.UTF8, leaveOpen: true);

        public long Position => stream.Position;

        public GgufFormatException Fail(long at, string field, string message) => new($"{path}: byte {at}, {field}: {message}");

        private void Need(long bytes, string field)
        {
            if (stream.Length - stream.Position < bytes)
                throw Fail(stream.Position, field, $"needs {bytes} byte(s), the file ends at byte {stream.Length}: truncated");
        }

        public uint U32(string field)
        {
            Need(4, field);
            return _reader.ReadUInt32();
        }

        public ulong U64(string field)
        {
            Need(8, field);
            return _reader.ReadUInt64();
        }

        public ulong Count(string field)
        {
            var at = Position;
            var n = U64(field);
            if (n > MaxCount)
                throw Fail(at, field, $"{n} is not a plausible count (corrupt header)");
            return n;
        }

        public string String(string field)
        {
            var at = Position;
            var length = U64(field + " length");
            if (length > (ulong)(stream.Length - stream.Position))
                throw Fail(at, field, $"string of {length} bytes runs past the end of the file (byte {stream.Length}): truncated or corrupt");
            var bytes = _reader.ReadBytes((int)length);
            try
            {
                return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Fail(at, field, "is not valid UTF-8");
            }
        }

        public GgufValueType Type(string field)
        {
            var at = Position;
            var t = U32(field);
            if (t > (uint)GgufValueType.Float64)
                throw Fail(at, field, $"{t} is not a GGUF value type (0..12)");
            return (GgufValueType)t;
        }

        public GgufValue Value(GgufValueType type, string field)
        {
            switch (type)
            {
                case GgufValueType.UInt8: Need(1, field); return GgufValue.UInt8(_reader.ReadByte());
                case GgufValueType.Int8: Need(1, field); return GgufValue.Int8(_reader.ReadSByte());
                case GgufValueType.UInt16: Need(2, field); return GgufValue.UInt16(_reader.ReadUInt16());
                case GgufValueType.Int16: Need(2, field); return GgufValue.Int16(_reader.ReadInt16());
                case GgufValueType.UInt32: Need(4, field); return GgufValue.UInt32(_reader.ReadUInt32());
                case GgufValueType.Int32: Need(4, field); return GgufValue.Int32(_reader.ReadInt32());
                case GgufValueType.Float32: Need(4, field); return GgufValue.Float32(_reader.ReadSingle());
                case GgufValueType.UInt64: Need(8, field); return GgufValue.UInt64(_reader.ReadUInt64());
                case GgufValueType.Int64: Need(8, field); return GgufValue.Int64(_reader.ReadInt64());
                case GgufValueType.Float64: Need(8, field); return GgufValue.Float64(_reader.ReadDouble());
                case GgufValueType.String: return GgufValue.String(String(field));
                case GgufValueType.Bool:
                    Need(1, field);
                    var b = _reader.ReadByte();
                    return b <= 1 ? GgufValue.Bool(b == 1) : throw Fail(Position - 1, field, $"bool byte {b} is not 0 or 1");
                case GgufValueType.Array:
                    var elementType = Type(field + " element type");
                    var count = Count(field + " count");
                    // Every element takes at least one byte: a count beyond the remaining bytes is corrupt.
                    if (count > (ulong)(stream.Length - stream.Position))
                        throw Fail(Position - 8, field + " count", $"{count} elements cannot fit in the {stream.Length - stream.Position} bytes left: truncated or corrupt");
                    var items = new List<object>((int)count);
                    for (ulong i = 0; i < count; i++)
                    {
                        var item = Value(elementType, $"{field}[{i}]");
                        items.Add(elementType == GgufValueType.Array ? item : item.Value);
                    }
                    return GgufValue.Array(elementType, items);
                default:
                    throw Fail(Position, field, $"unknown value type {type}");
            }
        }
    }
}
