using System.IO.MemoryMappedFiles;

namespace FineTuneAgent.Torch;

/// <summary>
/// One open safetensors file. Opening maps the file and parses and validates only its header;
/// each tensor's bytes are copied out of the map into a new CPU tensor when it is loaded, so
/// tensors outlive the file and a 16 GB checkpoint costs no memory until its tensors are
/// asked for. Loads may run on several threads at once; Dispose must not race them.
/// </summary>
public sealed unsafe class SafetensorsFile : ISafetensorsReader
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _file;
    private readonly SafetensorsHeader _header;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* file, SafetensorsHeader header)
    {
        Path = path;
        _map = map;
        _view = view;
        _file = file;
        _header = header;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Names = header.Tensors.Select(t => t.Name).ToArray();
    }

    /// <summary>Opens a file and validates its header; a malformed file throws SafetensorsException naming it.</summary>
    public static SafetensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            var length = stream.Length;
            if (length < 8)
                SafetensorsHeader.Read(null, length, path); // throws: too short to hold a header (and an empty file cannot be mapped)
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            pointer += view.PointerOffset;
            var header = SafetensorsHeader.Read(pointer, length, path);
            return new SafetensorsFile(path, map, view, pointer, header);
        }
        catch
        {
            if (acquired)
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (map is null)
                stream.Dispose();
            else
                map.Dispose(); // owns the stream
            throw;
        }
    }

    /// <summary>The path as given to <see cref="Open"/>; every error message starts with it.</summary>
    public string Path { get; }

    public IReadOnlyList<string> Names { get; }

    /// <summary>The header's tensor entries, in data order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _header.Tensors;

    /// <summary>The header's <c>__metadata__</c> (empty when absent), e.g. {"format": "pt"}.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Byte length N of the header JSON, padding included.</summary>
    public long HeaderLength => _header.HeaderLength;

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsTensorInfo GetInfo(string name) =>
        _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    public torch.Tensor Load(string name)
    {
        var info = GetInfo(name);
        if (info.ScalarType is not { } dtype)
            throw new SafetensorsException(Path, name,
                $"dtype {info.DType} cannot be loaded (supported: {string.Join(", ", SafetensorsDTypes.Loadable)})");
        ObjectDisposedException.ThrowIf(_disposed, this);
        return TensorBytes.ToTensor(_file + _header.DataStart + info.DataBegin, info.ByteSize, dtype, info.ShapeSpan);
    }

    public unsafe void LoadInto(string name, torch.Tensor target)
    {
        var info = GetInfo(name);
        if (!info.Shape.SequenceEqual(target.shape))
            throw new SafetensorsException(Path, name, $"has shape [{string.Join(", ", info.Shape)}], the target [{string.Join(", ", target.shape)}]");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (info.ScalarType is { } dtype && dtype == target.dtype && target.device.type == DeviceType.CPU && target.is_contiguous())
        {
            Buffer.MemoryCopy(_file + _header.DataStart + info.DataBegin, (void*)target.data_ptr(), info.ByteSize, info.ByteSize);
            return;
        }
        using var loaded = Load(name);
        using var _ = torch.no_grad();
        target.copy_(loaded);
    }

    public Dictionary<string, torch.Tensor> LoadAll() => LoadMany(this, Names);

    /// <summary>Loads the named tensors of a reader, all or none.</summary>
    internal static Dictionary<string, torch.Tensor> LoadMany(ISafetensorsReader reader, IEnumerable<string> names)
    {
        var result = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var name in names)
                result.Add(name, reader.Load(name));
            return result;
        }
        catch
        {
            foreach (var t in result.Values)
                t.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
