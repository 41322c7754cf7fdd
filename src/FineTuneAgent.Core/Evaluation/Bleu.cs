namespace FineTuneAgent.Core.Evaluation;

/// <summary>
/// Sentence BLEU-4 against one reference, as nltk's <c>sentence_bleu([reference], hypothesis,
/// smoothing_function=SmoothingFunction().method3)</c> computes it (nltk/translate/bleu_score.py), which is
/// what LLaMA-Factory's predict reports (×100).
/// </summary>
/// <remarks>
/// p_n = clipped n-gram matches / max(1, hypothesis n-grams) for n = 1..4; no unigram match gives 0 before any
/// smoothing; method3 (NIST geometric smoothing) replaces the k-th zero precision by 1 / (2^k · its
/// denominator); brevity penalty exp(1 − r/c) when the hypothesis (c) is not longer than the reference (r), 0
/// for an empty hypothesis; score = BP · exp(Σ ¼ · ln p_n).
/// </remarks>
public static class Bleu
{
    public const int MaxOrder = 4;

    public static double SentenceBleu4(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        var numerators = new long[MaxOrder + 1];
        var denominators = new long[MaxOrder + 1];
        for (var n = 1; n <= MaxOrder; n++)
            (numerators[n], denominators[n]) = ModifiedPrecision(reference, hypothesis, n);
        if (numerators[1] == 0)
            return 0;

        var penalty = BrevityPenalty(reference.Count, hypothesis.Count);
        var logSum = 0.0;
        var zeros = 1;
        for (var n = 1; n <= MaxOrder; n++)
        {
            var p = numerators[n] == 0
                ? 1.0 / (Math.Pow(2, zeros++) * denominators[n])
                : (double)numerators[n] / denominators[n];
            logSum += Math.Log(p) / MaxOrder;
        }
        return penalty * Math.Exp(logSum);
    }

    /// <summary>Clipped matches of the hypothesis's n-grams and max(1, their count), as nltk's modified_precision.</summary>
    public static (long Matches, long Total) ModifiedPrecision(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis, int n)
    {
        var hypothesisCounts = NGrams.Count(hypothesis, n);
        var referenceCounts = NGrams.Count(reference, n);
        long matches = 0, total = 0;
        foreach (var (gram, count) in hypothesisCounts)
        {
            total += count;
            matches += Math.Min(count, referenceCounts.GetValueOrDefault(gram));
        }
        return (matches, Math.Max(1, total));
    }

    /// <summary>nltk's brevity_penalty for one reference of length <paramref name="referenceLength"/>.</summary>
    public static double BrevityPenalty(int referenceLength, int hypothesisLength) =>
        hypothesisLength > referenceLength ? 1
        : hypothesisLength == 0 ? 0
        : Math.Exp(1 - (double)referenceLength / hypothesisLength);
}
