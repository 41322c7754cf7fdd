namespace FineTuneAgent.Core.Training;

/// <summary>
/// Training options that cannot run, every problem at once; each names its field with the
/// LLaMA-Factory name the user wrote (learning_rate, per_device_train_batch_size, …).
/// </summary>
public sealed class TrainingOptionsException(IReadOnlyList<(string Field, string Message)> errors)
    : ArgumentException(string.Join("; ", errors.Select(e => $"training option '{e.Field}': {e.Message}")))
{
    public IReadOnlyList<(string Field, string Message)> Errors { get; } = errors;

    /// <summary>The fields named, in order.</summary>
    public IReadOnlyList<string> Fields => Errors.Select(e => e.Field).ToList();
}
