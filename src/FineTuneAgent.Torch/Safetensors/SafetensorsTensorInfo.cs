using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch;

/// <summary>One tensor's header entry: dtype, shape and where its bytes sit in the data buffer.</summary>
public sealed class SafetensorsTensorInfo
{
    private readonly long[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDType dtype, long[] shape, long dataBegin, long dataEnd)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    public string Name { get; }

    public SafetensorsDType DType { get; }

    public IReadOnlyList<long> Shape => _shape;

    internal ReadOnlySpan<long> ShapeSpan => _shape;

    /// <summary>Start of the tensor's bytes, relative to the data buffer (file offset 8 + header length + this).</summary>
    public long DataBegin { get; }

    /// <summary>One past the tensor's last byte, relative to the data buffer.</summary>
    public long DataEnd { get; }

    public long ByteSize => DataEnd - DataBegin;

    /// <summary>The libtorch type this tensor loads as, or null when the dtype is not supported here.</summary>
    public ScalarType? ScalarType => DType.ToScalarType();

    public override string ToString() =>
        $"{Name}: {DType} [{string.Join(", ", _shape)}] bytes [{DataBegin}, {DataEnd})";
}
