using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Modeling.Adapters;

/// <summary>
/// A linear layer whose weight is stored in a form other than a plain tensor (NF4, int8) and
/// is never trained. An adapter reads the weight through it for DoRA norms, PiSSA and merging.
/// </summary>
public interface IFrozenLinear
{
    long in_features { get; }

    long out_features { get; }

    /// <summary>The bias in the compute dtype, or null. Owned by the layer.</summary>
    Tensor? bias { get; }

    /// <summary>The whole weight, [out, in], dequantized into a new tensor the caller disposes.</summary>
    Tensor DequantizeWeight(ScalarType dtype);

    /// <summary>Replaces the stored weight by a quantization of <paramref name="weight"/> ([out, in]).</summary>
    void RequantizeWeight(Tensor weight);
}
