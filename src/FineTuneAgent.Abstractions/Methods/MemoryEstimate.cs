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

    /// <summary>
    /// Transient buffers of the optimizer step: AdamW's update of a tensor allocates sqrt(v) and
    /// sqrt(v)/c before adding eps (two temporaries the size of the largest trainable tensor), while
    /// the step still holds the logits in the compute dtype. Activations and the loss's buffers are
    /// freed by then, so this and <see cref="ActivationBytesUsed"/> + <see cref="WorkspaceBytes"/>
    /// are never alive together.
    /// </summary>
    public long OptimizerStepBytes { get; init; }

    public required bool GradientCheckpointing { get; init; }

    public long ActivationBytesUsed => GradientCheckpointing ? CheckpointedActivationBytes : ActivationBytes;

    /// <summary>
    /// The training step's peak: what persists across steps (weights, constants, optimizer state) and the larger of
    /// two transient peaks. Backward's: the activations and the loss head's buffers (the head runs first, before any
    /// layer's gradient exists; each step starts with zero_grad(set_to_none), and a layer's gradients appear as its
    /// activations go, so they are not counted whole here; a trained output matrix's gradient is, in the head's
    /// buffers). The optimizer step's: every gradient plus its transients. Checked against VmHWM by
    /// MemoryEstimateAccuracyTests (within 15 % on every method).
    /// </summary>
    public long TotalBytes => WeightBytes + OptimizerBytes + QuantizationConstantBytes
        + Math.Max(ActivationBytesUsed + WorkspaceBytes, GradientBytes + OptimizerStepBytes);


    /// <summary>
    /// The components as labelled lines, for tables and charts; the total counts the transient ones
    /// as <see cref="TotalBytes"/> says (the larger of backward's and the optimizer step's).
    /// </summary>
    public IReadOnlyList<(string Component, long Bytes)> Components =>
    [
        ("weights", WeightBytes),
        ("gradients", GradientBytes),
        ("optimizer state", OptimizerBytes),
        ("quantization constants", QuantizationConstantBytes),
        (GradientCheckpointing ? "activations (checkpointed)" : "activations", ActivationBytesUsed),
        ("workspace", WorkspaceBytes),
        ("optimizer step transients", OptimizerStepBytes),
    ];
}
