namespace FineTuneAgent.Core.Export.Gguf;

/// <summary>
/// A tensor's entry in a GGUF header. <see cref="Dimensions"/> are in ggml order: [0] is the
/// fastest-varying axis, the reverse of the PyTorch shape. <see cref="Offset"/> is relative to
/// the start of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, IReadOnlyList<long> Dimensions, GgmlType Type, long Offset)
{
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);

    public long ByteSize => GgmlTypes.ByteSize(Type, ElementCount, Dimensions[0]);

    /// <summary>The PyTorch-order shape (dimensions reversed).</summary>
    public long[] TorchShape => Dimensions.Reverse().ToArray();
}
