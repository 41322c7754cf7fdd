using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// Quantizes a 2-D weight to int8 with one absmax per row, as bitsandbytes'
/// <c>int8_vectorwise_quant</c> with threshold 0 (no outlier columns).
/// </summary>
public static class Int8RowwiseQuantizer
{
    public static Int8Weight Quantize(Tensor weight)
    {
        Nf4Quantizer.CheckWeight(weight);
        if (weight.dim() != 2)
            throw new ArgumentException($"weight must be two-dimensional (out_features, in_features), got shape [{string.Join(", ", weight.shape)}]", nameof(weight));
        using var _ = no_grad();
        var (q, rowStats) = ops.bitsandbytes.int8_vectorwise_quant(weight);
        return new Int8Weight(q.DetachFromDisposeScope(), rowStats.DetachFromDisposeScope(), weight.dtype);
    }
}
