namespace FineTuneAgent.Core.Recommendation;

/// <summary>
/// The recommender's answer: the chosen plan (null when nothing fits), the other methods that also
/// fit, each method's smallest configuration when it does not, and the reasons in words with the numbers.
/// </summary>
public sealed record Recommendation
{
    public required string Model { get; init; }

    public required MemoryBudget Budget { get; init; }

    public required TrainingPlan? Chosen { get; init; }

    /// <summary>Other methods that fit, best quality first.</summary>
    public required IReadOnlyList<TrainingPlan> Alternatives { get; init; }

    /// <summary>Methods that do not fit, each in its leanest configuration (checkpointing, micro-batch 1).</summary>
    public required IReadOnlyList<TrainingPlan> DoesNotFit { get; init; }

    public required IReadOnlyList<string> Reasons { get; init; }
}
