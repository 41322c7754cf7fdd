using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneAgent.Abstractions.Methods;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// How a run trains, with LLaMA-Factory's (Hugging Face TrainingArguments') names in JSON. Defaults
/// are HF's except where noted: cosine with warmup_ratio 0.1 (LLaMA-Factory's examples), logging every
/// step, cutoff_len 1024 (the dataset pipeline's). <see cref="LearningRate"/> null means the method's
/// usual rate (<see cref="DefaultLearningRate"/>); <see cref="MaxSteps"/> set overrides the epochs.
/// </summary>
public sealed record TrainingOptions
{
    public static readonly IReadOnlyList<string> Schedulers = ["linear", "cosine", "constant", "constant_with_warmup"];

    /// <summary>learning_rate; null: 1e-4 for the LoRA family, 1e-5 for freeze and full.</summary>
    public double? LearningRate { get; init; }

    /// <summary>num_train_epochs (may be fractional, as in HF).</summary>
    public double NumTrainEpochs { get; init; } = 3.0;

    /// <summary>max_steps: optimizer steps; overrides num_train_epochs when set.</summary>
    public int? MaxSteps { get; init; }

    /// <summary>per_device_train_batch_size: sequences per forward/backward (the micro-batch).</summary>
    public int PerDeviceTrainBatchSize { get; init; } = 1;

    /// <summary>gradient_accumulation_steps: micro-batches per optimizer step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>lr_scheduler_type: linear, cosine, constant, constant_with_warmup (HF's schedules).</summary>
    public string LrSchedulerType { get; init; } = "cosine";

    /// <summary>warmup_ratio: fraction of the steps that warm up (ceil, as HF).</summary>
    public double WarmupRatio { get; init; } = 0.1;

    /// <summary>warmup_steps: when above 0, overrides warmup_ratio (as HF).</summary>
    public int WarmupSteps { get; init; }

    public double WeightDecay { get; init; }

    /// <summary>max_grad_norm: clip the joint gradient norm to this; 0 turns clipping off (the norm is still reported).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>seed: the data order of every epoch and libtorch's generator (adapter init, dropout).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>logging_steps: a step event every this many steps, its loss the mean since the last one.</summary>
    public int LoggingSteps { get; init; } = 1;

    /// <summary>eval_steps: validation loss every this many steps (and always at the end); null: only at the end.</summary>
    public int? EvalSteps { get; init; }

    /// <summary>save_steps: a checkpoint every this many steps (and always at the end).</summary>
    public int SaveSteps { get; init; } = 500;

    /// <summary>early_stopping_patience: stop after this many evaluations without a better validation loss.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>bf16: bfloat16 autocast around forward passes.</summary>
    public bool Bf16 { get; init; }

    /// <summary>
    /// gradient_checkpointing: keep only each decoder layer's input in the forward and recompute the
    /// layer in backward (about a third more compute for activations of one layer instead of all).
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>cutoff_len: longest sequence in tokens (the dataset pipeline's cutoff).</summary>
    public int CutoffLen { get; init; } = 1024;

    /// <summary>val_size: validation share (a fraction in (0, 1) or a count); 0 for none.</summary>
    public double ValSize { get; init; }

    /// <summary>packing: concatenate short examples into rows of cutoff_len.</summary>
    public bool Packing { get; init; }

    /// <summary>
    /// device: where the run trains: auto (CUDA device 0 when libtorch sees one, else the CPU), cpu, cuda (device 0;
    /// a data-parallel worker's own device) or cuda:N. Only the form is checked here; whether this machine has the
    /// device is checked when the run starts (<see cref="TrainingDevice.Resolve(string)"/>).
    /// </summary>
    public string Device { get; init; } = TrainingDevice.Auto;

    /// <summary>Sequences per optimizer step.</summary>
    public int EffectiveBatchSize => PerDeviceTrainBatchSize * GradientAccumulationSteps;

    /// <summary>The method's usual learning rate: LoRA-family adapters train at 1e-4, whole tensors at 1e-5.</summary>
    public static double DefaultLearningRate(string method) => method is "full" or "freeze" ? 1e-5 : 1e-4;

    /// <summary>These options with <see cref="LearningRate"/> filled in for the method.</summary>
    public TrainingOptions ResolvedFor(string method) => this with { LearningRate = LearningRate ?? DefaultLearningRate(method) };

    /// <summary>
    /// Half the micro-batch and twice the accumulation, so the effective batch (and thus the data
    /// order, the loss normalisation and the schedule) stays the same: what a supervisor retries
    /// with after an out-of-memory. An odd micro-batch above 1 becomes 1 with the accumulation
    /// multiplied by it. A micro-batch of 1 cannot shrink: InvalidOperationException.
    /// </summary>
    public TrainingOptions HalveMicroBatch()
    {
        var b = PerDeviceTrainBatchSize;
        if (b <= 1)
            throw new InvalidOperationException("per_device_train_batch_size is already 1; the micro-batch cannot shrink further");
        return b % 2 == 0
            ? this with { PerDeviceTrainBatchSize = b / 2, GradientAccumulationSteps = GradientAccumulationSteps * 2 }
            : this with { PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = GradientAccumulationSteps * b };
    }

    /// <summary>Every problem at once, each naming its field; throws <see cref="TrainingOptionsException"/>.</summary>
    public void Validate()
    {
        var errors = new List<(string, string)>();
        void Check(bool ok, string field, string message)
        {
            if (!ok)
                errors.Add((field, message));
        }
        Check(LearningRate is null || (double.IsFinite(LearningRate.Value) && LearningRate > 0), "learning_rate", $"must be a positive number, got {Show(LearningRate)}");
        Check(MaxSteps is not null || (double.IsFinite(NumTrainEpochs) && NumTrainEpochs > 0), "num_train_epochs", $"must be above 0 (or set max_steps), got {Show(NumTrainEpochs)}");
        Check(MaxSteps is null or > 0, "max_steps", $"must be at least 1, got {MaxSteps}");
        Check(PerDeviceTrainBatchSize >= 1, "per_device_train_batch_size", $"must be at least 1, got {PerDeviceTrainBatchSize}");
        Check(GradientAccumulationSteps >= 1, "gradient_accumulation_steps", $"must be at least 1, got {GradientAccumulationSteps}");
        Check(Schedulers.Contains(LrSchedulerType), "lr_scheduler_type", $"\"{LrSchedulerType}\" is not one of {string.Join(", ", Schedulers)}");
        Check(double.IsFinite(WarmupRatio) && WarmupRatio is >= 0 and <= 1, "warmup_ratio", $"must be in [0, 1], got {Show(WarmupRatio)}");
        Check(WarmupSteps >= 0, "warmup_steps", $"must be 0 or more, got {WarmupSteps}");
        Check(LrSchedulerType != "constant" || (WarmupSteps == 0 && WarmupRatio == 0), WarmupSteps > 0 ? "warmup_steps" : "warmup_ratio",
            "lr_scheduler_type \"constant\" has no warmup (as in HF); use \"constant_with_warmup\" or set warmup to 0");
        Check(double.IsFinite(WeightDecay) && WeightDecay >= 0, "weight_decay", $"must be 0 or more, got {Show(WeightDecay)}");
        Check(double.IsFinite(MaxGradNorm) && MaxGradNorm >= 0, "max_grad_norm", $"must be 0 (off) or more, got {Show(MaxGradNorm)}");
        Check(LoggingSteps >= 1, "logging_steps", $"must be at least 1, got {LoggingSteps}");
        Check(EvalSteps is null or >= 1, "eval_steps", $"must be at least 1, got {EvalSteps}");
        Check(SaveSteps >= 1, "save_steps", $"must be at least 1, got {SaveSteps}");
        Check(EarlyStoppingPatience is null or >= 1, "early_stopping_patience", $"must be at least 1, got {EarlyStoppingPatience}");
        Check(EarlyStoppingPatience is null || EvalSteps is not null, "early_stopping_patience", "needs eval_steps (it counts evaluations without improvement)");
        Check(EarlyStoppingPatience is null || ValSize > 0, "early_stopping_patience", "needs a validation set (val_size above 0)");
        Check(CutoffLen >= 2, "cutoff_len", $"must be at least 2, got {CutoffLen}");
        Check(TrainingDevice.IsWellFormed(Device), "device", $"\"{Device}\" is not one of auto, cpu, cuda, cuda:N");
        Check(double.IsFinite(ValSize) && ValSize >= 0 && (ValSize < 1 || ValSize == Math.Floor(ValSize)), "val_size", $"must be 0, a fraction in (0, 1) or a whole count, got {Show(ValSize)}");
        if (errors.Count > 0)
            throw new TrainingOptionsException(errors);
    }

    private static string Show(double? d) => d?.ToString("R", CultureInfo.InvariantCulture) ?? "null";
}
