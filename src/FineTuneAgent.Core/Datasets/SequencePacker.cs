namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Packs short examples into rows of at most cutoff_len tokens, in order: an example joins the current
/// row when it fits, else starts a new one. Every token is kept; each row records where its examples
/// start (see <see cref="TrainingSequence"/> for how a trainer uses that). Examples longer than
/// cutoff_len were already dropped or truncated, so each fits in a row of its own.
/// </summary>
public static class SequencePacker
{
    public static IReadOnlyList<TrainingSequence> Pack(IReadOnlyList<TokenizedExample> examples, int cutoffLength)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cutoffLength);
        var rows = new List<TrainingSequence>();
        var ids = new List<int>();
        var labels = new List<int>();
        var starts = new List<int>();
        void Flush()
        {
            if (ids.Count == 0)
                return;
            rows.Add(new TrainingSequence([.. ids], [.. labels], [.. starts]));
            ids.Clear();
            labels.Clear();
            starts.Clear();
        }
        foreach (var e in examples)
        {
            if (e.Length > cutoffLength)
                throw new ArgumentException($"an example of {e.Length} tokens is longer than cutoff_len {cutoffLength}", nameof(examples));
            if (ids.Count + e.Length > cutoffLength)
                Flush();
            starts.Add(ids.Count);
            ids.AddRange(e.InputIds);
            labels.AddRange(e.Labels);
            if (e.Length > 0)
                labels[starts[^1]] = TokenizedExample.IgnoreIndex;
        }
        Flush();
        return rows;
    }
}
