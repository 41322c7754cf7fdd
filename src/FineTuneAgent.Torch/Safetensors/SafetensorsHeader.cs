using System.Buffers.Binary;

namespace FineTuneAgent.Torch;

/// <summary>
/// A parsed and validated safetensors header. Validation follows the reference reader: the
/// length prefix is sane, and the tensors, sorted by offset, tile the data buffer exactly from
/// byte 0 to the end of the file with no hole or overlap, each holding numel × dtype size bytes.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The reference reader's limit; a larger length prefix means a corrupt or foreign file.</summary>
    public const long MaxHeaderSize = 100_000_000;

    private SafetensorsHeader(long headerLength, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsTensorInfo> tensors)
    {
        HeaderLength = headerLength;
        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>N, the JSON's byte length; the data buffer starts at file offset 8 + N.</summary>
    public long HeaderLength { get; }

    public long DataStart => 8 + HeaderLength;

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>Reads the header of a file whose <paramref name="fileLength"/> bytes start at <paramref name="file"/>.</summary>
    public static unsafe SafetensorsHeader Read(byte* file, long fileLength, string path)
    {
        if (fileLength < 8)
            throw new SafetensorsException(path, null, $"file is {fileLength} bytes, too short to hold the 8-byte header length; it is empty or truncated");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(file, 8));
        if (n > MaxHeaderSize)
            throw new SafetensorsException(path, null, $"header length {n} exceeds the {MaxHeaderSize:N0}-byte limit; this is not a safetensors file or it is corrupt");
        var length = (long)n;
        if (8 + length > fileLength)
            throw new SafetensorsException(path, null, $"truncated: header length {length} runs past the end of the file ({fileLength} bytes)");
        var (metadata, tensors) = SafetensorsHeaderParser.Parse(new ReadOnlySpan<byte>(file + 8, (int)length), path);
        var ordered = Validate(tensors, path);
        var dataEnd = ordered.Count == 0 ? 0 : ordered[^1].DataEnd;
        var actual = fileLength - 8 - length;
        if (dataEnd > actual)
            throw new SafetensorsException(path, null, $"truncated: header says {dataEnd} bytes of data, file has {actual}");
        if (dataEnd < actual)
            throw new SafetensorsException(path, null, $"file has {actual - dataEnd} bytes after the last tensor's data (header says {dataEnd} bytes of data); every byte must belong to a tensor");
        return new SafetensorsHeader(length, metadata ?? new Dictionary<string, string>(), ordered);
    }

    private static List<SafetensorsTensorInfo> Validate(List<SafetensorsTensorInfo> tensors, string path)
    {
        // Writers may list tensors in any order; the data must still be one gapless run.
        var ordered = tensors.OrderBy(t => t.DataBegin).ThenBy(t => t.DataEnd).ToList();
        long expected = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in ordered)
        {
            var offsets = $"data_offsets [{t.DataBegin}, {t.DataEnd}]";
            if (t.DataEnd < t.DataBegin)
                throw new SafetensorsException(path, t.Name, $"{offsets} end before they begin");
            if (t.DataBegin < expected)
                throw new SafetensorsException(path, t.Name, $"{offsets} overlap tensor '{previous!.Name}', which ends at {expected}");
            if (t.DataBegin > expected)
            {
                var before = previous is null ? "the data buffer starts at 0" : $"tensor '{previous.Name}' ends at {expected}";
                throw new SafetensorsException(path, t.Name, $"{offsets} leave a hole of {t.DataBegin - expected} bytes: {before}");
            }
            var needed = NeededBytes(t, path);
            if (t.ByteSize != needed)
                throw new SafetensorsException(path, t.Name, $"{offsets} hold {t.ByteSize} bytes, but {t.DType} with shape [{string.Join(", ", t.Shape)}] needs {needed}");
            expected = t.DataEnd;
            previous = t;
        }
        return ordered;
    }

    private static long NeededBytes(SafetensorsTensorInfo t, string path)
    {
        try
        {
            long elements = 1;
            foreach (var d in t.Shape)
                elements = checked(elements * d);
            var bits = checked(elements * t.DType.BitSize());
            if (bits % 8 != 0)
                throw new SafetensorsException(path, t.Name, $"{elements} elements of {t.DType} ({t.DType.BitSize()} bits) are not a whole number of bytes");
            return bits / 8;
        }
        catch (OverflowException)
        {
            throw new SafetensorsException(path, t.Name, $"shape [{string.Join(", ", t.Shape)}] is too large to address");
        }
    }
}
