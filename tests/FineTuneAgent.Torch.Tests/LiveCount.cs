namespace FineTuneAgent.Torch.Tests;

internal static class LiveCount
{
    /// <summary>
    /// The live-tensor count once garbage from earlier tests has been finalized: undisposed
    /// temporaries elsewhere are released by finalizers at random times, which would otherwise
    /// move the process-wide counter under a test's feet.
    /// </summary>
    public static long Settled()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.TotalCount;
    }
}
