using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Abstractions.Methods;

/// <summary>
/// The shape of a training run as far as memory is concerned. Defaults follow what LLaMA-Factory
/// and Unsloth users run: bf16 weights and activations, fp32 trainable parameters and AdamW
/// states, micro-batch 1.
/// </summary>
public sealed record TrainingShape
{
    public int MicroBatchSize { get; init; } = 1;

    public int SequenceLength { get; init; } = 512;

    /// <summary>The dtype frozen (and, for Full/Freeze, trained) weights are held in.</summary>
    public ScalarType WeightDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>The dtype activations are computed and saved in.</summary>
    public ScalarType ComputeDtype { get; init; } = ScalarType.BFloat16;

    /// <summary>The dtype of adapter parameters (LoRA A/B, DoRA magnitude): fp32 as PEFT keeps them.</summary>
    public ScalarType AdapterDtype { get; init; } = ScalarType.Float32;

    /// <summary>Recompute each decoder layer in backward, keeping only its input.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>
    /// The run is on the CPU, where the model takes the shim's fused kernels: RMSNorm and SwiGLU keep only their
    /// inputs, in float32 and bfloat16 attention recomputes its probabilities in backward instead of keeping them,
    /// and AdamW updates in one pass with no temporaries (CUDA runs take the eager ops, which keep more).
    /// </summary>
    public bool FusedCpuKernels { get; init; }

    /// <summary>Optimiser state bytes per trainable element per state dtype byte: AdamW keeps 2 states.</summary>
    public int OptimizerStatesPerParameter { get; init; } = 2;

    /// <summary>Checks the shape, naming the offending field.</summary>
    public void Validate()
    {
        if (MicroBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MicroBatchSize), MicroBatchSize, "micro-batch size must be at least 1");
        if (SequenceLength < 1) throw new ArgumentOutOfRangeException(nameof(SequenceLength), SequenceLength, "sequence length must be at least 1");
        if (OptimizerStatesPerParameter < 0) throw new ArgumentOutOfRangeException(nameof(OptimizerStatesPerParameter), OptimizerStatesPerParameter, "must not be negative");
    }
}
