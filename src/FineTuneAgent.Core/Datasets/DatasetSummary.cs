using System.Text;

namespace FineTuneAgent.Core.Datasets;

/// <summary>What the pipeline made of a run's datasets: per source what was read, dropped and used; the
/// split and packing; warnings (e.g. reasoning the chat format does not render).</summary>
public sealed record DatasetSummary(
    IReadOnlyList<SourceSummary> Sources,
    int TrainExamples,
    int ValidationExamples,
    int TrainSequences,
    int ValidationSequences,
    long TrainTokens,
    long TrainLossTokens,
    IReadOnlyList<string> Warnings)
{
    /// <summary>A few lines for a log or the console.</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        foreach (var s in Sources)
        {
            sb.Append($"{s.Name}: {s.Rows} rows, {s.Kept} kept, {s.Used} used");
            if (s.BadRows > 0)
                sb.Append($", {s.BadRows} bad rows skipped (first: {s.FirstBadRows[0]})");
            if (s.Truncated > 0)
                sb.Append($", {s.Truncated} truncated");
            sb.AppendLine();
            foreach (var d in s.Dropped)
                sb.AppendLine($"  dropped {d.Count} {d.Reason} (first at {string.Join(", ", d.FirstAt)})");
        }
        sb.AppendLine($"train: {TrainExamples} examples in {TrainSequences} rows, {TrainTokens} tokens ({TrainLossTokens} with loss); validation: {ValidationExamples} examples in {ValidationSequences} rows");
        foreach (var w in Warnings)
            sb.AppendLine("warning: " + w);
        return sb.ToString();
    }
}
