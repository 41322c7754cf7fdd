namespace FineTuneAgent.Core.Datasets;

/// <summary>Counts what happens to one source's rows while the pipeline runs; becomes a <see cref="SourceSummary"/>.</summary>
internal sealed class SourceTally(DatasetDescription description)
{
    public const int FirstFew = 5;

    private readonly Dictionary<DropReason, (int Count, List<string> First)> _dropped = [];

    public DatasetDescription Description { get; } = description;

    public int Rows { get; set; }

    public List<DatasetException> BadRows { get; } = [];

    public int Truncated { get; set; }

    public int Kept { get; set; }

    public int Used { get; set; }

    public void Drop(DropReason reason, SourceLocation at)
    {
        var (count, first) = _dropped.TryGetValue(reason, out var d) ? d : (0, new List<string>());
        if (first.Count < FirstFew)
            first.Add(at.ToString());
        _dropped[reason] = (count + 1, first);
    }

    public SourceSummary ToSummary() => new(
        Description.Name,
        Description.FilePath,
        Rows,
        BadRows.Count,
        BadRows.Take(FirstFew).Select(e => e.Message).ToArray(),
        _dropped.OrderBy(kv => kv.Key).Select(kv => new DropCount(kv.Key, kv.Value.Count, kv.Value.First.ToArray())).ToArray(),
        Truncated,
        Kept,
        Used);
}
