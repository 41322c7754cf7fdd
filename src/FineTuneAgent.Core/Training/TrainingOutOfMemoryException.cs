using FineTuneAgent.Torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The device ran out of memory at <see cref="Step"/>. A supervisor restarts from the last checkpoint
/// with <see cref="Retry"/> (half the micro-batch, twice the accumulation, the same effective batch),
/// or fails the run when it is null (the micro-batch is already 1).
/// </summary>
public sealed class TrainingOutOfMemoryException(int step, TrainingOptions options, TorchOutOfMemoryException inner)
    : Exception(Describe(step, options, inner), inner)
{
    public int Step { get; } = step;

    public int MicroBatchSize { get; } = options.PerDeviceTrainBatchSize;

    public TrainingOptions? Retry { get; } = options.PerDeviceTrainBatchSize > 1 ? options.HalveMicroBatch() : null;

    private static string Describe(int step, TrainingOptions options, TorchOutOfMemoryException inner) =>
        $"out of memory at step {step} with per_device_train_batch_size {options.PerDeviceTrainBatchSize}" +
        (options.PerDeviceTrainBatchSize > 1
            ? $"; retry with per_device_train_batch_size {options.HalveMicroBatch().PerDeviceTrainBatchSize} and gradient_accumulation_steps {options.HalveMicroBatch().GradientAccumulationSteps}"
            : "; the micro-batch is already 1 (lower cutoff_len or use a lighter method)") +
        $" ({inner.Message})";
}
