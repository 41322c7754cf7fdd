using static FineTuneAgent.Torch.torch;

namespace FineTuneAgent.Core.Tests.Evaluation;

/// <summary>Native tensors alive in the process, after finalizers have run (for leak assertions).</summary>
internal static class LiveTensors
{
    public static long Count()
    {
        for (var i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return Tensor.TotalCount;
    }
}
