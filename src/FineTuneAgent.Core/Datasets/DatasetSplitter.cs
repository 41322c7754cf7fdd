namespace FineTuneAgent.Core.Datasets;

/// <summary>
/// Splits examples into train and validation, fixed by the seed. <c>valSize</c> in (0, 1) is a fraction
/// (rounded, at least one example), ≥ 1 a count, 0 no validation set. Both parts keep the examples'
/// order.
/// </summary>
public static class DatasetSplitter
{
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation) Split<T>(IReadOnlyList<T> examples, double valSize, long seed)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var n = ValidationCount(examples.Count, valSize);
        if (n == 0)
            return (examples, []);
        var inVal = new bool[examples.Count];
        foreach (var i in new SeededRandom(seed, stream: 2).Permutation(examples.Count).Take(n))
            inVal[i] = true;
        var train = new List<T>(examples.Count - n);
        var val = new List<T>(n);
        for (var i = 0; i < examples.Count; i++)
            (inVal[i] ? val : train).Add(examples[i]);
        return (train, val);
    }

    public static int ValidationCount(int total, double valSize)
    {
        if (double.IsNaN(valSize) || valSize < 0)
            throw new ArgumentOutOfRangeException(nameof(valSize), valSize, "val_size must be a fraction in [0, 1) or a count ≥ 1");
        if (valSize == 0)
            return 0;
        if (valSize >= 1 && valSize != Math.Floor(valSize))
            throw new ArgumentOutOfRangeException(nameof(valSize), valSize, "a val_size of 1 or more is a count and must be whole");
        var n = valSize < 1 ? Math.Max(1, (int)Math.Round(total * valSize, MidpointRounding.AwayFromZero)) : (int)valSize;
        if (n >= total)
            throw new DatasetException($"val_size {valSize} leaves no training examples ({total} examples after cleaning and mixing)");
        return n;
    }
}
