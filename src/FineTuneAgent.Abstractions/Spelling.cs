namespace FineTuneAgent.Abstractions;

/// <summary>"Did you mean …?" for a mistyped name: the nearest known name by edit distance, when it is near enough.</summary>
public static class Spelling
{
    /// <summary>
    /// "; did you mean 'x'?" when some known name is within max(2, a third of the typed length)
    /// edits of <paramref name="typed"/>, else "".
    /// </summary>
    public static string DidYouMean(string typed, IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(typed);
        var nearest = known.OrderBy(k => EditDistance(k, typed)).FirstOrDefault();
        return nearest is not null && EditDistance(nearest, typed) <= Math.Max(2, typed.Length / 3) ? $"; did you mean '{nearest}'?" : "";
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions).</summary>
    public static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
