namespace FineTuneAgent.Core.History;

/// <summary>Two runs side by side: their rows, the numbers their metrics come to, both curves, and their configurations' differences key by key.</summary>
public sealed record RunComparison(
    HistoryRun A,
    HistoryRun B,
    HistoryRunStats StatsA,
    HistoryRunStats StatsB,
    IReadOnlyList<HistoryMetric> MetricsA,
    IReadOnlyList<HistoryMetric> MetricsB,
    IReadOnlyList<ConfigDifference> ConfigDifferences);
