using System.Runtime.InteropServices;
using System.Security.Cryptography;
using FineTuneAgent.Core.Datasets;
using FineTuneAgent.Torch;
using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// What data-parallel replicas must agree on before their first step: the same rows (by content), the same
/// options, the same place in the run (a resumed run's step and data position), the same trainable tensors and
/// gradient buckets. Replicas that differ in any of these would not fail on their own: they would train a
/// different model than a single process would, or send mismatched collectives that only a timeout ends. So
/// every replica gathers every replica's facts and all of them fail alike, naming what differs.
/// </summary>
public static class ReplicaCheck
{
    /// <summary>
    /// Gathers each replica's <paramref name="facts"/> (the same names, in the same order, on every replica) and
    /// throws <see cref="InvalidDataException"/> on every replica when any replica's values differ from rank 0's.
    /// </summary>
    public static void VerifySameRun(DataParallel dataParallel, Device device, IReadOnlyList<(string Name, long Value)> facts)
    {
        ArgumentNullException.ThrowIfNull(dataParallel);
        var values = facts.Select(f => f.Value).ToArray();
        using var mine = tensor(values, [values.Length], ScalarType.Int64, device);
        var gathered = dataParallel.Group.all_gather(mine);
        long[][] all;
        try
        {
            all = gathered.Select(t =>
            {
                using var host = t.cpu();
                return host.data<long>();
            }).ToArray();
        }
        finally
        {
            foreach (var t in gathered)
                t.Dispose();
        }
        var problems = Differences(facts.Select(f => f.Name).ToList(), all);
        if (problems.Count > 0)
            throw new InvalidDataException(
                $"the {all.Length} data-parallel replicas are not training the same run: {string.Join("; ", problems)}. "
                + "Every replica needs the same run configuration, data, checkpoint and method settings.");
    }

    /// <summary>Each fact on which some rank's value differs from rank 0's, as "name: rank 0 has x, rank r has y".</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyList<string> names, IReadOnlyList<long[]> valuesByRank)
    {
        var problems = new List<string>();
        for (var f = 0; f < names.Count; f++)
        {
            var main = valuesByRank[0][f];
            var others = Enumerable.Range(1, valuesByRank.Count - 1).Where(r => valuesByRank[r][f] != main).ToList();
            if (others.Count > 0)
                problems.Add($"{names[f]}: rank 0 has {main}, " + string.Join(", ", others.Select(r => $"rank {r} has {valuesByRank[r][f]}")));
        }
        return problems;
    }

    /// <summary>The first 8 bytes of SHA-256 over the rows' ids, labels and example starts (with their lengths).</summary>
    public static long RowsHash(IReadOnlyList<TrainingSequence> rows)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var row in rows)
        {
            Add(hash, row.InputIds);
            Add(hash, row.Labels);
            Add(hash, row.ExampleStarts);
        }
        return FirstLong(hash.GetHashAndReset());
    }

    private static void Add(IncrementalHash hash, int[] values)
    {
        Span<byte> length = stackalloc byte[4];
        BitConverter.TryWriteBytes(length, values.Length);
        hash.AppendData(length);
        hash.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>
    /// The first 8 bytes of SHA-256 over the options as the run stores them, with the micro-batch and the device left
    /// out: a replica may run the global batch's share in smaller micro-batches than another (a smaller GPU) and still
    /// take the same steps (the global batch is compared on its own), and each replica trains on its own device.
    /// </summary>
    public static long OptionsHash(TrainingOptions options)
    {
        var text = TrainingOptionsJson.Write(options with
        {
            PerDeviceTrainBatchSize = 1, GradientAccumulationSteps = options.EffectiveBatchSize, Device = TrainingDevice.Auto,
        }).ToJsonString();
        return FirstLong(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    private static long FirstLong(byte[] digest) => BitConverter.ToInt64(digest, 0);
}
