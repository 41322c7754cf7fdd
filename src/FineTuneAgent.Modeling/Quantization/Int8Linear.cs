using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// A frozen linear layer over a row-wise int8 weight (bitsandbytes' Linear8bitLt without the
/// outlier path): y = x Wᵀ + b with W = q · row_stats / 127 dequantized into x's dtype for the
/// call only; gradients reach x, never the weight. Buffers as in HF checkpoints: <c>weight</c>
/// (int8) and <c>SCB</c> (float32 row stats); a frozen parameter <c>bias</c> in the compute dtype.
/// </summary>
public sealed class Int8Linear : nn.Module<Tensor, Tensor>, IFrozenLinear
{
    /// <summary>Quantizes source's weight and copies its bias; source is left untouched (dispose it to free it).</summary>
    public Int8Linear(Linear source, ScalarType? computeDType = null) : this(Source(source).weight, source.bias, computeDType)
    {
    }

    /// <summary>Quantizes a (out_features, in_features) weight; bias is copied. Neither is kept.</summary>
    public Int8Linear(Tensor weight, Tensor? bias = null, ScalarType? computeDType = null)
        : this(Int8RowwiseQuantizer.Quantize(Nf4Linear.Check2D(weight)), bias, computeDType)
    {
    }

    /// <summary>Takes over an already quantized weight (the module disposes its tensors).</summary>
    public Int8Linear(Int8Weight weight, Tensor? bias = null, ScalarType? computeDType = null) : base(nameof(Int8Linear))
    {
        ArgumentNullException.ThrowIfNull(weight);
        QuantizedWeight = weight;
        out_features = weight.Shape[0];
        in_features = weight.Shape[1];
        ComputeDType = computeDType ?? weight.DType;
        register_buffer("weight", weight.Data);
        register_buffer("SCB", weight.RowStats);
        this.bias = Nf4Linear.FrozenBias(bias, out_features, ComputeDType);
        if (this.bias is not null)
            register_parameter("bias", this.bias);
    }

    public long in_features { get; }

    public long out_features { get; }

    /// <summary>The frozen bias in the compute dtype, or null.</summary>
    public Parameter? bias { get; }

    /// <summary>The int8 weight; its tensors are this module's buffers.</summary>
    public Int8Weight QuantizedWeight { get; }

    /// <summary>The dtype the bias is kept in; forward computes in the input's dtype.</summary>
    public ScalarType ComputeDType { get; }

    public override Tensor forward(Tensor input) =>
        ops.bitsandbytes.linear_int8(input, QuantizedWeight.Data, QuantizedWeight.RowStats, bias);

    /// <summary>The weight in full precision (default: the compute dtype), for merging adapters.</summary>
    public Tensor Dequantize(ScalarType? dtype = null) => QuantizedWeight.Dequantize(dtype ?? ComputeDType);

    Tensor? IFrozenLinear.bias => bias;

    Tensor IFrozenLinear.DequantizeWeight(ScalarType dtype) => Dequantize(dtype);

    /// <summary>Quantizes <paramref name="weight"/> ([out, in]) with this layer's settings into its existing buffers.</summary>
    public void RequantizeWeight(Tensor weight)
    {
        if (!weight.shape.SequenceEqual(QuantizedWeight.Shape))
            throw new ArgumentException($"weight must have shape [{string.Join(", ", QuantizedWeight.Shape)}], got [{string.Join(", ", weight.shape)}]", nameof(weight));
        using var source = weight.to_type(QuantizedWeight.DType);
        QuantizedWeight.ReplaceWith(Int8RowwiseQuantizer.Quantize(source));
    }

    private static Linear Source(Linear source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source;
    }
}
