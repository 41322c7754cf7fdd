namespace FineTuneAgent.Core.Evaluation;

/// <summary>N-grams of a token sequence, keyed by their tokens joined with a separator no token holds.</summary>
internal static class NGrams
{
    // TextSegmenter's tokens are single code points or runs of letters, digits and marks: U+0001 is never part of a
    // longer token, so a joined key reads back to exactly one token sequence.
    private const char Separator = '\u0001';

    public static IEnumerable<string> Of(IReadOnlyList<string> tokens, int n)
    {
        for (var i = 0; i + n <= tokens.Count; i++)
            yield return n == 1 ? tokens[i] : string.Join(Separator, Enumerable.Range(i, n).Select(k => tokens[k]));
    }

    public static Dictionary<string, long> Count(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var gram in Of(tokens, n))
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        return counts;
    }
}
