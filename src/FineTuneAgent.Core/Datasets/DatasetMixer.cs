namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Mixes several datasets by ratios (e.g. 7:3) without repeating any example: it takes the largest mix
/// the ratios allow — dataset i gives round(T·rᵢ/Σr) examples, with T as large as every dataset's size
/// permits — chosen at random from each, then interleaves them in a random order. Both are fixed by the
/// seed. Without ratios, datasets are concatenated in the order given and nothing is dropped.
/// </summary>
public static class DatasetMixer
{
    public static IReadOnlyList<T> Mix<T>(IReadOnlyList<IReadOnlyList<T>> sources, IReadOnlyList<double>? ratios, long seed)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (ratios is null)
            return sources.SelectMany(s => s).ToArray();
        var counts = Counts(sources.Select(s => s.Count).ToArray(), ratios);
        var random = new SeededRandom(seed, stream: 1);
        var picked = new List<Queue<T>>();
        var slots = new List<int>();
        for (var i = 0; i < sources.Count; i++)
        {
            var order = random.Permutation(sources[i].Count);
            picked.Add(new Queue<T>(order.Take(counts[i]).Select(k => sources[i][k])));
            slots.AddRange(Enumerable.Repeat(i, counts[i]));
        }
        random.Shuffle(slots);
        return slots.Select(i => picked[i].Dequeue()).ToArray();
    }

    /// <summary>How many examples each dataset gives for <paramref name="ratios"/>.</summary>
    public static int[] Counts(IReadOnlyList<int> sizes, IReadOnlyList<double> ratios)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(ratios);
        if (ratios.Count != sizes.Count)
            throw new ArgumentException($"{ratios.Count} ratios for {sizes.Count} datasets", nameof(ratios));
        if (ratios.Any(r => !(r > 0) || double.IsInfinity(r)))
            throw new ArgumentException($"ratios must be positive numbers, got {string.Join(":", ratios)}", nameof(ratios));
        var sum = ratios.Sum();
        // The largest total T with round(T·rᵢ/Σr) ≤ sizeᵢ for every i (a little slack for rounding in doubles).
        var total = Enumerable.Range(0, sizes.Count).Min(i => Math.Floor(sizes[i] * sum / ratios[i] + 1e-9));
        var counts = new int[sizes.Count];
        for (var i = 0; i < sizes.Count; i++)
            counts[i] = Math.Min(sizes[i], (int)Math.Round(total * ratios[i] / sum, MidpointRounding.AwayFromZero));
        return counts;
    }
}
