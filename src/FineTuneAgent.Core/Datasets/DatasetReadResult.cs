namespace FineTuneAgent.Core.Datasets;

/// <summary>What reading one dataset file gave: its conversations, how many rows it had, and the bad rows
/// skipped (only when skipping was asked for; otherwise the first bad row throws).</summary>
public sealed record DatasetReadResult(IReadOnlyList<DatasetExample> Examples, int Rows, IReadOnlyList<DatasetException> BadRows);
