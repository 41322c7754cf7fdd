namespace FineTuneAgent.Core.Datasets;

/// <summary>The pipeline's result: train and validation rows, the summary, and how the cache served it.</summary>
public sealed record PreparedDataset(
    IReadOnlyList<TrainingSequence> Train,
    IReadOnlyList<TrainingSequence> Validation,
    DatasetSummary Summary)
{
    public CacheOutcome Cache { get; init; } = CacheOutcome.Disabled;

    /// <summary>The cache file used or written (null when disabled).</summary>
    public string? CacheFile { get; init; }

    /// <summary>Why a damaged cache was rebuilt.</summary>
    public string? CacheProblem { get; init; }
}
