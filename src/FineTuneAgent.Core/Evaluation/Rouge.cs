namespace FineTuneAgent.Core.Evaluation;

/// <summary>F, precision and recall of one ROUGE variant.</summary>
public readonly record struct RougeScore(double F, double Precision, double Recall);

/// <summary>
/// ROUGE-N and ROUGE-L of a hypothesis against a reference, both already cut into tokens, as rouge-chinese
/// (rouge_chinese/rouge_score.py, the package LLaMA-Factory's predict uses) computes them with its defaults.
/// </summary>
/// <remarks>
/// rouge-chinese cuts each text into sentences and then flattens them back into one token list, so sentences
/// change nothing. ROUGE-N counts distinct n-grams (its default <c>exclusive=True</c> puts them in sets):
/// P = |hyp ∩ ref| / |hyp|, R = |hyp ∩ ref| / |ref|. ROUGE-L is the longest common subsequence of the two
/// token lists: P = LCS / hypothesis length, R = LCS / reference length. F = 2PR / (P + R + 1e-8) for both.
/// </remarks>
public static class Rouge
{
    private const double Epsilon = 1e-8;

    public static RougeScore N(IReadOnlyList<string> hypothesis, IReadOnlyList<string> reference, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var hyp = NGrams.Of(hypothesis, n).ToHashSet(StringComparer.Ordinal);
        var refs = NGrams.Of(reference, n).ToHashSet(StringComparer.Ordinal);
        var overlap = hyp.Count(refs.Contains);
        var precision = hyp.Count == 0 ? 0 : (double)overlap / hyp.Count;
        var recall = refs.Count == 0 ? 0 : (double)overlap / refs.Count;
        return new RougeScore(F(precision, recall), precision, recall);
    }

    /// <summary>ROUGE-L; both token lists must be non-empty (rouge-chinese raises on an empty one).</summary>
    public static RougeScore L(IReadOnlyList<string> hypothesis, IReadOnlyList<string> reference)
    {
        if (hypothesis.Count == 0 || reference.Count == 0)
            throw new ArgumentException("ROUGE-L needs a non-empty hypothesis and reference");
        var lcs = LongestCommonSubsequence(reference, hypothesis);
        var recall = (double)lcs / reference.Count;
        var precision = (double)lcs / hypothesis.Count;
        return new RougeScore(F(precision, recall), precision, recall);
    }

    /// <summary>Length of the longest common subsequence (dynamic programming, two rows).</summary>
    public static int LongestCommonSubsequence(IReadOnlyList<string> x, IReadOnlyList<string> y)
    {
        var previous = new int[y.Count + 1];
        var current = new int[y.Count + 1];
        for (var i = 1; i <= x.Count; i++)
        {
            for (var j = 1; j <= y.Count; j++)
                current[j] = string.Equals(x[i - 1], y[j - 1], StringComparison.Ordinal)
                    ? previous[j - 1] + 1
                    : Math.Max(previous[j], current[j - 1]);
            (previous, current) = (current, previous);
        }
        return previous[y.Count];
    }

    private static double F(double precision, double recall) => 2.0 * (precision * recall / (precision + recall + Epsilon));
}
