namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// A method's memory for one model and training shape, by component, in bytes. Activations are
/// given both without and with gradient checkpointing; <see cref="TotalBytes"/> uses the one the
/// shape asks for.
/// </summary>
public sealed record MemoryEstimate
{
    public required string Method { get; init; }

    public required long TotalParameters { get; init; }

    public required long TrainableParameters { get; init; }

    /// <summary>Every weight as stored: frozen base (quantized or not) and trainable parameters.</summary>
    public required long WeightBytes { get; init; }

    public required long GradientBytes { get; init; }

    public required long OptimizerBytes { get; init; }

    /// <summary>Quantization constants (absmax, nested absmax, code tables); zero for unquantized methods.</summary>
    public long QuantizationConstantBytes { get; init; }

    public required long ActivationBytes { get; init; }

    public required long CheckpointedActivationBytes { get; init; }

    /// <summary>Transient buffers: logits and the loss's fp32 copies, a dequantized weight for QLoRA.</summary>
    public required long WorkspaceBytes { get; init; }

    public required bool GradientCheckpointing { get; init; }

    public long ActivationBytesUsed => GradientCheckpointing ? CheckpointedActivationBytes : ActivationBytes;

    public long TotalBytes => WeightBytes + GradientBytes + OptimizerBytes + QuantizationConstantBytes + ActivationBytesUsed + WorkspaceBytes;

    /// <summary>The components as labelled lines, for tables and charts.</summary>
    public IReadOnlyList<(string Component, long Bytes)> Components =>
    [
        ("weights", WeightBytes),
        ("gradients", GradientBytes),
        ("optimizer state", OptimizerBytes),
        ("quantization constants", QuantizationConstantBytes),
        (GradientCheckpointing ? "activations (checkpointed)" : "activations", ActivationBytesUsed),
        ("workspace", WorkspaceBytes),
    ];
}
