using FineTuneAgent.Core.Datasets;

namespace FineTuneAgent.Core.Training;

/// <summary>
/// The order the training rows are visited in each epoch: a permutation drawn from (seed, epoch) alone,
/// so a resumed run, or one retried with a smaller micro-batch, sees the same rows at the same step.
/// </summary>
public static class EpochOrder
{
    public static int[] Of(int rowCount, long seed, int epoch) =>
        new SeededRandom(seed, stream: 0x7A11_0000UL + (ulong)epoch).Permutation(rowCount);
}
