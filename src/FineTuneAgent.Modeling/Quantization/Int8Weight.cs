using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// A 2-D weight stored as row-wise absmax int8 (bitsandbytes' Int8Params: CB and SCB): W ≈ q ·
/// row_stats / 127. Owns its tensors (a module it is given to owns them instead).
/// </summary>
public sealed class Int8Weight : IDisposable
{
    /// <summary>An int8 weight from stored tensors, checked against each other; takes ownership of them.</summary>
    public static Int8Weight FromStorage(Tensor data, Tensor rowStats, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(rowStats);
        if (data.dtype != ScalarType.Int8 || data.dim() != 2)
            throw new ArgumentException($"data must be a 2-D int8 tensor, got {data.dtype} [{string.Join(", ", data.shape)}]", nameof(data));
        if (rowStats.dtype != ScalarType.Float32 || rowStats.numel() != data.shape[0])
            throw new ArgumentException($"rowStats must be float32 with {data.shape[0]} elements, got {rowStats.dtype} with {rowStats.numel()}", nameof(rowStats));
        return new Int8Weight(data, rowStats, dtype);
    }

    internal Int8Weight(Tensor data, Tensor rowStats, ScalarType dtype)
    {
        Data = data;
        RowStats = rowStats;
        DType = dtype;
    }

    /// <summary>int8 (out_features, in_features): round(W · 127 / row_stats).</summary>
    public Tensor Data { get; }

    /// <summary>float32 (out_features): max |row| of the original weight.</summary>
    public Tensor RowStats { get; }

    /// <summary>The dtype of the original weight, the default of <see cref="Dequantize"/>.</summary>
    public ScalarType DType { get; }

    public IReadOnlyList<long> Shape => Data.shape;

    /// <summary>Bytes held by the tensors (elements × element size, summed).</summary>
    public long StorageBytes => Data.numel() * Data.ElementSize + RowStats.numel() * RowStats.ElementSize;

    /// <summary>The weight in dtype (default: the original dtype); a new tensor the caller owns.</summary>
    public Tensor Dequantize(ScalarType? dtype = null) => ops.bitsandbytes.int8_vectorwise_dequant(Data, RowStats, dtype ?? DType);

    /// <summary>Takes over <paramref name="other"/>'s data in place (tensor identities kept) and disposes it.</summary>
    internal void ReplaceWith(Int8Weight other)
    {
        try
        {
            if (!other.Shape.SequenceEqual(Shape))
                throw new ArgumentException("the replacement must have the same shape", nameof(other));
            using var _ = no_grad();
            Data.set_(other.Data);
            RowStats.set_(other.RowStats);
        }
        finally
        {
            other.Dispose();
        }
    }

    public void Dispose()
    {
        Data.Dispose();
        RowStats.Dispose();
    }
}
