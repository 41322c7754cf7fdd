namespace FineTuneAgent.Core.Evaluation;

/// <summary>One prediction's scores against its reference, in percent (LLaMA-Factory rounds each to 4 decimals).</summary>
/// <param name="ExactMatch">Whether the normalised texts are equal; null when the reference is not a short answer.</param>
public sealed record SampleScores(double Bleu4, double Rouge1, double Rouge2, double RougeL, bool? ExactMatch);

/// <summary>Means over the samples, in percent; <see cref="ExactMatch"/> over the short-answer samples only (null if none).</summary>
public sealed record SimilarityScores(double Bleu4, double Rouge1, double Rouge2, double RougeL, double? ExactMatch, int Samples, int ShortAnswers);

/// <summary>
/// LLaMA-Factory's <c>ComputeSimilarity</c> (src/llamafactory/train/sft/metric.py) for decoded predictions and
/// references: per sample, ROUGE-1/2/L F over <see cref="TextSegmenter.Words"/> (0 for all three when either side
/// has no token) and BLEU-4 over <see cref="TextSegmenter.Characters"/>, each ×100 and rounded to 4 decimals;
/// the result is their mean. Exact match (<see cref="Evaluation.ExactMatch"/>) is ours, added for short answers.
/// </summary>
public static class SimilarityMetrics
{
    public static SampleScores Score(string prediction, string reference)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(reference);
        var hypothesis = TextSegmenter.Words(prediction);
        var target = TextSegmenter.Words(reference);
        double r1 = 0, r2 = 0, rl = 0;
        if (hypothesis.Count > 0 && target.Count > 0)
        {
            r1 = Rouge.N(hypothesis, target, 1).F;
            r2 = Rouge.N(hypothesis, target, 2).F;
            rl = Rouge.L(hypothesis, target).F;
        }
        var bleu = Bleu.SentenceBleu4(TextSegmenter.Characters(reference), TextSegmenter.Characters(prediction));
        bool? exact = Evaluation.ExactMatch.IsShortAnswer(reference) ? Evaluation.ExactMatch.Matches(prediction, reference) : null;
        return new SampleScores(Percent(bleu), Percent(r1), Percent(r2), Percent(rl), exact);
    }

    public static SimilarityScores Mean(IReadOnlyList<SampleScores> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
            throw new ArgumentException("no samples to average", nameof(samples));
        var shortAnswers = samples.Where(s => s.ExactMatch is not null).ToList();
        return new SimilarityScores(
            samples.Average(s => s.Bleu4),
            samples.Average(s => s.Rouge1),
            samples.Average(s => s.Rouge2),
            samples.Average(s => s.RougeL),
            shortAnswers.Count == 0 ? null : 100.0 * shortAnswers.Count(s => s.ExactMatch == true) / shortAnswers.Count,
            samples.Count,
            shortAnswers.Count);
    }

    private static double Percent(double fraction) => PythonRound.Round(fraction * 100, 4);
}
