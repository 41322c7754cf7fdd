using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// A prepared dataset on disk, one file per cache key: <c>&lt;dir&gt;/dataset-&lt;key hex&gt;.ftads</c>.
/// </summary>
/// <remarks>
/// Format, version 1, little-endian:
/// <code>
/// 0   8 bytes  magic "FTADSET\0"
/// 8   int32    version (1)
/// 12  32 bytes the cache key (SHA-256, see DatasetCacheKey)
/// 44  int64    payload length P
/// 52  P bytes  payload:
///                int32 n, n bytes UTF-8 JSON of the DatasetSummary
///                train rows, then validation rows, each: int32 count, then per row
///                  int32 length L, int32 example count E, L × int32 ids, L × int32 labels, E × int32 starts
/// 52+P 32 bytes SHA-256 of the payload
/// </code>
/// A file that is short, has another magic, version or key, a wrong length or checksum is damaged: the
/// pipeline rebuilds the dataset and overwrites it. Files are written to a temporary name and renamed,
/// so a crash mid-write leaves no half file under the real name.
/// </remarks>
public static class DatasetCache
{
    public const int Version = 1;
    private static readonly byte[] s_magic = "FTADSET\0"u8.ToArray();
    private const int HeaderLength = 8 + 4 + 32 + 8;

    public static string FileFor(string directory, byte[] key) =>
        Path.Combine(directory, $"dataset-{Convert.ToHexString(key).ToLowerInvariant()}.ftads");

    /// <summary>Writes <paramref name="dataset"/> under <paramref name="key"/>; returns the file.</summary>
    public static string Save(string directory, byte[] key, PreparedDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Directory.CreateDirectory(directory);
        using var payload = new MemoryStream();
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            var summary = JsonSerializer.SerializeToUtf8Bytes(dataset.Summary);
            w.Write(summary.Length);
            w.Write(summary);
            WriteRows(w, dataset.Train);
            WriteRows(w, dataset.Validation);
        }
        var file = FileFor(directory, key);
        var temp = file + $".{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        using (var stream = File.Create(temp))
        using (var w = new BinaryWriter(stream))
        {
            w.Write(s_magic);
            w.Write(Version);
            w.Write(key);
            w.Write(payload.Length);
            payload.Position = 0;
            payload.CopyTo(stream);
            w.Write(SHA256.HashData(payload.GetBuffer().AsSpan(0, (int)payload.Length)));
        }
        File.Move(temp, file, overwrite: true);
        return file;
    }

    /// <summary>
    /// The dataset cached under <paramref name="key"/>, or null with <paramref name="problem"/> null when
    /// there is none, or null with <paramref name="problem"/> saying why the file there is not trusted.
    /// </summary>
    public static PreparedDataset? TryLoad(string directory, byte[] key, out string? problem)
    {
        problem = null;
        var file = FileFor(directory, key);
        if (!File.Exists(file))
            return null;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (IOException e)
        {
            problem = $"cannot read {file}: {e.Message}";
            return null;
        }
        problem = Check(bytes, key);
        if (problem is not null)
            return null;
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, HeaderLength, bytes.Length - HeaderLength - 32));
            var summary = JsonSerializer.Deserialize<DatasetSummary>(r.ReadBytes(r.ReadInt32()))
                ?? throw new InvalidDataException("no summary");
            var train = ReadRows(r);
            var validation = ReadRows(r);
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new InvalidDataException("trailing bytes in the payload");
            return new PreparedDataset(train, validation, summary) { CacheFile = file };
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or JsonException or ArgumentException)
        {
            problem = $"{file}: unreadable payload ({e.Message})";
            return null;
        }
    }

    private static string? Check(byte[] bytes, byte[] key)
    {
        if (bytes.Length < HeaderLength + 32)
            return $"truncated ({bytes.Length} bytes, shorter than the header)";
        var span = bytes.AsSpan();
        if (!span[..8].SequenceEqual(s_magic))
            return "not a dataset cache file (bad magic)";
        var version = BinaryPrimitives.ReadInt32LittleEndian(span[8..12]);
        if (version != Version)
            return $"cache format version {version}, expected {Version}";
        if (!span[12..44].SequenceEqual(key))
            return "the file's key does not match its name";
        var length = BinaryPrimitives.ReadInt64LittleEndian(span[44..52]);
        if (length != bytes.Length - HeaderLength - 32)
            return $"truncated or padded (payload {length} bytes declared, {bytes.Length - HeaderLength - 32} present)";
        var payload = span.Slice(HeaderLength, (int)length);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(span[(HeaderLength + (int)length)..]))
            return "checksum mismatch (the file is damaged)";
        return null;
    }

    private static void WriteRows(BinaryWriter w, IReadOnlyList<TrainingSequence> rows)
    {
        w.Write(rows.Count);
        foreach (var row in rows)
        {
            w.Write(row.Length);
            w.Write(row.ExampleStarts.Length);
            foreach (var id in row.InputIds)
                w.Write(id);
            foreach (var label in row.Labels)
                w.Write(label);
            foreach (var start in row.ExampleStarts)
                w.Write(start);
        }
    }

    private static TrainingSequence[] ReadRows(BinaryReader r)
    {
        var count = r.ReadInt32();
        if (count < 0)
            throw new InvalidDataException($"negative row count {count}");
        var rows = new TrainingSequence[count];
        for (var i = 0; i < count; i++)
        {
            var length = r.ReadInt32();
            var examples = r.ReadInt32();
            if (length < 0 || examples < 0 || (long)(2 * length + examples) * 4 > r.BaseStream.Length - r.BaseStream.Position)
                throw new InvalidDataException($"row {i}: bad length {length} / {examples}");
            rows[i] = new TrainingSequence(Ints(r, length), Ints(r, length), Ints(r, examples));
        }
        return rows;
    }

    private static int[] Ints(BinaryReader r, int count)
    {
        var values = new int[count];
        for (var i = 0; i < count; i++)
            values[i] = r.ReadInt32();
        return values;
    }
}
