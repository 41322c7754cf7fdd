namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// What happened to one dataset file: rows read, bad rows skipped (the first few messages), rows dropped
/// per reason, rows truncated to cutoff_len, rows kept after cleaning, and rows used after mixing.
/// </summary>
public sealed record SourceSummary(
    string Name,
    string File,
    int Rows,
    int BadRows,
    IReadOnlyList<string> FirstBadRows,
    IReadOnlyList<DropCount> Dropped,
    int Truncated,
    int Kept,
    int Used)
{
    public int DroppedTotal => Dropped.Sum(d => d.Count);
}
