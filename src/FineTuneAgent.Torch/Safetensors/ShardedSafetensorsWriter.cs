using System.Text.RegularExpressions;

namespace FineTuneAgent.Torch;

/// <summary>
/// Splits a state dict over shard files as transformers does: tensors in the caller's order
/// fill a shard until the next one would push it past the limit; a tensor larger than the
/// limit gets a shard of its own. One shard is written as plain <c>{base}.safetensors</c>.
/// </summary>
internal static class ShardedSafetensorsWriter
{
    public static IReadOnlyList<string> Save(string folder, IReadOnlyDictionary<string, torch.Tensor> tensors, long maxShardBytes,
        SafetensorsSaveOptions options, string baseName)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        if (string.IsNullOrEmpty(baseName) || baseName.IndexOfAny(['/', '\\']) >= 0)
            throw new ArgumentException($"'{baseName}' is not a plain file name stem", nameof(baseName));

        var shards = Plan(tensors, maxShardBytes, options);
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        if (shards.Count == 1)
        {
            var single = Path.Combine(folder, $"{baseName}.safetensors");
            Safetensors.Save(single, shards[0], options);
            written.Add(single);
        }
        else
        {
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            long totalSize = 0;
            for (var i = 0; i < shards.Count; i++)
            {
                var name = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                var path = Path.Combine(folder, name);
                Safetensors.Save(path, shards[i], options);
                written.Add(path);
                foreach (var (tensorName, tensor) in shards[i])
                {
                    weightMap.Add(tensorName, name);
                    totalSize += StoredBytes(tensor, options);
                }
            }
            // The index goes last: until it is renamed into place, readers see the previous checkpoint's index.
            var indexPath = Path.Combine(folder, $"{baseName}.safetensors.index.json");
            new SafetensorsIndex(totalSize, weightMap).Write(indexPath);
            written.Add(indexPath);
        }
        RemoveStale(folder, baseName, written);
        return written;
    }

    /// <summary>Groups tensors into shards of at most maxShardBytes (bar single oversized tensors), keeping their order.</summary>
    internal static List<Dictionary<string, torch.Tensor>> Plan(IReadOnlyDictionary<string, torch.Tensor> tensors, long maxShardBytes, SafetensorsSaveOptions? options = null)
    {
        var shards = new List<Dictionary<string, torch.Tensor>> { new(StringComparer.Ordinal) };
        long size = 0;
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            var bytes = StoredBytes(tensor, options);
            if (shards[^1].Count > 0 && size + bytes > maxShardBytes)
            {
                shards.Add(new(StringComparer.Ordinal));
                size = 0;
            }
            shards[^1].Add(name, tensor);
            size += bytes;
        }
        return shards;
    }

    private static long StoredBytes(torch.Tensor tensor, SafetensorsSaveOptions? options) =>
        tensor.numel() * (options is null ? tensor.ElementSize : torch.ElementSize(options.StoredDType(tensor.dtype)));

    /// <summary>
    /// Deletes what an earlier save with the same stem left behind and this one did not
    /// rewrite (shards of another count, a single file or an index), so a reader of the folder
    /// never mixes two checkpoints. Other files are left alone.
    /// </summary>
    private static void RemoveStale(string folder, string baseName, List<string> written)
    {
        var keep = new HashSet<string>(written.Select(Path.GetFileName)!, StringComparer.Ordinal);
        var stem = Regex.Escape(baseName);
        var ours = new Regex($@"^{stem}(-\d{{5}}-of-\d{{5}})?\.safetensors(\.index\.json)?$", RegexOptions.CultureInvariant);
        foreach (var path in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(path);
            if (ours.IsMatch(name) && !keep.Contains(name))
                File.Delete(path);
        }
    }
}
