using FineTuneAgent.Modeling.Adapters;
using FineTuneAgent.Torch;
using FineTuneAgent.Torch.Modules;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// A frozen linear layer over an NF4 weight (bitsandbytes' Linear4bit): y = x Wᵀ + b with W
/// dequantized into x's dtype for the call only. Gradients reach x (for LoRA adapters on top),
/// never the weight; the autograd node keeps only the quantized tensors.
/// Buffers (HF's <c>weight.absmax</c>… with '.' → '_', as module names cannot hold dots):
/// <c>weight</c> (packed uint8), <c>weight_absmax</c>, and with double quantization
/// <c>weight_nested_absmax</c>, <c>weight_nested_quant_map</c>, <c>weight_nested_offset</c>.
/// The bias, if any, is a frozen parameter <c>bias</c> in the compute dtype. <c>to(dtype)</c>
/// casts the float32 constants with the bias (the ops read them back as float32); quantize after
/// casting the model to keep them exact.
/// </summary>
public sealed class Nf4Linear : nn.Module<Tensor, Tensor>, IFrozenLinear
{
    /// <summary>Quantizes source's weight and copies its bias; source is left untouched (dispose it to free it).</summary>
    public Nf4Linear(Linear source, int blocksize = NormalFloat4.DefaultBlocksize, bool doubleQuant = true, ScalarType? computeDType = null)
        : this(ArgumentNullOr(source).weight, source.bias, blocksize, doubleQuant, computeDType)
    {
    }

    /// <summary>Quantizes a (out_features, in_features) weight; bias is copied. Neither is kept.</summary>
    public Nf4Linear(Tensor weight, Tensor? bias = null, int blocksize = NormalFloat4.DefaultBlocksize, bool doubleQuant = true, ScalarType? computeDType = null)
        : this(Nf4Quantizer.Quantize(Check2D(weight), blocksize, doubleQuant), bias, computeDType)
    {
    }

    /// <summary>Takes over an already quantized 2-D weight (the module disposes its tensors).</summary>
    public Nf4Linear(Nf4Weight weight, Tensor? bias = null, ScalarType? computeDType = null) : base(nameof(Nf4Linear))
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Shape.Count != 2)
            throw new ArgumentException($"weight must be two-dimensional (out_features, in_features), got shape [{string.Join(", ", weight.Shape)}]", nameof(weight));
        QuantizedWeight = weight;
        out_features = weight.Shape[0];
        in_features = weight.Shape[1];
        ComputeDType = computeDType ?? weight.DType;
        register_buffer("weight", weight.Packed);
        register_buffer("weight_absmax", weight.Absmax);
        if (weight.DoubleQuantized)
        {
            register_buffer("weight_nested_absmax", weight.NestedAbsmax);
            register_buffer("weight_nested_quant_map", weight.NestedCode);
            register_buffer("weight_nested_offset", weight.NestedOffset);
        }
        this.bias = FrozenBias(bias, out_features, ComputeDType);
        if (this.bias is not null)
            register_parameter("bias", this.bias);
    }

    public long in_features { get; }

    public long out_features { get; }

    /// <summary>The frozen bias in the compute dtype, or null.</summary>
    public Parameter? bias { get; }

    /// <summary>The NF4 weight; its tensors are this module's buffers.</summary>
    public Nf4Weight QuantizedWeight { get; }

    /// <summary>The dtype the bias is kept in; forward computes in the input's dtype.</summary>
    public ScalarType ComputeDType { get; }

    public override Tensor forward(Tensor input)
    {
        var w = QuantizedWeight;
        return ops.bitsandbytes.linear_4bit(input, w.Packed, w.Absmax, w.Blocksize, out_features, in_features, bias, w.Nested);
    }

    /// <summary>The weight in full precision (default: the compute dtype), for merging adapters or PiSSA/DoRA initialisation.</summary>
    public Tensor Dequantize(ScalarType? dtype = null) => QuantizedWeight.Dequantize(dtype ?? ComputeDType);

    Tensor? IFrozenLinear.bias => bias;

    Tensor IFrozenLinear.DequantizeWeight(ScalarType dtype) => Dequantize(dtype);

    /// <summary>Quantizes <paramref name="weight"/> ([out, in]) with this layer's settings into its existing buffers.</summary>
    public void RequantizeWeight(Tensor weight)
    {
        if (!weight.shape.SequenceEqual(QuantizedWeight.Shape))
            throw new ArgumentException($"weight must have shape [{string.Join(", ", QuantizedWeight.Shape)}], got [{string.Join(", ", weight.shape)}]", nameof(weight));
        using var source = weight.to_type(QuantizedWeight.DType);
        QuantizedWeight.ReplaceWith(Nf4Quantizer.Quantize(source, QuantizedWeight.Blocksize, QuantizedWeight.DoubleQuantized));
    }

    internal static Parameter? FrozenBias(Tensor? bias, long outFeatures, ScalarType dtype)
    {
        if (bias is null)
            return null;
        if (bias.dim() != 1 || bias.size(0) != outFeatures)
            throw new ArgumentException($"bias must have shape [{outFeatures}], got [{string.Join(", ", bias.shape)}]", nameof(bias));
        using var _ = no_grad();
        using var converted = bias.to_type(dtype);
        return new Parameter(converted.clone(), requires_grad: false);
    }

    internal static Tensor Check2D(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2)
            throw new ArgumentException($"weight must be two-dimensional (out_features, in_features), got shape [{string.Join(", ", weight.shape)}]", nameof(weight));
        return weight;
    }

    private static Linear ArgumentNullOr(Linear source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source;
    }
}
