namespace FineTuneAgent.Modeling.Generation;

/// <summary>
/// HF's logits processors and warpers on one row of float32 scores, applied in generate()'s
/// order: repetition penalty, then temperature, top-k and top-p. Filtered entries become -∞.
/// </summary>
public static class LogitsProcessor
{
    /// <summary>Divides positive scores, multiplies negative ones, of every token already in the sequence.</summary>
    public static void RepetitionPenalty(float[] scores, IEnumerable<int> previous, double penalty)
    {
        if (penalty == 1.0)
            return;
        foreach (var id in previous.Distinct())
        {
            if (id < 0 || id >= scores.Length)
                continue;
            var s = scores[id];
            scores[id] = (float)(s < 0 ? s * penalty : s / penalty);
        }
    }

    public static void Temperature(float[] scores, double temperature)
    {
        if (temperature == 1.0)
            return;
        for (var i = 0; i < scores.Length; i++)
            scores[i] = (float)(scores[i] / temperature);
    }

    /// <summary>Keeps the k highest scores (and any tied with the k-th).</summary>
    public static void TopK(float[] scores, int k)
    {
        if (k <= 0 || k >= scores.Length)
            return;
        // The k-th largest score via a size-k min-heap: O(V log k) instead of sorting the vocabulary.
        var heap = new PriorityQueue<float, float>(k);
        foreach (var s in scores)
        {
            if (heap.Count < k)
                heap.Enqueue(s, s);
            else if (s > heap.Peek())
                heap.EnqueueDequeue(s, s);
        }
        var threshold = heap.Peek();
        for (var i = 0; i < scores.Length; i++)
            if (scores[i] < threshold)
                scores[i] = float.NegativeInfinity;
    }

    /// <summary>
    /// Nucleus filtering as TopPLogitsWarper: sorted ascending, tokens whose cumulative
    /// probability is ≤ 1 − p are removed; the most likely token always stays.
    /// </summary>
    public static void TopP(float[] scores, double p)
    {
        if (p >= 1.0)
            return;
        // Only tokens still in play need ordering (after top-k that is k of them).
        var order = Enumerable.Range(0, scores.Length).Where(i => !float.IsNegativeInfinity(scores[i])).OrderBy(i => scores[i]).ToArray();
        var probs = Softmax(scores);
        double cumulative = 0;
        for (var r = 0; r < order.Length - 1; r++)
        {
            cumulative += probs[order[r]];
            if (cumulative <= 1 - p)
                scores[order[r]] = float.NegativeInfinity;
        }
    }

    public static double[] Softmax(float[] scores)
    {
        var max = scores.Max();
        var e = scores.Select(s => float.IsNegativeInfinity(s) ? 0.0 : Math.Exp(s - max)).ToArray();
        var sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }

    public static int Argmax(float[] scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
            if (scores[i] > scores[best])
                best = i;
        return best;
    }

    /// <summary>Draws an index with probability softmax(scores).</summary>
    public static int Sample(float[] scores, Random random)
    {
        var probs = Softmax(scores);
        var u = random.NextDouble();
        double cumulative = 0;
        for (var i = 0; i < probs.Length; i++)
        {
            cumulative += probs[i];
            if (u < cumulative)
                return i;
        }
        return Argmax(scores);
    }
}
