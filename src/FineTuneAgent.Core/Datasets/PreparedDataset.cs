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

    /// <summary>
    /// Hex SHA-256 of everything the prepared rows depend on (<see cref="DatasetCacheKey"/>: data files, tokenizer,
    /// chat format, options); the run history's dataset hash. Set by <see cref="DatasetPipeline"/>; null for rows built any other way.
    /// </summary>
    public string? ContentHash { get; init; }

    /// <summary>Why a damaged cache was rebuilt.</summary>
    public string? CacheProblem { get; init; }
}
