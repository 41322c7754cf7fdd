using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Torch;

/// <summary>How <see cref="Safetensors.Save(string, IReadOnlyDictionary{string, Tensor}, SafetensorsSaveOptions)"/> and SaveSharded write.</summary>
public sealed record SafetensorsSaveOptions
{
    /// <summary>The header's <c>__metadata__</c> (string to string), or none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>
    /// The dtype floating-point tensors are stored as (others are stored as they are). Tensors are
    /// converted chunk by chunk while they are written, so saving a float32 model as bfloat16 never
    /// holds a converted copy of the model, nor of one tensor, in memory.
    /// </summary>
    public ScalarType? StoreAs { get; init; }

    /// <summary>Called after each tensor's bytes are written, with its name and stored byte size (progress).</summary>
    public Action<string, long>? TensorWritten { get; init; }

    /// <summary>The dtype a tensor of <paramref name="dtype"/> is stored as under these options.</summary>
    public ScalarType StoredDType(ScalarType dtype) => StoreAs is { } s && is_floating_point(dtype) ? s : dtype;
}
