namespace FineTuneAgent.Core.Training;

/// <summary>The loss (or the gradient norm) became NaN or infinite; training stopped at <see cref="Step"/>.</summary>
public sealed class TrainingDivergedException(int step, double loss, string what = "loss")
    : Exception($"training diverged at step {step}: {what} is {loss} (lower learning_rate, enable max_grad_norm, or check the data); the last checkpoint is intact")
{
    public int Step { get; } = step;

    public double Loss { get; } = loss;
}
