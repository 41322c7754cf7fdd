using System.Buffers.Binary;
using System.Globalization;

namespace FineTuneAgent.Torch;

/// <summary>
/// Reading and writing Hugging Face safetensors checkpoints, single-file and sharded. These
/// types live in the binding's root namespace, not a Safetensors one, because a namespace of
/// that name would hide this class from code inside FineTuneAgent.Torch.*.
/// </summary>
public static class Safetensors
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>
    /// Opens a checkpoint lazily: a .safetensors file, an index .json, or a folder holding
    /// model.safetensors or, failing that, model.safetensors.index.json (transformers' order).
    /// </summary>
    public static ISafetensorsReader Open(string path)
    {
        if (Directory.Exists(path))
        {
            var single = Path.Combine(path, SingleFileName);
            if (File.Exists(single))
                return SafetensorsFile.Open(single);
            var index = Path.Combine(path, IndexFileName);
            if (File.Exists(index))
                return ShardedSafetensors.Open(index);
            throw new FileNotFoundException($"{path}: folder holds neither {SingleFileName} nor {IndexFileName}", single);
        }
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? ShardedSafetensors.Open(path)
            : SafetensorsFile.Open(path);
    }

    /// <summary>Loads every tensor of a checkpoint (see <see cref="Open"/>) into new CPU tensors the caller owns.</summary>
    public static Dictionary<string, torch.Tensor> Load(string path)
    {
        using var reader = Open(path);
        return reader.LoadAll();
    }

    /// <summary>
    /// Writes one safetensors file, laid out as the reference writer lays it out. Tensors may be
    /// on any device and have any strides. The file appears complete or not at all: an existing
    /// file at <paramref name="path"/> is replaced only once the new one is fully on disk.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, torch.Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors, new SafetensorsSaveOptions { Metadata = metadata });

    /// <inheritdoc cref="Save(string, IReadOnlyDictionary{string, torch.Tensor}, IReadOnlyDictionary{string, string}?)"/>
    public static void Save(string path, IReadOnlyDictionary<string, torch.Tensor> tensors, SafetensorsSaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (header, order) = SafetensorsHeaderWriter.Prepare(tensors, options.Metadata, options.StoreAs);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var entry in order)
            {
                var before = stream.Position;
                TensorBytes.WriteTo(stream, entry.Tensor, entry.StoredType);
                if (stream.Position - before != entry.ByteSize)
                    throw new InvalidOperationException($"{path}: tensor '{entry.Name}' changed while it was being saved");
                options.TensorWritten?.Invoke(entry.Name, entry.ByteSize);
            }
        });
    }

    /// <summary>
    /// Writes a checkpoint into <paramref name="folder"/> as shards of at most
    /// <paramref name="maxShardBytes"/> (a tensor larger than that gets a shard of its own),
    /// named {base}-00001-of-0000N.safetensors, plus {base}.safetensors.index.json; a checkpoint
    /// that fits in one shard is written as {base}.safetensors with no index. Files an earlier
    /// save with the same base name left and this one did not rewrite are deleted. Returns the
    /// paths written. Tensors are grouped in the dictionary's order, so layers stay together.
    /// </summary>
    public static IReadOnlyList<string> SaveSharded(string folder, IReadOnlyDictionary<string, torch.Tensor> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model") =>
        ShardedSafetensorsWriter.Save(folder, tensors, maxShardBytes, new SafetensorsSaveOptions { Metadata = metadata }, baseName);

    /// <inheritdoc cref="SaveSharded(string, IReadOnlyDictionary{string, torch.Tensor}, long, IReadOnlyDictionary{string, string}?, string)"/>
    /// <remarks>Shards are planned on the stored sizes (after <see cref="SafetensorsSaveOptions.StoreAs"/>).</remarks>
    public static IReadOnlyList<string> SaveSharded(string folder, IReadOnlyDictionary<string, torch.Tensor> tensors, long maxShardBytes,
        SafetensorsSaveOptions options, string baseName = "model") =>
        ShardedSafetensorsWriter.Save(folder, tensors, maxShardBytes, options, baseName);

    /// <inheritdoc cref="SaveSharded(string, IReadOnlyDictionary{string, torch.Tensor}, long, IReadOnlyDictionary{string, string}?, string)"/>
    public static IReadOnlyList<string> SaveSharded(string folder, IReadOnlyDictionary<string, torch.Tensor> tensors, string maxShardSize = "5GB",
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model") =>
        ShardedSafetensorsWriter.Save(folder, tensors, ParseSize(maxShardSize), new SafetensorsSaveOptions { Metadata = metadata }, baseName);

    /// <summary>
    /// A size as transformers' max_shard_size reads it: a byte count ("1000000") or a number
    /// with a unit, decimal KB/MB/GB or binary KiB/MiB/GiB, any case; as there, a lower-case
    /// final "b" on a decimal unit means bits ("5Gb" is 625,000,000 bytes).
    /// </summary>
    public static long ParseSize(string size)
    {
        ArgumentNullException.ThrowIfNull(size);
        var text = size.Trim();
        (string Unit, long Factor)[] units =
        [
            ("GIB", 1L << 30), ("MIB", 1L << 20), ("KIB", 1L << 10),
            ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000),
        ];
        foreach (var (unit, factor) in units)
        {
            if (!text.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
                continue;
            var number = text[..^unit.Length].Trim();
            if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value <= 0)
                break;
            var bytes = (long)(value * factor);
            return text.EndsWith('b') && unit[1] != 'I' ? bytes / 8 : bytes;
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var plain) && plain > 0)
            return plain;
        throw new FormatException($"'{size}' is not a size: use a byte count or a number with KB, MB, GB, KiB, MiB or GiB");
    }
}
