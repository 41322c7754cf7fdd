using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Quantization;

/// <summary>
/// Quantizes one weight to NF4 as bitsandbytes' <c>quantize_4bit(quant_type="nf4")</c> with
/// <c>compress_statistics</c> (double quantization): offset = absmax.mean(), then the absmax
/// values minus offset are 8-bit blockwise quantized (blocks of 256) under
/// <see cref="DynamicMap"/>. One weight at a time, so a model is quantized layer by layer.
/// </summary>
public static class Nf4Quantizer
{
    public static Nf4Weight Quantize(Tensor weight, int blocksize = NormalFloat4.DefaultBlocksize, bool doubleQuant = true)
    {
        CheckWeight(weight);
        NormalFloat4.CheckBlocksize(blocksize, nameof(blocksize));
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (packed, absmax) = ops.bitsandbytes.quantize_4bit(weight, blocksize);
        if (!doubleQuant)
            return new Nf4Weight(packed.DetachFromDisposeScope(), absmax.DetachFromDisposeScope(), weight.shape, weight.dtype, blocksize);

        var code = tensor(DynamicMap.Create(signed: true), device: weight.device);
        var offset = absmax.mean();
        var (qabsmax, absmax2) = ops.bitsandbytes.quantize_blockwise(absmax - offset, code, NormalFloat4.NestedBlocksize);
        return new Nf4Weight(packed.DetachFromDisposeScope(), qabsmax.DetachFromDisposeScope(), weight.shape, weight.dtype, blocksize,
            absmax2.DetachFromDisposeScope(), code.DetachFromDisposeScope(), offset.DetachFromDisposeScope());
    }

    internal static void CheckWeight(Tensor weight, string paramName = "weight")
    {
        ArgumentNullException.ThrowIfNull(weight, paramName);
        var dtype = weight.dtype;
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"{paramName} must be float32, bfloat16 or float16 to quantize, got {dtype}", paramName);
        if (weight.numel() == 0)
            throw new ArgumentException($"{paramName} must not be empty", paramName);
    }
}
