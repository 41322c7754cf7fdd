namespace FineTuneAgent.Torch;

/// <summary>
/// A checkpoint split over several safetensors files, read through its index. Opening reads
/// the index and checks that every shard it names exists; a shard's header is read the first
/// time one of its tensors is asked for, and the shard then stays open until Dispose.
/// </summary>
public sealed class ShardedSafetensors : ISafetensorsReader
{
    private readonly string _folder;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private bool _disposed;

    private ShardedSafetensors(string indexPath, SafetensorsIndex index)
    {
        IndexPath = indexPath;
        Index = index;
        _folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        ShardFiles = index.WeightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        // Shard by shard, so loading everything walks each file once, front to back.
        var shardOrder = ShardFiles.Select((f, i) => (f, i)).ToDictionary(p => p.f, p => p.i, StringComparer.Ordinal);
        Names = index.WeightMap
            .OrderBy(kv => shardOrder[kv.Value])
            .ThenBy(kv => kv.Key, CodePointComparer.Instance)
            .Select(kv => kv.Key)
            .ToArray();
    }

    /// <summary>Reads the index; a shard it names that is missing throws FileNotFoundException naming both files.</summary>
    public static ShardedSafetensors Open(string indexPath)
    {
        var index = SafetensorsIndex.Read(indexPath);
        var result = new ShardedSafetensors(indexPath, index);
        foreach (var shard in result.ShardFiles)
        {
            // A weight_map is data from a download: it must not point outside its folder.
            if (shard.Length == 0 || shard.IndexOfAny(['/', '\\']) >= 0 || shard is "." or "..")
                throw new SafetensorsException(indexPath, null, $"shard name '{shard}' is not a plain file name in the index's folder");
            var path = result.ShardPath(shard);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{indexPath}: shard '{shard}' listed in the index does not exist (looked for {path})", path);
        }
        return result;
    }

    public string IndexPath { get; }

    public SafetensorsIndex Index { get; }

    /// <summary>The distinct shard file names the index lists, sorted.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    public IReadOnlyList<string> Names { get; }

    public bool Contains(string name) => Index.WeightMap.ContainsKey(name);

    public SafetensorsTensorInfo GetInfo(string name) => ShardOf(name).GetInfo(name);

    public torch.Tensor Load(string name) => ShardOf(name).Load(name);

    public void LoadInto(string name, torch.Tensor target) => ShardOf(name).LoadInto(name, target);

    public Dictionary<string, torch.Tensor> LoadAll() => SafetensorsFile.LoadMany(this, Names);

    /// <summary>The open shard holding a tensor, checked to really hold it.</summary>
    private SafetensorsFile ShardOf(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Index.WeightMap.TryGetValue(name, out var shard))
            throw new KeyNotFoundException($"{IndexPath}: no tensor named '{name}' in the index");
        SafetensorsFile? file;
        lock (_open)
        {
            if (!_open.TryGetValue(shard, out file))
            {
                file = SafetensorsFile.Open(ShardPath(shard));
                _open.Add(shard, file);
            }
        }
        if (!file.Contains(name))
            throw new SafetensorsException(IndexPath, name, $"the index puts it in shard '{shard}', but {file.Path} has no such tensor");
        return file;
    }

    private string ShardPath(string shard) => System.IO.Path.Combine(_folder, shard);

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        lock (_open)
        {
            foreach (var file in _open.Values)
                file.Dispose();
            _open.Clear();
        }
    }
}
